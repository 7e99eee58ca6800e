"""Compiled code: shapes, values against independent references, both backends, clear errors."""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import sympy

from scoresym import Model, ScoresymInputError, zoo
from scoresym.checks import check_finite_differences
from scoresym.codegen.functions import CompiledFunction
from scoresym.numerics.differences import probe_points

# Every built-in model, plus larger dimensions of the families that have them.
BUILTINS = {b.name: b for b in zoo.all_builtins() + [zoo.gaussian_full(5), zoo.logcosh(6)]}
SIZES = [1, 7]


def points(builtin, n, seed=0):
    return probe_points(builtin.model, n, np.random.default_rng(seed))


@pytest.fixture(params=list(BUILTINS), scope="module")
def builtin(request):
    return BUILTINS[request.param]


@pytest.mark.parametrize("n", SIZES)
def test_shapes(builtin, n):
    f, d = builtin.model.lambdify(), builtin.model.dim
    X = points(builtin, n)
    assert f.log_density(X, **builtin.truth).shape == (n,)
    assert f.score(X, **builtin.truth).shape == (n, d)
    assert f.hessian(X, **builtin.truth).shape == (n, d, d)
    assert f.laplacian(X, **builtin.truth).shape == (n,)
    assert f.hyvarinen(X, **builtin.truth).shape == (n,)


def test_against_finite_differences(builtin):
    result = check_finite_differences(builtin.model, builtin.truth, n=15, seed=3)
    assert result.ok, str(result)


