"""Fold assignment against scikit-learn's unshuffled StratifiedKFold and KFold."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.model_selection import KFold, StratifiedKFold

from gpuclf.errors import GpuclfError
from gpuclf.kernels.folds import folds_to_indices, kfold_test_folds, stratified_kfold_test_folds


def sklearn_test_folds(cv, y):
    """Fold id per sample from ``cv.split``: the public behaviour, not a private helper."""
    folds = np.full(len(y), -1)
    for k, (_, test) in enumerate(cv.split(np.zeros((len(y), 1)), y)):
        folds[test] = k
    return folds


def assert_same_splits(ours, cv, y):
    ref = list(cv.split(np.zeros((len(y), 1)), y))
    assert len(ours) == len(ref)
    for (train, test), (ref_train, ref_test) in zip(ours, ref):
        np.testing.assert_array_equal(train, ref_train)
        np.testing.assert_array_equal(test, ref_test)


LABELS = {
    "mnist-like": np.random.default_rng(0).integers(0, 10, 600),
    "unbalanced": np.array([0] * 50 + [1] * 7 + [0] * 13 + [1] * 3),
    # First appearance order (3, 1, 2) differs from sorted order: the encoding matters.
    "appearance-order": np.array([3, 3, 1, 2, 1, 3, 2, 2, 1, 3, 1, 2, 3, 1, 3, 2]),
    "boolean": np.random.default_rng(1).random(97) < 0.1,
    "strings": np.array(list("bacbbcaacbabcabcbbca")),
    "one-class": np.zeros(10, dtype=int),
}


@pytest.mark.parametrize("name", sorted(LABELS))
@pytest.mark.parametrize("n_splits", [2, 3, 5])
def test_stratified_matches_sklearn(name, n_splits):
    y = LABELS[name]
    ours = stratified_kfold_test_folds(y, n_splits)
    cv = StratifiedKFold(n_splits)
    np.testing.assert_array_equal(ours, sklearn_test_folds(cv, y))
    assert_same_splits(folds_to_indices(ours), cv, y)


@pytest.mark.parametrize("n", [7, 10, 11, 12, 1000])
@pytest.mark.parametrize("n_splits", [2, 3, 7])
def test_kfold_matches_sklearn(n, n_splits):
    cv = KFold(n_splits)
    y = np.zeros(n)
    ours = kfold_test_folds(n, n_splits)
    np.testing.assert_array_equal(ours, sklearn_test_folds(cv, y))
    assert_same_splits(folds_to_indices(ours), cv, y)


def test_kfold_uses_given_namespace():
    assert isinstance(kfold_test_folds(10, 3, xp=np), np.ndarray)


@pytest.mark.parametrize("bad", [1, 0, -2, 2.5, "3"])
def test_bad_n_splits(bad):
    with pytest.raises(GpuclfError, match=r"n_splits must be an integer of at least 2"):
        stratified_kfold_test_folds(np.array([0, 1] * 10), bad)
    with pytest.raises(GpuclfError, match=r"n_splits must be an integer of at least 2"):
        kfold_test_folds(20, bad)
    with pytest.raises(ValueError):
        KFold(bad).split(np.zeros((20, 1))).__next__()


def test_fewer_samples_than_folds():
    msg = r"cannot split 2 samples into n_splits=3 folds; use n_splits <= 2"
    with pytest.raises(GpuclfError, match=msg):
        stratified_kfold_test_folds(np.array([0, 0]), 3)
    with pytest.raises(GpuclfError, match=msg):
        kfold_test_folds(2, 3)
    with pytest.raises(ValueError, match="greater than the number of samples"):
        next(KFold(3).split(np.zeros((2, 1))))


def test_rare_class_names_class_and_count():
    y = np.array([5, 5, 5, 5, 7, 7, 9, 9, 9])
    # scikit-learn accepts this with a warning; we refuse, naming class 7 and its count.
    with pytest.warns(UserWarning, match="least populated class in y has only 2"):
        next(StratifiedKFold(3).split(np.zeros((9, 1)), y))
    with pytest.raises(GpuclfError, match=r"class 7 has only 2 samples, fewer than n_splits=3"):
        stratified_kfold_test_folds(y, 3)
    with pytest.raises(GpuclfError, match=r"class 'x' has only 1 samples"):
        stratified_kfold_test_folds(np.array(["a", "a", "x", "a"]), 2)


def test_multilabel_y_is_refused():
    with pytest.raises(GpuclfError, match="use kfold_test_folds for multilabel"):
        stratified_kfold_test_folds(np.zeros((10, 2), dtype=int))


@settings(max_examples=100, deadline=None)
@given(
    y=st.lists(st.integers(0, 5), min_size=1, max_size=80),
    n_splits=st.integers(2, 6),
)
def test_stratified_property(y, n_splits):
    y = np.array(y)
    cv = StratifiedKFold(n_splits)
    rarest = np.unique(y, return_counts=True)[1].min()
    if len(y) < n_splits:
        with pytest.raises(ValueError):
            sklearn_test_folds(cv, y)
        with pytest.raises(GpuclfError, match="cannot split"):
            stratified_kfold_test_folds(y, n_splits)
    elif rarest < n_splits:
        # scikit-learn warns (or raises when every class is too small); we raise.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                sklearn_test_folds(cv, y)
            except ValueError:
                pass
            else:
                assert any("least populated class" in str(w.message) for w in caught)
        with pytest.raises(GpuclfError, match=f"has only {rarest} samples"):
            stratified_kfold_test_folds(y, n_splits)
    else:
        np.testing.assert_array_equal(
            stratified_kfold_test_folds(y, n_splits), sklearn_test_folds(cv, y)
        )


# -- mutation survivors (round 5) ------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(LABELS))
def test_stratified_folds_are_int64(name):
    """The documented return dtype: int64 fold ids (usable as indices), whatever the labels' dtype."""
    folds = stratified_kfold_test_folds(LABELS[name], 2)
    assert folds.dtype == np.int64
    np.testing.assert_array_equal(folds, sklearn_test_folds(StratifiedKFold(2), LABELS[name]))
