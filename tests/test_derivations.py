"""Derivations: exact symbolic results, renderers (text, Markdown, LaTeX that compiles), step
checks that pass where the mathematics holds and fail where it must, and the scripts in
derivations/ reproducing their committed output."""

import functools
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sympy

import scoresym as ss
from scoresym import ScoresymInputError, cli, zoo
from scoresym.derive import IDENTITIES

ROOT = Path(__file__).resolve().parent.parent


@functools.cache
def derivation(name: str, identity: str = "hyvarinen", g=None):
    """Derivations are deterministic: build each once for the whole module."""
    return ss.derive(zoo.get(name).model, identity, g)
SCRIPTS = sorted(p for p in (ROOT / "derivations").glob("*.py") if not p.name.startswith("_"))


def test_gaussian_integrand_and_closed_form_exactly():
    m = zoo.get("gaussian_1d").model
    x, (mu, s2) = m.variables[0], m.params
    d = ss.derive(m)
    final = d.steps[-2]
    assert final.title == "The integrand of this model"
    assert sympy.simplify(final.rhs - (-1 / s2 + (x - mu) ** 2 / (2 * s2**2))) == 0
    solution = d.result
    (mean,) = solution[mu].free_symbols
    (second,) = solution[s2].free_symbols - {mean}
    assert str(mean) == "mean(x)" and str(second) == "mean(x**2)"
    assert solution[mu] == mean  # the sample mean
    assert sympy.expand(solution[s2] - (second - mean**2)) == 0  # the biased sample variance


CASES = [(name, identity) for name in ("gaussian_1d", "gaussian_mixture_2d", "exponential",
                                       "logcosh_3d") for identity in IDENTITIES]


@pytest.mark.parametrize("name, identity", CASES)
def test_every_identity_renders_for_every_kind_of_model(name, identity):
    d = derivation(name, identity)
    text, markdown, latex = d.to_text(), d.to_markdown(), d.to_latex()
    assert len(d.steps) >= 5
    for k, step in enumerate(d.steps, 1):
        assert f"{k}. {step.title}" in text
        assert f"**{k}. {step.title}.**" in markdown
    assert markdown.count("$$") == 2 * len(d.steps)
    assert latex.startswith("\\begin{align*}") and latex.count("&=") == len(d.steps)
    assert d._repr_markdown_() == markdown


def passes_as_expected(results):
    return all(r.ok == r.details["expected_ok"] for r in results)


@pytest.mark.parametrize("identity", IDENTITIES)
def test_every_step_checks_ok_for_the_gaussian(identity):
    b = zoo.get("gaussian_1d")
    results = derivation("gaussian_1d", identity).check(b.truth, seed=1, n=4000)
    assert results and all(r.ok for r in results), [str(r) for r in results if not r.ok]
    assert not results.skipped


def test_exponential_fails_exactly_the_steps_that_drop_the_boundary_term():
    b = zoo.get("exponential")
    d = derivation("exponential")
    results = d.check(b.truth, seed=0)
    failed = [r.details["step"] for r in results if not r.ok]
    assert failed == [8, 9, 10]
    assert passes_as_expected(results)
    assert "does not vanish" in d.steps[7].reason and "lam/Z(lam)" in d.notes[0]
    # the integration by parts itself holds, with the boundary term kept
    parts = next(r for r in results if r.details["step"] == 7)
    assert parts.ok and parts.lhs == pytest.approx(b.truth["lam"] ** 2)


def test_stein_derivation_fails_for_a_test_function_whose_boundary_term_stays():
    b = zoo.get("exponential")
    assert all(r.ok for r in ss.derive(b.model, "stein", "x").check(b.truth))
    results = ss.derive(b.model, "stein", "1").check(b.truth)
    assert [r.details["step"] for r in results if not r.ok] == [6, 7]


def test_derivation_checks_in_higher_dimensions_skip_what_needs_quadrature():
    b = zoo.get("logcosh_3d")
    results = derivation("logcosh_3d").check(b.truth, seed=0, n=3000)
    assert all(r.ok for r in results)
    assert {step for step, _, _ in results.skipped} == {6, 7, 8}
    assert all("quadrature" in reason for _, _, reason in results.skipped)


def test_a_wrong_data_model_is_caught_by_the_checks():
    """Checking the Hyvarinen steps with data from another family still passes (the identities
    hold for any data density), while a closed form fitted to the wrong data does not."""
    gaussian, student = zoo.get("gaussian_1d"), zoo.get("student_t")
    results = ss.derive(gaussian.model).check({"mu": 0.2, "s2": 1.3}, data_model=student.model,
                                              data_params=student.truth, seed=0, n=4000)
    assert all(r.ok for r in results), [str(r) for r in results if not r.ok]


