"""Safe parsing of user strings into SymPy expressions, and the rules for symbol names.

Invariant: a user's string never reaches ``eval``, ``exec``, ``sympify`` or ``parse_expr``. It is
parsed by Python's ``ast`` module into a syntax tree, and that tree is walked against a whitelist:
numbers, declared names, ``+ - * / **``, unary minus, and calls (positional arguments only) to the
functions in :data:`FUNCTIONS`, plus the constants ``pi`` and ``E``. Every SymPy object is built
here directly from the tree, so nothing else in the string can run. Anything outside the whitelist
raises :class:`~scoresym.errors.ScoresymInputError` naming the offending piece.

>>> import sympy
>>> x, mu = sympy.symbols("x mu", real=True)
>>> parse_expression("exp(-(x - mu)**2 / 2)", {"x": x, "mu": mu})
exp(-(-mu + x)**2/2)
"""

from __future__ import annotations

import ast
import keyword
import math
import re
import warnings
from typing import Mapping

import sympy

from .errors import ScoresymInputError

#: Functions a user string may call: name -> (SymPy function, number of arguments, or None for 2+).
FUNCTIONS = {
    "exp": (sympy.exp, 1),
    "log": (sympy.log, 1),
    "sqrt": (sympy.sqrt, 1),
    "sin": (sympy.sin, 1),
    "cos": (sympy.cos, 1),
    "tan": (sympy.tan, 1),
    "asin": (sympy.asin, 1),
    "acos": (sympy.acos, 1),
    "atan": (sympy.atan, 1),
    "atan2": (sympy.atan2, 2),
    "sinh": (sympy.sinh, 1),
    "cosh": (sympy.cosh, 1),
    "tanh": (sympy.tanh, 1),
    "asinh": (sympy.asinh, 1),
    "acosh": (sympy.acosh, 1),
    "atanh": (sympy.atanh, 1),
    "erf": (sympy.erf, 1),
    "erfc": (sympy.erfc, 1),
    "gamma": (sympy.gamma, 1),
    "loggamma": (sympy.loggamma, 1),
    "Abs": (sympy.Abs, 1),
    "abs": (sympy.Abs, 1),
    "Min": (sympy.Min, None),
    "min": (sympy.Min, None),
    "Max": (sympy.Max, None),
    "max": (sympy.Max, None),
}

#: Named constants a user string may use.
CONSTANTS = {"pi": sympy.pi, "E": sympy.E}

MAX_LENGTH = 20_000
MAX_DIGITS = 10_000  # largest number of decimal digits a constant power may produce

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_BINARY = {ast.Add: sympy.Add, ast.Sub: None, ast.Mult: sympy.Mul, ast.Div: None, ast.Pow: None}
_OPERATOR_SYMBOLS = {
    ast.BitXor: "^", ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&",
    ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~", ast.Not: "not",
}


def check_name(name, role: str = "symbol") -> str:
    """Return ``name`` if it may name a variable or parameter, else raise ScoresymInputError.

    A name is an ASCII identifier that starts with a letter, is not a Python keyword, and does not
    shadow a function or constant that expressions may use.

    >>> check_name("mu")
    'mu'
    """
    if not isinstance(name, str):
        raise ScoresymInputError(f"{role} name must be a string, got {type(name).__name__}")
    if not _NAME.match(name):
        raise ScoresymInputError(
            f"{role} name {name!r} is not a plain identifier (a letter, then letters, digits or _)")
    if keyword.iskeyword(name):
        raise ScoresymInputError(f"{role} name {name!r} is a Python keyword")
    if name in FUNCTIONS or name in CONSTANTS:
        raise ScoresymInputError(f"{role} name {name!r} shadows the function or constant {name!r}")
    return name


def split_names(spec, role: str) -> list:
    """Split a space- or comma-separated string of names, or pass a sequence through.

    >>> split_names("x, y z", "variable")
    ['x', 'y', 'z']
    """
    if spec is None:
        return []
    if isinstance(spec, str):
        return [part for part in re.split(r"[\s,]+", spec.strip()) if part]
    if isinstance(spec, (sympy.Symbol,)):
        return [spec]
    try:
        return list(spec)
    except TypeError:
        raise ScoresymInputError(
            f"{role}s must be a string of names or a sequence of names or Symbols, "
            f"got {type(spec).__name__}") from None


