"""Model: an unnormalized density f(x; theta) and its exact score-matching operators.

Invariant: ``Model.log_density`` is log f written without log Z; every operator (score, Hessian,
Laplacian, Hyvarinen integrand) is an exact SymPy object derived from it with respect to the
variables only, computed on first use and cached. Points are rows: a batch of n points in d
dimensions is an array of shape (n, d) (see :mod:`scoresym.codegen.functions`).

>>> m = Model.from_string("exp(-(x - mu)**2 / (2*s2))", variables="x", params="mu s2",
...                       positive="s2")
>>> m.score[0]
(mu - x)/s2
>>> m.laplacian
-1/s2
"""

from __future__ import annotations

import decimal
from functools import cached_property

import sympy

from .errors import ScoresymInputError
from .matrix_model import MatrixModel
from .symbolic.conditions import Conditions, NotADensity, density_conditions
from .symbolic.expressions import (
    check_name,
    constant_value,
    describe_constant,
    parse_expression,
    require_double_constants,
    require_shallow,
    split_names,
    split_top_level,
)
from .symbolic.operators import Operators, stabilize_log_sum_exp, tidy

KINDS = ("density", "log", "energy")


class Model:
    """An unnormalized density over real variables, with parameters and a domain.

    Its operators are exact SymPy expressions in the variables x, derived from log f alone (log Z
    never enters): ``score`` s(x) = grad_x log f(x), ``hessian`` grad_x s(x), ``laplacian``
    tr grad_x s(x) and ``hyvarinen`` h(x) = 1/2 ||s(x)||^2 + tr grad_x s(x).

    Parameters
    ----------
    log_density : sympy.Expr or str
        log f, without log Z. A string is parsed safely (see
        :mod:`scoresym.symbolic.expressions`). For f itself or an energy -log f, use
        :meth:`from_string` or :meth:`from_expression` with ``kind``.
    variables, params : str or sequence of str or sympy.Symbol
        Space- or comma-separated names, or a sequence. Names become real Symbols (a variable whose
        domain is (0, oo) becomes a positive Symbol); Symbols are used as they are.
    domain : dict, optional
        ``{variable: (lo, hi)}``, each default ``(-oo, oo)``; a bound is a number, a numeric
        string (read exactly) or +-oo.
    positive : str or sequence, optional
        Parameters declared positive, e.g. ``positive="s2"``.
    name : str, optional
        A label used in reports.
    sampler : callable, optional
        An exact sampler ``(rng, n, params) -> (n, d)`` of the normalized density.

    >>> import sympy
    >>> x = sympy.Symbol("x", real=True)
    >>> lam = sympy.Symbol("lam", positive=True)
    >>> m = Model(log_density=-lam * x, variables=[x], params=[lam], domain={"x": (0, sympy.oo)})
    >>> m.score, m.dim
    (Matrix([[-lam]]), 1)
    >>> m.hyvarinen                                  # 1/2 lam^2 + 0
    lam**2/2
    """

    def __new__(cls, log_density=None, variables=(), params=(), *args, **kwargs):
        """A log-density in MatrixSymbols (a 1 x 1 matrix expression) makes a MatrixModel."""
        if isinstance(log_density, sympy.MatrixExpr):
            if args or any(v is not None for v in kwargs.values()):
                raise ScoresymInputError("a model in MatrixSymbols takes log_density, "
                                         "variables and params only")
            return MatrixModel.from_matrix_expression(log_density, variables, params)
        return super().__new__(cls)

    def __init__(self, log_density, variables, params=(), domain=None, positive=None,
                 name=None, sampler=None):
        self._declare(variables, params, domain, positive)
        self._finish(self._as_expression(log_density), name, sampler)

    @classmethod
    def from_string(cls, text, variables, params=(), kind="density", domain=None,
                    positive=None, name=None, sampler=None, shapes=None):
        """A model from a string: f (``kind="density"``, the default), log f (``"log"``) or an
        energy -log f (``"energy"``). With ``shapes`` ({name: shape} of the vector variable and
        of matrix or vector parameters), a log-density in matrix notation: a
        :class:`~scoresym.matrix_model.MatrixModel`.

        >>> Model.from_string("x**4/4 - a*x**2", "x", "a", kind="energy").log_density
        a*x**2 - x**4/4
        """
        if not isinstance(text, str):
            raise ScoresymInputError(f"expected a string, got {type(text).__name__}")
        if shapes is not None:
            if domain is not None or positive is not None or sampler is not None:
                raise ScoresymInputError("a model in matrix notation lives on R^d: domain, "
                                         "positive and sampler are not supported with shapes")
            return MatrixModel.from_string(text, variables, params, shapes, kind)
        return cls._of_kind(text, kind, variables, params, domain, positive, name, sampler)

    @classmethod
    def from_expression(cls, expr, variables, params=(), kind="density", domain=None,
                        positive=None, name=None, sampler=None):
        """A model from a SymPy expression: f (``kind="density"``, the default), log f
        (``"log"``) or an energy -log f (``"energy"``).

        >>> x = sympy.Symbol("x", real=True)
        >>> Model.from_expression(3 * sympy.exp(-x**2), [x]).log_density
        -x**2 + log(3)
        """
        if isinstance(expr, str):
            raise ScoresymInputError("from_expression takes a SymPy expression; for a string "
                                     "use Model.from_string")
        return cls._of_kind(expr, kind, variables, params, domain, positive, name, sampler)

    @classmethod
    def _of_kind(cls, value, kind, variables, params, domain, positive, name, sampler):
        model = cls.__new__(cls)
        model._declare(variables, params, domain, positive)
        model._finish(_log_density_of(model._as_expression(value), kind), name, sampler)
        return model

    # --- construction helpers ---------------------------------------------------------------

    def _declare(self, variables, params, domain, positive) -> None:
        """The variables, parameters and domain, checked."""
        positive_names = set(split_names(positive, "positive parameter"))
        variable_specs = split_names(variables, "variable")
        if not variable_specs:
            raise ScoresymInputError("a model needs at least one variable")
        bounds = _domain_by_name(domain, variable_specs)
        self.variables = tuple(_variable_symbol(v, bounds.get(_name_of(v))) for v in variable_specs)
        self.params = tuple(_param_symbol(p, positive_names) for p in split_names(params, "param"))
        _check_distinct(self.variables, self.params)
        unknown = positive_names - {p.name for p in self.params}
        if unknown:
            raise ScoresymInputError(
                f"positive names parameters that are not declared: {', '.join(sorted(unknown))}")
        self.domain = {v: bounds.get(v.name, (-sympy.oo, sympy.oo)) for v in self.variables}

    def _finish(self, log_density: sympy.Expr, name, sampler) -> None:
        self.name = name
        self.log_density = log_density
        self._check_log_density()
        self._compiled = {}
        #: Optional exact sampler ``(rng, n, params) -> (n, d)`` of the normalized density.
        self.sampler = sampler

    def _as_expression(self, value) -> sympy.Expr:
        names = {s.name: s for s in self.variables + self.params}
        if isinstance(value, str):
            return parse_expression(value, names)
        if isinstance(value, (int, float)) or not isinstance(value, sympy.Basic):
            raise ScoresymInputError(
                f"log_density must be a SymPy expression or a string, got {type(value).__name__}")
        if not isinstance(value, sympy.Expr) or isinstance(value, sympy.MatrixBase):
            raise ScoresymInputError(f"log_density must be a scalar expression, got {value}")
        require_shallow(value, "log_density")
        undeclared = sorted(s.name for s in value.free_symbols - set(names.values()))
        if undeclared:
            raise ScoresymInputError(
                f"undeclared symbol(s) in log_density: {', '.join(undeclared)} "
                f"(declared: {', '.join(names)})")
        return value

    def _check_log_density(self) -> None:
        L = self.log_density
        if L.has(sympy.I) or L.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
            raise ScoresymInputError(f"log density is not a finite real expression: {L}")
        if not L.free_symbols & set(self.variables):
            raise ScoresymInputError(
                f"log density {L} does not depend on the variables "
                f"{', '.join(v.name for v in self.variables)}")
        require_double_constants(L, "the log-density")

    # --- the symbolic operators -------------------------------------------------------------

    @property
    def dim(self) -> int:
        """d, the number of variables."""
        return len(self.variables)

    @cached_property
    def operators(self) -> Operators:
        """The exact operators of log f (see :class:`scoresym.symbolic.operators.Operators`)."""
        return Operators(self.log_density, self.variables)

    @cached_property
    def stable_operators(self) -> tuple:
        """(operators, shifts) for compiled code: those of log f with every log-sum-exp written
        stably (see :func:`scoresym.symbolic.operators.stabilize_log_sum_exp`); the same
        operators when log f has none."""
        stable, shifts = stabilize_log_sum_exp(self.log_density, self.variables)
        return (Operators(stable, self.variables), shifts) if shifts else (self.operators, {})

    @cached_property
    def conditions(self) -> Conditions:
        """The conditions on the parameters under which f is a density: declared ones (from
        ``positive=``) and inferred ones (f defined and integrable over the domain; see
        :mod:`scoresym.symbolic.conditions`). ``conditions.holds(params)`` is True, False, or
        None where part of the question could not be decided.

        >>> m = Model.from_string("exp(-(x - mu)**2/(2*s2))", "x", "mu s2")
        >>> str(m.conditions), m.conditions.holds({"mu": 0, "s2": -1})
        ('s2 > 0 (inferred)', False)
        """
        try:
            return density_conditions(self.log_density, self.variables, self.params,
                                      self.domain)
        except NotADensity as exc:
            raise ScoresymInputError(f"{self.name or 'the model'} is not a density: {exc}") \
                from None

    def require_conditions(self, params: dict, what: str = "the parameters") -> None:
        """Raise ScoresymInputError naming the conditions that these parameter values break."""
        failing = self.conditions.failing(params)
        if failing:
            shown = "; ".join(f"{c} ({c.reason})" if c.origin == "inferred" else str(c)
                              for c in failing)
            raise ScoresymInputError(f"{what} break the model's conditions: {shown}")

    @property
    def score(self) -> sympy.Matrix:
        """s(x) = grad_x log f, a d x 1 Matrix (log Z has no x-gradient, so it never appears)."""
        return self.operators.score

    @property
    def hessian(self) -> sympy.Matrix:
        """H(x) = grad_x grad_x^T log f, the d x d Jacobian of the score (symmetric)."""
        return self.operators.hessian

    @property
    def laplacian(self) -> sympy.Expr:
        """tr H(x) = sum_i d^2 log f / dx_i^2 (only the diagonal is differentiated)."""
        return self.operators.laplacian

    @property
    def hyvarinen(self) -> sympy.Expr:
        """The per-sample Hyvarinen integrand 1/2 ||s(x)||^2 + tr H(x)."""
        return self.operators.hyvarinen

    def fisher_integrand(self, data_model: Model) -> sympy.Expr:
        """1/2 ||grad log p_data(x) - s(x)||^2, with data_model's variables matched by position.

        Parameters of data_model whose names clash with this model's are renamed with a
        ``_data`` suffix, so both sets of parameters stay free.

        >>> m = Model.from_string("-(x - mu)**2/2", "x", "mu", kind="log")
        >>> m.fisher_integrand(m)
        (-mu + mu_data)**2/2
        """
        data_score = self._data_score(data_model)
        diff = [a - b for a, b in zip(data_score, self.score)]
        return tidy(sympy.Rational(1, 2) * sympy.Add(*[e**2 for e in diff]))

    def _data_score(self, data_model: Model) -> list:
        renames = self.data_renames(data_model)
        return [s.xreplace(renames) for s in data_model.score]

    def data_renames(self, data_model: Model) -> dict:
        """{data_model symbol: symbol here}: its variables to ours by position, and its params
        that clash with ours to ``<name>_data``."""
        if not isinstance(data_model, Model):
            raise ScoresymInputError(f"data_model must be a Model, got {type(data_model).__name__}")
        if data_model.dim != self.dim:
            raise ScoresymInputError(
                f"data model has {data_model.dim} variable(s), model has {self.dim}")
        mine = {p.name for p in self.params}
        renames = {p: sympy.Symbol(f"{p.name}_data", **p.assumptions0)
                   for p in data_model.params if p.name in mine}
        renames.update(dict(zip(data_model.variables, self.variables)))
        return renames

    def weights(self, weight) -> list | None:
        """Per-coordinate weights w_k of generalized score matching as SymPy expressions in the
        variables (None: unweighted). ``weight`` is a string or SymPy expression used for every
        coordinate, or a sequence of d of them (a string with top-level commas is a sequence).

        >>> Model.from_string("exp(-x)", "x", domain={"x": (0, "oo")}).weights("min(x, 1)")
        [Min(1, x)]
        """
        if weight is None:
            return None
        names = {v.name: v for v in self.variables}
        if isinstance(weight, str):
            parts = split_top_level(weight)
        elif isinstance(weight, sympy.Basic):
            parts = [weight]
        else:
            parts = list(weight)
        exprs = [parse_expression(p, names) if isinstance(p, str) else sympy.sympify(p)
                 for p in parts]
        for e in exprs:
            if not isinstance(e, sympy.Expr):
                raise ScoresymInputError(f"the weight must be an expression, got {e!r}")
            require_shallow(e, "the weight")
            stray = sorted(s.name for s in e.free_symbols if s not in set(self.variables))
            if stray:
                raise ScoresymInputError(f"the weight may depend on the variables only, not on "
                                         f"{', '.join(stray)}")
            require_double_constants(e, "the weight")
        if len(exprs) == 1:
            exprs = exprs * self.dim
        if len(exprs) != self.dim:
            raise ScoresymInputError(
                f"weight has {len(exprs)} components, the model has d = {self.dim}")
        for e in set(exprs):
            self._require_nonnegative(e)
        return exprs

    def _require_nonnegative(self, weight: sympy.Expr) -> None:
        """A weight of generalized score matching weights squared errors: it must not be
        negative anywhere in the domain (checked at points spread over it)."""
        import numpy

        from .codegen.functions import CompiledFunction

        X = _spread_points(self, 41)
        with numpy.errstate(all="ignore"):
            values = CompiledFunction("weight", weight, self.variables, (), "scalar")(X)
        negative = numpy.flatnonzero(values < 0)
        if len(negative):
            at = ", ".join(f"{v.name} = {X[negative[0], k]:.4g}"
                           for k, v in enumerate(self.variables))
            raise ScoresymInputError(f"the weight {weight} is negative at {at}: a weight must "
                                     "be >= 0 over the whole domain")

    def sample(self, n: int, params: dict, seed=None):
        """n draws from the normalized density at ``params``, shape (n, d), where the model has
        a sampler (the built-in models do; see :mod:`scoresym.zoo`)."""
        return draw(self, self.sampler, n, params, seed)

    # --- compiled code ----------------------------------------------------------------------

    def lambdify(self, backend: str = "numpy", fast: bool = True):
        """Vectorized callables for this model (see
        :class:`scoresym.codegen.compiled.CompiledModel`).

        With ``fast`` (the default), a log-density made of linear forms, sum_i g(w_i . x + c_i)
        + sum_j h(x_j), is evaluated with matrix products (:mod:`scoresym.codegen.fastpath`); the
        results are the same. On a domain with a finite edge, points on or outside it are
        refused with a ScoresymInputError naming the variable and the edge.

        >>> import numpy as np
        >>> m = Model.from_string("-(x - mu)**2/(2*s2)", "x", "mu s2", kind="log", positive="s2")
        >>> m.lambdify().score(np.array([0.0, 1.0]), mu=1.0, s2=2.0)
        array([[0.5],
               [0. ]])
        """
        from .codegen.compiled import InsideOnly

        compiled = self.compiled(backend, fast)
        finite = any(abs(b) != float("inf") for pair in self.bounds for b in pair)
        return InsideOnly(compiled, self.bounds) if finite else compiled

    @property
    def bounds(self) -> list:
        """[(lo, hi)] per variable, as floats (-inf and inf for an unbounded side)."""
        return [tuple(float(b) for b in self.domain[v]) for v in self.variables]

    def require_inside(self, X) -> None:
        """Refuse points (n, d) on or outside the domain, naming the variable, the edge and the
        first such row (see :func:`scoresym.codegen.functions.require_inside`)."""
        from .codegen.functions import require_inside

        require_inside(X, self.variables, self.bounds)

    def compiled(self, backend: str = "numpy", fast: bool = True):
        """The compiled operators without the domain check of :meth:`lambdify`: for the
        package's numerics, which evaluate up to the edges on purpose (where a value that is
        not finite is handled, not returned)."""
        from .codegen.compiled import CompiledModel

        key = (backend, bool(fast))
        if key not in self._compiled:
            self._compiled[key] = CompiledModel(self, backend, fast=fast)
        return self._compiled[key]

    # --- display ----------------------------------------------------------------------------

    def __repr__(self) -> str:
        label = f"{self.name}: " if self.name else ""
        names = ", ".join(v.name for v in self.variables)
        params = ", ".join(p.name for p in self.params)
        bounded = {v.name: b for v, b in self.domain.items() if b != (-sympy.oo, sympy.oo)}
        where = f", domain={bounded}" if bounded else ""
        return (f"Model({label}log f = {self.log_density}; variables ({names}); "
                f"params ({params}){where})")

    def _repr_latex_(self) -> str:
        """Jupyter's display: log f, its score and its Laplacian, one aligned line each (the
        score and Laplacian are left out, and said so, past 400 operations each: a display
        is no place to typeset a page).

        >>> from scoresym import zoo
        >>> text = zoo.get("gaussian_1d").model._repr_latex_()
        >>> "nabla_x" in text, "Delta_x" in text, "frac{1}{s_{2}}" in text
        (True, True, True)
        """
        args = ", ".join(sympy.latex(v) for v in self.variables)
        lines = [rf"\log f({args}) &= {sympy.latex(self.log_density)}"]
        for label, expr in ((r"\nabla_x \log f", self.score), (r"\Delta_x \log f",
                                                               self.laplacian)):
            size = sympy.count_ops(expr)
            lines.append(rf"{label} &= {sympy.latex(expr)}" if size <= 400 else
                         rf"{label} &= \text{{({size} operations: not shown)}}")
        return r"$$\begin{aligned}" + r"\\".join(lines) + r"\end{aligned}$$"


