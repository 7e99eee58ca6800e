"""Fits on a local Dask cluster (LocalCluster(n_workers=2, processes=True)): the same numbers as
in memory; a worker killed in the middle of a fit, which still completes with the same numbers
through Dask's own retry; and data larger than a worker's memory limit, never materialized."""

import os
import threading
import time

import dask.array as da
import pytest
from distributed import Client, LocalCluster

import scoresym as ss

pytestmark = [pytest.mark.xdist_group("cluster"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::ResourceWarning")]

#: Each worker's memory limit. A worker that has imported scoresym holds about 165 MB; the
#: test data below are 384 MB, more than either worker may hold.
MEMORY_LIMIT = "350MB"


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      memory_limit=MEMORY_LIMIT, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def agree(on_cluster, in_memory, tolerance: float = 1e-12) -> None:
    assert on_cluster.method == in_memory.method and on_cluster.converged
    for k, value in in_memory.params.items():
        assert abs(on_cluster.params[k] - value) <= tolerance * max(1.0, abs(value)), k
        assert abs(on_cluster.stderr[k] - in_memory.stderr[k]) <= tolerance * in_memory.stderr[k]


@pytest.mark.parametrize("name", ["gaussian_full_3d", "student_t"])
def test_a_fit_on_the_cluster_is_the_fit_in_memory(client, name):
    b = ss.zoo.get(name)
    X = b.sample(20_000, seed=0)
    on_cluster = ss.fit(b.model, da.from_array(X, chunks=(3000, X.shape[1])))
    agree(on_cluster, ss.fit(b.model, X))
    assert client.run(lambda: 1)  # both workers still there


def test_a_fit_survives_a_worker_killed_in_the_middle(client):
    b = ss.zoo.get("gaussian_full_3d")
    X = da.random.default_rng(7).normal(size=(3_000_000, 3), chunks=(100_000, 3))
    expected = ss.fit(b.model, X.compute())
    found, errors = [], []

    def run():
        try:
            found.append(ss.fit(b.model, X))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    fitting = threading.Thread(target=run)
    fitting.start()
    deadline = time.monotonic() + 60
    while not any(client.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.01)
    victim = next(address for address, tasks in client.processing().items() if tasks)
    client.run(_die, workers=[victim], wait=False)  # the process dies; its nanny restarts it
    fitting.join(timeout=300)
    assert not errors, errors
    agree(found[0], expected)


async def _die():
    os._exit(1)


def test_data_larger_than_a_workers_memory_are_fitted_without_materializing(client):
    limit = min(w["memory_limit"] for w in client.scheduler_info()["workers"].values())
    b = ss.zoo.gaussian_full(2)
    X = da.random.default_rng(0).normal(1.0, 2.0, size=(24_000_000, 2), chunks=(200_000, 2))
    assert X.nbytes > limit  # 384 MB against 350 MB
    r = ss.fit(b.model, X)
    assert r.converged and r.n == 24_000_000
    # N(1, 4) in each coordinate: L = I/4, b = L mu = 1/4, within 5 standard errors
    for k, truth in {"L1_1": 0.25, "L2_2": 0.25, "L1_2": 0.0, "b1": 0.25, "b2": 0.25}.items():
        assert abs(r.params[k] - truth) <= 5 * r.stderr[k], (k, r.params[k], r.stderr[k])
    assert all(w["memory_limit"] == limit for w in client.scheduler_info()["workers"].values())
