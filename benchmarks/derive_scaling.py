"""Derive + compile + first evaluation of the log-cosh model's Hyvarinen integrand, by dimension.

Run: python benchmarks/derive_scaling.py [--dims 2 5 10 20 30] [--n 100000] [--repeats 5]

For each d: the time to build the model (SymPy expression of log f), to derive the score,
Laplacian and Hyvarinen integrand, to generate and compile the NumPy code, and to evaluate it once
on 1000 points. Then the median evaluation time on n points over several repeats, and its ratio
to hand-written NumPy (matrix products) on the same data in the same process.
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
from scaling import handwritten, median_time  # the same baseline and timer as scaling.py

from scoresym import zoo


def handwritten_hyvarinen(X, W):
    return handwritten(X, W)[1]


def measure(d: int, n: int, repeats: int) -> dict:
    start = time.perf_counter()
    builtin = zoo.logcosh(d)
    m = builtin.model
    built = time.perf_counter()
    _ = m.hyvarinen  # score, Laplacian (diagonal only) and the integrand
    derived = time.perf_counter()
    f = m.lambdify(fast=False).hyvarinen  # the plain SymPy path (scaling.py times the fast one)
    compiled = time.perf_counter()
    rng = np.random.default_rng(0)
    f(rng.standard_normal((1000, d)))
    evaluated = time.perf_counter()
    X = rng.standard_normal((n, d))
    W = zoo.mixing_matrix(d, 0)
    np.testing.assert_allclose(f(X), handwritten_hyvarinen(X, W), rtol=1e-9, atol=1e-9)
    ours = median_time(lambda: f(X), repeats)
    hand = median_time(lambda: handwritten_hyvarinen(X, W), repeats)
    return {"d": d, "build": built - start, "derive": derived - built,
            "compile": compiled - derived, "first_eval": evaluated - compiled,
            "total": evaluated - built, "eval": ours, "hand": hand, "ratio": ours / hand}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 5, 10, 20, 30])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
          f"python {platform.python_version()}, numpy {np.__version__}")
    print("| d | build log f (s) | derive (s) | compile (s) | first eval (s) | "
          f"derive+compile+eval (s) | eval n={args.n} (ms) | hand-written NumPy (ms) | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    for d in args.dims:
        r = measure(d, args.n, args.repeats)
        print(f"| {r['d']} | {r['build']:.2f} | {r['derive']:.2f} | {r['compile']:.2f} | "
              f"{r['first_eval']:.3f} | {r['total']:.2f} | {1e3 * r['eval']:.1f} | "
              f"{1e3 * r['hand']:.1f} | {r['ratio']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
