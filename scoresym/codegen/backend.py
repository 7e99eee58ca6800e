"""What a backend of generated code supplies (see :mod:`scoresym.codegen.backends`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    """``namespace()`` -> {"numpy": module, "scipy": namespace with .special, "_erfcx":
    exp(w**2) erfc(w), "_log_erfc": log erfc(w), "_erfcx_gap": sqrt(pi) w - 1/erfcx(w)} (the
    last three stable for large w, and differentiable by the backend's own autodiff where it
    has one); ``is_traced(value)`` -> whether value is this backend's tracer."""

    name: str
    namespace: Callable[[], dict]
    is_traced: Callable[[object], bool]
