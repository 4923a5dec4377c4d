"""The knn_plus step on the sample: the same figures on cpu (scikit-learn), numpy and the emulated gpu,
an independent rebuild of its predictions, its place among the steps, and its report section."""
from __future__ import annotations

import contextlib
import html
import json
import os

import numpy as np
import pytest
from scipy.ndimage import affine_transform, gaussian_filter, shift as scipy_shift
from matplotlib.image import imread
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

import fake_cupy
from gpuclf import RunConfig, get_backend, run_workflow
from gpuclf.chapter.knn_plus import K_GRID, PREPROCESSING_GRID
from gpuclf.kernels.shifted_neighbors import SHIFT_SETS, shifts_of
from gpuclf.report.sections import PLOTS
from gpuclf.report import build_report
from gpuclf.report.document import FIGURES_DIR
from gpuclf.report.words import TITLES
from gpuclf.run.store import load_arrays
from gpuclf.chapter import OPTIONAL_STEPS, STEPS, select_steps

from test_kernels_images import reference_moments

CONFIG = dict(knn_plus_cv_rows=450)


@pytest.fixture(scope="module")
def data(sample_mnist):
    return sample_mnist.subsample(900, 200)


@pytest.fixture(scope="module")
def runs(data, tmp_path_factory):
    """``runs[name]``: results.json and output folder of the step on a backend, run once per module.

    ``emulated_gpu`` is the gpu backend on the emulated CuPy; ``gpu`` on a CUDA device; a suffix
    ``_pruned`` searches with the pruned filter (``knn_search="pruned"``).
    """
    class Runs(dict):
        def __missing__(self, name):
            folder = tmp_path_factory.mktemp(name)
            backend, _, search = name.removeprefix("emulated_").partition("_")
            # One thread (BLAS, OpenMP): the problems are small, and threads only wait for each other on a busy machine.
            with fake_cupy.installed() if name.startswith("emulated_") else contextlib.nullcontext(), \
                    threadpool_limits(1):
                doc = run_workflow(get_backend(backend, knn_search=search or None), data,
                                   RunConfig(steps=["knn_plus"], **CONFIG), str(folder), progress=False).doc
            self[name] = (json.loads(json.dumps(doc)), str(folder))
            return self[name]

    return Runs()


def _figures(doc: dict) -> dict:
    """The step's figures less its measured seconds."""
    figures = dict(doc["steps"]["knn_plus"])
    figures["cost"] = {k: v for k, v in figures["cost"].items() if not k.endswith("_seconds")}
    return figures


@pytest.mark.parametrize("backend", ["cpu", "emulated_gpu"])
def test_backends_give_the_numpy_backends_figures(runs, backend):
    """scikit-learn's KNN (cpu) and the emulated CuPy (gpu) on the same preprocessed arrays: every figure equal."""
    assert _figures(runs[backend][0]) == _figures(runs["numpy"][0])
    assert runs[backend][0]["placement"]["knn_plus"]["knn"]["library"] == \
        ("scikit-learn" if backend == "cpu" else "gpuclf")
    ours, theirs = load_arrays(runs["numpy"][1], "knn_plus"), load_arrays(runs[backend][1], "knn_plus")
    np.testing.assert_array_equal(ours["plus_error_pred"], theirs["plus_error_pred"])


def test_the_pruned_search_gives_the_same_figures(runs):
    """Every shift block filtered by one PCA of the first block's features: the same 480 CV scores and predictions."""
    assert _figures(runs["numpy_pruned"][0]) == _figures(runs["numpy"][0])
    ours, theirs = load_arrays(runs["numpy"][1], "knn_plus"), load_arrays(runs["numpy_pruned"][1], "knn_plus")
    np.testing.assert_array_equal(ours["plus_test_pred"], theirs["plus_test_pred"])


@pytest.mark.gpu
def test_cuda_agrees_with_numpy(runs):
    """On a CUDA device float32 GEMMs round differently: the same test predictions but for near ties."""
    gpu, ref = runs["gpu"][0]["steps"]["knn_plus"], runs["numpy"][0]["steps"]["knn_plus"]
    assert gpu["test_accuracy"] == pytest.approx(ref["test_accuracy"], abs=0.005)
    assert gpu["best_cv_score"] == pytest.approx(ref["best_cv_score"], abs=0.005)
    pred = [load_arrays(runs[name][1], "knn_plus")["plus_test_pred"] for name in ("gpu", "numpy")]
    assert np.mean(pred[0] == pred[1]) >= 0.99


def test_warm_up_leaves_nothing_to_compile_in_the_step(sample_mnist, tmp_path, monkeypatch):
    """The gpu backend's warm-up (400 sample rows) compiles every kernel signature the timed step uses."""
    import gpuclf.chapter as chapter

    seen = []

    def counting(ctx):
        before = set(fake_cupy.stats["kernels"])
        out = step(ctx)
        seen.append(fake_cupy.stats["kernels"] - before)  # the last call is the timed one
        return out

    step = chapter.STEPS["knn_plus"]
    monkeypatch.setitem(chapter.STEPS, "knn_plus", counting)
    with fake_cupy.installed(), threadpool_limits(1):
        doc = run_workflow(get_backend("gpu"), sample_mnist.subsample(600, 100), RunConfig(steps=["knn_plus"],
                           knn_plus_cv_rows=300), str(tmp_path), progress=False).doc
    assert doc["warmup"]["steps"] == ["knn_plus"] and len(seen) == 2
    assert seen[0] and not seen[1], seen[1]


