"""The SGD size sweep: the chapter's two SGD models by 3-fold CV at growing training sizes.

At each size the 5-detector (raw pixels) and the 10-class model (standardised
pixels) are cross-validated as the chapter does (``StratifiedKFold(3)`` on the
first rows, decision scores out of fold) through a backend, so the same code
measures scikit-learn (``cpu``) and gpuclf's SGD (``numpy``, ``gpu``). The
test suite holds gpuclf's figures to scikit-learn's at every size; the
benchmarks time the same points.
"""
from __future__ import annotations

import numpy as np

from gpuclf.errors import GpuclfError
from gpuclf.kernels.metrics import threshold_for_precision
from gpuclf.kernels.scoring import fold_accuracy

#: Training rows of the sweep (the larger ones only where the data has them).
SWEEP_SIZES = (500, 1_000, 1_500, 3_000, 6_000, 20_000, 60_000)
#: The two models: the 5-detector on raw pixels and the scaled 10-class model.
TASKS = ("5-detector", "10-class scaled")
CV = 3


def sweep_point(backend, X, y, task: str, random_state: int = 42) -> dict:
    """Cross-validate one of the chapter's SGD models on ``X``, ``y`` with ``backend``.

    Parameters
    ----------
    backend : gpuclf.backends.Backend
        Trains and scores: scikit-learn's ``SGDClassifier(random_state=...)``
        with its defaults on ``cpu``, gpuclf's on the others.
    X : array of shape (n, 784)
        Pixels, on the backend's device.
    y : array of shape (n,)
        Digit labels, on the backend's device.
    task : {"5-detector", "10-class scaled"}
    random_state : int, default=42

    Returns
    -------
    dict
        ``n_train``, ``cv_accuracy`` (per fold), ``accuracy`` (out of fold),
        ``predicted_classes`` (how many distinct classes are ever predicted),
        ``median_abs_score`` (the scale of the decision scores) and, for the
        5-detector, ``auc`` and ``threshold_90_precision`` (None when no
        threshold reaches 90% precision).
    """
    if task not in TASKS:
        raise GpuclfError(f"unknown sweep task {task!r}; choose one of {', '.join(TASKS)}")
    xp = backend.xp
    binary = task == TASKS[0]
    if binary:
        y = y == 5
    else:
        X = backend.estimator("scaler").fit_transform(X)
    folds = backend.test_folds(y, CV)
    sgd = backend.estimator("sgd", random_state=random_state)
    scores = backend.cross_val_predict(sgd, X, y, cv=CV, method="decision_function")
    pred = scores > 0 if binary else xp.argmax(scores, axis=1)
    accuracy = fold_accuracy(pred, y, folds, CV)
    host_pred = backend.to_host(pred)
    figures = {
        "n_train": int(X.shape[0]),
        "cv_accuracy": [float(a) for a in accuracy],
        "accuracy": float(np.mean(host_pred == backend.to_host(y))),
        "predicted_classes": int(np.unique(host_pred).size),
        "median_abs_score": float(np.median(np.abs(backend.to_host(scores)))),
    }
    if binary:
        figures["auc"] = float(backend.metrics.roc_auc_score(y, scores))
        try:
            figures["threshold_90_precision"] = threshold_for_precision(y, scores, 0.90)[0]
        except GpuclfError:  # a weak model may never reach 90% precision: say so, as None
            figures["threshold_90_precision"] = None
    return figures


def scale_factor(ours: dict, reference: dict, key: str) -> float | None:
    """How many times larger ``ours[key]`` is than ``reference[key]`` (None where either is missing or 0)."""
    a, b = ours.get(key), reference.get(key)
    if a is None or b is None or b == 0:
        return None
    return float(a / b)
