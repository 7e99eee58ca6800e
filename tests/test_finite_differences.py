"""The finite-difference check passes on correct code and fails on wrong derivatives."""

import numpy as np
import pytest
import sympy

from scoresym import Model, zoo
from scoresym.checks import CheckResult, check_finite_differences
from scoresym.codegen.functions import CompiledFunction
from scoresym.numerics.differences import fd_gradient, fd_hessian


def tampered(builtin, quantity, expr_of):
    """The builtin's model with one compiled operator replaced by a wrong one."""
    m = builtin.model
    f = m.lambdify()
    shape = {"score": "vector", "hessian": "matrix"}.get(quantity, "scalar")
    wrong = CompiledFunction(quantity, expr_of(m), m.variables, m.params, shape)
    setattr(f, quantity, wrong)
    return m


WRONG = [
    ("score", lambda m: -m.score),  # a sign flip
    ("hessian", lambda m: m.hessian * 1.001),  # 0.1% off
    ("laplacian", lambda m: m.laplacian + sympy.Rational(1, 1000)),
    ("hyvarinen", lambda m: sympy.Rational(1, 2) * m.laplacian
     + sympy.Rational(1, 2) * sum(s**2 for s in m.score)),  # half the trace
]


@pytest.mark.parametrize("name", ["gaussian_1d", "gaussian_mixture_2d", "logcosh_3d"])
@pytest.mark.parametrize("quantity, expr_of", WRONG)
def test_a_wrong_operator_fails_the_check_and_is_named(name, quantity, expr_of):
    b = zoo.get(name)
    result = check_finite_differences(tampered(b, quantity, expr_of), b.truth, seed=0)
    assert not result.ok
    assert result.details["worst"] == quantity
    errors, tolerances = result.details["errors"], result.details["tolerances"]
    assert [q for q in errors if errors[q] > tolerances[q]] == [quantity]


def test_finite_differences_match_closed_forms():
    m = Model.from_string("-x**4/4 + x*y - y**2", "x y", kind="log")
    f = m.lambdify()
    X = np.array([[0.5, -1.0], [1.5, 2.0]])
    x, y = X[:, 0], X[:, 1]
    np.testing.assert_allclose(fd_gradient(f.log_density, X, {}),
                               np.column_stack([-x**3 + y, x - 2 * y]), rtol=1e-9)
    expected = np.stack([np.stack([-3 * x**2, np.ones(2)], 1),
                         np.stack([np.ones(2), -2 * np.ones(2)], 1)], 1)
    np.testing.assert_allclose(fd_hessian(f.log_density, X, {}), expected, rtol=1e-6, atol=1e-6)


def test_results_describe_themselves():
    b = zoo.get("student_t")
    result = check_finite_differences(b.model, b.truth, n=5, seed=1)
    assert result.name == "finite_differences[student_t]"
    assert isinstance(result, CheckResult) and result.stderr is None
    assert set(result.details["errors"]) == {"score", "hessian", "laplacian", "hyvarinen"}
    assert str(result).endswith("(finite differences): ok")


def test_check_result_fails_on_non_finite_values():
    assert not CheckResult("nan", float("nan"), 1.0, 0.0, 1.0).ok
    assert not CheckResult("big", 1.0, 2.0, 1.0, 0.5).ok
    assert "FAILED" in str(CheckResult("big", 1.0, 2.0, 1.0, 0.5))
    assert "FAILED" in CheckResult("big", 1.0, 2.0, 1.0, 0.5)._repr_html_()


def test_points_stay_inside_the_domain():
    b = zoo.get("exponential")
    assert check_finite_differences(b.model, b.truth, n=200, seed=2).ok
