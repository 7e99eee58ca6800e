"""Safe parsing of user strings into SymPy expressions, and the rules for symbol names.

Invariant: a user's string never reaches ``eval``, ``exec``, ``sympify`` or ``parse_expr``. It is
read by a small tokenizer and an operator-precedence parser written here, which accept only
numbers, declared names, ``+ - * / **``, unary signs, parentheses, calls (positional arguments
only) to the functions in :data:`FUNCTIONS`, and the constants ``pi`` and ``E``. Every SymPy
object is built here directly, so nothing else in the string can run. Anything else raises
:class:`~scoresym.errors.ScoresymInputError` naming the offending piece.

Bounds: parsing takes time linear in the length of the string (at most :data:`MAX_LENGTH`
characters) and uses no recursion: operator chains such as a sum of thousands of terms are
built as one n-ary SymPy node, and nesting deeper than :data:`MAX_DEPTH` levels is refused.
Exact constants are limited to :data:`MAX_DIGITS` decimal digits, Python's own limit for
converting integers to text. A call on constants (``gamma(10**6)``) is kept unevaluated and its
value is estimated numerically, within a time budget, so that a non-real, infinite or over-long
constant (``log(0)``, ``acos(2)``, ``gamma(gamma(10**6))``) is refused at once.

>>> import sympy
>>> x, mu = sympy.symbols("x mu", real=True)
>>> parse_expression("exp(-(x - mu)**2 / 2)", {"x": x, "mu": mu})
exp(-(-mu + x)**2/2)
"""

from __future__ import annotations

import decimal
import keyword
import math
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from ..budget import BUDGETS, OverBudget, time_limit
from ..errors import ScoresymInputError

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
#: Decimal digits of an exact constant: Python's limit for int <-> str conversion (4300).
MAX_DIGITS = getattr(sys, "get_int_max_str_digits", lambda: 0)() or 4300
#: Levels of nesting of the built expression (calls, powers, operator chains, parentheses).
MAX_DEPTH = 100
#: Arguments of Min and Max.
MAX_ARGUMENTS = 100

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


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
    if len(text) > MAX_LENGTH:
        raise ScoresymInputError(f"expression is too long ({len(text)} > {MAX_LENGTH} characters)")
    text = text.strip()
    if not text:
        raise ScoresymInputError("empty expression")
    tokens = tokenize(text)
    _refuse_attribute_access(tokens, text)
    program = to_postfix(tokens, text)
    _refuse_undeclared(tokens, names)
    return _Builder(text, names).run(program)


# --- tokens -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Token:
    """A piece of the input: kind is "number", "name", "op", "end", or "bad" (something that has
    no place in a formula, refused with ``message`` when the parser reaches it)."""

    kind: str
    text: str
    start: int
    end: int
    message: str = ""


_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ALLOWED_OPS = ("**", "+", "-", "*", "/", "(", ")", ",")
#: Operators and punctuation that are recognized only to be refused with a clear message.
_REFUSED_OPS = ("...", "//", "<<", ">>", "<=", ">=", "==", "!=", ":=", "->", "**=", "+=", "-=",
                "*=", "/=", "^", "%", "@", "&", "|", "~", "<", ">", "=", ".", "[", "]", "{",
                "}", ":", ";", "!", "?", "$", "\\", "`", "#")
_OPERATORS = sorted(_ALLOWED_OPS + _REFUSED_OPS, key=len, reverse=True)
_STRING_PREFIXES = {"b", "r", "u", "f", "br", "rb", "fr", "rf"}
_KEYWORD_MESSAGES = {
    "lambda": "lambda is not allowed",
    "if": "conditional expression is not allowed", "else": "conditional expression is not allowed",
    "for": "comprehension is not allowed", "in": "comprehension is not allowed",
    "and": "boolean operator is not allowed", "or": "boolean operator is not allowed",
    "not": "operator 'not' is not allowed",
    "is": "comparison is not allowed",
    "await": "await is not allowed", "yield": "yield is not allowed",
}


