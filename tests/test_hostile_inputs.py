"""The hostile-input corpus: what users, or attackers, may hand to scoresym; what must happen.

The contract, case by case:

- API: a bad input raises ScoresymInputError (a ValueError) whose message names the offending
  piece. Never another exception, never a hang, never a silently wrong number.
- CLI (``scoresym.cli.main`` in-process, and a few ``python -m scoresym.cli`` runs): exit 0 as
  expected, 1 a check failed, 2 bad input with exactly one line on stderr naming the problem; no
  case may exit 3 (an internal error) or raise out of ``main``.
- Outcome classes: "error" (ScoresymInputError / exit 2, with a message fragment that must
  appear; a tuple of fragments means any one of them), "ok" (returns normally; where there is a
  right answer the call checks it against an independent reference), "fail" (exit 1: a real
  check failure), "either" (ok or a clear error, for genuinely ambiguous inputs). A tuple of
  classes allows any of them.
- Every case runs under a time budget (measured with time.perf_counter; an alarm stops a case
  that overruns it by more than a second), and runs in its own tmp_path as the working directory:
  injected code would create the file MARKER there, and no case may.
"""

import contextlib
import io
import json
import math
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy

import scoresym as ss
from scoresym import Model, ScoresymInputError, cli, zoo

PARSE = 2.0      # seconds: parsing and building a model
QUICK = 5.0      # seconds: building, compiling and evaluating once
RUN = 20.0       # seconds: a check, a fit, a command
PROCESS = "python -m scoresym.cli"  # an argv starting with this runs in a fresh interpreter
MARKER = "MARKER"  # injected code below would create this file in the working directory
INJECTED = f"__import__('os').system('touch {MARKER}')"

x = sympy.Symbol("x", real=True)
GAUSS = zoo.get("gaussian_1d").model          # log f = -(x - mu)**2/(2 s2), s2 positive
TRUTH = {"mu": 0.0, "s2": 1.0}
N01 = np.random.default_rng(0).standard_normal((400, 1))
N2D = np.random.default_rng(1).multivariate_normal([0, 0], [[1.0, 0.5], [0.5, 1.0]], 500)


# --- running a case -------------------------------------------------------------------------------

class Overtime(BaseException):
    """Raised by the alarm in a case that overruns its budget (a BaseException, so no
    ``except Exception`` in the package can swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Fail when the block takes longer than ``seconds``; stop it a second after that."""
    def alarm(signum, frame):
        raise Overtime

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds + 1.0)
    start = time.perf_counter()
    try:
        yield
    except Overtime:
        pytest.fail(f"took more than {seconds:g} s (stopped after "
                    f"{time.perf_counter() - start:.1f} s)")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    elapsed = time.perf_counter() - start
    assert elapsed <= seconds, f"took {elapsed:.2f} s, over the budget of {seconds:g} s"


def case(id, call, expected="error", fragment="", budget=None, then=None):
    """One row of a table: ``call`` (a function, or an argv list for the CLI), the expected class,
    the fragment an error must name, an optional budget and, for the CLI, a check of stdout."""
    return id, call, expected, fragment, budget, then


def table(name: str, budget: float, *rows) -> list:
    return [pytest.param(call, expected, fragment, given or budget, then, id=f"{name}: {id}")
            for id, call, expected, fragment, given, then in rows]


def allowed(expected) -> tuple:
    if isinstance(expected, tuple):
        return expected
    return ("ok", "error") if expected == "either" else (expected,)


def assert_names(message: str, fragment) -> None:
    fragments = fragment if isinstance(fragment, tuple) else (fragment,)
    assert any(f in message for f in fragments), \
        f"the message does not name {' or '.join(map(repr, fragments))}: {message!r}"


def assert_outcome(got: str, expected, message: str, fragment) -> None:
    assert got in allowed(expected), f"{got} instead of {expected}: {message[-600:]}"
    if got == "error":
        assert_names(message, fragment)
    assert not Path(MARKER).exists(), "injected code ran: it created the marker file"


def api_outcome(call) -> tuple:
    """("ok", "") or ("error", message); any other exception fails the test as a crash."""
    try:
        call()
    except ScoresymInputError as error:
        return "error", str(error)
    except AssertionError:
        raise
    except Exception as error:  # the contract: no other exception type, ever
        pytest.fail(f"CRASH {type(error).__name__}: {str(error)[:300]}")
    return "ok", ""


EXIT_CLASS = {0: "ok", 1: "fail", 2: "error"}


def run_cli(argv: list, capsys) -> tuple:
    """(exit status, stdout, stderr) of the command, in-process or in a fresh interpreter."""
    if argv[:1] == [PROCESS]:
        run = subprocess.run([sys.executable, "-m", "scoresym.cli", *argv[1:]],
                             capture_output=True, text=True)
        return run.returncode, run.stdout, run.stderr
    try:
        code = cli.main(argv)
    except SystemExit as exit_:  # argparse's way out
        code = 0 if exit_.code is None else exit_.code
    except Exception as error:
        pytest.fail(f"CRASH out of main(): {type(error).__name__}: {str(error)[:300]}")
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def cli_outcome(argv: list, capsys) -> tuple:
    """(class, message, stdout); exit 2 must come with exactly one line on stderr."""
    code, out, err = run_cli(argv, capsys)
    got = EXIT_CLASS.get(code, f"exit {code}")
    if got == "error":
        lines = err.splitlines()
        assert len(lines) == 1, f"exit 2 with {len(lines)} lines on stderr, not 1: {err[-600:]!r}"
    return got, err.strip(), out


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    for name, contents in DATA_FILES.items():
        write(folder / name, contents)
    return folder


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch, data_dir):
    """Each case runs in its own folder, with the data files at ./data."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").symlink_to(data_dir)
    return tmp_path


# --- references and small calls -------------------------------------------------------------------

OPERATORS = ("log_density", "score", "hyvarinen")


def evaluate(text, variables="x", params=(), at=0.5, values=None, operators=OPERATORS,
             **options) -> dict:
    """Build a model from ``text``, compile it, and evaluate log f, the score and the
    Hyvarinen integrand (or the ``operators`` named) at one point."""
    return evaluate_model(Model.from_string(text, variables, params, **options), at, values,
                          operators)


def evaluate_model(m, at=0.5, values=None, operators=OPERATORS) -> dict:
    f = m.lambdify()
    X = np.full((1, m.dim), float(at))
    return {name: getattr(f, name)(X, **(values or {})) for name in operators}


def close(value, reference, rel=1e-12, abs_=0.0) -> None:
    value, reference = float(value), float(reference)
    assert math.isclose(value, reference, rel_tol=rel, abs_tol=abs_), \
        f"got {value!r}, expected {reference!r}"


MPMATH = {"exp": mpmath.exp, "sin": mpmath.sin, "cos": mpmath.cos, "log": mpmath.log,
          "sinh": mpmath.sinh, "erfc": mpmath.erfc, "loggamma": mpmath.loggamma, "pi": mpmath.pi}


def log_f_at_zero(text, reference: str, rel=1e-12, **options):
    """A call: log f of ``text`` at x = 0 equals ``reference``, a formula evaluated by mpmath to
    40 digits."""
    def call():
        with mpmath.workdps(40):
            expected = eval(reference, {"__builtins__": {}, **MPMATH})
        close(evaluate(text, at=0.0, **options)["log_density"][0], expected, rel)
    return call


def log_f_is(text, reference, variables="x", **options):
    """A call: the model's log f equals ``reference`` exactly."""
    def call():
        m = Model.from_string(text, variables, **options)
        assert sympy.expand(m.log_density - reference) == 0, m.log_density
    return call


def score_matches_mpmath(text, at=0.3):
    """A call: the compiled score of log f = ``text`` equals mpmath's numerical derivative of the
    same formula (evaluated by Python on trusted test strings, at 40 digits)."""
    def call():
        # the score only: it is what is compared (the Laplacian of 90 nested sin alone is
        # 8,000 factors, which SymPy differentiates in 10 s)
        got = evaluate(text, at=at, kind="log", operators=("score",))["score"][0, 0]
        with mpmath.workdps(40):
            reference = mpmath.diff(lambda t: eval(text, {"__builtins__": {}, "x": t, **MPMATH}),
                                    mpmath.mpf(at))
        close(got, reference, 1e-10)
    return call


