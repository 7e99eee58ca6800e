"""Do fit's 95% intervals cover? For each model, R data sets of n points are drawn from the
truth and fitted; the share of sandwich intervals estimate +- 1.96 stderr that hold the true
value is reported per parameter with its binomial standard error sqrt(0.95 * 0.05 / R), beside
how often the fit flagged its standard errors as unreliable (``details["stderr_reliable"]``:
the per-sample gradients' tail index below 1.25) and the mean and spread of the estimates.

A row is honest when its coverage is within 3 binomial standard errors of 0.95, or when the
fit flagged it in most replications.

Run: python benchmarks/coverage.py                 (R = 200, n = 2000; prints the table)
     python benchmarks/coverage.py --reps 50 --n 500 --out DIR   (also writes DIR/coverage.md)
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


def _builtin(name: str, weight=None):
    b = ss.zoo.get(name)
    return b.model, (lambda rng, n: b.sample(n, seed=int(rng.integers(2**31)))), b.truth, weight


def _scipy(text, params, positive, domain, law, truth, weight=None):
    model = ss.Model.from_string(text, "x", params, domain=domain, positive=positive)
    return model, (lambda rng, n: law.rvs(n, random_state=rng)[:, None]), truth, weight


MODELS = {
    "gaussian_1d": lambda: _builtin("gaussian_1d"),
    "student_t": lambda: _builtin("student_t"),
    "quartic_1d": lambda: _builtin("quartic_1d"),
    "truncated_normal, w = min(x, 1)": lambda: _builtin("truncated_normal", "min(x, 1)"),
    "gamma, w = x**2": lambda: _builtin("gamma", "x**2"),
    "beta(2.5, 3.5), w = x**2 (1-x)**2": lambda: _scipy(
        "x**(a-1)*(1-x)**(b-1)", "a b", "a b", {"x": (0, 1)}, st.beta(2.5, 3.5),
        {"a": 2.5, "b": 3.5}, "x**2*(1-x)**2"),
    "log-normal": lambda: _scipy(
        "exp(-(log(x) - m)**2/(2*s**2))/x", "m s", "s", {"x": (0, "oo")}, st.lognorm(1.0),
        {"m": 0.0, "s": 1.0}),
}


def study(name: str, reps: int, n: int, seed: int = 0) -> list:
    """Rows (model, parameter, coverage, binomial se, flagged share, mean estimate, sd)."""
    model, draw, truth, weight = MODELS[name]()
    rng = np.random.default_rng(seed)
    hits = {k: 0 for k in truth}
    estimates = {k: [] for k in truth}
    flagged = failed = 0
    for _ in range(reps):
        try:
            r = ss.fit(model, draw(rng, n), weight=weight)
        except ss.ScoresymInputError:
            failed += 1
            continue
        flagged += r.details.get("stderr_reliable") is False
        for k in truth:
            lo, hi = r.interval(k)
            hits[k] += bool(lo <= truth[k] <= hi)
            estimates[k].append(r.params[k])
    done = reps - failed
    se = np.sqrt(0.95 * 0.05 / max(done, 1))
    return [(name, k, hits[k] / max(done, 1), se, flagged / max(done, 1), failed,
             float(np.mean(estimates[k])), float(np.std(estimates[k])), truth[k])
            for k in truth]


def table(rows: list) -> str:
    lines = ["| model | parameter | truth | mean estimate (sd) | 95% coverage | within 3 se of "
             "0.95 | flagged unreliable | refused |", "|---|---|---|---|---|---|---|---|"]
    for name, k, cover, se, flagged, failed, mean, sd, truth in rows:
        honest = "yes" if abs(cover - 0.95) <= 3 * se else "no"
        lines.append(f"| {name} | {k} | {truth:g} | {mean:.4g} ({sd:.2g}) | {cover:.3f} +- "
                     f"{se:.3f} | {honest} | {100 * flagged:.0f}% | {failed} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--out", help="folder to write coverage.md into")
    args = parser.parse_args(argv)
    start, rows = time.perf_counter(), []
    for name in MODELS:
        rows += study(name, args.reps, args.n)
        print(f"measured {name}", file=sys.stderr)
    text = (f"{table(rows)}\n\n(R = {args.reps} replications of n = {args.n}; "
            f"{time.perf_counter() - start:.0f} s; {machine()})\n")
    publish(text, args.out, "coverage.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
