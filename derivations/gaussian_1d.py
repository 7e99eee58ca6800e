"""Seed 002: the 1-D Gaussian, where score matching recovers the sample mean and the biased
sample variance (the maximum-likelihood estimates).

Run: python derivations/gaussian_1d.py                     (prints the Markdown and the checks)
     python derivations/gaussian_1d.py --out derivations   (regenerates gaussian_1d.md)
"""

import sympy
from _common import publish

import scoresym as ss

m = ss.zoo.get("gaussian_1d").model
x, (mu, s2) = m.variables[0], m.params
d = ss.derive(m)

# The integrand of seed 002, exactly.
assert sympy.simplify(m.hyvarinen - (-1 / s2 + (x - mu) ** 2 / (2 * s2**2))) == 0
# The closed form: mu = sample mean, s2 = biased sample variance, in sample-moment symbols.
stationary = d.result
mean = next(M for M in stationary[mu].free_symbols)
second = next(M for M in stationary[s2].free_symbols if M != mean)
assert stationary[mu] == mean
assert sympy.expand(stationary[s2] - (second - mean**2)) == 0

results = d.check({"mu": 0.5, "s2": 2.0}, data_params={"mu": 0.0, "s2": 1.0}, seed=0)
publish(__file__, [(d, results, "model at mu = 0.5, s2 = 2; data N(0, 1)")])