def split_top_level(text: str) -> list:
    """Split "a, f(b, c)" at commas outside parentheses.

    >>> split_top_level("x, min(x, 1)")
    ['x', ' min(x, 1)']
    """
    parts, depth, current = [], 0, []
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_expression(text, names: Mapping[str, sympy.Symbol]) -> sympy.Expr:
    """Parse ``text`` into a SymPy expression whose only free symbols are ``names``' values.

    Raises ScoresymInputError for anything outside the whitelist (see the module docstring), and
    lists every undeclared name at once.

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> parse_expression("x**4/4 - 0.5*x**2", {"x": x})
    x**4/4 - x**2/2
    """
    if not isinstance(text, str):
        raise ScoresymInputError(f"expected an expression string, got {type(text).__name__}")
    if not text.strip():
        raise ScoresymInputError("empty expression")
    if len(text) > MAX_LENGTH:
        raise ScoresymInputError(f"expression is too long ({len(text)} > {MAX_LENGTH} characters)")
    tree = _parse_tree(text)
    _refuse_disallowed_nodes(tree, text)
    undeclared = sorted({node.id for node in ast.walk(tree) if isinstance(node, ast.Name)
                         and node.id not in names and node.id not in CONSTANTS
                         and not _is_called_function(node, tree)})
    if undeclared:
        declared = ", ".join(names) or "none"
        raise ScoresymInputError(
            f"undeclared name(s) in expression: {', '.join(undeclared)} (declared: {declared})")
    try:
        return _Builder(text, names).build(tree.body)
    except RecursionError:
        raise ScoresymInputError("expression is nested too deeply") from None


def _parse_tree(text: str) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # e.g. "1if": refused below anyway
            return ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        if "digits" in str(exc.msg):
            raise ScoresymInputError("a number literal has too many digits") from None
        where = f" at column {exc.offset}" if exc.offset else ""
        raise ScoresymInputError(f"invalid expression syntax{where}: {exc.msg}") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ScoresymInputError(f"expression cannot be parsed: {exc}") from None


def _is_called_function(node: ast.Name, tree: ast.AST) -> bool:
    return any(isinstance(call, ast.Call) and call.func is node for call in ast.walk(tree))


def _refuse_disallowed_nodes(tree: ast.Expression, text: str) -> None:
    """Raise for the first node in ``tree`` that the whitelist does not allow."""
    allowed = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant, ast.Name, ast.Call,
               ast.Load, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)
    for node in ast.walk(tree):
        piece = _source(node, text)
        if isinstance(node, ast.Name) and (node.id.startswith("_") or "__" in node.id):
            raise ScoresymInputError(f"name {node.id!r} is not allowed")
        if type(node) in _OPERATOR_SYMBOLS:
            symbol = _OPERATOR_SYMBOLS[type(node)]
            hint = "; use ** for powers" if symbol == "^" else ""
            raise ScoresymInputError(f"operator {symbol!r} is not allowed{hint}")
        if isinstance(node, ast.Attribute):
            raise ScoresymInputError(f"attribute access is not allowed: {piece!r}")
        if isinstance(node, ast.Subscript):
            raise ScoresymInputError(f"subscripts are not allowed: {piece!r}")
        if isinstance(node, ast.Constant) and not _is_real_number(node.value):
            raise ScoresymInputError(f"only real numbers are allowed as constants, not {piece!r}")
        if isinstance(node, ast.Call):
            _check_call(node, piece)
        if not isinstance(node, allowed):
            raise ScoresymInputError(f"{_describe(node)} is not allowed: {piece!r}")


