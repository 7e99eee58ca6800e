"""What a backend of generated code supplies (see :mod:`scoresym.codegen.backends`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backend:
    """``namespace()`` -> {"numpy": module, "scipy": namespace with .special};
    ``is_traced(value)`` -> whether value is this backend's tracer."""

    name: str
    namespace: Callable[[], dict]
    is_traced: Callable[[object], bool]