def name_works(name, role="param"):
    """A call: ``name`` as a parameter (or variable) compiles and gives the score -2 (x - c)."""
    def call():
        if role == "param":
            f = Model.from_string(f"exp(-(x - {name})**2)", "x", name).lambdify()
            got = f.score([0.5], **{name: 1.0})
        else:
            f = Model.from_string(f"exp(-({name} - mu)**2)", name, "mu").lambdify()
            got = f.score([0.5], mu=1.0)
        np.testing.assert_allclose(got, [[1.0]], rtol=1e-15)
    return call


def name_refused(name, role="param"):
    if role == "param":
        return lambda: Model.from_string("exp(-x**2)", "x", [name])
    return lambda: Model.from_string("exp(-x**2)", [name])


def compiled(operator="score", X=(0.5,), **values):
    """A call: one compiled operator of the 1-D Gaussian at ``values``."""
    return lambda: getattr(GAUSS.lambdify(), operator)(np.asarray(X), **values)


def fits(X, m=GAUSS, **options):
    return lambda: ss.fit(m, X, **options)


def fit_recovers_moments(method):
    """A call: the Gaussian typed without positivity fits to the sample moments, or errs."""
    def call():
        m = Model.from_string("exp(-(x-mu)**2/(2*s2))", "x", "mu s2")
        r = ss.fit(m, N01, method=method)
        close(r.params["mu"], N01.mean(), 0, 1e-6)
        close(r.params["s2"], N01.var(), 0, 1e-6)
    return call


def fit_correlated(method):
    """A call: the 2-D Gaussian exp(-(x^2 - 2 r x y + y^2)/(2 s)) without positivity. Its
    objective is quadratic in (1/s, r/s): r = 2C/S and s = (S^2 - 4C^2)/(2S) with S = mean(x^2 +
    y^2) and C = mean(xy)."""
    def call():
        m = Model.from_string("exp(-(x**2 - 2*r*x*y + y**2)/(2*s))", "x y", "r s")
        r = ss.fit(m, N2D, method=method)
        S, C = np.mean(N2D[:, 0]**2 + N2D[:, 1]**2), np.mean(N2D[:, 0] * N2D[:, 1])
        close(r.params["r"], 2 * C / S, 1e-6)
        close(r.params["s"], (S**2 - 4 * C**2) / (2 * S), 1e-6)
    return call


def injected(text):
    return lambda: evaluate(text, "x", "mu", values={"mu": 1.0})


def refused_factors(*constants) -> list:
    """Cases: each constant times exp(-x**2) is an error naming the constant."""
    return refused(*[(f"{c} factor", f"{c}*exp(-x**2)", c) for c in constants])


def refused(*rows) -> list:
    """Cases (id, text, fragment): the string, as a density in x with a parameter mu, is an
    error naming the fragment."""
    return [case(id, injected(text), "error", fragment) for id, text, fragment in rows]


def spellings(character: str) -> tuple:
    """The ways a message may name a character: itself, U+XXXX, or its escape."""
    return character, f"U+{ord(character):04X}", ascii(character)[1:-1]


def sympy_model(log_density, variables=(x,), params=()):
    """A call: a Model from SymPy objects, compiled and evaluated."""
    return lambda: evaluate_model(Model(log_density, variables, params), values={
        p.name: 1.0 for p in params})


def nested(function: str, depth: int, core: str = "x") -> str:
    return f"{function}(" * depth + core + ")" * depth


def nested_sympy(depth: int):
    expr = x
    for _ in range(depth):
        expr = sympy.sin(expr, evaluate=False)  # SymPy itself cannot evaluate this deep
    return expr


def with_constant_column(X, column):
    X = np.array(X, dtype=float)
    X[:, column] = 1.5
    return X


def fit_isotropic_with_constant_column():
    X = with_constant_column(np.random.default_rng(2).standard_normal((300, 3)), 2)
    r = ss.fit(zoo.get("gaussian_iso_3d").model, X)
    close(r.params["mu3"], 1.5, 1e-12)
    close(r.params["s2"], np.mean(np.sum((X - X.mean(axis=0)) ** 2, axis=1)) / 3, 1e-10)


# --- the API tables -------------------------------------------------------------------------------

EVIL_SYMBOL = sympy.Symbol(f"x); import os; os.system('touch {MARKER}'); (")

INJECTION = table(
    "injection", PARSE,
    *refused(
        ("__import__ call", INJECTED, "__import__"),
        ("attribute on a name", f"exp(-x**2) + os.system('touch {MARKER}')", "os.system"),
        ("dunder attribute chain", "x.__class__.__base__.__subclasses__()", "__class__"),
        ("tuple class", "().__class__", "__class__"),
        ("exec", f"exec(\"import os; os.system('touch {MARKER}')\")", "exec"),
        ("eval", "eval('1')", "eval"),
        ("open", f"open('{MARKER}', 'w')", "open"),
        ("getattr", "getattr(x, 'real')", "getattr"),
        ("globals", "globals()", "globals"),
        ("builtins", "__builtins__", "__builtins__"),
        ("breakpoint", "breakpoint()", "breakpoint"),
        ("subscript", "x[0]", "x[0]"),
        ("slice", "x[1:2]", "x[1:2]"),
        ("called lambda", "(lambda: 1)()", "lambda"),
        ("bare lambda", "lambda y: y", "lambda"),
        ("list comprehension", "[c for c in 'ab']", "for c in"),
        ("dict comprehension", "{k: 1 for k in 'ab'}", "for k in"),
        ("generator argument", "exp(c for c in 'ab')", "for c in"),
        ("f-string", "f'{x}'", "{x}"),
        ("walrus", "(y := x)", ":="),
        ("starred argument", "exp(*[x])", "*[x]"),
        ("keyword argument", "exp(x=1)", "x=1"),
        ("double-starred argument", "exp(**{'x': 1})", "**{'x': 1}"),
        ("string constant", f"'touch {MARKER}'", "touch"),
        ("bytes constant", "b'x'", "b'x'"),
        ("complex literal", "1j*x", "1j"),
        ("True", "True*x", "True"),
        ("None", "None", "None"),
        ("Ellipsis", "...*x", "..."),
        ("conditional", "x if x else 1", "if"),
        ("semicolon statement", "x; import os", ("syntax", ";")),
        ("import statement", "import os", ("syntax", "import")),
        ("Cyrillic look-alike exp", "\u0435\u0445\u0440(-x**2)",
         ("\u0435\u0445\u0440",) + spellings("\u0435")),
        ("fullwidth exp (NFKC makes it exp)", "\uff45\uff58\uff50(-x**2)",
         ("\uff45\uff58\uff50",) + spellings("\uff45")),
        ("mathematical italic x (NFKC makes it x)", "exp(-\U0001d465**2)",
         spellings("\U0001d465")),
        ("Greek mu for a declared mu", "exp(-(x - \u03bc)**2)", spellings("\u03bc")),
        ("zero-width space", "ex\u200bp(-x**2)", spellings("\u200b")),
        ("right-to-left override", "exp(-x**2)\u202e", spellings("\u202e")),
    ),
    case("no-break space", injected("x\u00a0+ 1"), "either", spellings("\u00a0")),
    case("injection as a param name",
         lambda: Model.from_string("exp(-x**2)", "x", INJECTED.replace(" ", "${IFS}")),
         "error", "__import__"),
    case("injection as a variable name", lambda: Model.from_string("exp(-x**2)", "x;import"),
         "error", "x;import"),
    case("injection as a positive name",
         lambda: Model.from_string("exp(-x**2)", "x", "mu", positive="__class__"),
         "error", "__class__"),
    case("injection as a kind", lambda: Model.from_string("exp(-x**2)", "x", kind=INJECTED),
         "error", "__import__"),
    case("injection in a domain bound",
         lambda: Model.from_string("exp(-x)", "x", domain={"x": (INJECTED, "oo")}),
         "error", "__import__"),
    case("SymPy Symbol named with code, as a variable",
         sympy_model(-EVIL_SYMBOL**2, [EVIL_SYMBOL]), "error", "import os"),
    case("SymPy Symbol named with code, as a param",
         sympy_model(-(x - EVIL_SYMBOL)**2, [x], [EVIL_SYMBOL]), "error", "import os"),
    case("SymPy Symbol named with code, undeclared",
         sympy_model(-x**2 + sympy.Symbol(f"os.system('touch {MARKER}')")), "error",
         "os.system"),
    case("SymPy Symbol with a newline", sympy_model(-sympy.Symbol("x\n")**2,
                                                    [sympy.Symbol("x\n")]),
         "error", ("x\\n", "x\n")),
    case("SymPy Function named __import__",
         sympy_model(-x**2 + sympy.Function("__import__")(x)), "error", "__import__"),
    case("SymPy Function named os.system",
         sympy_model(-x**2 + sympy.Function("os.system")(x)), "error", "os.system"),
    case("weight string", lambda: GAUSS.weights(f"exec('open(\"{MARKER}\", \"w\")')"),
         "error", "exec"),
    case("test function string", lambda: ss.check_stein(GAUSS, TRUTH, INJECTED), "error",
         "__import__"),
    case("derive test function", lambda: ss.derive(GAUSS, "stein", "eval('1')"), "error",
         "eval"),
    case("fit weight", fits(N01, weight=f"open('{MARKER}', 'w')"), "error", "open"),
)

