"""``--cluster``: the same figures on a Dask cluster, data sent to each worker once, KNN sharded, faults survived.

One two-worker ``LocalCluster`` of threads serves most tests (cheap to start);
the worker-kill test starts its own cluster of two worker processes.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the [test] extra")

from sklearn.base import clone  # noqa: E402
from sklearn.neighbors import KNeighborsClassifier as SkKNN  # noqa: E402

from cli_errors import assert_one_line_error, run_main  # noqa: E402
from gpuclf.backends import get_backend  # noqa: E402
from gpuclf.run.children import child_env  # noqa: E402
from gpuclf.run.cluster import joblib_on  # noqa: E402
from gpuclf.dispatch import Dispatcher, cluster_errors  # noqa: E402
from gpuclf.errors import GpuclfError  # noqa: E402
from gpuclf.estimators import KNeighborsClassifier  # noqa: E402
from gpuclf.estimators.sharded_neighbors import ShardedKNeighborsClassifier  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as c, \
            distributed.Client(c) as cl:
        yield cl


@pytest.fixture(scope="module")
def small(sample_mnist):
    return sample_mnist.X_train[:600].astype(np.float32), sample_mnist.y_train[:600]


def on_cluster(name, client):
    backend = get_backend(name)
    backend.use_cluster(client)
    return backend


# -- the option ------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("lokal", "argument --cluster: must be local or a Dask scheduler address such as tcp://host:8786"),
    ("tcp://", "must be local or a Dask scheduler address"),
])
def test_bad_cluster_values_are_one_line(tmp_path, capsys, value, expected):
    code, err = run_main(capsys, "run", "--data", "sample", "--cluster", value, "--out", tmp_path / "o")
    assert_one_line_error(code, err, expected)


def test_bad_cluster_variable_names_the_variable(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GPUCLF_CLUSTER", "everywhere")
    code, err = run_main(capsys, "run", "--data", "sample", "--steps", "data", "--out", tmp_path / "o")
    assert_one_line_error(code, err, "$GPUCLF_CLUSTER: must be local")


def test_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("gpuclf.run.cluster.CONNECT_TIMEOUT", 1)
    code, err = run_main(capsys, "run", "--data", "sample", "--steps", "data", "--cluster", "tcp://127.0.0.1:9",
                         "--out", tmp_path / "o")
    assert_one_line_error(code, err, "--cluster tcp://127.0.0.1:9: no Dask scheduler answered")
    assert not (tmp_path / "o").exists()


def test_missing_dask_says_what_to_install(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    code, err = run_main(capsys, "run", "--data", "sample", "--steps", "data", "--cluster", "local",
                         "--out", tmp_path / "o")
    # gpuclf is not on PyPI: the hint is what works in a checkout.
    assert_one_line_error(code, err, "--cluster needs Dask's distributed scheduler: "
                                     "pip install -e '.[dask]' in the gpuclf checkout")


def test_without_cluster_dask_is_never_imported(tmp_path):
    code = ("import sys; from gpuclf.cli import main; "
            f"rc = main(['run', '--data', 'sample', '--steps', 'data', '--quiet', '--out', {str(tmp_path)!r}]); "
            "print(rc, 'distributed' in sys.modules, 'dask' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split()[-3:] == ["0", "False", "False"], out.stderr[-2000:]


# -- dispatch: data scattered once, figures unchanged -----------------------------

def _add(unit, a, b):
    return unit + float(a.sum()) + float(b.sum())


def test_dispatcher_sends_each_array_once(client):
    d = Dispatcher(client)
    a, b = np.arange(10.0), np.ones(3)
    for _ in range(3):
        assert d.map(_add, range(4), d.share(a), d.share(b)) == [u + 48.0 for u in range(4)]
    assert d.scatters == 2  # a and b, once each, for three calls of four tasks
    assert Dispatcher().map(_add, range(4), a, b) == [u + 48.0 for u in range(4)]


def test_kernel_backend_cv_and_grid_search_equal_on_the_cluster(client, small):
    X, y = small
    here, there = get_backend("numpy"), on_cluster("numpy", client)
    knn = KNeighborsClassifier(n_neighbors=3)
    for method in ("predict", "predict_proba"):
        np.testing.assert_array_equal(there.cross_val_predict(knn, X, y, cv=3, method=method),
                                      here.cross_val_predict(knn, X, y, cv=3, method=method))
    grid = {"n_neighbors": [3, 4], "weights": ["uniform", "distance"]}
    a, b = here.grid_search(knn, grid, X, y, cv=3), there.grid_search(knn, grid, X, y, cv=3)
    assert a["mean_test_score"] == b["mean_test_score"] and a["best_params"] == b["best_params"]
    assert there.dispatcher.scatters >= 3  # X, labels and folds went to the workers


def test_cpu_backend_runs_scikit_learn_jobs_on_dask_with_the_same_figures(client, small):
    import joblib
    from sklearn.linear_model import SGDClassifier

    X, y = small
    cpu = get_backend("cpu")
    sgd = SGDClassifier(random_state=42, max_iter=20, tol=None)
    alone = cpu.cross_val_score(sgd, X, y == 5, cv=3)
    with joblib_on(client):
        assert type(joblib.parallel.get_active_backend()[0]).__name__ == "DaskDistributedBackend"
        np.testing.assert_array_equal(cpu.cross_val_score(sgd, X, y == 5, cv=3), alone)


# -- KNN sharded across workers ---------------------------------------------------

@pytest.fixture(scope="module")
def ties():
    """Integer data full of exact ties: every row appears three times, spread over the shards."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 3, size=(40, 6)).astype(np.float32)
    X = np.concatenate([base, base[::-1], base])
    y = rng.integers(0, 3, size=len(X))
    return X, y, rng.integers(0, 3, size=(25, 6)).astype(np.float32)


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
def test_sharded_search_equals_the_unsharded_one_tie_for_tie(client, ties, algorithm):
    """Exact ties across shards come out in training order, as the unsharded search gives them.

    (scikit-learn's brute search orders exact ties as its partition leaves them, so only its
    distances are compared here; its predictions are compared on MNIST below.) The pruned
    search filters every shard with one PCA of the whole training set.
    """
    X, y, Q = ties
    sharded = ShardedKNeighborsClassifier(n_neighbors=7, scheduler=client.scheduler.address,
                                          shard_bytes=X.nbytes // 5, algorithm=algorithm).fit(X, y)
    assert sharded.n_shards_ >= 5 and len(set(sharded.shard_workers_)) == 2
    whole = KNeighborsClassifier(n_neighbors=7).fit(X, y)
    for a, b in zip(sharded.kneighbors(Q), whole.kneighbors(Q)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(sharded.kneighbors(), whole.kneighbors()):  # leave-one-out, X=None
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(sharded.predict(Q), whole.predict(Q))
    sk = SkKNN(n_neighbors=7, algorithm="brute").fit(X, y)
    np.testing.assert_allclose(sharded.kneighbors(Q)[0], sk.kneighbors(Q)[0], rtol=1e-6)


def test_sharded_knn_predicts_as_scikit_learn_on_mnist(client, small):
    X, y = small
    sharded = ShardedKNeighborsClassifier(n_neighbors=4, weights="distance", scheduler=client.scheduler.address,
                                          shard_bytes=X.nbytes // 6).fit(X[:500], y[:500])
    sk = SkKNN(n_neighbors=4, weights="distance", algorithm="brute").fit(X[:500], y[:500])
    np.testing.assert_array_equal(sharded.kneighbors(X[500:])[1], sk.kneighbors(X[500:])[1])
    np.testing.assert_array_equal(sharded.predict(X[500:]), sk.predict(X[500:]))
    np.testing.assert_allclose(sharded.predict_proba(X[500:]), sk.predict_proba(X[500:]), atol=1e-6)


def test_sharded_knn_on_mnist_multilabel_and_clone(client, small):
    X, y = small
    Y = np.stack([y >= 7, y % 2 == 1], axis=1)
    sharded = ShardedKNeighborsClassifier(scheduler=client.scheduler.address, shard_bytes=X.nbytes // 4)
    copy = clone(sharded)  # an address, not a Client: clone-able
    assert copy.get_params()["scheduler"] == client.scheduler.address
    copy.fit(X[:500], Y[:500])
    np.testing.assert_array_equal(copy.predict(X[500:]), KNeighborsClassifier().fit(X[:500], Y[:500]).predict(X[500:]))
    assert copy.n_shards_ >= 4


def test_a_budget_smaller_than_the_training_set_shards_it(client, small):
    """The training set is 4x a shard's budget: no worker ever holds it whole."""
    X, y = small
    budget = X.nbytes // 4 + 1
    knn = ShardedKNeighborsClassifier(scheduler=client.scheduler.address, shard_bytes=budget).fit(X, y)
    sizes = [client.submit(lambda a: a.nbytes, f, pure=False).result() for _, f in knn._shards]
    assert max(sizes) <= budget and sum(sizes) == X.nbytes


# -- the whole run, and a worker killed mid-step -----------------------------------

def test_sample_run_on_a_local_cluster_gives_the_same_results_json(tmp_path, capsys):
    steps = "data,binary_cv,multilabel,best_accuracy"
    common = ["--data", "sample", "--backend", "numpy", "--train-size", 800, "--test-size", 200,
              "--steps", steps, "--quiet", "--no-report"]
    assert run_main(capsys, "run", *common, "--out", tmp_path / "one")[0] == 0
    code, err = run_main(capsys, "run", *common, "--cluster", "local", "--out", tmp_path / "two")
    assert code == 0, err
    one, two = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("one", "two"))
    assert one["steps"] == two["steps"] and one["cluster"] is None and two["cluster"]["workers"] >= 1


def _slow(unit):
    time.sleep(0.5)
    return unit * unit


def test_a_killed_worker_does_not_lose_the_step():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c, \
            distributed.Client(c) as cl:
        d = Dispatcher(cl)
        futures = [cl.submit(_slow, u, pure=False, retries=2) for u in range(8)]
        time.sleep(0.8)  # tasks are running on both workers
        victim = sorted(cl.scheduler_info()["workers"])[0]
        pid = cl.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)  # the worker process dies mid-task
        assert cl.gather(futures) == [u * u for u in range(8)]  # rescheduled on the survivor (and the restart)
        assert d.map(_slow, range(3)) == [0, 1, 4]


def test_a_cluster_that_cannot_finish_is_one_line():
    from distributed.scheduler import KilledWorker

    with pytest.raises(GpuclfError, match="the Dask cluster could not finish the work \\(KilledWorker: ") as info:
        with cluster_errors():
            raise KilledWorker("fold-2", SimpleNamespace(address="tcp://127.0.0.1:4000"), 3)
    assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match="ours"):  # gpuclf's own errors inside a task pass through
        with cluster_errors():
            raise ValueError("ours")


def test_local_cluster_on_the_gpu_backend_is_dask_cudas(monkeypatch):
    """--cluster local with the gpu backend asks dask-cuda for one worker per GPU (faked: no GPU here)."""
    from gpuclf.run.cluster import connect

    made = {}

    def local_cuda_cluster(**kwargs):
        made.update(kwargs)
        return distributed.LocalCluster(n_workers=1, processes=False, dashboard_address=None)

    monkeypatch.setitem(sys.modules, "dask_cuda", SimpleNamespace(LocalCUDACluster=local_cuda_cluster))
    with connect("local", "gpu") as client:
        assert len(client.scheduler_info()["workers"]) == 1
    assert made["dashboard_address"] is None
    monkeypatch.setitem(sys.modules, "dask_cuda", None)
    with pytest.raises(GpuclfError, match="needs dask-cuda"):
        with connect("local", "gpu"):
            pass


def test_bench_on_a_cluster_writes_its_own_column(tmp_path):
    """``gpuclf bench --cluster local`` (the suite with $GPUCLF_CLUSTER) labels its rows cpu@dask:<workers>."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = tmp_path / "benchmark-small-cpu-dask.json"
    env = {k: v for k, v in child_env().items() if k != "GPUCLF_MNIST"}  # not an xdist worker: timing on
    env.update(GPUCLF_CLUSTER="local", PYTHONPATH=repo)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "bench/test_bench_binary.py", "-k", "test_binary_sgd", "-p", "no:cacheprovider",
         "-o", "addopts=", "-q", "--bench-size", "small", "--bench-backends", "cpu", "--bench-rounds", "1",
         "--benchmark-json", str(out)], cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    labels = {b["extra_info"]["backend"] for b in doc["benchmarks"]}
    assert len(labels) == 1 and labels.pop().startswith("cpu@dask:")
    assert next(iter(doc["gpuclf"]["backends"].values()))["cluster"]["workers"] >= 1


def test_info_shows_the_clusters_workers(capsys, monkeypatch):
    from gpuclf import cli

    monkeypatch.setattr("gpuclf.run.cluster._local_cluster", lambda distributed, *a: distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None))
    assert cli.main(["info", "--cluster", "local"]) == 0
    line = next(li for li in capsys.readouterr().out.splitlines() if li.startswith("cluster"))
    assert "local: 2 workers, 2 threads" in line and "GPUs: none" in line


def test_a_local_cluster_takes_a_free_port_beside_another_cluster():
    """Another Dask cluster on this machine holds port 8787: ``--cluster local``'s scheduler (no dashboard,
    but health routes over HTTP) takes a free port without warning in the user's terminal."""
    import socket
    import warnings

    from gpuclf.run import cluster

    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8787))
        holder.listen()
    except OSError:  # already held: by another cluster, which is the case tested
        holder.close()
        holder = None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with cluster._local_cluster(distributed, "cpu", 1, False, None) as local:
                assert len(local.scheduler_info["workers"]) == 1
        assert not [w for w in caught if "8787" in str(w.message)]
    finally:
        if holder is not None:
            holder.close()
