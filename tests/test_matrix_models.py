"""Models in matrix notation: their compiled operators against the plain path's (SymPy's
derivatives of the same density written out entry by entry, with the same parameter values),
the SymPy MatrixSymbol spelling against the string, and bad input refused by name."""

import numpy as np
import pytest
import sympy

import scoresym as ss
from scoresym import ScoresymInputError
from scoresym.matrix_model import MatrixModel

D = 3


def _symbols(d=D):
    return sympy.symbols(f"x0:{d}", real=True)


def _ica(p, x):
    W = sympy.Matrix(p["W"])
    return -sum(sympy.log(sympy.cosh(e)) for e in W * sympy.Matrix(x))


def _rbm(p, x):
    W, c, b = sympy.Matrix(p["W"]), sympy.Matrix(p["c"]), sympy.Matrix(p["b"])
    a = W * sympy.Matrix(x) + c
    return (sum(sympy.log(1 + sympy.exp(e)) for e in a)
            - sum((xi - bi) ** 2 for xi, bi in zip(x, b)) / 2)


def _gaussian(p, x):
    L, b, v = sympy.Matrix(p["L"]), sympy.Matrix(p["b"]), sympy.Matrix(x)
    return (-(v.T * L * v)[0] / 2 + (b.T * v)[0])


def _pairwise(p, x):
    T, u = sympy.Matrix(p["Th"]), sympy.Matrix([xi**2 for xi in x])
    return -(u.T * T * u)[0] - sum(xi**4 for xi in x) / 4 + p["s"] * sum(xi**2 for xi in x)


def _random(rng, shapes):
    return {k: (rng.normal(size=s) * 0.5 if s else 0.7) for k, s in shapes.items() if k != "x"}


# (name, matrix notation, shapes, the same density entry by entry for numeric parameters)
CASES = [
    ("ica", "-sum(log(cosh(W @ x)))", {"x": (D,), "W": (D, D)}, _ica),
    ("rbm", "sum(log(1 + exp(W @ x + c))) - sum((x - b)**2)/2",
     {"x": (D,), "W": (4, D), "c": (4,), "b": (D,)}, _rbm),
    ("gaussian", "-x @ L @ x / 2 + b @ x", {"x": (D,), "L": (D, D), "b": (D,)}, _gaussian),
    ("pairwise", "-(x**2) @ Th @ (x**2) - sum(x**4)/4 + s*sum(x**2)",
     {"x": (D,), "Th": (D, D), "s": ()}, _pairwise),
]


@pytest.mark.parametrize("name, text, shapes, written_out", CASES, ids=[c[0] for c in CASES])
def test_matrix_operators_agree_with_the_plain_path(name, text, shapes, written_out):
    rng = np.random.default_rng(0)
    params = _random(rng, shapes)
    m = ss.Model.from_string(text, "x", list(shapes)[1:], shapes=shapes, kind="log")
    x = _symbols()
    numeric = {k: (v.tolist() if hasattr(v, "tolist") else sympy.Float(v))
               for k, v in params.items()}
    plain = ss.Model(log_density=written_out(numeric, x), variables=list(x))
    X = rng.normal(size=(20, D)) * 1.5
    for what in ("score", "laplacian", "hyvarinen"):
        ours = getattr(m, what)(X, **params)
        reference = getattr(plain.compiled(), what)(X)
        assert np.allclose(ours, reference, rtol=1e-10, atol=1e-12), what
    log_f = m.log_density(X, **params) - plain.compiled().log_density(X)
    assert np.allclose(log_f, log_f[0], atol=1e-10)  # equal up to a constant


@pytest.mark.parametrize("backend", ["numpy", "autograd"])
def test_the_score_is_the_gradient_of_the_log_density(backend):
    """An independent reference: autograd's gradient in x of the compiled log-density."""
    import autograd

    m = ss.Model.from_string(CASES[1][1], "x", "W c b", shapes=CASES[1][2], kind="log")
    rng = np.random.default_rng(1)
    params = _random(rng, CASES[1][2])
    X = rng.normal(size=(7, D))
    ops = m.compiled("autograd")
    gradient = autograd.elementwise_grad(lambda Y: ops.log_density(Y, **params))(X)
    assert np.allclose(m.compiled(backend).score(X, **params), gradient, rtol=1e-12)


