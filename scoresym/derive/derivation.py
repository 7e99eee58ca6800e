"""Step and Derivation: a derivation made concrete for a model, rendered and checked step by step.

Invariant: a Step displays ``lhs = rhs`` with a title and a one-sentence reason. A step that makes a
numeric claim carries ``claim``, a function of a check context returning a CheckResult that
evaluates both sides by independent routes; a step without one is a definition and says so
(``kind == "definition"``). ``Derivation.check`` runs every claim.

>>> import sympy
>>> x = sympy.Symbol("x")
>>> d = Derivation("demo", [Step("A square", (x + 1)**2, x**2 + 2*x + 1, "Expand.")], None)
>>> print(d.to_text())
demo
<BLANKLINE>
1. A square
   Expand.
<BLANKLINE>
          2    2
   (x + 1)  = x  + 2⋅x + 1
<BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import sympy

from ..errors import NotComputable, ScoresymInputError


class NotCheckable(Exception):
    """A step's claim cannot be evaluated here (for example an integral in d > 2)."""


class StepChecks(list):
    """The CheckResults of a derivation's steps; ``skipped`` lists (step number, title, reason)
    for claims that could not be evaluated, and ``ok`` says whether every result is as the
    mathematics expects."""

    def __init__(self, results=(), skipped=()):
        super().__init__(results)
        self.skipped = list(skipped)

    @property
    def ok(self) -> bool:
        """Every result as the mathematics expects (a step whose expectation is undecided
        counts neither way)."""
        return all(r.ok == r.details["expected_ok"] for r in self
                   if r.details["expected_ok"] is not None)

    def _repr_markdown_(self) -> str:
        """Jupyter shows the checks as the table of ``checks_table``."""
        return checks_table(self)


def as_expected(result) -> str:
    """"yes", "NO", or "undecided" for a step's CheckResult."""
    expected = result.details["expected_ok"]
    return "undecided" if expected is None else "yes" if result.ok == expected else "NO"


@dataclass
class Step:
    """One step: ``lhs = rhs`` because of ``reason``; ``claim(context)`` checks it numerically.

    ``expected_ok`` says whether the step must hold: True, False, or the Conditions on the
    parameters under which it holds (a boundary term that vanishes only for some of them),
    decided at the parameters of the check. Where the Conditions are undecided symbolically,
    the step marked ``decides`` (the boundary term, computed exactly at those values) decides
    for every step that shares them.

    The step asserts the equation ``equation() = Eq(lhs, rhs)``; ``kind`` is "identity" when a
    claim checks it numerically (claim(context) -> CheckResult comparing lhs and rhs), else
    "definition".

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> step = Step("A square", (x + 1)**2, x**2 + 2*x + 1, "Expand.")
    >>> step.kind, sympy.expand(step.lhs - step.rhs) == 0
    ('definition', True)
    >>> step.equation()
    Eq((x + 1)**2, x**2 + 2*x + 1)
    """

    title: str
    lhs: sympy.Basic
    rhs: sympy.Basic
    reason: str
    claim: Callable | None = field(default=None, repr=False)
    expected_ok: object = True
    decides: bool = False

    @property
    def kind(self) -> str:
        return "definition" if self.claim is None else "identity"

    def equation(self) -> sympy.Basic:
        return sympy.Eq(self.lhs, self.rhs, evaluate=False)


