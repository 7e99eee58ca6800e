"""How far from the mode the compiled code stays right: scoresym's compiled score, Laplacian,
Hyvarinen integrand and log-density (numpy and autograd backends) against mpmath, beside plain
``sympy.lambdify`` of the same expressions and autograd differentiation of the plainly compiled
log-density, on a grid from the mode out to |x| = 1e300 and to within 1e-300 of each finite edge.

A point counts for a quantity only where the true value is representable in float64 (finite,
and 0 or of magnitude >= 2.2e-308) and the reference is sure (mpmath at 50 and 80 digits, plus
twice the decimal exponent of the point, agree to 1e-12); a value is right when its relative
error is <= 1e-8 (exactly 0 where the truth is 0).
Columns: the share of counted points that are right; "NaN/inf" counts values that are NaN or
infinite where the truth is finite. Where the true value overflows float64, the right answer is
inf of its sign: a last table counts those points apart.

Run: python benchmarks/stability.py            (prints the tables; writes nothing)
     python benchmarks/stability.py --out DIR  (also writes DIR/stability.md)
     python benchmarks/stability.py --wrong    (also lists scoresym's wrong values)
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import autograd
import autograd.numpy as anp
import mpmath
import numpy as np
import sympy

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scoresym as ss  # noqa: E402
from scoresym.numerics.ad import hessian_trace  # noqa: E402
from scoresym.outputs import output_folder, write_text  # noqa: E402
from scoresym.symbolic.stable import StableErfc  # noqa: E402

QUANTITIES = ("score", "laplacian", "hyvarinen", "log_density")
TOLERANCE = 1e-8
TINY = 2.2250738585072014e-308


@dataclass
class Case:
    name: str
    text: str
    variables: str
    params: str
    values: dict
    domain: dict | None = None
    kind: str = "density"


CASES = [
    Case("gaussian", "exp(-(x - mu)**2/(2*s2))", "x", "mu s2", {"mu": 0.5, "s2": 2.0}),
    Case("gaussian_3d", "exp(-(x**2 + y**2 + z**2)/2 + x*y/3)", "x y z", "", {}),
    Case("mixture", "exp(-(x + 2)**2/2) + exp(-(x - 2)**2/2)", "x", "", {}),
    Case("mixture_2d", "exp(-((x - a)**2 + y**2)/2) + exp(-((x + a)**2 + (y - 1)**2)/2)",
         "x y", "a", {"a": 1.5}),
    Case("student_t", "(1 + (x - m)**2/(nu*s2))**(-(nu + 1)/2)", "x", "m s2 nu",
         {"m": 0.0, "s2": 1.0, "nu": 3.0}),
    Case("student_t_3d", "(1 + (a*(x**2 + y**2 + z**2) + 2*c*(x*y + y*z))/5)**(-4)",
         "x y z", "a c", {"a": 1.0, "c": 0.3}),
    Case("logcosh", "-x**2/2 - y**2/2 - log(cosh(x - y/2)) - log(cosh(x/3 + y))", "x y",
         "", {}, kind="log"),
    Case("ica_plain", "-log(cosh(w*x)) - x**2/2", "x", "w", {"w": 2.0}, kind="log"),
    Case("quartic", "exp(t1*x + t2*x**2 - t4*x**4)", "x", "t1 t2 t4",
         {"t1": 0.5, "t2": 1.0, "t4": 0.25}),
    Case("logistic", "exp(-(x - m)/s)/(1 + exp(-(x - m)/s))**2", "x", "m s",
         {"m": 0.0, "s": 1.0}),
    Case("logistic_narrow", "exp(-(x - m)/s)/(1 + exp(-(x - m)/s))**2", "x", "m s",
         {"m": 0.0, "s": 1e-3}),
    Case("gumbel", "exp(-(x - m)/s - exp(-(x - m)/s))", "x", "m s", {"m": 0.0, "s": 1.0}),
    Case("skew_normal", "exp(-x**2/2)*(1 + erf(a*x/sqrt(2)))", "x", "a", {"a": 3.0}),
    Case("erfc_tail", "exp(-x**2/8)*erfc(x/s)", "x", "s", {"s": 2.0}),
    Case("softplus_2", "-log(1 + exp(x - a)) - log(1 + exp(-x - a))", "x", "a", {"a": 1.0},
         kind="log"),
    Case("rbm", "exp(-x**2/2 + b*x)*(1 + exp(c + w*x))", "x", "b c w",
         {"b": 0.1, "c": 0.5, "w": 2.0}),
    Case("cauchy", "1/(1 + ((x - m)/s)**2)", "x", "m s", {"m": 0.0, "s": 1.0}),
    Case("exponential", "exp(-lam*x)", "x", "lam", {"lam": 1.5}, {"x": (0, "oo")}),
    Case("gamma", "x**(k - 1)*exp(-lam*x)", "x", "k lam", {"k": 2.5, "lam": 1.5},
         {"x": (0, "oo")}),
    Case("weibull", "x**(k - 1)*exp(-(x/lam)**k)", "x", "k lam", {"k": 1.5, "lam": 1.3},
         {"x": (0, "oo")}),
    Case("log_normal", "exp(-(log(x) - m)**2/(2*s**2))/x", "x", "m s", {"m": 0.0, "s": 1.0},
         {"x": (0, "oo")}),
    Case("inverse_gamma", "x**(-a - 1)*exp(-b/x)", "x", "a b", {"a": 3.0, "b": 1.0},
         {"x": (0, "oo")}),
    Case("log_logistic", "x**(b - 1)/(1 + (x/a)**b)**2", "x", "a b", {"a": 1.0, "b": 3.0},
         {"x": (0, "oo")}),
    Case("truncated_normal", "exp(-(x - mu)**2/(2*s2))", "x", "mu s2", {"mu": 0.5, "s2": 1.0},
         {"x": (0, "oo")}),
    Case("beta", "x**(a - 1)*(1 - x)**(b - 1)", "x", "a b", {"a": 0.5, "b": 0.5},
         {"x": (0, 1)}),
    Case("beta_2.5_3.5", "x**(a - 1)*(1 - x)**(b - 1)", "x", "a b", {"a": 2.5, "b": 3.5},
         {"x": (0, 1)}),
]

FAR = [0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 800.0, 1e3, 1e4, 1e5, 1e6, 1e20, 1e100, 1e160,
       1e300]
NEAR = [1e-300, 1e-100, 1e-20, 1e-8, 1e-3, 0.1]


def axis_values(lo: float, hi: float) -> list:
    """Coordinates along one axis: out to 1e6 each way, and within 1e-300 of a finite edge
    (the nearest float inside where the edge plus 1e-300 rounds back onto it)."""
    def inside(edge, step, towards):
        value = edge + step if towards > edge else edge - step
        return value if value != edge else float(np.nextafter(edge, towards))

    values = set()
    if np.isfinite(lo):
        values |= {inside(lo, d * (1.0 if not np.isfinite(hi) else hi - lo), np.inf)
                   for d in NEAR}
        values |= {lo + v for v in FAR if v > 0 and lo + v < hi}
    if np.isfinite(hi):
        values |= {inside(hi, d * (1.0 if not np.isfinite(lo) else hi - lo), -np.inf)
                   for d in NEAR}
        values |= {hi - v for v in FAR if v > 0 and hi - v > lo}
    if np.isfinite(lo) and np.isfinite(hi):
        values.add(0.5 * (lo + hi))
    if not (np.isfinite(lo) or np.isfinite(hi)):
        values |= set(FAR) | {-v for v in FAR}
    return sorted(v for v in values if lo < v < hi)


def grid(model) -> np.ndarray:
    """Points along each axis (the others at 0, or mid-domain) and along the diagonal."""
    bounds = [tuple(float(b) for b in model.domain[v]) for v in model.variables]
    middle = [0.0 if not (np.isfinite(lo) or np.isfinite(hi)) else
              (1.0 if not np.isfinite(hi) else 0.5 * (lo + hi)) for lo, hi in bounds]
    points = []
    for k, (lo, hi) in enumerate(bounds):
        for value in axis_values(lo, hi):
            point = list(middle)
            point[k] = value
            points.append(point)
    if len(bounds) > 1 and not any(np.isfinite(b).any() for b in bounds):
        points += [[v] * len(bounds) for v in FAR] + [[-v] * len(bounds) for v in FAR]
    return np.array(points, dtype=float)


def reference_functions(model, quantity: str):
    """mpmath functions of (x..., params...) for each component of the quantity."""
    expr = getattr(model, quantity)
    exprs = list(expr) if isinstance(expr, sympy.MatrixBase) else [expr]
    # 1 + erf(z) = erfc(-z): keeps its digits where erf(z) is -1 to 50 digits
    exprs = [e.replace(lambda n: isinstance(n, sympy.erf),
                       lambda n: StableErfc(-n.args[0]) - 1) for e in exprs]
    args = list(model.variables) + list(model.params)
    return [sympy.lambdify(args, e, modules=[{"StableErfc": mpmath.erfc}, "mpmath"])
            for e in exprs]


def working_digits(row) -> tuple:
    """Two precisions for the reference at a point: 50 and 80 digits, plus twice the decimal
    exponent of its largest coordinate (at x = 1e100, (x + 2)**2 - (x - 2)**2 = 8x needs 100
    digits more than the terms it subtracts)."""
    largest = max([1.0] + [abs(float(v)) for v in row])
    extra = 2 * int(np.ceil(np.log10(largest)))
    return 50 + extra, 80 + extra


def reference(model, quantity: str, X: np.ndarray, values: dict) -> np.ndarray:
    """(n, components) references and whether each is sure (the two precisions of
    :func:`working_digits` agree to 1e-12)."""
    out, sure = [], []
    functions = reference_functions(model, quantity)
    for row in X:
        low, high = working_digits(row)
        results = {}
        for dps in (low, high):
            with mpmath.workdps(dps):
                args = [mpmath.mpf(float(v)) for v in row] + \
                    [mpmath.mpf(values[p.name]) for p in model.params]
                try:
                    results[dps] = [f(*args) for f in functions]
                except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                    results[dps] = None
        a, b = results[low], results[high]
        if a is None or b is None or any(isinstance(v, mpmath.mpc) and abs(v.imag) > 0
                                         for v in a + b):
            out.append([np.nan] * len(functions))
            sure.append([False] * len(functions))
            continue
        out.append([float(mpmath.re(v)) for v in b])
        sure.append([abs(u - v) <= 1e-12 * abs(v) or u == v for u, v in zip(a, b)])
    return np.array(out), np.array(sure)


def representable(truth: np.ndarray) -> np.ndarray:
    return np.isfinite(truth) & ((truth == 0) | (np.abs(truth) >= TINY))


def right(values: np.ndarray, truth: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.where((truth == 0) | np.isinf(truth), values == truth,
                        np.abs(values - truth) <= TOLERANCE * np.abs(truth))


def as_components(values, n: int) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    return values.reshape(n, -1)


def scoresym_values(model, backend: str):
    compiled = model.lambdify(backend)

    def evaluate(quantity, X, values):
        return as_components(np.asarray(getattr(compiled, quantity)(X, **values)), len(X))
    return evaluate


def lambdify_values(model):
    args = list(model.variables) + list(model.params)
    cache = {}

    def evaluate(quantity, X, values):
        if quantity not in cache:
            expr = getattr(model, quantity)
            exprs = list(expr) if isinstance(expr, sympy.MatrixBase) else [expr]
            cache[quantity] = [sympy.lambdify(args, e, ["numpy", "scipy"]) for e in exprs]
        columns = [X[:, k] for k in range(X.shape[1])] + [values[p.name] for p in model.params]
        return np.column_stack([np.broadcast_to(f(*columns), (len(X),)).astype(float)
                                for f in cache[quantity]])
    return evaluate


def autodiff_values(model):
    """autograd's derivatives of log f compiled by plain lambdify on autograd.numpy."""
    import autograd.scipy.special as special

    args = list(model.variables) + list(model.params)
    log_f = sympy.lambdify(args, model.log_density,
                           modules=[{"erf": special.erf, "erfc": special.erfc}, anp])

    def log_density(Y, **values):
        columns = [Y[:, k] for k in range(Y.shape[1])]
        return log_f(*columns, *[values[p.name] for p in model.params]) + 0.0 * Y[:, 0]

    def score(Y, values):
        return autograd.grad(lambda Z: anp.sum(log_density(Z, **values)))(Y)

    def evaluate(quantity, X, values):
        if quantity == "log_density":
            return as_components(log_density(X, **values), len(X))
        s = score(X, values)
        if quantity == "score":
            return as_components(s, len(X))
        trace = hessian_trace(lambda Y: score(Y, values), X, X.shape[1])
        if quantity == "laplacian":
            return as_components(trace, len(X))
        return as_components(0.5 * np.sum(s**2, axis=1) + trace, len(X))
    return evaluate