def test_the_sympy_spelling_is_the_string_spelling():
    x, L, b = sympy.MatrixSymbol("x", D, 1), sympy.MatrixSymbol("L", D, D), \
        sympy.MatrixSymbol("b", D, 1)
    m = ss.Model(log_density=-(x.T * L * x) / 2 + b.T * x, variables=[x], params=[L, b])
    assert isinstance(m, MatrixModel) and m.shapes == {"L": (D, D), "b": (D,)}
    s = ss.Model.from_string("-x @ L @ x / 2 + b @ x", "x", "L b", shapes=CASES[2][2],
                             kind="log")
    rng = np.random.default_rng(2)
    params, X = _random(rng, CASES[2][2]), rng.normal(size=(5, D))
    for what in ("score", "laplacian", "hyvarinen", "log_density"):
        assert np.allclose(getattr(m, what)(X, **params), getattr(s, what)(X, **params))


def test_a_hundred_dimensional_model_is_one_line():
    d = 100
    m = ss.Model.from_string("-sum(log(cosh(W @ x)))", "x", "W",
                             shapes={"x": (d,), "W": (d, d)}, kind="log")
    rng = np.random.default_rng(3)
    W, X = rng.normal(size=(d, d)) / 10, rng.normal(size=(50, d))
    assert np.allclose(m.score(X, W=W), -np.tanh(X @ W.T) @ W)
    assert np.allclose(m.laplacian(X, W=W), -(1 - np.tanh(X @ W.T) ** 2) @ np.sum(W**2, axis=1))


BAD = [
    ("__import__('os')", "unknown function"),
    ("x.shape", "the only attribute is .T"),
    ("W @ W", "@ is allowed in"),
    ("sum(x) + x", "a vector cannot be added to a scalar term"),
    ("lambda: 1", "not allowed in matrix notation"),
    ("x[0]", "not allowed in matrix notation"),
    ("sum(W @ x + b)", "b has shape (2,)"),
    ("W @ x", "is a vector, not a log-density"),
    ("3", "does not depend on the variable"),
    ("x @ W @ (x**2)", "the same vector on both sides"),
    ("1 +", "cannot read"),
    ("sum(W.T @ x)", "transposed matrix parameters"),
    ("-sum(log(cosh(V @ x)))", "unknown name"),
    ("(" * 300 + "x" + ")" * 300, "cannot read"),
    ("sum(x)" + " + sum(x)" * 300, "characters"),
    ("-" * 1500 + "sum(x)", "nested too deeply"),
    ("sum(1e400*x)", "beyond the largest double"),
    ("sum(x)/0", "division by zero"),
    ("sum(sqrt(x))", "sqrt(t) is not real at t = -4.1"),
    ("sum(log(log(x)))", "is not real at t"),
    ("sum(x)\x00", "cannot read"),
    ("[sum(x)]", "not allowed in matrix notation"),
]


@pytest.mark.parametrize("text, fragment", BAD)
def test_bad_matrix_notation_is_refused_by_name(text, fragment):
    with pytest.raises(ScoresymInputError) as info:
        ss.Model.from_string(text, "x", "W b", shapes={"x": (D,), "W": (D, D), "b": (2,)},
                             kind="log")
    assert fragment in str(info.value)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(shapes={"x": (D, 2), "W": (D, D)}), "must be a vector"),
    (dict(shapes={"x": (D,), "W": (D, 0)}), "positive sizes"),
    (dict(shapes={"x": (D,), "W": "big"}), "tuple of positive integers"),
    (dict(shapes={"x": (D,), "W": (D, D), "Q": (D,)}), "neither the variable nor a parameter"),
    (dict(shapes={"x": (D,), "W": (D, D)}, kind="density"), "kind='log'"),
    (dict(shapes={"x": (D,), "W": (D, D)}, domain={"x": (0, 1)}), "lives on R^d"),
])
def test_bad_shapes_and_options_are_refused(kwargs, fragment):
    with pytest.raises(ScoresymInputError) as info:
        ss.Model.from_string("-sum(log(cosh(W @ x)))", "x", "W", **{"kind": "log", **kwargs})
    assert fragment in str(info.value)


