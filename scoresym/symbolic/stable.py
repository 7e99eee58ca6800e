"""Stable forms of the error function's tails, for compiled code.

Invariant: each rewrite is an identity, applied to an expression just before it is printed, so
the value is unchanged while the code no longer loses it in the tails:

    1 + erf(z)             -> erfc(-z)              (1 + erf(-7) is 0.0 in floating point)
    log(erfc(w))           -> log_erfc(w)           (log(2) + log_ndtr(-w sqrt 2): no underflow)
    exp(A) / erfc(w)**k    -> exp(A + k w**2) / erfcx(w)**k   where A + k w**2 is simpler than A
                                                    (the skew-normal's score: 0/0 becomes finite)
    sum_k a_k / erfcx(w)**k -> sum_j b_j gap(w)**j / erfcx(w)**(K - j)   where the b_0 term
                                                    cancels (:func:`erfcx_gaps`: Laplacians of
                                                    log erfc far out, a difference of two w**2)

``erfc``, ``erfcx``, ``log_erfc`` and ``gap`` here are unevaluated functions
(:class:`StableErfc`, :class:`Erfcx`, :class:`LogErfc`, :class:`ErfcxGap`): SymPy would
otherwise rewrite erfc(-z) back to 2 - erfc(z). The printer turns them into
``scipy.special.erfc`` and the runtime's ``_erfcx``, ``_log_erfc`` and ``_erfcx_gap``, which
carry their own derivatives on the autograd backend.

>>> x, a = sympy.symbols("x a", real=True)
>>> score = sympy.sqrt(2) * a * sympy.exp(-a**2 * x**2 / 2) / (
...     sympy.sqrt(sympy.pi) * (sympy.erf(sympy.sqrt(2) * a * x / 2) + 1)) - x
>>> stable_special_functions(score)
sqrt(2)*a/(sqrt(pi)*Erfcx(-sqrt(2)*a*x/2)) - x
>>> stable_special_functions(sympy.log(1 + sympy.erf(a * x)))
LogErfc(-a*x)
"""

from __future__ import annotations

import functools

import sympy
from mpmath.libmp import prec_to_dps

from .logistic import logistic_pieces
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
    expr = expr.replace(lambda e: e.is_Mul and _scalable(e) is not None, _scaled)
    return erfcx_gaps(expr)


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


class ErfcxGap(sympy.Function):
    """gap(w) = sqrt(pi) w - 1/erfcx(w), which tends to -sqrt(pi)/(2 w) as w -> oo: there the
    two terms agree to 1 part in 2 w**2 and the runtime sums their difference's asymptotic
    series instead (``_erfcx_gap``). d gap/dw = sqrt(pi) + 2 w gap - 2 gap**2 / sqrt(pi)."""

    nargs = 1

    def fdiff(self, argindex=1):
        w, root_pi = self.args[0], sympy.sqrt(sympy.pi)
        return root_pi + 2 * w * self - 2 * self**2 / root_pi

    def _eval_evalf(self, prec):
        w = self.args[0]
        return (sympy.sqrt(sympy.pi) * w - sympy.exp(-w**2) / sympy.erfc(w)).evalf(
            prec_to_dps(prec))


def erfcx_gaps(expr: sympy.Expr) -> sympy.Expr:
    """In each sum, the terms a_k / erfcx(w)**k (k = 1..K) as sum_j b_j gap(w)**j /
    erfcx(w)**(K - j) (:class:`ErfcxGap`) where the j = 0 coefficient cancels: with
    N(E) = sum_k a_k E**(K - k) and E0 = 1/(sqrt(pi) w), E - E0 = gap E / (sqrt(pi) w), so
    b_j = N^(j)(E0) / (j! (sqrt(pi) w)**j). The Laplacian of log erfc(w), 4 w/(sqrt(pi) E) -
    4/(pi E**2), is then 4 gap/(pi E): right to the last digits at w = 1e6, where its two
    terms (4e12 each) agree to 1e-12.

    >>> w = sympy.Symbol("w", real=True)
    >>> E = Erfcx(w)
    >>> erfcx_gaps(4*w/(sympy.sqrt(sympy.pi)*E) - 4/(sympy.pi*E**2) - 1)
    -1 + 4*ErfcxGap(w)/(pi*Erfcx(w))
    """
    if not expr.has(Erfcx):
        return expr
    return expr.replace(lambda e: e.is_Add and e.has(Erfcx), _with_gaps)


