"""The chapter's four KNN steps give the same figures with every KNN search, on NumPy and on the emulated GPU.

multilabel (3-fold cross_val_predict, one PCA shared by the folds), denoise (784 pixel targets),
best_accuracy (the grid search's one search per fold, then the best on the test set) and
augmentation (five shifted copies): every figure equal, to the last digit, between brute force
and the pruned search, and against scikit-learn's (cpu) where the book's figures come from.
"""
from __future__ import annotations

import contextlib
import json

import pytest
from threadpoolctl import threadpool_limits

import fake_cupy
from gpuclf import RunConfig, get_backend, run_workflow
from gpuclf.kernels import pruned_neighbors as pn

STEPS = ["multilabel", "denoise", "best_accuracy", "augmentation"]


@pytest.fixture(scope="module")
def data(sample_mnist):
    return sample_mnist.subsample(1500, 300)


def run(data, folder, backend: str, search: str | None = None):
    emulated = backend == "emulated_gpu"
    with fake_cupy.installed() if emulated else contextlib.nullcontext(), threadpool_limits(1), \
            pn.recording() as log:
        doc = run_workflow(get_backend(backend.removeprefix("emulated_"), knn_search=search), data,
                           RunConfig(steps=STEPS, grid_train_size=600), str(folder), progress=False).doc
    figures = {step: doc["steps"][step] for step in STEPS}
    return json.loads(json.dumps(figures)), log


@pytest.fixture(scope="module")
def brute(data, tmp_path_factory):
    return run(data, tmp_path_factory.mktemp("brute"), "numpy", "brute")


def test_pruned_steps_equal_brute_and_prune(data, tmp_path, brute):
    figures, log = run(data, tmp_path, "numpy", "pruned")
    assert figures == brute[0]
    searches = [s for s in log if s.n_queries > 1]  # the multilabel step's one-digit prediction aside
    assert searches and all(s.algorithm == "pruned" for s in log)
    assert sum(s.candidates.sum() for s in searches) < 0.5 * sum(s.n_queries * s.n_train for s in searches)
    assert all(s.algorithm == "brute" for s in brute[1])


def test_scikit_learn_gives_the_same_figures(data, tmp_path, brute):
    """Exact distances on integer pixels: scikit-learn's neighbours, tie for tie, so its figures.

    The RMSEs are averaged in float64 there and in float32 here (the backends' feature dtypes): equal
    to 1e-7, where a single pixel denoised differently would move them by about 4e-6.
    """
    figures, _ = run(data, tmp_path, "cpu")
    ours = brute[0]
    for name in ("rmse_noisy", "rmse_denoised"):
        assert figures["denoise"].pop(name) == pytest.approx(ours["denoise"][name], rel=1e-7)
    assert figures == {**ours, "denoise": {}}


def test_emulated_gpu_with_the_pruned_search_gives_numpys_figures(data, tmp_path, brute):
    figures, log = run(data, tmp_path, "emulated_gpu", "pruned")
    assert figures == brute[0]
    assert log and all(s.algorithm == "pruned" for s in log)
