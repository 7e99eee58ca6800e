"""The corpus of user densities (tests/test_user_densities.py), each typed without positivity
declarations, through what a user runs: the conditions for a density, the boundary conditions
of plain score matching, a derivation, ``scoresym verify --quick --density`` at the truth, and a
fit on exact draws. Prints one Markdown table (what each family supports, and the time of each
call), then the slowest call.

Run: python benchmarks/user_densities.py            (prints the table; writes nothing)
     python benchmarks/user_densities.py --out DIR  (also writes DIR/user_densities.md)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import sympy  # noqa: E402
import test_user_densities as corpus  # noqa: E402

import scoresym as ss  # noqa: E402
from scoresym import cli  # noqa: E402
from scoresym.outputs import output_folder, write_text  # noqa: E402


def timed(call):
    """(value or the exception raised, seconds)."""
    start = time.perf_counter()
    try:
        value = call()
    except Exception as error:  # a refusal is a result here
        value = error
    return value, time.perf_counter() - start


def verify(case) -> tuple:
    """(exit status, the fit weight line or '', seconds) of verify --quick at the truth."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status, seconds = timed(lambda: cli.main(corpus.verify_argv(case, False, case.truth)))
    weight = next((line.split(": ", 1)[1].split(":")[0] for line in out.getvalue().splitlines()
                   if line.startswith("fit weight:")), "")
    return status, weight, seconds


def fitted(case, model) -> tuple:
    """('within k.k SE' or the refusal, seconds) of a fit on exact draws at the truth."""
    X = corpus.Corpus().draws(case)
    result, seconds = timed(lambda: ss.fit(model, X, weight=case.fit_weight, init=case.init))
    if isinstance(result, Exception):
        return f"refused: {str(result)[:60]}", seconds
    z = max(abs((abs(result.params[k]) if k in case.sign_free else result.params[k])
                - case.truth[k]) / result.stderr[k] for k in result.names)
    return f"within {z:.1f} SE", seconds


def where(case) -> str:
    """The domain as a reader writes it: (0, oo), R or R^3."""
    if case.domain is not None:
        return "({}, {})".format(*case.domain)
    return "R" if case.dim == 1 else f"R^{case.dim}"


def stated(conditions) -> str:
    """Conditions as the table shows them: "always", "never", or the conditions."""
    if isinstance(conditions, Exception):
        return f"error: {conditions}"
    if conditions.decided and not len(conditions):
        return "always"
    if conditions.decided and conditions.expr is sympy.false:
        return "never"
    return str(conditions).replace(" (inferred)", "")


def row(case) -> tuple:
    domain = None if case.domain is None else {"x": case.domain}
    model, build = timed(lambda: ss.Model.from_string(case.density, case.variables,
                                                      case.params, domain=domain))
    conditions, t_conditions = timed(lambda: model.conditions)
    boundary, t_boundary = timed(lambda: ss.boundary_conditions(model))
    _, t_derive = timed(lambda: ss.derive(model))
    status, weight, t_verify = verify(case)
    fit, t_fit = fitted(case, model)
    times = {"conditions": build + t_conditions, "boundary": t_boundary, "derive": t_derive,
             "verify": t_verify, "fit": t_fit}
    cells = [case.id, f"`{case.density}`", where(case), stated(conditions), stated(boundary),
             weight or "-", str(status), fit]
    return cells, times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="folder to write user_densities.md into")
    parser.add_argument("--only", nargs="*", help="case ids (default: all)")
    args = parser.parse_args()
    folder = output_folder(args.out) if args.out else None
    header = ["family", "f as typed", "domain", "conditions (inferred)",
              "plain score matching valid iff", "verify's fit weight", "verify exit", "fit",
              "conditions (s)", "boundary (s)", "derive (s)", "verify (s)", "fit (s)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    print("\n".join(lines), flush=True)
    slowest = (0.0, "")
    for case in corpus.CASES:
        if args.only and case.id not in args.only:
            continue
        cells, times = row(case)
        lines.append("| " + " | ".join(cells + [f"{t:.2f}" for t in times.values()]) + " |")
        step = max(times, key=times.get)
        if times[step] > slowest[0]:
            slowest = (times[step], f"{step} of {case.id}")
        print(lines[-1], flush=True)
    text = "\n".join([f"{platform.machine()}, Python {platform.python_version()}, SymPy "
                      f"{sympy.__version__}", "",
                      *lines, "", f"slowest call: {slowest[1]}, {slowest[0]:.2f} s", ""])
    print(f"\nslowest call: {slowest[1]}, {slowest[0]:.2f} s")
    if folder is not None:
        print(f"wrote {write_text(folder, 'user_densities.md', text)}")


if __name__ == "__main__":
    main()