def _spread_points(model, n: int):
    """n points inside the domain, spread over several scales: (n, d)."""
    import numpy

    columns = []
    for k, v in enumerate(model.variables):
        lo, hi = (float(b) for b in model.domain[v])
        if numpy.isinf(lo) and numpy.isinf(hi):
            column = numpy.concatenate([-numpy.logspace(-3, 3, n // 2),
                                        numpy.logspace(-3, 3, n - n // 2)])
        elif numpy.isinf(hi):
            column = lo + numpy.logspace(-6, 3, n)
        elif numpy.isinf(lo):
            column = hi - numpy.logspace(-6, 3, n)
        else:
            column = lo + (hi - lo) * numpy.linspace(1e-6, 1 - 1e-6, n)
        columns.append(numpy.roll(column, 7 * k))  # coordinates not all small together
    return numpy.column_stack(columns)


def draw(model, sampler, n: int, params: dict, seed=None):
    """n draws of ``sampler(rng, n, params)`` for ``model``, checked: n a positive integer,
    every parameter a finite real number, the result of shape (n, d)."""
    import numpy

    from .codegen.functions import param_values
    from .randomness import generator

    if sampler is None:
        raise ScoresymInputError(
            f"model {model.name or model.log_density} has no sampler: pass samples")
    if isinstance(n, bool) or not isinstance(n, (int, numpy.integer)) or n < 1:
        raise ScoresymInputError(f"n must be a positive integer, got {n!r}")
    param_values(params, model.params)  # every parameter, each a finite real number
    draws = sampler(generator(seed), int(n), dict(params))
    return numpy.asarray(draws, dtype=float).reshape(int(n), model.dim)


def clean_log(f: sympy.Expr) -> sympy.Expr:
    """log f written as a sum of simple pieces: log(exp(a)) = a, log(a*b) = log a + log b.

    Powers are split only where the base is known to be positive.

    >>> x, mu = sympy.symbols("x mu", real=True)
    >>> clean_log(3 * sympy.exp(-(x - mu)**2 / 2))
    -(-mu + x)**2/2 + log(3)
    """
    if isinstance(f, sympy.exp):
        return f.args[0]
    if f.is_Mul:
        return sympy.Add(*[clean_log(factor) for factor in f.args])
    if f.is_Pow:
        base, exponent = f.as_base_exp()
        if isinstance(base, sympy.exp) and exponent.is_real:
            return exponent * base.args[0]
        if base.is_positive:
            return exponent * clean_log(base)
    if not f.free_symbols:
        _require_positive_factor(f)
    return sympy.log(f)


def _require_positive_factor(factor: sympy.Expr) -> None:
    """A constant factor of a density must be a positive real number (log(0), acos(2), -3 and
    sin(-1) are not)."""
    value = factor if factor.is_Number else constant_value(factor)
    problem = describe_constant(factor, value)
    if problem is None and not value > 0:
        problem = f"is not positive ({sympy.N(value, 6)})" if value != 0 else "is zero"
    if problem:
        raise ScoresymInputError(f"the density has a constant factor {factor} that {problem}")


def _log_density_of(expr: sympy.Expr, kind: str) -> sympy.Expr:
    if kind == "log":
        return expr
    if kind == "energy":
        return -expr
    if kind == "density":
        return clean_log(expr)
    raise ScoresymInputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


def _name_of(spec) -> str:
    return spec.name if isinstance(spec, sympy.Symbol) else spec


def _domain_by_name(domain, variable_specs) -> dict:
    """Validate ``{variable: (lo, hi)}`` and return it keyed by variable name."""
    if domain is None:
        return {}
    if not isinstance(domain, dict):
        raise ScoresymInputError("domain must be a dict {variable: (lo, hi)}")
    names = {_name_of(v) for v in variable_specs}
    bounds = {}
    for key, interval in domain.items():
        name = _name_of(key)
        if name not in names:
            raise ScoresymInputError(f"domain names {name!r}, which is not a variable")
        bounds[name] = _interval(name, interval)
    return bounds


def _interval(name: str, interval) -> tuple:
    try:
        lo, hi = interval
    except (TypeError, ValueError):
        raise ScoresymInputError(f"domain of {name} must be a pair (lo, hi), got {interval!r}") \
            from None
    lo, hi = _bound(name, lo), _bound(name, hi)
    if not lo < hi:
        raise ScoresymInputError(f"domain of {name} is empty: ({lo}, {hi})")
    return lo, hi


def _bound(name: str, value) -> sympy.Expr:
    """A domain bound: a number (a numeric string is read exactly, "0.1" as 1/10), +-oo (also
    "inf", "-inf"), or a constant expression such as "pi", "-pi/2" or "sqrt(2)", parsed safely
    and kept exact.

    >>> _bound("x", "-pi/2"), _bound("x", "0.1"), _bound("x", "-inf")
    (-pi/2, 1/10, -oo)
    """
    if isinstance(value, str) and value.strip() in ("oo", "-oo", "inf", "-inf", "+oo", "+inf"):
        return -sympy.oo if value.strip().startswith("-") else sympy.oo
    if isinstance(value, str):
        try:
            exact = decimal.Decimal(value.strip())
        except decimal.InvalidOperation:
            return _constant_bound(name, value)
        if not exact.is_finite():
            raise ScoresymInputError(f"domain bound of {name} must be a number or +-oo, got "
                                     f"{value!r}")
        return sympy.Rational(*exact.as_integer_ratio())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value in (float("inf"), float("-inf")):
            return sympy.oo if value > 0 else -sympy.oo
        if value != value:
            raise ScoresymInputError(f"domain bound of {name} is NaN")
        return sympy.Rational(repr(value)) if isinstance(value, float) else sympy.Integer(value)
    if isinstance(value, sympy.Expr) and value in (sympy.oo, -sympy.oo):
        return value
    if isinstance(value, sympy.Expr) and not value.free_symbols:
        return _constant_bound(name, value)
    raise ScoresymInputError(f"domain bound of {name} must be a number or +-oo, got {value!r}")


def _constant_bound(name: str, value) -> sympy.Expr:
    """A bound given as a constant expression (a string parsed with no names, or SymPy): it
    must be a finite real number."""
    try:
        expr = parse_expression(value, {}) if isinstance(value, str) else value
    except ScoresymInputError as error:
        raise ScoresymInputError(f"domain bound of {name} must be a number, a constant such as "
                                 f"pi, or +-oo, got {value!r} ({error})") from None
    number = constant_value(expr)
    if number is None or describe_constant(expr, number) is not None or expr.free_symbols:
        raise ScoresymInputError(f"domain bound of {name} must be a finite real number, got "
                                 f"{value!r}")
    return expr


def _variable_symbol(spec, interval) -> sympy.Symbol:
    if isinstance(spec, sympy.Symbol):
        check_name(spec.name, "variable")
        if spec.is_real is False:
            raise ScoresymInputError(f"variable {spec.name} is declared not real")
        return spec
    check_name(spec, "variable")
    lo, hi = interval if interval else (-sympy.oo, sympy.oo)
    if lo >= 0:
        return sympy.Symbol(spec, positive=True)
    if hi <= 0:
        return sympy.Symbol(spec, negative=True)
    return sympy.Symbol(spec, real=True)


def _param_symbol(spec, positive_names: set) -> sympy.Symbol:
    if isinstance(spec, sympy.Symbol):
        check_name(spec.name, "param")
        if spec.name in positive_names and not spec.is_positive:
            raise ScoresymInputError(
                f"param {spec.name} is listed as positive but its Symbol is not; "
                f"use sympy.Symbol({spec.name!r}, positive=True) or pass the name as a string")
        return spec
    check_name(spec, "param")
    if spec in positive_names:
        return sympy.Symbol(spec, positive=True)
    return sympy.Symbol(spec, real=True)


def _check_distinct(variables: tuple, params: tuple) -> None:
    seen = set()
    for s in variables + params:
        if s.name in seen:
            raise ScoresymInputError(f"name {s.name!r} is declared twice")
        seen.add(s.name)
