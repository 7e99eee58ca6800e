"""Models with parameter matrices, in matrix notation: derive+compile time, the Hyvarinen
integrand's evaluation time against the same formula written by hand in NumPy, and the ICA
fit's wall time.

Families (d = dimension; all parameters symbolic): ICA -sum(log(cosh(W @ x))); a Gaussian-
Bernoulli RBM's free energy with d hidden units; a Gaussian -x^T L x/2 + b^T x; a pairwise
interaction model -(x^2)^T Th (x^2) - sum(x^4)/4. Evaluation times are the best of
``--repeats`` in CPU time of all threads (``--clock wall`` for wall time); fits in wall time.

With JAX installed (``pip install -e .[bench]``; float64), also: JAX's autodiff of log f
(score by grad, Laplacian by a loop of forward-over-reverse products over the d coordinates,
vmapped over points, jit-compiled) and the hand formula jit-compiled by JAX, each as a ratio to
scoresym's time (below 1: JAX is faster); and the ICA fit by JAX (autodiff objective, jitted
value and gradient, the same scipy L-BFGS-B from the same start).

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
from scoresym.outputs import output_folder  # noqa: E402


def hand_ica(X, W, xp=np):
    t = xp.tanh(X @ W.T)
    s = -t @ W
    return 0.5 * xp.sum(s * s, axis=1) - (1 - t * t) @ xp.sum(W * W, axis=1)


def hand_rbm(X, W, c, b, xp=np):
    p = 0.5 * (1 + xp.tanh((X @ W.T + c) / 2))
    s = p @ W - (X - b)
    return 0.5 * xp.sum(s * s, axis=1) + (p * (1 - p)) @ xp.sum(W * W, axis=1) - X.shape[1]


def hand_gaussian(X, L, b, xp=np):
    S = 0.5 * (L + L.T)
    s = b - X @ S
    return 0.5 * xp.sum(s * s, axis=1) - xp.trace(S)


def hand_pairwise(X, Th, xp=np):
    S = Th + Th.T
    US = (X * X) @ S
    s = -2 * X * US - X**3
    return 0.5 * xp.sum(s * s, axis=1) + xp.sum(-2 * US - 4 * X * X * xp.diag(S) - 3 * X * X,
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


def _jax():
    """jax and jax.numpy in float64, or None when JAX is not installed."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def jax_log_density(name: str, jnp):
    """log f at one point x (d,), as JAX code."""
    def ica(x, W):
        return -jnp.sum(jnp.logaddexp(W @ x, -(W @ x)))

    def rbm(x, W, c, b):
        return jnp.sum(jnp.logaddexp(0.0, W @ x + c)) - jnp.sum((x - b) ** 2) / 2

    def gaussian(x, L, b):
        return -x @ L @ x / 2 + b @ x

    def pairwise(x, Th):
        return -(x**2) @ Th @ (x**2) - jnp.sum(x**4) / 4

    return {"ICA": ica, "RBM": rbm, "Gaussian": gaussian, "pairwise": pairwise}[name]


def jax_autodiff_hyvarinen(jax, log_f):
    """The Hyvarinen integrand of log f by JAX autodiff, jit-compiled: f(X, params)."""
    jnp = jax.numpy

    def at(x, params):
        def score(y):
            return jax.grad(log_f)(y, *params)

        def diagonal(j, total):
            e = jnp.zeros_like(x).at[j].set(1.0)
            return total + jax.jvp(score, (x,), (e,))[1][j]

        s = score(x)
        return 0.5 * s @ s + jax.lax.fori_loop(0, x.shape[0], diagonal, 0.0)

    return jax.jit(jax.vmap(at, in_axes=(0, None)))


def jax_hand(jax, hand):
    """The hand formula on jax.numpy, jit-compiled: f(X, params)."""
    return jax.jit(lambda X, params: hand(X, *params, xp=jax.numpy))


#: The clock of the evaluation timings: CPU time of the process (all threads: NumPy's BLAS and
#: XLA both use every core, so wall time would reward whichever threads more), or wall time.
CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
CLOCK = ["cpu"]


def best(f, repeats: int) -> float:
    clock = CLOCKS[CLOCK[0]]
    times = []
    for _ in range(repeats):
        start = clock()
        f()
        times.append(clock() - start)
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
    jax_times = (None, None)
    jax = _jax()
    if jax is not None:
        arguments = tuple(jax.numpy.asarray(v) for v in params.values())
        Xj = jax.numpy.asarray(X)
        jax_times = tuple(
            best(lambda f=f: f(Xj, arguments).block_until_ready(), repeats)
            for f in _warm([jax_autodiff_hyvarinen(jax, jax_log_density(name, jax.numpy)),
                            jax_hand(jax, hand)], Xj, arguments, reference))
    return name, d, compile_time, t_ours, t_hand, error, *jax_times


def _warm(functions, X, arguments, reference) -> list:
    """Compile each JAX function once and check it against the reference values."""
    for f in functions:
        value = np.asarray(f(X, arguments))
        assert np.allclose(value, reference, rtol=1e-8, atol=1e-8), "JAX disagrees"
    return functions


