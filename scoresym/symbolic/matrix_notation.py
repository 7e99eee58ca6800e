"""Matrix notation for models whose parameters are matrices and vectors: one line for ICA, an
RBM's free energy, a Gaussian precision or a pairwise interaction model, read into their
structure rather than into d^2 scalar terms.

A log-density in this notation is a sum of terms, each times a scalar (a number or a scalar
parameter):

    sum(g(W @ x + c))        a ridge term: sum_k g(w_k . x + c_k), W (k, d), c (k,)
    sum(g(x - b))            a coordinate term: sum_j g(x_j - b_j)
    u @ M @ u                a quadratic form in u = phi(x) elementwise (x, x**2, ...), M (d, d)
    b @ u                    a linear form, b (d,)

with g and phi built from the scalar functions of :data:`~.expressions.FUNCTIONS`, numbers and
scalar parameters; ``.T`` of a vector is the vector. The structure's derivatives in x are
derived once, symbolically, from the scalar functions g and phi (their first and second
derivatives), whatever d is; the matrix products are left to the compiled code.

Invariant: a user's string is read by :func:`ast.parse` (which builds a syntax tree and runs
nothing) and then walked here over a whitelist of node types (numbers, declared names, the
listed functions and ``sum``, ``+ - * / ** @``, unary signs, ``.T``); anything else raises
:class:`~scoresym.errors.ScoresymInputError` naming the offending piece. The string is at most
:data:`MAX_MATRIX_LENGTH` characters (the point of the notation is a short line).

>>> s = parse_matrix_model("-sum(log(cosh(W @ x)))", "x", {"x": (3,), "W": (3, 3)})
>>> s.terms
(Ridge(g=-log(cosh(_t)), W='W', offsets=(), scale=1),)
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, replace

import sympy

from ..errors import ScoresymInputError
from .expressions import CONSTANTS, FUNCTIONS, check_name

#: The longest string read in matrix notation.
MAX_MATRIX_LENGTH = 2_000
#: The scalar every elementwise function is written in.
T = sympy.Symbol("_t", real=True)


@dataclass(frozen=True)
class Affine:
    """a = scale (W x) + sum_j coef_j v_j: W a matrix parameter (None: the identity), v_j
    vector parameters."""

    W: str | None
    offsets: tuple = ()  # ((coefficient, vector name), ...)
    scale: sympy.Expr = sympy.Integer(1)

    def scaled(self, k) -> Affine:
        return Affine(self.W, tuple((k * c, v) for c, v in self.offsets), k * self.scale)


@dataclass(frozen=True)
class Elementwise:
    """phi(a) applied to every entry of the vector a."""

    f: sympy.Expr  # in T
    arg: Affine


@dataclass(frozen=True)
class Ridge:
    """sum_k g(a_k), a = scale (W x) + offsets (a coordinate term where W is None)."""

    g: sympy.Expr
    W: str | None
    offsets: tuple = ()
    scale: sympy.Expr = sympy.Integer(1)


@dataclass(frozen=True)
class Quadratic:
    """coef u^T M u, u = phi(a) elementwise, a = scale x + offsets."""

    coef: sympy.Expr
    M: str
    u: sympy.Expr
    arg: Affine


@dataclass(frozen=True)
class Linear:
    """coef b^T u, u = phi(a) elementwise, a = scale x + offsets."""

    coef: sympy.Expr
    b: str
    u: sympy.Expr
    arg: Affine


@dataclass(frozen=True)
class MatrixStructure:
    """log f = sum of ``terms`` + ``constant``; ``shapes`` of x and of every parameter
    (scalars ()), ``scalars`` the scalar parameters' symbols."""

    terms: tuple
    constant: sympy.Expr
    variable: str
    shapes: dict
    scalars: dict

    @property
    def dim(self) -> int:
        return self.shapes[self.variable][0]


@dataclass(frozen=True)
class _Param:
    name: str
    shape: tuple


@dataclass(frozen=True)
class _RowTimes:
    """coef u^T M, waiting for the u on the right."""

    u: Elementwise
    M: str
    coef: sympy.Expr = sympy.Integer(1)


def _factored(u: Elementwise) -> tuple:
    """(k, u / k): a number k taken out of phi, or a scale of x itself (-x is -1 times x;
    -(x**2) is -1 times x**2)."""
    a = u.arg
    if u.f == T and a.W is None and not a.offsets and a.scale != 1:
        return a.scale, Elementwise(T, Affine(None))
    k, rest = u.f.as_coeff_Mul()
    return k, Elementwise(rest, a)