@pytest.mark.parametrize("params, fragment", [
    ({}, "missing parameter(s): W"),
    ({"W": np.eye(2)}, "W must have shape (3, 3)"),
    ({"W": np.eye(3), "V": 1.0}, "unknown parameter(s): V"),
])
def test_bad_parameter_values_are_refused(params, fragment):
    m = ss.Model.from_string("-sum(log(cosh(W @ x)))", "x", "W",
                             shapes={"x": (D,), "W": (D, D)}, kind="log")
    with pytest.raises(ScoresymInputError) as info:
        m.score(np.zeros((2, D)), **params)
    assert fragment in str(info.value)


def test_a_gaussian_precision_fit_is_the_inverse_sample_covariance():
    """The reference is closed form: score matching's Gaussian estimate is L = S^-1 (S the
    biased sample covariance) and b = L mean; L enters only x^T L x, so it is fitted
    symmetric."""
    d = 4
    rng = np.random.default_rng(4)
    A = rng.normal(size=(d, d))
    X = rng.multivariate_normal(rng.normal(size=d), A @ A.T + np.eye(d), 3000)
    m = ss.Model.from_string("-x @ L @ x / 2 + b @ x", "x", "L b",
                             shapes={"x": (d,), "L": (d, d), "b": (d,)}, kind="log")
    r = ss.fit(m, X)
    L = np.linalg.inv(np.cov(X.T, bias=True))
    assert r.converged and m.symmetric_params == ["L"]
    assert m.quadratic_in_params and r.method == "closed_form"  # one linear solve
    # the optimization error is below 1e-3 of a standard error (the stationarity criterion)
    assert np.all(np.abs(r.params["L"] - L) < 1e-2 * r.stderr["L"])
    assert np.all(np.abs(r.params["b"] - L @ X.mean(axis=0)) < 1e-2 * r.stderr["b"])
    assert np.allclose(r.stderr["L"], r.stderr["L"].T) and np.all(r.stderr["L"] > 0)


def test_an_ica_fit_recovers_the_unmixing_matrix_up_to_signs_and_order():
    """Sources with density 1 / (pi cosh s) (the model's own), mixed by W^-1: the estimate's
    rows match W's, up to sign and order, within 4 standard errors."""
    d = 3
    rng = np.random.default_rng(5)
    W = np.eye(d) + 0.3 * rng.normal(size=(d, d))
    X = stats_hypsecant(rng, (6000, d)) @ np.linalg.inv(W).T
    m = ss.Model.from_string("-sum(log(cosh(W @ x)))", "x", "W",
                             shapes={"x": (d,), "W": (d, d)}, kind="log")
    r = ss.fit(m, X)
    assert r.converged and r.min_eigenvalue > 0 and r.iterations > 0
    estimate, stderr = r.params["W"], r.stderr["W"]
    order = [int(np.argmax(np.abs(estimate @ w) / np.linalg.norm(estimate, axis=1))) for w in W]
    assert sorted(order) == list(range(d))
    signs = np.sign([estimate[k] @ w for k, w in zip(order, W)])
    z = (estimate[order] * signs[:, None] - W) / stderr[order]
    assert np.all(np.abs(z) < 4), z
    assert "matrix model" in r.summary() and "W (3, 3)" in r.summary()


def stats_hypsecant(rng, size):
    from scipy import stats

    return stats.hypsecant.rvs(size=size, random_state=rng)


@pytest.mark.parametrize("kwargs, fragment", [
    (dict(weight="x"), "without a weight"),
    (dict(init={"V": np.eye(D)}), "unknown parameter(s): V"),
    (dict(init={"W": np.eye(2)}), "must be finite, of shape (3, 3)"),
    (dict(fixed={"W": np.eye(D)}), "every parameter is fixed"),
])
def test_bad_matrix_fits_are_refused(kwargs, fragment):
    m = ss.Model.from_string("-sum(log(cosh(W @ x)))", "x", "W",
                             shapes={"x": (D,), "W": (D, D)}, kind="log")
    with pytest.raises(ScoresymInputError) as info:
        ss.fit(m, np.random.default_rng(0).normal(size=(50, D)), **kwargs)
    assert fragment in str(info.value)


