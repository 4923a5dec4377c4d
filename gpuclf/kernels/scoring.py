"""Per-fold scores from out-of-fold predictions."""
from __future__ import annotations

import numpy as np

from ..xp import get_namespace, to_host


def fold_accuracy(pred, y, folds, n_splits: int) -> np.ndarray:
    """Accuracy of each fold from out-of-fold predictions (equals ``cross_val_score``).

    Parameters
    ----------
    pred, y : array of shape (n,)
    folds : int array of shape (n,)
        Test-fold id of each sample.
    n_splits : int

    Returns
    -------
    ndarray of shape (n_splits,), on the host
    """
    xp = get_namespace(pred, y, folds)
    correct = xp.bincount(folds, weights=(pred == y).astype(xp.float64), minlength=n_splits)
    return to_host(correct / xp.bincount(folds, minlength=n_splits))
