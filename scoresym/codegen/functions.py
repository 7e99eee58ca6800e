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
import types
from functools import cached_property

import numpy
import sympy
from sympy.printing.numpy import SciPyPrinter

from ..errors import ScoresymInputError
from ..symbolic.expressions import check_name, constant_parts, constant_value, describe_constant

BACKENDS = ("numpy", "autograd")
SHAPES = ("scalar", "vector", "matrix")


def backend_modules(backend: str) -> dict:
    """The modules generated code sees as ``numpy`` and ``scipy`` for a backend."""
    if backend == "numpy":
        import scipy.special

        return {"numpy": numpy, "scipy": types.SimpleNamespace(special=scipy.special)}
    if backend == "autograd":
        import autograd.numpy
        import autograd.scipy.special

        return {"numpy": autograd.numpy,
                "scipy": types.SimpleNamespace(special=autograd.scipy.special)}
    raise ScoresymInputError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")


class _Printer(SciPyPrinter):
    """SciPy's printer with our identifiers, plain float constants, and DiracDelta as 0."""

    def __init__(self, names: dict):
        super().__init__({"fully_qualified_modules": True, "strict": True})
        self._names = names

    def _print_Symbol(self, expr):
        return self._names[expr]

    _print_Dummy = _print_Symbol

    def _print_NumberSymbol(self, expr):
        return repr(float(expr))

    _print_Pi = _print_Exp1 = _print_EulerGamma = _print_GoldenRatio = _print_NumberSymbol

    def _print_And(self, expr):
        # SymPy prints logical_and.reduce((a, b)), which fails when a is a scalar (a condition
        # on parameters) and b an array (on the points): fold pairwise, which broadcasts.
        return self._fold("logical_and", expr)

    def _print_Or(self, expr):
        return self._fold("logical_or", expr)

    def _fold(self, function: str, expr) -> str:
        items = ", ".join(self._print(a) for a in expr.args)
        return f"functools.reduce(numpy.{function}, [{items}])"

    def _print_DiracDelta(self, expr):
        # Zero almost everywhere; generated code evaluates pointwise.
        return "0.0"


def rounded_constants(expr: sympy.Expr, cache: dict) -> sympy.Expr:
    """``expr`` with every constant that is not a plain number (log(10**4000), gamma(5),
    sqrt(2)/pi, exp(1000)/exp(999)) replaced by its value correctly rounded to double precision,
    computed by SymPy at high precision: generated code never overflows on an intermediate
    constant that the whole does not need.

    >>> x = sympy.Symbol("x")
    >>> rounded_constants(sympy.log(sympy.Integer(10)**4000) - x**2, {})
    9210.3403719761827 - x**2
    """
    replacements = {}
    for part in constant_parts(expr):
        if part.is_Number or isinstance(part, sympy.NumberSymbol) or part in replacements:
            continue
        if part not in cache:
            value = constant_value(part)
            cache[part] = sympy.Float(float(sympy.re(value)), 17) if value is not None and \
                describe_constant(part, value) is None else part
        replacements[part] = cache[part]
    return expr.xreplace(replacements) if replacements else expr


def generate_source(name: str, outputs: list, variables: tuple, params: tuple,
                    shape: str, shifts: dict | None = None) -> str:
    """Python source of ``def <name>(X, <params>)`` evaluating ``outputs`` with one CSE pass.

    >>> x = sympy.Symbol("x")
    >>> print(generate_source("f", [sympy.tanh(x) / (1 + sympy.tanh(x)**2)], (x,), (), "scalar"))
    def f(X):
        v_x = X[:, 0]
        _t0 = numpy.tanh(v_x)
        return _rows(_t0/(_t0**2 + 1), X)
    """
    shifts = shifts or {}
    rounded = {}
    outputs = [rounded_constants(e, rounded) for e in outputs]
    shifts = {s: rounded_constants(e, rounded) for s, e in shifts.items()}
    names = {v: f"v_{check_name(v.name, 'variable')}" for v in variables}
    names.update({p: f"p_{check_name(p.name, 'param')}" for p in params})
    names.update({s: f"_shift{k}" for k, s in enumerate(shifts)})
    replacements, reduced = sympy.cse(outputs, symbols=sympy.numbered_symbols("_t"),
                                      order="none")
    names.update({sym: sym.name for sym, _ in replacements})
    printer = _Printer(names)
    signature = ", ".join(["X"] + [names[p] for p in params])
    lines = [f"def {name}({signature}):"]
    used = list(outputs) + list(shifts.values())
    lines += [f"    {names[v]} = X[:, {i}]" for i, v in enumerate(variables)
              if any(e.has(v) for e in used)]
    lines += [f"    {names[s]} = {_print(printer, e)}" for s, e in shifts.items()]
    lines += [f"    {sym.name} = {_print(printer, e)}" for sym, e in replacements]
    lines.append(f"    return {_result(printer, reduced, shape, len(variables))}")
    return "\n".join(lines)


