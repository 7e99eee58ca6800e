r"""Display notation for derivations: abstract objects (the data score, an expectation, a squared
norm, a boundary bracket) as SymPy objects that print as text, Unicode and LaTeX.

Invariant: these objects only display. They never evaluate; a derivation step that makes a numeric
claim carries concrete expressions for it separately (see :mod:`scoresym.derive.derivation`).

>>> import sympy
>>> s = Notation("s", "s_θ(x)", r"s_\theta(x)")
>>> print(sympy.latex(Expectation(SquaredNorm(s) / 2, "p")))
\mathbb{E}_{p}\left[\frac{\left\|s_\theta(x)\right\|^{2}}{2}\right]
>>> print(Expectation(SquaredNorm(s) / 2, "p"))
E_p[||s_θ(x)||^2/2]
"""

from __future__ import annotations

import sympy
from sympy.printing.pretty.stringpict import prettyForm, stringPict


class Notation(sympy.Symbol):
    """An abstract quantity with its own text and LaTeX forms, e.g. ∇ₓ log p(x)."""

    _forms: dict = {}

    def __new__(cls, name: str, text: str, latex: str):
        obj = super().__new__(cls, f"notation_{name}")
        cls._forms[obj.name] = (text, latex)
        return obj

    @property
    def text(self) -> str:
        return self._forms[self.name][0]

    def _latex(self, printer, exp=None):
        return _power(self._forms[self.name][1], exp, wrap=False)

    def _sympystr(self, printer):
        return self.text

    def _pretty(self, printer):
        return prettyForm(self.text)


def _power(tex: str, exp, wrap: bool = True) -> str:
    """tex, raised to the LaTeX power ``exp`` when the printer asks for one."""
    if exp is None:
        return tex
    return rf"\left({tex}\right)^{{{exp}}}" if wrap else rf"{{{tex}}}^{{{exp}}}"


def _label(arg) -> str:
    return str(arg.name) if isinstance(arg, sympy.Symbol) else str(arg)


class Expectation(sympy.Function):
    """E_q[h]: Expectation(h, q) with q a label ("p", "p_data", "v", "x,ε")."""

    nargs = 2

    @classmethod
    def eval(cls, *args):
        return None

    def __new__(cls, integrand, label, **options):
        label = sympy.Symbol(label) if isinstance(label, str) else label
        return super().__new__(cls, integrand, label, evaluate=False)

    def _latex(self, printer, exp=None):
        label = _label(self.args[1]).replace("ε", r"\varepsilon").replace("σ", r"\sigma")
        return _power(rf"\mathbb{{E}}_{{{label}}}\left[{printer._print(self.args[0])}\right]", exp)

    def _sympystr(self, printer):
        return f"E_{_label(self.args[1])}[{printer._print(self.args[0])}]"

    def _pretty(self, printer):
        inner = prettyForm(*printer._print(self.args[0]).parens("[", "]"))
        return prettyForm(*stringPict.next(prettyForm(f"E_{_label(self.args[1])}"), inner))


class SquaredNorm(sympy.Function):
    """||a||^2 of a vector quantity a."""

    nargs = 1

    def _latex(self, printer, exp=None):
        return _power(rf"\left\|{printer._print(self.args[0])}\right\|^{{2}}", exp)

    def _sympystr(self, printer):
        return f"||{printer._print(self.args[0])}||^2"

    def _pretty(self, printer):
        inner = printer._print(self.args[0])
        if inner.height() == 1:
            inner = prettyForm(*stringPict.next(prettyForm("‖"), inner, prettyForm("‖")))
        else:
            inner = prettyForm(*prettyForm(*inner.parens("|", "|")).parens("|", "|"))
        return prettyForm(*stringPict.next(inner, prettyForm("²")))


class Dot(sympy.Function):
    """a^T b of two vector quantities."""

    nargs = 2

    def _latex(self, printer, exp=None):
        a, b = (printer._print(arg) for arg in self.args)
        return _power(rf"{a}^{{\top}} {b}", exp)

    def _sympystr(self, printer):
        return f"{printer._print(self.args[0])}·{printer._print(self.args[1])}"

    def _pretty(self, printer):
        a, b = (printer._print(arg) for arg in self.args)
        return prettyForm(*stringPict.next(a, prettyForm("·"), b))


class Bracket(sympy.Function):
    """[h]_{x=lo}^{x=hi} = lim h at hi minus lim h at lo: Bracket(h, x, lo, hi)."""

    nargs = 4

    def _latex(self, printer, exp=None):
        h, x, lo, hi = (printer._print(arg) for arg in self.args)
        return _power(rf"\Big[{h}\Big]_{{{x}={lo}}}^{{{x}={hi}}}", exp)

    def _sympystr(self, printer):
        h, x, lo, hi = (printer._print(arg) for arg in self.args)
        return f"[{h}]_({x}={lo})^({x}={hi})"

    def _pretty(self, printer):
        h, x, lo, hi = (printer._print(arg) for arg in self.args)
        inner = prettyForm(*printer._print(self.args[0]).parens("[", "]"))
        return prettyForm(*stringPict.next(inner, prettyForm(f" from {x}={lo} to {x}={hi}")))


class WeightedSquaredNorm(SquaredNorm):
    """||a||_w^2 = sum_k w_k a_k^2."""

    def _latex(self, printer, exp=None):
        return _power(rf"\left\|{printer._print(self.args[0])}\right\|_{{w}}^{{2}}", exp)

    def _sympystr(self, printer):
        return f"||{printer._print(self.args[0])}||_w^2"

    def _pretty(self, printer):
        return prettyForm(*stringPict.next(super()._pretty(printer), prettyForm("_w")))


class WeightedDot(Dot):
    """a^T W b with W = diag(w)."""

    def _latex(self, printer, exp=None):
        a, b = (printer._print(arg) for arg in self.args)
        return _power(rf"{a}^{{\top}} W {b}", exp)

    def _sympystr(self, printer):
        return f"{printer._print(self.args[0])}·W {printer._print(self.args[1])}"

    def _pretty(self, printer):
        a, b = (printer._print(arg) for arg in self.args)
        return prettyForm(*stringPict.next(a, prettyForm("·W "), b))
