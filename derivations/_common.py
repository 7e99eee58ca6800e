"""Shared by the derivation scripts: write the Markdown next to the script (or to --out) and
print the checks; exit 1 if any check differs from what the mathematics expects."""

import argparse
import sys
from pathlib import Path

from scoresym.derivation import report


def publish(script: str, sections: list) -> None:
    """sections: [(derivation, results, where)]; writes <script>.md and prints every check."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(script).parent)
    out = parser.parse_args().out
    text = "\n".join(report(d, results, where) for d, results, where in sections)
    path = out / (Path(script).stem + ".md")
    path.write_text(text, encoding="utf-8")
    unexpected = 0
    for d, results, where in sections:
        print(f"{d.heading()} ({where})")
        for r in results:
            expected = r.ok == r.details["expected_ok"]
            unexpected += not expected
            tag = "" if expected else "   <-- UNEXPECTED"
            print(f"  step {r.details['step']}: {r}{tag}")
        for step, title, reason in results.skipped:
            print(f"  step {step}: {title}: not checked ({reason})")
    print(f"wrote {path}")
    sys.exit(1 if unexpected else 0)
