"""The GPU backend on CuPy: the same kernels as the numpy backend, on the device.

Every test here carries the ``gpu`` marker and skips without a usable CUDA
device (see conftest). Run on a GPU machine with ``python -m pytest -m gpu``.
"""
from __future__ import annotations

import numpy as np
import pytest

from gpuclf import RunConfig, get_backend, run_workflow

pytestmark = pytest.mark.gpu
ALL = ["data", "binary_sgd", "binary_cv", "binary_metrics", "binary_tradeoff", "binary_roc", "multiclass",
       "error_analysis", "multilabel", "denoise", "best_accuracy", "augmentation"]
SMALL = dict(n_estimators=10, svc_train_size=500, ovr_train_size=300, grid_train_size=2000)


@pytest.fixture(scope="module")
def both(sample_mnist, tmp_path_factory):
    data = sample_mnist
    return {name: run_workflow(get_backend(name), data, RunConfig(steps=ALL, **SMALL),
                               str(tmp_path_factory.mktemp(name)), progress=False).doc
            for name in ("numpy", "gpu")}


def test_data_stays_on_device(sample_mnist):
    import cupy

    from gpuclf.workflow import Context

    ctx = Context(get_backend("gpu"), sample_mnist, RunConfig())
    assert isinstance(ctx.X_train, cupy.ndarray) and ctx.X_train.dtype == cupy.float32
    assert ctx.X_train is ctx.X_train  # moved once, then reused


def test_whole_workflow_matches_numpy_backend(both):
    gpu, ref = both["gpu"]["steps"], both["numpy"]["steps"]
    assert list(gpu) == ALL
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


def test_report_says_where_steps_ran(both):
    placement = both["gpu"]["placement"]
    assert placement["binary_cv"]["sgd"] == {"device": "gpu", "library": "gpuclf", "note": ""}
    forest = placement["binary_roc"]["forest"]
    assert forest["library"] == "cuml" or "cuML is unavailable" in forest["note"]
    assert both["gpu"]["memory"]["multilabel"]["device_peak_bytes"] > 0


def test_capped_memory_pool_gives_identical_knn(sample_mnist):
    """A 64 MiB pool forces small chunks; predictions must not change."""
    import cupy

    pool = cupy.get_default_memory_pool()
    d = sample_mnist
    free = get_backend("gpu")
    want = free.to_host(free.estimator("knn", n_neighbors=4, weights="distance")
                        .fit(free.asarray(d.X_train, free.feature_dtype), free.asarray(d.y_train))
                        .predict(free.asarray(d.X_test, free.feature_dtype)))
    try:
        capped = get_backend("gpu", max_gpu_memory=64 * 2**20)
        got = capped.to_host(capped.estimator("knn", n_neighbors=4, weights="distance")
                             .fit(capped.asarray(d.X_train, capped.feature_dtype), capped.asarray(d.y_train))
                             .predict(capped.asarray(d.X_test, capped.feature_dtype)))
    finally:
        pool.set_limit(size=0)
    np.testing.assert_array_equal(got, want)


def test_kernels_match_numpy_on_device(sample_mnist):
    import cupy

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