def tokenize(text: str) -> list:
    """The tokens of ``text``, ending with an "end" token; characters and words that can have
    no place in a formula (strings, keywords, non-ASCII names, malformed numbers) become "bad"
    tokens, so that the first problem from the left is the one reported.

    >>> [t.text for t in tokenize("2*x**-1.5e3")]
    ['2', '*', 'x', '**', '-', '1.5e3', '']
    """
    tokens, i, n = [], 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char.isdigit() or (char == "." and i + 1 < n and text[i + 1].isdigit()):
            i = _number_token(text, i, tokens)
        elif char.isascii() and (char.isalpha() or char == "_"):
            i = _name_token(text, i, tokens)
        elif char in "'\"":
            end = text.find(char, i + 1)
            end = n if end < 0 else end + 1
            tokens.append(_bad(text, i, end, "only real numbers are allowed as constants, not "
                               f"the string {_quote(text[i:end])}"))
            i = end
        else:
            i = _operator_token(text, i, tokens)
    tokens.append(Token("end", "", n, n))
    return tokens


def _number_token(text: str, i: int, tokens: list) -> int:
    end = _NUMBER.match(text, i).end()
    following = text[end] if end < len(text) else ""
    if following and following in "jJ":
        tokens.append(_bad(text, i, end + 1, "only real numbers are allowed as constants, not "
                           f"{_quote(text[i:end + 1])}"))
        return end + 1
    if following and (following.isalnum() or following in "_."):
        stop = end
        while stop < len(text) and (text[stop].isalnum() or text[stop] in "_."):
            stop += 1
        tokens.append(_bad(text, i, stop, f"malformed number {_quote(text[i:stop])} at column "
                           f"{i + 1} (numbers are decimal, e.g. 2, 0.5, 1e-3)"))
        return stop
    digits = sum(c.isdigit() for c in text[i:end])
    if digits > MAX_DIGITS:
        tokens.append(_bad(text, i, end, f"a number literal has too many digits ({digits} > "
                           f"{MAX_DIGITS}, Python's limit)"))
    else:
        tokens.append(Token("number", text[i:end], i, end))
    return end


def _name_token(text: str, i: int, tokens: list) -> int:
    end = _IDENTIFIER.match(text, i).end()
    word = text[i:end]
    if end < len(text) and text[end] in "'\"" and word.lower() in _STRING_PREFIXES:
        close = text.find(text[end], end + 1)
        close = len(text) if close < 0 else close + 1
        tokens.append(_bad(text, i, close, "only real numbers are allowed as constants, not "
                           f"the string {_quote(text[i:close])}"))
        return close
    if end < len(text) and not text[end].isascii() and text[end].isidentifier():
        word = _word_at(text, i)
        tokens.append(_bad(text, i, i + len(word), f"names must be ASCII: {_quote(word)}"))
        return i + len(word)
    if word in ("True", "False", "None"):
        tokens.append(_bad(text, i, end, f"only real numbers are allowed as constants, not "
                           f"{word!r}"))
    elif keyword.iskeyword(word):
        message = _KEYWORD_MESSAGES.get(word, f"keyword {word!r} is not allowed")
        tokens.append(_bad(text, i, end, f"{message}: {_quote(text)}"))
    else:
        tokens.append(Token("name", word, i, end))
    return end


def _operator_token(text: str, i: int, tokens: list) -> int:
    for op in _OPERATORS:
        if text.startswith(op, i):
            tokens.append(Token("op", op, i, i + len(op)))
            return i + len(op)
    char = text[i]
    if char.isidentifier():
        word = _word_at(text, i)
        tokens.append(_bad(text, i, i + len(word), f"names must be ASCII: {_quote(word)}"))
        return i + len(word)
    tokens.append(_bad(text, i, i + 1, f"character {char!r} is not allowed (at column "
                       f"{i + 1})"))
    return i + 1