def _print(printer: _Printer, expr: sympy.Expr) -> str:
    try:
        return printer.doprint(expr)
    except Exception as exc:  # SymPy raises a bare PrintMethodNotImplementedError subclass
        raise ScoresymInputError(f"cannot compile {expr}: {str(exc).splitlines()[0]}") from None


def _result(printer: _Printer, reduced: list, shape: str, d: int) -> str:
    items = [_print(printer, e) for e in reduced]
    if shape == "scalar":
        return f"_rows({items[0]}, X)"
    if shape == "vector":
        return f"_columns([{', '.join(items)}], X)"
    rows = [f"[{', '.join(items[i * d:(i + 1) * d])}]" for i in range(d)]
    return f"_matrix([{', '.join(rows)}], X)"


def _rows(value, X, np):
    """Broadcast a scalar or (n,) value to shape (n,)."""
    return value + np.zeros(X.shape[0])


def _columns(values, X, np):
    return np.stack([_rows(v, X, np) for v in values], axis=1)


def _matrix(rows, X, np):
    return np.stack([_columns(row, X, np) for row in rows], axis=1)


class CompiledFunction:
    """A compiled scalar, vector or matrix field: call it as ``f(X, **params)``.

    Attributes: ``name``, ``expr`` (the SymPy expression or Matrix), ``source`` (the generated
    Python), ``backend``, ``variables``, ``params``. ``compiled_expr`` (default ``expr``) and
    ``shifts`` let the code evaluate an equal but numerically stabler form of ``expr``.
    """

    def __init__(self, name, expr, variables, params, shape, backend="numpy",
                 compiled_expr=None, shifts=None):
        if shape not in SHAPES:
            raise ValueError(f"shape must be one of {SHAPES}")
        self.name, self.expr, self.shape = name, expr, shape
        self.variables, self.params, self.backend = tuple(variables), tuple(params), backend
        target = expr if compiled_expr is None else compiled_expr
        outputs = list(target) if isinstance(target, sympy.MatrixBase) else [target]
        self.source = generate_source(name, outputs, self.variables, self.params, shape, shifts)
        self._function = self._build(backend_modules(backend))

    def _build(self, modules: dict):
        np = modules["numpy"]
        namespace = dict(modules, functools=functools,
                         _rows=functools.partial(_rows, np=np),
                         _columns=functools.partial(_columns, np=np),
                         _matrix=functools.partial(_matrix, np=np))
        code = compile(self.source, f"<scoresym {self.name}>", "exec")
        exec(code, namespace)  # the source holds only validated identifiers and printed SymPy
        return namespace[self.name]

    def __call__(self, X, /, **params):
        points = as_points(X, len(self.variables), self.backend)
        values = param_values(params, self.params, self.backend)
        return self._function(points, *values)

    def __repr__(self) -> str:
        args = ", ".join(["X"] + [f"{p.name}=" for p in self.params])
        return f"<compiled {self.shape} {self.name}({args}) [{self.backend}]>"


def as_points(X, d: int, backend: str = "numpy"):
    """Validate and return points as an (n, d) array; a 1-D array is accepted when d == 1.

    >>> as_points([0.0, 1.0], 1).shape
    (2, 1)
    """
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
    a ZeroDivisionError), or an autograd tracer passed through; a clear error else."""
    if is_traced(value):
        if numpy.shape(value) != ():
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


def is_traced(value) -> bool:
    """True for autograd's traced values, which must pass through untouched."""
    return type(value).__module__.startswith("autograd")


class CompiledModel:
    """The compiled operators of a :class:`~scoresym.model.Model`, each compiled on first use.

    ``log_density`` (n,), ``score`` (n, d), ``hessian`` (n, d, d), ``laplacian`` (n,) and
    ``hyvarinen`` (n,): each a :class:`CompiledFunction` called as ``f(X, **params)``.
    """

    def __init__(self, model, backend: str = "numpy", fast: bool = True):
        backend_modules(backend)  # validates the name
        self.model, self.backend, self.fast = model, backend, fast

    @cached_property
    def _fast(self):
        """The fast-path operators when the model has a linear structure, else None."""
        if not self.fast:
            return None
        from .fastpath import FastModel, linear_structure

        if "linear_structure" not in self.model.cache:
            self.model.cache["linear_structure"] = linear_structure(self.model)
        structure = self.model.cache["linear_structure"]
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
