"""Stein's identity (seed 001, exercise 4), derived and checked for two densities: the 1-D
Gaussian with g = x^3 and the 2-D Gaussian mixture with g = (x1^2, x1 x2).

Run: python derivations/stein.py                     (prints the Markdown and the checks)
     python derivations/stein.py --out derivations   (regenerates stein.md)
"""

from _common import publish

import scoresym as ss

gaussian = ss.zoo.get("gaussian_1d")
mixture = ss.zoo.get("gaussian_mixture_2d")
sections = []
for builtin, g in ((gaussian, "x**3"), (mixture, "x1**2, x1*x2")):
    d = ss.derive(builtin.model, "stein", g)
    sections.append((d, d.check(builtin.truth, seed=0), f"{builtin.name} at its truth"))
publish(__file__, sections)