def _bad(text: str, start: int, end: int, message: str) -> Token:
    return Token("bad", text[start:end], start, end, message)


def _word_at(text: str, i: int) -> str:
    start = i
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    end = i
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return text[start:end]


def _quote(piece: str, limit: int = 60) -> str:
    return repr(piece if len(piece) <= limit else piece[:limit - 3] + "...")


def _refuse_attribute_access(tokens: list, text: str) -> None:
    """Attribute access (the usual road to injection) is named first, wherever it is."""
    for k, token in enumerate(tokens[1:], 1):
        before = tokens[k - 1]
        if token.text == "." and (before.kind == "name" or before.text == ")"):
            start = _operand_start(tokens, k - 1)
            after = tokens[k + 1]
            raise ScoresymInputError(
                f"attribute access is not allowed: {_quote(text[start:after.end])}")


def _operand_start(tokens: list, k: int) -> int:
    """Start offset of the operand that ends at token k (a name, or a closing parenthesis)."""
    if tokens[k].text != ")":
        return tokens[k].start
    depth = 0
    for j in range(k, -1, -1):
        depth += tokens[j].text == ")"
        depth -= tokens[j].text == "("
        if depth == 0:
            has_name = j > 0 and tokens[j - 1].kind == "name"
            return tokens[j - 1].start if has_name else tokens[j].start
    return tokens[k].start


def _refuse_undeclared(tokens: list, names: Mapping) -> None:
    called = {k for k in range(len(tokens) - 1) if tokens[k + 1].text == "("}
    undeclared = sorted({t.text for k, t in enumerate(tokens)
                         if t.kind == "name" and k not in called
                         and t.text not in names and t.text not in CONSTANTS})
    for name in undeclared:
        if name.startswith("_"):
            raise ScoresymInputError(f"name {name!r} is not allowed")
    if undeclared:
        declared = ", ".join(names) or "none"
        raise ScoresymInputError(
            f"undeclared name(s) in expression: {', '.join(undeclared)} (declared: {declared})")


# --- syntax: tokens -> postfix ------------------------------------------------------------------

#: Binary operators: precedence and whether they group to the right.
_BINARY = {"+": (1, False), "-": (1, False), "*": (2, False), "/": (2, False), "**": (4, True)}
_UNARY_PRECEDENCE = 3  # -x**2 is -(x**2); -a*b is (-a)*b
#: Parentheses and calls open at once: the same bound as Python's parser.
MAX_NESTING = 200


@dataclass(frozen=True)
class Instruction:
    """One step of the postfix program: push a number or name, apply an operator, or call a
    function on the top ``count`` values; ``start``/``end`` delimit the piece of text it makes."""

    kind: str  # "number", "name", "unary", "binary", "call", "group"
    text: str
    start: int
    end: int
    count: int = 0


class _Frame:
    """An open parenthesis, or an open call and the commas seen in it, on the operator stack."""

    def __init__(self, token: Token, function: Token | None):
        self.token, self.function, self.commas = token, function, 0


def to_postfix(tokens: list, text: str) -> list:
    """Check the syntax of ``tokens`` and return the postfix program that builds the value
    (shunting-yard, with explicit stacks: no recursion, linear time).

    >>> [i.text for i in to_postfix(tokenize("-x**2 + 1"), "-x**2 + 1")]
    ['x', '2', '**', '-', '1', '+']
    """
    return _Parser(tokens, text).run()


