"""Useful GEMM FLOPs of the GEMM-bound steps, counted from rows, folds and epochs.

A product of an (m, k) by a (k, n) matrix is ``2 m k n`` FLOPs. Only the
matrix products count: the distance GEMM of a KNN search (``Q X^T``, the
brute filter of :mod:`gpuclf.kernels.pruned_neighbors`; the norms, clamping
and top-k are a few operations per pair, not per feature), and the two GEMMs
of every mini-batch of the batched SGD (``Xb @ W`` and ``Xb.T @ R``, so each
epoch is ``4 n d models`` FLOPs whatever the batch size), plus its scoring
(``X @ coef``). The counts are what gpuclf's kernels multiply
(``tests/benchmarks/test_bench_flops.py`` checks them against the products
emulated CuPy sees, and against hand counts), with one exception.

The exception: after its filter GEMM, gpuclf's exact search computes the
exact distances of a few rows per query (its ``k`` seeds, and the rare
candidates a rounding lets through) by small digit GEMMs, a block of 16 rows
a query times 2 base-64 digits on MNIST (:mod:`gpuclf.kernels.exact_distances`).
They are not counted: how many there are depends on the data, not on the
rows, folds and epochs; scikit-learn does none of them; and the report's
"GFLOP per round" is one figure per step that every backend's rate and % of
peak divide, so it is the work every backend does, the distance GEMM. What
they cost is time, like the top-k: it lowers the step's share of peak (against
60,000 rows they are under a 1,000th of the filter's FLOPs; against 300, a
tenth). Each search records them (:class:`gpuclf.kernels.knn_cost.SearchStats`
``flops["refine"]``), and the test takes those off what the device multiplied.
The bench suite's backends search by brute force, their default; ``gpuclf
bench --knn-search`` reports each search's own FLOPs, the pruned filter's too.

They are the step's *useful* work on every backend that does the same
products: scikit-learn's brute-force KNN computes the same distances (its
grid search once per setting, six times gpuclf's one search per fold, which
counts once here). scikit-learn's SGD updates per sample, with its own
epochs, and is not GEMM-bound: its steps get no count (None).

Each function takes the step's :class:`~gpuclf.chapter.Context` and returns
the FLOPs of one round, or None where they do not apply.
"""
from __future__ import annotations

import numpy as np

from ..kernels.folds import kfold_test_folds, stratified_kfold_test_folds
from ..kernels.linear import epochs_to_run


def gemm(m: int, k: int, n: int) -> int:
    """FLOPs of an (m, k) by (k, n) matrix product."""
    return 2 * m * k * n


def knn_search(n_query: int, n_train: int, d: int) -> int:
    """FLOPs of the distances of ``n_query`` rows to ``n_train`` rows of ``d`` features."""
    return gemm(n_query, d, n_train)


def sgd_fit(n: int, d: int, models: int, epochs: int) -> int:
    """FLOPs of training ``models`` linear models at once on ``n`` rows for ``epochs`` epochs."""
    return 2 * gemm(n, d, models) * epochs


def sgd_scores(n: int, d: int, models: int) -> int:
    """FLOPs of the decision scores of ``n`` rows under ``models`` models."""
    return gemm(n, d, models)


def _shape(ctx) -> tuple[int, int]:
    return len(ctx.data.y_train), int(ctx.data.X_train.shape[1])


def _fold_sizes(folds) -> list[int]:
    return np.bincount(np.asarray(folds)).tolist()


# -- KNN: the same distances on every backend ----------------------------------

def multilabel(ctx) -> int:
    """KNN on two labels: the first digit against all rows, then 3-fold CV (KFold)."""
    n, d = _shape(ctx)
    folds = _fold_sizes(kfold_test_folds(n, ctx.config.cv))
    return knn_search(1, n, d) + sum(knn_search(m, n - m, d) for m in folds)


def denoise(ctx) -> int:
    """Every noisy test image against every noisy training image."""
    n, d = _shape(ctx)
    return knn_search(len(ctx.data.y_test), n, d)


def best_accuracy(ctx) -> int:
    """One search per fold of the grid (the largest k serves every setting), then the test set."""
    n, d = _shape(ctx)
    g = min(ctx.config.grid_train_size, n)
    folds = _fold_sizes(stratified_kfold_test_folds(np.asarray(ctx.data.y_train[:g]), ctx.config.grid_cv))
    return sum(knn_search(m, g - m, d) for m in folds) + knn_search(len(ctx.data.y_test), n, d)


def augmentation(ctx) -> int:
    """The test set against the training set and its four one-pixel shifts."""
    from ..kernels.preprocessing import BOOK_SHIFTS

    n, d = _shape(ctx)
    return knn_search(len(ctx.data.y_test), (len(BOOK_SHIFTS) + 1) * n, d)


# -- batched SGD: gpuclf's kernels only ----------------------------------------

def _kernel_sgd(ctx):
    """The step's SGD and its epochs on the training rows, or None where scikit-learn's runs."""
    if ctx.backend.placement("sgd").library != "gpuclf":
        return None
    p = ctx.sgd().get_params()
    n = len(ctx.data.y_train)
    return epochs_to_run(n, p["max_iter"], p["tol"], p["batch_size"])


def _ovr_models(ctx) -> int:
    """Linear models of a 10-class fit: one per class (one for two classes)."""
    classes = len(np.unique(np.asarray(ctx.data.y_train)))
    return classes if classes > 2 else 1


def _batched_cv(n, d, models_per_fold, cv, epochs) -> int:
    """Every fold's models trained on all rows at once (held-out rows masked), then scored."""
    return sgd_fit(n, d, cv * models_per_fold, epochs) + sgd_scores(n, d, cv * models_per_fold)


def binary_sgd(ctx) -> int | None:
    """The 5-detector trained, then scored on the first digit and on the first ten (predict, scores)."""
    epochs = _kernel_sgd(ctx)
    if epochs is None:
        return None
    n, d = _shape(ctx)
    return sgd_fit(n, d, 1, epochs) + sgd_scores(1 + 10 + 10, d, 1)


def binary_cv(ctx) -> int | None:
    """The 5-detector's out-of-fold scores (the dummy baseline multiplies nothing)."""
    epochs = _kernel_sgd(ctx)
    if epochs is None:
        return None
    n, d = _shape(ctx)
    return _batched_cv(n, d, 1, ctx.config.cv, epochs)


def multiclass_sgd_cv(ctx) -> int | None:
    """The 10-class SGD trained on every row, then its 3-fold CV."""
    epochs = _kernel_sgd(ctx)
    if epochs is None:
        return None
    n, d = _shape(ctx)
    models = _ovr_models(ctx)
    return sgd_fit(n, d, models, epochs) + _batched_cv(n, d, models, ctx.config.cv, epochs)


def scaled_sgd_cv(ctx) -> int | None:
    """The 10-class SGD's 3-fold CV on standardised pixels (the scaler multiplies nothing)."""
    epochs = _kernel_sgd(ctx)
    if epochs is None:
        return None
    n, d = _shape(ctx)
    return _batched_cv(n, d, _ovr_models(ctx), ctx.config.cv, epochs)