SIZE = table(
    "size", PARSE,
    case("product of 1800 exp(-x**2), 19,799 characters",
         log_f_is("*".join(["exp(-x**2)"] * 1800), -1800 * x**2), "ok"),
    case("sum of 1000 terms k*x**2",
         log_f_is("+".join(f"{k}*x**2" for k in range(1, 1001)), 500500 * x**2, kind="log"),
         "ok"),
    case("sum of 3000 x", log_f_is("+".join(["x"] * 3000), 3000 * x, kind="log"), "ok"),
    case("difference of 3000 x", log_f_is("-".join(["x"] * 3000), -2998 * x, kind="log"), "ok"),
    case("sum of 10000 x, exactly 20,000 characters",
         log_f_is("+".join(["x"] * 9999) + "+ x", 10000 * x, kind="log"), "ok"),
    case("sum of 2500 distinct powers",
         log_f_is("+".join(f"x**{k}" for k in range(1, 2501)),
                  sympy.Add(*[x**k for k in range(1, 2501)]), kind="log"), "ok"),
    case("product of 3000 x", log_f_is("*".join(["x"] * 3000), x**3000, kind="log"), "ok"),
    case("product of 1000 (1 + x**2)",
         log_f_is("*".join(["(1 + x**2)"] * 1000), (1 + x**2)**1000, kind="log"), "ok"),
    case("product of 2000 exp(x)", log_f_is("*".join(["exp(x)"] * 2000), 2000 * x), "ok"),
    case("20,001 characters", injected("+".join(["x"] * 10000) + "+1"), "error", "too long"),
    case("a million characters", injected("x+" * 500_000 + "x"), "error", "too long"),
    case("18,000-digit decimal",
         lambda: close(evaluate("0." + "3" * 18000 + "*x", kind="log")["score"][0, 0], 1 / 3,
                       1e-15), "either", "digits"),
    case("a 1000-character variable name", name_works("v" * 1000, "variable"), "ok",
         budget=QUICK),
    case("200 variables",
         lambda: np.testing.assert_allclose(
             evaluate("-(" + "+".join(f"x{k}**2" for k in range(200)) + ")/2",
                      " ".join(f"x{k}" for k in range(200)), kind="log")["score"],
             np.full((1, 200), -0.5)), "ok", budget=RUN),
    case("500 parameters",
         lambda: close(evaluate("-(x - (" + "+".join(f"a{k}" for k in range(500)) + "))**2/2",
                                "x", [f"a{k}" for k in range(500)], kind="log",
                                values={f"a{k}": 0.001 for k in range(500)})["score"][0, 0],
                       0, 0, 1e-12),
         "ok", budget=RUN),
)

NESTING = table(
    "nesting", PARSE,
    case("300 nested parentheses", injected("(" * 300 + "x" + ")" * 300), "error",
         "nested too deeply"),
    case("150 nested parentheses", log_f_is("-" + nested("", 150) + "**2", -x**2, kind="log"),
         "ok"),
    case("300 nested exp", injected(nested("exp", 300)), "error", "nested too deeply"),
    case("1000 nested sqrt", injected(nested("sqrt", 1000)), "error", "nested too deeply"),
    case("5000 unary minus", lambda: Model.from_string("-" * 5000 + "x", "x", kind="log"),
         "either", "nested too deeply"),
    case("100 unary minus", log_f_is("-" * 100 + "x", x, kind="log"), "ok"),
    case("90 nested sin, chain rule", score_matches_mpmath(nested("sin", 90)), "ok",
         budget=RUN),
    case("150 nested sin", score_matches_mpmath(nested("sin", 150)), "either",
         "nested too deeply", budget=RUN),
    case("continued fraction 40 deep",
         score_matches_mpmath("1/(1 + " * 40 + "x**2" + ")" * 40), "ok", budget=RUN),
    case("continued fraction 90 deep",
         score_matches_mpmath("1/(1 + " * 90 + "x**2" + ")" * 90), "either",
         "nested too deeply", budget=RUN),
    case("power tower x**x**x**x", score_matches_mpmath("x**x**x**x", at=1.3), "ok",
         budget=QUICK),
    case("exp(exp(exp(x)))", score_matches_mpmath("exp(exp(exp(x)))", at=0.1), "ok",
         budget=QUICK),
    case("2**2**2**2**2 (19,729 digits)", injected("2**2**2**2**2*exp(-x**2)"), "error",
         "2**2**2**2**2"),
    case("x to the 2**2**2**2**2", injected("x**2**2**2**2**2"), "error", "2**2**2**2**2"),
    case("SymPy expression 3000 sin deep", sympy_model(nested_sympy(3000)), "either",
         "nested too deeply", budget=RUN),
)