class _Parser:
    """Shunting-yard over the tokens; ``stack`` holds operator Tokens (unary ones have kind
    "unary") and _Frames."""

    def __init__(self, tokens: list, text: str):
        self.tokens, self.text = tokens, text
        self.output: list = []
        self.stack: list = []
        self.open = 0

    def run(self) -> list:
        expect_value = True
        for k, token in enumerate(self.tokens):
            expect_value = self.value(k, token) if expect_value else self.operator(k, token)
        return self.output

    def value(self, k: int, token: Token) -> bool:
        """A value is expected: a number, a name, a call, "(" or a sign. Returns whether a
        value is still expected."""
        if token.kind == "bad":
            raise ScoresymInputError(token.message)
        if token.kind == "number" or (token.kind == "name" and self.tokens[k + 1].text != "("):
            self.output.append(Instruction(token.kind, token.text, token.start, token.end))
            return False
        if token.kind == "name":
            _require_function(token.text)
            return True  # its "(" follows and opens the call
        if token.text == "(":
            function = self.tokens[k - 1] if k and self.tokens[k - 1].kind == "name" else None
            self.push_frame(_Frame(token, function))
            return True
        if token.text in ("+", "-"):
            self.stack.append(Token("unary", token.text, token.start, token.end))
            return True
        if token.text == ")" and k and self.tokens[k - 1].text == "(" and self.in_call(top=True):
            return self.close(token, arguments=0)
        if token.text in ("*", "**") and k and self.tokens[k - 1].text in ("(", ",") \
                and self.in_call():
            raise ScoresymInputError(f"starred arguments are not allowed: "
                                     f"{_quote(self.text[self.tokens[k - 1].start:])}")
        raise ScoresymInputError(_unexpected_message(token, "a value", self.text))

    def operator(self, k: int, token: Token) -> bool:
        """After a value: an operator, ",", ")" or the end. Returns whether a value is expected."""
        if token.kind == "bad":
            raise ScoresymInputError(token.message)
        if token.kind == "end":
            self.unwind()
            if self.stack:
                raise ScoresymInputError(f"invalid expression syntax at column "
                                         f"{self.stack[-1].token.start + 1}: '(' was never closed")
            return False
        if token.text in _BINARY:
            self.binary(token)
            return True
        if token.text == ",":
            self.unwind()
            if not self.in_call(top=True):
                raise ScoresymInputError(f"tuples are not allowed: {_quote(self.text)}")
            self.stack[-1].commas += 1
            return True
        if token.text == ")":
            self.unwind()
            commas = self.stack[-1].commas if self.stack else 0
            return self.close(token, arguments=commas + 1)
        if token.text == "(":
            raise ScoresymInputError(f"only calls of named functions are allowed: "
                                     f"{_quote(self.text[:token.end])}...")
        if token.text == "=" and self.in_call():
            piece = self.text[self.tokens[k - 1].start:self.tokens[k + 1].end]
            raise ScoresymInputError(f"keyword arguments are not allowed: {_quote(piece)}")
        raise ScoresymInputError(_unexpected_message(token, "an operator", self.text))

    def binary(self, token: Token) -> None:
        precedence, right = _BINARY[token.text]
        while self.stack and isinstance(self.stack[-1], Token):
            top = self.stack[-1]
            top_precedence = _UNARY_PRECEDENCE if top.kind == "unary" else _BINARY[top.text][0]
            if not (top_precedence > precedence or (top_precedence == precedence and not right)):
                break
            self.apply(self.stack.pop())
        self.stack.append(token)

    def close(self, token: Token, arguments: int) -> bool:
        """")" closes the innermost parenthesis or call (whose operators are applied)."""
        if not self.stack:
            raise ScoresymInputError(f"invalid expression syntax at column {token.start + 1}: "
                                     "unmatched ')'")
        frame = self.stack.pop()
        self.open -= 1
        if frame.function is None:
            self.output.append(Instruction("group", "()", frame.token.start, token.end))
            return False
        name = frame.function.text
        arity = FUNCTIONS[name][1]
        if (arity is None and not 2 <= arguments <= MAX_ARGUMENTS) or \
                (arity is not None and arguments != arity):
            wanted = f"2 to {MAX_ARGUMENTS}" if arity is None else str(arity)
            raise ScoresymInputError(f"{name} takes {wanted} argument(s), got {arguments}: "
                                     f"{_quote(self.text[frame.function.start:token.end])}")
        self.output.append(Instruction("call", name, frame.function.start, token.end,
                                       arguments))
        return False

    def push_frame(self, frame: _Frame) -> None:
        self.open += 1
        if self.open > MAX_NESTING:
            raise ScoresymInputError(f"expression is nested too deeply: too many nested "
                                     f"parentheses (more than {MAX_NESTING})")
        self.stack.append(frame)

    def apply(self, token: Token) -> None:
        kind = "unary" if token.kind == "unary" else "binary"
        self.output.append(Instruction(kind, token.text, token.start, token.end))

    def unwind(self) -> None:
        """Apply every operator down to the nearest open parenthesis or call."""
        while self.stack and isinstance(self.stack[-1], Token):
            self.apply(self.stack.pop())

    def in_call(self, top: bool = False) -> bool:
        """Whether the innermost open frame (with ``top``: the top of the stack) is a call."""
        for entry in reversed(self.stack):
            if isinstance(entry, _Frame):
                return entry.function is not None
            if top:
                return False
        return False


