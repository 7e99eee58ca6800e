"""Points held in chunks: a dask array of shape (n, d), chunked along n, which need never be in
one process's memory. What scoresym does with such data is one of three things, each exact:

- apply a per-point function lazily, block by block (:func:`lazy_rows`, ``map_blocks``);
- reduce per-block results on the workers and combine the small results here
  (:func:`per_block`): sums and means, centred second moments merged exactly (Chan, Golub and
  LeVeque's update), the extreme values of a column (:func:`extremes`);
- select an order statistic exactly in two passes (:func:`order_statistic`).

dask is optional (``pip install scoresym[dask]``): nothing here imports it until a chunked array
is given. The computations run on the active ``dask.distributed`` Client when there is one (a
``LocalCluster`` of processes, or a cluster's), else one block after another in this process
(:func:`compute`): never on Dask's threads, because SymPy's caches, autograd's tracer and the
time budgets (an alarm signal, delivered to the main thread) are not safe across threads.
Results depend on the chunks, not on the number of workers: every block is computed by the
same function of the block alone.

>>> import numpy as np
>>> is_chunked(np.zeros((3, 2)))
False
"""

from __future__ import annotations

import math

import numpy as np

from .errors import ScoresymInputError


def compute(*tasks, processes: bool = False) -> tuple:
    """dask.compute(*tasks) on the active distributed Client when there is one, else on the
    scheduler set by ``dask.config`` unless it is threads, else in this process (or, with
    ``processes``, on Dask's process pool: for independent tasks of a study)."""
    import dask

    try:
        from distributed import default_client

        default_client()
        return dask.compute(*tasks)
    except (ImportError, ValueError):
        pass
    configured = dask.config.get("scheduler", None)
    if configured not in (None, "threads", "threading"):
        return dask.compute(*tasks, scheduler=configured)
    return dask.compute(*tasks, scheduler="processes" if processes else "synchronous")