@dataclass
class Derivation:
    """A titled list of steps and the result they reach.

    The steps form the chain lhs_k = rhs_k, k = 1..K, each with its reason, ending at
    ``result``; ``check(params)`` evaluates each step that makes a numeric claim, both sides
    by independent routes, and ``to_text``, ``to_markdown`` and ``to_latex`` render it.

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> d = Derivation("demo", [Step("A square", (x + 1)**2, x**2 + 2*x + 1, "Expand.")],
    ...                x**2 + 2*x + 1)
    >>> print(d.to_markdown().splitlines()[2])
    **1. A square.** Expand.
    >>> import scoresym as ss
    >>> stein = ss.derive(ss.zoo.get("gaussian_1d").model, "stein", test_function="x**2")
    >>> stein.result                                    # E[g s] = -E[div g] with g = x^2
    Eq(E_p[x**2*(mu - x)/s2], -E_p[2*x])
    >>> checks = stein.check({"mu": 0.5, "s2": 2.0})
    >>> len(checks), checks.ok                    # every claim as the mathematics expects
    (5, True)
    """

    title: str
    steps: list
    result: sympy.Basic | None
    context_factory: Callable | None = field(default=None, repr=False)
    notes: list = field(default_factory=list)
    subject: sympy.Basic | None = None  # the model's log f, shown after the title

    def heading(self, latex: bool = False) -> str:
        """The title, followed by the model's log f when there is one."""
        if self.subject is None:
            return self.title
        if latex:
            return f"{self.title} for $\\log f = {_latex(self.subject)}$"
        return f"{self.title} for log f = {self.subject}"

    # --- rendering ----------------------------------------------------------------------------

    def to_text(self) -> str:
        """The derivation as Unicode text for a terminal."""
        lines = [self.heading(), ""]
        for k, step in enumerate(self.steps, 1):
            lines += [f"{k}. {step.title}", f"   {step.reason}", ""]
            art = sympy.pretty(step.equation(), use_unicode=True, wrap_line=False)
            lines += [("   " + row).rstrip() for row in art.splitlines()] + [""]
        lines += [f"Note: {note}" for note in self.notes]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """The derivation as Markdown with $$ display math."""
        parts = [f"## {self.heading(latex=True)}", ""]
        for k, step in enumerate(self.steps, 1):
            parts += [f"**{k}. {step.title}.** {step.reason}", "", "$$",
                      f"{_latex(step.lhs)} = {_latex(step.rhs)}", "$$", ""]
        parts += [f"> {note}" for note in self.notes]
        return "\n".join(parts).rstrip() + "\n"

    def to_latex(self, document: bool = False) -> str:
        """An ``align*`` environment (each step an ``\\intertext`` and an equation); with
        ``document=True``, a complete article that compiles with pdflatex."""
        rows = []
        for k, step in enumerate(self.steps, 1):
            rows.append(rf"\intertext{{\textbf{{{k}. {_tex_text(step.title)}.}} "
                        rf"{_tex_text(step.reason)}}}")
            rows.append(rf"{_latex(step.lhs)} &= {_latex(step.rhs)} \\")
        body = "\\begin{align*}\n" + "\n".join(rows) + "\n\\end{align*}\n"
        if not document:
            return body
        return ("\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n"
                "\\usepackage[margin=2cm]{geometry}\n\\allowdisplaybreaks\n"
                "\\begin{document}\n"
                f"\\section*{{{_tex_text(self.title)}}}\n"
                + (f"$$\\log f = {_latex(self.subject)}$$\n" if self.subject is not None else "")
                + f"{body}\\end{{document}}\n")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_text()

    # --- checking -----------------------------------------------------------------------------

    def check(self, params=None, **options) -> StepChecks:
        """A CheckResult per step that makes a numeric claim, with ``details["step"]`` its number
        and ``details["expected_ok"]`` whether the mathematics says it holds; claims that cannot
        be evaluated (quadrature in d > 2) are listed in ``.skipped`` with the reason. Options (for
        example ``data_model``, ``data_params``, ``method``, ``n``, ``seed``) go to the check
        context; see :func:`scoresym.derive.derive`."""
        if self.context_factory is None:
            raise ScoresymInputError("this derivation has no numeric claims to check")
        context = self.context_factory(params or {}, **options)
        results, decided = StepChecks(), {}
        for k, step in enumerate(self.steps, 1):
            if step.claim is None:
                continue
            try:
                result = step.claim(context)
            except (NotCheckable, NotComputable) as reason:
                results.skipped.append((k, step.title, str(reason)))
                continue
            expected, how = _expectation(step.expected_ok, context)
            if expected is None and step.decides:
                decided[id(step.expected_ok)] = result.ok
                expected, how = result.ok, "decided by this check (undecided symbolically)"
            elif expected is None and id(step.expected_ok) in decided:
                expected = decided[id(step.expected_ok)]
                how = "decided by the boundary term's check (undecided symbolically)"
            result.details.update({"step": k, "title": step.title, "expected_ok": expected,
                                   "expected_by": how})
            results.append(result)
        return results


