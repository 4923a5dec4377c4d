"""Estimator contracts that mutation testing found unchecked (see docs/testing.md).

Messages that name the estimator at fault, scikit-learn's tags compared with scikit-learn's own
estimators, sample weights in ``score``, and multi-output KNN labels of every kind (strings, wide integers, booleans).
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier as SkDummy
from sklearn.neighbors import KNeighborsClassifier as SkKNN
from sklearn.preprocessing import StandardScaler as SkScaler

from gpuclf.errors import InputError
from gpuclf.estimators import (DummyClassifier, KNeighborsClassifier, OneVsOneClassifier, OneVsRestClassifier,
                               SGDClassifier, StandardScaler)

X = np.random.default_rng(0).random((12, 3))
Y = np.tile([0, 1, 2], 4)


def _classifiers():
    return [DummyClassifier(), KNeighborsClassifier(n_neighbors=3), SGDClassifier(random_state=0),
            OneVsOneClassifier(SGDClassifier(random_state=0)), OneVsRestClassifier(SGDClassifier(random_state=0))]


@pytest.mark.parametrize("est", _classifiers(), ids=lambda e: type(e).__name__)
def test_missing_y_names_the_estimator(est):
    with pytest.raises(InputError, match=f"^This {type(est).__name__} estimator requires y to be passed"):
        est.fit(X, None)


@pytest.mark.parametrize("est", _classifiers(), ids=lambda e: type(e).__name__)
def test_non_finite_labels_name_the_estimator(est):
    y = Y.astype(float)
    y[3] = np.nan
    with pytest.raises(InputError, match=f"^Input y contains NaN or infinity; {type(est).__name__} needs"):
        est.fit(X, y)


@pytest.mark.parametrize("est", [SGDClassifier(random_state=0), OneVsOneClassifier(SGDClassifier()), OneVsRestClassifier(SGDClassifier())],
                         ids=lambda e: type(e).__name__)
def test_single_class_names_the_estimator(est):
    with pytest.raises(ValueError, match=f"{type(est).__name__}|only one class"):
        est.fit(X, np.zeros(len(X), dtype=int))


@pytest.mark.parametrize("est", _classifiers() + [StandardScaler()], ids=lambda e: type(e).__name__)
def test_feature_count_mismatch_names_the_estimator(est):
    est.fit(X, Y) if not isinstance(est, StandardScaler) else est.fit(X)
    method = est.transform if isinstance(est, StandardScaler) else est.predict
    if isinstance(est, DummyClassifier):
        pytest.skip("DummyClassifier ignores X's values, as scikit-learn's")
    with pytest.raises(ValueError, match=f"X has 2 features, but {type(est).__name__} is expecting 3 features"):
        method(X[:, :2])


def test_dummy_tags_are_sklearn_s():
    ours, theirs = DummyClassifier().__sklearn_tags__(), SkDummy().__sklearn_tags__()
    assert ours.input_tags.sparse == theirs.input_tags.sparse is True
    # X's values are never read: NaN is accepted, as scikit-learn's dummy accepts it (it validates nothing).
    assert ours.input_tags.allow_nan is True
    X_nan = np.where(X > 0.5, np.nan, X)
    np.testing.assert_array_equal(DummyClassifier().fit(X_nan, Y).predict(X_nan), SkDummy().fit(X_nan, Y).predict(X_nan))
    assert ours.classifier_tags.poor_score == theirs.classifier_tags.poor_score is True
    assert ours.no_validation == theirs.no_validation is True


def test_scaler_tags_are_sklearn_s():
    ours, theirs = StandardScaler().__sklearn_tags__(), SkScaler().__sklearn_tags__()
    assert ours.transformer_tags.preserves_dtype == theirs.transformer_tags.preserves_dtype == ["float64", "float32"]


def test_dummy_score_uses_sample_weight():
    y = np.array([0, 0, 0, 1, 1, 2])
    w = np.array([0.1, 0.1, 0.1, 5.0, 5.0, 1.0])
    ours = DummyClassifier().fit(X[:6], y)
    ref = SkDummy().fit(X[:6], y)
    assert ours.score(X[:6], y, sample_weight=w) == pytest.approx(ref.score(X[:6], y, sample_weight=w))
    assert ours.score(X[:6], y, sample_weight=w) != pytest.approx(ours.score(X[:6], y))
    assert ours.score(None, y) == pytest.approx(ref.score(None, y))


@pytest.mark.parametrize("labels", [np.array(["a", "b", "c"]), np.array([-300, 7, 40000], dtype=np.int32),
                                    np.array([False, True, True])])
def test_multioutput_knn_labels_of_every_kind(labels):
    rng = np.random.default_rng(1)
    Xm = rng.random((60, 4))
    Ym = labels[rng.integers(0, 3, (60, 5))]
    query = rng.random((20, 4))
    got = KNeighborsClassifier(n_neighbors=3).fit(Xm, Ym).predict(query)
    np.testing.assert_array_equal(got, SkKNN(n_neighbors=3).fit(Xm, Ym).predict(query))


def test_dummy_needs_an_array_like_x():
    y = np.array([0, 1, 1])
    for bad in (None, "abc", 5):
        with pytest.raises(InputError, match="^DummyClassifier needs an array-like X of shape "
                                             rf"\(n_samples, n_features\), got {type(bad).__name__}$"):
            DummyClassifier().fit(bad, y) if bad is not None else DummyClassifier().fit(X[:3], y).predict(bad)


def test_dummy_counts_rows_of_any_array_like_and_records_features():
    class ArrayOnly:  # only __array__: no shape, no len (scikit-learn's _num_samples converts it)
        def __array__(self, dtype=None, copy=None):
            return np.zeros((4, 2))

    y = np.array([0, 1, 1, 1])
    assert DummyClassifier().fit(ArrayOnly(), y).predict(ArrayOnly()).shape == (4,)
    ours, theirs = DummyClassifier().fit(X[:4], y), SkDummy().fit(X[:4], y)
    assert ours.n_features_in_ == theirs.n_features_in_ == 3
    assert DummyClassifier().fit([[1], [2], [3], [4]], y).n_features_in_ == 1
    with pytest.raises(TypeError):
        DummyClassifier().fit(np.array(5.0), np.array([1]))


class _Thresholded(ClassifierMixin, BaseEstimator):
    """A binary 'classifier' scoring x0 - 0.5: exactly 0 on the boundary."""

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def decision_function(self, X):
        return np.asarray(X)[:, 0] - 0.5


def test_ovr_binary_score_of_zero_is_the_first_class():
    from sklearn.multiclass import OneVsRestClassifier as SkOvR

    Xb = np.array([[0.0], [0.5], [1.0], [0.5]])
    yb = np.array([0, 1, 1, 0])
    got = OneVsRestClassifier(_Thresholded()).fit(Xb, yb).predict(Xb)
    np.testing.assert_array_equal(got, SkOvR(_Thresholded()).fit(Xb, yb).predict(Xb))
    np.testing.assert_array_equal(got, [0, 0, 1, 0])


@pytest.mark.parametrize("cls", [OneVsRestClassifier, OneVsOneClassifier])
def test_meta_estimators_leave_nan_to_their_base_estimator(cls):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsOneClassifier as SkOvO, OneVsRestClassifier as SkOvR
    from sklearn.pipeline import make_pipeline

    X_nan = np.where(X > 0.8, np.nan, X)
    base = make_pipeline(SimpleImputer(), LogisticRegression())
    ref = (SkOvR if cls is OneVsRestClassifier else SkOvO)(base).fit(X_nan, Y)
    np.testing.assert_array_equal(cls(base).fit(X_nan, Y).predict(X_nan), ref.predict(X_nan))


class _FitOnly(BaseEstimator):
    def fit(self, X, y):
        return self


_SGD = lambda **p: SGDClassifier(**{"random_state": 0, "max_iter": 2, **p})  # noqa: E731
PARAM_CASES = [  # (estimator factory, parameter, refused values, accepted values, what the message says)
    (KNeighborsClassifier, "n_neighbors", [0, None, True, 2.0], [1], "an integer >= 1"),
    (KNeighborsClassifier, "budget_bytes", [0, True], [None, 1], "None or an integer >= 1"),
    (KNeighborsClassifier, "weights", ["x", None], ["uniform", "distance"], "one of 'uniform', 'distance'"),
    (_SGD, "alpha", [0, -1.0, np.inf, np.nan, True, None], [1e-12], "a finite number > 0"),
    (_SGD, "average_after", [-1, 1.5], [None, 0], "None or an integer >= 0"),
    (_SGD, "random_state", [-1, 2**32], [None, 0, 2**32 - 1], "None or an integer in [0, 4294967295]"),
    (_SGD, "tol", [-1e-9, np.nan, np.inf, True], [None, 0.0], "None or a finite number >= 0"),
    (_SGD, "max_iter", [0, None], [1], "an integer >= 1"),
    (_SGD, "loss", ["log_loss", None], ["hinge"], "one of 'hinge'"),
    (DummyClassifier, "strategy", ["uniform", None], ["prior", "most_frequent"], "one of 'prior', 'most_frequent'"),
    (lambda **p: OneVsRestClassifier(**p), "estimator", [_FitOnly(), None],
     [SGDClassifier(max_iter=2), KNeighborsClassifier()], "an estimator with fit, and decision_function or predict_proba"),
    (StandardScaler, "with_mean", [None, "yes", 1], [True, False], "a bool"),
    (StandardScaler, "with_std", [None, "no", 0], [True, False], "a bool"),
]


@pytest.mark.parametrize("make, param, refused, accepted, what", PARAM_CASES, ids=[c[1] for c in PARAM_CASES])
def test_hyper_parameters_at_their_bounds(make, param, refused, accepted, what):
    for value in accepted:
        make(**{param: value}).fit(X, Y)
    for value in refused:
        est = make(**{param: value})
        message = f"The {param!r} parameter of {type(est).__name__} must be {what}, got {value!r}"
        with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
            est.fit(X, Y)


def test_sgd_score_of_exactly_zero_is_the_first_class():
    """scikit-learn's linear classifiers predict the positive class only for a score > 0."""
    from sklearn.linear_model import SGDClassifier as SkSGD

    y = np.array([0, 1] * 6)
    ours = SGDClassifier(random_state=0, max_iter=2).fit(X, y)
    ours.coef_ = np.zeros_like(ours.coef_)
    ours.intercept_ = np.zeros_like(ours.intercept_)
    twin = SkSGD().fit(X, y)
    twin.coef_, twin.intercept_ = np.zeros_like(twin.coef_), np.zeros_like(twin.intercept_)
    np.testing.assert_array_equal(ours.predict(X), twin.predict(X))
    np.testing.assert_array_equal(ours.predict(X), np.zeros(len(X)))