def test_softplus_and_log_cosh_stay_finite_far_out():
    """The elementwise functions go through the plain path's stable forms: at |w . x| = 800
    the RBM's softplus and its derivatives and log cosh's are finite and right."""
    m = ss.Model.from_string(CASES[1][1], "x", "W c b", shapes=CASES[1][2], kind="log")
    W = np.zeros((4, D))
    W[0, 0] = 1.0
    params = {"W": W, "c": np.zeros(4), "b": np.zeros(D)}
    X = np.array([[800.0, 0, 0], [-800.0, 0, 0]])
    assert np.allclose(m.log_density(X, **params), [800 - 320000 + 3 * np.log(2),
                                                   -320000 + 3 * np.log(2)])
    assert np.allclose(m.score(X, **params)[:, 0], [1 - 800, 0 + 800])
    assert np.allclose(m.laplacian(X, **params), [-D, -D])


GRADIENT_CASES = CASES + [
    ("ridge_and_offsets", "-(x**2) @ Th @ (x**2) + 2*sum(log(cosh(3*(V @ x) - 2*e)))",
     {"x": (D,), "Th": (D, D), "V": (2, D), "e": (2,)}, None),
    ("coordinate_and_linear", "sum(log(1 + exp(-(x - b)/2)))*3 + b @ sin(x)",
     {"x": (D,), "b": (D,)}, None),
    ("linear_ridge", "2*sum(W @ x) - sum(x**2)/2", {"x": (D,), "W": (D, D)}, None),
]


@pytest.mark.parametrize("name, text, shapes", [c[:3] for c in GRADIENT_CASES],
                         ids=[c[0] for c in GRADIENT_CASES])
def test_the_structured_gradient_in_the_parameters_is_autograds(name, text, shapes):
    """The chain rule through the structure (NumPy) against autograd through the compiled
    matrix products: the mean gradient and every point's own."""
    import autograd

    names = [k for k in shapes if k != "x"]
    m = ss.Model.from_string(text, "x", names, shapes=shapes, kind="log")
    numpy_ops, traced = m.compiled("numpy"), m.compiled("autograd")
    if not numpy_ops.structured_gradient:
        pytest.skip("scalar parameters: autograd's gradient is used")
    rng = np.random.default_rng(6)
    params, X = _random(rng, shapes), rng.normal(size=(30, D))
    value, gradient = numpy_ops.objective_gradient(X, params)
    reference = autograd.grad(lambda p: traced.hyvarinen(X, **p).mean())(params)
    assert value == pytest.approx(float(traced.hyvarinen(X, **params).mean()), rel=1e-13)
    h, per_point = numpy_ops.objective_gradient(X, params, per_point=True)
    for k in names:
        assert np.allclose(gradient[k], reference[k], rtol=1e-12, atol=1e-13), k
        one = autograd.grad(lambda p: traced.hyvarinen(X[:1], **p)[0])(params)[k]
        assert np.allclose(per_point[k][0], one, rtol=1e-12, atol=1e-13), k
        assert np.allclose(per_point[k].mean(axis=0), gradient[k], rtol=1e-12, atol=1e-13)


def test_a_fit_is_the_same_by_the_structured_gradient_and_by_autograd(monkeypatch):
    from scoresym.codegen.matrix_code import MatrixOperators

    d = 3
    rng = np.random.default_rng(7)
    X = stats_hypsecant(rng, (3000, d)) @ np.linalg.inv(np.eye(d) + 0.3 * rng.normal(
        size=(d, d))).T
    m = ss.Model.from_string("-sum(log(cosh(W @ x)))", "x", "W",
                             shapes={"x": (d,), "W": (d, d)}, kind="log")
    structured = ss.fit(m, X)
    monkeypatch.setattr(MatrixOperators, "structured_gradient", property(lambda self: False))
    traced = ss.fit(m, X)
    assert structured.converged and traced.converged
    # both stop within 1e-3 of a standard error of the same minimum
    assert np.all(np.abs(structured.params["W"] - traced.params["W"])
                  < 2e-3 * structured.stderr["W"])
    assert np.allclose(structured.stderr["W"], traced.stderr["W"], rtol=1e-3)


