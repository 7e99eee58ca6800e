"""The fast path (linear forms evaluated with matrix products) against the plain path."""

import numpy as np
import pytest
import sympy

from scoresym import Model, zoo
from scoresym.codegen.fastpath import linear_structure
from scoresym.numerics.differences import probe_points

OPERATORS = ("log_density", "score", "hessian", "laplacian", "hyvarinen")


def structured_models():
    """Models with the structure, beyond the built-in log-cosh: parameters inside g and h,
    offsets c, no coordinate part, and the built-in of several sizes."""
    x, y, z = sympy.symbols("x y z", real=True)
    a = sympy.Symbol("a", positive=True)
    b = sympy.Symbol("b", real=True)
    student = Model(-a * sympy.log(1 + (x - 2 * y + 1) ** 2) - a * sympy.log(1 + (x + y + z) ** 2)
                    - a * sympy.log(1 + (y - z / 2) ** 2) - b * (x**4 + y**4 + z**4) / 4
                    - (x**2 + y**2 + z**2) / 2, [x, y, z], [a, b], name="student_forms")
    pure = Model(-sympy.log(sympy.cosh(x + y)) - sympy.log(sympy.cosh(x - y))
                 - sympy.log(sympy.cosh(2 * x + y / 3)) + sympy.log(3) - b**2, [x, y], [b],
                 name="no_coordinate_part_and_a_constant")
    return [(student, {"a": 1.5, "b": 0.3}), (pure, {"b": 0.7})] + \
        [(zoo.logcosh(d).model, {}) for d in (2, 3, 7)]


@pytest.mark.parametrize("model, params", structured_models(), ids=lambda v: getattr(v, "name", ""))
@pytest.mark.parametrize("backend", ["numpy", "autograd"])
def test_fast_path_equals_the_plain_path(model, params, backend):
    assert linear_structure(model) is not None
    fast, plain = model.lambdify(backend, fast=True), model.lambdify(backend, fast=False)
    X = probe_points(model, 40, np.random.default_rng(1))
    for name in OPERATORS:
        assert "fast path" in repr(getattr(fast, name))
        np.testing.assert_allclose(getattr(fast, name)(X, **params),
                                   getattr(plain, name)(X, **params), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", zoo.names())
def test_every_builtin_gives_the_same_numbers_on_either_path(name):
    b = zoo.get(name)
    X = probe_points(b.model, 20, np.random.default_rng(2))
    fast, plain = b.model.lambdify(fast=True), b.model.lambdify(fast=False)
    for operator in OPERATORS:
        np.testing.assert_allclose(getattr(fast, operator)(X, **b.truth),
                                   getattr(plain, operator)(X, **b.truth), rtol=1e-12,
                                   atol=1e-12)


def test_fast_functions_show_matrix_products_and_keep_the_expression():
    m = zoo.logcosh(3).model
    f = m.lambdify()
    assert "U = X @ W.T + c" in f.score.source and "tanh" in f.score.source
    assert f.score.expr == m.score  # derived on first access only
    assert f.hessian(np.zeros((2, 3))).shape == (2, 3, 3)


NOT_STRUCTURED = [
    "-log(cosh(x + y)) - (x + y)**4",          # two templates
    "-log(cosh(x + y)) - x*y",                  # a term coupling coordinates
    "-log(cosh(x + y)) - log(cosh(x - y)) - x**2 - y**4",  # different coordinate parts
    "-log(cosh(x + y))",                        # a single form: nothing to gain
]


@pytest.mark.parametrize("text", NOT_STRUCTURED)
def test_models_without_the_structure_use_the_plain_path(text):
    m = Model.from_string(text, "x y", kind="log")
    assert linear_structure(m) is None
    assert "fast path" not in repr(m.lambdify().score)
