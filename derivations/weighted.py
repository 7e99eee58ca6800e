"""Generalized score matching on (0, oo) (Hyvarinen 2007; Yu, Drton and Shojaie 2019): for the
normal truncated to x > 0, the plain derivation fails at the boundary term p s, which is eta1 at
0 (so steps 8-10 hold only when eta1 = 0); with the weight w(x) = x the boundary term is p x s,
which vanishes, and every step holds.

Run: python derivations/weighted.py                     (prints the Markdown and the checks)
     python derivations/weighted.py --out derivations   (regenerates weighted.md)
"""

from _common import publish

import scoresym as ss

builtin = ss.zoo.get("truncated_normal")
m = builtin.model
plain = ss.derive(m)
weighted = ss.derive(m, weight="x")
conditional = [k for k, s in enumerate(plain.steps, 1) if s.expected_ok is not True]
assert conditional == [8, 9, 10], conditional
assert all(plain.steps[k - 1].expected_ok.holds({"eta1": 0, "eta2": 1}) for k in conditional)
assert not any(plain.steps[k - 1].expected_ok.holds(builtin.truth) for k in conditional)
assert all(step.expected_ok is True for step in weighted.steps)
publish(__file__, [
    (plain, plain.check(builtin.truth, seed=0), "eta1 = 1, eta2 = 1, no weight"),
    (weighted, weighted.check(builtin.truth, seed=0), "eta1 = 1, eta2 = 1, weight w(x) = x"),
])
