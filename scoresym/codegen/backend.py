"""What a backend of generated code supplies (see :mod:`scoresym.codegen.backends`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Backend:
    """``namespace()`` -> {"numpy": module, "scipy": namespace with .special};
    ``is_traced(value)`` -> whether value is this backend's tracer."""

    name: str
    namespace: Callable[[], dict]
    is_traced: Callable[[object], bool]