def ica_fit_row(d: int, n: int) -> tuple:
    rng = np.random.default_rng(d)
    W = np.eye(d) + 0.3 * rng.normal(size=(d, d))
    X = st.hypsecant.rvs(size=(n, d), random_state=rng) @ np.linalg.inv(W).T
    m = ss.Model.from_string("-sum(log(cosh(W @ x)))", "x", "W",
                             shapes={"x": (d,), "W": (d, d)}, kind="log")
    start = time.perf_counter()
    r = ss.fit(m, X)
    ours = time.perf_counter() - start
    jax_time = difference = None
    jax = _jax()
    if jax is not None:
        start = time.perf_counter()
        estimate = jax_ica_fit(jax, X)
        jax_time = time.perf_counter() - start
        difference = float(np.max(np.abs(estimate - r.params["W"])))
    return d, n, ours, r.iterations, r.converged, jax_time, difference


def jax_ica_fit(jax, X) -> np.ndarray:
    """The ICA fit by JAX: autodiff Hyvarinen objective, jitted value and gradient, scipy's
    L-BFGS-B with the settings scoresym uses, from W = I."""
    import scipy.optimize

    d = X.shape[1]
    integrand = jax_autodiff_hyvarinen(jax, jax_log_density("ICA", jax.numpy))
    Xj = jax.numpy.asarray(X)
    value_and_grad = jax.jit(jax.value_and_grad(
        lambda w: integrand(Xj, (w.reshape(d, d),)).mean()))

    def f(w):
        value, gradient = value_and_grad(jax.numpy.asarray(w))
        return float(value), np.asarray(gradient, dtype=float)

    found = scipy.optimize.minimize(f, np.eye(d).ravel(), jac=True, method="L-BFGS-B",
                                    options={"maxiter": 10_000, "gtol": 1e-12, "ftol": 1e-15})
    return found.x.reshape(d, d)


def plot(rows: list, path: Path) -> None:
    """Two panels against d: derive + compile time, and the Hyvarinen integrand's time as a
    ratio to hand-written NumPy (solid) and JAX autodiff's time as a ratio to ours (dashed)."""
    import matplotlib.pyplot as plt

    from scoresym.figures import style
    from scoresym.outputs import atomic_file

    with style():
        fig, (a, b) = plt.subplots(1, 2, figsize=(7.0, 2.8), constrained_layout=True)
        for k, name in enumerate(dict.fromkeys(r[0] for r in rows)):
            mine = [r for r in rows if r[0] == name]
            d = [r[1] for r in mine]
            color = f"C{k}"
            a.plot(d, [r[2] for r in mine], "o-", color=color, label=name)
            b.plot(d, [r[3] / r[4] for r in mine], "o-", color=color, label=name)
            if mine[0][6] is not None:
                b.plot(d, [r[6] / r[3] for r in mine], "s--", color=color, alpha=0.6)
        a.set(xscale="log", yscale="log", xlabel="dimension $d$",
              ylabel="derive + compile (s)")
        a.legend(frameon=False, fontsize=7)
        b.axhline(1, color="0.6", linewidth=0.8)
        b.set(xscale="log", yscale="log", xlabel="dimension $d$",
              ylabel="ours / hand NumPy (solid)\nJAX autodiff / ours (dashed)")
        with atomic_file(path.parent, path.name) as tmp:
            fig.savefig(tmp, metadata={"Software": None})


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dims", type=int, nargs="+", default=[2, 5, 10, 20, 30, 50, 100])
    parser.add_argument("--fit-dims", type=int, nargs="*", default=[2, 5, 10])
    parser.add_argument("--fit-n", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                        help="time evaluations in CPU time of all threads (default) or wall time")
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=list(FAMILIES))
    parser.add_argument("--out", help="folder to write matrix_models.md into")
    args = parser.parse_args(argv)
    CLOCK[0] = args.clock
    lines = ["| model | d | derive+compile (s) | Hyvarinen eval (s) | hand NumPy (s) | ratio | "
             "max rel. difference | JAX autodiff jit / ours | JAX jit of the hand formula / "
             "ours |", "|---|---|---|---|---|---|---|---|---|"]
    rows = []
    for name in args.families:
        for d in args.dims:
            rows.append(evaluation_row(name, d, args.n, args.repeats))
            _, _, c, t, h, e, autodiff, handjit = rows[-1]
            jax_columns = " | ".join("-" if v is None else f"{v / t:.2f}"
                                     for v in (autodiff, handjit))
            lines.append(f"| {name} | {d} | {c:.3f} | {t:.4f} | {h:.4f} | {t / h:.2f} | "
                         f"{e:.1e} | {jax_columns} |")
            print(f"measured {name} d = {d}", file=sys.stderr)
    lines += ["", f"(n = {args.n:,}, best of {args.repeats}, {args.clock} time; {machine()})", "",
              "| ICA fit, W unknown | n | scoresym (s) | iterations | converged | JAX autodiff "
              "fit (s) | largest difference in W |", "|---|---|---|---|---|---|---|"]
    for d in args.fit_dims:
        d_, n, t, it, ok, jax_time, difference = ica_fit_row(d, args.fit_n)
        jax_columns = "- | -" if jax_time is None else f"{jax_time:.2f} | {difference:.1e}"
        lines.append(f"| d = {d_} | {n:,} | {t:.2f} | {it} | {ok} | {jax_columns} |")
        print(f"fitted ICA d = {d}", file=sys.stderr)
    publish("\n".join(lines) + "\n", args.out, "matrix_models.md")
    if args.out:
        path = output_folder(args.out) / "matrix_models.png"
        plot(rows, path)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
