"""The plain path (SymPy derivatives of a density written out entry by entry, printed as NumPy
code) on models with parameter matrices, with each of its speed-ups switched on and off in the
same run: differentiation by SymEngine where it is exact (``scoresym/symbolic/derivatives.py``;
off: SymPy's ``diff`` for everything) and evaluation in row blocks (``CHUNK_ROWS`` in
``scoresym/codegen/functions.py``; off: all n rows at once, every common subexpression an
array of n entries).

Families as in ``matrix_models.py``, written out with one symbol per parameter entry: ICA
-sum_i log cosh(w_i . x); a Gaussian-Bernoulli RBM's free energy with d hidden units; a Gaussian
-x^T L x / 2 + b^T x; a pairwise interaction model. Each configuration runs in its own process
(SymPy's cache would otherwise carry derivatives from one to the next): the time to derive
the Hyvarinen integrand (score and Laplacian), to compile it, its evaluation time on n points
against the same formula by hand in NumPy (CPU time, best of 3), and the peak memory of one
evaluation in units of an n x d array of floats (tracemalloc).

Run: python benchmarks/plain_path.py                  (d = 5, 10, 20; n = 1e5; ~2 minutes)
     python benchmarks/plain_path.py --dims 5 --families ICA --out DIR
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import sympy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matrix_models import FAMILIES  # noqa: E402  (the hand formulas)
from report import machine, publish  # noqa: E402

import scoresym as ss  # noqa: E402


def _matrix(name, rows, cols):
    return sympy.Matrix(rows, cols, lambda i, j: sympy.Symbol(f"{name}{i}_{j}", real=True))


def written_out(family: str, d: int) -> tuple:
    """(log f, variables, {parameter name: Matrix of its entry symbols})."""
    x = sympy.Matrix(sympy.symbols(f"x0:{d}", real=True))
    if family == "ICA":
        W = _matrix("w", d, d)
        return -sum(sympy.log(sympy.cosh(a)) for a in W * x), list(x), {"W": W}
    if family == "RBM":
        W, c, b = _matrix("w", d, d), _matrix("c", d, 1), _matrix("b", d, 1)
        return (sum(sympy.log(1 + sympy.exp(a)) for a in W * x + c)
                - sum((xi - bi) ** 2 for xi, bi in zip(x, b)) / 2), list(x), \
            {"W": W, "c": c, "b": b}
    if family == "Gaussian":
        L, b = _matrix("l", d, d), _matrix("b", d, 1)
        return -(x.T * L * x)[0] / 2 + (b.T * x)[0], list(x), {"L": L, "b": b}
    T = _matrix("t", d, d)
    u = sympy.Matrix([xi**2 for xi in x])
    return -(u.T * T * u)[0] - sum(xi**4 for xi in x) / 4, list(x), {"Th": T}


def best_cpu(f, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        f()
        times.append(time.process_time() - start)
    return min(times)


def one(family: str, d: int, n: int, engine: bool, chunks: bool) -> dict:
    """One configuration, measured in this process."""
    from scoresym.codegen import functions
    from scoresym.symbolic import derivatives

    if not engine:
        derivatives.symengine = None
    if not chunks:
        functions.CHUNK_ROWS = 1 << 62
    log_f, x, matrices = written_out(family, d)
    params = [s for M in matrices.values() for s in M]
    start = time.perf_counter()
    m = ss.Model(log_density=log_f, variables=x, params=params)
    _ = m.hyvarinen
    derived = time.perf_counter()
    f = m.lambdify(fast=False).hyvarinen
    compiled = time.perf_counter()
    rng = np.random.default_rng(d)
    arrays = {k: rng.normal(size=M.shape) / np.sqrt(d) for k, M in matrices.items()}
    values = {s.name: float(v) for k, M in matrices.items() for s, v in zip(M, arrays[k].ravel())}
    X = rng.normal(size=(n, d))
    hand = FAMILIES[family][2]
    hand_arrays = [a.ravel() if a.shape[1:] == (1,) else a for a in arrays.values()]
    ours = f(X, **values)
    reference = hand(X, *hand_arrays)
    error = float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))
    t_ours = best_cpu(lambda: f(X, **values))
    t_hand = best_cpu(lambda: hand(X, *hand_arrays))
    tracemalloc.start()
    f(X, **values)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"derive": derived - start, "compile": compiled - derived, "eval": t_ours,
            "hand": t_hand, "error": error, "memory": peak / (n * d * 8)}


def measured(family: str, d: int, n: int, engine: bool, chunks: bool) -> dict:
    """:func:`one` in a fresh process."""
    run = subprocess.run([sys.executable, __file__, "--one", family, str(d), str(n),
                          str(int(engine)), str(int(chunks))],
                         capture_output=True, text=True, cwd=Path(__file__).parent)
    if run.returncode:
        raise RuntimeError(run.stderr)
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dims", type=int, nargs="+", default=[5, 10, 20])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--families", nargs="+", default=list(FAMILIES),
                        choices=list(FAMILIES))
    parser.add_argument("--one", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--out", help="folder to write plain_path.md into")
    args = parser.parse_args(argv)
    if args.one:
        family, d, n, engine, chunks = args.one
        print(json.dumps(one(family, int(d), int(n), engine == "1", chunks == "1")))
        return 0
    lines = ["| model | d | derive, SymPy (s) | derive, SymEngine (s) | compile (s) | "
             "eval / hand NumPy | max rel. difference | peak memory, all rows (n x d arrays) | "
             "in row blocks |", "|---|---|---|---|---|---|---|---|---|"]
    for family in args.families:
        for d in args.dims:
            before = measured(family, d, args.n, engine=False, chunks=False)
            after = measured(family, d, args.n, engine=True, chunks=True)
            lines.append(
                f"| {family} | {d} | {before['derive']:.2f} | {after['derive']:.2f} | "
                f"{after['compile']:.2f} | {after['eval'] / after['hand']:.1f} | "
                f"{after['error']:.1e} | {before['memory']:.1f} | {after['memory']:.1f} |")
            print(f"measured {family} d = {d}", file=sys.stderr)
    lines += ["", f"(n = {args.n:,}; {machine()})"]
    publish("\n".join(lines) + "\n", args.out, "plain_path.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