def is_chunked(X) -> bool:
    """Whether X is a dask array (recognized without importing dask)."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "to_delayed")


def chunked_points(X, d: int):
    """X as an (n, d) float dask array whose blocks are whole rows (every column in one chunk),
    refused clearly when it is not one: the wrong number of dimensions or columns, an unknown
    number of rows, or numbers that are not real."""
    if X.ndim == 1 and d == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != d:
        raise ScoresymInputError(f"X must have shape (n, {d}), got {tuple(X.shape)}")
    if any(math.isnan(c) for c in X.chunks[0]):
        raise ScoresymInputError("X has chunks of unknown size: call X.compute_chunk_sizes() "
                                 "first")
    if X.dtype.kind not in "biuf":
        raise ScoresymInputError(f"X must hold real numbers, got dtype {X.dtype}")
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X.astype(float) if X.dtype.kind != "f" else X


class _NpyRows:
    """An (n, d) .npy file seen as an array whose slices are read when asked for: what a dask
    task holds is the path, not the data, and each worker maps the file itself."""

    def __init__(self, path):
        self.path = str(path)
        header = np.load(self.path, mmap_mode="r")
        self.shape, self.dtype, self.ndim = header.shape, header.dtype, header.ndim
        del header

    def __getitem__(self, key):
        return np.array(np.load(self.path, mmap_mode="r")[key])


def npy_rows(path, rows: int = 200_000):
    """The (n, d) array in a .npy file as a dask array of blocks of ``rows`` rows, each read
    from the file by the task that needs it (never the whole file in one process, and never
    the data in the task graph).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.npy"
    >>> np.save(path, np.arange(10.0).reshape(5, 2))
    >>> X = npy_rows(path, rows=2)
    >>> X.chunks, float(X.sum().compute())
    (((2, 2, 1), (2,)), 45.0)
    >>> path.unlink(); path.parent.rmdir()
    """
    import dask.array as da

    source = _NpyRows(path)
    if source.ndim != 2:
        raise ScoresymInputError(f"{path}: expected an (n, d) array, got shape {source.shape}")
    return da.from_array(source, chunks=(rows, source.shape[1]), asarray=False,
                         name=f"npy-rows-{path}")


def lazy_rows(function, X, trailing: tuple = ()):
    """``function(block)`` for each block of rows, lazily: a dask array of shape
    (n,) + trailing, chunked as X along n.

    >>> import dask.array as da
    >>> X = da.from_array(np.arange(6.0).reshape(3, 2), chunks=(2, 2))
    >>> lazy_rows(lambda B: B.sum(axis=1), X).compute()
    array([1., 5., 9.])
    """
    if trailing == (X.shape[1],):
        return X.map_blocks(function, dtype=float)
    if not trailing:
        return X.map_blocks(function, dtype=float, drop_axis=1)
    chunks = (X.chunks[0],) + tuple((k,) for k in trailing)
    if len(trailing) == 1:
        return X.map_blocks(function, dtype=float, chunks=chunks)
    return X.map_blocks(function, dtype=float, chunks=chunks, new_axis=list(
        range(2, 1 + len(trailing))))


def per_block(function, X, with_start: bool = False) -> list:
    """[function(block) for each block of rows of X] (``function(block, start)`` with the
    block's first row with ``with_start``), computed by dask (on the workers when a
    distributed Client is active) and returned here; each result should be small.

    >>> import dask.array as da
    >>> X = da.from_array(np.arange(6.0).reshape(3, 2), chunks=(2, 2))
    >>> per_block(lambda B: float(B.sum()), X)
    [6.0, 9.0]
    >>> per_block(lambda B, start: start, X, with_start=True)
    [0, 2]
    """
    return list(compute(*_block_tasks(function, X, with_start)))


def _block_tasks(function, X, with_start: bool) -> list:
    """One delayed ``function(block)`` (or ``function(block, start)``) per block of rows."""
    import dask

    blocks = X.to_delayed().ravel()
    starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(int).tolist()
    return [dask.delayed(function)(block, start) if with_start else
            dask.delayed(function)(block) for block, start in zip(blocks, starts)]


def reduce_blocks(function, combine, X, fan_in: int = 8, with_start: bool = False,
                  rows: int = 20_000):
    """combine(combine(function(block 0), function(block 1)), ...) over all blocks of rows
    (``function(block, start)`` with the block's first row with ``with_start``). On a dask
    array, a tree of tasks with ``fan_in`` inputs each: the combining runs on the workers, and
    only the one result comes back here, however many blocks there are. On an array in memory,
    the same over slices of ``rows`` rows, here (what a pass needs per point is never held for
    all n points at once). ``combine`` must be associative (sums, merged moments, merged
    extremes).

    >>> import dask.array as da
    >>> X = da.from_array(np.arange(20.0)[:, None], chunks=3)
    >>> float(reduce_blocks(lambda B: B.sum(), lambda a, b: a + b, X, fan_in=2))
    190.0
    >>> float(reduce_blocks(lambda B: B.sum(), lambda a, b: a + b, X.compute(), rows=3))
    190.0
    """
    def combine_all(*parts):
        total = parts[0]
        for part in parts[1:]:
            total = combine(total, part)
        return total

    if not is_chunked(X):
        return combine_all(*[function(X[start:start + rows], start) if with_start else
                             function(X[start:start + rows])
                             for start in range(0, max(len(X), 1), rows)])
    import dask

    level = _block_tasks(function, X, with_start)
    while len(level) > 1:
        level = [dask.delayed(combine_all)(*level[i:i + fan_in])
                 for i in range(0, len(level), fan_in)]
    return compute(level[0])[0]


class Moments:
    """Count, mean and centred second moment (sum of (v - mean)(v - mean)^T) of per-point
    vectors, merged across blocks exactly (the pairwise update of Chan, Golub and LeVeque),
    so that the covariance has no cancellation however large the mean.

    >>> rng = np.random.default_rng(0)
    >>> V = rng.normal(1e6, 1.0, (1000, 2))
    >>> m = Moments.of(V[:300]).merge(Moments.of(V[300:]))
    >>> bool(np.allclose(m.covariance(), np.cov(V.T), rtol=1e-9))
    True
    """

    def __init__(self, n: int, mean: np.ndarray, scatter: np.ndarray):
        self.n, self.mean, self.scatter = n, mean, scatter

    @classmethod
    def of(cls, V: np.ndarray) -> Moments:
        V = _columns(V)
        mean = V.mean(axis=0) if len(V) else np.zeros(V.shape[1])
        centred = V - mean
        return cls(len(V), mean, centred.T @ centred)

    def merge(self, other: Moments) -> Moments:
        n = self.n + other.n
        if not self.n or not other.n:
            return self if other.n == 0 else other
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        scatter = self.scatter + other.scatter + np.outer(delta, delta) * (self.n * other.n / n)
        return Moments(n, mean, scatter)

    def covariance(self, ddof: int = 1) -> np.ndarray:
        return self.scatter / (self.n - ddof)

    def std(self) -> np.ndarray:
        """The standard deviations with 1/n (numpy's default)."""
        return np.sqrt(np.clip(np.diag(self.scatter), 0.0, None) / self.n)


def merged(moments: list) -> Moments:
    """The Moments of all blocks together."""
    total = moments[0]
    for m in moments[1:]:
        total = total.merge(m)
    return total


def extremes(V: np.ndarray, k: int) -> tuple:
    """(the k largest, the k smallest) values of each column of V, each (min(k, n), p): the
    candidates for the k largest deviations |v - c| from any centre c, whichever block they
    are in."""
    V = _columns(V)
    order = np.sort(V, axis=0)
    return order[::-1][:k], order[:k]


def merge_extremes(parts: list, k: int) -> tuple:
    """The k largest and k smallest of each column over blocks, from :func:`extremes` (or
    from earlier merges: the merge is associative)."""
    largest = np.sort(np.concatenate([p[0] for p in parts]), axis=0)[::-1][:k]
    smallest = np.sort(np.concatenate([p[1] for p in parts]), axis=0)[:k]
    return largest, smallest


def largest_deviations(candidates: tuple, centre: np.ndarray, k: int) -> np.ndarray:
    """The k largest |v - centre| of each column, in decreasing order, (k, p), from the
    candidates of :func:`merge_extremes`."""
    both = np.concatenate(candidates)
    return np.sort(np.abs(both - centre), axis=0)[::-1][:k]


#: Bins of the histogram pass of :func:`order_statistic`.
HISTOGRAM_BINS = 4096


def order_statistic(values, X, rank: float, ranges: tuple | None = None) -> np.ndarray:
    """For each column j of ``values(block)`` (per-point, (b, p)), the value of rank ``rank``
    (0-based; a half-integer averages the two neighbours, as the median does) over all points,
    exactly: one pass for each column's range and histogram on a fixed grid, and one that
    collects the few values in the bin holding the rank (two passes when the columns' ``ranges``,
    (smallest, largest), are known from another). Columns must be finite.

    >>> import dask.array as da
    >>> V = np.random.default_rng(1).standard_normal((1001, 2))
    >>> X = da.from_array(V, chunks=(250, 2))
    >>> bool(np.all(order_statistic(lambda B: B, X, 500) == np.median(V, axis=0)))
    True
    """
    ranks = sorted({math.floor(rank), math.ceil(rank)})
    lo, hi = column_ranges(values, X) if ranges is None else ranges
    edges = [np.linspace(a, b, HISTOGRAM_BINS + 1) for a, b in zip(lo, hi)]
    cumulative = np.cumsum(reduce_blocks(lambda B: _histograms(values(B), edges), np.add, X),
                           axis=1)
    # the bins holding the ranks, per column: [(bin, points below it)]
    wanted = [[(b, int(c[b - 1]) if b else 0)
               for b in (int(np.searchsorted(c, r, side="right")) for r in ranks)]
              if a < z else [] for c, a, z in zip(cumulative, lo, hi)]  # none: a constant
    collected = per_block(lambda B: _in_bins(values(B), edges, wanted), X)
    found = []
    for j, bins in enumerate(wanted):
        if not bins:
            found.append(float(lo[j]))
            continue
        picks = []
        for (b, below), r in zip(bins, ranks):
            inside = np.sort(np.concatenate([part[j][b] for part in collected]))
            picks.append(inside[r - below])
        found.append(float(np.mean(picks)))
    return np.array(found)


def column_ranges(values, X) -> tuple:
    """(smallest, largest) of each column of ``values(block)`` over all blocks."""
    return reduce_blocks(lambda B: column_range(values(B)),
                         lambda a, b: (np.minimum(a[0], b[0]), np.maximum(a[1], b[1])), X)


def column_range(V) -> tuple:
    """(smallest, largest) of each column of per-point values V (inf, -inf with no rows)."""
    V = _columns(V)
    if not len(V):
        return np.full(V.shape[1], np.inf), np.full(V.shape[1], -np.inf)
    return V.min(axis=0), V.max(axis=0)


def _bin_of(column, edges, bins: int = HISTOGRAM_BINS) -> np.ndarray:
    """The bin of each value: np.histogram's rule (the last bin closed on the right)."""
    return np.clip(np.searchsorted(edges, column, side="right") - 1, 0, bins - 1)


def _histograms(V, edges) -> np.ndarray:
    V = _columns(V)
    return np.array([np.bincount(_bin_of(V[:, j], e), minlength=HISTOGRAM_BINS)
                     for j, e in enumerate(edges)])


def _in_bins(V, edges, wanted) -> list:
    """For each column j, {bin: the values of this block in it} for the bins in wanted[j]."""
    V = _columns(V)
    found = []
    for j, bins in enumerate(wanted):
        where = _bin_of(V[:, j], edges[j])
        found.append({b: V[where == b, j] for b, _ in bins})
    return found


def _columns(V) -> np.ndarray:
    """Per-point values as an (n, p) float array (a 1-D array is one column; n may be 0)."""
    V = np.asarray(V, dtype=float)
    if V.ndim == 1:
        return V[:, None]
    return V if V.ndim == 2 else V.reshape(V.shape[0], int(np.prod(V.shape[1:])))
