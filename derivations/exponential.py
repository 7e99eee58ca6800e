"""The exponential density on (0, oo), where the boundary term p s does not vanish at 0: the
integration by parts still holds with the boundary term, but dropping it is wrong, so steps 8-10
of the score-matching derivation fail, as they must. Stein's identity holds for g = x, whose
product with p vanishes at 0, and fails for g = 1.

Run: python derivations/exponential.py                     (prints the Markdown and the checks)
     python derivations/exponential.py --out derivations   (regenerates exponential.md)
"""

from _common import publish

import scoresym as ss

builtin = ss.zoo.get("exponential")
m = builtin.model
hyvarinen = ss.derive(m)
failing = [k for k, step in enumerate(hyvarinen.steps, 1) if not step.expected_ok]
assert failing == [8, 9, 10], failing
sections = [(hyvarinen, hyvarinen.check(builtin.truth, seed=0), "lam = 1.5")]
for g in ("x", "1"):
    d = ss.derive(m, "stein", g)
    sections.append((d, d.check(builtin.truth, seed=0), f"lam = 1.5, g = {g}"))
publish(__file__, sections)