def _require_function(name: str) -> None:
    if name not in FUNCTIONS:
        raise ScoresymInputError(
            f"function {name!r} is not allowed (allowed: {', '.join(sorted(FUNCTIONS))})")


def _unexpected_message(token: Token, wanted: str, text: str) -> str:
    where = f"at column {token.start + 1}"
    if token.kind == "end":
        return f"invalid expression syntax {where}: the expression ends where {wanted} is expected"
    rest = _quote(text[token.start:])
    if token.text == "[":
        return (f"subscripts are not allowed: {_quote(text[max(0, token.start - 20):])}"
                if wanted == "an operator" else f"lists are not allowed: {rest}")
    special = {"^": "operator '^' is not allowed; use ** for powers",
               "{": f"dicts and sets are not allowed: {rest}",
               "=": f"assignment is not allowed: {_quote(text)}",
               ":=": f"assignment expression is not allowed: {_quote(text)}",
               "...": "the Ellipsis '...' is not allowed",
               ".": "attribute access is not allowed"}
    if token.text in special:
        return special[token.text]
    if token.text in ("<", ">", "<=", ">=", "==", "!="):
        return f"comparison is not allowed: {_quote(text)}"
    if token.text in ("%", "//", "@", "&", "|", "<<", ">>", "~"):
        return f"operator {token.text!r} is not allowed"
    if token.kind in ("name", "number") and wanted == "an operator":
        return (f"invalid expression syntax {where}: a value follows a value without an "
                f"operator ({_quote(text[max(0, token.start - 10):token.end])}); write * for "
                "products")
    return f"invalid expression syntax {where}: unexpected {token.text!r}"


# --- values: postfix -> SymPy ------------------------------------------------------------------

@dataclass
class _Value:
    """A value on the builder's stack: a SymPy expression, or an open chain of terms (an Add)
    or factors (a Mul, with denominators) that later operators of the same kind extend in place,
    so a chain of n operators costs O(n), not O(n^2)."""

    expr: object  # sympy.Expr, or a list of terms ("add"), or (factors, denominators) ("mul")
    start: int
    end: int
    depth: int
    chain: str = ""  # "", "add" or "mul"
    signed: bool = False  # made by a unary sign: another sign collapses into it (- -x = x)


