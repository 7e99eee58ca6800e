"""The extension points are registries: a check, a derivation identity or a backend added to its
registry is picked up by the suite, the command line, derive() and lambdify() with no other
edit (CONTRIBUTING.md gives the recipe: one new module plus one registry entry)."""

import numpy as np
import pytest

import scoresym as ss
from scoresym import cli, verify
from scoresym.checks import CHECKS, Check, CheckResult, Planned
from scoresym.codegen.backend import Backend
from scoresym.codegen.backends import BACKENDS
from scoresym.derive import IDENTITIES, Derivation, Identity, Step


def check_mean(model, params, samples=None):
    """A toy check: the sample mean of a 1-D model's draws is finite."""
    X = model.sample(200, params, seed=0)
    return CheckResult("mean", float(X.mean()), float(X.mean()), 0.0, 1e-12)


def _plan(subject):
    return [Planned("sample mean", lambda: check_mean(subject.model, subject.truth))]


def _command_line(model, params, options):
    return check_mean(model, params)


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(CHECKS, "sample-mean", Check("sample-mean", check_mean, "a toy",
                                                     plan=_plan, command_line=_command_line))


def test_a_registered_check_runs_in_the_suite(registered):
    rows = verify.run_suite(["gaussian_1d"], quick=True, seed=0)
    assert [row.check for row in rows][-1] == "sample mean" and rows[-1].passed


def test_a_registered_check_runs_from_the_command_line(registered, capsys):
    assert cli.main(["check", "sample-mean", "gaussian_1d", "--at", "mu=0,s2=1"]) == 0
    assert "mean:" in capsys.readouterr().out


def test_a_registered_identity_is_derived_and_offered_on_the_command_line(monkeypatch, capsys):
    def derive_score(model):
        return Derivation("The score", [Step("Score", model.variables[0], model.score[0],
                                             "By definition.")], model.score[0])

    monkeypatch.setitem(IDENTITIES, "score", Identity("score", derive_score, "the score alone"))
    d = ss.derive(ss.zoo.get("gaussian_1d").model, "score")
    assert d.title == "The score" and len(d.steps) == 1
    assert cli.main(["derive", "gaussian_1d", "--identity", "score"]) == 0
    assert "1. Score" in capsys.readouterr().out
    with pytest.raises(ss.ScoresymInputError, match="weight applies to the hyvarinen"):
        ss.derive(ss.zoo.get("gaussian_1d").model, "score", weight="x")


def test_a_registered_backend_compiles_models(monkeypatch):
    numpy_backend = BACKENDS["numpy"]
    monkeypatch.setitem(BACKENDS, "numpy-copy",
                        Backend("numpy-copy", numpy_backend.namespace, lambda value: False))
    model = ss.Model.from_string("exp(-(x - mu)**2/2)", "x", "mu")
    ours = model.lambdify("numpy-copy").score([0.0, 1.0], mu=0.5)
    np.testing.assert_array_equal(ours, model.lambdify().score([0.0, 1.0], mu=0.5))
