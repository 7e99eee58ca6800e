"""The ``scoresym`` command.

Exit status: 0 when every check passes, 1 when a check fails, 2 on bad input (the error goes to
stderr on one line).

    scoresym verify                  every check over every built-in model (the main job)
    scoresym verify --quick --model student_t
    scoresym derive DENSITY ...      a step-by-step derivation, optionally checked
    scoresym check NAME DENSITY ...  one check (stein, boundary, fisher, autodiff, ...)
    scoresym fit MODEL --data FILE   score-matching estimates with standard errors
    scoresym figures --out DIR       the figures for papers
"""

from __future__ import annotations

import argparse
import json
import sys

from . import zoo
from .derive import IDENTITIES, derive
from .errors import ScoresymInputError
from .estimate import METHODS, fit
from .model import Model
from .verify import format_rows, run_suite, user_builtin, write_report


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
    names = [args.model] if args.model else None
    builtins = None
    if args.density:
        if args.model:
            raise ScoresymInputError("give --model or --density, not both")
        m = model_from_args(args)
        params = parse_assignments(args.at or "", "--at")
        builtins = [user_builtin(m, params, args.weight)]
    rows = run_suite(names, quick=args.quick, seed=args.seed, progress=_progress(sys.stderr),
                     builtins=builtins)
    if sys.stderr.isatty():
        sys.stderr.write("\r\033[K")
    failed = [row for row in rows if not row.passed]
    markdown, _ = write_report(rows, args.out)
    if args.json:
        print(json.dumps({"rows": [row.as_dict() for row in rows],
                          "passed": len(rows) - len(failed), "failed": len(failed)}, indent=1))
    else:
        print(format_rows(rows))
        print(f"\n{len(rows) - len(failed)} passed, {len(failed)} failed")
        print(f"report: {markdown} and {markdown.with_suffix('.json')}")
    return 1 if failed else 0


def parse_assignments(text: str, what: str) -> dict:
    """"mu=0.5, s2=2" -> {"mu": 0.5, "s2": 2.0}; a clear error names a bad piece."""
    values = {}
    for piece in filter(None, (part.strip() for part in text.split(","))):
        name, sep, value = piece.partition("=")
        if not sep:
            raise ScoresymInputError(f"{what}: expected name=value, got {piece!r}")
        try:
            values[name.strip()] = float(value)
        except ValueError:
            raise ScoresymInputError(f"{what}: {value.strip()!r} is not a number") from None
    return values


def parse_domain(items) -> dict:
    """["x=0:oo"] -> {"x": ("0", "oo")}."""
    domain = {}
    for item in items or ():
        name, sep, interval = item.partition("=")
        lo, colon, hi = interval.partition(":")
        if not sep or not colon:
            raise ScoresymInputError(f"--domain: expected name=lo:hi, got {item!r}")
        domain[name.strip()] = tuple(_bound(b) for b in (lo, hi))
    return domain


def _bound(text: str):
    text = text.strip()
    if text in ("oo", "-oo", "inf", "-inf"):
        return text
    try:
        return float(text)
    except ValueError:
        raise ScoresymInputError(f"--domain: bound {text!r} is not a number or +-oo") from None


def model_from_args(args):
    """A built-in model (by name) or a user density from the command line."""
    if args.density in zoo.names() and not args.variables:
        return zoo.get(args.density).model
    if not args.variables:
        raise ScoresymInputError(f"{args.density!r} is not a built-in model ({', '.join(zoo.names())}); "
                                 "for a density string give --variables")
    return Model.from_string(args.density, args.variables, args.params or "", kind=args.kind,
                             domain=parse_domain(args.domain), positive=args.positive,
                             name="model")


def cmd_derive(args) -> int:
    m = model_from_args(args)
    d = derive(m, args.identity, args.test_function, weight=args.weight)
    render = {"text": d.to_text, "markdown": d.to_markdown,
              "latex": lambda: d.to_latex(document=args.document)}[args.format]
    print(render())
    if args.check is None:
        return 0
    options = {"seed": args.seed}
    if args.identity == "dsm":
        options["sigma"] = args.sigma
    results = d.check(parse_assignments(args.check, "--check"), **options)
    print("\nchecks:")
    for r in results:
        print(f"  step {r.details['step']}: {r}")
    for step, title, reason in results.skipped:
        print(f"  step {step}: {title}: not checked ({reason})")
    return 0 if all(r.ok for r in results) else 1


