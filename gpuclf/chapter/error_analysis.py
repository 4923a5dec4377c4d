"""Error analysis: the scaled SGD's confusion matrix, its error rates and the most confused pairs."""
from __future__ import annotations

import numpy as np

from gpuclf.chapter.context import Context
from gpuclf.chapter.multiclass import scaled_sgd_predictions
from gpuclf.chapter.preconditions import digits_per_fold, needs, positive_class, two_digits
from gpuclf.xp import get_namespace


@needs(positive_class(), two_digits(), digits_per_fold("cv"))
def step_error_analysis(ctx: Context) -> dict:
    """Confusion matrix of the scaled SGD, row-normalised errors, most confused pairs."""
    m, y = ctx.backend.metrics, ctx.y_train
    pred = scaled_sgd_predictions(ctx)
    # One row and column per class of the data (labels 0 .. n_classes - 1), present or not: the matrix is
    # indexed by label, as error_pair and the report read it.
    cm = ctx.host(m.confusion_matrix(y, pred, labels=np.arange(ctx.data.n_classes))).astype(np.int64)
    errors, pairs = most_confused(cm)
    a, b = error_pair(ctx.config.positive_class, errors, digits=ctx.data.class_names is None)
    y_host, p_host = ctx.data.y_train, ctx.host(pred)
    for (t, p), key in zip(((a, a), (a, b), (b, a), (b, b)), ERROR_PAIR_KEYS):
        ctx.arrays[key] = _image_rows(ctx, np.flatnonzero((y_host == t) & (p_host == p))[:25])
    ctx.arrays.update(confusion_matrix=cm, error_rates=errors)
    return {"confusion_matrix": cm.tolist(), "error_rates": np.round(errors, 4).tolist(),
            "most_confused": pairs, "pair": [a, b]}


def most_confused(cm: np.ndarray, n: int = 5) -> tuple[np.ndarray, list]:
    """Row-normalised error rates (diagonal zeroed) of a confusion matrix and its ``n`` largest, as dicts."""
    errors = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    np.fill_diagonal(errors, 0.0)
    order = np.argsort(errors, axis=None, kind="stable")[::-1][:n]
    pairs = [{"true": int(i), "predicted": int(j), "rate": float(errors[i, j]), "count": int(cm[i, j])}
             for i, j in zip(*np.unravel_index(order, errors.shape))]
    return errors, pairs


def _image_rows(ctx: Context, rows: np.ndarray) -> np.ndarray:
    """Training images ``rows`` (host indices) on the host, wherever the data was read to."""
    X = ctx.data.X_train
    return ctx.host(X[get_namespace(X).asarray(rows)])


#: Arrays of the error-analysis images: a as a, a as b, b as a, b as b.
ERROR_PAIR_KEYS = ("images_aa", "images_ab", "images_ba", "images_bb")


def error_pair(positive_class: int, errors: np.ndarray, digits: bool = True) -> tuple[int, int]:
    """The two classes whose mix-ups the error analysis shows.

    The book's 3 and 5 for the 5-detector on digits; otherwise the positive
    class and the class it is most often taken for (the largest off-diagonal
    rate of its row; the lowest label on ties).
    """
    if digits and positive_class == 5 and errors.shape[0] > 5:
        return 3, 5
    row = errors[positive_class].copy()
    row[positive_class] = -1.0
    return int(positive_class), int(np.argmax(row))