CONSTANTS = table(
    "constants", QUICK,
    # digits: consistent with Python's int-to-string limit (4300 digits)
    *refused_factors("10**9999", "10**5000", "2**20000", "(10**2000)**3", "0.1**5000"),
    case("5000-digit literal", injected("9" * 5000 + "*exp(-x**2)"), "error", "digits"),
    case("4300-digit literal", log_f_at_zero("1" * 4300 + "*exp(-x**2)",
                                             "log(" + "1" * 4300 + ")"), "ok"),
    case("10**4000 factor", log_f_at_zero("10**4000*exp(-x**2)", "9210.340371976183"), "ok"),
    case("2**14000 factor", log_f_at_zero("2**14000*exp(-x**2)", "14000*log(2)"), "ok"),
    case("10**-4000 factor", log_f_at_zero("exp(-x**2)/10**4000", "-4000*log(10)"), "ok"),
    case("10.0**400 factor", log_f_at_zero("10.0**400*exp(-x**2)", "400*log(10)"), "ok"),
    case("1e308*10 factor", log_f_at_zero("1e308*10*exp(-x**2)", "309*log(10)"), "ok"),
    case("0.5**5000 factor", log_f_at_zero("0.5**5000*exp(-x**2)", "-5000*log(2)"), "ok"),
    case("three factors 10**2000",
         log_f_at_zero("10**2000*10**2000*10**2000*exp(-x**2)", "6000*log(10)"),
         "either", "10**2000"),
    case("pi**10000 factor", log_f_at_zero("pi**10000*exp(-x**2)", "10000*log(pi)"),
         "either", "pi**10000"),
    # factors over or under double precision: their log is taken exactly, or they are refused
    case("exp(1000) factor, log taken exactly", log_f_is("exp(1000)*exp(-x**2)", 1000 - x**2),
         "ok"),
    case("E**1000 factor", log_f_is("E**1000*exp(-x**2)", 1000 - x**2), "ok"),
    case("exp(-x**2)**(10**20)",
         lambda: close(evaluate("exp(-x**2)**(10**20)")["score"][0, 0], -1e20), "ok"),
    case("gamma(100) factor", log_f_at_zero("gamma(100)*exp(-x**2)", "loggamma(100)"), "ok"),
    case("gamma(200) factor (over double, log finite)",
         log_f_at_zero("gamma(200)*exp(-x**2)", "loggamma(200)"), "either", "gamma(200)"),
    case("sinh(1000) factor", log_f_at_zero("sinh(1000)*exp(-x**2)", "log(sinh(1000))"),
         "either", "sinh(1000)"),
    case("erfc(30) factor (under double, log finite)",
         log_f_at_zero("exp(-x**2)*erfc(30)", "log(erfc(30))"), "either", "erfc(30)"),
    case("loggamma(10**100) factor",
         log_f_at_zero("loggamma(10**100)*exp(-x**2)", "log(loggamma(10**100))"), "ok"),
    case("0**0 factor is 1", log_f_is("0**0*exp(-x**2)", -x**2), "ok"),
    # constants inside log f that double precision cannot hold
    *refused(
        ("sin(10**4000*x) inside log f", "exp(sin(10**4000*x))", ("10**4000", "e+4000")),
        ("x**(10**1000)", "exp(-x**(10**1000))", ("10**1000", "e+1000")),
        ("exp(10**400 - x**2)", "exp(10**400 - x**2)", ("10**400", "e+400")),
        ("coefficient 1/10**400", "exp(-x**2/10**400)", ("10**400", "e-400")),
        ("coefficient 10**(-400)", "exp(-x**2*10**(-400))", ("10**(-400)", "e-400")),
        ("divided by 1e-320", "exp(-x**2/1e-320)", ("1e-320", "e+320")),
        ("exp(exp(exp(10))) factor", "exp(exp(exp(10)))*exp(-x**2)", "exp(exp(10))"),
        ("-1 factor", "-exp(-x**2)", "-"),
        ("2 - sqrt(5) factor", "exp(-x**2)*(2 - sqrt(5))", "sqrt(5)"),
        ("0/0", "0/0*exp(-x**2)", "0/0"),
    ),
    *refused_factors("1e400", "1e-400"),
    case("literal 1e-400 in log f", lambda: evaluate("-x**2*1e-400", kind="log"), "error",
         "1e-400"),
    case("SymPy Float 1e400 coefficient", sympy_model(-x**2 * sympy.Float("1e400")), "error",
         "e+400"),
    case("SymPy Float 1e-400 coefficient", sympy_model(-x**2 * sympy.Float("1e-400")), "error",
         "e-400"),
    # huge constants under nested calls: refused at once
    case("gamma(gamma(gamma(10**6)))", injected("gamma(gamma(gamma(10**6)))*exp(-x**2)"),
         "error", "gamma", budget=PARSE),
    case("gamma(10**6), 5.5 million digits", injected("gamma(10**6)*exp(-x**2)"), "error",
         "gamma(10**6)", budget=PARSE),
    # not a density: a factor that is zero, negative, complex, infinite or NaN
    *refused_factors("log(0)", "acos(2)", "-3", "sin(-1)", "0", "sqrt(-2)", "acosh(0)",
                     "log(-1)", "atanh(1)", "gamma(0)", "gamma(-1)", "tan(pi/2)", "cos(pi/2)",
                     "Min(-1, 2)", "(-8)**(1/3)"),
    *[case(f"kind {kind}: {text}", lambda text=text, kind=kind: evaluate(text, kind=kind),
           "error", constant)
      for kind, text, constant in [("log", "log(-1) - x**2", "log(-1)"),
                                   ("log", "log(0) - x**2", "log(0)"),
                                   ("log", "atanh(1) - x**2", "atanh(1)"),
                                   ("energy", "x**2 - log(0)", "log(0)")]],
)

NAMES = table(
    "names", QUICK,
    *[case(f"param named {name}", name_works(name), "ok")
      for name in ("X", "self", "params", "backend", "name", "n", "seed", "sigma", "kind",
                   "domain", "numpy", "scipy", "functools", "v_x", "p_mu", "I", "N", "S", "O",
                   "Q", "oo", "nan", "zoo", "beta", "Symbol", "Float", "print", "eval", "exec",
                   "match", "case", "rows")],
    *[case(f"variable named {name}", name_works(name, "variable"), "ok")
      for name in ("X", "self", "p_mu", "mu_data", "np")],
    case("fit a param named X", lambda: close(
        ss.fit(Model.from_string("exp(-(x - X)**2/2)", "x", "X"), N01).params["X"],
        N01.mean(), 0, 1e-6), "ok", budget=RUN),
    *[case(f"param named {name}", name_refused(name), "error", name)
      for name in ("lambda", "class", "True", "None", "async", "exp", "gamma", "Min", "abs",
                   "pi", "E", "__x__", "__class__", "_x", "\u03bc", "\uff58", "x y", "my-param",
                   "1x", "x;y")],
    *[case(f"variable named {name}", name_refused(name, "variable"), "error", name)
      for name in ("def", "sqrt", "__init__", "\u00e9t\u00e9")],
    case("empty param name", name_refused(""), "error", ("''", "empty")),
    case("param name 1 (not a string)", lambda: Model.from_string("exp(-x**2)", "x", [1]),
         "error", ("1", "int")),
    case("params 3.5 (not a sequence)", lambda: Model.from_string("exp(-x**2)", "x", 3.5),
         "error", ("3.5", "float")),
    case("no variables", lambda: Model.from_string("exp(-x**2)", ""), "error", "variable"),
    case("x both variable and param", lambda: Model.from_string("exp(-x**2)", "x", "x"),
         "error", "x"),
    case("mu twice in params", lambda: Model.from_string("exp(-(x-mu)**2)", "x", "mu mu"),
         "error", "mu"),
    case("x twice in variables", lambda: Model.from_string("exp(-x**2)", "x x"), "error", "x"),
    case("one name, two Symbols",
         lambda: Model(-x**2, [x], [sympy.Symbol("x", positive=True)]), "error", "x"),
    case("SymPy Symbol named 'a b'", sympy_model(-sympy.Symbol("a b")**2, [sympy.Symbol("a b")]),
         "error", "a b"),
    case("SymPy Symbol named exp", sympy_model(-sympy.Symbol("exp")**2, [sympy.Symbol("exp")]),
         "error", "exp"),
    case("positive names an undeclared param",
         lambda: Model.from_string("exp(-x**2)", "x", "mu", positive="s3"), "error", "s3"),
    case("domain names a non-variable",
         lambda: Model.from_string("exp(-x**2)", "x", domain={"y": (0, 1)}), "error", "y"),
    case("undeclared name in the string",
         lambda: Model.from_string("exp(-(x - m)**2)", "x"), "error", "m"),
    case("kind 'Density'", lambda: Model.from_string("exp(-x**2)", "x", kind="Density"),
         "error", "Density"),
)