def load_data(path: str, d: int):
    """Points from a .npy file or a CSV file (comma-separated, an optional header line)."""
    import numpy

    try:
        if path.endswith(".npy"):
            X = numpy.load(path, allow_pickle=False)
        else:
            with open(path, encoding="utf-8") as handle:
                first = handle.readline()
            skip = 0 if _is_numeric_row(first) else 1
            X = numpy.loadtxt(path, delimiter=",", skiprows=skip, ndmin=2)
    except FileNotFoundError:
        raise ScoresymInputError(f"--data: no such file: {path}") from None
    except (ValueError, OSError) as exc:
        raise ScoresymInputError(f"--data: cannot read {path}: {str(exc).splitlines()[0]}") \
            from None
    X = numpy.asarray(X, dtype=float)
    return X.reshape(-1, 1) if X.ndim == 1 and d == 1 else X


def _is_numeric_row(line: str) -> bool:
    try:
        [float(part) for part in line.split(",")]
        return True
    except ValueError:
        return False


def cmd_fit(args) -> int:
    m = model_from_args(args)
    X = load_data(args.data, m.dim)
    fixed = parse_assignments(args.fixed, "--fixed") if args.fixed else None
    init = parse_assignments(args.init, "--init") if args.init else None
    result = fit(m, X, method=args.method, init=init, weight=args.weight, fixed=fixed)
    if args.json:
        print(json.dumps(result.as_dict(), indent=1))
    else:
        print(result.summary())
    return 0 if result.converged else 1


CHECKS = ("stein", "boundary", "fisher", "autodiff", "finite-differences")


def cmd_check(args) -> int:
    from . import checks

    m = model_from_args(args)
    params = parse_assignments(args.at or "", "--at")
    if args.name == "stein":
        result = checks.check_stein(m, params, args.test_function, method=args.method,
                                    seed=args.seed, n=args.n)
    elif args.name == "boundary":
        result = checks.check_boundary(m, params, args.test_function, weight=args.weight)
    elif args.name == "fisher":
        data = parse_assignments(args.data_at, "--data-at") if args.data_at else params
        result = checks.check_fisher(m, data, m, params, method=args.method, seed=args.seed,
                                     n=args.n)
    elif args.name == "autodiff":
        result = checks.check_autodiff(m, params, n=min(args.n, 2000), seed=args.seed)
    else:
        result = checks.check_finite_differences(m, params, seed=args.seed)
    print(result)
    for key, value in result.details.items():
        if key in ("not_vanishing", "errors", "explicit", "implicit", "constant", "difference"):
            print(f"  {key}: {value}")
    return 0 if result.ok else 1


def cmd_figures(args) -> int:
    from .figures import write_all

    paths = write_all(args.out, quick=args.quick, seed=args.seed)
    for path in paths:
        print(path)
    return 0


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
    parser = argparse.ArgumentParser(
        prog="scoresym", description="Verify score-matching mathematics.")
    commands = parser.add_subparsers(dest="command", required=True)
    for add in (_verify_parser, _derive_parser, _check_parser, _fit_parser, _figures_parser):
        add(commands)
    return parser