def _with_gaps(node: sympy.Add) -> sympy.Expr:
    for erfcx in sorted(node.atoms(Erfcx), key=sympy.default_sort_key):
        inverse_powers, others = {}, []
        for term in node.args:
            k = _inverse_power(term, erfcx)
            if k is None:
                others.append(term)
            else:
                inverse_powers[k] = inverse_powers.get(k, 0) + term * erfcx**k
        gapped = _gap_form(inverse_powers, erfcx) if len(inverse_powers) > 1 else None
        if gapped is not None:
            return sympy.Add(*others) + gapped
    return node


def _inverse_power(term, erfcx):
    """k where term = a / erfcx**k with a free of erfcx and k a positive integer, else None."""
    powers = term.as_powers_dict()
    k = powers.get(erfcx)
    if k is None or not (k.is_Integer and k < 0):
        return None
    if (term * erfcx**-k).has(erfcx):
        return None
    return int(-k)


def _gap_form(inverse_powers: dict, erfcx):
    w, e, root_pi = erfcx.args[0], sympy.Dummy("e"), sympy.sqrt(sympy.pi)
    if bounded_size(sympy.Add(*inverse_powers.values()), _GAP_MAX_NODES) > _GAP_MAX_NODES:
        return None
    K = max(inverse_powers)
    N = sum(a * e**(K - k) for k, a in inverse_powers.items())
    shifted = sympy.Poly(sympy.expand(N.subs(e, e + 1 / (root_pi * w))), e)
    coefficients = dict((j, c) for (j,), c in shifted.terms())
    if sympy.cancel(coefficients.get(0, 0)) != 0:
        return None
    poles = set().union(*(sympy.denom(a).free_symbols for a in inverse_powers.values()))
    gap, terms = ErfcxGap(w), []
    for j, c in coefficients.items():
        if j == 0:
            continue
        b = sympy.factor(sympy.cancel(c / (root_pi * w) ** j))
        if not sympy.denom(b).free_symbols <= poles:
            return None
        terms.append(b * gap**j / erfcx ** (K - j))
    return sympy.Add(*terms)


#: A sum over powers of 1/erfcx(w) is regrouped only if it has at most this many nodes.
_GAP_MAX_NODES = 400


def stable_forms(expr: sympy.Expr, variables: tuple) -> sympy.Expr:
    """``expr`` as compiled code evaluates it: the erf rewrites above, A**a A**b combined
    (:func:`powers_combined`), the log of a power as a multiple of a log
    (:func:`log_of_powers`), tanh and log cosh (:func:`hyperbolic_ratios`), terms with a pole
    summed (:func:`like_terms_combined`), the logistic function and its slope in one
    exponential (:func:`~scoresym.symbolic.logistic.logistic_pieces`), a polynomial in one
    exponential in Horner form (:func:`horner_in_an_exponential`), then a Laurent form in one
    variable (:func:`laurent_by_magnitude`) or else a sum over a monomial distributed over its terms
    (:func:`distributed_over_monomials`) and the polynomial parts scaled by a power of two
    (:func:`scaled_by_a_power_of_two`). Each is an identity.

    >>> x, y = sympy.symbols("x y", real=True)
    >>> stable = stable_forms(sympy.log((1 + x**2 + y**2)**-4), (x, y))
    >>> stable.has(PowerOfTwoScale), sympy.N(stable.subs({x: 10**300, y: 0}), 12)
    (True, -5526.20422319)
    """
    return _stable_forms(expr, tuple(variables))


@functools.lru_cache(maxsize=512)
def _stable_forms(expr: sympy.Expr, variables: tuple) -> sympy.Expr:
    """:func:`stable_forms`, kept for the expressions last compiled: each backend compiles the
    same score, Hessian and integrand."""
    expr = hyperbolic_ratios(log_of_powers(powers_combined(stable_special_functions(expr))))
    expr = logistic_pieces(expr)
    expr = horner_in_an_exponential(like_terms_combined(expr, variables), variables)
    by_magnitude = laurent_by_magnitude(expr, variables)
    return by_magnitude if by_magnitude is not None else \
        scaled_by_a_power_of_two(distributed_over_monomials(expr, variables), variables)


