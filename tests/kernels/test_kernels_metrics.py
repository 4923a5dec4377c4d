"""Metric kernels against scikit-learn on NumPy, ties and degenerate labels included."""
import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings, strategies as st

from gpuclf.errors import GpuclfError
from gpuclf.kernels import metrics as gm

# scikit-learn warns on ill-defined values (no positives, nothing predicted);
# we return the same values silently.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def assert_same_arrays(ours, ref):
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        assert a.shape == b.shape and a.dtype == b.dtype, (a.dtype, b.dtype)
        if np.issubdtype(b.dtype, np.floating):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)
        else:
            np.testing.assert_array_equal(a, b)


def assert_same_float(ours, ref):
    assert type(ours) is float
    assert ours == pytest.approx(float(ref), rel=1e-12, abs=1e-15, nan_ok=True)


def check_confusion_matrix(y_true, y_pred, labels=None):
    assert_same_arrays(
        [gm.confusion_matrix(y_true, y_pred, labels=labels)],
        [skm.confusion_matrix(y_true, y_pred, labels=labels)],
    )


def sk_binary_clf_curve(y_true, y_score):
    _, fps, _, tps, thresholds = skm.confusion_matrix_at_thresholds(y_true, y_score, pos_label=1)
    return fps, tps, thresholds


def check_curves(y_true, y_score):
    assert_same_arrays(gm.binary_clf_curve(y_true, y_score), sk_binary_clf_curve(y_true, y_score))
    assert_same_arrays(
        gm.precision_recall_curve(y_true, y_score), skm.precision_recall_curve(y_true, y_score)
    )
    for drop in (True, False):
        assert_same_arrays(
            gm.roc_curve(y_true, y_score, drop_intermediate=drop),
            skm.roc_curve(y_true, y_score, drop_intermediate=drop),
        )
    if len(np.unique(y_true)) == 2:
        assert_same_float(gm.roc_auc_score(y_true, y_score), skm.roc_auc_score(y_true, y_score))
    else:
        # scikit-learn returns NaN here (with a warning).
        assert np.isnan(skm.roc_auc_score(y_true, y_score))
        assert np.isnan(gm.roc_auc_score(y_true, y_score))


def check_threshold_for_precision(y_true, y_score, min_precision):
    """Compare with the book's recipe on scikit-learn's curve."""
    precisions, recalls, thresholds = skm.precision_recall_curve(y_true, y_score)
    i = (precisions >= min_precision).argmax()
    if i == len(thresholds):
        # Only the extra "predict nothing" point qualifies: the book would index
        # past the end of thresholds; we raise instead.
        with pytest.raises(GpuclfError, match="no threshold reaches"):
            gm.threshold_for_precision(y_true, y_score, min_precision)
        return
    ours = gm.threshold_for_precision(y_true, y_score, min_precision)
    for a, b in zip(ours, (thresholds[i], precisions[i], recalls[i])):
        assert_same_float(a, b)


RNG = np.random.default_rng(42)
Y = RNG.random(500) < 0.3
CURVE_CASES = {
    "docstring": (np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])),
    "continuous": (Y.astype(int), RNG.normal(size=500) + Y),
    "many-ties": (Y.astype(int), np.round(RNG.normal(size=500) + Y, 1)),
    "two-scores": (Y.astype(int), Y ^ (RNG.random(500) < 0.2)),
    "uint8-scores": (Y.astype(int), RNG.integers(0, 256, 500).astype(np.uint8)),
    "int-scores": (Y.astype(int), RNG.integers(-5, 5, 500)),
    "all-tied": (Y.astype(int), np.full(500, 0.5)),
    "all-positive": (np.ones(50, dtype=int), RNG.normal(size=50)),
    "all-negative": (np.zeros(50, dtype=int), RNG.normal(size=50)),
    "one-sample": (np.array([1]), np.array([0.3])),
    "boolean-labels": (Y, RNG.normal(size=500) + Y),
}


@pytest.mark.parametrize("name", sorted(CURVE_CASES))
def test_curves_match_sklearn(name):
    check_curves(*CURVE_CASES[name])


