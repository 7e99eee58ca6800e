"""The README's code and the documentation pages' run as written: their ```python blocks are
executed and their ```pycon blocks checked as doctests, in order, one shared session per page
(as a reader would paste them)."""

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```(python|pycon)\n(.*?)^```", re.S | re.M)


PAGES = ["README.md"] + sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))


def blocks(page: str = "README.md") -> list:
    return BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))


def test_the_documentation_pages_hold_code():
    assert len(blocks()) >= 8 and any(kind == "pycon" for kind, _ in blocks())
    assert {"docs/first_model.md", "docs/conventions.md", "docs/index.md"} <= set(PAGES)
    assert all(blocks(page) for page in ("docs/first_model.md", "docs/conventions.md"))


@pytest.mark.parametrize("page", PAGES)
def test_page_code_runs_in_order_as_one_session(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing a page runs may write into the repository
    session = {"__name__": "__readme__"}
    parser = doctest.DocTestParser()
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for k, (kind, code) in enumerate(blocks(page), 1):
        if kind == "python":
            exec(compile(code, f"{page}, python block {k}", "exec"), session)
        else:
            test = parser.get_doctest(code, session, f"{page}, pycon block {k}", page, 0)
            runner.run(test, out=report.append, clear_globs=False)
            session.update(test.globs)  # DocTest runs in a copy of the session
    assert runner.failures == 0, "".join(report)
