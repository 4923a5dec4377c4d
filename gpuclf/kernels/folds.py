"""Cross-validation fold assignment identical to scikit-learn's unshuffled splitters.

Folds are a few integer operations on the labels, so they are computed on the
host with NumPy and returned in the namespace of the input (NumPy or CuPy);
what matters is that every sample lands in the same fold as with
``StratifiedKFold`` / ``KFold``, so CPU and GPU scores are comparable fold by fold.
"""
from __future__ import annotations

import numbers

import numpy as np

from gpuclf.errors import GpuclfError
from gpuclf.xp import get_namespace, to_host


def _check_n_splits(n_splits, n_samples: int) -> None:
    if not isinstance(n_splits, numbers.Integral) or n_splits < 2:
        raise GpuclfError(
            f"n_splits must be an integer of at least 2, got {n_splits!r}; "
            "use n_splits=3 (the chapter's choice) or more"
        )
    if n_samples < n_splits:
        raise GpuclfError(
            f"cannot split {n_samples} samples into n_splits={n_splits} folds; "
            f"use n_splits <= {n_samples} or more samples"
        )


def stratified_kfold_test_folds(y, n_splits: int = 3):
    """Test-fold id of each sample, as ``StratifiedKFold(n_splits)`` without shuffling.

    Parameters
    ----------
    y : array of shape (n_samples,)
        Class labels (NumPy or CuPy).
    n_splits : int, default=3
        Number of folds, at least 2.

    Returns
    -------
    array of shape (n_samples,), int64
        ``test_folds[i]`` is the fold in which sample ``i`` is tested, in the
        namespace of ``y``.

    Raises
    ------
    GpuclfError
        If ``y`` is not 1-D, ``n_splits < 2``, there are fewer samples than
        folds, or a class has fewer members than folds (scikit-learn only
        warns there, but that class would then be missing from some test fold).
    """
    xp = get_namespace(y)
    y = to_host(y)
    if y.ndim != 1:
        raise GpuclfError(
            f"stratified folds need 1-D class labels, got shape {y.shape}; "
            "use kfold_test_folds for multilabel targets"
        )
    _check_n_splits(n_splits, y.shape[0])

    # Encode classes by order of first appearance, as scikit-learn does: the
    # encoding decides which class is allocated first, hence the folds.
    classes, first_index, y_sorted_code = np.unique(y, return_index=True, return_inverse=True)
    _, appearance_code = np.unique(first_index, return_inverse=True)
    y_encoded = appearance_code[y_sorted_code]
    n_classes = classes.shape[0]

    counts = np.bincount(y_encoded, minlength=n_classes)
    rarest = int(np.argmin(counts))
    if counts[rarest] < n_splits:
        label = classes[np.argsort(first_index)][rarest].tolist()
        raise GpuclfError(
            f"class {label!r} has only {int(counts[rarest])} samples, fewer than "
            f"n_splits={n_splits}, so some test fold would have none of it; "
            f"use n_splits <= {int(counts[rarest])} or add samples of that class"
        )

    # scikit-learn deals the class-sorted labels round-robin to the folds
    # (bincount(y_order[i::n_splits]) per fold); one 2-D bincount does the same.
    y_order = np.sort(y_encoded)
    fold_of_position = np.arange(y_order.shape[0]) % n_splits
    allocation = np.bincount(
        fold_of_position * n_classes + y_order, minlength=n_splits * n_classes
    ).reshape(n_splits, n_classes)

    # Within a class, samples keep their order and fill fold 0 first, then 1, ...
    # Concatenating those blocks class by class matches a stable sort by class.
    folds_by_class = np.repeat(np.tile(np.arange(n_splits), n_classes), allocation.T.ravel())
    test_folds = np.empty(y.shape[0], dtype=np.int64)
    test_folds[np.argsort(y_encoded, kind="stable")] = folds_by_class
    return xp.asarray(test_folds)


def kfold_test_folds(n: int, n_splits: int = 3, xp=np):
    """Test-fold id of each sample, as ``KFold(n_splits)`` without shuffling.

    Parameters
    ----------
    n : int
        Number of samples.
    n_splits : int, default=3
        Number of folds, at least 2.
    xp : module, default=numpy
        Array namespace of the result (``numpy`` or ``cupy``).

    Returns
    -------
    array of shape (n,), int64
        Consecutive blocks; the first ``n % n_splits`` folds get one extra sample.
    """
    _check_n_splits(n_splits, n)
    fold_sizes = np.full(n_splits, n // n_splits)
    fold_sizes[: n % n_splits] += 1
    return xp.asarray(np.repeat(np.arange(n_splits, dtype=np.int64), fold_sizes))


def folds_to_indices(test_folds):
    """Turn test-fold ids into ``(train_idx, test_idx)`` pairs, like ``cv.split``.

    Parameters
    ----------
    test_folds : array of shape (n_samples,)
        Fold id of each sample, from 0 to ``n_splits - 1``.

    Returns
    -------
    list of (array, array)
        One pair per fold in fold order; indices ascending, in the namespace
        of ``test_folds``.
    """
    xp = get_namespace(test_folds)
    n_splits = int(test_folds.max()) + 1
    positions = xp.arange(test_folds.shape[0])
    return [
        (positions[test_folds != k], positions[test_folds == k]) for k in range(n_splits)
    ]