def test_the_choice_is_the_cross_validation_maximum(runs):
    f = runs["numpy"][0]["steps"]["knn_plus"]
    grid = f["grid"]
    assert len(grid) == len(PREPROCESSING_GRID) * len(SHIFT_SETS) * len(K_GRID) * 2
    best = max(grid, key=lambda g: g["mean_cv_accuracy"])  # the first maximum, as the step breaks ties
    assert f["best_cv_score"] == best["mean_cv_accuracy"]
    assert f["chosen"] == {**best["preprocessing"], "shifts": best["shifts"], "n_neighbors": best["n_neighbors"],
                           "weights": best["weights"]}
    assert f["cv_rows"] == 450 and f["cv_folds"] == 3
    # Deskewing is what helps most: the best deskewed setting beats the best on raw pixels.
    raw = max(g["mean_cv_accuracy"] for g in grid if not g["preprocessing"]["deskew"])
    assert f["best_cv_score"] > raw
    assert f["n_train_augmented"] == 900 * SHIFT_SETS[f["chosen"]["shifts"]]


def _reference_pixels(X, deskew: bool, blur: float):
    """The step's pixels by scipy, one image at a time: affine_transform from the moments, gaussian_filter."""
    out = []
    for x in X.astype(np.float64):
        image = x.reshape(28, 28)
        if deskew:
            mr, mc, alpha = reference_moments(image)
            affine = np.array([[1.0, 0.0], [alpha, 1.0]])
            image = affine_transform(image, affine, offset=np.array([mr, mc]) - affine @ np.array([14.0, 14.0]),
                                     order=1, mode="grid-constant")
        if blur:
            image = gaussian_filter(image, blur, mode="constant")
        out.append(image.ravel())
    return np.array(out)


def test_test_predictions_rebuilt_from_scipy_and_scikit_learn(runs, data):
    """The chosen pipeline rebuilt without gpuclf's kernels: scipy's deskew, blur and shifts, scikit-learn's PCA
    and KNN."""
    f = runs["numpy"][0]["steps"]["knn_plus"]
    chosen = f["chosen"]
    train, test = (_reference_pixels(X, chosen["deskew"], chosen["blur"]) for X in (data.X_train, data.X_test))
    pca = PCA(chosen["n_components"], svd_solver="full").fit(train)
    shifted = [np.array([scipy_shift(x.reshape(28, 28), [dy, dx], order=1, mode="constant").ravel() for x in train])
               for dx, dy in shifts_of(chosen["shifts"])]
    knn = KNeighborsClassifier(chosen["n_neighbors"], weights=chosen["weights"])
    knn.fit(pca.transform(np.vstack(shifted)), np.tile(data.y_train, len(shifted)))
    pred = knn.predict(pca.transform(test))
    step_pred = load_arrays(runs["numpy"][1], "knn_plus")["plus_test_pred"]
    # float64 here, float32 in the step: a near tie may go the other way, no more.
    assert np.count_nonzero(pred != step_pred) <= 1
    cm = np.asarray(f["confusion_matrix"])
    assert cm.sum() == 200 and np.trace(cm) == np.count_nonzero(step_pred == data.y_test) == 200 - f["n_test_errors"]
    assert f["test_accuracy"] == np.mean(step_pred == data.y_test)


def test_optional_step_is_not_in_the_default_run():
    assert OPTIONAL_STEPS == ("knn_plus",) and "knn_plus" in STEPS
    assert "knn_plus" not in select_steps(None)
    assert select_steps(["augmentation", "knn_plus", "data"]) == ["data", "augmentation", "knn_plus"]


def test_report_has_the_beyond_the_book_section(runs):
    doc, folder = runs["numpy"]
    page = open(build_report(folder), encoding="utf-8").read()
    f = doc["steps"]["knn_plus"]
    assert f"<h2 id='knn_plus'>{TITLES['knn_plus']}</h2>" in page and "Beyond the book" in TITLES["knn_plus"]
    assert f"Test accuracy <b>{100 * f['test_accuracy']:.2f}%</b> ({f['n_test_errors']} errors in 200 test" in page
    assert "The book (full MNIST): KNN grid search</td><td>97.14%" in page
    assert "Most confused pairs on the test set" in page and "One H200 (model)" in page
    plots = [p for p in PLOTS if p.step == "knn_plus"]
    assert {p.name for p in plots} == {"knn_plus_confusion.png", "knn_plus_digits.png", "knn_plus_errors.png"}
    for plot in plots:
        img = imread(os.path.join(folder, FIGURES_DIR, plot.name))
        assert 300 <= img.shape[0] <= 2000 and 400 <= img.shape[1] <= 1320, (plot.name, img.shape)
        assert np.ptp(img[..., :3]) > 0.5, plot.name
        alt = plot.alt(load_arrays(folder, "knn_plus"), doc["steps"], doc)
        assert len(alt) > 60 and f'alt="{html.escape(alt)}"' in page