def test_derive_refuses_bad_input():
    m = zoo.get("gaussian_1d").model
    with pytest.raises(ScoresymInputError, match="identity must be one of"):
        ss.derive(m, "esm")
    with pytest.raises(ScoresymInputError, match="symbolic test function"):
        ss.derive(m, "stein", lambda X: X)


def test_latex_documents_compile(tmp_path):
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        pytest.skip("pdflatex is not installed (.ci/run installs texlive-latex-base)")
    for name, identity in [("gaussian_1d", "hyvarinen"), ("exponential", "hyvarinen"),
                           ("gaussian_mixture_2d", "stein"), ("gaussian_1d", "dsm"),
                           ("gaussian_full_3d", "ssm")]:
        tex = tmp_path / f"{name}_{identity}.tex"
        tex.write_text(ss.derive(zoo.get(name).model, identity).to_latex(document=True),
                       encoding="utf-8")
        run = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout[-2000:]
        assert tex.with_suffix(".pdf").stat().st_size > 1000


# A number as the reports print it: optional sign, digits with an optional fraction, exponent.
NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
RELATIVE, ABSOLUTE = 1e-5, 1e-12  # 6 significant digits printed: equal up to the last one


def differences_beyond_rounding(name: str, produced: str, committed: str) -> list:
    """Where ``produced`` differs from ``committed``: the text between numbers must be identical
    and each number equal within RELATIVE or ABSOLUTE. One message per difference, naming the
    script, the line and both numbers (or both lines where the text differs)."""
    found = []
    produced_lines, committed_lines = produced.split("\n"), committed.split("\n")
    if len(produced_lines) != len(committed_lines):
        found.append(f"{name}: {len(produced_lines)} lines produced, {len(committed_lines)} "
                     "committed")
    for k, (new, old) in enumerate(zip(produced_lines, committed_lines), 1):
        if NUMBER.split(new) != NUMBER.split(old):
            found.append(f"{name}, line {k}: text differs\n  produced:  {new}\n"
                         f"  committed: {old}")
            continue
        for i, (a, b) in enumerate(zip(NUMBER.findall(new), NUMBER.findall(old)), 1):
            if not math.isclose(float(a), float(b), rel_tol=RELATIVE, abs_tol=ABSOLUTE):
                found.append(f"{name}, line {k}: produced {a}, committed {b} (number {i} of the "
                             f"line, more than {RELATIVE:g} relative and {ABSOLUTE:g} absolute "
                             f"apart)\n  committed line: {old[:100]}")
    return found


