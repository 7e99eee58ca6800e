"""The explicit Fisher divergence against the Hyvarinen objective plus its constant.

    1/2 E_data ||grad log p_data - s||^2
        = E_data[1/2 ||s||^2 + tr grad s] + 1/2 E_data ||grad log p_data||^2

Invariant: the three expectations are of separately compiled integrands (explicit, implicit,
constant) under the data model's normalized density, by quadrature (d <= 2) or Monte Carlo with
the paired difference's standard error. The identity holds when the boundary term p_data s
vanishes; for the exponential density on (0, oo) it does not, and this check fails.

>>> from scoresym import zoo
>>> b = zoo.get("gaussian_1d")
>>> check_fisher(b.model, b.truth, b.model, {"mu": 0.0, "s2": 1.0}, method="quad").ok
True
"""

from __future__ import annotations

import sympy

from ..codegen.functions import CompiledFunction, param_values
from ..errors import ScoresymInputError
from ..numerics.expectation import (
    DEFAULT_N_STDERR,
    mc_result,
    quadrature_expectation,
    quadrature_result,
    resolve_method,
    resolve_samples,
)
from ..numerics.result import CheckResult, infinite_result
from ..symbolic.boundary import divergent_edges, exact_values
from ..symbolic.operators import renamed
from .check import Check, CommandLine, Planned, Subject, draws


def fisher_fields(data_model, model) -> tuple:
    """(compiled X -> (n, 3) of [explicit, implicit, constant] per point, data param renames).

    The data model's parameters that clash with the model's are renamed ``<name>_data``.
    """
    renames = model.data_renames(data_model)
    data_ops, data_shifts = data_model.stable_operators
    model_ops, model_shifts = model.stable_operators

    def fields(data_score, ops):
        s = ops.score
        return sympy.Matrix([
            sympy.Rational(1, 2) * sum((a - b) ** 2 for a, b in zip(data_score, s)),
            ops.hyvarinen,
            sympy.Rational(1, 2) * sum(a**2 for a in data_score)])

    public = fields([e.xreplace(renames) for e in data_model.score], model.operators)
    data_score, data_shifts = renamed(list(data_ops.score), data_shifts, renames)
    stable = fields(data_score, model_ops)
    shifts = {**data_shifts, **model_shifts}
    data_params = tuple(renames.get(p, p) for p in data_model.params)
    compiled = CompiledFunction("fisher_fields", public, model.variables,
                                model.params + data_params, "vector",
                                compiled_expr=stable, shifts=shifts)
    names = {p.name: renames.get(p, p).name for p in data_model.params}
    return compiled, names


def check_fisher(data_model, data_params, model, params, samples=None, method="auto",
                 seed=None, n: int = 20_000, n_stderr: float = DEFAULT_N_STDERR) -> CheckResult:
    """Check explicit Fisher divergence = Hyvarinen objective + 1/2 E_data ||grad log p_data||^2.

    Expectations are under ``data_model`` at ``data_params``: by quadrature ("quad", d <= 2), by
    Monte Carlo ("mc": ``samples`` or n draws from the data model's sampler), or "auto".
    ``details`` holds explicit, implicit, constant and difference = explicit - implicit, which is
    the same at every value of the model's parameters.

    With s the model's score and p the data density, it checks

        1/2 E_p ||grad log p - s||^2 = E_p[1/2 ||s||^2 + tr grad_x s] + 1/2 E_p ||grad log p||^2.

    >>> from scoresym import zoo
    >>> b = zoo.get("gaussian_1d")                 # data N(0.5, 2): 1/2 E[s_p^2] = 1/(2 s2)
    >>> r = check_fisher(b.model, b.truth, b.model, {"mu": 0.0, "s2": 1.0}, method="quad")
    >>> r.ok, round(r.details["constant"], 6), round(r.details["difference"], 6)
    (True, 0.25, 0.25)
    """
    param_values(params, model.params)  # name what is missing, unknown or not a number
    param_values(data_params, data_model.params)
    compiled, names = fisher_fields(data_model, model)
    arguments = {**params, **{names[k]: v for k, v in data_params.items()}}
    method = resolve_method(method, data_model, samples)
    name = f"fisher[{data_model.name or 'data'} -> {model.name or 'model'}]"
    labels = ("explicit", "implicit + const")
    if method == "quad":
        try:
            means, errors = quadrature_expectation(data_model, data_params,
                                                   lambda X: compiled(X, **arguments))
        except ScoresymInputError:
            infinite = _infinite_expectations(data_model, data_params, model, params, compiled)
            if not infinite:
                raise
            return infinite_result(name, infinite, labels)
        explicit, implicit, constant = (float(v) for v in means)
        return quadrature_result(name, explicit, implicit + constant, errors, labels=labels,
                                 details=_parts(explicit, implicit, constant), scale=means)
    values = compiled(resolve_samples(data_model, data_params, samples, n, seed), **arguments)
    explicit, implicit, constant = (float(v) for v in values.mean(axis=0))
    return mc_result(name, values[:, 0], values[:, 1] + values[:, 2], n_stderr,
                     _parts(explicit, implicit, constant), labels)


def _parts(explicit: float, implicit: float, constant: float) -> dict:
    """The three expectations, and explicit - implicit (the same at every model parameter)."""
    return {"explicit": explicit, "implicit": implicit, "constant": constant,
            "difference": explicit - implicit}


def _infinite_expectations(data_model, data_params, model, params, compiled) -> list:
    """Reasons why an expectation of the identity is infinite at these parameter values (see
    :func:`scoresym.symbolic.boundary.divergent_edges`), or [] when none can be shown."""
    renames = model.data_renames(data_model)
    values = {**exact_values(model, params),
              **{renames.get(p, p): v for p, v in exact_values(data_model, data_params).items()}}
    integrands = dict(zip(("explicit", "implicit", "constant"), compiled.expr))
    domain = {v: data_model.domain[w] for v, w in zip(model.variables, data_model.variables)}
    return divergent_edges(data_model.log_density.xreplace(renames), integrands, model.variables,
                           domain, values)


def _plan(subject: Subject) -> list:
    model, truth, valid = subject.model, subject.truth, subject.builtin.hyvarinen_valid
    if subject.quadrature:
        return [Planned("fisher", lambda: check_fisher(model, truth, model, subject.perturbed(),
                                                       method="quad"), valid)]
    if subject.has_sampler:
        return [Planned("fisher", lambda: check_fisher(
            model, truth, model, subject.perturbed(), samples=subject.sample(20 * subject.n)),
            valid)]
    return []


def _command_line(model, params: dict, options: CommandLine):
    data = params if options.data_params is None else options.data_params
    return check_fisher(model, data, model, params, samples=draws(model, data, options),
                        method=options.method, seed=options.seed, n=options.n)


CHECK = Check("fisher", check_fisher, "explicit Fisher divergence = Hyvarinen objective + its "
              "constant (data: the model at --data-at)", plan=_plan, command_line=_command_line)
