"""Stable forms of the error function's tails, for compiled code.

Invariant: each rewrite is an identity, applied to an expression just before it is printed, so
the value is unchanged while the code no longer loses it in the tails:

    1 + erf(z)             -> erfc(-z)              (1 + erf(-7) is 0.0 in floating point)
    log(erfc(w))           -> log_erfc(w)           (log(2) + log_ndtr(-w sqrt 2): no underflow)
    exp(A) / erfc(w)**k    -> exp(A + k w**2) / erfcx(w)**k   where A + k w**2 is simpler than A
                                                    (the skew-normal's score: 0/0 becomes finite)

``erfc``, ``erfcx`` and ``log_erfc`` here are unevaluated functions (:class:`StableErfc`,
:class:`Erfcx`, :class:`LogErfc`): SymPy would otherwise rewrite erfc(-z) back to 2 - erfc(z).
The printer turns them into ``scipy.special.erfc`` and the runtime's ``_erfcx`` and
``_log_erfc``, which carry their own derivatives on the autograd backend.

>>> x, a = sympy.symbols("x a", real=True)
>>> score = sympy.sqrt(2) * a * sympy.exp(-a**2 * x**2 / 2) / (
...     sympy.sqrt(sympy.pi) * (sympy.erf(sympy.sqrt(2) * a * x / 2) + 1)) - x
>>> stable_special_functions(score)
sqrt(2)*a/(sqrt(pi)*Erfcx(-sqrt(2)*a*x/2)) - x
>>> stable_special_functions(sympy.log(1 + sympy.erf(a * x)))
LogErfc(-a*x)
"""

from __future__ import annotations

import sympy
from mpmath.libmp import prec_to_dps

from .operators import bounded_size


class StableErfc(sympy.Function):
    """erfc(w), kept as written."""

    nargs = 1

    def _eval_evalf(self, prec):
        return sympy.erfc(self.args[0])._eval_evalf(prec)


class Erfcx(sympy.Function):
    """The scaled complementary error function exp(w**2) erfc(w)."""

    nargs = 1

    def _eval_evalf(self, prec):
        w = self.args[0]
        return (sympy.exp(w**2) * sympy.erfc(w)).evalf(prec_to_dps(prec))


class LogErfc(sympy.Function):
    """log(erfc(w)), evaluated without underflow for large w."""

    nargs = 1

    def _eval_evalf(self, prec):
        return sympy.log(sympy.erfc(self.args[0])).evalf(prec_to_dps(prec))


