"""Every kernel on device arrays: the emulated CuPy's result equals NumPy's, and stays on the device.

The kernels are written once against ``xp``; which module ``xp`` is comes
from the arrays (``get_namespace``). A kernel that picked NumPy for CuPy
input would hand device arrays to NumPy, which CuPy refuses
(``tests/fake_cupy.py`` refuses it too), or would return host arrays where
the next step expects device ones. Each case here runs one kernel on NumPy
and on the emulated CuPy and compares.
"""
from __future__ import annotations

import numpy as np
import pytest

import fake_cupy
from gpuclf.kernels import (folds, images, knn_merge, linear, metrics, neighbors, pca, preprocessing, scoring,
                            shifted_neighbors)


def _data():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 4, size=(60, 784)).astype(np.float64)
    y = np.arange(60) % 3
    scores = np.round(rng.normal(size=60), 1) + (y == 1)
    return X, y, scores


def _cases():
    X, y, scores = _data()
    y1 = y == 1
    pred = np.where(np.arange(60) % 5 == 0, (y + 1) % 3, y)
    d = np.abs(np.round(np.random.default_rng(1).normal(size=(60, 4)), 1)) + 0.1
    d[:, 0] = 0.0  # exact matches: distance weights' special case
    labels = np.random.default_rng(2).integers(0, 3, size=(60, 4))
    coef, intercept = np.linspace(-1, 1, 3 * 784).reshape(784, 3) / 784, np.array([0.1, -0.2, 0.3])
    mean, scale = preprocessing.standard_scaler_fit(X)
    return {
        "stratified_folds": (folds.stratified_kfold_test_folds, (y, 3), {}),
        "folds_to_indices": (folds.folds_to_indices, (np.arange(60) % 3,), {}),
        "merge_topk": (lambda d1, d2, i1, i2, k, ex: knn_merge.merge_topk([d1, d2], [i1, i2], k, exclude=ex),
                       (d[:, :2], d[:, 2:], labels[:, :2], labels[:, 2:] + 3, 3, np.arange(60) % 6), {}),
        "decision_function": (linear.decision_function, (X, coef, intercept), {}),
        "binary_clf_curve": (metrics.binary_clf_curve, (y1, scores), {}),
        "precision_recall_curve": (metrics.precision_recall_curve, (y1, scores), {}),
        "roc_curve": (metrics.roc_curve, (y1, scores), {}),
        "roc_auc_score": (metrics.roc_auc_score, (y1, scores), {}),
        "confusion_matrix": (metrics.confusion_matrix, (y, pred), {}),
        "accuracy_score": (metrics.accuracy_score, (y, pred), {}),
        "precision_score": (metrics.precision_score, (y1, pred == 1), {}),
        "recall_score": (metrics.recall_score, (y1, pred == 1), {}),
        "f1_score": (metrics.f1_score, (y1, pred == 1), {}),
        "f1_multilabel": (metrics.f1_score, (np.c_[y1, y == 2], np.c_[pred == 1, pred == 2]), {"average": "macro"}),
        "threshold_for_precision": (metrics.threshold_for_precision, (y1, scores, 0.5), {}),
        "kneighbors": (neighbors.kneighbors, (X[:40], X[40:], 3), {}),
        "kneighbors_loo": (neighbors.kneighbors, (X[:40], X[:40], 3), {"exclude_self": True}),
        "kneighbors_partition": (neighbors.kneighbors, (X[:40], X[40:], 20), {}),  # argpartition + tie repair
        "kneighbors_chunked": (neighbors.kneighbors, (X[:40], X[40:], 3), {"budget_bytes": 4 * 40 * 8 * 3}),
        "uniform_weights": (neighbors.neighbor_weights, (d,), {"weights": "uniform"}),
        "distance_weights": (neighbors.neighbor_weights, (d,), {"weights": "distance"}),
        "vote": (neighbors.vote, (labels, d, 3), {"weights": "distance"}),
        "vote_proba": (neighbors.vote_proba, (labels, d, 3), {"weights": "distance"}),
        "neighbor_mode": (neighbors.neighbor_mode, (np.stack([labels, labels % 2], axis=2),), {}),
        "neighbor_mode_weighted": (neighbors.neighbor_mode, (np.stack([labels, labels % 2], axis=2),),
                                   {"weights": 1 / (d + 1)}),
        "encode_columns": (neighbors.encode_columns, (np.c_[y * 7, y % 2],), {}),
        "standard_scaler_fit": (preprocessing.standard_scaler_fit, (X,), {}),
        "standard_scale": (preprocessing.standard_scale, (X.astype(np.float32), mean, scale), {}),
        "shift_images": (preprocessing.shift_images, (X, 1, -1), {}),
        "augment_with_shifts": (preprocessing.augment_with_shifts, (X[:5], y[:5]), {}),
        "fold_accuracy": (scoring.fold_accuracy, (pred, y, np.arange(60) % 3, 3), {}),
        "image_moments": (images.image_moments, (X,), {}),
        "deskew": (images.deskew, (X.astype(np.float32),), {}),
        "deskew_chunked": (images.deskew, (X,), {"budget_bytes": 784 * 40 * 7}),
        "gaussian_blur": (images.gaussian_blur, (X.astype(np.float32), 0.8), {}),
        "pca_fit": (pca.pca_fit, (X, 5), {"budget_bytes": 784 * 8 * 25}),
        "pca_transform": (pca.pca_transform, (X, X.mean(axis=0), np.eye(784)[:4]), {}),
        "augment": (shifted_neighbors.augment, (X[:5], shifted_neighbors.shifts_of("2px")), {}),
        "augmented_kneighbors": (lambda A, Q, k: shifted_neighbors.augmented_kneighbors(
            A, Q, k, shifted_neighbors.shifts_of("1px"), lambda Z: Z[:, ::7], budget_bytes=40 * 112 * 9),
            (X[:40], X[40:, ::7], 4), {}),
    }


#: Kernels whose result is documented to come back to the host (small per-fold figures).
ON_HOST = {"fold_accuracy"}


def _flatten(result):
    if isinstance(result, (tuple, list)):
        return [leaf for part in result for leaf in _flatten(part)]
    return [result]


@pytest.mark.parametrize("name", sorted(_cases()))
def test_kernel_on_device_equals_numpy(name):
    func, args, kwargs = _cases()[name]
    expected = _flatten(func(*args, **kwargs))
    with fake_cupy.installed() as cp:
        on_device = [cp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
        device_kwargs = {k: cp.asarray(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        got = _flatten(func(*on_device, **device_kwargs))
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            if isinstance(e, np.ndarray) and name in ON_HOST:
                assert type(g) is np.ndarray
            elif isinstance(e, np.ndarray):
                assert isinstance(g, cp.ndarray), f"{name} returned {type(g).__name__}, not a device array"
                g = g.get()
                assert g.dtype == e.dtype
            elif isinstance(g, cp.ndarray):
                g = g.get()[()]
            np.testing.assert_array_equal(g, e)


def test_kfold_folds_in_the_namespace_asked():
    with fake_cupy.installed() as cp:
        got = folds.kfold_test_folds(10, 3, xp=cp)
        assert isinstance(got, cp.ndarray) and got.dtype == np.int64
        np.testing.assert_array_equal(got.get(), [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    assert folds.kfold_test_folds(7).tolist() == [0, 0, 0, 1, 1, 2, 2]  # three folds by default, like KFold
    assert folds.kfold_test_folds(7).dtype == np.int64