PARAM_VALUES = table(
    "parameter values", QUICK,
    case("mu = nan", compiled(mu=float("nan"), s2=1.0), "error", "mu"),
    case("mu = inf", compiled(mu=float("inf"), s2=1.0), "error", "mu"),
    case("s2 = -inf", compiled(mu=0.0, s2=-float("inf")), "error", "s2"),
    case("mu = 'abc'", compiled(mu="abc", s2=1.0), "error", "mu"),
    case("mu = None", compiled(mu=None, s2=1.0), "error", "mu"),
    case("mu = [1, 2]", compiled(mu=[1.0, 2.0], s2=1.0), "error", "mu"),
    case("mu = array of shape (1,)", compiled(mu=np.array([1.0]), s2=1.0), "error", "mu"),
    case("mu = 1+1j", compiled(mu=1 + 1j, s2=1.0), "error", "mu"),
    case("hessian, s2 = nan", compiled("hessian", mu=0.0, s2=float("nan")), "error", "s2"),
    case("laplacian, s2 missing", compiled("laplacian", mu=0.0), "error", "s2"),
    case("hyvarinen, unknown nu", compiled("hyvarinen", mu=0.0, s2=1.0, nu=3.0), "error", "nu"),
    case("mu = '1.5'", compiled(mu="1.5", s2=1.0), "either", "mu"),
    case("s2 = -1 for a positive s2", compiled(mu=0.0, s2=-1.0), "either", "s2"),
    case("mu = Fraction(1, 2)",
         lambda: close(compiled(mu=Fraction(1, 2), s2=1.0)()[0, 0], 0.0), "ok"),
    case("mu = SymPy Rational(1, 2)",
         lambda: close(compiled(mu=sympy.Rational(1, 2), s2=1.0)()[0, 0], 0.0), "ok"),
    case("mu = numpy float32", lambda: close(compiled(mu=np.float32(1.5), s2=1.0)()[0, 0], 1.0),
         "ok"),
    case("X complex", compiled(X=np.array([0.5 + 1j]), mu=0.0, s2=1.0), "error", "complex"),
    case("X strings", compiled(X=np.array(["a"]), mu=0.0, s2=1.0), "error", "X"),
    case("X of shape (2, 3)", compiled(X=np.zeros((2, 3)), mu=0.0, s2=1.0), "error", "(2, 3)"),
    case("finite differences, mu = nan",
         lambda: ss.check_finite_differences(GAUSS, {"mu": float("nan"), "s2": 1.0}), "error",
         "mu"),
    case("stein, s2 = inf", lambda: ss.check_stein(GAUSS, {"mu": 0.0, "s2": float("inf")}),
         "error", "s2"),
    case("stein, mu = 'abc'", lambda: ss.check_stein(GAUSS, {"mu": "abc", "s2": 1.0}), "error",
         "mu"),
    case("autodiff, mu = [0, 1]",
         lambda: ss.check_autodiff(GAUSS, {"mu": [0.0, 1.0], "s2": 1.0}), "error", "mu"),
    case("boundary, s2 missing", lambda: ss.check_boundary(GAUSS, {"mu": 0.0}), "error", "s2"),
    case("fisher, unknown nu",
         lambda: ss.check_fisher(GAUSS, TRUTH, GAUSS, {**TRUTH, "nu": 3.0}), "error", "nu"),
    case("fisher, data mu = -inf",
         lambda: ss.check_fisher(GAUSS, {"mu": -float("inf"), "s2": 1.0}, GAUSS, TRUTH),
         "error", "mu"),
    case("derivation check, mu = nan",
         lambda: ss.derive(GAUSS).check({"mu": float("nan"), "s2": 1.0}), "error", "mu",
         budget=RUN),
    case("sampler, s2 = nan",
         lambda: zoo.get("gaussian_1d").sample(10, seed=0, params={"mu": 0.0,
                                                                   "s2": float("nan")}),
         "error", "s2"),
)

FIT_ARGUMENTS = table(
    "fit arguments", RUN,
    case("init names unknown nu", fits(N01, init={"nu": 1.0}), "error", "nu"),
    case("fixed names unknown nu", fits(N01, fixed={"nu": 1.0}), "error", "nu"),
    case("init mu = 'abc'", fits(N01, init={"mu": "abc"}), "error", "mu"),
    case("init mu = nan", fits(N01, init={"mu": float("nan")}), "error", "mu"),
    case("init s2 = inf", fits(N01, init={"s2": float("inf")}), "error", "s2"),
    case("fixed s2 = nan", fits(N01, fixed={"s2": float("nan")}), "error", "s2"),
    case("fixed mu = 'abc'", fits(N01, fixed={"mu": "abc"}), "error", "mu"),
    case("fixed mu = [1, 2]", fits(N01, fixed={"mu": [1.0, 2.0]}), "error", "mu"),
    case("fixed mu = None", fits(N01, fixed={"mu": None}), "error", "mu"),
    case("mu both fixed and given an init", fits(N01, fixed={"mu": 0.0}, init={"mu": 1.0}),
         "error", "mu"),
    case("init is a list", fits(N01, init=[1.0, 2.0]), "error", "init"),
    case("fixed is a string", fits(N01, fixed="mu=0"), "error", "fixed"),
    case("method 'newton'", fits(N01, method="newton"), "error", "newton"),
    case("every parameter fixed", fits(N01, fixed={"mu": 0.0, "s2": 1.0}), "error", "fixed"),
    case("maximum likelihood, init names unknown nu",
         lambda: ss.maximum_likelihood(GAUSS, N01, init={"nu": 1.0}), "error", "nu"),
    case("Gaussian without positivity, auto", fit_recovers_moments("auto"), "either",
         ("s2", "positive")),
    case("Gaussian without positivity, optimize", fit_recovers_moments("optimize"), "either",
         ("s2", "positive")),
    case("correlated 2-D Gaussian without positivity, auto", fit_correlated("auto"), "either",
         "s"),
    case("correlated 2-D Gaussian without positivity, optimize", fit_correlated("optimize"),
         "either", "s"),
    case("constant data", fits(np.full((50, 1), 1.5)), "error", "do not identify"),
    # identifiable: mu3 is the constant, s2 the mean squared deviation over the 3 coordinates
    case("constant column in 3-D", fit_isotropic_with_constant_column, "ok"),
    case("X with NaN", fits(np.vstack([N01, [[float("nan")]]])), "error", "NaN"),
    case("X with inf", fits(np.vstack([N01, [[float("inf")]]])), "error", "inf"),
    case("X outside (0, oo)", fits(np.abs(N01) - 0.1, zoo.get("exponential").model,
                                   weight="x"), "error", "domain"),
    case("X of shape (200, 2) for d = 1", fits(N01.reshape(200, 2)), "error", "shape"),
    case("X 3-D array", fits(N01.reshape(100, 2, 2)), "error", "shape"),
    case("X strings", fits(np.array([["a"], ["b"], ["c"]])), "error", ("str", "<U1")),
    case("X complex", fits(N01 + 1j), "error", "complex"),
    case("X objects with None", fits(np.array([[None], [1.0], [2.0]], dtype=object)), "error",
         ("None", "object")),
    case("X empty", fits(np.zeros((0, 1))), "error", ("empty", "0")),
    case("X one point", fits(N01[:1]), "error", "at least 2"),
    case("X a list of lists", lambda: close(ss.fit(GAUSS, N01.tolist()).params["mu"],
                                            N01.mean(), 0, 1e-9), "ok"),
    case("negative weight on (0, oo)", fits(np.abs(N01) + 0.01, zoo.get("exponential").model,
                                            weight="-x"), "either", "weight"),
)

API = INJECTION + SIZE + NESTING + CONSTANTS + NAMES + PARAM_VALUES + FIT_ARGUMENTS


@pytest.mark.parametrize("call, expected, fragment, budget, then", API)
def test_api(call, expected, fragment, budget, then):
    with time_limit(budget), np.errstate(all="ignore"):
        got, message = api_outcome(call)
    assert_outcome(got, expected, message, fragment)


# --- the command line -----------------------------------------------------------------------------

def numbers_text(X, newline="\n") -> str:
    return newline.join(",".join(f"{v:.17g}" for v in row) for row in X) + newline


N01_TEXT = numbers_text(N01)
DIRECTORY = object()

