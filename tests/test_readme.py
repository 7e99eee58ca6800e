"""The README's code runs as written: its ```python blocks are executed and its ```pycon blocks
checked as doctests, in order, in one shared session (as a reader would paste them)."""

import doctest
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```(python|pycon)\n(.*?)^```", re.S | re.M)


def blocks() -> list:
    return BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))


def test_readme_code_runs_in_order_as_one_session(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing the README runs may write into the repository
    session = {"__name__": "__readme__"}
    parser = doctest.DocTestParser()
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for k, (kind, code) in enumerate(blocks(), 1):
        if kind == "python":
            exec(compile(code, f"README.md, python block {k}", "exec"), session)
        else:
            test = parser.get_doctest(code, session, f"README.md, pycon block {k}", "README.md", 0)
            runner.run(test, out=report.append, clear_globs=False)
            session.update(test.globs)  # DocTest runs in a copy of the session
    assert runner.failures == 0, "".join(report)
    assert len(blocks()) >= 8 and any(kind == "pycon" for kind, _ in blocks())
