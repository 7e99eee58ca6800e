"""SymPy expressions compiled into vectorized NumPy or autograd.numpy functions.

Shape convention (the one convention of the package): a batch of n points in d dimensions is an
array ``X`` of shape (n, d); a 1-D array is accepted when d == 1. A scalar field evaluates to
shape (n,), a vector field to (n, d), a matrix field to (n, d, d). Parameters are keyword
arguments holding scalars. Constant results are broadcast to the batch.

Invariant: generated code is built only from validated identifiers (``v_<name>`` for variables,
``p_<name>`` for parameters, ``_t<k>`` for common subexpressions) and SymPy's code printer; no
user string is ever executed. The ``numpy`` backend runs on NumPy and SciPy; the ``autograd``
backend runs on ``autograd.numpy`` and ``autograd.scipy.special`` so HIPS autograd can
differentiate it.

>>> import sympy, numpy as np
>>> x, mu = sympy.symbols("x mu", real=True)
>>> f = CompiledFunction("score", mu - x, (x,), (mu,), shape="scalar")
>>> f(np.array([1.0, 2.0]), mu=0.5)
array([-0.5, -1.5])
"""

from __future__ import annotations

import functools
import numbers

import numpy
import sympy

from ..chunks import chunked_points, is_chunked, lazy_rows
from ..errors import ScoresymInputError
from .backends import backend_modules, is_traced
from .printer import generate_source

SHAPES = ("scalar", "vector", "matrix")

#: Rows per block where NumPy evaluates many points: generated code keeps each common
#: subexpression alive until it returns, so its memory is their number x CHUNK_ROWS floats
#: (a pairwise quartic model at d = 20 has 30 of n x d), not their number x n.
CHUNK_ROWS = 1 << 15


def _rows(value, X, np):
    """Broadcast a scalar or (n,) value to shape (n,)."""
    return value + np.zeros(X.shape[0])


def _columns(values, X, np):
    return np.stack([_rows(v, X, np) for v in values], axis=1)


def _matrix(rows, X, np):
    return np.stack([_columns(row, X, np) for row in rows], axis=1)


class GeneratedFunction:
    """Generated source, executed once, called as ``f(X, **params)`` with the points and the
    parameters checked (see :func:`as_points`, :func:`param_values`).

    Attributes: ``name``, ``source`` (the generated Python), ``shape``, ``backend``,
    ``variables``, ``params``; subclasses add ``expr``, the SymPy expression it evaluates.
    """

    def __init__(self, name: str, source: str, variables, params, shape: str, backend: str,
                 namespace: dict):
        if shape not in SHAPES:
            raise ScoresymInputError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
        self.name, self.source, self.shape, self.backend = name, source, shape, backend
        self.variables, self.params = tuple(variables), tuple(params)
        code = compile(source, f"<scoresym {name}>", "exec")
        exec(code, namespace)  # the source holds only validated identifiers and printed SymPy
        self._function = namespace[name]

    def __call__(self, X, /, **params):
        if is_chunked(X):
            return lazily(self, X, len(self.variables), params)
        points = as_points(X, len(self.variables), self.backend)
        values = param_values(params, self.params, self.backend)
        per_point = [p.name for p, v in zip(self.params, values)
                     if numpy.shape(v) not in ((), (points.shape[0],))]
        if per_point:
            raise ScoresymInputError(f"traced parameter(s) {', '.join(per_point)} must be "
                                     f"scalars or hold one value per point")
        n = points.shape[0]
        if self.backend != "numpy" or n <= CHUNK_ROWS:
            return self._function(points, *values)
        return numpy.concatenate([
            self._function(points[start:start + CHUNK_ROWS],
                           *[v[start:start + CHUNK_ROWS] if numpy.ndim(v) else v
                             for v in values])
            for start in range(0, n, CHUNK_ROWS)])

    def on_backend(self, backend: str) -> GeneratedFunction:
        """The same generated source run on another backend (e.g. "autograd", to differentiate
        it in the parameters), without generating it again."""
        twin = GeneratedFunction(self.name, self.source, self.variables, self.params,
                                 self.shape, backend, runtime_namespace(backend))
        twin.expr = getattr(self, "expr", None)
        return twin

    def __repr__(self) -> str:
        args = ", ".join(["X"] + [f"{p.name}=" for p in self.params])
        return f"<compiled {self.shape} {self.name}({args}) [{self.backend}]>"


