"""Do fit's 95% intervals cover? For each model, R data sets of n points are drawn from the
truth and fitted; the share of sandwich intervals estimate +- 1.96 stderr that hold the true
value is reported per parameter with its binomial standard error sqrt(0.95 * 0.05 / R), beside
how often the fit flagged its standard errors as unreliable (``details["stderr_reliable"]``:
the per-sample gradients' tail index below 1.25) and the mean and spread of the estimates.

A row is honest when its coverage is within 3 binomial standard errors of 0.95, or when the
fit flagged it in most replications.

Each replication draws its data from its own stream (scoresym.studies.replicate), so the
table is the same whether the fits run one after another or on Dask (--parallel; --workers N
starts a local cluster of N processes).

Run: python benchmarks/coverage.py                 (R = 200, n = 2000; prints the table)
     python benchmarks/coverage.py --reps 50 --n 500 --out DIR   (also writes DIR/coverage.md)
     python benchmarks/coverage.py --workers 2      (the same table, on a local Dask cluster)
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import numpy as np
import scipy.stats as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from report import machine, publish  # noqa: E402

import scoresym as ss  # noqa: E402
from scoresym.studies import replicate  # noqa: E402


def _builtin(name: str, weight=None):
    b = ss.zoo.get(name)
    return b.model, (lambda rng, n: b.sample(n, seed=rng)), b.truth, weight


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


@functools.cache
def _case(name: str) -> tuple:
    """The model (built once per process: its derivations are cached on it), sampler, truth and
    weight of a row."""
    return MODELS[name]()


def one_fit(name: str, n: int, seed):
    """One replication: n points from the stream ``seed``, fitted; None when refused, else
    ({parameter: (estimate, lo, hi)}, whether the fit flagged its standard errors)."""
    model, draw, truth, weight = _case(name)
    try:
        r = ss.fit(model, draw(np.random.default_rng(seed), n), weight=weight)
    except ss.ScoresymInputError:
        return None
    return ({k: (r.params[k], *r.interval(k)) for k in truth},
            r.details.get("stderr_reliable") is False)


def study(name: str, reps: int, n: int, seed: int = 0, parallel: bool = False) -> list:
    """Rows (model, parameter, coverage, binomial se, flagged share, mean estimate, sd)."""
    truth = _case(name)[2]
    outcomes = replicate(functools.partial(one_fit, name, n), reps, seed, parallel)
    done = [outcome for outcome in outcomes if outcome is not None]
    failed = reps - len(done)
    flagged = sum(flag for _, flag in done)
    hits = {k: sum(lo <= truth[k] <= hi for found, _ in done for _, lo, hi in [found[k]])
            for k in truth}
    estimates = {k: [found[k][0] for found, _ in done] for k in truth}
    done = len(done)
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
    parser.add_argument("--parallel", action="store_true",
                        help="run the fits as Dask tasks (threads, or the active Client)")
    parser.add_argument("--workers", type=int,
                        help="start a local Dask cluster of this many processes for the fits")
    args = parser.parse_args(argv)
    if args.workers:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1,
                               dashboard_address=None)
        client = Client(cluster)
    start, rows = time.perf_counter(), []
    for name in MODELS:
        rows += study(name, args.reps, args.n, parallel=args.parallel or bool(args.workers))
        print(f"measured {name}", file=sys.stderr)
    how = f"{args.workers} Dask workers" if args.workers else (
        "Dask threads" if args.parallel else "one process")
    text = (f"{table(rows)}\n\n(R = {args.reps} replications of n = {args.n}; "
            f"{time.perf_counter() - start:.0f} s on {how}; {machine()})\n")
    publish(text, args.out, "coverage.md")
    if args.workers:
        client.close()
        cluster.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