METHODS = {"scoresym (numpy)": lambda m: scoresym_values(m, "numpy"),
           "scoresym (autograd)": lambda m: scoresym_values(m, "autograd"),
           "sympy.lambdify": lambdify_values,
           "autograd of log f": autodiff_values}


def measure(case: Case, wrong: list | None = None) -> dict:
    """{(method, quantity): (right, counted, nan_or_inf)}; scoresym's (numpy) wrong values are
    appended to ``wrong`` as (case, quantity, point, value, truth)."""
    model = ss.Model.from_string(case.text, case.variables, case.params, domain=case.domain,
                                 kind=case.kind, name=case.name)
    X = grid(model)
    results = {}
    for quantity in QUANTITIES:
        truth, sure = reference(model, quantity, X, case.values)
        counted = representable(truth) & sure
        for method, build in METHODS.items():
            evaluate = build(model)
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                try:
                    values = evaluate(quantity, X, case.values)
                except Exception as error:  # a method that cannot evaluate counts as wrong
                    print(f"  {case.name} {quantity} {method}: {type(error).__name__}: {error}",
                          file=sys.stderr)
                    values = np.full(truth.shape, np.nan)
            ok = right(values, truth) & counted
            broken = ~np.isfinite(values) & np.isfinite(truth) & counted
            overflowed = np.isinf(truth) & sure
            results[method, quantity] = (int(ok.sum()), int(counted.sum()), int(broken.sum()),
                                         int((overflowed & (values == truth)).sum()),
                                         int(overflowed.sum()))
            if wrong is not None and method == "scoresym (numpy)":
                for i, j in zip(*np.nonzero((counted | overflowed) & ~right(values, truth))):
                    wrong.append((case.name, quantity, X[i].tolist(), values[i, j], truth[i, j]))
    return results


