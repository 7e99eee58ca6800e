"""Data in chunks (dask arrays): compiled functions return lazy results equal to the in-memory
ones, ``fit`` gives the same estimates and standard errors as in memory (to 1e-12) by
reductions over blocks, the reductions themselves are exact (order statistics, merged moments,
extremes), and bad chunked data are refused naming the block. The local-cluster tests are in
tests/test_cluster.py."""

import dask
import dask.array as da
import numpy as np
import pytest

import scoresym as ss
from scoresym.chunks import Moments, merged, order_statistic, per_block

# the threaded scheduler: the same blocks and results as any other (the cluster tests check it)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def chunked(X, rows: int):
    return da.from_array(X, chunks=(rows, X.shape[1]))


@pytest.mark.parametrize("name", ["gaussian_full_3d", "logcosh_3d", "exponential",
                                  "gaussian_mixture_2d"])
def test_compiled_operators_are_lazy_and_equal_in_memory_ones(name):
    b = ss.zoo.get(name)
    X = b.sample(1000, seed=0)
    f = b.model.lambdify()
    for operator in ("log_density", "score", "hessian", "laplacian", "hyvarinen"):
        lazy = getattr(f, operator)(chunked(X, 300), **b.truth)
        assert isinstance(lazy, da.Array)
        np.testing.assert_allclose(lazy.compute(), getattr(f, operator)(X, **b.truth),
                                   rtol=1e-15, atol=1e-300)


def test_the_objective_is_a_lazy_mean():
    b = ss.zoo.get("student_t")
    X = b.sample(5000, seed=1)
    objective = b.model.lambdify().hyvarinen(chunked(X, 1024), **b.truth).mean()
    assert isinstance(objective, da.Array)
    assert abs(float(objective.compute()) - b.model.lambdify().hyvarinen(X, **b.truth).mean()) \
        < 1e-15


FITS = [  # (built-in, weight, the path fit takes)
    ("gaussian_1d", None, "closed_form"),           # SymPy's stationary point, in moments
    ("gaussian_full_3d", None, "closed_form"),      # linear solve
    ("quartic_1d", None, "closed_form"),
    ("student_t", None, "optimize"),
    ("gaussian_mixture_2d", None, "optimize"),
    ("truncated_normal", "min(x, 1)", "closed_form"),  # the boundary check at the estimate
    ("gamma", "x**2", "closed_form"),
    ("exponential", "x", "closed_form"),
]


@pytest.mark.parametrize("name, weight, method", FITS, ids=[f[0] for f in FITS])
def test_fit_on_chunks_is_the_fit_in_memory(name, weight, method):
    b = ss.zoo.get(name)
    X = b.sample(3000, seed=0)
    in_memory = ss.fit(b.model, X, weight=weight)
    on_chunks = ss.fit(b.model, chunked(X, 700), weight=weight)  # 5 blocks, the last short
    assert in_memory.method == on_chunks.method == method
    assert on_chunks.converged and in_memory.converged and on_chunks.n == 3000
    for k, value in in_memory.params.items():
        assert abs(on_chunks.params[k] - value) <= 1e-12 * max(1.0, abs(value)), k
        assert abs(on_chunks.stderr[k] - in_memory.stderr[k]) <= 1e-12 * in_memory.stderr[k]
    assert abs(on_chunks.objective - in_memory.objective) <= 1e-12 * max(1.0, abs(
        in_memory.objective))
    assert on_chunks.details["gradient_tail_index"] == pytest.approx(
        in_memory.details["gradient_tail_index"], rel=1e-9)
    if "boundary" in in_memory.details:
        assert on_chunks.details["boundary"]["holds"] == in_memory.details["boundary"]["holds"]
        index = in_memory.details["boundary"].get("curvature_tail_index")
        if index is not None:  # differenced curvatures: rounding in the last bits, amplified
            assert on_chunks.details["boundary"]["curvature_tail_index"] == pytest.approx(
                index, rel=1e-8)


def test_a_pinned_estimate_is_refused_on_chunks_as_in_memory():
    # Gamma(1.5) without a weight: the objective is invalid at the truth and pins k at 2
    b = ss.zoo.get("gamma")
    X = b.sample(2000, seed=0)
    with pytest.raises(ss.ScoresymInputError) as in_memory:
        ss.fit(b.model, X)
    with pytest.raises(ss.ScoresymInputError) as on_chunks:
        ss.fit(b.model, chunked(X, 512))
    assert str(on_chunks.value).split(":")[0] == str(in_memory.value).split(":")[0]


BAD = [  # (data, what the error names)
    (np.r_[np.ones(7), np.nan, np.ones(4)], "NaN or infinite values (in the block of rows "
                                            "from 5)"),
    (np.r_[np.ones(7), -1.0, np.ones(4)], "on or outside its domain"),
]