def _check_call(node: ast.Call, piece: str) -> None:
    if isinstance(node.func, ast.Attribute):
        raise ScoresymInputError(f"attribute access is not allowed: {piece!r}")
    if not isinstance(node.func, ast.Name):
        raise ScoresymInputError(f"only calls of named functions are allowed: {piece!r}")
    name = node.func.id
    if name not in FUNCTIONS:
        raise ScoresymInputError(
            f"function {name!r} is not allowed (allowed: {', '.join(sorted(FUNCTIONS))})")
    if node.keywords:
        raise ScoresymInputError(f"keyword arguments are not allowed: {piece!r}")
    if any(isinstance(arg, ast.Starred) for arg in node.args):
        raise ScoresymInputError(f"starred arguments are not allowed: {piece!r}")
    arity = FUNCTIONS[name][1]
    count = len(node.args)
    if (arity is None and count < 2) or (arity is not None and count != arity):
        wanted = "at least 2" if arity is None else str(arity)
        raise ScoresymInputError(f"{name} takes {wanted} argument(s), got {count}: {piece!r}")


def _power_digits(base: sympy.Rational, exponent: sympy.Rational) -> float:
    """Decimal digits of base**exponent, about |exponent * log10|base||, without computing it."""
    p, q = sympy.fraction(abs(sympy.Rational(base)))
    log_base = abs(math.log10(int(p)) - math.log10(int(q)))
    try:
        return abs(float(exponent)) * log_base
    except OverflowError:
        return math.inf


def _is_real_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _describe(node: ast.AST) -> str:
    kinds = {ast.Lambda: "lambda", ast.Compare: "comparison", ast.BoolOp: "boolean operator",
             ast.IfExp: "conditional expression", ast.JoinedStr: "string",
             ast.ListComp: "comprehension", ast.SetComp: "comprehension",
             ast.DictComp: "comprehension", ast.GeneratorExp: "comprehension",
             ast.List: "list", ast.Tuple: "tuple", ast.Dict: "dict", ast.Set: "set",
             ast.NamedExpr: "assignment expression", ast.Await: "await", ast.Yield: "yield",
             ast.Starred: "starred expression", ast.Slice: "slice"}
    return kinds.get(type(node), type(node).__name__)


def _source(node: ast.AST, text: str) -> str:
    segment = ast.get_source_segment(text.strip(), node) if hasattr(node, "lineno") else None
    return segment if segment is not None else type(node).__name__


class _Builder:
    """Walk an already-vetted syntax tree and build the SymPy expression."""

    def __init__(self, text: str, names: Mapping[str, sympy.Symbol]):
        self.text = text.strip()
        self.names = names

    def build(self, node: ast.AST) -> sympy.Expr:
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.names[node.id] if node.id in self.names else CONSTANTS[node.id]
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand)
            return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp):
            return self.binary(node)
        return self.call(node)

    def number(self, node: ast.Constant) -> sympy.Expr:
        if isinstance(node.value, int):
            return sympy.Integer(node.value)
        if not math.isfinite(node.value):
            raise ScoresymInputError(f"number out of range: {_source(node, self.text)!r}")
        # The literal as written is an exact decimal: keep it exact.
        return sympy.Rational(repr(node.value))

    def binary(self, node: ast.BinOp) -> sympy.Expr:
        left, right = self.build(node.left), self.build(node.right)
        op = type(node.op)
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        if op is ast.Div:
            if right == 0:
                raise ScoresymInputError(f"division by zero: {_source(node, self.text)!r}")
            return left / right
        return self.power(left, right, node)

    def power(self, base: sympy.Expr, exponent: sympy.Expr, node: ast.AST) -> sympy.Expr:
        if base.is_Number and exponent.is_Number and base != 0:
            digits = _power_digits(base, exponent)
            if digits > MAX_DIGITS:
                raise ScoresymInputError(
                    f"constant power too large: {_source(node, self.text)!r} "
                    f"(about 10**{digits:.3g})")
        if base == 0 and exponent.is_Number and exponent.is_negative:
            raise ScoresymInputError(f"division by zero: {_source(node, self.text)!r}")
        return base**exponent

    def call(self, node: ast.Call) -> sympy.Expr:
        function = FUNCTIONS[node.func.id][0]
        args = [self.build(arg) for arg in node.args]
        # A call on numbers alone stays unevaluated: gamma(10**6) must not compute a factorial.
        evaluate = not all(arg.is_Number for arg in args)
        return function(*args, evaluate=evaluate)