def table(all_results: dict) -> str:
    methods = list(METHODS)
    lines = ["| density | points | " + " | ".join(f"{m}: right (NaN/inf)" for m in methods)
             + " |", "|---|---|" + "---|" * len(methods)]
    totals = {m: [0, 0, 0] for m in methods}
    for name, results in all_results.items():
        counted = sum(results[methods[0], q][1] for q in QUANTITIES)
        cells = []
        for m in methods:
            ok = sum(results[m, q][0] for q in QUANTITIES)
            broken = sum(results[m, q][2] for q in QUANTITIES)
            totals[m][0] += ok
            totals[m][1] += counted
            totals[m][2] += broken
            cells.append(f"{100 * ok / max(counted, 1):.1f}% ({broken})")
        lines.append(f"| {name} | {counted} | " + " | ".join(cells) + " |")
    lines.append("| **all** | " + str(totals[methods[0]][1]) + " | " + " | ".join(
        f"**{100 * t[0] / max(t[1], 1):.2f}%** ({t[2]})" for t in totals.values()) + " |")
    return "\n".join(lines)


def overflows(all_results: dict) -> str:
    """Where the true value overflows float64, the right answer is inf of its sign."""
    methods = list(METHODS)
    cells = []
    for m in methods:
        ok = sum(r[m, q][3] for r in all_results.values() for q in QUANTITIES)
        total = sum(r[m, q][4] for r in all_results.values() for q in QUANTITIES)
        cells.append(f"{ok} of {total}")
    return ("| where the true value overflows: +-inf given | " + " | ".join(methods) + " |\n"
            + "|---|" + "---|" * len(methods) + "\n| all densities | " + " | ".join(cells)
            + " |")