def _verify_parser(commands) -> None:
    verify = commands.add_parser(
        "verify", help="run every check over every built-in model",
        description="Run every check (finite differences, autograd, Stein, boundary terms, "
                    "Fisher divergence, SSM/ESM/DSM consistency) over every built-in model. "
                    "A row passes when the check's verdict is the expected one: the exponential "
                    "density on (0, oo) must fail the boundary and Fisher checks. "
                    "Example: scoresym verify --quick --model gaussian_1d; for your own density: "
                    "scoresym verify --density \"exp(-x**4/4 - a*x**2)\" --variables x --params a "
                    "--at a=0.5")
    verify.add_argument("--model", choices=zoo.names(), help="check one built-in model")
    verify.add_argument("--quick", action="store_true", help="fewer samples (about 15 s)")
    verify.add_argument("--seed", type=int, default=0, help="seed for samples and projections")
    verify.add_argument("--json", action="store_true", help="print the rows as JSON")
    verify.add_argument("--out", default="scoresym-report",
                        help="folder for report.md and report.json (default: scoresym-report)")
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
    derive_cmd.add_argument("--identity", choices=IDENTITIES, default="hyvarinen")
    derive_cmd.add_argument("--test-function", help="g for --identity stein, e.g. \"x**2\"")
    derive_cmd.add_argument("--weight", help="w(x) for generalized score matching, e.g. x")
    derive_cmd.add_argument("--format", choices=("text", "markdown", "latex"), default="text")
    derive_cmd.add_argument("--document", action="store_true",
                            help="with --format latex, a complete document")
    derive_cmd.add_argument("--check", metavar="PARAMS",
                            help="check every step at these parameters, e.g. mu=0.5,s2=2")
    derive_cmd.add_argument("--sigma", type=float, default=0.5, help="noise level for dsm")
    derive_cmd.add_argument("--seed", type=int, default=0)
    derive_cmd.set_defaults(run=cmd_derive)


def _check_parser(commands) -> None:
    check = commands.add_parser(
        "check", help="one numerical check of a density",
        description="Run one check on a density (a string, or a built-in model's name) at given "
                    "parameters: stein, boundary, fisher (data = the model at --data-at), "
                    "autodiff or finite-differences. Exit status 1 when it fails. Example: "
                    "scoresym check boundary \"exp(-lam*x)\" --variables x --params lam "
                    "--positive lam --domain x=0:oo --at lam=1.5 --test-function 1")
    check.add_argument("name", choices=CHECKS)
    _add_density_arguments(check)
    check.add_argument("--at", help="parameter values, e.g. mu=0.5,s2=2")
    check.add_argument("--data-at", help="fisher: the data model's parameter values")
    check.add_argument("--test-function", help="g for stein and boundary, e.g. \"x**2\"")
    check.add_argument("--weight", help="boundary: the weight of generalized score matching")
    check.add_argument("--method", choices=("auto", "quad", "mc"), default="auto")
    check.add_argument("--n", type=int, default=20_000, help="Monte Carlo samples")
    check.add_argument("--seed", type=int, default=0)
    check.set_defaults(run=cmd_check)


def _fit_parser(commands) -> None:
    fit_cmd = commands.add_parser(
        "fit", help="fit a model to data by score matching",
        description="Fit a density (a string, or a built-in model's name) to data from a .npy "
                    "or CSV file by score matching, with sandwich standard errors. On a bounded "
                    "domain pass --weight. Example: scoresym fit gamma --data x.csv --weight x")
    _add_density_arguments(fit_cmd)
    fit_cmd.add_argument("--data", required=True, help="a .npy or CSV file of points (n rows)")
    fit_cmd.add_argument("--method", choices=METHODS, default="auto")
    fit_cmd.add_argument("--weight", help="w(x) for generalized score matching, e.g. min(x, 1)")
    fit_cmd.add_argument("--fixed", help="parameters held fixed, e.g. k=1")
    fit_cmd.add_argument("--init", help="starting values for --method optimize, e.g. mu=0,s=1")
    fit_cmd.add_argument("--json", action="store_true", help="print the result as JSON")
    fit_cmd.set_defaults(run=cmd_fit)


def _figures_parser(commands) -> None:
    figures = commands.add_parser(
        "figures", help="write the figures for papers (PDF, PNG and a GIF)",
        description="Write every figure: the mixture's score field beside a DSM-trained MLP, "
                    "seed 002's Hessian and Norm terms (and their animation), DSM against the "
                    "noise level, SSM against the number of projections, DSM approaching ESM, "
                    "ESM against DSM for an MLP, and Stein's identity by Monte Carlo. "
                    "Example: scoresym figures --out figures --seed 0")
    figures.add_argument("--out", default="figures", help="the folder (default: figures)")
    figures.add_argument("--quick", action="store_true", help="small sizes, for a quick look")
    figures.add_argument("--seed", type=int, default=0)
    figures.set_defaults(run=cmd_figures)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ScoresymInputError as exc:
        print(f"scoresym: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader (e.g. head) closed the pipe: not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