class CompiledFunction(GeneratedFunction):
    """A compiled scalar, vector or matrix field: call it as ``f(X, **params)``.

    ``expr`` is the SymPy expression or Matrix it evaluates; ``compiled_expr`` (default
    ``expr``) and ``shifts`` let the code evaluate an equal but numerically stabler form of it.
    """

    def __init__(self, name, expr, variables, params, shape, backend="numpy",
                 compiled_expr=None, shifts=None):
        self.expr = expr
        target = expr if compiled_expr is None else compiled_expr
        outputs = list(target) if isinstance(target, sympy.MatrixBase) else [target]
        source = generate_source(name, outputs, tuple(variables), tuple(params), shape, shifts)
        super().__init__(name, source, variables, params, shape, backend,
                         runtime_namespace(backend))


def runtime_namespace(backend: str) -> dict:
    """What generated code sees: the backend's numpy and scipy, functools, and the helpers that
    give every result its shape."""
    modules = backend_modules(backend)
    np = modules["numpy"]
    return dict(modules, functools=functools, _rows=functools.partial(_rows, np=np),
                _columns=functools.partial(_columns, np=np),
                _matrix=functools.partial(_matrix, np=np))


def lazily(function, X, d: int, params: dict):
    """``function(X, **params)`` on points held in chunks (a dask array, see
    :mod:`scoresym.chunks`): checked now on the first row (shape, parameters), evaluated block
    by block when the lazy result is computed, each block exactly as an in-memory call.

    >>> import dask.array as da, numpy as np
    >>> from scoresym import zoo
    >>> f = zoo.get("gaussian_1d").model.lambdify()
    >>> X = da.from_array(np.array([[0.0], [1.0], [2.0]]), chunks=(2, 1))
    >>> f.score(X, mu=1.0, s2=2.0).compute()
    array([[ 0.5],
           [ 0. ],
           [-0.5]])
    """
    points = chunked_points(X, d)
    probe = function(numpy.asarray(points[:1].compute()), **params)

    def on_block(block, block_info=None):
        try:
            return function(numpy.asarray(block), **params)
        except ScoresymInputError as error:  # say where the block is: its rows count from 0
            start = block_info[0]["array-location"][0][0] if block_info else 0
            raise ScoresymInputError(f"{error} (in the block of rows from {start})") from None
    return lazy_rows(on_block, points, tuple(numpy.shape(probe)[1:]))


def as_points(X, d: int, backend: str = "numpy"):
    """Validate and return points as an (n, d) array; a 1-D array is accepted when d == 1.

    >>> as_points([0.0, 1.0], 1).shape
    (2, 1)
    """
    if is_chunked(X):
        raise ScoresymInputError(
            "this function takes points in memory, and X is a dask array: compiled functions "
            "and fit take chunked data; call X.compute() to load it here")
    array = X if is_traced(X) else real_array(X, "X")
    ndim = len(array.shape)
    if ndim == 1 and d == 1:
        return array[:, None] if not is_traced(array) else array.reshape((-1, 1))
    if ndim == 1:
        raise ScoresymInputError(
            f"X has shape {tuple(array.shape)} but the model has d = {d} variables: pass an "
            f"(n, {d}) array (a single point is X.reshape(1, -1))")
    if ndim != 2 or array.shape[1] != d:
        raise ScoresymInputError(f"X must have shape (n, {d}), got {tuple(array.shape)}")
    return array