class _Terms(tuple):
    """A sum of log-density terms (Ridge, Quadratic, Linear) and scalars."""


def _as_elementwise(value) -> Elementwise | None:
    if isinstance(value, Elementwise):
        return value
    if isinstance(value, Affine):
        return Elementwise(T, value)
    return None


def parse_matrix_model(text, variable: str, shapes: dict, params=None) -> MatrixStructure:
    """The structure of the log-density ``text`` in matrix notation (see the module's text):
    ``variable`` the name of the vector x, ``shapes`` {name: shape} of x (d,) and of every
    matrix (rows, columns) or vector (length,) parameter; ``params`` every parameter's name
    (default: the names in ``shapes`` but x), those without a shape being scalars."""
    if not isinstance(text, str):
        raise ScoresymInputError(f"a model in matrix notation is a string, got "
                                 f"{type(text).__name__}")
    if len(text) > MAX_MATRIX_LENGTH:
        raise ScoresymInputError(f"the model string is {len(text):,} characters; matrix "
                                 f"notation is read up to {MAX_MATRIX_LENGTH:,}")
    checked = _checked_shapes(variable, shapes, params)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise ScoresymInputError(f"cannot read {text!r} in matrix notation: "
                                 f"{getattr(error, 'msg', None) or error}") from None
    reader = _Reader(variable, checked, text)
    try:
        value = reader.read(tree.body)
    except RecursionError:
        raise ScoresymInputError("the model string is nested too deeply") from None
    terms, constant = _collect(value, text)
    scalars = {name: sympy.Symbol(name, real=True) for name, shape in checked.items()
               if shape == () and name != variable}
    return MatrixStructure(tuple(terms), constant, variable, checked, scalars)


def structure_of(expr, x, params) -> MatrixStructure:
    """The structure of a SymPy matrix expression (a 1 x 1 MatrixExpr in the (d, 1)
    MatrixSymbol ``x``; ``params`` MatrixSymbols (m, d) or (m, 1) and scalar Symbols).

    >>> x, L, b = (sympy.MatrixSymbol(n, *s) for n, s in [("x", (3, 1)), ("L", (3, 3)),
    ...                                                     ("b", (3, 1))])
    >>> sorted(type(t).__name__ for t in structure_of(-(x.T*L*x)/2 + b.T*x, x, [L, b]).terms)
    ['Linear', 'Quadratic']
    """
    if not isinstance(x, sympy.MatrixSymbol) or x.shape[1] != 1:
        raise ScoresymInputError(f"the variable must be a (d, 1) MatrixSymbol, got {x!r}")
    if not isinstance(expr, sympy.MatrixExpr) or expr.shape != (1, 1):
        raise ScoresymInputError(f"a log-density in MatrixSymbols is a 1 x 1 matrix "
                                 f"expression, got {type(expr).__name__}")
    shapes = {x.name: (int(x.shape[0]),)}
    for p in params:
        if isinstance(p, sympy.MatrixSymbol):
            rows, columns = (int(k) for k in p.shape)
            shapes[p.name] = (rows,) if columns == 1 else (rows, columns)
        elif isinstance(p, sympy.Symbol):
            shapes[p.name] = ()
        else:
            raise ScoresymInputError(f"a parameter must be a MatrixSymbol or a Symbol, got "
                                     f"{p!r}")
    checked = _checked_shapes(x.name, shapes, None)
    reader = _Reader(x.name, checked, str(expr))
    terms, constant = _collect(reader.read_sympy(expr), str(expr))
    scalars = {name: sympy.Symbol(name, real=True) for name, shape in checked.items()
               if shape == () and name != x.name}
    return MatrixStructure(tuple(terms), constant, x.name, checked, scalars)


def _checked_shapes(variable: str, shapes, params) -> dict:
    if not isinstance(shapes, dict):
        raise ScoresymInputError(f"shapes must be a dict {{name: shape}}, got "
                                 f"{type(shapes).__name__}")
    check_name(variable, "variable")
    names = list(params) if params is not None else [k for k in shapes if k != variable]
    out = {}
    for name in [variable] + names:
        check_name(name, "parameter" if name != variable else "variable")
        if name == "t__":
            raise ScoresymInputError("t__ is reserved in matrix notation; rename it")
        shape = shapes.get(name, ())
        try:
            shape = tuple(int(k) for k in shape)
        except (TypeError, ValueError):
            raise ScoresymInputError(f"the shape of {name} must be a tuple of positive "
                                     f"integers, got {shape!r}") from None
        if len(shape) > 2 or any(k < 1 for k in shape):
            raise ScoresymInputError(f"the shape of {name} must be (), (n,) or (n, m) with "
                                     f"positive sizes, got {shape}")
        out[name] = shape
    unknown = sorted(set(shapes) - set(out))
    if unknown:
        raise ScoresymInputError(f"shapes names {', '.join(unknown)}, which is neither the "
                                 f"variable nor a parameter")
    if len(out[variable]) != 1:
        raise ScoresymInputError(f"the variable {variable} must be a vector: shape (d,), got "
                                 f"{out[variable]}")
    return out


