"""The ``scoresym`` command.

Exit status, one per outcome: 0 every check as expected; 1 a check failed or reached no verdict
(or a fit did not converge); 2 bad input (one line on stderr naming the problem); 3 an internal
error, a bug in scoresym (one line; the traceback with ``scoresym --debug ...``).

    scoresym verify                  every check over every built-in model (the main job)
    scoresym verify --quick --model student_t --out report
    scoresym derive DENSITY ...      a step-by-step derivation, optionally checked
    scoresym check NAME DENSITY ...  one check (stein, boundary, fisher, autodiff, ...)
    scoresym fit MODEL --data FILE   score-matching estimates with standard errors
    scoresym gof MODEL --data FILE --at PARAMS | --fit
                                     goodness of fit by the kernel Stein discrepancy
    scoresym figures --out DIR       the figures for papers

Output commands write only inside the folder named by ``--out`` (never through a symbolic link,
each file atomically); ``--out`` is checked before any work starts. A density, weight or test
function may start with "-" (``scoresym derive "-x**2/2" --kind log --variables x``).
"""

from __future__ import annotations

import argparse
import math
import sys

from . import zoo
from .checks import CHECKS, CommandLine
from .derive import IDENTITIES, derive
from .derive.derivation import as_expected
from .errors import ScoresymInputError
from .estimate import METHODS, STDERRS, fit
from .model import Model
from .verify import (
    format_rows,
    report_json,
    run_suite,
    summary_line,
    user_builtin,
    write_report,
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


# --- arguments that are numbers, names and files --------------------------------------------

def positive_float(text: str) -> float:
    """An argparse type: a positive finite number (a noise level)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text!r}")
    return value


def integer_at_least(minimum: int, what: str):
    """An argparse type: an integer >= ``minimum`` (``what`` says which kind, for messages)."""
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be a {what} integer, got {text!r}")
        return value

    return convert


positive_int = integer_at_least(1, "positive")        # a sample size
seed_int = integer_at_least(0, "non-negative")        # a seed


def parse_assignments(text: str, what: str) -> dict:
    """"mu=0.5, s2=2" -> {"mu": 0.5, "s2": 2.0}; a clear error names a bad piece, a name given
    twice, or a value that is not a finite number.

    >>> parse_assignments("mu=0.5, s2=2", "--at")
    {'mu': 0.5, 's2': 2.0}
    """
    values = {}
    for piece in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = (part.strip() for part in piece.partition("="))
        if not sep or not name:
            raise ScoresymInputError(f"{what}: expected name=value, got {piece!r}")
        if name in values:
            raise ScoresymInputError(f"{what}: {name} is given twice")
        try:
            number = float(value)
        except ValueError:
            raise ScoresymInputError(f"{what}: {value!r} is not a number") from None
        if not math.isfinite(number):
            raise ScoresymInputError(f"{what}: {name}={value} is not a finite number")
        values[name] = number
    return values


def parse_domain(items) -> dict:
    """["x=0:oo"] -> {"x": ("0", "oo")}; the bounds are read by the Model."""
    domain = {}
    for item in items or ():
        name, sep, interval = item.partition("=")
        lo, colon, hi = interval.partition(":")
        if not sep or not colon:
            raise ScoresymInputError(f"--domain: expected name=lo:hi, got {item!r}")
        if name.strip() in domain:
            raise ScoresymInputError(f"--domain: {name.strip()} is given twice")
        domain[name.strip()] = (lo.strip(), hi.strip())
    return domain


def model_from_args(args):
    """A built-in model (by name) or a user density from the command line."""
    if args.density in zoo.names() and not args.variables:
        return zoo.get(args.density).model
    if not args.variables:
        raise ScoresymInputError(f"{args.density!r} is not a built-in model "
                                 f"({', '.join(zoo.names())}); for a density string give "
                                 "--variables")
    return Model.from_string(args.density, args.variables, args.params or "", kind=args.kind,
                             domain=parse_domain(args.domain), positive=args.positive,
                             name="model")


# --- the subcommands -------------------------------------------------------------------------

def _progress(stream):
    """A one-line progress indicator on a terminal; nothing otherwise."""
    if not stream.isatty():
        return None

    def show(model, check, done, total):
        filled = int(30 * done / max(total, 1))
        bar = "#" * filled + "-" * (30 - filled)
        stream.write(f"\r\033[K[{bar}] {done}/{total} {model}: {check}")
        stream.flush()

    return show


def cmd_verify(args) -> int:
    from .outputs import output_folder

    folder = output_folder(args.out) if args.out else None  # before any work
    builtins = None
    if args.density:
        if args.model:
            raise ScoresymInputError("give --model or --density, not both")
        m = model_from_args(args)
        builtins = [user_builtin(m, parse_assignments(args.at or "", "--at"), args.weight)]
    rows = run_suite([args.model] if args.model else None, quick=args.quick, seed=args.seed,
                     progress=_progress(sys.stderr), builtins=builtins)
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    notes = [note for builtin in builtins or () for note in builtin.notes]
    heading = "".join(f"{note}\n" for note in notes) + ("\n" if notes else "")
    print(report_json(rows, notes) if args.json else
          f"{heading}{format_rows(rows)}\n\n{summary_line(rows)}")
    if folder is not None:
        markdown, data = write_report(rows, folder, notes)
        if not args.json:
            print(f"report: {markdown} and {data}")
    internal = [row for row in rows if row.internal]
    if internal and args.debug:
        for row in internal:
            print(f"{row.model} / {row.check}:\n{row.traceback}", file=sys.stderr)
    if internal:
        raise InternalError(f"{len(internal)} check(s) raised an internal error; first: "
                            f"{internal[0].model} / {internal[0].check}: {internal[0].error}")
    return EXIT_OK if all(row.passed for row in rows) else EXIT_FAILED


def cmd_derive(args) -> int:
    m = model_from_args(args)
    d = derive(m, args.identity, args.test_function, weight=args.weight)
    render = {"text": d.to_text, "markdown": d.to_markdown,
              "latex": lambda: d.to_latex(document=args.document)}[args.format]
    print(render())
    if args.check is None:
        return EXIT_OK
    options = {"seed": args.seed}
    if "sigma" in IDENTITIES[args.identity].check_options:
        options["sigma"] = args.sigma
    results = d.check(parse_assignments(args.check, "--check"), **options)
    print("\nchecks:")
    for r in results:
        expected = as_expected(r)
        tag = {"NO": "  <-- not as the mathematics expects",
               "undecided": "  (expectation undecided)"}.get(expected, "")
        if expected == "yes" and not r.ok:
            tag = "  (fails, as it must here)"
        print(f"  step {r.details['step']}: {r}{tag}")
    for step, title, reason in results.skipped:
        print(f"  step {step}: {title}: not checked ({reason})")
    return EXIT_OK if results.ok else EXIT_FAILED


def cmd_fit(args) -> int:
    from .datafiles import load_points
    from .report import to_json

    m = model_from_args(args)
    X = load_points(args.data, m.dim, "--data")
    fixed = parse_assignments(args.fixed, "--fixed") if args.fixed else None
    init = parse_assignments(args.init, "--init") if args.init else None
    result = fit(m, X, method=args.method, init=init, weight=args.weight, fixed=fixed,
                 stderr=args.stderr, resamples=args.resamples, seed=args.seed)
    print(to_json(result.as_dict(), indent=1) if args.json else result.summary())
    return EXIT_OK if result.converged else EXIT_FAILED


def cmd_check(args) -> int:
    from .datafiles import load_points

    m = model_from_args(args)
    options = CommandLine(
        test_function=args.test_function, weight=args.weight, method=args.method, n=args.n,
        seed=args.seed,
        samples=load_points(args.samples, m.dim, "--samples") if args.samples else None,
        data_params=parse_assignments(args.data_at, "--data-at") if args.data_at else None)
    result = CHECKS[args.name].command_line(m, parse_assignments(args.at or "", "--at"), options)
    print(result)
    for key, value in result.details.items():
        if key in ("not_vanishing", "errors", "explicit", "implicit", "constant", "difference",
                   "reason"):
            print(f"  {key}: {value}")
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_gof(args) -> int:
    from .datafiles import load_points
    from .ksd import ksd_test
    from .report import to_json

    if (args.at is None) == (not args.fit):
        raise ScoresymInputError("give the parameter values with --at (e.g. mu=0.5,s2=2) or "
                                 "--fit to test at the score-matching estimate, not both")
    m = model_from_args(args)
    X = load_points(args.data, m.dim, "--data")
    kernel_options = {k: v for k, v in (("bandwidth", args.bandwidth), ("c", args.c),
                                        ("beta", args.beta)) if v is not None}
    if args.fit:
        estimate = fit(m, X, weight=args.weight)
        if not estimate.converged:
            print(estimate.summary())
            print("the fit did not converge: no test at its end point")
            return EXIT_FAILED
        params = estimate.params
    else:
        params = parse_assignments(args.at, "--at")
    result = ksd_test(m, params, X, kernel=args.kernel, n_bootstrap=args.n_bootstrap,
                      alpha=args.alpha, seed=args.seed, **kernel_options)
    if args.json:
        print(to_json({"statistic": result.statistic, "p_value": result.p_value,
                       "alpha": result.alpha, "reject": result.reject, "kernel": result.kernel,
                       "n": result.n, "n_bootstrap": result.n_bootstrap, "params": params,
                       "fitted": bool(args.fit)}, indent=1))
    else:
        shown = ", ".join(f"{k}={v:.6g}" for k, v in params.items())
        print(f"at {'the score-matching estimate ' if args.fit else ''}{shown}")
        print(result)
        if args.fit:
            print("(the data also chose the parameters: the p-value is conservative)")
    return EXIT_FAILED if result.reject else EXIT_OK


def cmd_figures(args) -> int:
    from .figures import write_all
    from .outputs import output_folder

    folder = output_folder(args.out)  # before any work
    for path in write_all(folder, quick=args.quick, seed=args.seed):
        print(path)
    return EXIT_OK


# --- the parser ----------------------------------------------------------------------------

class InternalError(Exception):
    """A bug in scoresym found while running (exit status 3)."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line and no exit: :func:`main` turns them into status 2."""

    def error(self, message):
        raise ScoresymInputError(f"{self.prog}: {message} (see {self.prog} --help)")


def _add_density_arguments(command) -> None:
    """The positional density (a string or a built-in name) and the options describing it."""
    command.add_argument("density", help="f(x; theta) as a string, or a built-in model name")
    _add_model_arguments(command)


def _add_model_arguments(command) -> None:
    command.add_argument("--variables", help="variable names, e.g. \"x y\"")
    command.add_argument("--params", help="parameter names, e.g. \"mu s2\"")
    command.add_argument("--positive", help="parameters that are positive, e.g. s2")
    command.add_argument("--kind", choices=("density", "log", "energy"), default="density",
                         help="the string is f, log f or the energy -log f")
    command.add_argument("--domain", action="append",
                         help="a variable's interval, e.g. x=0:oo (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """The scoresym command and its subcommands."""
    parser = _Parser(prog="scoresym", description="Verify score-matching mathematics.")
    parser.add_argument("--debug", action="store_true",
                        help="on an internal error, print the traceback")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in (_verify_parser, _derive_parser, _check_parser, _fit_parser, _gof_parser,
                _figures_parser):
        add(commands)
    return parser


def _verify_parser(commands) -> None:
    verify = commands.add_parser(
        "verify", help="run every check over every built-in model",
        description="Run every check (finite differences, autograd, Stein, boundary terms, "
                    "Fisher divergence, SSM/ESM/DSM consistency, fits) over every built-in "
                    "model. A row passes when the check's verdict is the expected one: the "
                    "exponential density on (0, oo) must fail the boundary and Fisher checks. "
                    "A check that cannot run is an error row and never passes. Exit status: 0 "
                    "all as expected, 1 otherwise, 2 bad input, 3 internal error. "
                    "Example: scoresym verify --quick --model gaussian_1d; for your own density: "
                    "scoresym verify --density \"exp(-x**4/4 - a*x**2)\" --variables x --params a "
                    "--at a=0.5")
    verify.add_argument("--model", choices=zoo.names(), help="check one built-in model")
    verify.add_argument("--quick", action="store_true",
                        help="fewer samples (21 s against 22 s on a 2-core machine: the "
                             "symbolic limits dominate both)")
    verify.add_argument("--seed", type=seed_int, default=0, help="seed for samples and projections")
    verify.add_argument("--json", action="store_true", help="print the rows as JSON")
    verify.add_argument("--out", help="a folder to write report.md and report.json in")
    verify.add_argument("--density", help="verify your own density instead (a string)")
    _add_model_arguments(verify)
    verify.add_argument("--at", help="its parameter values, e.g. mu=0.5,s2=2")
    verify.add_argument("--weight", help="a weight for its fit on a bounded domain, e.g. x")
    verify.set_defaults(run=cmd_verify)


def _derive_parser(commands) -> None:
    derive_cmd = commands.add_parser(
        "derive", help="a step-by-step derivation for a density",
        description="Derive the Hyvarinen objective, Stein's identity, DSM or SSM step by step "
                    "for a density (a string, or a built-in model's name), and optionally check "
                    "every step numerically. Example: scoresym derive \"exp(-(x - mu)**2/(2*s2))\" "
                    "--variables x --params \"mu s2\" --positive s2 --check mu=0.5,s2=2")
    _add_density_arguments(derive_cmd)
    derive_cmd.add_argument("--identity", choices=list(IDENTITIES), default="hyvarinen",
                            help="; ".join(f"{name}: {entry.summary}"
                                           for name, entry in IDENTITIES.items()))
    derive_cmd.add_argument("--test-function", help="g for --identity stein, e.g. \"x**2\"")
    derive_cmd.add_argument("--weight", help="w(x) for generalized score matching, e.g. x")
    derive_cmd.add_argument("--format", choices=("text", "markdown", "latex"), default="text")
    derive_cmd.add_argument("--document", action="store_true",
                            help="with --format latex, a complete document")
    derive_cmd.add_argument("--check", metavar="PARAMS",
                            help="check every step at these parameters, e.g. mu=0.5,s2=2")
    derive_cmd.add_argument("--sigma", type=positive_float, default=0.5,
                            help="noise level for dsm")
    derive_cmd.add_argument("--seed", type=seed_int, default=0)
    derive_cmd.set_defaults(run=cmd_derive)


def _check_parser(commands) -> None:
    check = commands.add_parser(
        "check", help="one numerical check of a density",
        description="Run one check on a density (a string, or a built-in model's name) at given "
                    "parameters: stein, boundary, fisher (data = the model at --data-at), "
                    "autodiff or finite-differences. --samples FILE (.npy or CSV) gives the "
                    "points: draws from the density for Monte Carlo, any points for autodiff "
                    "and finite differences. Exit status 1 when it fails. Example: "
                    "scoresym check boundary \"exp(-lam*x)\" --variables x --params lam "
                    "--positive lam --domain x=0:oo --at lam=1.5 --test-function 1")
    check.add_argument("name", choices=[name for name, c in CHECKS.items() if c.command_line],
                       help="; ".join(f"{name}: {c.summary}" for name, c in CHECKS.items()
                                      if c.command_line))
    _add_density_arguments(check)
    check.add_argument("--at", help="parameter values, e.g. mu=0.5,s2=2")
    check.add_argument("--data-at", help="fisher: the data model's parameter values")
    check.add_argument("--test-function", help="g for stein and boundary, e.g. \"x**2\"")
    check.add_argument("--weight", help="boundary: the weight of generalized score matching")
    check.add_argument("--method", choices=("auto", "quad", "mc"), default="auto")
    check.add_argument("--samples", help="points from a .npy or CSV file (n rows, d columns)")
    check.add_argument("--n", type=positive_int, default=20_000, help="Monte Carlo samples")
    check.add_argument("--seed", type=seed_int, default=0)
    check.set_defaults(run=cmd_check)


def _fit_parser(commands) -> None:
    fit_cmd = commands.add_parser(
        "fit", help="fit a model to data by score matching",
        description="Fit a density (a string, or a built-in model's name) to data from a .npy "
                    "or CSV file by score matching, with sandwich standard errors. On a bounded "
                    "domain pass --weight. Exit status 1 when the fit did not converge. "
                    "Example: scoresym fit gamma --data x.csv --weight x")
    _add_density_arguments(fit_cmd)
    fit_cmd.add_argument("--data", required=True, help="a .npy or CSV file of points (n rows)")
    fit_cmd.add_argument("--method", choices=METHODS, default="auto")
    fit_cmd.add_argument("--weight", help="w(x) for generalized score matching, e.g. min(x, 1)")
    fit_cmd.add_argument("--fixed", help="parameters held fixed, e.g. k=1")
    fit_cmd.add_argument("--init", help="starting values for --method optimize, e.g. mu=0,s=1")
    fit_cmd.add_argument("--stderr", choices=STDERRS, default="sandwich",
                         help="standard errors: the sandwich (default) or a bootstrap")
    fit_cmd.add_argument("--resamples", type=int, default=200,
                         help="refits of --stderr bootstrap (default 200)")
    fit_cmd.add_argument("--seed", type=int, default=0, help="seed of --stderr bootstrap")
    fit_cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    fit_cmd.set_defaults(run=cmd_fit)


def _gof_parser(commands) -> None:
    gof = commands.add_parser(
        "gof", help="test a model against data by the kernel Stein discrepancy",
        description="Goodness of fit: is the data (a .npy or CSV file) a sample from the model "
                    "at --at, or at its score-matching estimate (--fit)? The kernel Stein "
                    "discrepancy on the exact score with a wild-bootstrap p-value; no "
                    "normalizing constant is needed. Exit status 0 when the model is not "
                    "rejected, 1 when it is. Example: scoresym gof gaussian_1d --data x.csv "
                    "--at mu=0.5,s2=2")
    _add_density_arguments(gof)
    gof.add_argument("--data", required=True, help="a .npy or CSV file of points (n rows)")
    gof.add_argument("--at", help="the parameter values, e.g. mu=0.5,s2=2")
    gof.add_argument("--fit", action="store_true",
                     help="test at the score-matching estimate from the same data")
    gof.add_argument("--weight", help="with --fit on a bounded domain: the fit's weight")
    gof.add_argument("--kernel", choices=("imq", "rbf"), default="imq",
                     help="IMQ (c^2 + r^2)^beta with r the distance between points "
                          "(default), or Gaussian RBF")
    gof.add_argument("--bandwidth", type=positive_float,
                     help="the RBF's bandwidth (default: the median distance)")
    gof.add_argument("--c", type=positive_float, help="the IMQ's c (default 1)")
    gof.add_argument("--beta", type=float, help="the IMQ's beta in (-1, 0) (default -0.5)")
    gof.add_argument("--n-bootstrap", type=positive_int, default=500,
                     help="wild-bootstrap draws (default 500)")
    gof.add_argument("--alpha", type=positive_float, default=0.05, help="the level (0.05)")
    gof.add_argument("--seed", type=seed_int, default=0)
    gof.add_argument("--json", action="store_true", help="print the result as JSON")
    gof.set_defaults(run=cmd_gof)


def _figures_parser(commands) -> None:
    figures = commands.add_parser(
        "figures", help="write the figures for papers (PDF, PNG and a GIF)",
        description="Write every figure: the mixture's score field beside a DSM-trained MLP, "
                    "seed 002's Hessian and Norm terms (and their animation), DSM against the "
                    "noise level, SSM against the number of projections, DSM approaching ESM, "
                    "ESM against DSM for an MLP, and Stein's identity by Monte Carlo. "
                    "Example: scoresym figures --out figures --seed 0")
    figures.add_argument("--out", required=True, help="the folder to write the figures in")
    figures.add_argument("--quick", action="store_true", help="small sizes, for a quick look")
    figures.add_argument("--seed", type=seed_int, default=0)
    figures.set_defaults(run=cmd_figures)


def expressions_may_start_with_a_dash(argv: list, parser: argparse.ArgumentParser) -> list:
    """argv with every argument that starts with "-" but is neither an option of scoresym nor
    a number read as a value: "--weight -x" becomes "--weight=-x", and a positional "-x**2/2"
    becomes " -x**2/2" (argparse takes an argument with a space as a value; expressions ignore
    surrounding spaces). Everything after "--" is left as it is.

    >>> expressions_may_start_with_a_dash(["derive", "-x**2/2", "--weight", "-x"], build_parser())
    ['derive', ' -x**2/2', '--weight=-x']
    """
    options = _option_strings(parser)
    out = []
    for k, arg in enumerate(argv):
        if "--" in argv[:k] or not arg.startswith("-") or arg == "--" or _is_option(arg, options) \
                or _is_number(arg):
            out.append(arg)
        elif out and options.get(out[-1]) and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={arg}"
        else:
            out.append(" " + arg)
    return out


def _option_strings(parser) -> dict:
    """{option string: whether it takes a value} over the command and its subcommands."""
    found, parsers = {}, [parser]
    while parsers:
        current = parsers.pop()
        for action in current._actions:
            for option in action.option_strings:
                found[option] = action.nargs != 0
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
    return found


def _is_option(arg: str, options: dict) -> bool:
    return arg.partition("=")[0] in options


def _is_number(arg: str) -> bool:
    try:
        float(arg)
        return True
    except ValueError:
        return False


def main(argv=None) -> int:
    """Run the command; returns the exit status (see the module docstring)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv[:argv.index("--")] if "--" in argv else "--debug" in argv
    try:
        args = parser.parse_args(expressions_may_start_with_a_dash(argv, parser))
        return args.run(args)
    except SystemExit as exit:  # --help
        return exit.code if isinstance(exit.code, int) else EXIT_OK
    except ScoresymInputError as exc:
        print(f"scoresym: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # the reader (e.g. head) closed the pipe: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        print("scoresym: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line, the traceback only with --debug
        if debug:
            import traceback

            traceback.print_exc()
        print(f"scoresym: internal error: {type(exc).__name__}: {_one_line(exc)} (this is a bug "
              f"in scoresym; run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