class PowerOfTwoScale(sympy.Function):
    """M = 2**e, the least power of two with M > max(|x_1|, ..., |x_d|), or 1 where that is
    at most 1 (e at most 1023): dividing by M is exact, so x_i / M loses nothing."""

    def _eval_evalf(self, prec):
        largest = max([sympy.Integer(1)] + [abs(a.evalf(prec_to_dps(prec))) for a in self.args])
        if largest <= 1:
            return sympy.Float(1)
        exponent = min(int(sympy.floor(sympy.log(largest, 2))) + 1, 1023)
        return sympy.Float(2) ** exponent


class OverScale(sympy.Function):
    """OverScale(x, M) = x / M, kept as one factor: SymPy would write (x/M)**2 as x**2/M**2,
    which overflows where x**2 does."""

    nargs = 2

    def _eval_evalf(self, prec):
        x, scale = self.args
        return (x / scale).evalf(prec_to_dps(prec))


def scaled_by_a_power_of_two(expr: sympy.Expr, variables: tuple) -> sympy.Expr:
    """``expr`` evaluated at u = x / M (:class:`PowerOfTwoScale`) and multiplied by M**K, its
    degree in x, where a part of it has a higher degree than the whole: a polynomial of
    degree D is M**D P(u) with the lower terms scaled by powers of 1/M, a quotient's degrees
    subtract and log(A) is log(A(u)) + K log M. Every step multiplies by a power of two, so
    the floats are those of the plain form, except that nothing overflows before the end: a
    3-D Student-t's score at (1e300, 0, 0) is (-8e-300, -2.4e-300, 0), where its denominator
    overflowed and the score was 0 (and its Laplacian NaN). A power with a symbolic exponent
    has a symbolic degree, so a Weibull's (x/lam)**k / x is M**(k - 1) (u/lam)**k / u, finite
    where (x/lam)**k overflows. Parts that are not polynomial in x (exp(x**2), erfc) are kept
    as they are.

    >>> x, y = sympy.symbols("x y", real=True)
    >>> scaled = scaled_by_a_power_of_two(x / (1 + x**2 + y**2), (x, y))
    >>> scaled.subs(PowerOfTwoScale(x, y), sympy.Symbol("M"))
    OverScale(x, M)/(M*(OverScale(x, M)**2 + OverScale(y, M)**2 + M**(-2)))
    """
    scale = PowerOfTwoScale(*variables)
    scaled = {v: OverScale(v, scale) for v in variables}
    flags = {"highest": 0, "compensated": False, "clashing": False}
    degrees: dict = {}
    built: dict = {}

    def degree_of(node):
        """K with node = M**K node' (free of x; a number unless a power has a symbolic
        exponent), or None where node is kept as it is."""
        if node not in degrees:
            degrees[node] = k = _degree(node)
            if k is not None and k.is_number:
                flags["highest"] = max(flags["highest"], abs(k))
        return degrees[node]

    def _degree(node):
        if not node.has(*variables):
            return sympy.Integer(0)
        if node in scaled:
            return sympy.Integer(1)
        if node.is_Add or node.is_Mul:
            parts = [degree_of(a) for a in node.args]
            if any(k is None for k in parts):
                return None
            if node.is_Mul:
                nonzero = [k for k in parts if k != 0]
                # x**k / x: M**(k - 1) stays finite where M**k overflows
                flags["compensated"] |= len(nonzero) > 1 and not all(
                    k.is_number for k in nonzero)
                return sympy.Add(*nonzero)
            if not all(k.is_number for k in parts):
                return None
            # two parts that can overflow: inf - inf (x**2 - x*y, or s**2/2 + L of a quartic)
            flags["clashing"] |= sum(bool(k > 1) for k in parts) > 1
            return max(parts)
        if node.is_Pow and not node.exp.has(*variables):
            k = degree_of(node.base)
            return None if k is None else k * node.exp
        if isinstance(node, sympy.log):
            k = degree_of(node.args[0])
            return None if k is None or k == 0 else sympy.Integer(0)
        if isinstance(node, sympy.Abs):
            return degree_of(node.args[0])
        return None

    def build(node):
        """node' of :func:`degree_of` (for a node whose degree is not None)."""
        if node not in built:
            built[node] = _build(node)
        return built[node]

    def _build(node):
        if not node.has(*variables):
            return node
        if node in scaled:
            return scaled[node]
        if node.is_Mul:
            return sympy.Mul(*[build(a) for a in node.args])
        if node.is_Add:
            top = degree_of(node)
            return sympy.Add(*[build(a) * scale ** (degree_of(a) - top) for a in node.args])
        if node.is_Pow:
            return build(node.base) ** node.exp
        if isinstance(node, sympy.log):
            return sympy.log(build(node.args[0])) + degree_of(node.args[0]) * sympy.log(scale)
        return sympy.Abs(build(node.args[0]))

    degree = degree_of(expr)
    if degree is None:
        terms = [(t, degree_of(t)) for t in sympy.Add.make_args(expr)]
    # taken where a part of degree 2 or more can overflow before the whole does, or parts can
    # overflow with both signs (x**2 - x*y at 1e160: inf - inf, where M**2 P(u) is inf of the
    # right sign); else the plain form, which is as good and easier to read
    drops = flags["highest"] >= 2 and (degree is None or not degree.is_number
                                       or flags["highest"] > abs(degree))
    if not (flags["compensated"] or flags["clashing"] or drops):
        return expr
    if degree is None:
        result = sympy.Add(*[t if k is None else build(t) * scale**k for t, k in terms])
    else:
        result = build(expr) * scale**degree
    # x**(k - 2) is u**k u**-2 until combined: 0 * inf at x = 1e-300
    return powers_combined(result)


