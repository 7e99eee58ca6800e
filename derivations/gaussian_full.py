"""The 2-D Gaussian with a full precision matrix and a linear term, log f = -x^T L x / 2 + b^T x:
score matching gives the inverse of the biased sample covariance, and b = L times the sample mean.

Run: python derivations/gaussian_full.py                     (prints the Markdown and the checks)
     python derivations/gaussian_full.py --out derivations   (regenerates gaussian_full.md)
"""

import numpy as np
import sympy
from _common import publish

import scoresym as ss
from scoresym.symbolic.closed_form import stationary_point

builtin = ss.zoo.gaussian_full(2)
m = builtin.model
d = ss.derive(m)
solution = d.result
L11, L12, L22, b1, b2 = m.params

# Symbolically, in the sample moments mean(x1), mean(x2), mean(x1**2), mean(x1*x2), mean(x2**2).
moments = {str(M): M for e in solution.values() for M in e.free_symbols}
x1, x2 = moments["mean(x1)"], moments["mean(x2)"]
C = sympy.Matrix([[moments["mean(x1**2)"] - x1**2, moments["mean(x1*x2)"] - x1 * x2],
                  [moments["mean(x1*x2)"] - x1 * x2, moments["mean(x2**2)"] - x2**2]])
precision = sympy.Matrix([[solution[L11], solution[L12]], [solution[L12], solution[L22]]])
assert sympy.simplify(precision - C.inv()) == sympy.zeros(2, 2)  # the inverse sample covariance
linear = sympy.Matrix([solution[b1], solution[b2]])
assert sympy.simplify(linear - precision * sympy.Matrix([x1, x2])) == sympy.zeros(2, 1)

# Numerically, on data drawn from the truth: the closed form at the sample moments.
X = builtin.sample(5000, seed=1)
fitted = stationary_point(m).evaluate(X)
inverse = np.linalg.inv(np.cov(X.T, bias=True))
assert np.allclose([[fitted["L1_1"], fitted["L1_2"]], [fitted["L1_2"], fitted["L2_2"]]], inverse,
                   rtol=1e-10)

results = d.check(builtin.truth, seed=0)
publish(__file__, [(d, results, "at the truth; data drawn from the model")])