def require_inside(X, variables, domain) -> None:
    """Refuse points on or outside the open interval (lo, hi) of a variable, naming the
    variable, the edge and the first such point: a density's score there is a limit (often
    infinite), not a value.

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> require_inside(numpy.array([[0.5], [1.0]]), (x,), [(0.0, 1.0)])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: 1 point(s) have x on or outside its domain (0, 1), ...
    """
    for k, (variable, (lo, hi)) in enumerate(zip(variables, domain)):
        column = X[:, k]
        outside = (column <= lo) | (column >= hi)
        if outside.any():
            row = int(numpy.argmax(outside))
            value = float(column[row])
            where = f"at the edge {value:g}" if value in (lo, hi) else "outside"
            raise ScoresymInputError(
                f"{int(outside.sum())} point(s) have {variable.name} on or outside its domain "
                f"({lo:g}, {hi:g}), e.g. row {row}: {variable.name} = {value:g} ({where}); "
                f"points must lie strictly inside")


def param_values(given: dict, params: tuple, backend: str = "numpy") -> list:
    """The values of ``params`` in order, from keyword arguments, each a real scalar."""
    names = [p.name for p in params]
    missing = [n for n in names if n not in given]
    unknown = sorted(set(given) - set(names))
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing parameter(s): {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown parameter(s): {', '.join(unknown)}")
        expected = ", ".join(names) or "none"
        raise ScoresymInputError(f"{'; '.join(parts)} (expected: {expected})")
    return [scalar_param(n, given[n]) for n in names]


def scalar_param(name: str, value):
    """A parameter value as a finite numpy.float64 (so that 1/0 in generated code is inf, not
    a ZeroDivisionError), or an autograd tracer passed through (a scalar, or one value per
    point: autograd then gives a gradient per batch of points in one pass); a clear error
    else."""
    if is_traced(value):
        if len(numpy.shape(value)) > 1:
            raise ScoresymInputError(f"parameter {name} must be a scalar")
        return value
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = float(value)  # Fraction, sympy.Rational, numpy scalars
    array = real_array(value, f"parameter {name}")
    if array.shape != ():
        raise ScoresymInputError(
            f"parameter {name} must be a scalar, got an array of shape {array.shape}")
    if not numpy.isfinite(array):
        raise ScoresymInputError(f"parameter {name} must be a finite real number, got {value!r}")
    return numpy.float64(array)


def positive_int(name: str, value, least: int = 1) -> int:
    """``value`` as an int if it is an integer >= ``least`` (a count: projections, bootstrap
    resamples), else a ScoresymInputError naming ``name``.

    >>> positive_int("resamples", 2.5, least=2)
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: resamples must be an integer >= 2, got 2.5
    """
    if isinstance(value, (bool, numpy.bool_)) or not isinstance(value, numbers.Integral) \
            or value < least:
        wanted = "a positive int" if least == 1 else f"an integer >= {least}"
        raise ScoresymInputError(f"{name} must be {wanted}, got {value!r}")
    return int(value)


def finite_points(X, what: str = "X", minimum: int = 1) -> numpy.ndarray:
    """X as an (n, d) float array of finite real numbers with n >= ``minimum`` rows (no 1-D
    promotion: the caller decides what a vector means), else ScoresymInputError naming it.

    >>> finite_points([[0, 1], [2, 3]]).shape
    (2, 2)
    """
    array = real_array(X, what)
    if array.ndim != 2 or len(array) < minimum:
        raise ScoresymInputError(f"{what} must be an (n, d) array with n >= {minimum}, got "
                                 f"shape {array.shape}")
    if not numpy.all(numpy.isfinite(array)):
        raise ScoresymInputError(f"{what} holds NaN or inf")
    return array


def real_array(value, what: str) -> numpy.ndarray:
    """``value`` as a float64 array if it holds real numbers (ints or floats); strings, bools,
    complex numbers and Python objects are refused, naming ``what`` and the kind found.

    >>> real_array([1, 2.5], "X")
    array([1. , 2.5])
    """
    try:
        array = numpy.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ScoresymInputError(f"{what} must hold real numbers: {exc}") from None
    kinds = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "bytes",
             "O": "Python objects", "M": "dates", "m": "time spans", "V": "records"}
    if array.dtype.kind not in "iuf":
        found = kinds.get(array.dtype.kind, f"values of dtype {array.dtype}")
        sample = f" ({value!r})" if array.ndim == 0 else ""
        raise ScoresymInputError(f"{what} must hold real numbers, not {found}{sample}")
    return array.astype(float, copy=False)


