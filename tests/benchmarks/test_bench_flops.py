"""FLOP counts of the GEMM-bound bench entries: against hand counts, and against the products the kernels multiply.

The hand counts are written out below for 300 training and 100 test rows of 784 pixels. The measured
counts come from emulated CuPy, which adds ``2 m k n`` for every matrix product the gpu backend's code
asks for (``tests/fake_cupy.py``): each entry's count must equal what its step really multiplies, less
the exact distances a KNN search computes after its distance GEMM (the model leaves them out, see
``gpuclf/benchmarks/flops.py``; each search records them).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold

import fake_cupy
from gpuclf.backends import get_backend
from gpuclf.benchmarks import flops, registry
from gpuclf.chapter import Context, RunConfig, STEPS

BENCH = Path(__file__).resolve().parents[2] / "bench"
N, M, D = 300, 100, 784
CONFIG = RunConfig(grid_train_size=N, n_estimators=5)
# The gpuclf SGD's epochs at 300 rows (kernels/linear.py): batches of ceil(300 / 64) = 5 rows, so 60 per
# epoch, and max(5 epochs, min(ceil(30,000 / 300) = 100 for 30,000 rows seen, ceil(4,000 / 60) = 67 for
# 4,000 updates)) = 67 epochs.
EPOCHS = 67
HAND = {
    # noisy test images x noisy training images: 2 * 100 * 784 * 300
    "denoise": 2 * M * D * N,
    # test images x the training images and their 4 shifts
    "augmentation": 2 * M * D * (5 * N),
    # the first digit against all 300, then KFold(3): 100 queries against 200 rows, three times
    "multilabel": 2 * 1 * D * N + 3 * (2 * 100 * D * 200),
    # the grid's 5 stratified folds of 60 against 240 (one search each), then 100 test rows against 300
    "best_accuracy": 5 * (2 * 60 * D * 240) + 2 * M * D * N,
    # one binary model: 2 GEMMs per batch = 4 * 300 * 784 per epoch; then 1 + 10 + 10 rows scored
    "binary_sgd": 4 * N * D * 1 * EPOCHS + 2 * 21 * D * 1,
    # 3 fold models trained on all rows at once (held-out rows masked), then all rows scored by each
    "binary_cv+metrics+tradeoff": 4 * N * D * 3 * EPOCHS + 2 * N * D * 3,
    # 10 one-vs-rest models on all rows, then the batched CV: 3 folds x 10 classes
    "multiclass:sgd_cv": 4 * N * D * 10 * EPOCHS + 4 * N * D * 30 * EPOCHS + 2 * N * D * 30,
    "multiclass:sgd_scaled_cv": 4 * N * D * 30 * EPOCHS + 2 * N * D * 30,
}
KNN = ("denoise", "augmentation", "multilabel", "best_accuracy")


def _bench_module(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed(step):
    """The callable the bench entry times (bench/test_bench_*.py)."""
    if step in STEPS:
        return STEPS[step]
    if step == "binary_cv+metrics+tradeoff":
        return _bench_module("test_bench_binary")._cv_metrics_tradeoff
    sgd = _bench_module("test_bench_multiclass_sgd")
    return {"multiclass:sgd_cv": sgd._sgd_cv, "multiclass:sgd_scaled_cv": sgd._sgd_scaled_cv}[step]


@pytest.fixture(scope="module")
def tiny(sample_mnist):
    return sample_mnist.subsample(N, M)


def test_every_gemm_bound_entry_has_a_hand_count():
    assert {e.step for e in registry.ENTRIES if e.flops is not None} == set(HAND)


def test_hand_counts_hold_for_the_folds_and_epochs_used(tiny):
    """The hand counts' premises: 5 stratified folds of 60 rows, 10 classes, 67 epochs."""
    from gpuclf.kernels.linear import epochs_to_run

    sizes = [len(test) for _, test in StratifiedKFold(5).split(np.zeros(N), tiny.y_train)]
    assert sizes == [60] * 5 and len(np.unique(tiny.y_train)) == 10
    assert epochs_to_run(N, 5, None, 512) == EPOCHS