class _Reader:
    """Walks a syntax tree over the whitelist, building typed values."""

    def __init__(self, variable: str, shapes: dict, text: str):
        self.variable, self.shapes, self.text = variable, shapes, text
        self.d = shapes[variable][0]

    def refuse(self, node, why: str):
        if isinstance(node, ast.AST):
            piece = ast.get_source_segment(self.text.strip(), node) or type(node).__name__
        else:
            piece = str(node)
        raise ScoresymInputError(f"{why}: {piece!r}")

    def read_sympy(self, expr):
        """The same typed values from a SymPy matrix expression in MatrixSymbols."""
        M = sympy.matrices.expressions
        if isinstance(expr, sympy.MatrixSymbol):
            if expr.name == self.variable:
                return Affine(None)
            if expr.name not in self.shapes:
                self.refuse(expr, "unknown matrix (declare it as the variable or a parameter)")
            return _Param(expr.name, self.shapes[expr.name])
        if isinstance(expr, M.Transpose):
            return self._transposed(self.read_sympy(expr.arg), expr)
        if isinstance(expr, M.MatAdd):
            values = [self.read_sympy(a) for a in expr.args]
            total = values[0]
            for v in values[1:]:
                total = self.plus(total, v, expr)
            return total
        if isinstance(expr, M.MatMul):
            coefficient, matrices = expr.as_coeff_matrices()
            values = [self.read_sympy(a) for a in matrices]
            total = values[0]
            for v in values[1:]:
                total = self.matmul(total, v, expr)
            scalar = self.read_sympy(coefficient) if coefficient != 1 else None
            return self.times(scalar, total, expr) if scalar is not None else total
        if isinstance(expr, sympy.MatrixExpr):
            self.refuse(expr, "not supported in a matrix model (sums of quadratic forms "
                              "u.T*M*u and linear forms b.T*x)")
        unknown = sorted(str(s) for s in expr.free_symbols
                         if str(s) not in self.shapes or self.shapes[str(s)] != ())
        if unknown:
            self.refuse(expr, f"unknown scalar(s) {', '.join(unknown)}")
        return expr.xreplace({s: sympy.Symbol(str(s), real=True) for s in expr.free_symbols})

    def _transposed(self, value, node):
        if isinstance(value, _Param) and len(value.shape) == 2:
            self.refuse(node, "transposed matrix parameters are not supported; write the "
                              "product the other way round")
        return value  # a vector's transpose is the vector

    def read(self, node):
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            self.refuse(node, "not allowed in matrix notation")
        return method(node)

    def _Constant(self, node):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            self.refuse(node, "only numbers may appear as constants")
        if isinstance(node.value, float) and not math.isfinite(node.value):
            self.refuse(node, "a number beyond the largest double (1.8e308)")
        return sympy.nsimplify(node.value) if isinstance(node.value, float) else \
            sympy.Integer(node.value)

    def _Name(self, node):
        name = node.id
        if name == self.variable:
            return Affine(None)
        if name in self.shapes:
            shape = self.shapes[name]
            return sympy.Symbol(name, real=True) if shape == () else _Param(name, shape)
        if name in CONSTANTS:
            return CONSTANTS[name]
        self.refuse(node, "unknown name (declare it as the variable or a parameter)")

    def _Attribute(self, node):
        if node.attr != "T":
            self.refuse(node, "the only attribute is .T (transpose)")
        return self._transposed(self.read(node.value), node)

    def _UnaryOp(self, node):
        value = self.read(node.operand)
        if isinstance(node.op, ast.UAdd):
            return value
        if isinstance(node.op, ast.USub):
            return self.times(sympy.Integer(-1), value, node)
        self.refuse(node, "not allowed in matrix notation")

    def _Call(self, node):
        if not isinstance(node.func, ast.Name) or node.keywords:
            self.refuse(node, "only calls such as log(...) with positional arguments")
        name = node.func.id
        if name != "sum" and name not in FUNCTIONS:
            self.refuse(node, f"unknown function; allowed: sum, {', '.join(FUNCTIONS)}")
        args = [self.read(a) for a in node.args]
        if name == "sum":
            if len(args) != 1:
                self.refuse(node, "sum takes one argument")
            inner = _as_elementwise(args[0])
            if inner is None:
                self.refuse(node, "sum(...) needs a vector expression in x, such as "
                                  "log(cosh(W @ x)) or (x - b)**2")
            a = inner.arg
            return _Terms([Ridge(inner.f, a.W, a.offsets, a.scale)])
        function, count = FUNCTIONS[name]
        if count != 1 or len(args) != 1:
            self.refuse(node, "only functions of one argument act elementwise")
        (arg,) = args
        if isinstance(arg, sympy.Expr):
            return function(arg)
        inner = _as_elementwise(arg)
        if inner is None:
            self.refuse(node, f"{name} applies to numbers, scalar parameters or vectors in x")
        return Elementwise(function(inner.f), inner.arg)

    def _BinOp(self, node):
        left, right = self.read(node.left), self.read(node.right)
        op = node.op
        if isinstance(op, ast.MatMult):
            return self.matmul(left, right, node)
        if isinstance(op, ast.Mult):
            if isinstance(left, sympy.Expr):
                return self.times(left, right, node)
            if isinstance(right, sympy.Expr):
                return self.times(right, left, node)
            a, b = _as_elementwise(left), _as_elementwise(right)
            if a is not None and b is not None and a.arg == b.arg:
                return Elementwise(a.f * b.f, a.arg)
            self.refuse(node, "* multiplies by a scalar, or two elementwise functions of the "
                              "same vector")
        if isinstance(op, ast.Div):
            if isinstance(right, sympy.Expr) and right.is_zero:
                self.refuse(node, "division by zero")
            if isinstance(right, sympy.Expr):
                return self.times(1 / right, left, node)
            a, b = _as_elementwise(left), _as_elementwise(right)
            if isinstance(left, sympy.Expr) and b is not None:
                return Elementwise(left / b.f, b.arg)
            if a is not None and b is not None and a.arg == b.arg:
                return Elementwise(a.f / b.f, a.arg)
            self.refuse(node, "/ divides by a scalar, or elementwise functions of one vector")
        if isinstance(op, ast.Pow):
            if not isinstance(right, sympy.Expr):
                self.refuse(node, "an exponent must be a number or a scalar parameter")
            if isinstance(left, sympy.Expr):
                return left ** right
            a = _as_elementwise(left)
            if a is None:
                self.refuse(node, "** applies elementwise to vectors in x")
            return Elementwise(a.f ** right, a.arg)
        if isinstance(op, (ast.Add, ast.Sub)):
            if isinstance(op, ast.Sub):
                right = self.times(sympy.Integer(-1), right, node)
            return self.plus(left, right, node)
        self.refuse(node, "not allowed in matrix notation")

    def times(self, k, value, node):
        if isinstance(value, sympy.Expr):
            return k * value
        if isinstance(value, Affine):
            return value.scaled(k)
        if isinstance(value, Elementwise):
            return Elementwise(k * value.f, value.arg)
        if isinstance(value, _Terms):
            return _Terms([_scaled_term(t, k) for t in value])
        offset = _as_offset(value)
        if offset is not None:
            return _Offset(tuple((k * c, name) for c, name in offset.items))
        self.refuse(node, "cannot multiply this by a scalar")

    def plus(self, left, right, node):
        if isinstance(left, _Terms) or isinstance(right, _Terms) or (
                isinstance(left, sympy.Expr) and isinstance(right, sympy.Expr)):
            if isinstance(left, (Affine, Elementwise, _Param, _Offset)) or isinstance(
                    right, (Affine, Elementwise, _Param, _Offset)):
                self.refuse(node, "a vector cannot be added to a scalar term; wrap it in "
                                  "sum(...)")
            return _Terms(_parts(left) + _parts(right))
        for a, b in ((left, right), (right, left)):
            vector = _as_offset(b)
            if isinstance(a, Affine) and vector is not None:
                self.require_vector(vector, a, node)
                return Affine(a.W, a.offsets + vector.items, a.scale)
        if isinstance(left, Affine) and isinstance(right, Affine) and left.W == right.W:
            return Affine(left.W, left.offsets + right.offsets, left.scale + right.scale)
        a, b = _as_elementwise(left), _as_elementwise(right)
        if a is not None and b is not None and a.arg == b.arg:
            return Elementwise(a.f + b.f, a.arg)
        if a is not None and isinstance(right, sympy.Expr):
            return Elementwise(a.f + right, a.arg)
        if b is not None and isinstance(left, sympy.Expr):
            return Elementwise(left + b.f, b.arg)
        self.refuse(node, "these cannot be added: terms of a log-density are sums, quadratic "
                          "or linear forms; vectors in x add vector parameters")

    def require_vector(self, offset, affine: Affine, node) -> None:
        rows = self.shapes[affine.W][0] if affine.W else self.d
        for _, name in offset.items:
            if self.shapes[name] != (rows,):
                self.refuse(node, f"{name} has shape {self.shapes[name]}, but the vector it is "
                                  f"added to has {rows} entries")

    def matmul(self, left, right, node):
        if isinstance(left, _Param) and len(left.shape) == 2 and isinstance(right, Affine):
            if right.W is not None or right.offsets:
                self.refuse(node, "write W @ x + c: a matrix multiplies x itself")
            if left.shape[1] != self.d:
                self.refuse(node, f"{left.name} has shape {left.shape}, x has {self.d} entries")
            return Affine(left.name, (), right.scale)
        u = _as_elementwise(left)
        if u is not None and isinstance(right, _Param) and len(right.shape) == 2:
            self.require_coordinates(u, node)
            if right.shape != (self.d, self.d):
                self.refuse(node, f"{right.name} must be {self.d} x {self.d} in u @ M @ u")
            k, u = _factored(u)
            return _RowTimes(u, right.name, k)
        if isinstance(left, _RowTimes):
            v = _as_elementwise(right)
            k, v = _factored(v) if v is not None else (1, None)
            if v != left.u:
                self.refuse(node, "a quadratic form needs the same vector on both sides")
            return _Terms([Quadratic(k * left.coef, left.M, v.f, v.arg)])
        for b, u in ((left, _as_elementwise(right)), (right, _as_elementwise(left))):
            if isinstance(b, _Param) and len(b.shape) == 1 and u is not None:
                self.require_coordinates(u, node)
                if b.shape != (self.d,):
                    self.refuse(node, f"{b.name} must have {self.d} entries")
                k, u = _factored(u)
                return _Terms([Linear(k, b.name, u.f, u.arg)])
        self.refuse(node, "@ is allowed in W @ x, u @ M @ u and b @ u (u a vector in x)")

    def require_coordinates(self, u: Elementwise, node) -> None:
        if u.arg.W is not None:
            self.refuse(node, "a quadratic or linear form is in a function of x elementwise, "
                              "not of W @ x")


