"""Classification metrics with scikit-learn's exact definitions, ties included.

One curve kernel, :func:`binary_clf_curve` (scikit-learn's
``confusion_matrix_at_thresholds``, formerly ``_binary_clf_curve``), serves the
precision/recall curve, the ROC curve, ROC AUC and the threshold search.
Ill-defined ratios (a zero denominator) are 0.0 as with scikit-learn's default
``zero_division``, without its warning. Scalar metrics return Python floats.
"""
from __future__ import annotations

from gpuclf.errors import GpuclfError
from gpuclf.xp import get_namespace, to_host

_AVERAGES = ("binary", "macro", "weighted")


def _check_lengths(a, b, names: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise GpuclfError(
            f"{names} must have the same number of samples, got {a.shape[0]} and {b.shape[0]}"
        )
    if a.shape[0] == 0:
        raise GpuclfError(f"{names} are empty; metrics need at least one sample")


def _divide(num, den, xp, fill=0.0):
    """``num / den`` as float64, ``fill`` where ``den == 0``, without a host sync."""
    return xp.where(den > 0, num / xp.maximum(den, 1), fill)


def binary_clf_curve(y_true, y_score, pos_label=1):
    """False and true positive counts at each distinct score threshold.

    Parameters
    ----------
    y_true : array of shape (n_samples,)
        True labels; ``y_true == pos_label`` marks positives (booleans work).
    y_score : array of shape (n_samples,)
        Scores, higher meaning more positive.
    pos_label : scalar, default=1
        Label of the positive class.

    Returns
    -------
    fps, tps : arrays of shape (n_thresholds,), float64
        Samples predicted positive that are negative / positive when the
        threshold is ``thresholds[i]`` (predict positive when score >= threshold).
    thresholds : array of shape (n_thresholds,)
        Distinct scores in decreasing order, dtype of ``y_score``.
    """
    xp = get_namespace(y_true, y_score)
    _check_lengths(y_true, y_score, "y_true and y_score")
    # Order within tied scores is irrelevant: only the last index of each
    # run of equal scores is read, and the cumulative sum there counts the whole run.
    order = xp.flip(xp.argsort(y_score))
    score = y_score[order]
    is_pos = (y_true == pos_label)[order]
    n = score.shape[0]
    last_of_run = xp.concatenate(
        [xp.flatnonzero(score[1:] != score[:-1]), xp.asarray([n - 1])]
    )
    tps = xp.cumsum(is_pos, dtype=xp.int64)[last_of_run].astype(xp.float64)
    fps = (last_of_run + 1).astype(xp.float64) - tps
    return fps, tps, score[last_of_run]


def precision_recall_curve(y_true, y_score, pos_label=1):
    """Precision and recall at every threshold, as scikit-learn returns them.

    Parameters
    ----------
    y_true : array of shape (n_samples,)
        True labels (booleans or 0/1).
    y_score : array of shape (n_samples,)
        Scores, higher meaning more positive.
    pos_label : scalar, default=1
        Label of the positive class.

    Returns
    -------
    precision, recall : arrays of shape (n_thresholds + 1,), float64
        Thresholds increasing; the last entries are 1.0 and 0.0 and have no
        threshold. Recall is 1.0 everywhere when there are no positives.
    thresholds : array of shape (n_thresholds,)
        Distinct scores, increasing.
    """
    xp = get_namespace(y_true, y_score)
    fps, tps, thresholds = binary_clf_curve(y_true, y_score, pos_label)
    # tps + fps is the number of samples at or above the threshold: never 0.
    precision = tps / (tps + fps)
    recall = _divide(tps, tps[-1], xp, fill=1.0)
    return (
        xp.concatenate([xp.flip(precision), xp.ones(1)]),
        xp.concatenate([xp.flip(recall), xp.zeros(1)]),
        xp.flip(thresholds),
    )


def roc_curve(y_true, y_score, pos_label=1, drop_intermediate=True):
    """Receiver operating characteristic curve, as scikit-learn returns it.

    Parameters
    ----------
    y_true : array of shape (n_samples,)
        True labels (booleans or 0/1).
    y_score : array of shape (n_samples,)
        Scores, higher meaning more positive.
    pos_label : scalar, default=1
        Label of the positive class.
    drop_intermediate : bool, default=True
        Drop points collinear with their neighbours; they do not change the curve.

    Returns
    -------
    fpr, tpr : arrays of shape (n_points,), float64
        Rates starting at (0, 0); NaN when there are no negatives / positives.
    thresholds : array of shape (n_points,), float64
        Decreasing; the first is ``inf`` (predict nothing positive).
    """
    xp = get_namespace(y_true, y_score)
    fps, tps, thresholds = binary_clf_curve(y_true, y_score, pos_label)
    if drop_intermediate and fps.shape[0] > 2:
        # A non-zero second difference marks a corner; keep corners and both ends.
        corner = xp.logical_or(xp.diff(fps, 2), xp.diff(tps, 2))
        keep = xp.concatenate([xp.asarray([True]), corner, xp.asarray([True])])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    fps = xp.concatenate([xp.zeros(1), fps])
    tps = xp.concatenate([xp.zeros(1), tps])
    thresholds = xp.concatenate([xp.asarray([xp.inf]), thresholds.astype(xp.float64)])
    fpr = _divide(fps, fps[-1], xp, fill=xp.nan)
    tpr = _divide(tps, tps[-1], xp, fill=xp.nan)
    return fpr, tpr, thresholds


def roc_auc_score(y_true, y_score) -> float:
    """Area under the ROC curve for a binary problem (positive label 1 / True).

    Parameters
    ----------
    y_true : array of shape (n_samples,)
        True labels (booleans or 0/1).
    y_score : array of shape (n_samples,)
        Scores, higher meaning more positive.

    Returns
    -------
    float
        Trapezoidal area under :func:`roc_curve`; NaN when ``y_true`` holds
        one class only (scikit-learn warns and returns NaN too).
    """
    xp = get_namespace(y_true, y_score)
    fpr, tpr, _ = roc_curve(y_true, y_score)
    # numpy.trapezoid's expression: on NumPy the sum rounds identically to
    # scikit-learn's; CuPy's parallel sum adds in another order (last-bit differences).
    return float(xp.sum(xp.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2.0))


def _label_positions(labels, y, xp):
    """Index of each ``y`` in ``labels`` (any order), and whether it was found."""
    order = xp.argsort(labels)
    sorted_labels = labels[order]
    # Values above every label would index past the end: clip, then check.
    pos = xp.minimum(xp.searchsorted(sorted_labels, y), labels.shape[0] - 1)
    return order[pos], sorted_labels[pos] == y


def confusion_matrix(y_true, y_pred, labels=None):
    """Counts of true class (rows) against predicted class (columns).

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples,)
        True and predicted labels.
    labels : array-like, optional
        Row/column order; samples whose true or predicted label is not in it
        are ignored. Default: the sorted union of both label sets.

    Returns
    -------
    array of shape (n_labels, n_labels), int64
    """
    xp = get_namespace(y_true, y_pred)
    _check_lengths(y_true, y_pred, "y_true and y_pred")
    if labels is None:
        labels = xp.unique(xp.concatenate([y_true, y_pred]))
    labels = xp.asarray(labels)
    n_labels = labels.shape[0]
    true_idx, true_known = _label_positions(labels, y_true, xp)
    pred_idx, pred_known = _label_positions(labels, y_pred, xp)
    keep = xp.logical_and(true_known, pred_known)
    cells = true_idx[keep] * n_labels + pred_idx[keep]
    counts = xp.bincount(cells, minlength=n_labels * n_labels)
    return counts.reshape(n_labels, n_labels).astype(xp.int64)


def accuracy_score(y_true, y_pred) -> float:
    """Fraction of samples predicted exactly (all labels of a row for multilabel).

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples,) or (n_samples, n_labels)
        True and predicted labels.

    Returns
    -------
    float
    """
    xp = get_namespace(y_true, y_pred)
    _check_lengths(y_true, y_pred, "y_true and y_pred")
    correct = y_true == y_pred
    if correct.ndim == 2:
        correct = xp.all(correct, axis=1)
    return float(xp.mean(correct))


def _binary_counts(y_true, y_pred, pos_label, xp):
    """True positives, predicted positives and actual positives (0-d arrays).

    Every label other than ``pos_label`` counts as negative.
    """
    _check_lengths(y_true, y_pred, "y_true and y_pred")
    t = y_true == pos_label
    p = y_pred == pos_label
    return xp.sum(xp.logical_and(t, p)), xp.sum(p), xp.sum(t)


def precision_score(y_true, y_pred, pos_label=1) -> float:
    """Binary precision TP / (TP + FP); 0.0 when nothing is predicted positive.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples,)
        True and predicted labels (booleans: True is positive).
    pos_label : scalar, default=1
        Label of the positive class.

    Returns
    -------
    float
    """
    xp = get_namespace(y_true, y_pred)
    tp, predicted, _ = _binary_counts(y_true, y_pred, pos_label, xp)
    return float(_divide(tp, predicted, xp))


def recall_score(y_true, y_pred, pos_label=1) -> float:
    """Binary recall TP / (TP + FN); 0.0 when there are no positives.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples,)
        True and predicted labels (booleans: True is positive).
    pos_label : scalar, default=1
        Label of the positive class.

    Returns
    -------
    float
    """
    xp = get_namespace(y_true, y_pred)
    tp, _, actual = _binary_counts(y_true, y_pred, pos_label, xp)
    return float(_divide(tp, actual, xp))


def f1_score(y_true, y_pred, pos_label=1, average="binary") -> float:
    """F1 = 2 TP / (2 TP + FP + FN), binary or averaged over labels.

    Parameters
    ----------
    y_true, y_pred : arrays of shape (n_samples,) or (n_samples, n_labels)
        Labels, or multilabel indicator matrices (non-zero means the label is
        on); one column is a column of labels, as in scikit-learn.
    pos_label : scalar, default=1
        Positive class for ``average="binary"``; ignored otherwise.
    average : {"binary", "macro", "weighted"}, default="binary"
        ``"binary"``: F1 of ``pos_label`` (1-D labels only). ``"macro"``: mean of
        per-label F1 over the sorted union of labels (the columns for
        multilabel). ``"weighted"``: that mean weighted by each label's number
        of true samples.

    Returns
    -------
    float
        Labels with no true and no predicted sample score 0.0.
    """
    if average not in _AVERAGES:
        raise GpuclfError(f"average must be one of {_AVERAGES}, got {average!r}")
    xp = get_namespace(y_true, y_pred)
    multilabel = y_true.ndim == 2 and y_true.shape[1] > 1
    if average == "binary":
        if multilabel:
            raise GpuclfError(
                "multilabel targets need average='macro' or 'weighted', not 'binary'"
            )
        tp, predicted, actual = _binary_counts(y_true, y_pred, pos_label, xp)
        return float(_divide(2.0 * tp, predicted + actual, xp))
    if multilabel:
        _check_lengths(y_true, y_pred, "y_true and y_pred")
        t, p = y_true != 0, y_pred != 0
        tp = xp.sum(xp.logical_and(t, p), axis=0)
        predicted, actual = xp.sum(p, axis=0), xp.sum(t, axis=0)
    else:
        cm = confusion_matrix(xp.ravel(y_true), xp.ravel(y_pred))
        tp, predicted, actual = xp.diagonal(cm), xp.sum(cm, axis=0), xp.sum(cm, axis=1)
    f1 = _divide(2.0 * tp, predicted + actual, xp)
    if average == "macro":
        return float(xp.mean(f1))
    # With no true sample at all every F1 is 0, and so is the average.
    return float(_divide(xp.sum(f1 * actual), xp.sum(actual), xp))


def threshold_for_precision(y_true, y_score, min_precision: float):
    """Lowest threshold whose precision reaches ``min_precision``.

    This is the book's ``thresholds[(precisions >= 0.90).argmax()]``, with
    the case where no threshold qualifies reported instead of indexing past
    the end.

    Parameters
    ----------
    y_true : array of shape (n_samples,)
        True labels (booleans or 0/1).
    y_score : array of shape (n_samples,)
        Scores, higher meaning more positive.
    min_precision : float
        Precision to reach, e.g. 0.90.

    Returns
    -------
    threshold, precision, recall : float
        The threshold and the precision and recall of ``y_score >= threshold``.

    Raises
    ------
    GpuclfError
        If no threshold reaches ``min_precision``.
    """
    xp = get_namespace(y_true, y_score)
    precision, recall, thresholds = precision_recall_curve(y_true, y_score)
    # precision has one more entry than thresholds: the final 1.0 belongs to
    # "predict nothing positive", which has no threshold.
    precision, recall = precision[:-1], recall[:-1]
    reached = precision >= min_precision
    i = int(xp.argmax(reached))
    if not bool(reached[i]):
        best = float(xp.max(precision))
        raise GpuclfError(
            f"no threshold reaches precision {min_precision}; the best is {best:.4f}: "
            "ask for a lower precision"
        )
    threshold, precision_at, recall_at = to_host(
        xp.stack([thresholds[i].astype(xp.float64), precision[i], recall[i]])
    ).tolist()
    return threshold, precision_at, recall_at