#: Products are multiplied out only into at most this many terms, each power of a sum at most
#: cubed.
_LIKE_TERMS_MAX = 40


def like_terms_combined(expr: sympy.Expr, variables: tuple) -> sympy.Expr:
    """A sum with its products of sums multiplied out (denominators kept as they are) and its
    terms of one shape in the variables summed into one coefficient, factored, where that
    merges terms with a pole, such as c/x**2: a log-logistic's Hyvarinen integrand has
    (b - 1)**2/(2 x**2) from its squared score and -(b - 1)/x**2 from its Laplacian, so with
    b = 3 the two 2e16 at x = 1e-8 cancel exactly as (b - 3)(b - 1)/(2 x**2), not leaving 0
    where the integrand is -2.4e-7. Only terms whose coefficients are free of the variables
    are merged. A square (A + B)**2 multiplied out loses digits where A is close to -B, and
    its terms can overflow to inf - inf where the square is inf, so the form is taken only
    where terms with a pole merge (benchmarks/stability.py measures it).

    >>> x, b = sympy.symbols("x b", positive=True)
    >>> like_terms_combined(((b - 1)/x - 2*b/(x*(x + 1)))**2/2 - (b - 1)/x**2, (x,))
    2*b**2/(x**2*(x + 1)**2) - 2*b*(b - 1)/(x**2*(x + 1)) + (b - 3)*(b - 1)/(2*x**2)
    """
    if not expr.is_Add or not any(p.base in variables and p.exp.is_negative
                                  for p in expr.atoms(sympy.Pow)):
        return expr
    terms = []
    for term in expr.args:
        products = _multiplied_out(term, _LIKE_TERMS_MAX - len(terms))
        if products is None:
            return expr
        terms += products
    shapes = _by_shape(terms, variables)
    if not any(_is_pole(shape, variables) and len(c) > 1 for shape, c in shapes.items()):
        return expr
    return _summed_by_shape(shapes)


def _by_shape(terms, variables) -> dict:
    """{shape: [coefficients]}: each term split as coefficient * shape, the coefficient free
    of the variables."""
    shapes: dict = {}
    for term in terms:
        coefficient, shape = term.as_independent(*variables, as_Add=False)
        shapes.setdefault(shape, []).append(coefficient)
    return shapes


