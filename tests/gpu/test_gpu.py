"""The GPU backend's own code: on a CUDA device, and on an emulated CuPy without one.

Each test runs twice:

- ``cuda``: real CuPy on a CUDA device. These carry the ``gpu`` marker and
  skip without one (see conftest); run them on a GPU machine with
  ``python -m pytest -m gpu``. Float32 GEMMs round differently there, so
  SGD figures are compared with a tolerance.
- ``emulated``: ``tests/fake_cupy.py``, CuPy's behaviour at the host/device
  boundary on NumPy arithmetic. It runs on CPU-only CI and catches what
  breaks only when arrays are CuPy arrays (implicit host conversion, NumPy
  arrays mixed in, 0-d results used as indices, the memory pool); its
  figures must equal the ``numpy`` backend's exactly.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

import fake_cupy
from gpuclf import RunConfig, get_backend, run_workflow

ALL = ["data", "binary_sgd", "binary_cv", "binary_metrics", "binary_tradeoff", "binary_roc", "multiclass",
       "error_analysis", "multilabel", "denoise", "best_accuracy", "augmentation"]
SMALL = dict(n_estimators=10, svc_train_size=500, ovr_train_size=300, grid_train_size=2000)


@pytest.fixture(scope="module", params=[pytest.param("cuda", marks=pytest.mark.gpu), "emulated"])
def cupy(request):
    """The CuPy module the gpu backend will import: real, or the emulation."""
    if request.param == "cuda":
        import cupy

        yield cupy
    else:
        with fake_cupy.installed() as module:
            yield module


def emulated(cupy) -> bool:
    return cupy is fake_cupy._module


@pytest.fixture(scope="module")
def both(cupy, sample_mnist, tmp_path_factory):
    return {name: run_workflow(get_backend(name), sample_mnist, RunConfig(steps=ALL, **SMALL),
                               str(tmp_path_factory.mktemp(name)), progress=False).doc
            for name in ("numpy", "gpu")}


def without_placement(steps: dict) -> dict:
    """Step figures, less the notes on where forest and SVC ran (they name the backend)."""
    return {step: {k: v for k, v in figures.items() if not k.startswith("placement_")}
            for step, figures in steps.items()}


def test_data_stays_on_device(cupy, sample_mnist):
    from gpuclf.chapter import Context

    ctx = Context(get_backend("gpu"), sample_mnist, RunConfig())
    assert isinstance(ctx.X_train, cupy.ndarray) and ctx.X_train.dtype == np.float32
    assert ctx.X_train is ctx.X_train  # moved once, then reused


def test_auto_picks_the_gpu(cupy, monkeypatch):
    from gpuclf.backends import resolve_backend_name

    monkeypatch.delenv("GPUCLF_BACKEND", raising=False)
    name, why = resolve_backend_name("auto")
    assert name == "gpu" and "CUDA device" in why


def test_whole_workflow_matches_numpy_backend(cupy, both):
    gpu, ref = both["gpu"]["steps"], both["numpy"]["steps"]
    assert list(gpu) == ALL
    if emulated(cupy):
        assert without_placement(gpu) == without_placement(ref)
        return
    assert gpu["binary_cv"]["dummy_cv_accuracy"] == ref["binary_cv"]["dummy_cv_accuracy"]
    # float32 GEMMs round differently on the GPU: SGD figures agree closely, not bitwise.
    np.testing.assert_allclose(gpu["binary_cv"]["sgd_cv_accuracy"], ref["binary_cv"]["sgd_cv_accuracy"], atol=0.005)
    assert gpu["binary_roc"]["sgd_auc"] == pytest.approx(ref["binary_roc"]["sgd_auc"], abs=0.005)
    np.testing.assert_allclose(gpu["multiclass"]["sgd_scaled_cv_accuracy"],
                               ref["multiclass"]["sgd_scaled_cv_accuracy"], atol=0.005)
    for key in ("f1_macro", "f1_weighted"):
        assert gpu["multilabel"][key] == pytest.approx(ref["multilabel"][key], abs=0.002)
    assert gpu["best_accuracy"]["best_params"] == ref["best_accuracy"]["best_params"]
    assert gpu["denoise"]["rmse_denoised"] == pytest.approx(ref["denoise"]["rmse_denoised"], rel=0.01)
    assert gpu["augmentation"]["test_accuracy"] == pytest.approx(ref["augmentation"]["test_accuracy"], abs=0.002)


def test_results_are_plain_json(both):
    """Device scalars must not leak into results.json (CuPy reductions are 0-d arrays)."""
    doc = both["gpu"]
    assert json.loads(json.dumps(doc)) == doc


def test_report_says_where_steps_ran(both):
    placement = both["gpu"]["placement"]
    assert placement["binary_cv"]["sgd"] == {"device": "gpu", "library": "gpuclf", "note": ""}
    forest = placement["binary_roc"]["forest"]
    assert forest["library"] == "cuml" or "cuML is unavailable" in forest["note"]
    memory = both["gpu"]["memory"]
    assert memory["multilabel"]["device_peak_bytes"] > 0
    # KNN on 4,000 x 784 float32 holds at least the training set on the device.
    assert memory["multilabel"]["device_peak_bytes"] >= 4000 * 784 * 4


def test_capped_memory_pool_gives_identical_knn(cupy, sample_mnist, monkeypatch):
    """A 64 MiB pool cannot hold the training set's 4,000 x 4,000 float32 distances (61 MiB) beside it:
    the search must run in chunks within the cap, and predictions must not change."""
    from gpuclf.kernels import topk

    pool = cupy.get_default_memory_pool()
    d = sample_mnist
    n = len(d.y_train)
    chunks = []
    real = topk.seeds
    monkeypatch.setattr(topk, "seeds", lambda d2, k, *args: chunks.append(d2.shape[0]) or real(d2, k, *args))

    def predict_train(backend):
        X = backend.asarray(d.X_train, backend.feature_dtype)
        knn = backend.estimator("knn", n_neighbors=4, weights="distance").fit(X, backend.asarray(d.y_train))
        return backend.to_host(knn.predict(X))  # n queries against n rows

    free = get_backend("gpu")
    want = predict_train(free)
    assert chunks == [n]  # without a cap the distances fit in one chunk
    chunks.clear()
    try:
        capped = get_backend("gpu", max_gpu_memory=64 * 2**20)
        assert capped.memory_budget() <= 32 * 2**20 < free.memory_budget()
        got = predict_train(capped)
    finally:
        pool.set_limit(size=0)
    assert len(chunks) > 1 and sum(chunks) == n
    assert max(chunks) * n * 4 <= 32 * 2**20  # each chunk's float32 distances within the budget
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("data, algorithm, budget_mib", [
    ("pixels", "brute", 4), ("pixels", "brute", 16), ("pixels", "pruned", 16), ("pixels", "pruned", 26),
    ("noisy", "pruned", 16), ("noisy", "pruned", 26)])
def test_knn_search_keeps_within_its_budget(cupy, sample_mnist, data, algorithm, budget_mib):
    """All a search adds to the device beyond the training rows and queries fits the budget it is given: the
    index's arrays (norms, the filters, the compact copy), the PCA, the outputs, the chunks and the exact
    distances' batches, and after a switch to the brute filter (``noisy``: the book's denoising) its arrays too.
    A capped pool relies on it (the test above): the backend's budget is half of what the cap leaves."""
    if not emulated(cupy):
        pytest.skip("CuPy's pool rounds and bins its blocks: its total bounds the peak, it is not the peak")
    from gpuclf.kernels import neighbors as nb
    from gpuclf.kernels import pruned_neighbors as pn

    pool = cupy.get_default_memory_pool()
    X, Q = sample_mnist.X_train.astype(np.float32), sample_mnist.X_test.astype(np.float32)
    if data == "noisy":
        rng = np.random.default_rng(0)
        X, Q = X + rng.integers(0, 100, X.shape), Q + rng.integers(0, 100, Q.shape)
    X, Q = cupy.asarray(X, dtype=np.float32), cupy.asarray(Q, dtype=np.float32)
    budget = budget_mib * 2**20
    pool.free_all_blocks()  # from here the pool's size is its high-water mark
    start = pool.used_bytes()
    with pn.recording() as log:
        got = nb.kneighbors(X, Q, 4, budget_bytes=budget, algorithm=algorithm)
    assert pool.total_bytes() - start <= budget, f"{(pool.total_bytes() - start) / budget:.2f} x the budget"
    assert log[0].switched_queries == (len(Q) if data == "noisy" and algorithm == "pruned" else 0)
    want = nb.kneighbors(cupy.asnumpy(X), cupy.asnumpy(Q), 4)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(cupy.asnumpy(a), b)


