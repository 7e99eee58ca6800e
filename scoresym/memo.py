"""Values derived from a model, computed once and kept only as long as the model lives.

Invariant: each module that derives something costly from a Model (a compiled objective, a
closed form, a linear structure) keeps it in its own ``PerModel`` table, keyed weakly by the
model: nothing is stored on the model, and nothing outlives it.

>>> class Thing:
...     pass
>>> table, thing, calls = PerModel(), Thing(), []
>>> table.get(thing, "square", lambda: calls.append(1) or 9), table.get(thing, "square", list)
(9, 9)
>>> len(calls)
1
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable


class PerModel:
    """{model: {key: value}}, the model held weakly."""

    def __init__(self):
        self._table = weakref.WeakKeyDictionary()

    def get(self, model, key: Hashable, build: Callable):
        """The value for (model, key), built by ``build()`` the first time it is asked for."""
        entries = self._table.setdefault(model, {})
        if key not in entries:
            entries[key] = build()
        return entries[key]