@pytest.mark.parametrize("step", sorted(HAND))
def test_flops_match_hand_counts(step, tiny):
    ctx = Context(get_backend("numpy"), tiny, CONFIG)
    assert registry.entry_for(step).flops(ctx) == HAND[step]


@pytest.mark.parametrize("step", sorted(HAND))
def test_scikit_learn_does_the_same_distances_but_no_gemm_sgd(step, tiny):
    ctx = Context(get_backend("cpu"), tiny, CONFIG)
    assert registry.entry_for(step).flops(ctx) == (HAND[step] if step in KNN else None)


def test_flop_helpers():
    assert flops.gemm(2, 3, 4) == 48
    assert flops.knn_search(10, 1_000, 784) == 2 * 10 * 784 * 1_000
    assert flops.sgd_fit(1_000, 784, 30, 5) == 5 * (2 * 1_000 * 784 * 30) * 2
    assert flops.sgd_scores(1_000, 784, 30) == 2 * 1_000 * 784 * 30


@pytest.mark.parametrize("step", sorted(HAND))
def test_flops_equal_the_products_the_kernels_multiply(step, tiny):
    """Every product the device multiplies is counted, but the KNN searches' exact distances.

    Those (the seeds' and candidates' digit GEMMs, data-dependent and done by no other backend) are left
    out of the model (``gpuclf/benchmarks/flops.py``); each search records them, and what is left of the
    device's count is the distance GEMM, the brute filter, exactly.
    """
    from gpuclf.kernels.knn_cost import recording

    with fake_cupy.installed():
        ctx = Context(get_backend("gpu"), tiny, CONFIG)
        for key in ("X_train", "X_test", "y_train", "y_test", "y_train_positive"):
            getattr(ctx, key)
        fake_cupy.reset_stats()
        with recording() as searches:
            _timed(step)(ctx)
        measured = fake_cupy.stats["gemm_flops"]
    refine = 0
    assert bool(searches) == (step in KNN)
    if searches:
        # Brute force on exact pixels: its only other products are the exact distances' digit GEMMs, which
        # each search counts as it makes them (there are some: at least the seeds of every query).
        assert all(s.algorithm == "brute" and s.exact for s in searches)
        refine = sum(s.flops["refine"] for s in searches)
        assert refine > 0 and sum(s.flops["filter"] for s in searches) == measured - refine
    assert registry.entry_for(step).flops(ctx) == measured - refine == HAND[step]


def test_peak_measurements_run_on_numpy_and_on_emulated_cupy(monkeypatch):
    """The GEMM and copy of ``bench/test_bench_peak.py`` on both array libraries (sized down to stay quick)."""
    from gpuclf.benchmarks import peaks

    monkeypatch.setattr(peaks, "TARGET_SECONDS", 0.0)  # the smallest size is already long enough
    with fake_cupy.installed() as cp:
        backend = get_backend("gpu")
        for xp, sync in ((np, lambda: None), (cp, backend.synchronize)):
            n = peaks.gemm_size(xp, "float32", sync)
            a, b = peaks.gemm_operands(xp, n, "float32")
            assert n == peaks.GEMM_SIZES[0] and isinstance(a, xp.ndarray) and a.dtype == np.float32
            src = xp.ones(2**18, dtype=np.float32)
            assert peaks.copy_repeats(xp, src, xp.empty_like(src), sync) == 1
        assert peaks.array_library(backend) == "cupy" and peaks.compute_dtype(backend) == "float32"
        # The GPU copy fits in what the device can give: source and destination in half its budget.
        assert peaks.copy_bytes("cupy") == 2 * 2**30
        assert peaks.copy_bytes("cupy", 3 * 2**30) == 1536 * 2**20
        assert peaks.copy_bytes("cupy", backend.memory_budget()) * 2 <= backend.memory_budget()
    assert peaks.array_library(get_backend("cpu")) == "numpy" and peaks.compute_dtype(get_backend("cpu")) == "float64"
    assert any(lib["user_api"] == "blas" and lib["num_threads"] >= 1 for lib in peaks.blas_info())