#: The data files, written once into ./data (file name -> str (UTF-8), bytes, array, DIRECTORY).
DATA_FILES = {
    "n01.csv": N01_TEXT,
    "bom.csv": "\ufeff" + N01_TEXT,
    "bom_header.csv": "\ufeffx\n" + N01_TEXT,
    "header.csv": "x\n" + N01_TEXT,
    "quoted_header.csv": '"x"\n' + N01_TEXT,
    "crlf.csv": numbers_text(N01, "\r\n"),
    "blank_tail.csv": N01_TEXT + "\n\n\n",
    "n01.npy": N01,
    "ints.npy": np.round(10 * N01).astype(np.int64),
    "n01_4000.npy": np.random.default_rng(3).standard_normal((4000, 1)),
    "n21_4000.npy": 2 + np.random.default_rng(4).standard_normal((4000, 1)),
    "n2d.csv": numbers_text(N2D),
    "positive.npy": np.abs(N01) + 0.01,
    "malformed.csv": "1.O\n2.0\n3.0\n",
    "trailing_comma.csv": "1.0,\n2.0\n3.0\n",
    "bad_line_3.csv": "1.0\n2.0\nabc\n4.0\n",
    "semicolon.csv": "0.1;0.2\n0.3;0.4\n",
    "nan.csv": "0.1\nnan\n0.3\n0.4\n",
    "inf.csv": "0.1\n0.2\n1e400\n0.4\n",
    "ragged.csv": "1,2\n3\n4,5\n",
    "mixed_header.csv": "1.0,abc\n1,2\n3,4\n",
    "empty.csv": "",
    "header_only.csv": "x\n",
    "constant.csv": "1.5\n" * 50,
    "latin1.csv": b"\xe9t\xe9\n0.1\n0.2\n",
    "npy_as.csv": b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}\x00\x00\xff\xfe",
    "strings.npy": np.array([["a"], ["b"]]),
    "complex.npy": N01 + 1j,
    "bool.npy": N01 > 0,
    "object.npy": np.array([[None], [1.0]], dtype=object),
    "nan.npy": np.vstack([N01, [[float("nan")]]]),
    "cube.npy": np.zeros((2, 2, 2)),
    "two_columns.npy": N01.reshape(200, 2),
    "adir": DIRECTORY,
}


def write(path: Path, contents) -> None:
    if contents is DIRECTORY:
        path.mkdir()
    elif isinstance(contents, np.ndarray):
        with open(path, "wb") as handle:  # np.save would append .npy to a name without it
            np.save(handle, contents, allow_pickle=True)
    elif isinstance(contents, bytes):
        path.write_bytes(contents)
    else:
        path.write_text(contents, encoding="utf-8")


def same_fit(X):
    """A check of stdout: the --json fit equals the API's fit on the same numbers."""
    def then(out):
        reference = ss.fit(GAUSS, X).params
        got = strict_json(out)["params"]
        for name, value in reference.items():
            close(got[name], value, 1e-12)
    return then


def fitted(name, value, tolerance=1e-6):
    return lambda out: close(strict_json(out)["params"][name], value, 0, tolerance)


