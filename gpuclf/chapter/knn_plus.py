"""Beyond the book: the chapter's KNN with deskewing, blur, PCA and shifted copies.

The book's exercises stop at 97.14% (grid search) and 97.63% (one-pixel
shifts). LeCun's MNIST page lists what preprocessing does for a KNN:
deskewing, blurring and shifts take it to about 98.7-98.8%. This step
builds that pipeline from gpuclf's kernels and lets cross-validation on the
training set choose it:

1. **Pixels**: each image is deskewed by its moments (optional) and blurred
   by a Gaussian (optional), :mod:`gpuclf.kernels.images`.
2. **Features**: a PCA fitted on the training images (within each fold
   during CV) projects every image, shifted or not, on a few dozen
   components (:mod:`gpuclf.kernels.pca`): distances cost ``2 d`` FLOPs a
   pair instead of 2 x 784.
3. **Augmentation**: the training images plus shifted copies (one of the
   nested sets of :mod:`gpuclf.kernels.shifted_neighbors`, up to two pixels
   each way), searched block by block, never materialised on the kernel
   backends.
4. **Vote**: ``n_neighbors`` and ``weights`` as scikit-learn's KNN.

What cross-validation covers: every preprocessing variant of
:data:`PREPROCESSING_GRID` x every shift set x ``n_neighbors`` in
:data:`K_GRID` x both weights, scored by stratified ``config.knn_plus_cv``-fold
CV on the first ``config.knn_plus_cv_rows`` training images (the PCA is
fitted on each fold's training part, the shifted copies are of that part
only). One search per variant and fold, for the largest shift set and
``K_MAX`` neighbours, serves every smaller set (prefixes) and every
``n_neighbors`` (columns). The best mean accuracy wins, the earlier
(cheaper) setting on ties. Then the chosen pipeline is fitted on the whole
training set and the test set is predicted once.

On the cpu backend the neighbours are scikit-learn's: its
``KNeighborsClassifier`` fitted on the materialised augmented features (the
same arrays the kernels search block by block), so the backends' predictions
can be compared one for one.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from gpuclf.chapter.preconditions import digits_per_fold, needs
from gpuclf.chapter.preconditions import neighbors as enough_neighbors
from gpuclf.kernels import neighbors
from gpuclf.kernels.images import deskew, gaussian_blur
from gpuclf.kernels.pca import pca_fit, pca_transform
from gpuclf.kernels.preprocessing import shift_images
from gpuclf.kernels.shifted_neighbors import (
    SHIFT_SETS,
    augment,
    augmented_kneighbors,
    iter_augmented_kneighbors,
    search_cost,
    shifts_of,
)

#: ``n_neighbors`` values cross-validated; one search for the largest serves all.
K_GRID = tuple(range(1, 9))
K_MAX = max(K_GRID)
WEIGHTS = neighbors.WEIGHTS


@dataclass(frozen=True)
class Preprocessing:
    """How images become features.

    Attributes
    ----------
    deskew : bool
        Deskew and centre each image by its moments.
    blur : float
        Gaussian blur's sigma in pixels (0: none).
    n_components : int
        PCA components kept.
    """

    deskew: bool
    blur: float
    n_components: int

    def label(self) -> str:
        parts = ["deskew" if self.deskew else "raw pixels"]
        if self.blur:
            parts.append(f"blur {self.blur:g} px")
        return " + ".join(parts + [f"PCA {self.n_components}"])


#: Preprocessing variants, in the order that wins ties: without and with deskewing,
#: then the PCA's size, then the blur (LeCun's 0.5-1 px).
PREPROCESSING_GRID = (
    Preprocessing(False, 0.0, 50),
    Preprocessing(True, 0.0, 30),
    Preprocessing(True, 0.0, 50),
    Preprocessing(True, 0.0, 80),
    Preprocessing(True, 0.5, 50),
    Preprocessing(True, 1.0, 50),
)


def unblurred(X, deskewed: bool, budget_bytes=None):
    """float32 images, deskewed when asked."""
    X = X.astype(np.float32, copy=False)
    return deskew(X, budget_bytes=budget_bytes) if deskewed else X


def pixels(X, pre: Preprocessing, budget_bytes=None):
    """float32 images after ``pre``'s deskew and blur (the PCA comes after shifting)."""
    X = unblurred(X, pre.deskew, budget_bytes)
    return gaussian_blur(X, pre.blur) if pre.blur else X


def _projection(train_pixels, pre: Preprocessing, budget_bytes=None):
    """The PCA fitted on ``train_pixels``, as a function from images to features."""
    n_components = min(pre.n_components, train_pixels.shape[1])
    mean, components, _ = pca_fit(train_pixels, n_components, budget_bytes=budget_bytes)
    return lambda images: pca_transform(images, mean, components)


