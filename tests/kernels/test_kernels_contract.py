"""Small contracts of the kernels that mutation testing found unchecked (see docs/testing.md).

The chunk-size rule at its edges, per-fold accuracy against scikit-learn's cross_val_score, the
ROC curve's dropping of collinear points on a 3-point curve, and the error messages users read
(which name the arguments at fault).
"""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier as SkDummy
from sklearn.metrics import roc_curve as sk_roc_curve
from sklearn.model_selection import StratifiedKFold, cross_val_score

from gpuclf.errors import GpuclfError
from gpuclf.kernels import metrics as gm
from gpuclf.kernels.chunking import DEFAULT_BUDGET_BYTES, rows_per_chunk
from gpuclf.kernels.scoring import fold_accuracy


@pytest.mark.parametrize("bytes_per_row, budget, n_rows, expected", [
    (10, 100, None, 10),           # budget // bytes per row
    (30, 100, None, 3),            # rounded down
    (1, 10, None, 10),             # one byte a row
    (0, 10, None, 10),             # a free row costs at least a byte
    (100, 10, None, 1),            # a row larger than the budget still progresses, one at a time
    (10, 100, 4, 4),               # never more than the rows there are
    (10, 100, 1, 1),
    (10, 100, 0, 1),
    (10, 100, 1000, 10),
    (2**20, None, None, DEFAULT_BUDGET_BYTES // 2**20),  # None: the default budget
    (4 * 300_000, 40 * 2**30, 10_000, 1789),  # an 80 GB device's budget: capped at 2**31 bytes (32-bit indexing)
    (4, 2**40, None, 2**29),
])
def test_rows_per_chunk(bytes_per_row, budget, n_rows, expected):
    got = rows_per_chunk(bytes_per_row, budget, n_rows)
    assert got == expected and type(got) is int


@pytest.mark.parametrize("budget,cap,expected", [(None, 1 << 20, 7), (1 << 20, 1 << 30, 7), (64, 1 << 20, 8),
                                                 (1 << 20, 80, 10)])
def test_stream_rows_is_rows_per_chunk_under_the_cap(budget, cap, expected):
    """``stream_rows``: ``rows_per_chunk`` under the smaller of the budget and the cap, never more rows than
    the ``n_rows`` there are (7 here)."""
    from gpuclf.kernels.chunking import stream_rows

    got = stream_rows(8, budget, 7 if expected == 7 else 100, cap=cap)
    assert got == expected and type(got) is int


def test_fold_accuracy_equals_cross_val_score():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    X = rng.random((90, 2))
    folds = np.empty(90, dtype=np.int64)
    for k, (_, test) in enumerate(StratifiedKFold(3).split(X, y)):
        folds[test] = k
    model = SkDummy(strategy="stratified", random_state=0)
    pred = np.empty_like(y)
    for k in range(3):
        pred[folds == k] = model.fit(X[folds != k], y[folds != k]).predict(X[folds == k])
    expected = cross_val_score(model, X, y, cv=StratifiedKFold(3))
    got = fold_accuracy(pred, y, folds, 3)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    np.testing.assert_allclose(got, expected)
    # An empty fold would be 0/0: n_splits sizes the output even when the last fold has no sample.
    assert fold_accuracy(pred, y, np.zeros_like(folds), 1).shape == (1,)


def test_roc_curve_drops_the_collinear_middle_of_three_points():
    y, scores = np.array([1, 0, 0]), np.array([3.0, 2.0, 1.0])
    fpr, tpr, thresholds = gm.roc_curve(y, scores)
    ref = sk_roc_curve(y, scores)
    for got, want in zip((fpr, tpr, thresholds), ref):
        np.testing.assert_array_equal(got, want)
    # Two points: nothing to drop.
    for got, want in zip(gm.roc_curve(np.array([0, 1]), np.array([0.2, 0.8])),
                         sk_roc_curve([0, 1], [0.2, 0.8])):
        np.testing.assert_array_equal(got, want)


PAIRS = [("accuracy_score", "y_true and y_pred"), ("confusion_matrix", "y_true and y_pred"),
         ("precision_score", "y_true and y_pred"), ("recall_score", "y_true and y_pred"),
         ("f1_score", "y_true and y_pred"), ("roc_auc_score", "y_true and y_score"),
         ("roc_curve", "y_true and y_score"), ("precision_recall_curve", "y_true and y_score")]


@pytest.mark.parametrize("name, names", PAIRS)
def test_length_mismatch_names_the_arguments(name, names):
    with pytest.raises(GpuclfError, match=f"^{names} must have the same number of samples, got 3 and 2$"):
        getattr(gm, name)(np.array([0, 1, 1]), np.array([0, 1]))


@pytest.mark.parametrize("average", ["macro", "weighted"])
def test_multilabel_length_mismatch_names_the_arguments(average):
    with pytest.raises(GpuclfError, match="^y_true and y_pred must have the same number of samples"):
        gm.f1_score(np.ones((3, 2)), np.ones((2, 2)), average=average)


def test_multilabel_binary_average_says_what_to_use():
    with pytest.raises(GpuclfError, match=r"^multilabel targets need average='macro' or 'weighted', not 'binary'$"):
        gm.f1_score(np.ones((3, 2)), np.ones((3, 2)))


def test_unreachable_precision_says_what_to_do():
    y, scores = np.array([0, 1, 0, 1]), np.array([0.9, 0.1, 0.8, 0.2])
    with pytest.raises(GpuclfError, match=r"^no threshold reaches precision 0\.99; the best is 0\.5000: "
                                          r"ask for a lower precision$"):
        gm.threshold_for_precision(y, scores, 0.99)
