"""Test functions g: R^d -> R^d for Stein's identity and boundary terms, from what users pass.

Invariant: a test function is either symbolic (a d x 1 SymPy Matrix in the model's variables and
parameters, parsed safely from strings) or a row-wise callable on (n, d) arrays written with
``autograd.numpy``, whose divergence autograd computes exactly with d backward passes.

>>> from scoresym import zoo
>>> m = zoo.get("gaussian_mixture_2d").model
>>> field = vector_field(m, "x1**2, x2")
>>> field.label, field.symbolic.T
('g=(x1**2, x2)', Matrix([[x1**2, x2]]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy

from ..errors import ScoresymInputError
from .expressions import parse_expression, require_shallow, split_top_level


@dataclass(frozen=True)
class VectorField:
    """A test function g, symbolic (``symbolic``) or a callable (``function``), with a label."""

    label: str
    symbolic: sympy.Matrix | None = None
    function: Callable | None = None


def default_field(model) -> sympy.Matrix:
    """The default test function g_i(x) = x_i + x_i^2: non-trivial, polynomial, and zero at 0."""
    return sympy.Matrix([v + v**2 for v in model.variables])


def vector_field(model, test_function) -> VectorField:
    """Interpret ``test_function``: None (the default), a string ("x1**2, x2"), a SymPy
    expression (d = 1), a sequence of strings or expressions, a Matrix, or a callable."""
    if test_function is None:
        g = default_field(model)
        return VectorField(_label(g), symbolic=g)
    if callable(test_function) and not isinstance(test_function, sympy.Basic):
        name = getattr(test_function, "__name__", "callable")
        return VectorField(f"g={name}", function=test_function)
    g = _symbolic_field(model, test_function)
    return VectorField(_label(g), symbolic=g)


def _symbolic_field(model, spec) -> sympy.Matrix:
    names = {s.name: s for s in model.variables + model.params}
    if isinstance(spec, str):
        parts = split_top_level(spec)
    elif isinstance(spec, sympy.MatrixBase):
        parts = list(spec)
    elif isinstance(spec, sympy.Expr):
        parts = [spec]
    else:
        try:
            parts = list(spec)
        except TypeError:
            raise ScoresymInputError(
                f"test_function must be a string, SymPy expression(s) or a callable, "
                f"got {type(spec).__name__}") from None
    exprs = [parse_expression(p, names) if isinstance(p, str) else _checked(p, names)
             for p in parts]
    if len(exprs) != model.dim:
        raise ScoresymInputError(
            f"test_function has {len(exprs)} component(s), the model has d = {model.dim}")
    return sympy.Matrix(exprs)


def _checked(expr, names: dict) -> sympy.Expr:
    expr = sympy.sympify(expr) if isinstance(expr, (int, float)) else expr
    if not isinstance(expr, sympy.Expr):
        raise ScoresymInputError(f"test_function component {expr!r} is not an expression")
    require_shallow(expr, "test_function")
    unknown = sorted(s.name for s in expr.free_symbols if s not in set(names.values()))
    if unknown:
        raise ScoresymInputError(f"undeclared symbol(s) in test_function: {', '.join(unknown)}")
    return expr


def _label(g: sympy.Matrix) -> str:
    items = [str(e) for e in g]
    return f"g={items[0]}" if len(items) == 1 else f"g=({', '.join(items)})"
