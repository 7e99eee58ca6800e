"""Shared by the derivation scripts: print the checks, and the Markdown (to stdout, or to
<script>.md in DIR with --out DIR); exit 1 if any check differs from what the mathematics
expects. Without --out nothing is written, so running a script never changes a tracked file."""

import argparse
import sys
from pathlib import Path

from scoresym.derive.derivation import as_expected, report
from scoresym.outputs import output_folder, write_text


def publish(script: str, sections: list) -> None:
    """sections: [(derivation, results, where)]. With --out DIR writes DIR/<script>.md, else
    prints the Markdown; then prints every check."""
    stem = Path(script).stem
    parser = argparse.ArgumentParser(description=f"Derive and check {stem}; print the Markdown "
                                                 "or write it with --out.")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help=f"write {stem}.md into DIR (derivations/ regenerates the committed "
                             "file) instead of printing it")
    out = parser.parse_args().out
    text = "\n".join(report(d, results, where) for d, results, where in sections)
    if out is None:
        print(text)
    unexpected = 0
    for d, results, where in sections:
        print(f"{d.heading()} ({where})")
        for r in results:
            expected = as_expected(r)
            unexpected += expected == "NO"
            tag = {"NO": "   <-- UNEXPECTED", "undecided": "   (expectation undecided)"}.get(
                expected, "")
            print(f"  step {r.details['step']}: {r}{tag}")
        for step, title, reason in results.skipped:
            print(f"  step {step}: {title}: not checked ({reason})")
    if out is not None:  # inside --out only, atomically, never through a symbolic link
        path = write_text(output_folder(out), f"{stem}.md", text)
        print(f"wrote {path}")
    sys.exit(1 if unexpected else 0)
