"""The autograd backend: autograd.numpy and autograd.scipy.special, so that HIPS autograd
differentiates generated code; its traced values (ArrayBox) pass through argument checks."""

from __future__ import annotations

import types

from .backend import Backend


def namespace() -> dict:
    import autograd.numpy
    import autograd.scipy.special

    return {"numpy": autograd.numpy,
            "scipy": types.SimpleNamespace(special=autograd.scipy.special)}


def is_traced(value) -> bool:
    return type(value).__module__.startswith("autograd")


BACKEND = Backend("autograd", namespace, is_traced)
