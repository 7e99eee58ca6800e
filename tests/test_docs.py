"""The documentation: each tutorial is stored without outputs, runs top to bottom in a fresh
kernel with SCORESYM_QUICK=1, writes nothing, and shows the rich displays its cells promise
(a cell tagged ``check-display:MIME`` must output MIME); the site builds from the executed
notebooks with Sphinx, warnings as errors, and holds the API and command-line references."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TUTORIALS = sorted((DOCS / "tutorials").glob("*.ipynb"))
TAG = "check-display:"

# one worker runs the tutorials once and builds the site from them (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("docs")


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def promised_displays(cell) -> list:
    return [tag[len(TAG):] for tag in cell.metadata.get("tags", []) if tag.startswith(TAG)]


def execute(path: Path, folder: Path):
    """The notebook run top to bottom in a fresh kernel whose working folder is ``folder``."""
    notebook = nbformat.read(path, as_version=4)
    with mock.patch.dict(os.environ, {"SCORESYM_QUICK": "1"}):
        NotebookClient(notebook, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Each tutorial executed once per module, in its own empty folder: (notebook, folder)."""
    done = {}

    def run(path: Path):
        if path not in done:
            folder = tmp_path_factory.mktemp(path.stem)
            done[path] = (execute(path, folder), folder)
        return done[path]
    return run


def test_the_three_tutorials_are_there():
    assert {p.stem for p in TUTORIALS} == {"stein_identity", "score_matching_by_parts",
                                          "esm_dsm_ssm"}


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_a_tutorial_is_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    for cell in code_cells(notebook):
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    first = code_cells(notebook)[0].source
    assert 'os.environ.get("SCORESYM_QUICK") == "1"' in first


@pytest.mark.parametrize("path", TUTORIALS, ids=lambda p: p.stem)
def test_a_tutorial_runs_and_shows_what_it_promises(path, executed):
    notebook, folder = executed(path)
    assert list(folder.iterdir()) == []  # it writes nothing
    promised = []
    for cell in code_cells(notebook):
        assert cell.execution_count is not None
        for output in cell.outputs:
            assert output.output_type != "error"
            if output.output_type == "stream":
                assert "Traceback" not in output.text and "Warning" not in output.text, \
                    (cell.source[:60], output.text[:500])
        shown = {mime for output in cell.outputs for mime in output.get("data", {})}
        for mime in promised_displays(cell):
            assert mime in shown, (cell.source[:60], mime, shown)
            promised.append(mime)
    # a model in LaTeX, a derivation or its checks in Markdown, a result as HTML, a figure
    assert {"text/html", "text/markdown", "image/png"} <= set(promised)


def test_the_first_tutorial_shows_a_model_in_latex_and_checks_the_exercises(executed):
    notebook, _ = executed(DOCS / "tutorials" / "stein_identity.ipynb")
    assert any("text/latex" in promised_displays(c) for c in code_cells(notebook))
    printed = "".join(o.text for c in code_cells(notebook) for o in c.outputs
                      if o.output_type == "stream")
    for k in (1, 2, 3):
        assert f"exercise {k}: right" in printed


def test_the_site_builds_without_warnings(executed, tmp_path):
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "jupyter_execute",
                                                                ".ipynb_checkpoints"))
    for path in TUTORIALS:
        nbformat.write(executed(path)[0], source / "tutorials" / path.name)
    out = tmp_path / "html"
    build = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b",
                            "html", "-D", "nb_execution_mode=off", str(source), str(out)],
                           capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert build.returncode == 0, build.stderr[-5000:]
    assert build.stderr.strip() == "", build.stderr[-5000:]
    api = (out / "api.html").read_text(encoding="utf-8")
    for name in ("scoresym.fit", "scoresym.check_stein", "scoresym.ksd_test",
                 "scoresym.derive", "scoresym.Model"):
        assert f'id="{name}"' in api, name
    cli = (out / "cli.html").read_text(encoding="utf-8")
    for option in ("verify", "--density", "gof", "--n-bootstrap", "derive", "fit"):
        assert option in cli, option
    for path in TUTORIALS:
        page = (out / "tutorials" / f"{path.stem}.html").read_text(encoding="utf-8")
        assert "<img" in page and "Traceback" not in page, path.stem
