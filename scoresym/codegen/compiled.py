"""The compiled operators of a Model, each compiled on first use, on the fast path where the
model has a linear structure and on the plain path otherwise.

>>> from scoresym import zoo
>>> f = zoo.get("gaussian_1d").model.lambdify()
>>> f.score
<compiled vector score(X, mu=, s2=) [numpy]>
"""

from __future__ import annotations

from functools import cached_property

from ..chunks import is_chunked
from ..memo import PerModel
from . import backends
from .fastpath import FastModel, linear_structure
from .functions import CompiledFunction, GeneratedFunction, as_points, lazily, require_inside

#: The linear structure of each model (or None), found once per model.
_STRUCTURES = PerModel()


class CompiledModel:
    """The compiled operators of a :class:`~scoresym.model.Model`, each compiled on first use.

    ``log_density`` (n,), ``score`` (n, d), ``hessian`` (n, d, d), ``laplacian`` (n,) and
    ``hyvarinen`` (n,): each a :class:`CompiledFunction` called as ``f(X, **params)``.
    """

    def __init__(self, model, backend: str = "numpy", fast: bool = True):
        backends.backend(backend)  # validates the name
        self.model, self.backend, self.fast = model, backend, fast

    @cached_property
    def _fast(self):
        """The fast-path operators when the model has a linear structure, else None."""
        if not self.fast:
            return None
        structure = _STRUCTURES.get(self.model, "linear structure",
                                    lambda: linear_structure(self.model))
        return None if structure is None else FastModel(self.model, structure, self.backend)

    def compile(self, name: str, build, shape: str) -> CompiledFunction:
        """Compile ``build(operators)``, an expression built from the model's operators
        (e.g. ``lambda ops: ops.score.T * g``), evaluated in its numerically stable form.

        >>> from scoresym import zoo
        >>> f = zoo.get("gaussian_1d").model.lambdify()
        >>> norm = f.compile("norm", lambda ops: ops.score.dot(ops.score), "scalar")
        >>> norm.expr
        (mu - x)**2/s2**2
        """
        m = self.model
        stable, shifts = m.stable_operators
        return CompiledFunction(name, build(m.operators), m.variables, m.params, shape,
                                self.backend, compiled_expr=build(stable), shifts=shifts)

    def _compile(self, name: str, shape: str):
        if self._fast is not None:
            return getattr(self._fast, name)
        return self.compile(name, lambda operators: getattr(operators, name), shape)

    @cached_property
    def log_density(self) -> CompiledFunction:
        return self._compile("log_density", "scalar")

    @cached_property
    def score(self) -> CompiledFunction:
        return self._compile("score", "vector")

    @cached_property
    def hessian(self) -> CompiledFunction:
        return self._compile("hessian", "matrix")

    @cached_property
    def laplacian(self) -> CompiledFunction:
        return self._compile("laplacian", "scalar")

    @cached_property
    def hyvarinen(self) -> CompiledFunction:
        return self._compile("hyvarinen", "scalar")

    def __repr__(self) -> str:
        return f"<compiled {self.model!r} [{self.backend}]>"


class InsideOnly:
    """A model's compiled operators (:class:`CompiledModel`) that refuse points on or outside
    its domain with a ScoresymInputError naming the variable and the edge: a score at an edge
    is a limit (often infinite), never a value to return silently. ``Model.lambdify`` gives
    this on a domain with a finite edge; the package's own numerics, which probe up to the
    edges on purpose, use the unchecked operators.

    >>> import numpy as np
    >>> from scoresym import zoo
    >>> f = zoo.get("exponential").model.lambdify()
    >>> f.score(np.array([[0.5]]), lam=1.5)
    array([[-1.5]])
    >>> f.score(np.array([[0.0]]), lam=1.5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: 1 point(s) have x on or outside its domain (0, inf), ...
    """

    def __init__(self, compiled: CompiledModel, bounds: list):
        self._compiled, self._bounds = compiled, bounds

    def __getattr__(self, name: str):
        value = getattr(self._compiled, name)
        if isinstance(value, GeneratedFunction):
            return _Inside(value, self._bounds)
        if name == "compile":
            return lambda *args, **kwargs: _Inside(value(*args, **kwargs), self._bounds)
        return value

    def __repr__(self) -> str:
        return repr(self._compiled)


class _Inside:
    """A compiled function that first checks that its points lie inside the domain."""

    def __init__(self, function: GeneratedFunction, bounds: list):
        self._function, self._bounds = function, bounds

    def __call__(self, X, /, **params):
        if is_chunked(X):  # checked block by block, when computed
            return lazily(self, X, len(self._function.variables), params)
        points = as_points(X, len(self._function.variables), self._function.backend)
        if not backends.is_traced(points):
            require_inside(points, self._function.variables, self._bounds)
        return self._function(points, **params)

    def __getattr__(self, name: str):
        return getattr(self._function, name)

    def __repr__(self) -> str:
        return repr(self._function)