def test_boolean_and_integer_labels_agree():
    y_score = np.round(RNG.normal(size=500) + Y, 1)
    assert_same_arrays(
        gm.precision_recall_curve(Y, y_score), skm.precision_recall_curve(Y.astype(int), y_score)
    )
    assert_same_arrays(gm.roc_curve(Y, y_score), skm.roc_curve(Y.astype(int), y_score))
    y_pred = y_score > 0.5
    for ours, ref in [
        (gm.precision_score, skm.precision_score),
        (gm.recall_score, skm.recall_score),
        (gm.f1_score, skm.f1_score),
        (gm.accuracy_score, skm.accuracy_score),
    ]:
        assert_same_float(ours(Y, y_pred), ref(Y.astype(int), y_pred.astype(int)))
        assert_same_float(ours(Y.astype(int), y_pred), ref(Y, y_pred))


def test_pos_label_other_than_one():
    y_true = np.where(Y, 5, 3)
    y_score = np.round(RNG.normal(size=500) - Y, 1)
    assert_same_arrays(
        gm.precision_recall_curve(y_true, y_score, pos_label=3),
        skm.precision_recall_curve(y_true, y_score, pos_label=3),
    )
    assert_same_arrays(
        gm.roc_curve(y_true, y_score, pos_label=3), skm.roc_curve(y_true, y_score, pos_label=3)
    )
    y_pred = np.where(y_score < 0, 3, 5)
    for ours, ref in [
        (gm.precision_score, skm.precision_score),
        (gm.recall_score, skm.recall_score),
        (gm.f1_score, skm.f1_score),
    ]:
        assert_same_float(ours(y_true, y_pred, pos_label=3), ref(y_true, y_pred, pos_label=3))


@pytest.mark.parametrize(
    "y_true, y_pred",
    [
        (np.zeros(20, dtype=int), np.zeros(20, dtype=int)),  # nothing predicted, no positives
        (np.zeros(20, dtype=int), np.ones(20, dtype=int)),
        (np.ones(20, dtype=int), np.zeros(20, dtype=int)),
        (np.ones(20, dtype=int), np.ones(20, dtype=int)),
        (np.zeros(20, dtype=bool), np.zeros(20, dtype=bool)),
    ],
)
def test_binary_scores_zero_division(y_true, y_pred):
    for ours, ref in [
        (gm.precision_score, skm.precision_score),
        (gm.recall_score, skm.recall_score),
        (gm.f1_score, skm.f1_score),
        (gm.accuracy_score, skm.accuracy_score),
    ]:
        assert_same_float(ours(y_true, y_pred), ref(y_true, y_pred))


def test_confusion_matrix_default_labels():
    y_true = RNG.integers(0, 10, 300)
    y_pred = np.where(RNG.random(300) < 0.7, y_true, RNG.integers(0, 12, 300))
    check_confusion_matrix(y_true, y_pred)
    check_confusion_matrix(Y, ~Y)


@pytest.mark.parametrize("labels", [[2, 0, 1], [1, 3], [4, 9, 0, 7], list(range(11))])
def test_confusion_matrix_given_labels(labels):
    check_confusion_matrix(RNG.integers(0, 10, 300), RNG.integers(0, 10, 300), labels)


def test_multilabel_f1_and_accuracy():
    digits = RNG.integers(0, 10, 400)
    y_true = np.c_[digits >= 7, digits % 2 == 1]  # the book's multilabel target
    y_pred = y_true ^ (RNG.random(y_true.shape) < 0.15)
    for average in ("macro", "weighted"):
        assert_same_float(
            gm.f1_score(y_true, y_pred, average=average),
            skm.f1_score(y_true, y_pred, average=average),
        )
        assert_same_float(
            gm.f1_score(y_true.astype(int), y_pred.astype(int), average=average),
            skm.f1_score(y_true, y_pred, average=average),
        )
    assert_same_float(gm.accuracy_score(y_true, y_pred), skm.accuracy_score(y_true, y_pred))


def test_multilabel_f1_with_empty_labels():
    y_true = np.array([[1, 0, 0], [1, 0, 0], [0, 0, 0]])
    y_pred = np.array([[1, 0, 1], [0, 0, 0], [0, 0, 0]])
    for average in ("macro", "weighted"):
        assert_same_float(
            gm.f1_score(y_true, y_pred, average=average),
            skm.f1_score(y_true, y_pred, average=average),
        )
    zeros = np.zeros((4, 2), dtype=int)
    ours = gm.f1_score(zeros, zeros, average="weighted")
    assert_same_float(ours, skm.f1_score(zeros, zeros, average="weighted"))


