"""Generalized score matching on (0, oo) (Hyvarinen 2007; Yu, Drton and Shojaie 2019): for the
normal truncated to x > 0, the plain derivation fails at the boundary term p s, which is eta1 at
0; with the weight w(x) = x the boundary term is p x s, which vanishes, and every step holds.

Run: python derivations/weighted.py                     (prints the Markdown and the checks)
     python derivations/weighted.py --out derivations   (regenerates weighted.md)
"""

from _common import publish

import scoresym as ss

builtin = ss.zoo.get("truncated_normal")
m = builtin.model
plain = ss.derive(m)
weighted = ss.derive(m, weight="x")
assert [k for k, s in enumerate(plain.steps, 1) if not s.expected_ok] == [8, 9, 10]
assert all(step.expected_ok for step in weighted.steps)
publish(__file__, [
    (plain, plain.check(builtin.truth, seed=0), "eta1 = 1, eta2 = 1, no weight"),
    (weighted, weighted.check(builtin.truth, seed=0), "eta1 = 1, eta2 = 1, weight w(x) = x"),
])