# The committed Markdown is compared as text, but its numbers within a tolerance: sampled values
# are the same draws on every machine only up to rounding (LAPACK and BLAS kernels round
# differently), and a value printed with 6 significant digits can then differ in its last digit.
# Anything else (a changed word, formula, verdict, or a number off by more than rounding) fails.
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_derivation_scripts_reproduce_their_committed_output(script, tmp_path):
    run = subprocess.run([sys.executable, str(script), "--out", str(tmp_path)],
                         capture_output=True, text=True, cwd=script.parent, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "UNEXPECTED" not in run.stdout
    produced = (tmp_path / f"{script.stem}.md").read_text(encoding="utf-8")
    committed = script.with_suffix(".md").read_text(encoding="utf-8")
    found = differences_beyond_rounding(script.name, produced, committed)
    assert not found, "\n".join(found + [f"rerun: python derivations/{script.name} --out "
                                          "derivations, and commit its Markdown"])


def test_the_committed_output_comparison_allows_rounding_and_nothing_more():
    committed = "| 2 | score | 0.0188811 | -1.5e-07 | ok |\nlog f = x_{1}^{2}\n"
    assert differences_beyond_rounding("s.py", committed, committed) == []
    rounded = committed.replace("0.0188811", repr(0.0188811 * (1 + 1e-9))).replace(
        "-1.5e-07", "-1.50001e-07")
    assert differences_beyond_rounding("s.py", rounded, committed) == []
    (found,) = differences_beyond_rounding(
        "s.py", committed.replace("0.0188811", f"{0.0188811 * 1.001:.6g}"), committed)
    assert found.startswith("s.py, line 1: produced 0.0189, committed 0.0188811")
    (found,) = differences_beyond_rounding("s.py", committed.replace("-1.5e", "1.5e"), committed)
    assert "produced 1.5e-07, committed -1.5e-07" in found
    (found,) = differences_beyond_rounding("s.py", committed.replace("ok", "FAILED"), committed)
    assert found.startswith("s.py, line 1: text differs")
    assert differences_beyond_rounding("s.py", committed + "\n", committed)


def test_derivation_scripts_write_only_when_asked(tmp_path):
    script = ROOT / "derivations" / "gaussian_1d.py"
    before = script.with_suffix(".md").stat().st_mtime_ns
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("## Score matching") and "\n### Checks (" in run.stdout
    assert "step 12: closed form" in run.stdout and "wrote" not in run.stdout
    assert script.with_suffix(".md").stat().st_mtime_ns == before
    assert not list(tmp_path.iterdir())


def test_derive_command_line(capsys):
    assert cli.main(["derive", "exp(-(x - mu)**2/(2*s2))", "--variables", "x", "--params",
                     "mu s2", "--positive", "s2", "--check", "mu=0.5,s2=2"]) == 0
    out = capsys.readouterr().out
    assert "1. The model" in out and "step 12: closed form" in out
    assert cli.main(["derive", "exp(-lam*x)", "--variables", "x", "--params", "lam",
                     "--positive", "lam", "--domain", "x=0:oo", "--check", "lam=1.5"]) == 0
    out = capsys.readouterr().out  # steps 8-10 fail, as the mathematics says they must
    assert out.count("FAILED  (fails, as it must here)") == 3
    assert cli.main(["derive", "gaussian_1d", "--identity", "ssm", "--format", "latex"]) == 0
    assert capsys.readouterr().out.startswith("\\begin{align*}")
    assert cli.main(["derive", "gaussian_1d", "--format", "markdown"]) == 0
    assert "$$" in capsys.readouterr().out


BAD_DERIVE = [
    (["derive", "exp(-x.__class__)", "--variables", "x"], "attribute access"),
    (["derive", "exp(-x**2)"], "give --variables"),
    (["derive", "gaussian_1d", "--check", "mu=a"], "'a' is not a number"),
    (["derive", "gaussian_1d", "--check", "mu"], "expected name=value"),
    (["derive", "exp(-x)", "--variables", "x", "--domain", "x=0"], "expected name=lo:hi"),
    (["derive", "gaussian_1d", "--check", "mu=1"], "missing parameter(s): s2"),
]


@pytest.mark.parametrize("argv, fragment", BAD_DERIVE)
def test_derive_command_line_bad_input_exits_two(argv, fragment, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


def test_readme_shows_the_committed_gaussian_derivation():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    committed = (ROOT / "derivations" / "gaussian_1d.md").read_text(encoding="utf-8")
    shown = committed.replace("## Score matching", "#### Score matching").replace(
        "### Checks", "#### Checks").strip()
    assert shown in readme


@pytest.mark.parametrize("weight", ["x", "min(x, 1)", "x**2"])
def test_weighted_derivation_holds_where_the_plain_one_fails(weight):
    b = zoo.get("truncated_normal")
    plain = derivation("truncated_normal")
    assert [r.details["step"] for r in plain.check(b.truth) if not r.ok] == [8, 9, 10]
    d = ss.derive(b.model, weight=weight)
    assert d.title == "Generalized score matching" and d.steps[2].title == "The weight"
    results = d.check(b.truth, seed=0)
    assert results and all(r.ok for r in results), [str(r) for r in results if not r.ok]
    integrand = next(s for s in d.steps if s.title == "The integrand of this model").rhs
    x = b.model.variables[0]
    w = b.model.weights(weight)[0]
    s, = b.model.score
    expected = w * s**2 / 2 + w * sympy.diff(s, x) + sympy.diff(w, x) * s
    assert sympy.simplify(integrand - expected) == 0


def test_weighted_derivation_of_a_weight_that_does_not_vanish_fails():
    b = zoo.get("truncated_normal")
    d = ss.derive(b.model, weight="1 + x")
    failed = [r.details["step"] for r in d.check(b.truth) if not r.ok]
    assert failed == [9, 10, 11] and "this weight does not make" in d.notes[0]


def test_a_weight_is_only_for_the_hyvarinen_derivation():
    with pytest.raises(ScoresymInputError, match="weight applies to the hyvarinen"):
        ss.derive(zoo.get("gaussian_1d").model, "stein", weight="x")