class _Search:
    """Neighbours in an augmented training set: gpuclf's block-by-block kernel, or scikit-learn's KNN.

    ``cost`` adds up the searches' :func:`~gpuclf.kernels.shifted_neighbors.search_cost`.
    """

    def __init__(self, backend):
        self.backend = backend
        self.budget = backend.memory_budget()
        self.sklearn = backend.placement("knn").library == "scikit-learn"
        self.algorithm = getattr(backend, "knn_search", "auto")
        self.cost = {"pairs": 0, "flops": 0, "bytes": 0}

    def _count(self, query, n_rows: int, k: int) -> None:
        for key, value in search_cost(query.shape[0], n_rows, query.shape[1], k).items():
            self.cost[key] += value

    def _augmented(self, train_pixels, y, transform, shifts):
        """The materialised augmented features and labels (what scikit-learn is fitted on)."""
        return augment(train_pixels, shifts, transform, self.budget), self.backend.xp.concatenate([y] * len(shifts))

    def by_shift_set(self, train_pixels, y, query, transform, k: int, sets) -> dict:
        """``{set name: (distances, indices)}``: the ``k`` nearest augmented rows under each named set."""
        n = train_pixels.shape[0]
        names = {SHIFT_SETS[s]: s for s in sets}
        shifts = shifts_of(names[max(names)])
        self._count(query, n * len(shifts), k)
        if not self.sklearn:
            return {names[b]: (d, i) for b, d, i in iter_augmented_kneighbors(
                train_pixels, query, k, shifts, transform, self.budget, self.algorithm) if b in names}
        # Each named set is a prefix of the materialised rows.
        X, labels = self._augmented(train_pixels, y, transform, shifts)
        return {name: self.backend.estimator("knn", n_neighbors=k).fit(X[:b * n], labels[:b * n]).kneighbors(query)
                for b, name in names.items()}

    def predict(self, train_pixels, y, query, transform, shift_set: str, n_neighbors: int, weights: str):
        """Labels of ``query`` by the KNN on the augmented training set."""
        n, xp = train_pixels.shape[0], self.backend.xp
        shifts = shifts_of(shift_set)
        self._count(query, n * len(shifts), n_neighbors)
        if self.sklearn:
            knn = self.backend.estimator("knn", n_neighbors=n_neighbors, weights=weights)
            return knn.fit(*self._augmented(train_pixels, y, transform, shifts)).predict(query)
        classes, codes = xp.unique(y, return_inverse=True)
        distances, indices = augmented_kneighbors(train_pixels, query, n_neighbors, shifts, transform, self.budget,
                                                  self.algorithm)
        return classes[neighbors.vote(codes.reshape(-1)[indices % n], distances, len(classes), weights)]


def _fold_scores(search: _Search, X_pixels, codes, n_classes: int, folds, n_folds: int, pre: Preprocessing):
    """Accuracy per (shift set, n_neighbors, weights, fold) of one preprocessing variant."""
    xp = search.backend.xp
    scores = []
    for f in range(n_folds):
        train, test = xp.flatnonzero(folds != f), xp.flatnonzero(folds == f)
        X_train, y_train, y_test = X_pixels[train], codes[train], codes[test]
        transform = _projection(X_train, pre, search.budget)
        found = search.by_shift_set(X_train, y_train, transform(X_pixels[test]), transform, K_MAX, SHIFT_SETS)
        accuracies = []  # stay on the device: one transfer per fold, not one sync per setting
        for name in SHIFT_SETS:
            distances, indices = found[name]
            labels = y_train[indices % X_train.shape[0]]
            accuracies += [xp.mean(neighbors.vote(labels[:, :k], distances[:, :k], n_classes, weights) == y_test)
                           for k in K_GRID for weights in WEIGHTS]
        scores.append(search.backend.to_host(xp.stack(accuracies)))
    return np.stack(scores, axis=-1).reshape(len(SHIFT_SETS), len(K_GRID), len(WEIGHTS), n_folds)


