"""Compiled code stays right far from the mode and near the edges: a table of (density, point,
quantity) checked on both backends against mpmath at 50 digits (1 + erf written erfc so that
the reference itself keeps its digits), and points on or outside a domain refused by name."""

import mpmath
import numpy as np
import pytest
import sympy

from scoresym import Model, ScoresymInputError, zoo
from scoresym.symbolic.stable import StableErfc

# (id, density, variables, params, domain, kind, values, quantity, point): the cases that
# returned NaN, inf, 0 or a wrong number before the stable forms
CASES = [
    ("beta near 1", "x**(a-1)*(1-x)**(b-1)", "x", "a b", {"x": (0, 1)}, "density",
     {"a": 0.5, "b": 0.5}, "hyvarinen", [1 - 1e-8]),
    ("beta near 0", "x**(a-1)*(1-x)**(b-1)", "x", "a b", {"x": (0, 1)}, "density",
     {"a": 0.5, "b": 0.5}, "score", [1e-300]),
    ("skew-normal left tail", "exp(-x**2/2)*(1 + erf(a*x/sqrt(2)))", "x", "a", None, "density",
     {"a": 3.0}, "score", [-3.0]),
    ("skew-normal far left", "exp(-x**2/2)*(1 + erf(a*x/sqrt(2)))", "x", "a", None, "density",
     {"a": 3.0}, "hyvarinen", [-1000.0]),
    ("logistic far left", "exp(-(x - m)/s)/(1 + exp(-(x - m)/s))**2", "x", "m s", None,
     "density", {"m": 0.0, "s": 1.0}, "score", [-800.0]),
    ("logistic narrow", "exp(-(x - m)/s)/(1 + exp(-(x - m)/s))**2", "x", "m s", None,
     "density", {"m": 0.0, "s": 1e-3}, "score", [-1.0]),
    ("logistic laplacian far out", "exp(-(x - m)/s)/(1 + exp(-(x - m)/s))**2", "x", "m s", None,
     "density", {"m": 0.0, "s": 1.0}, "laplacian", [-100.0]),
    ("student-t 3-D far out", "(1 + (a*(x**2 + y**2 + z**2) + 2*c*(x*y + y*z))/5)**(-4)",
     "x y z", "a c", None, "density", {"a": 1.0, "c": 0.3}, "log_density", [1e100, 0.0, 0.0]),
    ("inverse gamma far right", "x**(-a-1)*exp(-b/x)", "x", "a b", {"x": (0, "oo")}, "density",
     {"a": 3.0, "b": 1.0}, "score", [1e300]),
    ("softplus right", "-log(1 + exp(x - a)) - log(1 + exp(-x - a))", "x", "a", None, "log",
     {"a": 1.0}, "score", [1000.0]),
    ("softplus laplacian", "-log(1 + exp(x - a)) - log(1 + exp(-x - a))", "x", "a", None, "log",
     {"a": 1.0}, "laplacian", [100.0]),
    ("erfc tail", "exp(-x**2/8)*erfc(x/s)", "x", "s", None, "density", {"s": 2.0}, "score",
     [30.0]),
    ("erfc tail laplacian far right", "exp(-x**2/8)*erfc(x/s)", "x", "s", None, "density",
     {"s": 2.0}, "laplacian", [1e6]),
    ("skew-normal laplacian far left", "exp(-x**2/2)*(1 + erf(a*x/sqrt(2)))", "x", "a", None,
     "density", {"a": 3.0}, "laplacian", [-1e5]),
    ("rbm past 709", "exp(-x**2/2 + b*x)*(1 + exp(c + w*x))", "x", "b c w", None, "density",
     {"b": 0.1, "c": 0.5, "w": 2.0}, "score", [400.0]),
    ("log-logistic far right", "x**(b-1)/(1+(x/a)**b)**2", "x", "a b", {"x": (0, "oo")},
     "density", {"a": 1.0, "b": 3.0}, "score", [1e150]),
    ("log-logistic near 0", "x**(b-1)/(1+(x/a)**b)**2", "x", "a b", {"x": (0, "oo")},
     "density", {"a": 1.0, "b": 3.0}, "hyvarinen", [1e-8]),
    ("student-t typed without positivity, far out", "(1 + (x - m)**2/(nu*s2))**(-(nu + 1)/2)",
     "x", "m s2 nu", None, "density", {"m": 0.0, "s2": 1.0, "nu": 3.0}, "laplacian", [1e100]),
    ("student-t score past 1e154", "(1 + (x - m)**2/(nu*s2))**(-(nu + 1)/2)", "x", "m s2 nu",
     None, "density", {"m": 0.0, "s2": 1.0, "nu": 3.0}, "score", [1e300]),
    ("student-t log-density past 1e154", "(1 + (x - m)**2/(nu*s2))**(-(nu + 1)/2)", "x",
     "m s2 nu", None, "density", {"m": 0.0, "s2": 1.0, "nu": 3.0}, "log_density", [1e300]),
    ("student-t 3-D score past 1e154", "(1 + (a*(x**2 + y**2 + z**2) + 2*c*(x*y + y*z))/5)**(-4)",
     "x y z", "a c", None, "density", {"a": 1.0, "c": 0.3}, "score", [1e300, 1e300, 1e300]),
    ("student-t 3-D laplacian far out", "(1 + (a*(x**2 + y**2 + z**2) + 2*c*(x*y + y*z))/5)**(-4)",
     "x y z", "a c", None, "density", {"a": 1.0, "c": 0.3}, "laplacian", [1e100, 0.0, 0.0]),
    ("mixture score past 1e154", "exp(-(x + 2)**2/2) + exp(-(x - 2)**2/2)", "x", "", None,
     "density", {}, "score", [1e160]),
    ("mixture laplacian at 1e20", "exp(-(x + 2)**2/2) + exp(-(x - 2)**2/2)", "x", "", None,
     "density", {}, "laplacian", [1e20]),
    ("weibull score past the power's overflow", "x**(k - 1)*exp(-(x/lam)**k)", "x", "k lam",
     {"x": (0, "oo")}, "density", {"k": 1.5, "lam": 1.3}, "score", [1e300]),
    ("ica on the plain path", "-log(cosh(w*x)) - x**2/2", "x", "w", None, "log", {"w": 2.0},
     "score", [800.0]),
    ("log-cosh on the fast path", "-x**2/2 - y**2/2 - log(cosh(x - y/2)) - log(cosh(x/3 + y))",
     "x y", "", None, "log", {}, "log_density", [1000.0, 0.0]),
    ("two-component mixture far out", "exp(-(x + 2)**2/2) + exp(-(x - 2)**2/2)", "x", "", None,
     "density", {}, "laplacian", [-60.0]),
]


