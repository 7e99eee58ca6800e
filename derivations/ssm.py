"""Sliced score matching (seed 001, section 4) for the 3-D Gaussian with a full precision matrix:
Hutchinson's identity, E[v v^T] = I for each projection law, SSM = ESM on average, and the
Rademacher estimator's variance.

Run: python derivations/ssm.py                     (prints the Markdown and the checks)
     python derivations/ssm.py --out derivations   (regenerates ssm.md)
"""

from _common import publish

import scoresym as ss

builtin = ss.zoo.get("gaussian_full_3d")
d = ss.derive(builtin.model, "ssm")
results = d.check(builtin.truth, seed=0, n=4000)
publish(__file__, [(d, results, "gaussian_full_3d at its truth")])