class _Builder:
    """Run a postfix program (already checked for syntax and names) into a SymPy expression."""

    def __init__(self, text: str, names: Mapping[str, sympy.Symbol]):
        self.text, self.names = text, names

    def run(self, program: list) -> sympy.Expr:
        stack: list = []
        for step in program:
            if step.kind in ("number", "name"):
                expr = self.number(step) if step.kind == "number" else self.name(step)
                stack.append(_Value(expr, step.start, step.end, 0))
            elif step.kind == "group":
                stack[-1].start, stack[-1].end = step.start, step.end
            elif step.kind == "unary":
                value = stack.pop()
                expr = -self.finish(value) if step.text == "-" else self.finish(value)
                depth = value.depth + (not value.signed)
                stack.append(self.checked(_Value(expr, step.start, value.end, depth,
                                                 signed=True)))
            elif step.kind == "binary":
                right, left = stack.pop(), stack.pop()
                stack.append(self.checked(self.binary(step.text, left, right)))
            else:
                arguments = [stack.pop() for _ in range(step.count)][::-1]
                stack.append(self.checked(self.call(step, arguments)))
        (value,) = stack
        return self.finish(value)

    def checked(self, value: _Value) -> _Value:
        if value.depth > MAX_DEPTH:
            raise ScoresymInputError(f"expression is nested too deeply (more than {MAX_DEPTH} "
                                     f"levels): {_quote(self.piece(value))}")
        return value

    def piece(self, value: _Value) -> str:
        return self.text[value.start:value.end]

    def name(self, step: Instruction) -> sympy.Expr:
        return self.names[step.text] if step.text in self.names else CONSTANTS[step.text]

    def number(self, step: Instruction) -> sympy.Expr:
        text = step.text
        if not any(c in text for c in ".eE"):
            return sympy.Integer(int(text))
        value = float(text)
        exact = decimal.Decimal(text)
        if not math.isfinite(value) or (value == 0 and exact != 0):
            raise ScoresymInputError(f"number out of range: {_quote(text)} (double precision "
                                     "holds magnitudes from about 1e-308 to 1.8e308)")
        # the literal as written is an exact decimal: keep it exact
        return sympy.Rational(*exact.as_integer_ratio())

    def finish(self, value: _Value) -> sympy.Expr:
        """The SymPy expression of a value, closing its chain if it has one (a product or sum
        of constants is held to the digit limit, like a power)."""
        if value.chain == "add":
            value.expr, value.chain = sympy.Add(*value.expr), ""
        elif value.chain == "mul":
            factors, denominators = value.expr
            expr = sympy.Mul(*factors)
            if denominators:
                expr = expr / sympy.Mul(*denominators)
            value.expr, value.chain = expr, ""
        else:
            return value.expr
        for number in (value.expr, *value.expr.args):  # the chain's own numbers
            if number.is_Rational and _rational_digits(number) > MAX_DIGITS:
                raise ScoresymInputError(
                    f"constant too large: {_quote(self.piece(value))} (about "
                    f"{_digit_count(_rational_digits(number))} digits; the limit is "
                    f"{MAX_DIGITS}, Python's own)")
        return value.expr

    def binary(self, op: str, left: _Value, right: _Value) -> _Value:
        start, end = left.start, right.end
        depth = max(left.depth, right.depth) + 1
        chain = "add" if op in ("+", "-") else "mul" if op in ("*", "/") else ""
        if chain and left.chain == chain:  # extend the chain: one level, however long
            depth = max(left.depth, right.depth + 1)
        if chain == "add":
            term = self.finish(right)
            term = -term if op == "-" else term
            terms = left.expr if left.chain == "add" else [self.finish(left)]
            terms.append(term)
            return _Value(terms, start, end, depth, "add")
        if chain == "mul":
            factor = self.finish(right)
            if op == "/" and factor == 0:
                raise ScoresymInputError(f"division by zero: {_quote(self.text[start:end])}")
            factors, denominators = left.expr if left.chain == "mul" else ([self.finish(left)], [])
            (denominators if op == "/" else factors).append(factor)
            return _Value((factors, denominators), start, end, depth, "mul")
        return _Value(self.power(self.finish(left), self.finish(right), start, end),
                      start, end, depth)

    def power(self, base, exponent, start: int, end: int) -> sympy.Expr:
        piece = self.text[start:end]
        if base.is_Number and exponent.is_Number and base != 0:
            digits = _power_digits(base, exponent)
            if digits > MAX_DIGITS:
                raise ScoresymInputError(
                    f"constant power too large: {_quote(piece)} (about {_digit_count(digits)} "
                    f"digits; the limit is {MAX_DIGITS}, Python's own)")
        if base == 0 and exponent.is_Number and exponent.is_negative:
            raise ScoresymInputError(f"division by zero: {_quote(piece)}")
        if base.free_symbols or exponent.free_symbols:
            return base**exponent
        # a constant power: exact when both are numbers (2**10, 4**(1/2)); either way it must
        # be a usable real number ((-8)**(1/3) is not)
        expr = base**exponent if base.is_Number and exponent.is_Number \
            else sympy.Pow(base, exponent, evaluate=False)
        if not expr.is_Rational:
            _require_real_constant(expr, piece)
        return expr

    def call(self, step: Instruction, arguments: list) -> _Value:
        function = FUNCTIONS[step.text][0]
        args = [self.finish(a) for a in arguments]
        depth = max(a.depth for a in arguments) + 1
        piece = self.text[step.start:step.end]
        if any(a.free_symbols for a in args):
            return _Value(function(*args), step.start, step.end, depth)
        # A call on constants stays unevaluated (gamma(10**6) must not compute a factorial);
        # its value is estimated numerically to refuse what is not a usable real constant.
        expr = function(*args, evaluate=False)
        _require_real_constant(expr, piece)
        return _Value(expr, step.start, step.end, depth)