def test_against_sympy_evaluation_at_points(builtin):
    """The compiled score and Hyvarinen integrand equal SymPy's own evaluation of the expression."""
    m, f = builtin.model, builtin.model.lambdify()
    X = points(builtin, 3, seed=5)
    values = {p: builtin.truth[p.name] for p in m.params}
    score, hyv = f.score(X, **builtin.truth), f.hyvarinen(X, **builtin.truth)
    for k, row in enumerate(X):
        subs = {**values, **dict(zip(m.variables, row))}
        expected_score = [float(e.evalf(30, subs=subs)) for e in m.score]
        np.testing.assert_allclose(score[k], expected_score, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(hyv[k], float(m.hyvarinen.evalf(30, subs=subs)), rtol=1e-11)


def test_identities_between_operators(builtin):
    f = builtin.model.lambdify()
    X = points(builtin, 9)
    s = f.score(X, **builtin.truth)
    H = f.hessian(X, **builtin.truth)
    lap = f.laplacian(X, **builtin.truth)
    np.testing.assert_allclose(H, np.swapaxes(H, 1, 2), rtol=0, atol=0)
    np.testing.assert_allclose(np.trace(H, axis1=1, axis2=2), lap, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(f.hyvarinen(X, **builtin.truth),
                               0.5 * np.sum(s**2, axis=1) + lap, rtol=1e-12, atol=1e-12)


def test_numpy_and_autograd_backends_agree(builtin):
    X = points(builtin, 6)
    f, g = builtin.model.lambdify("numpy"), builtin.model.lambdify("autograd")
    for name in ("log_density", "score", "hessian", "laplacian", "hyvarinen"):
        np.testing.assert_allclose(getattr(g, name)(X, **builtin.truth),
                                   getattr(f, name)(X, **builtin.truth), rtol=1e-13, atol=1e-13)


def test_autograd_gradient_of_the_log_density_is_the_score(builtin):
    X = points(builtin, 6)
    g = builtin.model.lambdify("autograd")
    grad = autograd.elementwise_grad(lambda Y: g.log_density(Y, **builtin.truth))(X)
    np.testing.assert_allclose(grad, g.score(X, **builtin.truth), rtol=1e-12, atol=1e-12)


def test_autograd_differentiates_through_parameters():
    m = zoo.get("gaussian_1d").model
    g = m.lambdify("autograd")
    X = np.array([[0.3], [1.7], [-0.4]])

    def objective(s2):
        return anp.mean(g.hyvarinen(X, mu=0.2, s2=s2))

    s2 = 1.3
    # d/ds2 mean(-1/s2 + (x - mu)^2 / (2 s2^2)) = 1/s2^2 - mean((x - mu)^2) / s2^3
    expected = 1 / s2**2 - np.mean((X[:, 0] - 0.2) ** 2) / s2**3
    assert autograd.grad(objective)(s2) == pytest.approx(expected, rel=1e-13)


def test_a_traced_parameter_may_hold_one_value_per_point():
    """Each point sees its own copy of the parameter: the gradient in copy i is point i's."""
    m = zoo.get("gaussian_1d").model
    g = m.lambdify("autograd")
    X = np.array([[0.3], [1.7], [-0.4]])
    per_point = autograd.grad(lambda s2: anp.sum(g.hyvarinen(X, mu=0.2, s2=s2)))(
        np.full(3, 1.3))
    one_by_one = [autograd.grad(lambda s2, i=i: g.hyvarinen(X[i:i + 1], mu=0.2, s2=s2)[0])(1.3)
                  for i in range(3)]
    assert per_point == pytest.approx(one_by_one, rel=1e-14)
    with pytest.raises(ScoresymInputError, match="one value per point"):
        autograd.grad(lambda s2: anp.sum(g.hyvarinen(X, mu=0.2, s2=s2)))(np.full(2, 1.3))


def test_one_dimensional_input_is_accepted_when_d_is_one():
    f = zoo.get("gaussian_1d").model.lambdify()
    x = np.array([0.0, 1.0, 2.0])
    np.testing.assert_array_equal(f.score(x, mu=1.0, s2=2.0), f.score(x[:, None], mu=1.0, s2=2.0))
    np.testing.assert_allclose(f.score(x, mu=1.0, s2=2.0)[:, 0], (1.0 - x) / 2.0)


def test_constant_results_are_broadcast_to_the_batch():
    f = zoo.get("gaussian_1d").model.lambdify()
    X = np.zeros((5, 1))
    np.testing.assert_array_equal(f.laplacian(X, mu=0.0, s2=4.0), np.full(5, -0.25))
    np.testing.assert_array_equal(f.hessian(X, mu=0.0, s2=4.0), np.full((5, 1, 1), -0.25))


def test_compiled_functions_keep_their_expression_and_source():
    m = zoo.get("gaussian_1d").model
    f = m.lambdify()
    assert f.score.expr == m.score
    assert f.hyvarinen.expr == m.hyvarinen
    assert f.score.source.startswith("def score(X, p_mu, p_s2):")
    assert "v_x = X[:, 0]" in f.score.source
    assert "autograd" in repr(m.lambdify("autograd").score)


def test_common_subexpressions_are_computed_once():
    m = Model.from_string("log(cosh(x + y)) - (x + y)**2", "x y", kind="log")
    source = m.lambdify().hyvarinen.source
    assert source.count("numpy.tanh(") + source.count("numpy.cosh(") <= 2, source


BAD_CALLS = [
    (lambda f: f.score(np.zeros((3, 1)), mu=0.0), "missing parameter(s): s2"),
    (lambda f: f.score(np.zeros((3, 1)), mu=0.0, s2=1.0, sigma=2.0), "unknown parameter(s): sigma"),
    (lambda f: f.score(np.zeros((3, 2)), mu=0.0, s2=1.0), "X must have shape (n, 1), got (3, 2)"),
    (lambda f: f.score(np.zeros((2, 3, 1)), mu=0.0, s2=1.0), "X must have shape (n, 1)"),
    (lambda f: f.score(np.zeros(3), mu=np.ones(3), s2=1.0), "parameter mu must be a scalar"),
    (lambda f: f.score(np.zeros(3), mu="a", s2=1.0), "parameter mu must hold real numbers, "
     "not strings ('a')"),
    (lambda f: f.score(np.zeros(3), mu=1 + 2j, s2=1.0), "parameter mu must hold real numbers, "
     "not complex numbers"),
    (lambda f: f.score(np.zeros(3), mu=True, s2=1.0), "parameter mu must hold real numbers, "
     "not booleans"),
    (lambda f: f.score(np.zeros(3), mu=None, s2=1.0), "parameter mu must hold real numbers, "
     "not Python objects"),
    (lambda f: f.score(np.zeros(3), mu=float("nan"), s2=1.0), "parameter mu must be a finite "
     "real number, got nan"),
    (lambda f: f.score(np.zeros(3), mu=0.0, s2=np.inf), "parameter s2 must be a finite"),
    (lambda f: f.score([["a"]], mu=0.0, s2=1.0), "X must hold real numbers, not strings"),
    (lambda f: f.score(np.array([[1 + 1j]]), mu=0.0, s2=1.0), "X must hold real numbers, not "
     "complex numbers"),
    (lambda f: f.score([[True]], mu=0.0, s2=1.0), "X must hold real numbers, not booleans"),
    (lambda f: f.score([[1.0], [None]], mu=0.0, s2=1.0), "X must hold real numbers, not Python "
     "objects"),
]


@pytest.mark.parametrize("call, fragment", BAD_CALLS)
def test_bad_arguments_are_named(call, fragment):
    f = zoo.get("gaussian_1d").model.lambdify()
    with pytest.raises(ScoresymInputError) as info:
        call(f)
    assert fragment in str(info.value)


def test_one_dimensional_input_is_refused_when_d_is_not_one():
    f = zoo.get("gaussian_mixture_2d").model.lambdify()
    with pytest.raises(ScoresymInputError, match=r"X.reshape\(1, -1\)"):
        f.score(np.zeros(2), **zoo.get("gaussian_mixture_2d").truth)


def test_unknown_backend_is_refused():
    with pytest.raises(ScoresymInputError, match="backend must be one of"):
        zoo.get("gaussian_1d").model.lambdify("torch")


def test_functions_without_a_numeric_translation_are_refused():
    x = sympy.Symbol("x", real=True)
    with pytest.raises(ScoresymInputError, match="cannot compile"):
        CompiledFunction("f", sympy.Function("g")(x), (x,), (), "scalar")


FUNCTION_MODELS = ["-x**2 + erf(x) + log(gamma(x**2 + 1)) + atan(x)", "-x**2 + asinh(x) * sin(x)",
                   "-x**2 - Abs(x)**3 + tanh(x) + loggamma(x**2 + 2)"]


@pytest.mark.parametrize("text", FUNCTION_MODELS)
def test_every_whitelisted_function_compiles_on_both_backends(text):
    m = Model.from_string(text, "x", kind="log", name="functions")
    X = np.linspace(-1.7, 2.3, 9)[:, None]
    assert check_finite_differences(m, {}, X=X).ok
    np.testing.assert_allclose(m.lambdify("autograd").hyvarinen(X), m.lambdify().hyvarinen(X),
                               rtol=1e-12)


def test_mixture_far_from_its_modes_stays_finite_and_exact():
    """Regression: log(exp(a) + exp(b)) underflowed to -inf, and its score to 0/0 = nan, a few
    tens of units from the modes. The compiled code now evaluates the log-sum-exp stably."""
    b = zoo.get("gaussian_mixture_2d")
    m, f = b.model, b.model.lambdify()
    X = np.array([[30.0, 40.0], [-1000.0, 3.0], [0.0, 0.0]])
    values = {p: b.truth[p.name] for p in m.params}
    for name in ("log_density", "score", "hessian", "laplacian", "hyvarinen"):
        got = getattr(f, name)(X, **b.truth)
        assert np.all(np.isfinite(got)), name
    score = f.score(X, **b.truth)
    for k, row in enumerate(X):
        subs = {**values, **dict(zip(m.variables, row))}
        expected = [float(e.evalf(50, subs=subs)) for e in m.score]
        np.testing.assert_allclose(score[k], expected, rtol=1e-12)
        assert f.log_density(X[k:k + 1], **b.truth)[0] == pytest.approx(
            float(m.log_density.evalf(50, subs=subs)), rel=1e-13)


@pytest.mark.parametrize("name", ["X", "self", "backend", "params", "name", "n"])
def test_a_parameter_may_have_any_plain_name(name):
    """Regression: a parameter called X or self collided with the arguments of __call__."""
    m = Model.from_string(f"exp(-(x - {name})**2)", "x", name)
    for fast in (True, False):
        f = m.lambdify(fast=fast)
        assert f.score([0.5], **{name: 1.0})[0, 0] == pytest.approx(1.0)
        assert f.hyvarinen([0.5], **{name: 1.0}) == pytest.approx([0.5 - 2.0])


def test_constants_are_rounded_once_in_generated_code():
    """A constant factor of 10**4000 compiles to its log, and exp(1000)/exp(999) to e: no
    intermediate overflow."""
    m = Model.from_string("10**4000 * exp(-x**2)", "x")
    assert m.lambdify().log_density([0.0])[0] == pytest.approx(4000 * np.log(10), rel=1e-15)
    m = Model.from_string("-x**2 * exp(1000) / exp(999)", "x", kind="log")
    assert m.lambdify().score([1.0])[0, 0] == pytest.approx(-2 * np.e, rel=1e-15)


def test_a_zero_parameter_in_a_denominator_gives_inf_not_an_exception():
    f = zoo.get("gaussian_1d").model.lambdify()
    with np.errstate(divide="ignore", invalid="ignore"):
        value = f.log_density([1.0], mu=0.0, s2=0.0)
    assert value[0] == -np.inf


# --- the error function's tails (skew-normal, erf inside log f) ----------------------------------

SKEW = "exp(-x**2/2)*(1 + erf(a*x/sqrt(2)))"


def mpmath_skew(x: float, a: float) -> dict:
    """log f, the score and the Hyvarinen integrand of the skew-normal at 60 digits, with
    1 + erf(z) written as erfc(-z) (mpmath keeps its digits either way at this precision)."""
    import mpmath

    with mpmath.workdps(60):
        def log_f(t):
            return -t**2 / 2 + mpmath.log(mpmath.erfc(-a * t / mpmath.sqrt(2)))

        x = mpmath.mpf(x)
        score, second = mpmath.diff(log_f, x, 1), mpmath.diff(log_f, x, 2)
        return {"log_density": float(log_f(x)), "score": float(score),
                "hyvarinen": float(score**2 / 2 + second)}


@pytest.mark.parametrize("x", [-300.0, -30.0, -3.0, 0.0, 2.0, 40.0])
@pytest.mark.parametrize("backend", ["numpy", "autograd"])
def test_the_skew_normal_is_right_in_its_far_tail(x, backend):
    """Regression: 1 + erf(-6.4) is 0.0 in floating point, so log f was -inf and the score
    inf from x = -3 (a = 3) on; written with erfc, erfcx and log_ndtr it keeps its digits."""
    f = Model.from_string(SKEW, "x", "a").lambdify(backend)
    reference = mpmath_skew(x, 3.0)
    for name, value in reference.items():
        got = float(np.ravel(getattr(f, name)(np.array([[x]]), a=3.0))[0])
        assert got == pytest.approx(value, rel=1e-12, abs=1e-12), (name, got, value)


def test_autograd_differentiates_the_stable_forms():
    f = Model.from_string(SKEW, "x", "a").lambdify("autograd")
    X = np.array([[-30.0], [-3.0], [0.5]])
    grad = autograd.grad(lambda a: anp.sum(f.log_density(X, a=a)))(3.0)
    eps = 1e-6
    fd = (np.sum(f.log_density(X, a=3.0 + eps)) - np.sum(f.log_density(X, a=3.0 - eps))) / (2 * eps)
    assert grad == pytest.approx(fd, rel=1e-7)
    source = Model.from_string(SKEW, "x", "a").lambdify().score.source
    assert "_erfcx(" in source and "erf(" not in source.replace("erfcx", "")