def stable_special_functions(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with the rewrites of the module docstring applied, innermost first."""
    if not expr.has(sympy.erf, sympy.erfc):
        return expr
    # constants are left to the printer, which rounds them from a high-precision value
    expr = expr.replace(lambda e: _is_one_plus_erf(e) and e.free_symbols, _as_erfc)
    expr = expr.replace(lambda e: isinstance(e, sympy.erfc) and e.free_symbols,
                        lambda e: StableErfc(e.args[0]))
    expr = expr.replace(lambda e: isinstance(e, sympy.log) and isinstance(e.args[0], StableErfc),
                        lambda e: LogErfc(e.args[0].args[0]))
    return expr.replace(lambda e: e.is_Mul and _scalable(e) is not None, _scaled)


def _is_one_plus_erf(e) -> bool:
    return e.is_Add and len(e.args) == 2 and any(a in (1, -1) for a in e.args) \
        and any(_erf_argument(a) is not None for a in e.args)


def _erf_argument(term):
    """(sign, z) for term = +-erf(z), else None."""
    if isinstance(term, sympy.erf):
        return 1, term.args[0]
    if term.is_Mul and len(term.args) == 2 and -1 in term.args:
        other = [a for a in term.args if a != -1][0]
        if isinstance(other, sympy.erf):
            return -1, other.args[0]
    return None


def _as_erfc(e):
    """1 + erf(z) = erfc(-z); 1 - erf(z) = erfc(z); -1 + erf(z) = -erfc(z); -1 - erf(z) =
    -erfc(-z)."""
    constant = [a for a in e.args if a in (1, -1)][0]
    sign, z = _erf_argument([a for a in e.args if a != constant][0])
    if constant == 1:
        return StableErfc(-z) if sign == 1 else StableErfc(z)
    return -StableErfc(z) if sign == 1 else -StableErfc(-z)


def _scalable(e):
    """(exp factor, erfc factor, w, k, new exponent) where e = exp(A) erfc(w)**-k ... and
    A + k w**2 is simpler than A; else None."""
    exps = [f for f in e.args if isinstance(f, sympy.exp)]
    for f in e.args:
        base, power = f.as_base_exp()
        if not (isinstance(base, StableErfc) and power.is_integer and power.is_negative):
            continue
        w, k = base.args[0], -power
        for g in exps:
            exponent = sympy.expand(g.args[0] + k * w**2)
            if sympy.count_ops(exponent) < sympy.count_ops(g.args[0]):
                return g, f, w, k, exponent
    return None


def _scaled(e):
    g, f, w, k, exponent = _scalable(e)
    rest = [a for a in e.args if a is not g and a is not f]
    return sympy.Mul(*rest) * sympy.exp(exponent) / Erfcx(w) ** k


def stable_forms(expr: sympy.Expr, variables: tuple) -> sympy.Expr:
    """``expr`` as compiled code evaluates it: the erf rewrites above, the log of a power as a
    multiple of a log (:func:`log_of_powers`) and a sum over a monomial in the variables
    distributed over its terms (:func:`distributed_over_monomials`). Each is an identity.

    >>> x, a = sympy.symbols("x a", real=True)
    >>> stable_forms(sympy.log((1 + x**2)**-4) + (a*x + 1) / x**2, (x,))
    a/x - 4*log(x**2 + 1) + x**(-2)
    """
    expr = hyperbolic_ratios(log_of_powers(stable_special_functions(expr)))
    by_magnitude = laurent_by_magnitude(expr, variables)
    return by_magnitude if by_magnitude is not None else \
        distributed_over_monomials(expr, variables)


class ByMagnitude(sympy.Function):
    """ByMagnitude(x, small, large): ``small`` where |x| < 1, else ``large`` (two forms of one
    expression, written in :class:`Near` and :class:`Far` of x), printed as numpy.where."""

    nargs = 3

    def _eval_evalf(self, prec):
        x, small, large = self.args
        return (small if abs(x.evalf(prec_to_dps(prec))) < 1 else large).evalf(
            prec_to_dps(prec))


class Near(sympy.Function):
    """x where |x| < 1, else 0.5: the small-|x| form is evaluated only at its own points, so the
    form not taken is never inf or NaN and autograd's gradient through the where stays finite."""

    nargs = 1

    def _eval_evalf(self, prec):
        x = self.args[0].evalf(prec_to_dps(prec))
        return x if abs(x) < 1 else sympy.Float(0.5)


class Far(sympy.Function):
    """x where |x| >= 1, else 2 (see :class:`Near`)."""

    nargs = 1

    def _eval_evalf(self, prec):
        x = self.args[0].evalf(prec_to_dps(prec))
        return x if abs(x) >= 1 else sympy.Float(2)


#: A Laurent form is built only from an expansion of at most this many operations.
_LAURENT_MAX_OPS = 300


def laurent_by_magnitude(expr: sympy.Expr, variables: tuple):
    """A function of one variable x that is sum_j c_j x**j (integer j, c_j free of x but for
    log x), as x**jmin (c_jmin + x (...)) where |x| < 1 and x**jmax (c_jmax + (1/x) (...))
    elsewhere: each form multiplies a finite sum by the one power that can overflow or
    underflow, so a log-normal's integrand at x = 1e-300 is +inf (its terms were +inf and -inf:
    NaN) and an inverse gamma's score at 1e300 is -4e-300. None where expr is not of that kind.

    >>> x, b = sympy.symbols("x b", positive=True)
    >>> laurent_by_magnitude((b - 4*x) / x**2, (x,))
    ByMagnitude(x, (b + Near(x)*(-4))/Near(x)**2, (b/Far(x) - 4)/Far(x))
    """
    present = [v for v in variables if expr.has(v)]
    if len(present) != 1:
        return None
    (x,) = present
    if bounded_size(expr, _LAURENT_MAX_OPS) > _LAURENT_MAX_OPS or any(
            node.has(x) and not (node.is_Add or node.is_Mul or node == x or _is_log(node, x)
                                 or (node.is_Pow and node.exp.is_Integer and (
                                     node.exp > 0 or node.base == x or _is_log(node.base, x))))
            for node in sympy.preorder_traversal(expr)):
        return None
    expanded = sympy.expand(expr, log=False)
    if bounded_size(expanded, _LAURENT_MAX_OPS) > _LAURENT_MAX_OPS:
        return None
    coefficients = {}
    for term in sympy.Add.make_args(expanded):
        power, rest = 0, []
        for factor in sympy.Mul.make_args(term):
            if factor == x:
                power += 1
            elif factor.is_Pow and factor.base == x:
                power += int(factor.exp)
            else:
                rest.append(factor)
        coefficients[power] = coefficients.get(power, 0) + sympy.Mul(*rest)
    log_x = sympy.Dummy("log_x")
    if any(c.xreplace({sympy.log(x): log_x}).has(x) for c in coefficients.values()):
        return None  # a denominator other than a power of x
    powers = sorted(coefficients)
    if powers[0] >= 0:
        return None  # a polynomial: nothing overflows that its plain form keeps
    if len(powers) == 1:
        return coefficients[powers[0]] * x**powers[0]
    near, far = Near(x), Far(x)
    return ByMagnitude(x, _horner({j: c.xreplace({x: near}) for j, c in coefficients.items()},
                                  powers, near, low=True),
                       _horner({j: c.xreplace({x: far}) for j, c in coefficients.items()},
                               powers, far, low=False))


def _horner(coefficients: dict, powers: list, x, low: bool) -> sympy.Expr:
    """x**p0 (c0 + y**d1 (c1 + y**d2 (c2 + ...))) with y = x (low: p0 the lowest power) or
    y = 1/x (p0 the highest), unevaluated so SymPy keeps the nesting."""
    order = powers if low else list(reversed(powers))
    inner = coefficients[order[-1]]
    for previous, current in zip(reversed(order[:-1]), reversed(order[1:])):
        step = abs(current - previous)
        factor = x**step if low else x**-step
        inner = sympy.Add(coefficients[previous], sympy.Mul(factor, inner, evaluate=False),
                          evaluate=False)
    return sympy.Mul(x**order[0], inner, evaluate=False)


def _is_log(node, x) -> bool:
    return isinstance(node, sympy.log) and node.args[0] == x


class LogCosh(sympy.Function):
    """log cosh(u), printed as logaddexp(u, -u) - log 2: cosh overflows from |u| = 710."""

    nargs = 1

    def _eval_evalf(self, prec):
        return sympy.log(sympy.cosh(self.args[0])).evalf(prec_to_dps(prec))


def hyperbolic_ratios(expr: sympy.Expr) -> sympy.Expr:
    """sinh(u)**k / cosh(u)**k as tanh(u)**k, and log cosh(u) as :class:`LogCosh`: an ICA
    model's score -w sinh(w x)/cosh(w x) is inf/inf from |w x| = 710, its tanh form is -w.

    >>> u = sympy.Symbol("u")
    >>> r = hyperbolic_ratios(sympy.sinh(u)**2 / sympy.cosh(u)**2 + sympy.log(sympy.cosh(u)))
    >>> r == sympy.tanh(u)**2 + LogCosh(u)
    True
    """
    def tanh_form(node):
        powers = dict(node.as_powers_dict())
        for base in [b for b in powers if isinstance(b, sympy.sinh)]:
            partner = sympy.cosh(base.args[0])
            k = powers[base]
            if powers.get(partner) == -k:
                del powers[base], powers[partner]
                powers[sympy.tanh(base.args[0])] = k
        return sympy.Mul(*[b**e for b, e in powers.items()])

    if not expr.has(sympy.cosh):
        return expr
    expr = expr.replace(lambda n: n.is_Mul and n.has(sympy.sinh) and n.has(sympy.cosh),
                        tanh_form)
    return expr.replace(lambda n: isinstance(n, sympy.log) and isinstance(n.args[0], sympy.cosh),
                        lambda n: LogCosh(n.args[0].args[0]))


def log_of_powers(expr: sympy.Expr) -> sympy.Expr:
    """log(A**k) as k log(A) where A > 0 is known or k is not an integer (a real power of a
    negative A is not real), and as k log|A| for an even integer k: A**k overflows long before
    its log does (a 3-D Student-t's log-density at |x| = 1e100 is -1835.6, not log(0)).

    >>> x = sympy.Symbol("x", real=True)
    >>> log_of_powers(sympy.log((1 + x**2)**(-4))), log_of_powers(sympy.log(x**2))
    (-4*log(x**2 + 1), 2*log(Abs(x)))
    """
    def rewritten(node):
        base, k = node.args[0].as_base_exp()
        if base.is_positive or k.is_integer is False:
            return k * sympy.log(base)
        if k.is_integer and k.is_even:
            return k * sympy.log(sympy.Abs(base))
        return node

    if not expr.has(sympy.log):
        return expr
    return expr.replace(lambda n: isinstance(n, sympy.log) and n.args[0].is_Pow
                        and n.args[0].exp.is_real, rewritten)


def distributed_over_monomials(expr: sympy.Expr, variables: tuple) -> sympy.Expr:
    """N / (c x**k), N a sum, as the sum of each term over c x**k: (b - 4 x)/x**2 is then
    b/x**2 - 4/x, which keeps its -4e-300 at x = 1e300, where x**2 overflows to inf and the
    quotient to 0. Each term is scaled by the same monomial, so no new cancellation appears.

    >>> x, b = sympy.symbols("x b", real=True)
    >>> distributed_over_monomials((b - 4*x) / x**2, (x,))
    b/x**2 - 4/x
    """
    def monomial_quotient(node) -> bool:
        if not node.is_Mul:
            return False
        sums = [f for f in node.args if f.is_Add and f.has(*variables)]
        poles = [f for f in node.args if f.is_Pow and f.base in variables
                 and f.exp.is_negative]
        rest = [f for f in node.args if f not in sums and f not in poles]
        return len(sums) == 1 and bool(poles) and not any(f.has(*variables) for f in rest)

    return expr.replace(monomial_quotient, sympy.expand_mul)
