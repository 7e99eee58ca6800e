"""Model: exact symbolic operators, clean logs, kinds, domains, and errors that name the problem."""

import pytest
import sympy

from scoresym import Model, ScoresymInputError

oo = sympy.oo


@pytest.fixture
def gaussian():
    return Model.from_string("exp(-(x - mu)**2 / (2*s2))", variables="x", params="mu s2",
                             positive="s2")


def test_gaussian_operators_are_the_seeds_formulas_exactly(gaussian):
    x, (mu, s2) = gaussian.variables[0], gaussian.params
    assert gaussian.log_density == -(x - mu) ** 2 / (2 * s2)
    assert gaussian.score[0] == (mu - x) / s2
    assert gaussian.hessian == sympy.Matrix([[-1 / s2]])
    assert gaussian.laplacian == -1 / s2
    expected = -1 / s2 + (x - mu) ** 2 / (2 * s2**2)
    assert sympy.simplify(gaussian.hyvarinen - expected) == 0
    assert str(gaussian.score[0]) == "(mu - x)/s2"


def test_symbols_carry_the_declared_assumptions(gaussian):
    x, (mu, s2) = gaussian.variables[0], gaussian.params
    assert x.is_real and mu.is_real and s2.is_positive
    assert gaussian.dim == 1


def test_the_normalizing_constant_has_no_score():
    x, mu = sympy.symbols("x mu", real=True)
    Z = sympy.Function("Z")(mu)
    f = sympy.exp(-(x - mu) ** 4)
    normalized = Model.from_expression(f / Z, [x], [mu])
    unnormalized = Model.from_expression(f, [x], [mu])
    assert normalized.log_density.has(Z)
    assert sympy.simplify(normalized.score[0] - unnormalized.score[0]) == 0
    assert not normalized.score[0].has(Z)
    assert normalized.hyvarinen == unnormalized.hyvarinen


CLEAN_LOGS = [
    # (density string, variables, params, expected log f as a string)
    ("exp(-(x - mu)**2/(2*s2))", "x", "mu s2", "-(x - mu)**2/(2*s2)"),
    ("3*exp(-x**2)*exp(x)", "x", "", "log(3) - x**2 + x"),
    ("x**2*exp(-x)", "x", "", "2*log(x) - x"),  # x > 0 from its domain
    ("(1 + x**2)**(-3)", "x", "", "-3*log(x**2 + 1)"),
    ("exp(-x**2) + exp(-(x - 2)**2)", "x", "", "log(exp(-x**2) + exp(-(x - 2)**2))"),
]


@pytest.mark.parametrize("text, variables, params, expected", CLEAN_LOGS)
def test_log_density_is_written_cleanly(text, variables, params, expected):
    domain = {"x": (0, oo)} if "log(x)" in expected else None
    m = Model.from_string(text, variables, params, domain=domain, positive=params.split()[1:])
    reference = Model.from_string(expected, variables, params, kind="log", domain=domain,
                                  positive=params.split()[1:]).log_density
    assert sympy.simplify(m.log_density - reference) == 0
    assert m.log_density == reference


def test_kinds_agree():
    density = Model.from_string("exp(a*x**2 - x**4/4)", "x", "a")
    log = Model.from_string("a*x**2 - x**4/4", "x", "a", kind="log")
    energy = Model.from_string("x**4/4 - a*x**2", "x", "a", kind="energy")
    assert density.log_density == log.log_density == energy.log_density
    assert density.score == energy.score


def test_variables_and_params_accept_strings_sequences_and_symbols():
    x, y, mu = sympy.symbols("x y mu", real=True)
    a = Model(-(x - mu) ** 2 - y**2, variables=[x, y], params=[mu])
    b = Model.from_string("-(x - mu)**2 - y**2", "x, y", ["mu"], kind="log")
    assert a.variables == (x, y) and a.params == (mu,)
    assert b.variables == (x, y) and b.params == (mu,)
    assert a.score == b.score


def test_domain_makes_a_half_line_variable_positive():
    m = Model.from_string("exp(-lam*x)", "x", "lam", positive="lam", domain={"x": (0, "oo")})
    x = m.variables[0]
    assert x.is_positive
    assert m.domain == {x: (0, oo)}
    assert m.score[0] == -m.params[0]


def test_operators_are_cached(gaussian):
    assert gaussian.score is gaussian.score
    assert gaussian.hyvarinen is gaussian.hyvarinen
    assert gaussian.lambdify() is gaussian.lambdify()


def test_hessian_is_symmetric_and_its_trace_is_the_laplacian():
    m = Model.from_string("-x**4 - x*y*z + log(cosh(x + 2*y)) - z**2", "x y z", kind="log")
    assert m.hessian == m.hessian.T
    assert sympy.simplify(m.hessian.trace() - m.laplacian) == 0
    for i, v in enumerate(m.variables):
        for j, w in enumerate(m.variables):
            assert sympy.simplify(m.hessian[i, j] - sympy.diff(m.log_density, v, w)) == 0


def test_fisher_integrand_of_two_gaussians_has_the_closed_form():
    data = Model.from_string("-x**2/2", "x", kind="log")
    model = Model.from_string("-(x - mu)**2/(2*s2)", "x", "mu s2", kind="log", positive="s2")
    x, (mu, s2) = model.variables[0], model.params
    expected = ((mu - x) / s2 + x) ** 2 / 2
    assert sympy.simplify(model.fisher_integrand(data) - expected) == 0


