"""Models with parameter matrices, in matrix notation: derive+compile time, the Hyvarinen
integrand's evaluation time against the same formula written by hand in NumPy, and the ICA
fit's wall time.

Families (d = dimension; all parameters symbolic): ICA -sum(log(cosh(W @ x))); a Gaussian-
Bernoulli RBM's free energy with d hidden units; a Gaussian -x^T L x/2 + b^T x; a pairwise
interaction model -(x^2)^T Th (x^2) - sum(x^4)/4. Times are best of ``--repeats`` wall times.

Run: python benchmarks/matrix_models.py                (n = 1e5; d = 2 ... 100; ICA fits)
     python benchmarks/matrix_models.py --n 2000 --dims 2 5 --fit-dims 2 --out DIR
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


def _sigmoid(a):
    return 0.5 * (1 + np.tanh(a / 2))


def hand_ica(X, W):
    t = np.tanh(X @ W.T)
    s = -t @ W
    return 0.5 * np.sum(s * s, axis=1) - (1 - t * t) @ np.sum(W * W, axis=1)


def hand_rbm(X, W, c, b):
    p = _sigmoid(X @ W.T + c)
    s = p @ W - (X - b)
    return 0.5 * np.sum(s * s, axis=1) + (p * (1 - p)) @ np.sum(W * W, axis=1) - X.shape[1]


def hand_gaussian(X, L, b):
    S = 0.5 * (L + L.T)
    s = b - X @ S
    return 0.5 * np.sum(s * s, axis=1) - np.trace(S)


def hand_pairwise(X, Th):
    S = Th + Th.T
    US = (X * X) @ S
    s = -2 * X * US - X**3
    return 0.5 * np.sum(s * s, axis=1) + np.sum(-2 * US - 4 * X * X * np.diag(S) - 3 * X * X,
                                                axis=1)


# name: (text, shapes(d), hand formula)
FAMILIES = {
    "ICA": ("-sum(log(cosh(W @ x)))", lambda d: {"x": (d,), "W": (d, d)}, hand_ica),
    "RBM": ("sum(log(1 + exp(W @ x + c))) - sum((x - b)**2)/2",
            lambda d: {"x": (d,), "W": (d, d), "c": (d,), "b": (d,)}, hand_rbm),
    "Gaussian": ("-x @ L @ x / 2 + b @ x", lambda d: {"x": (d,), "L": (d, d), "b": (d,)},
                 hand_gaussian),
    "pairwise": ("-(x**2) @ Th @ (x**2) - sum(x**4)/4", lambda d: {"x": (d,), "Th": (d, d)},
                 hand_pairwise),
}


def best(f, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def evaluation_row(name: str, d: int, n: int, repeats: int) -> tuple:
    text, shapes, hand = FAMILIES[name]
    start = time.perf_counter()
    m = ss.Model.from_string(text, "x", [k for k in shapes(d) if k != "x"], shapes=shapes(d),
                             kind="log")
    ops = m.compiled("numpy")
    compile_time = time.perf_counter() - start
    rng = np.random.default_rng(d)
    params = {k: rng.normal(size=s) / np.sqrt(d) for k, s in shapes(d).items() if k != "x"}
    X = rng.normal(size=(n, d))
    ours = ops.hyvarinen(X, **params)
    reference = hand(X, *params.values())
    error = float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))
    t_ours = best(lambda: ops.hyvarinen(X, **params), repeats)
    t_hand = best(lambda: hand(X, *params.values()), repeats)
    return name, d, compile_time, t_ours, t_hand, error


def ica_fit_row(d: int, n: int) -> tuple:
    rng = np.random.default_rng(d)
    W = np.eye(d) + 0.3 * rng.normal(size=(d, d))
    X = st.hypsecant.rvs(size=(n, d), random_state=rng) @ np.linalg.inv(W).T
    m = ss.Model.from_string("-sum(log(cosh(W @ x)))", "x", "W",
                             shapes={"x": (d,), "W": (d, d)}, kind="log")
    start = time.perf_counter()
    r = ss.fit(m, X)
    return d, n, time.perf_counter() - start, r.iterations, r.converged


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 5, 10, 20, 30, 50, 100])
    parser.add_argument("--fit-dims", type=int, nargs="+", default=[2, 5, 10])
    parser.add_argument("--fit-n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", help="folder to write matrix_models.md into")
    args = parser.parse_args(argv)
    lines = ["| model | d | derive+compile (s) | Hyvarinen eval (s) | hand NumPy (s) | ratio | "
             "max rel. difference |", "|---|---|---|---|---|---|---|"]
    for name in FAMILIES:
        for d in args.dims:
            name_, d_, c, t, h, e = evaluation_row(name, d, args.n, args.repeats)
            lines.append(f"| {name_} | {d_} | {c:.3f} | {t:.4f} | {h:.4f} | {t / h:.2f} | "
                         f"{e:.1e} |")
            print(f"measured {name} d = {d}", file=sys.stderr)
    lines += ["", f"(n = {args.n:,}, best of {args.repeats}; {machine()})", "",
              "| ICA fit, W unknown | n | wall time (s) | iterations | converged |",
              "|---|---|---|---|---|"]
    for d in args.fit_dims:
        d_, n, t, it, ok = ica_fit_row(d, args.fit_n)
        lines.append(f"| d = {d_} | {n:,} | {t:.2f} | {it} | {ok} |")
        print(f"fitted ICA d = {d}", file=sys.stderr)
    publish("\n".join(lines) + "\n", args.out, "matrix_models.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
