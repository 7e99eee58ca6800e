"""The scoresym command: the verify table, exit status 0 / 1 / 2."""

import subprocess
import sys

from scoresym import cli, zoo
from scoresym.compile import CompiledFunction


def test_verify_passes_on_every_builtin(capsys):
    assert cli.main(["verify"]) == 0
    out = capsys.readouterr().out
    for name in zoo.names():
        assert name in out
    assert f"{len(zoo.names())} passed, 0 failed" in out


def test_verify_one_model(capsys):
    assert cli.main(["verify", "--model", "student_t", "--points", "5"]) == 0
    assert "student_t" in capsys.readouterr().out


def test_verify_exits_one_when_a_check_fails(monkeypatch, capsys):
    def broken():
        b = zoo.gaussian_1d()
        m = b.model
        wrong = CompiledFunction("score", -m.score, m.variables, m.params, "vector")
        m.lambdify().score = wrong
        return b

    monkeypatch.setitem(zoo.FACTORIES, "gaussian_1d", broken)
    assert cli.main(["verify", "--model", "gaussian_1d"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_bad_input_exits_two_with_one_line_on_stderr():
    run = subprocess.run([sys.executable, "-m", "scoresym.cli", "verify", "--model", "nope"],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "invalid choice: 'nope'" in run.stderr


def test_console_script_entry_point_runs():
    run = subprocess.run([sys.executable, "-m", "scoresym.cli", "verify", "--model", "exponential"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "1 passed, 0 failed" in run.stdout
