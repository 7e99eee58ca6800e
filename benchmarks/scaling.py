"""Speed and scale of the log-cosh model by dimension, and closed-form fits of the full Gaussian.

Run: python benchmarks/scaling.py [--dims 2 5 10 20 30 50] [--n 100000] [--repeats 5]
     python benchmarks/scaling.py --out benchmarks   (also regenerates benchmarks/scaling.png)

For the log-cosh model log f = -sum_i log cosh(w_i . x) - ||x||^2 / 2 (``zoo.logcosh(d)``):
derive + compile + first evaluation on the fast path (and on the plain path up to --plain-max),
the median evaluation time of the score and of the Hyvarinen integrand on n points, their ratios
to hand-written NumPy and to autograd's exact ESM on the same data in the same process (and to
JAX jit where JAX is installed), and the peak memory of one Hyvarinen evaluation (tracemalloc)
in units of one n x d float array. Then the memory at n = 10^6 (--memory-n), d = 30, and the
closed-form fit of the full-precision Gaussian at d in {5, 10, 20} (--fit-dims). Prints Markdown
tables; writes the plot, scaling.png, only into the directory given with --out.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np

from scoresym import fit, zoo
from scoresym.losses import esm_loss
from scoresym.outputs import atomic_file, output_folder


def handwritten(X, W):
    """Score and Hyvarinen integrand of the log-cosh model with matrix products, by hand."""
    t = np.tanh(X @ W.T)
    score = -t @ W - X
    laplacian = -((1 - t**2) @ np.sum(W**2, axis=1)) - X.shape[1]
    return score, 0.5 * np.sum(score**2, axis=1) + laplacian


def median_time(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_bytes(function) -> int:
    tracemalloc.start()
    function()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def jax_hyvarinen(W):
    """A jit-compiled JAX Hyvarinen integrand in float64 (exact Laplacian by jacfwd of the
    score), or None."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)  # float64, as ours (JAX's default is float32)
    Wj = jnp.asarray(W)

    def log_f(x):
        return -jnp.sum(jnp.log(jnp.cosh(Wj @ x))) - 0.5 * x @ x

    score = jax.grad(log_f)

    def integrand(x):
        return 0.5 * jnp.sum(score(x) ** 2) + jnp.trace(jax.jacfwd(score)(x))

    return jax.jit(jax.vmap(integrand))


