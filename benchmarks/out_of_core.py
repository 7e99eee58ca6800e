"""Score matching on data that do not fit in memory: an (n, d) .npy store read through a dask
array, on a local Dask cluster of 1 and then 2 worker processes (one thread each, with a memory
limit below the data's size). Measured: the Hyvarinen objective's mean (one pass) and the
closed-form fit of the d-dimensional Gaussian with a full precision matrix (its passes: the
data's check, the linear solve's mean gradient and mean Hessian, the sandwich's gradient
statistics and Hessian), as rows per second per worker, and the speed-up from 1 to 2 workers.

The store is generated here, block by block (N(0, Sigma) by the zoo's Cholesky factor, each
block from its own seed), into --out (default: a temporary folder, deleted at the end).

Run: python benchmarks/out_of_core.py                       (n = 1e8, d = 10: 8 GB of data)
     python benchmarks/out_of_core.py --n 10000000 --out DIR  (keeps DIR/points.npy)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from report import machine, publish  # noqa: E402

import scoresym as ss  # noqa: E402
from scoresym.chunks import npy_rows  # noqa: E402
from scoresym.randomness import independent_seeds  # noqa: E402

BLOCK = 200_000


def write_store(path: Path, n: int, d: int, seed: int = 0) -> None:
    """n draws of the zoo's d-dimensional full Gaussian into an .npy file, block by block."""
    b = ss.zoo.gaussian_full(d)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=float, shape=(n, d))
    for k, block_seed in enumerate(independent_seeds(seed, -(-n // BLOCK))):
        rows = slice(k * BLOCK, min(n, (k + 1) * BLOCK))
        out[rows] = b.sample(rows.stop - rows.start, seed=block_seed)
    out.flush()
    del out


def measure(path: Path, d: int, workers: int, memory_limit: str) -> dict:
    from distributed import Client, LocalCluster

    b = ss.zoo.gaussian_full(d)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                      memory_limit=memory_limit, dashboard_address=None) as cluster, \
            Client(cluster):
        X = npy_rows(path, rows=BLOCK)
        f = b.model.lambdify()
        start = time.perf_counter()
        objective = float(f.hyvarinen(X, **b.truth).mean().compute())
        objective_seconds = time.perf_counter() - start
        start = time.perf_counter()
        result = ss.fit(b.model, X)
        fit_seconds = time.perf_counter() - start
    return {"workers": workers, "objective": objective, "objective_s": objective_seconds,
            "fit_s": fit_seconds, "converged": result.converged, "params": result.params}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000_000)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--memory-limit", default="1GB", help="per worker (default 1GB)")
    parser.add_argument("--out", help="folder for the store and out_of_core.md")
    args = parser.parse_args(argv)
    folder = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="scoresym-ooc-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "points.npy"
    start = time.perf_counter()
    write_store(path, args.n, args.d)
    written = time.perf_counter() - start
    try:
        runs = [measure(path, args.d, workers, args.memory_limit) for workers in (1, 2)]
    finally:
        if not args.out:
            path.unlink()
            folder.rmdir()
    same = max(abs(runs[0]["params"][k] - runs[1]["params"][k]) for k in runs[0]["params"])
    gb = args.n * args.d * 8 / 1e9
    lines = [f"n = {args.n:.0e}, d = {args.d} ({gb:.1f} GB as float64; written in "
             f"{written:.0f} s), blocks of {BLOCK} rows, worker memory limit "
             f"{args.memory_limit}",
             "", "| workers | objective (s) | rows/s per worker | fit (s) | rows/s per worker "
             "(fit) | converged |", "|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['workers']} | {r['objective_s']:.1f} | "
                     f"{args.n / r['objective_s'] / r['workers']:.3g} | {r['fit_s']:.1f} | "
                     f"{args.n / r['fit_s'] / r['workers']:.3g} | {r['converged']} |")
    lines += ["", f"speed-up from 1 to 2 workers: objective "
                  f"{runs[0]['objective_s'] / runs[1]['objective_s']:.2f}x, fit "
                  f"{runs[0]['fit_s'] / runs[1]['fit_s']:.2f}x; the two fits differ by at most "
                  f"{same:.1e} in any parameter; {machine()}"]
    publish("\n".join(lines) + "\n", args.out, "out_of_core.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