def _summed_by_shape(shapes: dict, factor=1) -> sympy.Expr:
    """sum over shapes of (their coefficients' sum, factored) * shape * factor."""
    return sympy.Add(*[_factored(sympy.Add(*c)) * shape * factor for shape, c in shapes.items()])


def _is_pole(shape, variables) -> bool:
    """Whether shape has a factor x**-k, x a variable (1/x**2, exp(u)/(x**2 (1 + exp(u)))):
    where such terms cancel near the edge x = 0, their sum is what is left."""
    return any(f.is_Pow and f.base in variables and f.exp.is_Integer and f.exp.is_negative
               for f in sympy.Mul.make_args(shape))


def _multiplied_out(term, room: int):
    """The terms of ``term`` with each of its factors that is a sum, or a sum to the power 2
    or 3, multiplied out (a power of a sum with a negative exponent, a denominator, is kept);
    None where that makes more than ``room`` terms (counted before anything is expanded)."""
    products = [sympy.Integer(1)]
    for factor in sympy.Mul.make_args(term):
        if factor.is_Pow and factor.base.is_Add and factor.exp.is_Integer \
                and 1 < factor.exp <= 3:
            if len(factor.base.args) ** int(factor.exp) * len(products) > room:
                return None
            parts = sympy.Add.make_args(sympy.expand_multinomial(factor, deep=False))
        elif factor.is_Add:
            parts = factor.args
        else:
            parts = (factor,)
        if len(parts) * len(products) > room:
            return None
        products = [p * q for p in products for q in parts]
    return products


def _factored(coefficient: sympy.Expr) -> sympy.Expr:
    return sympy.factor(coefficient) if bounded_size(coefficient, 60) <= 60 else coefficient


#: A polynomial in an exponential is put in Horner form only if it has at most this many nodes.
_HORNER_MAX_NODES = 300


def horner_in_an_exponential(expr: sympy.Expr, variables: tuple) -> sympy.Expr:
    """A polynomial of degree >= 2 in one exponential E = exp(a(x)) (and its powers
    exp(c + k a), c free of x), written in Horner form c0 + E (c1 + E (c2 + ...)): a Gumbel's
    Hyvarinen integrand (E - 1)**2/2 - E is inf - inf = NaN from x = -710, where E overflows and the
    integrand is +inf; as 1/2 + E (E/2 - 2) it is +inf.

    >>> x = sympy.Symbol("x", real=True)
    >>> horner_in_an_exponential((sympy.exp(-x) - 1)**2 / 2 - sympy.exp(-x), (x,))
    (-2 + exp(-x)/2)*exp(-x) + 1/2
    """
    if not expr.is_Add or bounded_size(expr, _HORNER_MAX_NODES) > _HORNER_MAX_NODES:
        return expr
    exponentials = [n for n in expr.atoms(sympy.exp) if n.has(*variables)]
    if not exponentials or len(exponentials) > 4 or (len(exponentials) == 1 and not any(
            (n.is_Mul and sum(f.has(*exponentials) for f in n.args) > 1) or
            (n.is_Pow and n.base.has(*exponentials) and n.exp.is_Integer and n.exp > 1)
            for n in sympy.preorder_traversal(expr))):
        return expr  # one exponential, to the first degree only: nothing to nest
    exponentials.sort(key=lambda n: sympy.count_ops(
        n.args[0].as_independent(*variables, as_Add=True)[1]))
    def varying(node):
        return node.args[0].as_independent(*variables, as_Add=True)

    e, base = sympy.Dummy("e", positive=True), varying(exponentials[0])[1]
    mapping = {}
    for node in exponentials:
        constant, part = varying(node)
        ratio = sympy.cancel(part / base)
        if not (ratio.is_Integer and 1 <= ratio <= 4):
            return expr
        mapping[node] = sympy.exp(constant) * e**int(ratio)
    written = expr.xreplace(mapping)
    if not any((n.is_Mul and sum(f.has(e) for f in n.args) > 1) or
               (n.is_Pow and n.base.has(e) and n.exp.is_Integer and n.exp > 1)
               for n in sympy.preorder_traversal(written)):
        return expr  # of degree 1 in E: nothing to nest
    try:
        polynomial = sympy.Poly(sympy.expand(written, deep=False), e)
    except sympy.PolynomialError:
        return expr
    if polynomial.degree() < 2 or any(c.has(e) for c in polynomial.coeffs()):
        return expr
    return sympy.horner(polynomial).xreplace({e: sympy.exp(base)})


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
    """log(A**k) (k real) as k log(A) where A > 0 is known, else as k log|A|: wherever
    log(A**k) is real, either A > 0 or k is an even integer, and both are k log|A|. A**k
    overflows long before its log does (a 3-D Student-t's log-density at |x| = 1e100 is
    -1835.6, not log(0)).

    >>> x = sympy.Symbol("x", real=True)
    >>> log_of_powers(sympy.log((1 + x**2)**(-4))), log_of_powers(sympy.log(x**2))
    (-4*log(x**2 + 1), 2*log(Abs(x)))
    """
    def rewritten(node):
        base, k = node.args[0].as_base_exp()
        return k * sympy.log(base if base.is_positive else sympy.Abs(base))

    if not expr.has(sympy.log):
        return expr
    return expr.replace(lambda n: isinstance(n, sympy.log) and n.args[0].is_Pow
                        and n.args[0].exp.is_real, rewritten)


