"""Softplus and its derivatives, the logistic function and its slope, in forms that are exact
to the last bits everywhere and cost one exponential for all of them.

With sigma(u) = 1 / (1 + exp(-u)) and E = exp(-|u|) <= 1, R = 1 / (1 + E):

    softplus(u) = log(1 + exp(u))   = logaddexp(0, u)
    softplus'   = sigma(u)          = R            (u >= 0),  E R  (u < 0)
    softplus''  = sigma(u) sigma(-u) = E R**2
    softplus''' = -sigma(u) sigma(-u) tanh(u / 2)

Written plainly, exp(u) / (1 + exp(u)) is inf/inf from u = 710, and 1 - sigma(u) is 0 from
u = 37 where sigma(u) sigma(-u) = 8.5e-17; here no entry overflows, none is a difference of
nearly equal numbers, and E and R are computed once for the first and second derivatives
(a Gaussian-Bernoulli RBM's score and Laplacian need both).

:func:`softplus_forms` writes log(1 + exp(u)) as :class:`Softplus` before differentiation;
:func:`logistic_pieces` writes :class:`Logistic` and :class:`LogisticSlope` in E and R before
printing, so that common-subexpression elimination shares them.

>>> t = sympy.Symbol("t", real=True)
>>> g = softplus_forms(sympy.log(1 + sympy.exp(2 * t)))
>>> g, sympy.diff(g, t), sympy.diff(g, t, 2)
(Softplus(2*t), 2*Logistic(2*t), 4*LogisticSlope(2*t))
>>> print(logistic_pieces(sympy.diff(g, t, 2)))
4*ExpNegAbs(2*t)*ReciprocalOnePlus(ExpNegAbs(2*t))**2
>>> float(LogisticSlope(40).evalf(30))
4.248354255291589e-18
"""

from __future__ import annotations

import sympy
from mpmath.libmp import prec_to_dps


def _sigma(u):
    return 1 / (1 + sympy.exp(-u))


class _Exact(sympy.Function):
    """A function of one argument with a closed form used for evaluation at any precision."""

    nargs = 1

    @classmethod
    def closed_form(cls, u):
        raise NotImplementedError

    def _eval_evalf(self, prec):
        return self.closed_form(self.args[0]).evalf(prec_to_dps(prec))

    def _eval_is_real(self):
        return self.args[0].is_real


class Softplus(_Exact):
    """log(1 + exp(u)), printed as logaddexp(0, u)."""

    @classmethod
    def closed_form(cls, u):
        return sympy.log(1 + sympy.exp(u))

    def fdiff(self, argindex=1):
        return Logistic(self.args[0])


class Logistic(_Exact):
    """sigma(u) = 1 / (1 + exp(-u))."""

    @classmethod
    def closed_form(cls, u):
        return _sigma(u)

    def fdiff(self, argindex=1):
        return LogisticSlope(self.args[0])


class LogisticSlope(_Exact):
    """sigma(u) sigma(-u), the logistic function's derivative (symmetric in u)."""

    @classmethod
    def closed_form(cls, u):
        return _sigma(u) * _sigma(-u)

    def fdiff(self, argindex=1):
        u = self.args[0]
        return -LogisticSlope(u) * sympy.tanh(u / 2)


class ExpNegAbs(_Exact):
    """exp(-|u|), in (0, 1]."""

    @classmethod
    def closed_form(cls, u):
        return sympy.exp(-sympy.Abs(u))


class ReciprocalOnePlus(_Exact):
    """1 / (1 + z)."""

    @classmethod
    def closed_form(cls, z):
        return 1 / (1 + z)


class NonNegativeSelect(sympy.Function):
    """a where u >= 0, else b."""

    nargs = 3

    def _eval_evalf(self, prec):
        u, a, b = self.args
        return (a if u.evalf(prec_to_dps(prec)) >= 0 else b).evalf(prec_to_dps(prec))


def _is_softplus(node) -> bool:
    if not isinstance(node, sympy.log) or not node.args[0].is_Add:
        return False
    terms = node.args[0].args
    return len(terms) == 2 and sympy.S.One in terms and any(
        isinstance(a, sympy.exp) for a in terms)


def softplus_forms(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with every log(1 + exp(u)) written Softplus(u) (an identity)."""
    if not expr.has(sympy.log):
        return expr
    return expr.replace(_is_softplus, lambda node: Softplus(
        next(a for a in node.args[0].args if isinstance(a, sympy.exp)).args[0]))


def logistic_pieces(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with sigma(u) written NonNegativeSelect(u, 1, E) R and sigma(u) sigma(-u) as
    E R**2, E = exp(-|u|), R = 1 / (1 + E) (identities)."""
    if not expr.has(Logistic, LogisticSlope):
        return expr

    def pieces(u):
        e = ExpNegAbs(u)
        return e, ReciprocalOnePlus(e)

    def logistic(node):
        e, r = pieces(node.args[0])
        return NonNegativeSelect(node.args[0], sympy.S.One, e) * r

    def slope(node):
        e, r = pieces(node.args[0])
        return e * r**2

    return expr.replace(lambda n: isinstance(n, Logistic), logistic).replace(
        lambda n: isinstance(n, LogisticSlope), slope)