def _cross_validate(ctx, search: _Search):
    """Mean CV accuracy of every setting on the first training rows.

    Returns
    -------
    chosen : dict
        The best setting: preprocessing fields, ``shifts``, ``n_neighbors``, ``weights``.
    grid : list of dict
        Every setting with its ``mean_cv_accuracy``.
    best_score : float
    n_rows : int
        Training rows cross-validated.
    """
    cfg, xp = ctx.config, ctx.backend.xp
    n = min(cfg.knn_plus_cv_rows, len(ctx.data.y_train))
    y = ctx.y_train[:n]
    folds = ctx.backend.test_folds(y, cfg.knn_plus_cv)
    classes, codes = xp.unique(y, return_inverse=True)
    base, means = {}, []
    for v, pre in enumerate(PREPROCESSING_GRID):
        ctx.progress(f"cross-validating {pre.label()} ({v + 1}/{len(PREPROCESSING_GRID)}), "
                     f"{cfg.knn_plus_cv} folds of {n:,} rows")
        if pre.deskew not in base:  # one deskew serves every blur
            base[pre.deskew] = unblurred(ctx.X_train[:n], pre.deskew, search.budget)
        X = gaussian_blur(base[pre.deskew], pre.blur) if pre.blur else base[pre.deskew]
        scores = _fold_scores(search, X, codes.reshape(-1), len(classes), folds, cfg.knn_plus_cv, pre)
        means.append(scores.mean(axis=-1))
    means = np.stack(means)  # (variant, shift set, n_neighbors, weights)
    best = tuple(int(i) for i in np.unravel_index(int(np.argmax(means)), means.shape))  # the first maximum
    grid = [{"preprocessing": asdict(pre), "shifts": name, "n_neighbors": k, "weights": weights,
             "mean_cv_accuracy": float(means[v, s, j, w])}
            for v, pre in enumerate(PREPROCESSING_GRID) for s, name in enumerate(SHIFT_SETS)
            for j, k in enumerate(K_GRID) for w, weights in enumerate(WEIGHTS)]
    v, s, j, w = best
    chosen = {**asdict(PREPROCESSING_GRID[v]), "shifts": list(SHIFT_SETS)[s], "n_neighbors": K_GRID[j],
              "weights": WEIGHTS[w]}
    return chosen, grid, float(means[best]), n


def _seconds(ctx, t0: float) -> float:
    ctx.backend.synchronize()
    return round(time.perf_counter() - t0, 3)


@needs(digits_per_fold("knn_plus_cv", rows_of="knn_plus_cv_rows"),
       enough_neighbors(K_MAX, folds_of="knn_plus_cv", rows_of="knn_plus_cv_rows"))
def step_knn_plus(ctx) -> dict:
    """Deskew, blur, PCA and shifted copies chosen by CV on the training set; test accuracy once."""
    from gpuclf.chapter.error_analysis import most_confused

    m = ctx.backend.metrics
    search = _Search(ctx.backend)
    t0 = time.perf_counter()
    chosen, grid, best_score, n_cv = _cross_validate(ctx, search)
    cost = {"cv_seconds": _seconds(ctx, t0), **{f"cv_{k}": v for k, v in search.cost.items()}}

    t0 = time.perf_counter()
    search = _Search(ctx.backend)
    pre = Preprocessing(chosen["deskew"], chosen["blur"], chosen["n_components"])
    shifts = shifts_of(chosen["shifts"])
    ctx.progress(f"{pre.label()}, {len(shifts)} shifted copies: predicting {len(ctx.data.y_test):,} test images")
    train, test = pixels(ctx.X_train, pre, search.budget), pixels(ctx.X_test, pre, search.budget)
    transform = _projection(train, pre, search.budget)
    pred = search.predict(train, ctx.y_train, transform(test), transform, chosen["shifts"], chosen["n_neighbors"],
                          chosen["weights"])
    cost.update(test_seconds=_seconds(ctx, t0), **{f"test_{k}": v for k, v in search.cost.items()})

    cm = ctx.host(m.confusion_matrix(ctx.y_test, pred)).astype(np.int64)
    rates, pairs = most_confused(cm)
    y_test, p_host = ctx.data.y_test, ctx.host(pred)
    wrong = np.flatnonzero(p_host != y_test)
    shown = wrong[:24]
    ctx.arrays.update(
        plus_originals=ctx.host(ctx.X_train[:8]), plus_deskewed=ctx.host(unblurred(ctx.X_train[:8], True)),
        plus_pixels=ctx.host(train[:8]),
        plus_shifted=np.concatenate([ctx.host(shift_images(train[:1], dx, dy)) for dx, dy in shifts]),
        plus_errors=ctx.host(ctx.X_test[ctx.backend.xp.asarray(shown)]), plus_error_true=y_test[shown],
        plus_error_pred=p_host[shown], plus_test_pred=p_host)
    return {
        "cv_rows": n_cv, "cv_folds": ctx.config.knn_plus_cv, "grid": grid, "chosen": chosen,
        "best_cv_score": best_score, "n_train_augmented": len(ctx.data.y_train) * len(shifts),
        "test_accuracy": float(m.accuracy_score(ctx.y_test, pred)), "n_test_errors": int(len(wrong)),
        "confusion_matrix": cm.tolist(), "error_rates": np.round(rates, 4).tolist(), "most_confused": pairs,
        "cost": cost,
    }