def powers_combined(expr: sympy.Expr) -> sympy.Expr:
    """A**a A**b as A**(a + b) (true for every A): a Student-t's score, derived from
    log(A**k) with A of unknown sign, is A**(-k) A**k (...), which overflows to inf * 0 where
    A**k does, and is (...) once combined.

    >>> A, k = sympy.Symbol("A"), sympy.Symbol("k")
    >>> powers_combined(A**-k * A**k * (A + 1) / A)
    (A + 1)/A
    """
    if not _has_a_repeated_base(expr) or \
            bounded_size(expr, _POWSIMP_MAX_NODES) > _POWSIMP_MAX_NODES:
        return expr
    return sympy.powsimp(expr, combine="exp")


def _has_a_repeated_base(expr: sympy.Expr) -> bool:
    """Whether some product has two factors with one base (SymPy leaves A**a * A**b apart
    when a + b does not simplify on its own); powsimp is costly and is run only then."""
    for node in sympy.preorder_traversal(expr):
        if node.is_Mul:
            bases = [f.as_base_exp()[0] for f in node.args]
            if len(set(bases)) < len(bases):
                return True
    return False


#: Powers are combined only in expressions of at most this many nodes.
_POWSIMP_MAX_NODES = 2000




def distributed_over_monomials(expr: sympy.Expr, variables: tuple) -> sympy.Expr:
    """N / (c x**k), N a sum, as the sum of each term over c x**k: a Weibull's score
    (k - 1 - k (x/lam)**k) / x is then (k - 1)/x - k (x/lam)**k / x, whose second term
    :func:`scaled_by_a_power_of_two` keeps finite where (x/lam)**k overflows. Each term is
    scaled by the same monomial, and terms of one shape in x are summed first (1 - k - k x
    as (1 - k) - k x: 1/x**2 - k/x**2 is inf - inf at x = 1e-300), so no new cancellation
    appears; c is not multiplied out.

    >>> x, b, k = sympy.symbols("x b k", real=True)
    >>> distributed_over_monomials((k - 1) * (b - k - 4*x) / x**2, (x,))
    -4*(k - 1)/x + (b - k)*(k - 1)/x**2
    """
    def monomial_quotient(node) -> bool:
        if not node.is_Mul:
            return False
        sums = [f for f in node.args if f.is_Add and f.has(*variables)]
        poles = [f for f in node.args if f.is_Pow and f.base in variables
                 and f.exp.is_negative]
        rest = [f for f in node.args if f not in sums and f not in poles]
        return len(sums) == 1 and bool(poles) and not any(f.has(*variables) for f in rest)

    def distributed(node):
        (total,) = [f for f in node.args if f.is_Add and f.has(*variables)]
        others = sympy.Mul(*[f for f in node.args if f is not total])
        return _summed_by_shape(_by_shape(total.args, variables), others)

    return expr.replace(monomial_quotient, distributed)
