"""DummyClassifier on NumPy against scikit-learn's, for the two strategies we implement."""
import numpy as np
import pytest
import sklearn.dummy
from sklearn.base import clone

import fake_cupy
from gpuclf.errors import ParameterError
from gpuclf.estimators.dummy import DummyClassifier

LABELS = {
    # the chapter's use: "is it a 5?" on imbalanced booleans
    "detector": np.r_[np.zeros(90, bool), np.ones(10, bool)],
    "digits": np.repeat(np.arange(10, dtype=np.uint8), np.arange(1, 11))[::-1],
    # equal counts: both pick the smallest label
    "tie": np.array([7, 3, 7, 3, 9, 9]),
}


@pytest.mark.parametrize("strategy", ["prior", "most_frequent"])
@pytest.mark.parametrize("name", list(LABELS))
def test_same_as_sklearn(strategy, name, rng):
    y = LABELS[name]
    X = rng.random((len(y), 3))
    X_test = rng.random((8, 3))
    y_test = rng.choice(y, 8)
    ours = DummyClassifier(strategy=strategy).fit(X, y)
    ref = sklearn.dummy.DummyClassifier(strategy=strategy).fit(X, y)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    np.testing.assert_array_equal(ours.class_prior_, ref.class_prior_)
    assert ours.n_classes_ == ref.n_classes_
    pred, ref_pred = ours.predict(X_test), ref.predict(X_test)
    assert pred.dtype == ref_pred.dtype
    np.testing.assert_array_equal(pred, ref_pred)
    proba, ref_proba = ours.predict_proba(X_test), ref.predict_proba(X_test)
    assert proba.dtype == ref_proba.dtype == np.float64
    np.testing.assert_array_equal(proba, ref_proba)
    for Xs in (X_test, None):
        score = ours.score(Xs, y_test)
        assert type(score) is float and score == ref.score(Xs, y_test)


def test_estimator_contract():
    model = DummyClassifier(strategy="most_frequent")
    assert clone(model).get_params() == {"strategy": "most_frequent"}
    y = LABELS["digits"]
    assert model.fit(np.zeros((len(y), 1)), y) is model


@pytest.mark.parametrize("strategy", ["stratified", "uniform", "constant", "mode"])
def test_unsupported_strategy(strategy):
    with pytest.raises(ParameterError, match="'strategy' parameter of DummyClassifier must be one of 'prior', "
                                             "'most_frequent'"):
        DummyClassifier(strategy=strategy).fit(np.zeros((3, 1)), np.array([0, 1, 1]))


def test_reads_only_the_rows_of_X_as_sklearn():
    """NaN, strings, 3-D: scikit-learn's dummy never looks at X's values, nor at its width when predicting."""
    y = LABELS["digits"]
    for X in (np.full((len(y), 2), np.nan), np.zeros((len(y), 2, 2)), [["a", "b"]] * len(y)):
        ours = DummyClassifier().fit(X, y)
        ref = sklearn.dummy.DummyClassifier().fit(X, y)
        for X_test in (np.zeros((4, 7)), [[1.0]] * 4):
            np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))
            np.testing.assert_array_equal(ours.predict_proba(X_test), ref.predict_proba(X_test))


def test_fitted_on_the_device_stays_there():
    with fake_cupy.installed() as cp:
        y = LABELS["digits"]
        model = DummyClassifier().fit(cp.zeros((len(y), 3)), cp.asarray(y))
        pred = model.predict(np.zeros((5, 3)))
        assert isinstance(pred, cp.ndarray) and isinstance(model.class_prior_, cp.ndarray)
        ref = sklearn.dummy.DummyClassifier().fit(np.zeros((len(y), 3)), y)
        np.testing.assert_array_equal(pred.get(), ref.predict(np.zeros((5, 3))))
        np.testing.assert_array_equal(model.class_prior_.get(), ref.class_prior_)
        assert model.score(None, cp.asarray(y)) == ref.score(None, y)


def test_labels_on_the_device_keep_the_model_there():
    """Host X, device y: the classes live in y's namespace, as the docstring says (CuPy if X or y is)."""
    with fake_cupy.installed() as cp:
        y = LABELS["tie"]
        model = DummyClassifier().fit(np.zeros((len(y), 2)), cp.asarray(y))
        assert isinstance(model.classes_, cp.ndarray) and isinstance(model.class_prior_, cp.ndarray)
        ref = sklearn.dummy.DummyClassifier().fit(np.zeros((len(y), 2)), y)
        np.testing.assert_array_equal(model.classes_.get(), ref.classes_)
        np.testing.assert_array_equal(model.predict(np.zeros((3, 2))).get(), ref.predict(np.zeros((3, 2))))


def test_score_needs_one_label_per_row_of_X_like_sklearn():
    y = LABELS["digits"]
    ours = DummyClassifier().fit(np.zeros((len(y), 2)), y)
    ref = sklearn.dummy.DummyClassifier().fit(np.zeros((len(y), 2)), y)
    X_test = np.zeros((5, 2))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ref.score(X_test, y[:4])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ours.score(X_test, y[:4])


class _Shaped:
    """An array-like that has a shape but no length (a lazy reader): converting it is refused."""

    def __init__(self, shape):
        self.shape = shape

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("materialised")


class _Sized:
    """A sequence-like with a length but no shape: converting it is refused."""

    def __len__(self):
        return 4

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("materialised")


def test_rows_are_counted_without_converting_X_like_sklearn():
    """scikit-learn's _num_samples reads the shape, else the length, and never converts such X."""
    y = np.array([3, 1, 1, 2])
    for X in (_Shaped((4, 3)), _Shaped((4,)), _Sized()):
        ours = DummyClassifier(strategy="most_frequent").fit(X, y)
        ref = sklearn.dummy.DummyClassifier(strategy="most_frequent").fit(X, y)
        assert getattr(ours, "n_features_in_", None) == getattr(ref, "n_features_in_", None)
        np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
        np.testing.assert_array_equal(ours.predict_proba(X), ref.predict_proba(X))
        assert ours.score(X, y) == ref.score(X, y)