@pytest.mark.parametrize("with_mean", [True, False])
@pytest.mark.parametrize("with_std", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8])
def test_scaler_options_as_sklearn(with_mean, with_std, dtype):
    """with_mean / with_std: the same attributes (values and types) and the same transforms as scikit-learn's."""
    rng = np.random.default_rng(0)
    Xs = (rng.random((40, 5)) * 200).astype(dtype)
    Xs[:, 2] = 7  # a constant feature: scale 1
    ours = StandardScaler(with_mean=with_mean, with_std=with_std).fit(Xs)
    ref = SkScaler(with_mean=with_mean, with_std=with_std).fit(Xs)
    for name in ("mean_", "var_", "scale_", "n_samples_seen_"):
        mine, theirs = getattr(ours, name), getattr(ref, name)
        assert type(mine) is type(theirs), name
        if theirs is not None:
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, err_msg=name)
    out, expected = ours.transform(Xs), ref.transform(Xs)
    assert out.dtype == expected.dtype
    np.testing.assert_allclose(out, expected, rtol=1e-6 if dtype == np.float32 else 1e-12)
    np.testing.assert_allclose(ours.inverse_transform(out), ref.inverse_transform(expected), rtol=1e-5)
    assert out is not Xs and not np.shares_memory(out, Xs)