def reference(model, quantity: str, point: list, values: dict) -> list:
    """The quantity at the point by mpmath from the exact binary inputs, at 50 digits plus
    twice the point's decimal exponent (a mixture's Laplacian at 1e20 subtracts squares of
    1e20 that agree to 40 digits)."""
    expr = getattr(model, quantity)
    exprs = list(expr) if isinstance(expr, sympy.MatrixBase) else [expr]
    exprs = [e.replace(lambda n: isinstance(n, sympy.erf), lambda n: StableErfc(-n.args[0]) - 1)
             for e in exprs]
    args = list(model.variables) + list(model.params)
    largest = max([1.0] + [abs(float(v)) for v in point])
    with mpmath.workdps(50 + 2 * int(np.ceil(np.log10(largest)))):
        inputs = [mpmath.mpf(float(v)) for v in point] + \
            [mpmath.mpf(values[p.name]) for p in model.params]
        return [float(sympy.lambdify(args, e, modules=[{"StableErfc": mpmath.erfc},
                                                        "mpmath"])(*inputs)) for e in exprs]


@pytest.mark.parametrize("backend", ["numpy", "autograd"])
@pytest.mark.parametrize("name, text, variables, params, domain, kind, values, quantity, point",
                         CASES, ids=[c[0] for c in CASES])
