"""Denoising score matching (seed 001, section 3 and exercise 5) for the 1-D Gaussian: the
conditional score is -eps/sigma, DSM is the Hyvarinen objective on the noised data plus
d / (2 sigma^2), and its fit of the variance is s^2 + sigma^2.

Run: python derivations/dsm.py                     (prints the Markdown and the checks)
     python derivations/dsm.py --out derivations   (regenerates dsm.md)
"""

from _common import publish

import scoresym as ss

builtin = ss.zoo.get("gaussian_1d")
d = ss.derive(builtin.model, "dsm")
results = d.check(builtin.truth, sigma=0.5, seed=0)
publish(__file__, [(d, results, "gaussian_1d at its truth, sigma = 0.5")])
