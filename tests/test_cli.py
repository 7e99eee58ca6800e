"""The scoresym command: the verify table, --json, exit status 0 / 1 / 2."""

import dataclasses
import json
import subprocess
import sys

import pytest

from scoresym import cli, zoo
from scoresym.codegen.functions import CompiledFunction


def test_verify_quick_passes_on_every_builtin_and_writes_its_report(capsys, tmp_path):
    assert cli.main(["verify", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in zoo.names():
        assert name in out
    assert "pass (fails as it must)" in out  # the exponential density's boundary term
    assert ", 0 failed" in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["failed"] == 0 and len(report["rows"]) == report["passed"]
    markdown = (tmp_path / "report.md").read_text()
    assert markdown.startswith("# scoresym verify") and "| gamma | fisher |" in markdown


def test_verify_one_model_as_json(capsys, tmp_path):
    assert cli.main(["verify", "--quick", "--model", "student_t", "--json", "--out",
                     str(tmp_path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 0 and report["passed"] == len(report["rows"])
    checks = {row["check"] for row in report["rows"]}
    assert {"finite differences", "autodiff", "stein", "boundary", "fisher", "ssm = esm",
            "trace variance", "dsm -> esm"} <= checks


def test_verify_exits_one_when_a_check_fails(monkeypatch, capsys, tmp_path):
    def broken():
        b = zoo.gaussian_1d()
        m = b.model
        m.lambdify().score = CompiledFunction("score", -m.score, m.variables, m.params, "vector")
        return b

    monkeypatch.setitem(zoo.FACTORIES, "gaussian_1d", broken)
    assert cli.main(["verify", "--quick", "--model", "gaussian_1d", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and ", 0 failed" not in out


def test_verify_exits_one_when_an_invalid_model_is_claimed_valid(monkeypatch, capsys, tmp_path):
    """The exponential density must fail the boundary check; claiming otherwise is a failure."""
    monkeypatch.setitem(zoo.FACTORIES, "exponential",
                        lambda: dataclasses.replace(zoo.exponential(), hyvarinen_valid=True))
    assert cli.main(["verify", "--quick", "--model", "exponential", "--out", str(tmp_path)]) == 1
    assert "boundary" in capsys.readouterr().out


def test_bad_input_exits_two_with_one_line_on_stderr():
    run = subprocess.run([sys.executable, "-m", "scoresym.cli", "verify", "--model", "nope"],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "invalid choice: 'nope'" in run.stderr


def test_console_script_runs_as_a_process(tmp_path):
    run = subprocess.run([sys.executable, "-m", "scoresym.cli", "verify", "--quick", "--model",
                          "exponential", "--out", str(tmp_path)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "8 passed, 0 failed" in run.stdout  # no DSM row (noise leaves (0, oo)); a fit row


def test_verify_a_user_density(capsys, tmp_path):
    argv = ["verify", "--quick", "--density", "exp(-x**4/4 - a*x**2)", "--variables", "x",
            "--params", "a", "--at", "a=0.5", "--out", str(tmp_path)]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "fit recovers truth" in out and ", 0 failed" in out


def test_verify_says_where_plain_score_matching_is_invalid_and_fits_with_a_weight(capsys):
    """x exp(-lam x) on (0, oo): p s = exp(-lam x)(1 - lam x) -> 1 at 0, so the boundary and
    Fisher rows must fail, and the fit needs a weight that vanishes at 0."""
    argv = ["verify", "--quick", "--density", "x*exp(-lam*x)", "--variables", "x", "--params",
            "lam", "--positive", "lam", "--domain", "x=0:oo", "--at", "lam=2"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "plain score matching (boundary term p s) is invalid" in out
    assert "fit weight: x:" in out
    rows = {line.split()[1]: line for line in out.splitlines() if line.startswith("model ")}
    assert rows["boundary"].endswith("pass (fails as it must)")
    assert rows["fisher"].endswith("pass (fails as it must)")


def test_verify_exits_one_when_the_given_weight_leaves_the_boundary_term(capsys, tmp_path):
    argv = ["verify", "--quick", "--density", "x*exp(-lam*x)", "--variables", "x", "--params",
            "lam", "--positive", "lam", "--domain", "x=0:oo", "--at", "lam=2", "--weight",
            "1 + x", "--out", str(tmp_path)]
    assert cli.main(argv) == 1
    assert "fit weight: 1 + x (given)" in capsys.readouterr().out
    report = (tmp_path / "report.md").read_text()
    assert "could not run" in report and "weight does not remove the boundary term" in report


def test_check_stein_exits_one_where_a_side_is_proven_infinite(capsys):
    """Beta(0.5, 0.5) with g = 1: f g blows up at both edges and E[g.s] is infinite there. The
    identity fails (exit 1, the reason printed), it is not bad input (exit 2)."""
    argv = ["check", "stein", "x**(a - 1)*(1 - x)**(b - 1)", "--variables", "x", "--params",
            "a b", "--domain", "x=0:1", "--at", "a=0.5,b=0.5", "--test-function", "1"]
    assert cli.main(argv) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "reason: E[g.s] is infinite: " in out and "as x -> 0" in out
    argv[-3] = "a=1.5,b=1.5"  # f g vanishes at both edges: the identity holds
    assert cli.main(argv) == 0


def test_every_subcommand_has_help_with_an_example():
    for command in ("verify", "derive", "check", "fit", "gof", "figures"):
        run = subprocess.run([sys.executable, "-m", "scoresym.cli", command, "--help"],
                             capture_output=True, text=True)
        assert run.returncode == 0 and "Example" in run.stdout, command


CHECK_CASES = [
    (["check", "boundary", "exp(-lam*x)", "--variables", "x", "--params", "lam", "--positive",
      "lam", "--domain", "x=0:oo", "--at", "lam=1.5", "--test-function", "1"], 1, "x -> 0: 1"),
    (["check", "boundary", "exp(-lam*x)", "--variables", "x", "--params", "lam", "--positive",
      "lam", "--domain", "x=0:oo", "--at", "lam=1.5", "--test-function", "x"], 0, ": ok"),
    (["check", "stein", "gaussian_1d", "--at", "mu=1,s2=1", "--test-function", "x**2"], 0,
     "E[g.s] = -2.000000"),
    (["check", "fisher", "gaussian_1d", "--at", "mu=1,s2=0.5", "--data-at", "mu=0,s2=1"], 0,
     "explicit: 2.5"),
    (["check", "autodiff", "student_t", "--at", "mu=0,s=1"], 0, "autodiff[student_t]"),
    (["check", "finite-differences", "logcosh_3d"], 0, "finite_differences[logcosh_3d]"),
]


@pytest.mark.parametrize("argv, status, fragment", CHECK_CASES)
def test_check_command(argv, status, fragment, capsys):
    assert cli.main(argv) == status
    assert fragment in capsys.readouterr().out


def test_check_command_names_a_missing_parameter(capsys):
    assert cli.main(["check", "stein", "gaussian_1d", "--at", "mu=1"]) == 2
    assert "missing parameter(s): s2" in capsys.readouterr().err


def test_verify_writes_nothing_without_out(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["verify", "--quick", "--model", "gaussian_1d"]) == 0
    assert list(tmp_path.iterdir()) == []
    assert "report:" not in capsys.readouterr().out


def test_a_check_that_cannot_run_is_an_error_row_and_never_a_pass(monkeypatch, capsys, tmp_path):
    """Regression: an error was counted as "pass (fails as it must)"."""
    from scoresym.checks import fisher
    from scoresym.errors import ScoresymInputError

    def cannot_run(*args, **kwargs):
        raise ScoresymInputError("quadrature did not converge")

    monkeypatch.setattr(fisher, "check_fisher", cannot_run)
    assert cli.main(["verify", "--quick", "--model", "exponential", "--json", "--out",
                     str(tmp_path)]) == 1
    report = json.loads(capsys.readouterr().out)
    row = next(r for r in report["rows"] if r["check"] == "fisher")
    assert row["status"] == "error" and row["passed"] is False and not row["expected_ok"]
    assert row["error"] == "quadrature did not converge" and report["errors"] == 1
    assert "## Checks that could not run" in (tmp_path / "report.md").read_text()


def test_a_bug_inside_a_check_keeps_the_table_and_exits_three(monkeypatch, capsys):
    from scoresym.checks import boundary

    def bug(*args, **kwargs):
        raise ZeroDivisionError("a planted bug")

    monkeypatch.setattr(boundary, "check_boundary", bug)
    assert cli.main(["verify", "--quick", "--model", "gaussian_1d"]) == 3
    captured = capsys.readouterr()
    assert "finite differences" in captured.out and "error" in captured.out
    assert captured.err.count("\n") == 1 and "internal error" in captured.err
    assert "ZeroDivisionError: a planted bug" in captured.err


def test_the_gamma_fisher_row_is_a_verdict_not_an_error(capsys):
    """Its expectations are infinite at x -> 0, which the check proves: a failure, as the
    mathematics says, with the reason in the JSON (null for the non-finite numbers)."""
    assert cli.main(["verify", "--quick", "--model", "gamma", "--json"]) == 0
    text = capsys.readouterr().out
    assert "NaN" not in text and "Infinity" not in text
    row = next(r for r in json.loads(text)["rows"] if r["check"] == "fisher")
    assert row["status"] == "pass (fails as it must)" and row["lhs"] is None
    assert "E[implicit] is infinite" in row["reason"] and row["nonfinite"]["error"] == "inf"


DASH_CASES = [
    (["derive", "-x**2/2", "--variables", "x", "--kind", "log"], 0, "1. The model"),
    (["check", "stein", "-x**2/2", "--variables", "x", "--kind", "log", "--test-function",
      "-x"], 0, "g=-x"),
    (["check", "boundary", "exp(-lam*x)", "--variables", "x", "--params", "lam",
      "--positive", "lam", "--domain", "x=0:oo", "--at", "lam=1", "--test-function", "-x"], 0,
     ": ok"),
    (["derive", "gaussian_1d", "--identity", "dsm", "--check", "mu=0,s2=1", "--sigma", "-1"], 2,
     ""),
]


@pytest.mark.parametrize("argv, status, fragment", DASH_CASES)
def test_expressions_and_numbers_may_start_with_a_dash(argv, status, fragment, capsys):
    assert cli.main(argv) == status
    captured = capsys.readouterr()
    assert fragment in captured.out
    if status == 2:
        assert "--sigma: must be a positive finite number, got '-1'" in captured.err
        assert captured.err.count("\n") == 1


def test_check_takes_the_users_own_samples(tmp_path, capsys):
    import numpy as np

    rng = np.random.default_rng(0)
    np.save(tmp_path / "own.npy", rng.standard_normal((4000, 1)))
    np.save(tmp_path / "other.npy", 2 + rng.standard_normal((4000, 1)))
    base = ["check", "stein", "exp(-x**2/2)", "--variables", "x", "--method", "mc",
            "--test-function", "x**2", "--samples"]
    assert cli.main(base + [str(tmp_path / "own.npy")]) == 0
    assert "samples" not in capsys.readouterr().err
    assert cli.main(base + [str(tmp_path / "other.npy")]) == 1  # draws of N(2, 1), not N(0, 1)
    assert cli.main(["check", "autodiff", "exp(-x**2/2)", "--variables", "x"]) == 0
