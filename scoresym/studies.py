"""Simulation studies: many independent tasks (a fit on a fresh data set, a test at one
setting), run in this process or by Dask, with the same results either way.

Each replication r gets its own stream, ``independent_seeds(seed, R)[r]`` (SeedSequence.spawn):
its result depends on ``seed`` and r alone, not on how many workers run the tasks or in which
order they finish. ``parallel=True`` hands the tasks to ``dask.delayed`` and computes them on
the active ``dask.distributed`` Client when one is running (``Client(LocalCluster(n_workers=2))``,
or a cluster's), else on Dask's pool of processes (never its threads: see
:mod:`scoresym.chunks`). Dask is optional (``pip install scoresym[dask]``).

>>> import numpy as np
>>> def mean_of_draws(seed):
...     return float(np.random.default_rng(seed).standard_normal(100).mean())
>>> here = replicate(mean_of_draws, 4, seed=1)
>>> here == replicate(mean_of_draws, 4, seed=1, parallel=True)
True
>>> len(set(here))  # four independent streams
4
"""

from __future__ import annotations

from .chunks import compute
from .errors import ScoresymInputError
from .randomness import independent_seeds


def replicate(task, replications: int, seed=0, parallel: bool = False) -> list:
    """[task(seed_r) for r in range(replications)], seed_r the r-th independent child
    SeedSequence of ``seed`` (pass it wherever scoresym or NumPy takes a seed)."""
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        raise ScoresymInputError(f"replications must be a positive integer, got "
                                 f"{replications!r}")
    return sweep(task, independent_seeds(seed, replications), parallel)


def sweep(task, settings, parallel: bool = False) -> list:
    """[task(s) for s in settings], in order; with ``parallel``, as Dask tasks on the active
    scheduler. The tasks must not share state (each draws from its own seed).

    >>> sweep(lambda sigma: sigma ** 2, [0.1, 0.5, 2.0], parallel=True)
    [0.010000000000000002, 0.25, 4.0]
    """
    if not callable(task):
        raise ScoresymInputError(f"task must be a function of one argument, got "
                                 f"{type(task).__name__}")
    settings = list(settings)
    if not parallel:
        return [task(s) for s in settings]
    import dask

    return list(compute(*[dask.delayed(task, pure=False)(s) for s in settings],
                        processes=True))