def test_compiled_values_far_out_agree_with_mpmath(name, text, variables, params, domain, kind,
                                                   values, quantity, point, backend):
    model = Model.from_string(text, variables, params, domain=domain, kind=kind)
    truth = reference(model, quantity, point, values)
    assert all(np.isfinite(truth)) and all(t == 0 or abs(t) > 1e-307 for t in truth)
    with np.errstate(all="ignore"):
        got = np.asarray(getattr(model.lambdify(backend), quantity)(
            np.array([point]), **values), dtype=float).ravel()
    assert got == pytest.approx(truth, rel=1e-8), (got, truth)


# (id, density, variables, params, domain, kind, values, quantity, point, sign): points where
# the true value overflows float64, so that inf of its sign is the right answer (these were NaN)
OVERFLOWS = [
    ("gaussian 3-D log-density", "exp(-(x**2 + y**2 + z**2)/2 + x*y/3)", "x y z", "", None,
     "density", {}, "log_density", [1e160, 1e160, 1e160], -1),
    ("quartic integrand", "exp(t1*x + t2*x**2 - t4*x**4)", "x", "t1 t2 t4", None, "density",
     {"t1": 0.5, "t2": 1.0, "t4": 0.25}, "hyvarinen", [-1e160], 1),
    ("gumbel integrand", "exp(-(x - m)/s - exp(-(x - m)/s))", "x", "m s", None, "density",
     {"m": 0.0, "s": 1.0}, "hyvarinen", [-800.0], 1),
    ("weibull laplacian near 0", "x**(k - 1)*exp(-(x/lam)**k)", "x", "k lam", {"x": (0, "oo")},
     "density", {"k": 1.5, "lam": 1.3}, "laplacian", [1e-300], -1),
    ("log-normal integrand near 0", "exp(-(log(x) - m)**2/(2*s**2))/x", "x", "m s",
     {"x": (0, "oo")}, "density", {"m": 0.0, "s": 1.0}, "hyvarinen", [1e-300], 1),
]


@pytest.mark.parametrize("backend", ["numpy", "autograd"])
@pytest.mark.parametrize("name, text, variables, params, domain, kind, values, quantity, point, "
                         "sign", OVERFLOWS, ids=[c[0] for c in OVERFLOWS])
def test_values_that_overflow_are_inf_of_their_sign(name, text, variables, params, domain,
                                                     kind, values, quantity, point, sign,
                                                     backend):
    model = Model.from_string(text, variables, params, domain=domain, kind=kind)
    assert reference(model, quantity, point, values) == [sign * np.inf]
    with np.errstate(all="ignore"):
        got = np.asarray(getattr(model.lambdify(backend), quantity)(
            np.array([point]), **values), dtype=float).ravel()
    assert got.tolist() == [sign * np.inf]


def test_the_plain_forms_fail_where_the_stable_ones_hold():
    """The table above is not easy: plain lambdify of the same expressions is NaN, inf or off
    at most of its points."""
    wrong = 0
    for _name, text, variables, params, domain, kind, values, quantity, point in CASES:
        model = Model.from_string(text, variables, params, domain=domain, kind=kind)
        expr = getattr(model, quantity)
        exprs = list(expr) if isinstance(expr, sympy.MatrixBase) else [expr]
        args = list(model.variables) + list(model.params)
        truth = reference(model, quantity, point, values)
        with np.errstate(all="ignore"):
            inputs = [np.float64(v) for v in point] + \
                [np.float64(values[p.name]) for p in model.params]
            got = [float(sympy.lambdify(args, e, "numpy")(*inputs)) for e in exprs]
        wrong += not np.allclose(got, truth, rtol=1e-8, atol=0)
    assert wrong >= len(CASES) // 2


