"""Automatic differentiation with HIPS autograd: the score, the exact trace of its Jacobian, a
projected Hessian, and the divergence of a test function.

Invariant: rows are independent, so one backward pass of sum_rows f gives every row's gradient;
the trace of a Jacobian is EXACT, d backward passes, pass i keeping column i (differentiating
elementwise twice would give the Hessian's row sums, not its diagonal).

>>> import autograd.numpy as anp, numpy as np
>>> score = score_function(lambda Y: -anp.sum(Y**2, axis=1) / 2, {})
>>> X = np.array([[1.0, 2.0]])
>>> score(X), hessian_trace(score, X, 2)
(array([[-1., -2.]]), array([-2.]))
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import autograd
import autograd.numpy as anp
import numpy as np

from ..errors import ScoresymInputError


def grad_quietly(fun, Y):
    """autograd.grad(fun)(Y), quiet when fun does not depend on Y (a constant score has a zero
    Hessian: that is an answer, not a mistake)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Output seems independent of input", UserWarning)
        return autograd.grad(fun)(Y)


def score_function(log_density, params: dict):
    """s(Y) = grad_Y sum_rows log p(Y): the per-row score, one backward pass."""
    def score(Y):
        return grad_quietly(lambda Z: anp.sum(log_density(Z, **params)), Y)
    return score


def hessian_trace(score, X, d: int):
    """tr grad_x s(x) per row, exactly: pass i differentiates sum_rows s_i and keeps column i."""
    trace = 0.0
    for i in range(d):
        trace = trace + grad_quietly(lambda Y, i=i: anp.sum(score(Y)[:, i]), X)[:, i]
    return trace


def projected_hessian(score, X, v):
    """v^T (grad_x s(x)) v per row, one backward pass: grad_Y sum_rows (v . s(Y)), dotted with v."""
    Hv = grad_quietly(lambda Y: anp.sum(anp.sum(v * score(Y), axis=1)), X)
    return anp.sum(Hv * v, axis=1)


def field_and_divergence(function: Callable, X: np.ndarray) -> tuple:
    """g(X) as (n, d) and div g(X) as (n,), the divergence by d autograd backward passes."""
    d = X.shape[1]

    def g(Y):
        out = function(Y)
        return anp.reshape(out, (Y.shape[0], d))

    try:
        values = np.asarray(g(X), dtype=float)
        divergence = hessian_trace(g, X, d)  # div g = tr of g's Jacobian
    except (TypeError, ValueError) as exc:
        raise ScoresymInputError(
            f"test_function must map (n, {d}) arrays to (n, {d}) with autograd.numpy: {exc}") \
            from None
    return values, np.asarray(divergence, dtype=float)