def test_multiclass_f1():
    y_true = RNG.integers(0, 10, 300)
    y_pred = np.where(RNG.random(300) < 0.6, y_true, RNG.integers(0, 11, 300))
    for average in ("macro", "weighted"):
        assert_same_float(
            gm.f1_score(y_true, y_pred, average=average),
            skm.f1_score(y_true, y_pred, average=average),
        )


@pytest.mark.parametrize("name", ["continuous", "many-ties", "two-scores", "int-scores"])
@pytest.mark.parametrize("min_precision", [0.3, 0.5, 0.9])
def test_threshold_for_precision_is_the_books(name, min_precision):
    check_threshold_for_precision(*CURVE_CASES[name], min_precision)


def test_threshold_for_precision_unreachable():
    y_true = np.array([0, 1, 0, 1])
    y_score = np.array([0.9, 0.8, 0.7, 0.1])
    # scikit-learn's curve only reaches 1.0 on the extra "predict nothing" point.
    precisions, _, thresholds = skm.precision_recall_curve(y_true, y_score)
    assert (precisions >= 0.9).argmax() == len(thresholds)
    msg = r"no threshold reaches precision 0.9; the best is 0.5000"
    with pytest.raises(GpuclfError, match=msg):
        gm.threshold_for_precision(y_true, y_score, 0.9)


def test_input_errors():
    with pytest.raises(GpuclfError, match="same number of samples, got 3 and 2"):
        gm.roc_curve(np.array([0, 1, 1]), np.array([0.1, 0.2]))
    with pytest.raises(GpuclfError, match="are empty"):
        gm.confusion_matrix(np.array([], dtype=int), np.array([], dtype=int))
    with pytest.raises(GpuclfError, match="average must be one of"):
        gm.f1_score(np.array([0, 1]), np.array([0, 1]), average="micro")
    with pytest.raises(GpuclfError, match="multilabel targets need average"):
        gm.f1_score(np.eye(3, dtype=int), np.eye(3, dtype=int))


@st.composite
def labels_and_scores(draw):
    """Binary labels and integer scores from a small range, so ties are common."""
    n = draw(st.integers(1, 60))
    y = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    top = draw(st.integers(0, 6))
    scores = draw(st.lists(st.integers(-top, top), min_size=n, max_size=n))
    return np.array(y), np.array(scores)


@settings(max_examples=40, deadline=None)
@given(labels_and_scores())
def test_curves_property(data):
    check_curves(*data)


@settings(max_examples=40, deadline=None)
@given(labels_and_scores(), st.sampled_from([0.2, 0.5, 0.75, 0.9, 1.0]))
def test_threshold_for_precision_property(data, min_precision):
    check_threshold_for_precision(*data, min_precision)


@settings(max_examples=40, deadline=None)
@given(labels_and_scores(), st.integers(-6, 6))
def test_binary_scores_property(data, cut):
    y_true, y_score = data
    y_pred = (y_score >= cut).astype(int)
    for ours, ref in [
        (gm.precision_score, skm.precision_score),
        (gm.recall_score, skm.recall_score),
        (gm.f1_score, skm.f1_score),
        (gm.accuracy_score, skm.accuracy_score),
    ]:
        assert_same_float(ours(y_true, y_pred), ref(y_true, y_pred))
        assert_same_float(ours(y_true == 1, y_pred == 1), ref(y_true, y_pred))
    check_confusion_matrix(y_true, y_pred)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.data())
def test_multiclass_property(n, data):
    y_true = np.array(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    y_pred = np.array(data.draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    check_confusion_matrix(y_true, y_pred)
    assert_same_float(gm.accuracy_score(y_true, y_pred), skm.accuracy_score(y_true, y_pred))
    for average in ("macro", "weighted"):
        assert_same_float(
            gm.f1_score(y_true, y_pred, average=average),
            skm.f1_score(y_true, y_pred, average=average),
        )


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.integers(1, 4), st.data())
def test_multilabel_property(n, n_labels, data):
    cells = st.lists(st.integers(0, 1), min_size=n * n_labels, max_size=n * n_labels)
    y_true = np.array(data.draw(cells)).reshape(n, n_labels)
    y_pred = np.array(data.draw(cells)).reshape(n, n_labels)
    assert_same_float(gm.accuracy_score(y_true, y_pred), skm.accuracy_score(y_true, y_pred))
    for average in ("macro", "weighted"):
        assert_same_float(
            gm.f1_score(y_true, y_pred, average=average),
            skm.f1_score(y_true, y_pred, average=average),
        )
