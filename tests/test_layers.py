"""The package's wiring: every module imports only from its own layer or the layers below it, no
modules import each other in a circle, and no private name is imported from another module.

The layers, bottom to top (a module's layer is the first prefix of its name listed here):
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scoresym"

#: Bottom to top. Modules of one layer may import each other (but not in a circle).
LAYERS = [
    ["errors", "budget", "randomness", "memo", "report", "outputs", "datafiles", "chunks",
     "studies"],
    ["symbolic"],
    ["codegen"],
    ["matrix_model", "model"],
    ["numerics"],
    ["zoo", "losses"],
    ["estimate", "matrix_fit", "weights", "nets", "langevin", "ksd"],
    ["checks"],
    ["derive"],
    ["verify"],
    ["figures"],
    ["cli"],
]
FACE = "scoresym"  # the package's __init__: it hands the public names on, from any layer


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    inner = module.split(".")[1] if "." in module else ""
    for rank, names in enumerate(LAYERS):
        if inner in names:
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def imports(path: Path) -> list:
    """[(imported module, names, line)] for every import of scoresym code in the file,
    function-level imports included."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "scoresym":
                continue
            names = [alias.name for alias in node.names]
            submodules = [f"{target}.{n}" for n in names if (PACKAGE.parent / Path(
                *f"{target}.{n}".split("."))).with_suffix(".py").exists()
                or (PACKAGE.parent / Path(*f"{target}.{n}".split(".")) / "__init__.py").exists()]
            for sub in submodules:
                found.append((sub, [], node.lineno))
            found.append((target, [n for n in names if f"{target}.{n}" not in submodules],
                          node.lineno))
        elif isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names
                      if alias.name.split(".")[0] == "scoresym"]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))
GRAPH = {module_name(p): {t for t, _, _ in imports(p) if t != module_name(p)} for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_a_module_imports_only_its_own_layer_or_below(path):
    module = module_name(path)
    if module == FACE:
        return
    upward = [f"line {line}: {target}" for target, _, line in imports(path)
              if target != FACE and layer(target) > layer(module)]
    assert not upward, f"{module} (layer {layer(module)}) imports upward: {upward}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_private_name_is_imported_from_another_module(path):
    private = [f"line {line}: {target}.{name}" for target, names, line in imports(path)
               for name in names if name.startswith("_")]
    assert not private, f"{module_name(path)} imports private names: {private}"


def test_no_modules_import_each_other_in_a_circle():
    """Depth-first search for a back edge; a package's __init__ is its modules' face, not a
    module they depend on, so edges into an __init__ from inside its package are left out."""
    def edges(module):
        return {t for t in GRAPH.get(module, ()) if t in GRAPH
                and not (module.startswith(t + ".") and (PACKAGE.parent / Path(
                    *t.split(".")) / "__init__.py").exists())}

    state, path = {}, []

    def visit(module):
        state[module] = "open"
        path.append(module)
        for target in sorted(edges(module)):
            if state.get(target) == "open":
                raise AssertionError(" -> ".join(path[path.index(target):] + [target]))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module)


def test_the_layer_table_names_every_module():
    for module in GRAPH:
        if module != FACE:
            layer(module)
