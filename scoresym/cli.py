"""The ``scoresym`` command.

Exit status: 0 when every check passes, 1 when a check fails, 2 on bad input (the error goes to
stderr on one line).

    scoresym verify                  every check over every built-in model
    scoresym verify --quick --model student_t
"""

from __future__ import annotations

import argparse
import json
import sys

from . import zoo
from .errors import ScoresymInputError
from .verify import format_rows, run_suite


def _progress(stream):
    """A one-line progress indicator on a terminal; nothing otherwise."""
    if not stream.isatty():
        return None

    def show(model, check):
        stream.write(f"\r\033[K  checking {model}: {check}")
        stream.flush()

    return show


def cmd_verify(args) -> int:
    names = [args.model] if args.model else None
    rows = run_suite(names, quick=args.quick, seed=args.seed, progress=_progress(sys.stderr))
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    failed = [row for row in rows if not row.passed]
    if args.json:
        print(json.dumps({"rows": [row.as_dict() for row in rows],
                          "passed": len(rows) - len(failed), "failed": len(failed)}, indent=1))
    else:
        print(format_rows(rows))
        print(f"\n{len(rows) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scoresym", description="Verify score-matching mathematics.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser(
        "verify", help="run every check over every built-in model",
        description="Run every check (finite differences, autograd, Stein, boundary terms, "
                    "Fisher divergence, SSM/ESM/DSM consistency) over every built-in model. "
                    "A row passes when the check's verdict is the expected one: the exponential "
                    "density on (0, oo) must fail the boundary and Fisher checks. "
                    "Example: scoresym verify --quick --model gaussian_1d")
    verify.add_argument("--model", choices=zoo.names(), help="check one built-in model")
    verify.add_argument("--quick", action="store_true", help="fewer samples (about 15 s)")
    verify.add_argument("--seed", type=int, default=0, help="seed for samples and projections")
    verify.add_argument("--json", action="store_true", help="print the rows as JSON")
    verify.set_defaults(run=cmd_verify)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ScoresymInputError as exc:
        print(f"scoresym: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