@pytest.mark.parametrize("text, score, laplacian", [
    ("b @ x", lambda X, b: b + 0 * X, lambda X, b: 0 * X[:, 0]),
    ("b @ x - sum(x**2)/2", lambda X, b: b - X, lambda X, b: -D + 0 * X[:, 0]),
])
def test_constant_and_linear_scores_have_the_shape_of_the_points(text, score, laplacian):
    m = ss.Model.from_string(text, "x", "b", shapes={"x": (D,), "b": (D,)}, kind="log")
    X, b = np.random.default_rng(8).normal(size=(4, D)), np.arange(1.0, D + 1)
    assert m.score(X, b=b).shape == (4, D) and m.laplacian(X, b=b).shape == (4,)
    assert np.allclose(m.score(X, b=b), score(X, b))
    assert np.allclose(m.laplacian(X, b=b), laplacian(X, b))


@pytest.mark.parametrize("k", [1, 2])
def test_a_ridge_term_linear_in_x_has_a_constant_score(k):
    """g(t) = k t: g' is the number k and g'' the number 0, broadcast to the points."""
    m = ss.Model.from_string(f"{k}*sum(W @ x) - sum(x**2)/2", "x", "W",
                             shapes={"x": (D,), "W": (D, D)}, kind="log")
    X, W = np.random.default_rng(9).normal(size=(5, D)), np.arange(9.0).reshape(D, D) / 10
    score = k * W.sum(axis=0) - X
    assert np.allclose(m.score(X, W=W), score)
    assert np.allclose(m.hyvarinen(X, W=W), 0.5 * np.sum(score**2, axis=1) - D)


CHECKS = [ss.check_finite_differences, ss.check_autodiff]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name, text, shapes, written_out", CASES, ids=[c[0] for c in CASES])
def test_matrix_models_pass_the_derivative_checks(check, name, text, shapes, written_out):
    m = ss.Model.from_string(text, "x", list(shapes)[1:], shapes=shapes, kind="log")
    params = _random(np.random.default_rng(4), shapes)
    result = check(m, params, seed=1)
    assert result.ok, result


# (operator, wrong by): a score off by 1e-4 relative, a Laplacian off by 1e-2
WRONG = [("score", lambda value: value * (1 + 1e-4)), ("laplacian", lambda value: value + 1e-2)]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("operator, wrong", WRONG, ids=[w[0] for w in WRONG])
def test_the_derivative_checks_catch_a_wrong_matrix_operator(check, operator, wrong,
                                                             monkeypatch):
    from scoresym.codegen.matrix_code import MatrixOperators

    right = getattr(MatrixOperators, operator)
    monkeypatch.setattr(MatrixOperators, operator,
                        lambda self, X, **p: wrong(right(self, X, **p)))
    m = ss.Model.from_string(CASES[0][1], "x", "W", shapes=CASES[0][2], kind="log")
    result = check(m, _random(np.random.default_rng(5), CASES[0][2]), seed=2)
    assert not result.ok and result.details["worst"] in (operator, "hyvarinen",
                                                          "hyvarinen_mean"), result


@pytest.mark.parametrize("call", [
    lambda m, p: ss.check_stein(m, p),
    lambda m, p: ss.check_boundary(m, p),
    lambda m, p: ss.derive(m),
    lambda m, p: ss.maximum_likelihood(m, np.zeros((5, D))),
    lambda m, p: m.hessian,
], ids=["stein", "boundary", "derive", "maximum_likelihood", "hessian"])
def test_functions_for_scalar_parameters_refuse_a_matrix_model_by_name(call):
    m = ss.Model.from_string(CASES[0][1], "x", "W", shapes=CASES[0][2], kind="log")
    with pytest.raises(ScoresymInputError, match="matrix notation"):
        call(m, {"W": np.eye(D)})
