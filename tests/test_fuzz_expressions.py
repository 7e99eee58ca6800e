"""Property-based fuzzing of user expressions: random expression trees, not random characters.

Hypothesis builds trees over the variables x, y and the parameters a, b from numbers (integers,
decimals, tiny and huge ones, 0, negative ones), + - * / **, unary minus and calls to every
whitelisted function, and renders them to strings. Two properties:

1. Anything goes through the whole pipeline (parse as a density, a log-density or an energy;
   the score, Laplacian and Hyvarinen integrand; compile; evaluate at fixed points) or stops
   with a ScoresymInputError, within a time budget per example. NaN and inf are allowed in the
   values: a random expression may be singular at a point.
2. For smooth expressions (polynomials with small integer coefficients, and exp, sin, cos, tanh
   of them, combined by + - * and integer powers), the compiled score and Laplacian equal
   SymPy's own derivatives of an independently built expression, evaluated to 40 digits at the
   same (exactly represented) points, to 1e-8 relative.

The runs are derandomized, so CI sees the same examples every time.
"""

import signal
import time

import numpy as np
import sympy
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from scoresym import Model, ScoresymInputError
from scoresym.symbolic.expressions import FUNCTIONS

BUDGET = 10.0  # seconds per example
POINTS = np.array([[0.3, -0.7], [1.1, 0.4], [-1.5, 2.0]])
VALUES = {"a": 0.7, "b": 1.3}
SYMBOLS = {name: sympy.Symbol(name, real=True) for name in ("x", "y", "a", "b")}
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])


class Overtime(BaseException):
    """The per-example budget ran out (a BaseException: nothing in the package catches it)."""


def run_within(seconds: float, action):
    """``action()``, stopped by an alarm a second after ``seconds``; fails when over budget."""
    def stop(signum, frame):
        raise Overtime(f"stopped after {seconds + 1:g} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds + 1.0)
    start = time.perf_counter()
    try:
        result = action()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    assert elapsed <= seconds, f"took {elapsed:.1f} s, over the budget of {seconds:g} s"
    return result


# --- trees ---------------------------------------------------------------------------------------
# A tree is ("leaf", text) | ("neg", tree) | ("op", symbol, tree, tree) | ("call", name, [trees]).

EXTREME_NUMBERS = ["0", "0.0", "-0", "1e-300", "1e-320", "1e-400", "1e300", "1e308", "1e309",
                   "123456789012345678901234567890", "10**20", "2**64", "0.1", "1.5e-7"]
NUMBERS = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.decimals(min_value=-10**6, max_value=10**6, places=3, allow_nan=False,
                allow_infinity=False).map(str),
    st.sampled_from(EXTREME_NUMBERS),
)
NAMES = st.sampled_from(sorted(SYMBOLS))


def calls(children):
    """A call of a whitelisted function with its number of arguments (2 or 3 for Min/Max)."""
    def with_arguments(name):
        arity = FUNCTIONS[name][1]
        count = st.just(arity) if arity else st.integers(2, 3)
        return count.flatmap(lambda k: st.lists(children, min_size=k, max_size=k)).map(
            lambda args: ("call", name, args))
    return st.sampled_from(sorted(FUNCTIONS)).flatmap(with_arguments)


def operations(children, symbols):
    return st.tuples(st.just("op"), st.sampled_from(symbols), children, children)


TREES = st.recursive(
    st.one_of(NAMES, NUMBERS).map(lambda text: ("leaf", text)),
    lambda children: st.one_of(st.tuples(st.just("neg"), children),
                               operations(children, ["+", "-", "*", "/", "**"]),
                               calls(children)),
    max_leaves=12)

# Smooth trees: polynomials with small integer coefficients, then exp/sin/cos/tanh of them,
# combined by + - * and small integer powers.
POLYNOMIALS = st.recursive(
    st.one_of(st.sampled_from(["x", "y", "x", "y", "a", "b"]),  # mostly the variables
              st.integers(-3, 3).map(str)).map(lambda text: ("leaf", text)),
    lambda children: st.one_of(operations(children, ["+", "-", "*"]),
                               st.tuples(st.just("power"), children, st.integers(1, 3))),
    max_leaves=8)
SMOOTH = st.recursive(
    st.one_of(POLYNOMIALS,
              st.tuples(st.just("call"), st.sampled_from(["exp", "sin", "cos", "tanh"]),
                        POLYNOMIALS.map(lambda p: [p]))),
    lambda children: st.one_of(operations(children, ["+", "-", "*"]),
                               st.tuples(st.just("power"), children, st.integers(1, 3))),
    max_leaves=4)


