"""The scoresym command: the verify table, --json, exit status 0 / 1 / 2."""

import dataclasses
import json
import subprocess
import sys

from scoresym import cli, zoo
from scoresym.compile import CompiledFunction


def test_verify_quick_passes_on_every_builtin(capsys):
    assert cli.main(["verify", "--quick"]) == 0
    out = capsys.readouterr().out
    for name in zoo.names():
        assert name in out
    assert "pass (fails as it must)" in out  # the exponential density's boundary term
    assert ", 0 failed" in out


def test_verify_one_model_as_json(capsys):
    assert cli.main(["verify", "--quick", "--model", "student_t", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["failed"] == 0 and report["passed"] == len(report["rows"])
    checks = {row["check"] for row in report["rows"]}
    assert {"finite differences", "autodiff", "stein", "boundary", "fisher", "ssm = esm",
            "trace variance", "dsm -> esm"} <= checks


def test_verify_exits_one_when_a_check_fails(monkeypatch, capsys):
    def broken():
        b = zoo.gaussian_1d()
        m = b.model
        m.lambdify().score = CompiledFunction("score", -m.score, m.variables, m.params, "vector")
        return b

    monkeypatch.setitem(zoo.FACTORIES, "gaussian_1d", broken)
    assert cli.main(["verify", "--quick", "--model", "gaussian_1d"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and ", 0 failed" not in out


def test_verify_exits_one_when_an_invalid_model_is_claimed_valid(monkeypatch, capsys):
    """The exponential density must fail the boundary check; claiming otherwise is a failure."""
    monkeypatch.setitem(zoo.FACTORIES, "exponential",
                        lambda: dataclasses.replace(zoo.exponential(), hyvarinen_valid=True))
    assert cli.main(["verify", "--quick", "--model", "exponential"]) == 1
    assert "boundary" in capsys.readouterr().out


def test_bad_input_exits_two_with_one_line_on_stderr():
    run = subprocess.run([sys.executable, "-m", "scoresym.cli", "verify", "--model", "nope"],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "invalid choice: 'nope'" in run.stderr


def test_console_script_runs_as_a_process():
    run = subprocess.run([sys.executable, "-m", "scoresym.cli", "verify", "--quick", "--model",
                          "exponential"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "8 passed, 0 failed" in run.stdout  # no DSM row (noise leaves (0, oo)); a fit row
