"""The numeric engines the checks, derivations and fits share: expectations (quadrature and Monte
Carlo with their tolerance rules), finite differences, automatic differentiation with autograd,
sampling, and the one result type of a comparison, CheckResult."""