def _power_digits(base: sympy.Rational, exponent: sympy.Rational) -> float:
    """Decimal digits of base**exponent, about |exponent * log10|base||, without computing it."""
    p, q = sympy.fraction(abs(sympy.Rational(base)))
    log_base = abs(_log10(int(p)) - _log10(int(q)))
    try:
        return abs(float(exponent)) * log_base
    except OverflowError:
        return math.inf


def _rational_digits(r: sympy.Rational) -> float:
    """Decimal digits of the larger of r's numerator and denominator, without printing them."""
    return max(abs(int(r.p)).bit_length(), int(r.q).bit_length()) * math.log10(2)


def _digit_count(digits: float) -> str:
    return f"{digits:.3g}" if not math.isfinite(digits) or digits > 1e15 else f"{digits:,.0f}"


def _log10(k: int) -> float:
    """log10 of a positive integer of any size (math.log10 takes big ints exactly)."""
    return math.log10(k)


def constant_value(expr: sympy.Expr, budget: float | None = None):
    """A 15-digit numerical value of a constant expression, or None when it cannot be had in
    the time budget. SymPy's evalf works with arbitrary exponents, so huge and tiny values are
    represented exactly enough to be judged.

    >>> constant_value(sympy.gamma(10**6, evaluate=False))
    8.26393168833124e+5565702
    """
    try:
        with time_limit(BUDGETS.constant if budget is None else budget):
            return expr.evalf(15)
    except (OverBudget, ArithmeticError, ValueError, TypeError, RecursionError):
        return None


def describe_constant(expr: sympy.Expr, value) -> str | None:
    """Why ``expr`` (with numerical ``value``) is not a usable real constant, or None if it is:
    it must be finite, real and have at most MAX_DIGITS digits."""
    if value is None:
        return "cannot be evaluated within the time budget"
    if value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan) or not value.is_number:
        return "is not finite"
    real, imaginary = value.as_real_imag()
    if imaginary != 0 and abs(imaginary) > 1e-15 * max(1, abs(real)):
        return f"is not a real number (it is {sympy.N(value, 6)})"
    if real != 0 and abs(real) >= sympy.Float(10) ** MAX_DIGITS:
        return (f"is too large (about 10**{int(sympy.log(abs(real), 10))}; exact constants are "
                f"limited to {MAX_DIGITS} digits, Python's own limit)")
    return None


