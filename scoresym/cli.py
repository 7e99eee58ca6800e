"""The ``scoresym`` command.

Exit status: 0 when every check passes, 1 when a check fails, 2 on bad input (the error goes to
stderr on one line).

    scoresym verify                  every check over every built-in model
    scoresym verify --model student_t
"""

from __future__ import annotations

import argparse
import sys

from . import zoo
from .checks import check_finite_differences
from .errors import ScoresymInputError

QUANTITIES = ("score", "hessian", "laplacian", "hyvarinen")


def verify_builtin(builtin, points: int, seed) -> dict:
    """Run the checks on one built-in model; a row of the verify table."""
    result = check_finite_differences(builtin.model, builtin.truth, n=points, seed=seed)
    return {"model": builtin.name, "d": builtin.model.dim, "errors": result.details["errors"],
            "ok": result.ok, "results": [result]}


def format_table(rows: list) -> str:
    """A fixed-width table: one row per model, the largest relative error per quantity."""
    header = f"{'model':<22} {'d':>2}  " + "  ".join(f"{q:>10}" for q in QUANTITIES) + "  result"
    lines = [header, "-" * len(header)]
    for row in rows:
        errors = "  ".join(f"{row['errors'][q]:>10.2e}" for q in QUANTITIES)
        lines.append(f"{row['model']:<22} {row['d']:>2}  {errors}  {'PASS' if row['ok'] else 'FAIL'}")
    return "\n".join(lines)


def cmd_verify(args) -> int:
    names = [args.model] if args.model else zoo.names()
    builtins = [zoo.get(name) for name in names]
    rows = [verify_builtin(b, args.points, args.seed) for b in builtins]
    print("compiled derivatives against central finite differences of the compiled log-density")
    print("(largest relative error |compiled - fd| / max(1, |fd|) over random points)")
    print(format_table(rows))
    failed = [row["model"] for row in rows if not row["ok"]]
    print(f"\n{len(rows) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scoresym", description="Verify score-matching mathematics.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser(
        "verify", help="check every built-in model",
        description="Compare the compiled score, Hessian, Laplacian and Hyvarinen integrand of "
                    "every built-in model with finite differences. Example: scoresym verify "
                    "--model gaussian_1d")
    verify.add_argument("--model", choices=zoo.names(), help="check one built-in model")
    verify.add_argument("--points", type=int, default=25, help="random points per model")
    verify.add_argument("--seed", type=int, default=0, help="seed for the random points")
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