def test_fisher_integrand_renames_clashing_data_parameters():
    m = Model.from_string("-(x - mu)**2/2", "x", "mu", kind="log")
    names = {s.name for s in m.fisher_integrand(m).free_symbols}
    assert names == {"mu", "mu_data"}


BAD_MODELS = [
    (dict(text="exp(-x**2)", variables="x", params="x"), "declared twice"),
    (dict(text="exp(-x**2)", variables="", params=""), "at least one variable"),
    (dict(text="exp(-mu**2)", variables="x", params="mu"), "does not depend on the variables"),
    (dict(text="exp(-x**2)", variables="x", positive="s2"), "not declared: s2"),
    (dict(text="exp(-x**2)", variables="x", kind="pdf"), "kind must be one of"),
    (dict(text="exp(-x**2)", variables="x", domain={"y": (0, 1)}), "not a variable"),
    (dict(text="exp(-x**2)", variables="x", domain={"x": (1, 0)}), "is empty"),
    (dict(text="exp(-x**2)", variables="x", domain={"x": (0, "one")}), "must be a number"),
    (dict(text="exp(-x**2)", variables="x", domain={"x": 0}), "must be a pair"),
    (dict(text="-2*exp(-x**2)", variables="x"), "not positive"),
    (dict(text="exp(-x**2) * sqrt(-1)", variables="x"), "'sqrt(-1)' is not a real number"),
    (dict(text="sin(-1) * exp(-x**2)", variables="x"), "factor sin(-1) that is not positive"),
    (dict(text="log(0) * exp(-x**2)", variables="x"), "'log(0)' is not finite"),
    (dict(text="acos(2) * exp(-x**2)", variables="x"), "'acos(2)' is not a real number"),
    (dict(text="log(-1) - x**2", variables="x", kind="log"), "'log(-1)' is not a real number"),
    (dict(text="0 * exp(-x**2)", variables="x"), "constant factor 0 that is zero"),
    (dict(text="exp(sin(10**4000*x))", variables="x"), "double precision cannot hold"),
    (dict(text="exp(-x**(10**1000))", variables="x"), "double precision cannot hold"),
    (dict(text="-x**2 * 10**(-400)", variables="x", kind="log"), "underflows to 0"),
    (dict(text="exp(-x**2)", variables="x exp"), "shadows the function"),
]


@pytest.mark.parametrize("kwargs, fragment", BAD_MODELS)
def test_bad_models_are_refused_with_a_clear_message(kwargs, fragment):
    with pytest.raises(ScoresymInputError) as info:
        Model.from_string(**kwargs)
    assert fragment in str(info.value)


def test_sympy_expressions_with_undeclared_symbols_are_refused():
    x, y = sympy.symbols("x y", real=True)
    with pytest.raises(ScoresymInputError, match="undeclared symbol.*y"):
        Model(-x**2 - y**2, variables=[x])


def test_positive_listed_symbol_without_the_assumption_is_refused():
    x, s = sympy.symbols("x s", real=True)
    with pytest.raises(ScoresymInputError, match="listed as positive"):
        Model(-x**2 / s, [x], [s], positive="s")


def test_repr_names_the_model(gaussian):
    assert "variables (x); params (mu, s2)" in repr(gaussian)
    assert gaussian._repr_latex_().startswith("$")


X_REAL = sympy.Symbol("x", real=True)
BAD_SYMPY_MODELS = [
    (-X_REAL**2 * sympy.Float("1e400"), "overflows"),
    (-X_REAL**2 * sympy.Float("1e-400"), "underflows to 0"),
    (-X_REAL**2 + sympy.nan, "not a finite real expression"),
    (-X_REAL**2 + sympy.oo, "not a finite real expression"),
    (-X_REAL**2 + sympy.I, "not a finite real expression"),
    (-X_REAL**2 + sympy.log(-2, evaluate=False), "not a real number"),
]


@pytest.mark.parametrize("log_density, fragment", BAD_SYMPY_MODELS)
def test_sympy_log_densities_with_unusable_constants_are_refused(log_density, fragment):
    with pytest.raises(ScoresymInputError, match=fragment):
        Model(log_density, [X_REAL])


def test_large_but_representable_constants_work():
    m = Model.from_string("exp(1000) * exp(-x**2)", "x")
    assert m.log_density == 1000 - m.variables[0] ** 2
    assert m.lambdify().log_density([0.0])[0] == 1000.0


@pytest.mark.parametrize("bound, expected", [
    ("pi", sympy.pi), ("-pi/2", -sympy.pi / 2), ("sqrt(2)", sympy.sqrt(2)),
    ("0.1", sympy.Rational(1, 10)), ("-inf", -sympy.oo), (sympy.pi, sympy.pi),
    (2.5, sympy.Rational(5, 2))])
def test_domain_bounds_may_be_constant_expressions_kept_exact(bound, expected):
    upper = 0 if expected == -sympy.oo else "oo"
    m = Model.from_string("exp(-x**2)", "x", domain={"x": (bound, upper)})
    assert m.domain[m.variables[0]][0] == expected


@pytest.mark.parametrize("bound, fragment", [
    ("y", "undeclared"), ("log(0)", "not finite"), ("pi*I", "undeclared"),
    ("__import__('os')", "not allowed"), ("1/0", "division by zero"), ("nan", "number")])
def test_domain_bounds_that_are_not_finite_real_constants_are_refused(bound, fragment):
    with pytest.raises(ScoresymInputError, match=fragment):
        Model.from_string("exp(-x**2)", "x", domain={"x": (bound, "oo")})