def _expectation(expected_ok, context) -> tuple:
    """(True, False or None, how) for a step's expectation at the context's parameters. A
    Conditions object applies where the data are the model at the same parameters."""
    if isinstance(expected_ok, bool):
        return expected_ok, "the derivation"
    same = context.data_model is context.model and context.data_params == context.params
    if not same:
        return None, "undecided: the data model differs from the model"
    holds = expected_ok.holds(context.params)
    return holds, (f"the conditions {expected_ok}" if holds is not None else
                   "undecided symbolically")


def _rounded(value: float) -> str:
    """A value for reports: 6 significant digits, rounding noise below 1e-8 to zero."""
    return f"{round(float(value) + 0.0, 8) + 0.0:.6g}"


def checks_table(results: StepChecks) -> str:
    """A Markdown table of step checks: both sides, the verdict and whether it was expected."""
    lines = ["| step | claim | lhs | rhs | method | result | expected |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        verdict = "ok" if r.ok else "FAILED"
        expected = {"NO": "**NO**"}.get(as_expected(r), as_expected(r))
        lines.append(f"| {r.details['step']} | {r.details['title']} | {_rounded(r.lhs)} | "
                     f"{_rounded(r.rhs)} | {r.method} | {verdict} | {expected} |")
    for step, title, reason in getattr(results, "skipped", ()):
        lines.append(f"| {step} | {title} | | | not checked: {reason} | | |")
    return "\n".join(lines) + "\n"


def report(derivation: Derivation, results: StepChecks, where: str) -> str:
    """The derivation in Markdown followed by its checks at ``where`` (e.g. the parameters)."""
    return (derivation.to_markdown() + f"\n### Checks ({where})\n\n" + checks_table(results))


def _latex(expr) -> str:
    """LaTeX of an expression, with a thin space for products (lam p(x), not lamp(x))."""
    return sympy.latex(expr, mul_symbol=r"\,")


#: Unicode in titles and reasons, as LaTeX math.
_TEX_SYMBOLS = {
    "θ": r"\theta", "ε": r"\varepsilon", "σ": r"\sigma", "μ": r"\mu", "λ": r"\lambda",
    "δ": r"\delta", "Σ": r"\sum", "∇": r"\nabla", "ᵀ": r"^{\top}", "‖": r"\|", "²": "^2",
    "·": r"\cdot", "√": r"\surd", "≠": r"\neq", "≤": r"\leq", "≥": r"\geq", "±": r"\pm",
    "∫": r"\int", "∂": r"\partial", "→": r"\to", "∞": r"\infty", "½": r"\tfrac12", "ₓ": "_x",
    "≈": r"\approx", "⟨": r"\langle", "⟩": r"\rangle", "∼": r"\sim",
}


def _tex_text(text: str) -> str:
    """Plain text for LaTeX text mode: escape specials, Unicode math as inline math."""
    out = []
    for char in text:
        if char == "\u0303" and out:  # combining tilde: x̃
            out[-1] = rf"$\tilde{{{out[-1]}}}$"
        elif char == "\u0302" and out:  # combining hat
            out[-1] = rf"$\hat{{{out[-1]}}}$"
        elif char in _TEX_SYMBOLS:
            out.append(f"${_TEX_SYMBOLS[char]}$")
        elif char in "&%#_{}$":
            out.append("\\" + char)
        elif char == "~":
            out.append(r"\textasciitilde{}")
        elif char == "^":
            out.append(r"\textasciicircum{}")
        elif ord(char) > 127:
            raise ValueError(f"no LaTeX form for {char!r} in {text!r}")
        else:
            out.append(char)
    return "".join(out)