def _require_real_constant(expr: sympy.Expr, piece: str) -> None:
    problem = describe_constant(expr, constant_value(expr))
    if problem:
        raise ScoresymInputError(f"the constant {_quote(piece)} {problem}")


#: The range of double precision: compiled code cannot hold a constant outside it.
DOUBLE_MAX = sympy.Float(1.7976931348623157e308)
DOUBLE_TINY = sympy.Float(2.2250738585072014e-308)


def constant_parts(expr: sympy.Expr) -> list:
    """The maximal subexpressions of ``expr`` that hold no symbol (numbers, pi, log(3), ...),
    found without recursion.

    >>> x = sympy.Symbol("x")
    >>> sorted(map(str, constant_parts(3*x**2 + sympy.log(5)*x)))
    ['2', '3', 'log(5)']
    """
    symbolic = _holds_a_symbol(expr)
    found, stack, seen = [], [expr], set()
    while stack:
        node = stack.pop()
        if node in seen or not isinstance(node, sympy.Basic) or node.is_Symbol:
            continue
        seen.add(node)
        if not symbolic[node]:
            found.append(node)
        else:
            stack.extend(node.args)
    return found


def _holds_a_symbol(expr: sympy.Expr) -> dict:
    """{node: whether a Symbol occurs in it} for every node of ``expr``, in one bottom-up pass
    over its distinct subexpressions (a derivative's expression shares them heavily: asking
    each node for its free symbols would walk the shared parts again and again)."""
    symbolic, stack = {}, [(expr, False)]
    while stack:
        node, children_done = stack.pop()
        if node in symbolic:
            continue
        if not isinstance(node, sympy.Basic) or not node.args:
            symbolic[node] = isinstance(node, sympy.Basic) and node.is_Symbol
        elif children_done:
            symbolic[node] = any(symbolic[a] for a in node.args)
        else:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a not in symbolic)
    return symbolic


def require_double_constants(expr: sympy.Expr, what: str) -> None:
    """Raise ScoresymInputError naming the first constant in ``expr`` that is not finite, not
    real, or outside double precision's range (overflows to inf or underflows to 0 in compiled
    code); ``what`` names the expression ("the log-density").

    >>> x = sympy.Symbol("x")
    >>> require_double_constants(-x**2 * sympy.Float("1e400"), "log f")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: log f has a constant -1.00e+400 that ... (it overflows; ...)
    """
    for part in constant_parts(expr):
        problem = _double_problem(part)
        if problem:
            raise ScoresymInputError(f"{what} has a constant {_short(part)} {problem}")


def _double_problem(part: sympy.Expr) -> str | None:
    if part.is_Integer and abs(part) < 2**53:
        return None
    value = part if part.is_Rational else constant_value(part)
    problem = describe_constant(part, value)
    if problem:
        return problem
    real = abs(sympy.re(value))
    if real > DOUBLE_MAX:
        return "that double precision cannot hold (it overflows; |c| must be below 1.8e308)"
    if real != 0 and real < DOUBLE_TINY:
        return ("that double precision cannot hold (it underflows to 0; |c| must be above "
                "2.2e-308)")
    return None


def _short(part: sympy.Expr) -> str:
    text = str(part)
    return text if len(text) <= 40 else sympy.N(part, 3).__str__() if part.is_Number \
        else _quote(text, 40)


def require_shallow(expr: sympy.Expr, what: str) -> None:
    """Refuse a SymPy expression nested deeper than MAX_DEPTH levels (SymPy's own algorithms
    recurse on the tree and would fail with RecursionError), measured without recursion.

    >>> x = sympy.Symbol("x")
    >>> e = x
    >>> for _ in range(150):
    ...     e = sympy.sin(e)
    >>> require_shallow(e, "log_density")
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: log_density is nested too deeply (more than 100 levels)
    """
    stack = [(expr, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ScoresymInputError(f"{what} is nested too deeply (more than {MAX_DEPTH} "
                                     "levels)")
        stack.extend((arg, depth + 1) for arg in node.args)
