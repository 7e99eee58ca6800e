"""Models whose parameters are matrices and vectors, written in matrix notation (one line at any
d) or with SymPy MatrixSymbols, and evaluated with matrix products.

>>> import numpy as np, scoresym as ss
>>> m = ss.Model.from_string("-sum(log(cosh(W @ x)))", variables="x", params="W",
...                          shapes={"x": (3,), "W": (3, 3)}, kind="log")
>>> m
MatrixModel('-sum(log(cosh(W @ x)))', x: (3,), W: (3, 3))
>>> W = np.eye(3)
>>> X = np.array([[0.1, 0.2, 0.3]])
>>> bool(np.allclose(m.score(X, W=W), -np.tanh(X)))
True
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import sympy

from .codegen.functions import as_points
from .codegen.matrix_code import MatrixOperators, ScalarFunction
from .errors import NotForMatrixModels, ScoresymInputError
from .symbolic.expressions import split_names
from .symbolic.matrix_notation import (
    MatrixStructure,
    Quadratic,
    Ridge,
    T,
    names_in_term,
    parse_matrix_model,
    structure_of,
)


class MatrixModel:
    """log f(x; theta) as a sum of ridge, coordinate, quadratic and linear terms (see
    :mod:`scoresym.symbolic.matrix_notation`), parameters by name with their ``shapes``."""

    def __init__(self, structure: MatrixStructure, text: str):
        self.structure, self.text = structure, text
        _require_real_functions(structure)

    @classmethod
    def from_string(cls, text, variables, params=(), shapes=None, kind="log") -> MatrixModel:
        """The model of ``text`` in matrix notation: ``variables`` the name of the vector x,
        ``params`` the parameters' names, ``shapes`` {name: shape} of x and of every matrix or
        vector parameter (the others are scalars); ``kind`` must be "log"."""
        _require_log(kind)
        (variable,) = _one_variable(variables)
        structure = parse_matrix_model(text, variable, shapes,
                                       split_names(params, "parameter") if params else None)
        return cls(structure, text)

    @classmethod
    def from_matrix_expression(cls, expr, variables, params=()) -> MatrixModel:
        """The model of a SymPy matrix expression in MatrixSymbols: ``variables`` [x] with x a
        (d, 1) MatrixSymbol, ``params`` MatrixSymbols (d, d) or (d, 1), or scalar Symbols."""
        (x,) = _one_variable(variables)
        structure = structure_of(expr, x, list(params))
        return cls(structure, str(expr))

    @property
    def dim(self) -> int:
        return self.structure.dim

    @property
    def param_names(self) -> list:
        return [k for k in self.structure.shapes if k != self.structure.variable]

    @property
    def quadratic_in_params(self) -> bool:
        """Whether the Hyvarinen integrand is a polynomial of degree <= 2 in the parameters:
        the score is then linear in them (quadratic and linear forms with numeric coefficients
        in a phi free of parameters, coordinate terms with numeric coefficients whose g is a
        polynomial of degree <= 2), and the fit is one linear solve.

        >>> ss = __import__("scoresym")
        >>> ss.Model.from_string("-x @ L @ x / 2 + b @ x", "x", "L b", kind="log",
        ...     shapes={"x": (2,), "L": (2, 2), "b": (2,)}).quadratic_in_params
        True
        """
        return all(_linear_score(t) for t in self.structure.terms)

    @property
    def symmetric_params(self) -> list:
        """Matrices that enter only quadratic forms u^T M u, where only M + M^T matters (a
        fit takes them symmetric)."""
        quadratic = {t.M for t in self.structure.terms if isinstance(t, Quadratic)}
        elsewhere = {name for t in self.structure.terms if not isinstance(t, Quadratic)
                     for name in names_in_term(t)}
        return sorted(quadratic - elsewhere)

    @property
    def shapes(self) -> dict:
        return {k: v for k, v in self.structure.shapes.items() if k != self.structure.variable}

    def compiled(self, backend: str = "numpy") -> MatrixOperators:
        """The operators as matrix-product code on ``backend`` ("numpy" or "autograd")."""
        return self._compiled(backend)

    def _compiled(self, backend):
        cache = self.__dict__.setdefault("_operators", {})
        if backend not in cache:
            cache[backend] = MatrixOperators(self.structure, backend)
        return cache[backend]

    @cached_property
    def _numpy(self) -> MatrixOperators:
        return self._compiled("numpy")

    def _call(self, what: str, X, params: dict):
        X = as_points(X, self.dim)
        arrays = {k: np.asarray(v, dtype=float) if self.shapes.get(k, ()) != () else v
                  for k, v in params.items()}
        with np.errstate(over="ignore"):
            return getattr(self._numpy, what)(X, **arrays)

    def log_density(self, X, **params) -> np.ndarray:
        """log f up to its normalizing constant at the points X (n, d): (n,)."""
        return self._call("log_density", X, params)

    def score(self, X, **params) -> np.ndarray:
        """grad_x log f: (n, d)."""
        return self._call("score", X, params)

    def laplacian(self, X, **params) -> np.ndarray:
        """The Laplacian of log f: (n,)."""
        return self._call("laplacian", X, params)

    def hyvarinen(self, X, **params) -> np.ndarray:
        """The Hyvarinen integrand |score|^2 / 2 + Laplacian: (n,)."""
        return self._call("hyvarinen", X, params)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {v}" for k, v in self.structure.shapes.items())
        return f"MatrixModel({self.text!r}, {shapes})"

    def __getattr__(self, name: str):
        """What a model with scalar parameters has and this one has not (its symbolic score,
        sampler, domain, ...): an error that says what a matrix model offers instead.

        >>> m = MatrixModel.from_string("-sum(log(cosh(W @ x)))", "x", "W",
        ...                             shapes={"x": (2,), "W": (2, 2)})
        >>> m.sampler  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        scoresym.errors.NotForMatrixModels: a model in matrix notation has no 'sampler' ...
        """
        if name.startswith("_"):
            raise AttributeError(name)
        raise NotForMatrixModels(
            f"a model in matrix notation has no {name!r} (it is for models with scalar "
            f"parameters); this one ({self.text}) is evaluated by .log_density, .score, "
            f".laplacian and .hyvarinen, fitted by scoresym.fit and checked by "
            f"scoresym.check_finite_differences and scoresym.check_autodiff")


def _require_log(kind) -> None:
    if kind != "log":
        raise ScoresymInputError(f"a model in matrix notation is given by its log-density: "
                                 f"kind='log', got kind={kind!r}")


def _one_variable(variables) -> list:
    if isinstance(variables, str):
        names = split_names(variables, "variable")
    else:
        names = [variables] if isinstance(variables, sympy.MatrixSymbol) else list(variables)
    if len(names) != 1:
        raise ScoresymInputError(f"a model in matrix notation has one vector variable, got "
                                 f"{len(names)}")
    return names


def _linear_score(term) -> bool:
    """Whether a term's score is linear in the parameters (see quadratic_in_params)."""
    if isinstance(term, Ridge):
        coefficients = [term.scale] + [c for c, _ in term.offsets]
        polynomial = sympy.Poly(term.g, T) if term.g.is_polynomial(T) else None
        return (term.W is None and all(sympy.sympify(c).is_number for c in coefficients)
                and polynomial is not None and polynomial.degree() <= 2
                and all(c.is_number for c in polynomial.coeffs()))
    constant = [term.coef, term.arg.scale] + [c for c, _ in term.arg.offsets]
    return (not term.arg.offsets and all(sympy.sympify(c).is_number for c in constant)
            and not (term.u.free_symbols - {T}))


#: Where each elementwise function free of scalar parameters must be real and finite: a model
#: in matrix notation lives on R^d, and its terms' arguments take every real value.
PROBES = (-4.1, -1.7, -0.3, 0.3, 1.7, 4.1)


def _require_real_functions(structure) -> None:
    """Refuse a term whose function g (or phi) is not real on the real line (log(t), sqrt(t)
    at t < 0): log f would be NaN on half of R^d."""
    for term in structure.terms:
        f = term.g if isinstance(term, Ridge) else term.u
        if f.free_symbols - {T}:
            continue
        with np.errstate(all="ignore"):
            values = ScalarFunction(f, {}, "numpy")(np.array(PROBES), {})[0]
        bad = [t for t, v in zip(PROBES, values * np.ones(len(PROBES))) if not np.isfinite(v)]
        if bad:
            shown = f.xreplace({T: sympy.Symbol("t")})
            raise ScoresymInputError(f"the elementwise function {shown} is not real at "
                                     f"t = {bad[0]}; a model in matrix notation lives on R^d, "
                                     f"where every argument takes every real value")