def test_kernels_match_numpy_on_device(cupy, sample_mnist):
    from gpuclf.kernels import folds, metrics

    y = sample_mnist.y_train
    np.testing.assert_array_equal(cupy.asnumpy(folds.stratified_kfold_test_folds(cupy.asarray(y), 3)),
                                  folds.stratified_kfold_test_folds(y, 3))
    scores = np.random.default_rng(0).integers(0, 50, len(y)).astype(np.float32)
    truth = y == 5
    for a, b in zip(metrics.roc_curve(cupy.asarray(truth), cupy.asarray(scores)), metrics.roc_curve(truth, scores)):
        np.testing.assert_allclose(cupy.asnumpy(a), b)
    assert metrics.roc_auc_score(cupy.asarray(truth), cupy.asarray(scores)) == pytest.approx(
        metrics.roc_auc_score(truth, scores))


def test_cli_run_on_gpu_writes_report(cupy, tmp_path, capsys):
    from gpuclf.cli import main

    out = tmp_path / "run"
    code = main(["run", "--backend", "gpu", "--data", "sample", "--steps", "data,binary_sgd,binary_cv,denoise",
                 "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    doc = json.loads((out / "results.json").read_text())
    assert doc["backend"] == "gpu" and list(doc["steps"]) == ["data", "binary_sgd", "binary_cv", "denoise"]
    assert (out / "report.html").is_file()


class TestEmulation:
    """The emulation must refuse what CuPy refuses, or the tests above prove nothing."""

    def test_refuses_implicit_host_conversion(self):
        with fake_cupy.installed() as cp:
            a = cp.asarray(np.arange(6.0))
            with pytest.raises(TypeError, match="Implicit conversion"):
                np.asarray(a)
            with pytest.raises(TypeError, match="Unsupported type"):
                a + np.ones(6)
            with pytest.raises(TypeError):
                range(cp.sum(a.astype(np.int64)))
            assert type(cp.sum(a)) is cp.ndarray and float(cp.sum(a)) == 15.0
            np.testing.assert_array_equal(a.get(), np.arange(6.0))

    def test_pool_counts_live_arrays_and_enforces_its_limit(self):
        with fake_cupy.installed() as cp:
            pool = cp.get_default_memory_pool()
            before = pool.used_bytes()
            a = cp.zeros(1000, dtype=np.float64)
            assert pool.used_bytes() - before == 8000
            del a
            assert pool.used_bytes() == before and pool.total_bytes() >= before + 8000
            pool.set_limit(size=before + 4000)
            with pytest.raises(MemoryError):
                cp.zeros(1000, dtype=np.float64)