def strict_json(text: str):
    """json.loads that refuses NaN and Infinity, which are not JSON."""
    def refuse(constant):
        raise AssertionError(f"not strict JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


GAUSS_AT = ["gaussian_1d", "--at", "mu=0,s2=1"]
FIT = ["fit", "gaussian_1d", "--data", "data/n01.csv"]
FIT_2D = ["fit", "exp(-(x**2 + y**2)/(2*s))", "--variables", "x y", "--params", "s",
          "--positive", "s", "--data"]
STANDARD = ["exp(-x**2/2)", "--variables", "x"]
STEIN_MC = ["check", "stein", *STANDARD, "--method", "mc", "--samples"]


def fits_file(name, expected="error", fragment="", then=None):
    return case(f"fit --data {name}", FIT[:-1] + [f"data/{name}", "--json"], expected, fragment,
                then=then)


DATA = table(
    "data files", RUN,
    *[fits_file(name, "ok", then=same_fit(N01))
      for name in ("bom.csv", "bom_header.csv", "header.csv", "quoted_header.csv", "crlf.csv",
                   "blank_tail.csv", "n01.npy")],
    fits_file("ints.npy", "ok", then=same_fit(np.round(10 * N01))),
    fits_file("malformed.csv", fragment="line 1"),
    fits_file("trailing_comma.csv", fragment="line 1"),
    fits_file("bad_line_3.csv", fragment="line 3"),
    fits_file("semicolon.csv", fragment="line 1"),
    fits_file("nan.csv", fragment=("line 2", "nan", "NaN")),
    fits_file("inf.csv", fragment=("line 3", "inf")),
    fits_file("empty.csv", fragment="empty.csv"),
    fits_file("header_only.csv", fragment="header_only.csv"),
    fits_file("missing.csv", fragment="missing.csv"),
    fits_file("adir", fragment="adir"),
    fits_file("latin1.csv", fragment="latin1.csv"),
    fits_file("npy_as.csv", fragment=("npy_as.csv", "line 1")),
    fits_file("strings.npy", fragment=("<U1", "str")),
    fits_file("complex.npy", fragment="complex"),
    fits_file("bool.npy", fragment="bool"),
    fits_file("object.npy", fragment="object"),
    fits_file("nan.npy", fragment=("nan", "NaN")),
    fits_file("cube.npy", fragment="shape"),
    fits_file("two_columns.npy", fragment=("shape", "column")),
    fits_file("constant.csv", fragment="do not identify"),
    case("2-D fit of a ragged file", FIT_2D + ["data/ragged.csv"], "error", "line 2"),
    case("2-D fit of a first row '1.0,abc'", FIT_2D + ["data/mixed_header.csv"], "error",
         "line 1"),
    case("2-D fit of 1-D data", FIT_2D + ["data/n01.csv"], "error", ("column", "shape")),
    case("2-D fit of 2-D data", FIT_2D + ["data/n2d.csv", "--json"], "ok",
         then=fitted("s", float(np.mean(N2D**2)))),
    case("weighted fit with data outside (0, oo)",
         ["fit", "exp(-lam*x)", "--variables", "x", "--params", "lam", "--positive", "lam",
          "--domain", "x=0:oo", "--weight", "x", "--data", "data/n01.csv"], "error", "domain"),
    case("autodiff on the points of a CSV", ["check", "autodiff", *STANDARD, "--samples",
                                             "data/n01.csv"], "ok"),
    case("stein mc on draws from the density", STEIN_MC + ["data/n01_4000.npy"], "ok"),
    case("stein mc on draws from N(2, 1)", STEIN_MC + ["data/n21_4000.npy"], "fail"),
    case("stein mc on a missing file", STEIN_MC + ["data/missing.npy"], "error", "missing.npy"),
    case("stein mc on NaN samples", STEIN_MC + ["data/nan.npy"], "error", ("nan", "NaN")),
    case("stein mc on string samples", STEIN_MC + ["data/strings.npy"], "error",
         ("<U1", "str")),
    case("autodiff on a malformed CSV", ["check", "autodiff", *STANDARD, "--samples",
                                         "data/malformed.csv"], "error", "line 1"),
)


def at(values, check="finite-differences"):
    return ["check", check, "gaussian_1d", "--at", values]


DSM = ["derive", "gaussian_1d", "--identity", "dsm", "--check", "mu=0,s2=1", "--sigma"]
GAMMA3 = "gamma(gamma(gamma(10**6)))*exp(-x**2)"
STEIN_N = ["check", "stein", *GAUSS_AT, "--method", "mc", "--n"]
BOUNDARY_EXP = ["check", "boundary", "exp(-lam*x)", "--variables", "x", "--params", "lam",
                "--positive", "lam", "--domain", "x=0:oo", "--at", "lam=1.5"]

ARGUMENTS = table(
    "cli arguments", RUN,
    case("--at mu=nan (exit 2, not 1)", at("mu=nan,s2=1"), "error", "mu"),
    case("--at mu=inf", at("mu=inf,s2=1"), "error", "mu"),
    case("--at mu=-inf", at("mu=-inf,s2=1"), "error", "mu"),
    case("--at mu twice", at("mu=0,mu=5,s2=1"), "error", "mu"),
    case("--at mu=abc", at("mu=abc,s2=1"), "error", "abc"),
    case("--at without =", at("mu0,s2=1"), "error", "mu0"),
    case("--at unknown nu", at("nu=3,mu=0,s2=1"), "error", "nu"),
    case("--at missing s2", at("mu=0"), "error", "s2"),
    case("--at '=1'", at("=1,mu=0,s2=1"), "error", ("=1", "empty")),
    case("--at with code", at(f"{INJECTED}=1,mu=0,s2=1"), "error", "__import__"),
    case("--data-at mu=inf", at("mu=0,s2=1", "fisher") + ["--data-at", "mu=inf,s2=1"], "error",
         "mu"),
    case("--data-at unknown nu", at("mu=0,s2=1", "fisher") + ["--data-at", "nu=1,mu=0,s2=1"],
         "error", "nu"),
    case("--init unknown nu", FIT + ["--init", "nu=3"], "error", "nu"),
    case("--init mu=abc", FIT + ["--init", "mu=abc", "--method", "optimize"], "error", "abc"),
    case("--fixed mu=nan", FIT + ["--fixed", "mu=nan"], "error", "mu"),
    case("--fixed mu twice", FIT + ["--fixed", "mu=0,mu=1"], "error", "mu"),
    case("--fixed and --init both name mu", FIT + ["--fixed", "mu=0", "--init", "mu=1"],
         "error", "mu"),
    case("--check mu=nan", ["derive", "gaussian_1d", "--check", "mu=nan,s2=1"], "error", "mu"),
    case("--check mu twice", ["derive", "gaussian_1d", "--check", "mu=0,mu=1,s2=1"], "error",
         "mu"),
    case("--check without =", ["derive", "gaussian_1d", "--check", "mu"], "error", "mu"),
    *[case(f"--sigma {value}", DSM + [value], "error", "sigma")
      for value in ("-1", "0", "nan", "inf", "abc")],
    *[case(f"--n {value}", STEIN_N + [value], "error", ("--n", "samples"))
      for value in ("0", "-5", "abc")],
    case("--seed -1", STEIN_N + ["2000", "--seed", "-1"], "error", "--seed"),
    case("density '-x**2/2'", ["derive", "-x**2/2", "--variables", "x", "--kind", "log"], "ok"),
    case("test function '-x'", ["check", "stein", "-x**2/2", "--variables", "x", "--kind", "log",
                                "--test-function", "-x"], "ok"),
    case("boundary, density '-x' and test function '-x'",
         ["check", "boundary", "-x", "--variables", "x", "--kind", "log", "--domain", "x=0:oo",
          "--test-function", "-x"], "ok"),
    case("fit '-(x - mu)**2/2'",
         ["fit", "-(x - mu)**2/2", "--variables", "x", "--params", "mu", "--kind", "log",
          "--data", "data/n01.csv", "--json"], "ok", then=fitted("mu", float(N01.mean()))),
    case("verify --density '-x**2/2'", ["verify", "--quick", "--density", "-x**2/2",
                                        "--variables", "x", "--kind", "log", "--out", "rep"],
         "ok"),
    case("boundary with weight '-x'", BOUNDARY_EXP + ["--weight", "-x"], ("fail", "error"),
         "weight"),
    case("weighted fit with weight '-x'",
         ["fit", "exp(-lam*x)", "--variables", "x", "--params", "lam", "--positive", "lam",
          "--domain", "x=0:oo", "--weight", "-x", "--data", "data/positive.npy"],
         ("fail", "error"), "weight"),
    case("boundary term of exp(-lam x) on (0, oo)", BOUNDARY_EXP, "fail"),
    case("--domain x=abc:oo", ["derive", "exp(-x)", "--variables", "x", "--domain", "x=abc:oo"],
         "error", "abc"),
    case("--domain x=1:0", ["derive", "exp(-x)", "--variables", "x", "--domain", "x=1:0"],
         "error", "x"),
    case("--domain x=nan:1", ["derive", "exp(-x)", "--variables", "x", "--domain", "x=nan:1"],
         "error", ("nan", "NaN")),
    case("--domain for y", ["derive", "exp(-x)", "--variables", "x", "--domain", "y=0:oo"],
         "error", "y"),
    case("--domain with code", ["derive", "exp(-x)", "--variables", "x", "--domain",
                                f"x={INJECTED}:oo"], "error", "__import__"),
    case("--kind foo", ["derive", "exp(-x**2)", "--variables", "x", "--kind", "foo"], "error",
         "foo"),
    case("--variables 'x x'", ["derive", "exp(-x**2)", "--variables", "x x"], "error", "x"),
    case("--variables ''", ["derive", "exp(-x**2)", "--variables", ""], "error", "variable"),
    case("--variables with code", ["derive", "exp(-x**2)", "--variables", "x;import"], "error",
         "x;import"),
    case("--params lambda", ["derive", "exp(-x**2)", "--variables", "x", "--params", "lambda"],
         "error", "lambda"),
    case("--params __class__", ["derive", "exp(-x**2)", "--variables", "x", "--params",
                                "__class__"], "error", "__class__"),
    case("--positive nu", ["derive", "exp(-(x-mu)**2)", "--variables", "x", "--params", "mu",
                           "--positive", "nu"], "error", "nu"),
    case("unknown built-in", ["check", "stein", "notamodel"], "error", "notamodel"),
    case("verify --model nope", ["verify", "--model", "nope"], "error", "nope"),
    case("verify --model and --density", ["verify", "--model", "gaussian_1d", "--density",
                                          "exp(-x**2)", "--variables", "x"], "error", "--model"),
    case("verify --density with --at mu=nan",
         ["verify", "--density", "exp(-(x-mu)**2)", "--variables", "x", "--params", "mu",
          "--at", "mu=nan"], "error", "mu"),
    case("no subcommand", [], "error", "command"),
    case("unknown option", ["check", "stein", *GAUSS_AT, "--bogus"], "error", "--bogus"),
    case("derive code as the density", ["derive", INJECTED, "--variables", "x"], "error",
         "__import__"),
    case("verify code as the density", ["verify", "--density", INJECTED, "--variables", "x"],
         "error", "__import__"),
    case("stein code as the test function", ["check", "stein", *GAUSS_AT, "--test-function",
                                             INJECTED], "error", "__import__"),
    case("boundary code as the weight", ["check", "boundary", *GAUSS_AT, "--weight",
                                         f"open('{MARKER}', 'w')"], "error", "open"),
    case("fit code as the weight", FIT + ["--weight", f"exec('open(\"{MARKER}\", \"w\")')"],
         "error", "exec"),
    case("test function 'x; import os'", ["check", "stein", *GAUSS_AT, "--test-function",
                                          "x; import os"], "error", ("syntax", ";")),
    case("gamma(gamma(gamma(10**6)))", ["derive", GAMMA3, "--variables", "x"], "error", "gamma",
         PARSE),
    case("10**9999 factor", ["check", "finite-differences", "10**9999*exp(-x**2)",
                             "--variables", "x"], "error", "10**9999", PARSE),
    case("log(0) factor", ["check", "finite-differences", "log(0)*exp(-x**2)", "--variables",
                           "x"], "error", "log(0)", PARSE),
    case("exp(sin(10**4000*x))", ["derive", "exp(sin(10**4000*x))", "--variables", "x"],
         "error", ("10**4000", "e+4000"), PARSE),
    case("300 nested parentheses", ["check", "stein", "(" * 300 + "x" + ")" * 300,
                                    "--variables", "x"], "error", "nested too deeply", PARSE),
    case("10**4000 factor", ["check", "finite-differences", "10**4000*exp(-x**2)",
                             "--variables", "x"], "ok"),
    case("product of 1800 exp(-x**2)", ["check", "finite-differences",
                                        "*".join(["exp(-x**2)"] * 1800), "--variables", "x"],
         "ok"),
    case("param named self", ["check", "stein", "exp(-(x - self)**2)", "--variables", "x",
                              "--params", "self", "--at", "self=1"], "ok"),
    case("param named X", ["check", "finite-differences", "exp(-(x - X)**2)", "--variables", "x",
                           "--params", "X", "--at", "X=1"], "ok"),
    case("param named seed", ["check", "stein", "exp(-(x - seed)**2)", "--variables", "x",
                              "--params", "seed", "--at", "seed=1", "--seed", "3"], "ok"),
    case("param named n", ["fit", "exp(-(x - n)**2/2)", "--variables", "x", "--params", "n",
                           "--data", "data/n01.csv", "--json"], "ok",
         then=fitted("n", float(N01.mean()))),
    case("param named sigma", ["derive", "exp(-(x - sigma)**2)", "--variables", "x", "--params",
                               "sigma", "--identity", "dsm", "--check", "sigma=1", "--sigma",
                               "0.5"], "ok"),
    case("--debug before the subcommand, input error", ["--debug", *at("mu=nan,s2=1")], "error",
         "mu"),
    case("subprocess: --at mu=nan", [PROCESS, *at("mu=nan,s2=1")], "error", "mu", 10.0),
    case("subprocess: gamma(gamma(gamma(10**6)))", [PROCESS, "derive", GAMMA3, "--variables",
                                                    "x"], "error", "gamma", 10.0),
    case("subprocess: code as the density", [PROCESS, "derive", INJECTED, "--variables", "x"],
         "error", "__import__", 10.0),
    case("subprocess: density '-x**2/2'", [PROCESS, "derive", "-x**2/2", "--variables", "x",
                                           "--kind", "log"], "ok", budget=10.0),
)


@pytest.mark.parametrize("argv, expected, fragment, budget, then", DATA + ARGUMENTS)
def test_cli(argv, expected, fragment, budget, then, capsys):
    with time_limit(budget):
        got, message, out = cli_outcome(argv, capsys)
    assert_outcome(got, expected, message, fragment)
    if then is not None and got == "ok":
        then(out)


# --- safe writes ---------------------------------------------------------------------------------

def existing_file(name="existing.txt"):
    Path(name).write_text("keep me")
    return {name: "keep me"}


def symlinked_report(report="report.json", target="outside.txt"):
    """./rep/<report> is a symlink to ./outside.txt (absent when target is None)."""
    def setup():
        Path("rep").mkdir()
        kept = existing_file("outside.txt") if target else {"outside.txt": None}
        (Path("rep") / report).symlink_to(Path("outside.txt").resolve())
        return kept
    return setup


def symlink_to_a_file():
    kept = existing_file()
    Path("link").symlink_to(Path("existing.txt").resolve())
    return kept


VERIFY = ["verify", "--quick", "--model", "gaussian_1d", "--out"]

SAFE_WRITES = table(
    "safe writes", PARSE,
    case("verify --out an existing file", (existing_file, VERIFY + ["existing.txt"]), "error",
         "existing.txt"),
    case("verify --out an existing file, before any check (gamma's take 8 s)",
         (existing_file, VERIFY[:3] + ["gamma", "--out", "existing.txt"]), "error",
         "existing.txt"),
    case("verify --out a symlink to a file", (symlink_to_a_file, VERIFY + ["link"]), "error",
         "link"),
    case("verify --out below a file", (existing_file, VERIFY + ["existing.txt/sub"]), "error",
         "existing.txt"),
    case("verify, report.json a symlink out", (symlinked_report(), VERIFY + ["rep"]), "error",
         "report.json", QUICK),
    case("verify, report.md a symlink out", (symlinked_report("report.md"), VERIFY + ["rep"]),
         "error", "report.md", QUICK),
    case("verify, report.json a dangling symlink out",
         (symlinked_report(target=None), VERIFY + ["rep"]), "error", "report.json", QUICK),
    case("figures --out an existing file",
         (existing_file, ["figures", "--quick", "--out", "existing.txt"]), "error",
         "existing.txt"),
    case("figures --out a symlink to a file",
         (symlink_to_a_file, ["figures", "--quick", "--out", "link"]), "error", "link"),
)


@pytest.mark.parametrize("call, expected, fragment, budget, then", SAFE_WRITES)
def test_safe_writes(call, expected, fragment, budget, then, capsys):
    setup, argv = call
    kept = setup()
    with time_limit(budget):
        got, message, _ = cli_outcome(argv, capsys)
    assert_outcome(got, expected, message, fragment)
    for name, contents in kept.items():
        if contents is None:
            assert not Path(name).exists(), f"{name} was created through a symlink"
        else:
            assert Path(name).read_text() == contents, f"{name} was overwritten"


# --- strict JSON ---------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["gamma", "exponential"])
def verify_json(request, tmp_path_factory):
    """(exit status, stdout, report.json's text) of verify --quick --json for one model."""
    out = tmp_path_factory.mktemp(f"verify_{request.param}")
    stdout, stderr = io.StringIO(), io.StringIO()
    with time_limit(RUN), contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(["verify", "--quick", "--model", request.param, "--json", "--out",
                         str(out)])
    assert code in (0, 1), f"exit {code}: {stderr.getvalue()[-600:]}"
    return code, stdout.getvalue(), (out / "report.json").read_text(encoding="utf-8")


def rows_of(report: dict) -> list:
    return report["rows"]


def no_error_row_passes(report: dict) -> None:
    for row in rows_of(report):
        if row.get("status") == "error" or row.get("method") == "error":
            assert row["passed"] is False, f"a check that could not run counts as passed: {row}"


def counts_agree(report: dict) -> None:
    passed = sum(bool(row["passed"]) for row in rows_of(report))
    assert (report["passed"], report["failed"]) == (passed, len(rows_of(report)) - passed)


def exit_matches_failures(code, out, saved) -> None:
    failed = json.loads(out)["failed"]
    assert (code == 1) == (failed > 0), f"exit {code} with {failed} failed row(s)"


JSON = table(
    "json", RUN,
    case("stdout is strict JSON", lambda code, out, saved: strict_json(out), "ok"),
    case("report.json is strict JSON", lambda code, out, saved: strict_json(saved), "ok"),
    case("stdout: no row that could not run is passed",
         lambda code, out, saved: no_error_row_passes(json.loads(out)), "ok"),
    case("report.json: no row that could not run is passed",
         lambda code, out, saved: no_error_row_passes(json.loads(saved)), "ok"),
    case("counts agree with the rows", lambda code, out, saved: counts_agree(json.loads(out)),
         "ok"),
    case("exit 1 exactly when a row did not pass", exit_matches_failures, "ok"),
)


@pytest.mark.parametrize("call, expected, fragment, budget, then", JSON)
def test_json(call, expected, fragment, budget, then, verify_json):
    with time_limit(budget):
        got, message = api_outcome(lambda: call(*verify_json))
    assert_outcome(got, expected, message, fragment)


# --- internal errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("debug", [False, True], ids=["plain", "--debug"])
def test_internal_error_exits_3_with_one_line_and_a_traceback_only_with_debug(
        debug, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("an internal fault")

    monkeypatch.setattr(Model, "from_string", broken)
    argv = ["--debug"] * debug + ["check", "finite-differences", "exp(-x**2)", "--variables", "x"]
    code, _, err = run_cli(argv, capsys)
    assert code == 3, f"exit {code}, expected 3: {err[-600:]}"
    if debug:
        assert "Traceback" in err and "an internal fault" in err
    else:
        assert len(err.splitlines()) == 1 and "Traceback" not in err, err
        assert "an internal fault" in err


def test_the_corpus_is_large_and_spans_every_class():
    tables = {"injection": INJECTION, "size": SIZE, "nesting": NESTING, "constants": CONSTANTS,
              "names": NAMES, "parameter values": PARAM_VALUES, "fit arguments": FIT_ARGUMENTS,
              "data files": DATA, "cli arguments": ARGUMENTS, "safe writes": SAFE_WRITES,
              "json": JSON}
    assert all(tables.values())
    assert sum(map(len, tables.values())) >= 200
    ids = [p.id for rows in tables.values() for p in rows]
    assert len(ids) == len(set(ids)), "case ids must be unique"
