"""Parse time against input length, up to the 20,000-character limit.

For each shape of input (a product of exp factors, a flat sum of monomials, a sum of calls) and
each length, the median of several runs of ``parse_expression`` (in scoresym.symbolic:
tokenize, parse, build the SymPy expression), and two baselines in the same process: building
the same expression with SymPy directly from Python (what the parse cannot avoid), and Python's own
``ast.parse`` of the string (which builds no SymPy; "-" where it refuses a long flat chain with
a RecursionError). Each sin(j*x) that misses SymPy's cache (1,000 entries) costs about 0.3 ms in
SymPy itself, so that shape jumps past 1,000 terms in both columns and is linear after it.

Run: python benchmarks/parse_scaling.py            (prints the table; writes nothing)
     python benchmarks/parse_scaling.py --out DIR  (also writes DIR/parse_scaling.md)
"""

import argparse
import ast
import platform
from pathlib import Path

import sympy
from scaling import median_time

from scoresym.outputs import output_folder, write_text
from scoresym.symbolic.expressions import MAX_LENGTH, parse_expression

X = sympy.Symbol("x", real=True)
SHAPES = {  # name: (the string of k terms, the same expression built by SymPy directly)
    "product of exp(-x**2)": (lambda k: "*".join(["exp(-x**2)"] * k),
                              lambda k: sympy.Mul(*[sympy.exp(-X**2) for _ in range(k)])),
    "flat sum of k*x**(k%7)": (lambda k: "+".join(f"{j}*x**{j % 7}" for j in range(k)),
                               lambda k: sympy.Add(*[j * X**(j % 7) for j in range(k)])),
    "sum of sin(j*x)": (lambda k: "+".join(f"sin({j}*x)" for j in range(k)),
                        lambda k: sympy.Add(*[sympy.sin(j * X) for j in range(k)])),
}


def longest(make, limit: int) -> int:
    """The largest k whose string fits in ``limit`` characters."""
    k = 1
    while len(make(2 * k)) <= limit:
        k *= 2
    lo, hi = k, 2 * k
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if len(make(mid)) <= limit else (lo, mid)
    return lo


def python_parse(text: str):
    try:
        return median_time(lambda: ast.parse(text, mode="eval"), 3)
    except (RecursionError, SyntaxError, MemoryError):
        return None


def rows(repeats: int) -> list:
    table = []
    for shape, (make, build) in SHAPES.items():
        top = longest(make, MAX_LENGTH)
        for k in sorted({max(1, top // 16), top // 4, top // 2, top}):
            text = make(k)
            ours = median_time(lambda text=text: parse_expression(text, {"x": X}), repeats)
            sympy_alone = median_time(lambda build=build, k=k: build(k), repeats)
            table.append((shape, len(text), ours, sympy_alone, python_parse(text)))
    return table


def markdown(table: list) -> str:
    lines = [f"Machine: {platform.machine()}, Python {platform.python_version()}, "
             f"SymPy {sympy.__version__}", "",
             "| input | characters | parse (ms) | us per character | SymPy alone (ms) | "
             "parse / SymPy alone | ast.parse (ms) |",
             "|---|---|---|---|---|---|---|"]
    for shape, n, ours, sympy_alone, python in table:
        theirs = f"{1e3 * python:.2f}" if python else "-"
        lines.append(f"| {shape} | {n:,} | {1e3 * ours:.1f} | {1e6 * ours / n:.2f} | "
                     f"{1e3 * sympy_alone:.1f} | {ours / sympy_alone:.2f} | {theirs} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="a folder for parse_scaling.md")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    text = markdown(rows(args.repeats))
    print(text)
    if args.out:
        write_text(output_folder(args.out), "parse_scaling.md", text + "\n")


if __name__ == "__main__":
    main()
