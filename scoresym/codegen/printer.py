"""SymPy expressions printed as the Python source of vectorized functions.

Invariant: generated code is built only from validated identifiers (``v_<name>`` for variables,
``p_<name>`` for parameters, ``_t<k>`` for common subexpressions, ``_shift<k>`` for the shifts of
stable log-sum-exps) and SymPy's SciPy printer; no user string is ever executed. Every constant
that is not a plain number is printed as its value correctly rounded to double precision.

>>> x = sympy.Symbol("x")
>>> print(generate_source("f", [sympy.tanh(x) / (1 + sympy.tanh(x)**2)], (x,), (), "scalar"))
def f(X):
    v_x = X[:, 0]
    _t0 = numpy.tanh(v_x)
    return _rows(_t0/(_t0**2 + 1), X)
"""

from __future__ import annotations

import sympy
from sympy.printing.numpy import SciPyPrinter

from ..errors import ScoresymInputError
from ..symbolic.expressions import (
    check_name,
    constant_parts,
    constant_value,
    describe_constant,
)
from ..symbolic.operators import shifted_differences
from ..symbolic.stable import stable_forms


class Printer(SciPyPrinter):
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

    def _print_StableErfc(self, expr):
        return f"scipy.special.erfc({self._print(expr.args[0])})"

    def _print_Erfcx(self, expr):
        return f"_erfcx({self._print(expr.args[0])})"

    def _print_ErfcxGap(self, expr):
        return f"_erfcx_gap({self._print(expr.args[0])})"

    def _print_PowerOfTwoScale(self, expr):
        return f"_power_of_two_scale({', '.join(self._print(a) for a in expr.args)})"

    def _print_OverScale(self, expr):
        x, scale = (self._print(a) for a in expr.args)
        return f"({x}/{scale})"

    def _print_LogErfc(self, expr):
        return f"_log_erfc({self._print(expr.args[0])})"

    def _print_LogCosh(self, expr):
        u = self._print(expr.args[0])
        return f"(numpy.logaddexp({u}, -({u})) - {repr(float(sympy.log(2)))})"

    def _print_Softplus(self, expr):
        return f"numpy.logaddexp(0.0, {self._print(expr.args[0])})"

    def _print_ExpNegAbs(self, expr):
        return f"numpy.exp(-numpy.abs({self._print(expr.args[0])}))"

    def _print_ReciprocalOnePlus(self, expr):
        return f"(1.0/(1.0 + {self._print(expr.args[0])}))"

    def _print_NonNegativeSelect(self, expr):
        u, a, b = (self._print(e) for e in expr.args)
        return f"numpy.where({u} >= 0, {a}, {b})"

    def _print_ByMagnitude(self, expr):
        x, small, large = (self._print(a) for a in expr.args)
        return f"numpy.where(numpy.abs({x}) < 1, {small}, {large})"

    def _print_Near(self, expr):
        x = self._print(expr.args[0])
        return f"numpy.where(numpy.abs({x}) < 1, {x}, 0.5)"

    def _print_Far(self, expr):
        x = self._print(expr.args[0])
        return f"numpy.where(numpy.abs({x}) < 1, 2.0, {x})"

    def _print_Heaviside(self, expr):
        # the derivative of Min, Max and Abs at their kink is 0 (genscore's convention for
        # min(x, C): h'(C) = 0, so ties in rounded data give its estimate): Heaviside(0) is 0,
        # unless written Heaviside(u, h0) with h0 other than SymPy's default 1/2
        u = self._print(expr.args[0])
        at_zero = expr.args[1] if len(expr.args) > 1 else sympy.S.Half
        at_zero = 0.0 if at_zero == sympy.S.Half else float(at_zero)
        return f"numpy.where({u} > 0, 1.0, numpy.where({u} < 0, 0.0, {at_zero!r}))"

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

    """
    names, lines, printer, reduced, used = _evaluation(outputs, variables, params, shifts)
    signature = ", ".join(["X"] + [names[p] for p in params])
    symbols = set().union(*(sympy.sympify(e).free_symbols for e in used))
    columns = [f"    {names[v]} = X[:, {i}]" for i, v in enumerate(variables) if v in symbols]
    return "\n".join([f"def {name}({signature}):"] + columns + lines
                     + [f"    return {_result(printer, reduced, shape, len(variables))}"])


def generate_elementwise(name: str, outputs: list, variable: sympy.Symbol, params: tuple,
                         shifts: dict | None = None) -> str:
    """Python source of ``def <name>(T, <params>)`` returning the tuple of ``outputs`` (each
    depending on ``variable``) at every entry of the array T, whatever its shape, with one
    CSE pass and the same stable forms and shifts as :func:`generate_source`.

    >>> t = sympy.Symbol("t", real=True)
    >>> print(generate_elementwise("f", [sympy.tanh(t), sympy.tanh(t)**2], t, ()))
    def f(T):
        _t0 = numpy.tanh(T)
        return (_t0, _t0**2,)
    """
    names, lines, printer, reduced, _ = _evaluation(outputs, (variable,), params, shifts,
                                                    {variable: "T"})
    signature = ", ".join(["T"] + [names[p] for p in params])
    items = "".join(f"{_print(printer, e)}, " for e in reduced).rstrip(" ")
    return "\n".join([f"def {name}({signature}):"] + lines + [f"    return ({items})"])


def _evaluation(outputs, variables, params, shifts, fixed_names=None) -> tuple:
    """(names, lines of the shifts and common subexpressions, printer, reduced outputs, the
    expressions evaluated)."""
    shifts = shifts or {}
    rounded = {}
    outputs = [rounded_constants(stable_forms(shifted_differences(e, shifts), variables),
                                 rounded) for e in outputs]
    shifts = {s: rounded_constants(stable_forms(e, variables), rounded)
              for s, e in shifts.items()}
    names = {v: f"v_{check_name(v.name, 'variable')}" for v in variables}
    names.update(fixed_names or {})
    names.update({p: f"p_{check_name(p.name, 'param')}" for p in params})
    names.update({s: f"_shift{k}" for k, s in enumerate(shifts)})
    replacements, reduced = sympy.cse(outputs, symbols=sympy.numbered_symbols("_t"),
                                      order="none")
    names.update({sym: sym.name for sym, _ in replacements})
    printer = Printer(names)
    lines = [f"    {names[s]} = {_print(printer, e)}" for s, e in shifts.items()]
    lines += [f"    {sym.name} = {_print(printer, e)}" for sym, e in replacements]
    return names, lines, printer, reduced, list(outputs) + list(shifts.values())


def _print(printer: Printer, expr: sympy.Expr) -> str:
    try:
        return printer.doprint(expr)
    except Exception as exc:  # SymPy raises a bare PrintMethodNotImplementedError subclass
        raise ScoresymInputError(f"cannot compile {expr}: {str(exc).splitlines()[0]}") from None


def _result(printer: Printer, reduced: list, shape: str, d: int) -> str:
    items = [_print(printer, e) for e in reduced]
    if shape == "scalar":
        return f"_rows({items[0]}, X)"
    if shape == "vector":
        return f"_columns([{', '.join(items)}], X)"
    rows = [f"[{', '.join(items[i * d:(i + 1) * d])}]" for i in range(d)]
    return f"_matrix([{', '.join(rows)}], X)"