def render(tree) -> str:
    """The tree as a user would type it, fully parenthesized."""
    kind = tree[0]
    if kind == "leaf":
        return f"({tree[1]})" if tree[1].startswith("-") or "*" in tree[1] else tree[1]
    if kind == "neg":
        return f"-{render(tree[1])}"
    if kind == "op":
        return f"({render(tree[2])} {tree[1]} {render(tree[3])})"
    if kind == "power":
        return f"({render(tree[1])})**{tree[2]}"
    return f"{tree[1]}({', '.join(render(arg) for arg in tree[2])})"


def build(tree) -> sympy.Expr:
    """The same smooth tree built directly with SymPy: the independent reference."""
    kind = tree[0]
    if kind == "leaf":
        return SYMBOLS[tree[1]] if tree[1] in SYMBOLS else sympy.Integer(tree[1])
    if kind == "op":
        left, right = build(tree[2]), build(tree[3])
        return {"+": left + right, "-": left - right, "*": left * right}[tree[1]]
    if kind == "power":
        return build(tree[1]) ** tree[2]
    return getattr(sympy, tree[1])(build(tree[2][0]))


# --- property 1: everything compiles or stops with a clear error ---------------------------------

def exercise(text: str, kind: str) -> None:
    """The whole pipeline; a ScoresymInputError anywhere is a fine outcome."""
    try:
        m = Model.from_string(text, "x y", "a b", kind=kind)
        m.score, m.laplacian, m.hyvarinen  # noqa: B018 (derive them symbolically)
        f = m.lambdify()
        with np.errstate(all="ignore"):
            shapes = {name: np.shape(getattr(f, name)(POINTS, **VALUES))
                      for name in ("score", "laplacian", "hyvarinen")}
    except ScoresymInputError:
        return
    assert shapes == {"score": (3, 2), "laplacian": (3,), "hyvarinen": (3,)}, shapes


@settings(max_examples=200, **SETTINGS)
@given(tree=TREES, kind=st.sampled_from(["density", "log", "energy"]))
def test_random_expressions_compile_or_raise_a_clear_error(tree, kind):
    text = render(tree)
    note(f"kind={kind!r} text={text!r}")
    run_within(BUDGET, lambda: exercise(text, kind))


# --- property 2: smooth expressions get the exact score ------------------------------------------

def exact_point(point) -> dict:
    """The point and the parameters as exact rationals (the very doubles the compiled code
    sees)."""
    values = {"x": point[0], "y": point[1], **VALUES}
    return {SYMBOLS[name]: sympy.Rational(float(v)) for name, v in values.items()}


def references(expr: sympy.Expr, point) -> tuple:
    """(score components, Laplacian) of log f = expr at the point, to 40 digits."""
    where = exact_point(point)
    variables = (SYMBOLS["x"], SYMBOLS["y"])
    gradient = [sympy.diff(expr, v) for v in variables]
    laplacian = sum(sympy.diff(g, v) for g, v in zip(gradient, variables))
    return ([complex(g.xreplace(where).evalf(40)) for g in gradient],
            complex(laplacian.xreplace(where).evalf(40)))


def assert_close(got: float, reference: complex, what: str) -> None:
    """Equal to 1e-8 relative; points where the reference is not a finite moderate real are
    skipped."""
    if reference.imag != 0 or not np.isfinite(reference.real) or abs(reference.real) > 1e8:
        return
    tolerance = 1e-8 * max(1.0, abs(reference.real))
    assert abs(got - reference.real) <= tolerance, \
        f"{what}: compiled {got!r}, SymPy {reference.real!r}"


def compare_with_sympy(text: str, expr: sympy.Expr, kind: str) -> None:
    sign = 1 if kind == "log" else -1
    f = Model.from_string(text, "x y", "a b", kind=kind).lambdify()
    with np.errstate(all="ignore"):
        scores = f.score(POINTS, **VALUES)
        laplacians = f.laplacian(POINTS, **VALUES)
    for k, point in enumerate(POINTS):
        gradient, laplacian = references(sign * expr, point)
        for i, component in enumerate(gradient):
            assert_close(scores[k, i], component, f"score[{i}] at {tuple(map(float, point))}")
        assert_close(laplacians[k], laplacian, f"Laplacian at {tuple(map(float, point))}")


@settings(max_examples=300, **SETTINGS)
@given(tree=SMOOTH, kind=st.sampled_from(["log", "energy"]))
def test_smooth_expressions_get_sympys_exact_score(tree, kind):
    text, expr = render(tree), build(tree)
    assume(expr.free_symbols & {SYMBOLS["x"], SYMBOLS["y"]})  # else: not a density of x, y
    note(f"kind={kind!r} text={text!r}")
    run_within(BUDGET, lambda: compare_with_sympy(text, expr, kind))