def measure(d: int, n: int, repeats: int, plain_max: int) -> dict:
    start = time.perf_counter()
    m = zoo.logcosh(d).model
    built = time.perf_counter() - start
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    W = zoo.mixing_matrix(d, 0)

    start = time.perf_counter()
    fast = m.lambdify()
    fast.hyvarinen(X[:1000]), fast.score(X[:1000])
    fast_compile = time.perf_counter() - start
    plain_compile = float("nan")
    if d <= plain_max:
        fresh = zoo.logcosh(d).model
        start = time.perf_counter()
        plain = fresh.lambdify(fast=False)
        plain.hyvarinen(X[:1000]), plain.score(X[:1000])
        plain_compile = time.perf_counter() - start

    score_hand, hyv_hand = handwritten(X, W)
    np.testing.assert_allclose(fast.hyvarinen(X), hyv_hand, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fast.score(X), score_hand, rtol=1e-9, atol=1e-9)
    t_score = median_time(lambda: fast.score(X), repeats)
    t_hyv = median_time(lambda: fast.hyvarinen(X), repeats)
    t_hand_score = median_time(lambda: handwritten(X, W)[0], repeats)
    t_hand_hyv = median_time(lambda: handwritten(X, W), repeats)
    t_autograd = median_time(lambda: esm_loss(m, X, per_sample=True), max(1, repeats // 2))
    jitted = jax_hyvarinen(W)
    t_jax = float("nan")
    if jitted is not None:
        jitted(X).block_until_ready()
        t_jax = median_time(lambda: jitted(X).block_until_ready(), repeats)
    memory = peak_bytes(lambda: fast.hyvarinen(X)) / (n * d * 8)
    return {"d": d, "build": built, "fast_compile": fast_compile, "plain_compile": plain_compile,
            "score_ms": 1e3 * t_score, "hyv_ms": 1e3 * t_hyv,
            "score_vs_hand": t_score / t_hand_score, "hyv_vs_hand": t_hyv / t_hand_hyv,
            "autograd_vs_ours": t_autograd / t_hyv, "jax_vs_ours": t_jax / t_hyv,
            "memory_arrays": memory}


def gaussian_fits(dims, n: int = 10_000) -> list:
    rows = []
    for d in dims:
        b = zoo.gaussian_full(d)
        X = b.sample(n, seed=0)
        start = time.perf_counter()
        fit(b.model, X)
        cold = time.perf_counter() - start
        warm = median_time(lambda b=b, X=X: fit(b.model, X), 3)
        rows.append((d, len(b.model.params), cold, warm))
    return rows


def plot(rows, path: Path) -> None:
    import matplotlib.pyplot as plt

    from scoresym.figures import style

    d = [r["d"] for r in rows]
    with style():
        fig, (a, b) = plt.subplots(1, 2, figsize=(7.0, 2.8), constrained_layout=True)
        a.plot(d, [r["fast_compile"] for r in rows], "o-", label="fast path")
        a.plot(d, [r["plain_compile"] for r in rows], "s--", label="plain SymPy path")
        a.set(yscale="log", xlabel="dimension $d$", ylabel="derive + compile + first eval (s)")
        a.legend(frameon=False)
        b.plot(d, [r["hyv_vs_hand"] for r in rows], "o-", label="ours / hand-written NumPy")
        b.plot(d, [r["autograd_vs_ours"] for r in rows], "s--", label="autograd ESM / ours")
        b.set(yscale="log", xlabel="dimension $d$", ylabel="time ratio (Hyvarinen integrand)")
        b.axhline(1, color="0.6", linewidth=0.8)
        b.legend(frameon=False)
        with atomic_file(path.parent, path.name) as tmp:
            fig.savefig(tmp, metadata={"Software": None})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 5, 10, 20, 30, 50])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--plain-max", type=int, default=20,
                        help="largest d timed on the plain path (it takes 7 s at d = 30)")
    parser.add_argument("--memory-n", type=int, default=1_000_000,
                        help="points of the d = 30 peak-memory measurement")
    parser.add_argument("--fit-dims", type=int, nargs="*", default=[5, 10, 20],
                        help="dimensions of the full-Gaussian closed-form fits (none: skip)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="write scaling.png into DIR (benchmarks regenerates the committed "
                             "plot); without it nothing is written")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {platform.python_version()}, numpy {np.__version__}")
    print("| d | derive+compile+eval, fast (s) | same, plain (s) | score (ms) | Hyvarinen (ms) "
          "| score / hand NumPy | Hyvarinen / hand NumPy | autograd ESM / ours | JAX / ours "
          "| peak memory (n x d arrays) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for d in args.dims:
        r = measure(d, args.n, args.repeats, args.plain_max)
        rows.append(r)
        jax = "n/a" if np.isnan(r["jax_vs_ours"]) else f"{r['jax_vs_ours']:.2f}"
        plain = "-" if np.isnan(r["plain_compile"]) else f"{r['plain_compile']:.2f}"
        print(f"| {d} | {r['fast_compile']:.3f} | {plain} | {r['score_ms']:.1f} | "
              f"{r['hyv_ms']:.1f} | {r['score_vs_hand']:.2f} | {r['hyv_vs_hand']:.2f} | "
              f"{r['autograd_vs_ours']:.1f} | {jax} | {r['memory_arrays']:.1f} |", flush=True)
    big = zoo.logcosh(30).model.lambdify()
    X = np.random.default_rng(1).standard_normal((args.memory_n, 30))
    print(f"\nn = {args.memory_n}, d = 30: one Hyvarinen evaluation peaks at "
          f"{peak_bytes(lambda: big.hyvarinen(X)) / X.nbytes:.1f} arrays of n x d floats")
    print("\n| d | parameters | closed-form fit, first (s) | again (s) |\n|---|---|---|---|")
    for d, p, cold, warm in gaussian_fits(args.fit_dims):
        print(f"| {d} | {p} | {cold:.2f} | {warm:.3f} |")
    if args.out is not None:
        path = output_folder(args.out) / "scaling.png"
        plot(rows, path)
        print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
