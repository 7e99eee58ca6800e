"""Strict JSON for reports: every value a JSON parser accepts.

Invariant: ``to_json`` never writes ``NaN``, ``Infinity`` or ``-Infinity`` (Python's json module
does by default; JavaScript's ``JSON.parse`` and most other parsers reject them). A non-finite
float becomes ``null``, and the object holding it gains a ``"nonfinite"`` entry naming the field
and its value as a string ("nan", "inf", "-inf"), so the reason is kept, not lost.

>>> print(to_json({"lhs": float("inf"), "rows": [{"error": float("nan")}]}))
{"lhs": null, "rows": [{"error": null, "nonfinite": {"error": "nan"}}], "nonfinite": {"lhs": "inf"}}
"""

from __future__ import annotations

import json
import math

import numpy


def json_safe(value):
    """``value`` with numpy scalars and arrays made plain, and non-finite floats replaced by
    None (recorded in the enclosing dict's "nonfinite")."""
    if isinstance(value, dict):
        out, nonfinite = {}, {}
        for key, item in value.items():
            out[str(key)] = json_safe(item)
            if _nonfinite(item):
                nonfinite[str(key)] = str(float(item))
        if nonfinite:
            out["nonfinite"] = {**out.get("nonfinite", {}), **nonfinite}
        return out
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, numpy.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, (bool, numpy.bool_)):
        return bool(value)
    if isinstance(value, (int, numpy.integer)):
        return int(value)
    if isinstance(value, (float, numpy.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    return str(value)


def _nonfinite(value) -> bool:
    return isinstance(value, (float, numpy.floating)) and not math.isfinite(value)


def to_json(value, indent=None) -> str:
    """Strict JSON text of ``value`` (see the module docstring)."""
    return json.dumps(json_safe(value), indent=indent, allow_nan=False)