def by_quantity(all_results: dict) -> str:
    methods = list(METHODS)
    lines = ["| quantity | " + " | ".join(methods) + " |", "|---|" + "---|" * len(methods)]
    for q in QUANTITIES:
        cells = []
        for m in methods:
            ok = sum(r[m, q][0] for r in all_results.values())
            counted = sum(r[m, q][1] for r in all_results.values())
            cells.append(f"{100 * ok / max(counted, 1):.2f}% of {counted}")
        lines.append(f"| {q} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="folder to write stability.md into")
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--wrong", action="store_true",
                        help="list the points where scoresym (numpy) is wrong")
    args = parser.parse_args(argv)
    wrong = [] if args.wrong else None
    folder = output_folder(args.out) if args.out else None
    chosen = [c for c in CASES if not args.only or c.name in args.only.split(",")]
    all_results = {}
    for case in chosen:
        with contextlib.redirect_stdout(sys.stderr):
            all_results[case.name] = measure(case, wrong)
        print(f"measured {case.name}", file=sys.stderr)
    text = (f"{table(all_results)}\n\n{by_quantity(all_results)}\n\n{overflows(all_results)}\n\n"
            f"({platform.machine()}, Python {platform.python_version()}, NumPy "
            f"{np.__version__}, SymPy {sympy.__version__}, mpmath {mpmath.__version__})\n")
    print(text)
    for name, quantity, point, value, truth in wrong or []:
        print(f"wrong: {name} {quantity} at {point}: {value!r}, truth {truth!r}")
    if folder is not None:
        print(f"wrote {write_text(folder, 'stability.md', text)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