@dataclass(frozen=True)
class _Offset:
    """sum_j coef_j v_j, vector parameters waiting to be added to W @ x or x."""

    items: tuple


def names_in_term(term) -> set:
    """The parameters' names a term uses (matrices, vectors and scalars).

    >>> s = parse_matrix_model("sum(log(1 + exp(W @ x + c)))", "x", {"x": (2,), "W": (3, 2),
    ...                                                              "c": (3,)})
    >>> sorted(names_in_term(s.terms[0]))
    ['W', 'c']
    """
    names = {v for _, v in (term.offsets if isinstance(term, Ridge) else term.arg.offsets)}
    names |= {getattr(term, k) for k in ("W", "M", "b") if getattr(term, k, None)}
    expressions = [term.g, term.scale] if isinstance(term, Ridge) else [
        term.coef, term.u, term.arg.scale]
    expressions += [c for c, _ in (term.offsets if isinstance(term, Ridge)
                                   else term.arg.offsets)]
    return names | {str(s) for e in expressions for s in sympy.sympify(e).free_symbols
                    if s != T}


def _as_offset(value) -> _Offset | None:
    if isinstance(value, _Offset):
        return value
    if isinstance(value, _Param) and len(value.shape) == 1:
        return _Offset(((sympy.Integer(1), value.name),))
    return None


def _parts(value) -> list:
    return list(value) if isinstance(value, _Terms) else [value]


def _scaled_term(term, k):
    if isinstance(term, sympy.Expr):
        return k * term
    if isinstance(term, Ridge):
        return replace(term, g=k * term.g)
    return replace(term, coef=k * term.coef)


def _collect(value, text: str) -> tuple:
    """(terms, constant) of a parsed log-density, which must be a scalar."""
    if isinstance(value, sympy.Expr):
        raise ScoresymInputError(f"{text!r} does not depend on the variable")
    if not isinstance(value, _Terms):
        raise ScoresymInputError(f"{text!r} is a vector, not a log-density: wrap it in "
                                 f"sum(...) or write a quadratic or linear form")
    terms = [t for t in value if not isinstance(t, sympy.Expr)]
    constant = sympy.Add(*[t for t in value if isinstance(t, sympy.Expr)])
    return terms, constant