@pytest.mark.parametrize("column, fragment", BAD)
def test_bad_chunked_data_are_refused_naming_the_block(column, fragment):
    e = ss.zoo.get("exponential")
    with pytest.raises(ss.ScoresymInputError, match="in the block of rows from 5"):
        ss.fit(e.model, chunked(column[:, None], 5), weight="x")
    with pytest.raises(ss.ScoresymInputError) as info:
        ss.fit(e.model, chunked(column[:, None], 5), weight="x")
    assert fragment in str(info.value)


def test_chunked_data_of_the_wrong_shape_or_kind_are_refused():
    m = ss.zoo.get("gaussian_full_3d")
    with pytest.raises(ss.ScoresymInputError, match=r"shape \(n, 3\)"):
        ss.fit(m.model, da.zeros((10, 2), chunks=5))
    unknown = da.from_array(np.ones((10, 3)), chunks=5)
    unknown = unknown[unknown[:, 0] > 0]  # a boolean index: chunk sizes unknown
    with pytest.raises(ss.ScoresymInputError, match="compute_chunk_sizes"):
        ss.fit(m.model, unknown)
    with pytest.raises(ss.ScoresymInputError, match="bootstrap"):
        ss.fit(m.model, da.ones((10, 3), chunks=5), stderr="bootstrap")


def test_a_constant_column_is_named_on_chunks():
    b = ss.zoo.get("gaussian_1d")
    with pytest.raises(ss.ScoresymInputError, match="every point has x = 2"):
        ss.fit(b.model, da.full((100, 1), 2.0, chunks=30))


@pytest.mark.parametrize("n, rows", [(10, 3), (11, 4), (1000, 128), (4097, 1000)])
def test_order_statistics_over_blocks_are_exact(n, rows):
    rng = np.random.default_rng(n)
    V = np.column_stack([rng.standard_normal(n), np.full(n, 3.0),
                         rng.integers(0, 3, n).astype(float), rng.standard_cauchy(n)])
    X = da.from_array(V, chunks=(rows, 4))
    for rank in (0, (n - 1) / 2, n // 3, n - 1):
        expected = np.mean([np.sort(V, axis=0)[r] for r in sorted({int(np.floor(rank)),
                                                                   int(np.ceil(rank))})], axis=0)
        assert np.array_equal(order_statistic(lambda B: B, X, rank), expected)


def test_merged_moments_have_no_cancellation():
    V = np.random.default_rng(0).normal(1e8, 1.0, (10_000, 3))
    parts = [Moments.of(V[a:b]) for a, b in ((0, 1), (1, 4000), (4000, 4000), (4000, 10_000))]
    m = merged(parts)
    np.testing.assert_allclose(m.mean, V.mean(axis=0), rtol=1e-14)
    # the values hold 1e8 to about 1e-8: the covariance is known to that, not the 1e16 - 1e16
    # of sum(v^2)/n - mean^2
    np.testing.assert_allclose(m.covariance(), np.cov(V.T), rtol=0, atol=1e-7)
    naive = (V.T @ V) / len(V) - np.outer(V.mean(axis=0), V.mean(axis=0))
    assert np.max(np.abs(naive - np.cov(V.T))) > 1e-3


def test_blocks_are_reduced_in_order_whatever_the_scheduler():
    X = da.from_array(np.arange(20.0)[:, None], chunks=6)
    first = per_block(lambda B, start: (start, float(B.sum())), X, with_start=True)
    for scheduler in ("synchronous", "threads", "processes"):  # threads: run as synchronous
        with dask.config.set(scheduler=scheduler):
            assert per_block(lambda B, start: (start, float(B.sum())), X,
                             with_start=True) == first
    assert first == [(0, 15.0), (6, 51.0), (12, 87.0), (18, 37.0)]


def test_functions_that_need_points_in_memory_refuse_chunks_instead_of_loading_them():
    b = ss.zoo.get("gaussian_1d")
    X = da.from_array(b.sample(100, seed=0), chunks=(50, 1))
    for call in (lambda: ss.esm_loss(b.model, X, **b.truth),
                 lambda: ss.ksd(b.model, b.truth, X),
                 lambda: ss.check_stein(b.model, b.truth, "x", samples=X, method="mc")):
        with pytest.raises(ss.ScoresymInputError, match="X.compute()"):
            call()


def test_a_figure_sweep_on_dask_processes_draws_the_same_figure():
    from scoresym import figures

    serial = figures.dsm_noise_levels(seed=0, quick=True)
    parallel = figures.dsm_noise_levels(seed=0, quick=True, parallel=True)
    lines = [(a.get_ydata(), b.get_ydata()) for s, p in zip(serial.axes, parallel.axes)
             for a, b in zip(s.lines, p.lines)]
    assert len(lines) == 2 and all(np.array_equal(a, b) for a, b in lines)


@pytest.mark.parametrize("replications", [0, -1, 2.5, True])
def test_a_study_needs_a_positive_number_of_replications(replications):
    from scoresym.studies import replicate

    with pytest.raises(ss.ScoresymInputError, match="positive integer"):
        replicate(lambda seed: 0, replications)