@pytest.mark.parametrize("w", [-40.0, -3.0, 0.0, 0.5, 7.99, 8.0, 30.0, 1e3, 1e6, 1e200])
def test_the_erfcx_gap_and_its_derivative_agree_with_mpmath(w):
    """gap(w) = sqrt(pi) w - 1/erfcx(w) on both sides of the switch to its series (w = 8), and
    autograd's derivative of it by its rule sqrt(pi) + 2 w gap - 2 gap**2/sqrt(pi) (whose
    own cancellation leaves about 1e-16 w**2 of relative error)."""
    import autograd

    from scoresym.codegen.backends import backend_modules

    def gap(v):
        return mpmath.sqrt(mpmath.pi) * v - mpmath.exp(-v**2) / mpmath.erfc(v)

    primitive = backend_modules("autograd")["_erfcx_gap"]
    with mpmath.workdps(60):
        v = mpmath.mpf(w)
        truth = float(gap(v)) if w < 1e100 else float(-mpmath.sqrt(mpmath.pi) / (2 * v))
        slope = float(mpmath.diff(gap, v)) if w < 1e100 else None
    assert float(primitive(w)) == pytest.approx(truth, rel=1e-13)
    if slope is not None:
        assert float(autograd.grad(primitive)(w)) == pytest.approx(
            slope, rel=1e-13 * max(1.0, w**2), abs=1e-300)


@pytest.mark.parametrize("point, fragment", [
    ([[0.0]], "x = 0 (at the edge 0)"),
    ([[-1.0]], "x = -1 (outside)"),
    ([[0.5], [1.0]], "row 1: x = 1 (at the edge 1)"),
])
def test_points_on_or_outside_a_domain_are_refused_by_name(point, fragment):
    beta = Model.from_string("x**(a-1)*(1-x)**(b-1)", "x", "a b", domain={"x": (0, 1)})
    for backend in ("numpy", "autograd"):
        for quantity in ("score", "laplacian", "hyvarinen", "log_density"):
            with pytest.raises(ScoresymInputError, match="strictly inside") as info:
                getattr(beta.lambdify(backend), quantity)(np.array(point), a=2.0, b=3.0)
            assert fragment in str(info.value)


def test_an_unbounded_domain_takes_every_finite_point():
    b = zoo.get("gaussian_1d")
    values = b.model.lambdify().score(np.array([[-1e300], [1e300]]), **b.truth)
    assert np.all(np.isfinite(values))


@pytest.mark.parametrize("backend", ["numpy", "autograd"])
@pytest.mark.parametrize("text, params, values, quantity, point, log10_truth", [
    # (log x - m)^2 / (2 s^4 x^2) dominates: about 10^605.4 at x = 1e-300 (mpmath)
    ("exp(-(log(x) - m)**2/(2*s**2))/x", "m s", {"m": 0.0, "s": 1.0}, "hyvarinen", 1e-300,
     605.4),
    # b^2 / (2 x^4) dominates: 10^1199.7 at x = 1e-300
    ("x**(-a-1)*exp(-b/x)", "a b", {"a": 3.0, "b": 1.0}, "hyvarinen", 1e-300, 1199.7),
])
def test_a_value_that_overflows_is_inf_with_its_sign_not_nan(text, params, values, quantity,
                                                              point, log10_truth, backend):
    """Its terms were +inf and -inf (NaN); now the one power that overflows multiplies a
    finite sum."""
    model = Model.from_string(text, "x", params, domain={"x": (0, "oo")})
    truth = reference(model, quantity, [point], values)  # overflows to +inf as a float
    exact = getattr(model, quantity).subs({model.variables[0]: sympy.Float(point, 30),
                                           **{p: values[p.name] for p in model.params}})
    assert truth == [float("inf")]
    assert float(sympy.log(exact, 10)) == pytest.approx(log10_truth, abs=0.1)
    with np.errstate(all="ignore"):
        got = getattr(model.lambdify(backend), quantity)(np.array([[point]]), **values)
    assert got[0] == np.inf


def test_samples_given_to_a_check_are_refused_on_an_edge():
    from scoresym import check_stein

    gamma = Model.from_string("x**(k-1)*exp(-x)", "x", "k", domain={"x": (0, "oo")})
    X = np.array([[0.5], [1.5], [0.0]])
    with pytest.raises(ScoresymInputError, match="row 2: x = 0 .at the edge 0."):
        check_stein(gamma, {"k": 2.5}, "x", method="mc", samples=X)
