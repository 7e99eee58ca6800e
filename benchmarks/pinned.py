"""Does fit refuse pinned estimates and keep valid ones? An objective whose boundary term
vanishes only in part of the parameter region (a weight x for a Weibull: where k >= 1) is
invalid when the truth lies outside that part, and then pins its estimate on the part's edge
(k = 1.0005 +- 0.0001 for a Weibull with k = 0.7). For each case, R data sets of n points are
drawn and fitted; the table gives the share refused, by which rule (the curvature's tail index,
or the 4-standard-error margin around the estimate), and the mean estimate of the accepted fits.

A pinned case should be refused every time; a valid case (the truth inside the part) never.

Run: python benchmarks/pinned.py                 (R = 40, n = 2000 and 5000; prints the table)
     python benchmarks/pinned.py --reps 10 --n 1000 --out DIR   (also writes DIR/pinned.md)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.stats as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from report import machine, publish  # noqa: E402

import scoresym as ss  # noqa: E402

WEIBULL = ("x**(k-1)*exp(-(x/lam)**k)", "k lam", (0, "oo"))
BETA = ("x**(a-1)*(1-x)**(b-1)", "a b", (0, 1))
GAMMA = ("x**(k-1)*exp(-r*x)", "k r", (0, "oo"))

# name: (density, law, weight, should be refused, the parameter shown, its truth)
CASES = {
    "Weibull(0.7), w = x": (WEIBULL, st.weibull_min(0.7), "x", True, "k", 0.7),
    "Beta(0.7, 3), w = x(1-x)": (BETA, st.beta(0.7, 3), "x*(1-x)", True, "a", 0.7),
    "Beta(1, 1), w = x(1-x)": (BETA, st.beta(1, 1), "x*(1-x)", True, "a", 1.0),
    "Gamma(1.5), no weight": (GAMMA, st.gamma(1.5), None, True, "k", 1.5),
    "Gamma(1.5), w = x": (GAMMA, st.gamma(1.5), "x", False, "k", 1.5),
    "Gamma(1.2), w = x": (GAMMA, st.gamma(1.2), "x", False, "k", 1.2),
    "Gamma(3), no weight": (GAMMA, st.gamma(3), None, False, "k", 3.0),
    "Weibull(1.5), w = x": (WEIBULL, st.weibull_min(1.5), "x", False, "k", 1.5),
    "Beta(2, 3), w = x(1-x)": (BETA, st.beta(2, 3), "x*(1-x)", False, "a", 2.0),
}


def rule(message: str) -> str:
    """Which of fit's rules refused: the curvature's tail, the margin, or the estimate itself."""
    if "infinite mean" in message:
        return "curvature"
    return "margin" if "standard errors away" in message else "at the estimate"


def study(name: str, reps: int, n: int, seed: int = 1000) -> tuple:
    """(name, n, refused share, {rule: count}, mean accepted estimate, lowest accepted index)."""
    (text, params, edges), law, weight, _, shown, _ = CASES[name]
    model = ss.Model.from_string(text, "x", params, domain={"x": edges}, positive=params)
    refused, estimates, indices = {}, [], []
    for rep in range(reps):
        X = law.rvs(n, random_state=np.random.default_rng(seed + rep))[:, None]
        try:
            r = ss.fit(model, X, weight=weight)
        except ss.ScoresymInputError as error:
            key = rule(str(error))
            refused[key] = refused.get(key, 0) + 1
            continue
        estimates.append(r.params[shown])
        indices.append(r.details["boundary"].get("curvature_tail_index", np.inf))
    mean = float(np.mean(estimates)) if estimates else float("nan")
    return name, n, sum(refused.values()) / reps, refused, mean, min(indices, default=np.nan)


def table(rows: list) -> str:
    lines = ["| case | should be | n | refused | by rule | mean accepted estimate (truth) "
             "| lowest accepted curvature index |", "|---|---|---|---|---|---|---|"]
    for name, n, share, refused, mean, lowest in rows:
        should = "refused" if CASES[name][3] else "kept"
        rules = ", ".join(f"{k} {v}" for k, v in sorted(refused.items())) or "-"
        shown, truth = CASES[name][4], CASES[name][5]
        lines.append(f"| {name} | {should} | {n} | {100 * share:.0f}% | {rules} | "
                     f"{shown} = {mean:.3f} ({truth:g}) | {lowest:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--n", type=int, nargs="+", default=[2000, 5000])
    parser.add_argument("--out", help="folder to write pinned.md into")
    args = parser.parse_args(argv)
    start, rows = time.perf_counter(), []
    for n in args.n:
        for name in CASES:
            rows.append(study(name, args.reps, n))
            print(f"measured {name}, n = {n}", file=sys.stderr)
    text = (f"{table(rows)}\n\n(R = {args.reps} data sets per row; "
            f"{time.perf_counter() - start:.0f} s; {machine()})\n")
    publish(text, args.out, "pinned.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
