"""The fast path: log-densities built from linear forms, evaluated with matrix products.

Many models in high dimension (ICA, products of experts, the log-cosh model) have

    log f(x) = sum_i g(w_i . x + c_i) + sum_j h(x_j)

with one function g for every linear form and one function h for every coordinate. Their score
is g'(U) W + h'(X) with U = X W^T + c, and their Laplacian g''(U) (W o W) 1 + sum_j h''(x_j):
matrix products instead of d^2 scalar expressions. ``linear_structure`` recognizes the form
symbolically (numeric W and c, g and h possibly depending on the parameters); ``FastModel``
compiles it.

Invariant: the fast path computes exactly the same mathematics as the plain path (tested on
every built-in model); when the form is not recognized, ``linear_structure`` returns None and the
plain path is used. The public SymPy expressions (``.expr``) are derived only when asked for.

>>> import sympy
>>> from scoresym import zoo
>>> s = linear_structure(zoo.logcosh(4).model)
>>> s.W.shape, s.g, s.h
((4, 4), -log(cosh(_u)), -_t**2/2)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property

import numpy
import sympy

from ..symbolic.operators import simplified_within_budget as simplified
from ..symbolic.stable import stable_forms
from .backends import backend_modules
from .functions import GeneratedFunction
from .printer import Printer

U = sympy.Symbol("_u", real=True)
T = sympy.Symbol("_t", real=True)


@dataclass
class LinearStructure:
    """log f = sum_i g(W[i] . x + c[i]) + sum_j h(x_j)."""

    W: numpy.ndarray
    c: numpy.ndarray
    g: sympy.Expr  # in U (and parameters)
    h: sympy.Expr  # in T (and parameters); 0 when there is no coordinate part
    constant: sympy.Expr = sympy.Integer(0)  # terms free of x (parameters allowed)


def _linear_form(expr, variables) -> tuple | None:
    """(coefficients (d,), constant) when expr is a numeric linear form in >= 2 variables."""
    if not expr.is_Add or not expr.free_symbols <= set(variables):
        return None
    coefficients = numpy.zeros(len(variables))
    constant = 0.0
    index = {v: k for k, v in enumerate(variables)}
    for term in expr.args:
        coefficient, rest = term.as_coeff_Mul()
        if rest in index:
            coefficients[index[rest]] += float(coefficient)
        elif term.is_Number:
            constant += float(term)
        else:
            return None
    if numpy.count_nonzero(coefficients) < 2:
        return None
    return coefficients, constant


def _forms_in(term, variables) -> list:
    found = []
    for node in sympy.preorder_traversal(term):
        if node.is_Add and _linear_form(node, variables) is not None:
            found.append(node)
    return list(dict.fromkeys(found))


def linear_structure(model) -> LinearStructure | None:
    """Recognize log f = sum_i g(w_i . x + c_i) + sum_j h(x_j), or return None."""
    variables = model.variables
    forms, coordinate_terms, constants = [], {v: [] for v in variables}, []
    work = list(sympy.Add.make_args(sympy.expand(model.log_density, deep=False, mul=True,
                                                 multinomial=False, power_exp=False)))
    while work:
        term = work.pop()
        inside = _forms_in(term, variables)
        if len(inside) == 1:
            form = inside[0]
            template = term.xreplace({form: U})
            if template.free_symbols & set(variables):
                return None
            forms.append((form, template))
            continue
        if inside:
            return None
        present = term.free_symbols & set(variables)
        if len(present) > 1:  # e.g. -b (x^4 + y^4)/4: split it into coordinates if it splits
            pieces = sympy.Add.make_args(sympy.expand(term))
            if len(pieces) == 1:
                return None
            work.extend(pieces)
            continue
        if not present:
            constants.append(term)  # e.g. the log of a constant factor
            continue
        (v,) = present
        coordinate_terms[v].append(term)
    if len(forms) < 2:
        return None
    templates = {template for _, template in forms}
    if len(templates) != 1:
        return None
    per_coordinate = {sympy.Add(*terms).xreplace({v: T}) for v, terms in coordinate_terms.items()}
    if len(per_coordinate) != 1:
        return None
    rows = [_linear_form(form, variables) for form, _ in forms]
    return LinearStructure(numpy.array([r[0] for r in rows]), numpy.array([r[1] for r in rows]),
                           templates.pop(), per_coordinate.pop(), sympy.Add(*constants))




class FastFunction(GeneratedFunction):
    """A compiled operator on the fast path; its public SymPy ``expr`` is derived on first
    access only (it is slow in high d)."""

    def __init__(self, name, source, model, shape, backend, namespace, expr_of):
        super().__init__(name, source, model.variables, model.params, shape, backend, namespace)
        self._expr_of = expr_of

    @cached_property
    def expr(self):
        return self._expr_of()

    def __repr__(self) -> str:
        return f"<compiled {self.shape} {self.name} [{self.backend}, fast path]>"


class FastModel:
    """The five operators of a model with a LinearStructure, as matrix-product code."""

    def __init__(self, model, structure: LinearStructure, backend: str = "numpy"):
        self.model, self.structure, self.backend = model, structure, backend
        modules = backend_modules(backend)
        np = modules["numpy"]
        self._namespace = dict(modules, functools=functools, W=structure.W, c=structure.c,
                               Wsq=numpy.sum(structure.W**2, axis=1),
                               _full=lambda value, like: value * np.ones(like.shape))
        names = {p: f"p_{p.name}" for p in model.params}
        self._printer_U = Printer({**names, U: "U"})
        self._printer_X = Printer({**names, T: "X"})
        g, h = structure.g, structure.h
        # one-variable derivatives: simplify is cheap here (sinh/cosh -> tanh, no overflow)
        g1, h1 = simplified(sympy.diff(g, U)), simplified(sympy.diff(h, T))
        g2, h2 = simplified(sympy.diff(g1, U)), simplified(sympy.diff(h1, T))
        self._pieces = {"g": self._print_U(g), "g1": self._print_U(g1), "g2": self._print_U(g2),
                        "h": self._print_X(h), "h1": self._print_X(h1), "h2": self._print_X(h2),
                        "sum_h": self._sum_X(h), "sum_h2": self._sum_X(h2),
                        "k": self._printer_X.doprint(structure.constant)}

    def _print_U(self, e):
        """e(U) as code over the (n, k) array U; broadcast only when e does not depend on U."""
        code = self._printer_U.doprint(stable_forms(e, (U,)))
        return code if e.has(U) else f"_full({code}, U)"

    def _sum_X(self, e):
        """sum_j e(x_j) as code: a product with d when e is constant (no n x d array)."""
        code = self._printer_X.doprint(stable_forms(e, (T,)))
        if e.has(T):
            return f"numpy.sum({code}, axis=1)"
        return f"({code}) * X.shape[1] + numpy.zeros(X.shape[0])"

    def _print_X(self, e):
        code = self._printer_X.doprint(stable_forms(e, (T,)))
        return code if e.has(T) else f"_full({code}, X)"

    def _build(self, name, body, shape, attribute):
        signature = ", ".join(["X"] + [f"p_{p.name}" for p in self.model.params])
        lines = [f"def {name}({signature}):", "    U = X @ W.T + c"] + \
            [f"    {line}" for line in body]
        return FastFunction(name, "\n".join(lines), self.model, shape, self.backend,
                            dict(self._namespace),
                            lambda: getattr(self.model.operators, attribute))

    @cached_property
    def log_density(self):
        p = self._pieces
        return self._build("log_density", [
            f"return (numpy.sum({p['g']}, axis=1) + {p['sum_h']}"
            f" + {p['k']})"],
            "scalar", "log_density")

    @cached_property
    def score(self):
        p = self._pieces
        return self._build("score", [
            f"return numpy.dot({p['g1']}, W) + {p['h1']}"],
            "vector", "score")

    @cached_property
    def hessian(self):
        p = self._pieces
        return self._build("hessian", [
            f"G2 = {p['g2']}",
            f"H2 = {p['h2']}",
            "H = numpy.einsum('nk,ki,kj->nij', G2, W, W)",
            "H = 0.5 * (H + numpy.swapaxes(H, 1, 2))  # exactly symmetric",
            "return H + H2[:, :, None] * numpy.eye(X.shape[1])"],
            "matrix", "hessian")

    @cached_property
    def laplacian(self):
        p = self._pieces
        return self._build("laplacian", [
            f"return numpy.dot({p['g2']}, Wsq) + {p['sum_h2']}"],
            "scalar", "laplacian")

    @cached_property
    def hyvarinen(self):
        p = self._pieces
        return self._build("hyvarinen", [
            f"S = numpy.dot({p['g1']}, W) + {p['h1']}",
            f"L = numpy.dot({p['g2']}, Wsq) + {p['sum_h2']}",
            "return 0.5 * numpy.sum(S * S, axis=1) + L"], "scalar", "hyvarinen")
