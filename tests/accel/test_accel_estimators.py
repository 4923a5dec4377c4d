"""The swapped classes against scikit-learn's own: same outputs where the algorithm is the same, scikit-learn's
machinery (clone, CV, Pipeline, grid search, pickling, params, reprs), and a fallback for whatever gpuclf lacks."""
from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import dummy as sk_dummy
from sklearn import linear_model as sk_linear
from sklearn import multiclass as sk_multiclass
from sklearn import neighbors as sk_neighbors
from sklearn import preprocessing as sk_preprocessing
from sklearn.base import ClassifierMixin, TransformerMixin, clone
from sklearn.datasets import load_digits
from sklearn.exceptions import DataConversionWarning
from sklearn.model_selection import GridSearchCV, cross_val_predict, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from gpuclf.accel import calls
from gpuclf.accel.estimators import (DummyClassifier, KNeighborsClassifier, OneVsOneClassifier, OneVsRestClassifier,
                                     SGDClassifier, StandardScaler)

# scikit-learn's own classes, by their defining modules (install() changes only the public names).
SK = {
    SGDClassifier: sk_linear._stochastic_gradient.SGDClassifier,
    KNeighborsClassifier: sk_neighbors._classification.KNeighborsClassifier,
    StandardScaler: sk_preprocessing._data.StandardScaler,
    DummyClassifier: sk_dummy.DummyClassifier,
    OneVsOneClassifier: sk_multiclass.OneVsOneClassifier,
    OneVsRestClassifier: sk_multiclass.OneVsRestClassifier,
}


@pytest.fixture(scope="module")
def digits():
    """The book's types: float64 pixels, labels as object strings.

    The pixels are jittered: with exactly equal distances at the k-th neighbour, scikit-learn's pick depends on
    its heap's order (its own kneighbors(k=5) and kneighbors(k=8) disagree there), gpuclf's is training order.
    """
    X, y = load_digits(return_X_y=True)
    X = X + np.random.default_rng(0).random(X.shape) * 1e-3
    return X[:900], y[:900].astype(str).astype(object), X[900:1200], y[900:1200].astype(str).astype(object)


@pytest.fixture(autouse=True)
def fresh_records():
    calls.clear()
    yield
    calls.clear()


def where(method: str, estimator: str | None = None) -> list[tuple[str, str]]:
    """(where, reason) of each recorded call of ``method``."""
    return [(r["where"], r["reason"]) for r in calls.summary()
            if r["method"] == method and (estimator is None or r["estimator"] == estimator)]


# -- same outputs as scikit-learn ------------------------------------------------------------------
@pytest.mark.parametrize("params", [{}, {"n_neighbors": 4, "weights": "distance"}, {"n_neighbors": 1}])
def test_knn_identical_to_sklearn(params, digits):
    X, y, Xt, _ = digits
    ours, ref = KNeighborsClassifier(**params).fit(X, y), SK[KNeighborsClassifier](**params).fit(X, y)
    pred = ours.predict(Xt)
    np.testing.assert_array_equal(pred, ref.predict(Xt))
    assert pred.dtype == ref.predict(Xt).dtype and ours.classes_.dtype == ref.classes_.dtype
    np.testing.assert_allclose(ours.predict_proba(Xt), ref.predict_proba(Xt), rtol=0, atol=1e-12)
    d, i = ours.kneighbors(Xt[:20])
    rd, ri = ref.kneighbors(Xt[:20])
    np.testing.assert_array_equal(i, ri)
    np.testing.assert_allclose(d, rd, rtol=1e-9)
    assert ours.score(Xt, digits[3]) == ref.score(Xt, digits[3])
    assert all(w == ("gpuclf (numpy)", "") for w in where("predict"))


@pytest.mark.parametrize("algorithm, search", [("auto", "auto"), ("brute", "brute")])
def test_knn_searches_as_the_backend_chooses_with_sklearns_neighbours(algorithm, search, digits):
    """scikit-learn's "auto" takes the backend's search (pruned where it pays), "brute" brute force."""
    X, y, Xt, _ = digits
    ours = KNeighborsClassifier(algorithm=algorithm).fit(X, y)
    assert ours.__dict__["_gpuclf_model"].algorithm == search
    np.testing.assert_array_equal(ours.kneighbors(Xt)[1], SK[KNeighborsClassifier]().fit(X, y).kneighbors(Xt)[1])


def test_knn_multilabel_and_multioutput_identical(digits):
    X, y, Xt, _ = digits
    yi = y.astype(np.int8)
    multilabel = np.c_[yi >= 7, yi % 2 == 1]
    pixels = np.rint(X[:, :40])  # the chapter's denoising: one output per pixel
    for Y in (multilabel, pixels):
        ours, ref = KNeighborsClassifier().fit(X, Y), SK[KNeighborsClassifier]().fit(X, Y)
        np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
        assert ours.predict(Xt).dtype == ref.predict(Xt).dtype
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataConversionWarning)
        with pytest.raises(DataConversionWarning):
            KNeighborsClassifier().fit(X, y.reshape(-1, 1))


@pytest.mark.parametrize("params", [{}, {"with_mean": False}, {"with_std": False}])
def test_scaler_identical_to_sklearn(params, digits):
    X = digits[0]
    ours, ref = StandardScaler(**params).fit(X), SK[StandardScaler](**params).fit(X)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(X)), X, atol=1e-9)
    for name in ("mean_", "var_", "scale_", "n_samples_seen_"):
        assert type(getattr(ours, name)) is type(getattr(ref, name))
    np.testing.assert_allclose(ours.fit_transform(X.astype(np.float32)), ref.fit_transform(X.astype(np.float32)),
                               rtol=1e-6)


@pytest.mark.parametrize("cls", [OneVsOneClassifier, OneVsRestClassifier])
def test_reductions_over_knn_identical(cls, digits):
    X, y, Xt, _ = digits
    ours = cls(KNeighborsClassifier(n_neighbors=3)).fit(X, y)
    ref = SK[cls](SK[KNeighborsClassifier](n_neighbors=3)).fit(X, y)
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert ours.classes_.dtype == ref.classes_.dtype and len(ours.estimators_) == len(ref.estimators_)
    assert ("gpuclf (numpy)", "") in where("fit", cls.__name__)


def test_dummy_identical(digits):
    X, y, Xt, _ = digits
    for strategy in ("prior", "most_frequent", "stratified"):
        ours = DummyClassifier(strategy=strategy, random_state=0).fit(X, y == "5")
        ref = SK[DummyClassifier](strategy=strategy, random_state=0).fit(X, y == "5")
        np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
        np.testing.assert_array_equal(ours.predict_proba(Xt), ref.predict_proba(Xt))


def test_sgd_differs_only_as_parity_says(digits):
    """gpuclf's batched averaged SGD: not scikit-learn's numbers, but its types, shapes and a comparable accuracy."""
    X, y, Xt, yt = digits
    ours, ref = SGDClassifier(random_state=42).fit(X, y), SK[SGDClassifier](random_state=42).fit(X, y)
    assert ours.coef_.shape == ref.coef_.shape and ours.coef_.dtype == ref.coef_.dtype
    assert ours.intercept_.shape == ref.intercept_.shape and ours.classes_.dtype == ref.classes_.dtype
    assert ours.predict([Xt[0]]).dtype == ref.predict([Xt[0]]).dtype
    assert ours.decision_function(Xt).shape == ref.decision_function(Xt).shape
    assert ours.score(Xt, yt) >= ref.score(Xt, yt) - 0.03
    binary = SGDClassifier(random_state=42).fit(X, y == "5")
    assert binary.decision_function([Xt[0]]).shape == (1,) and binary.predict([Xt[0]]).dtype == bool
    assert where("fit", "SGDClassifier")[0] == ("gpuclf (numpy)", "")


# -- scikit-learn's machinery ----------------------------------------------------------------------
@pytest.mark.parametrize("cls", list(SK))
def test_params_repr_and_types_are_sklearns(cls):
    base = (KNeighborsClassifier(),) if cls in (OneVsOneClassifier, OneVsRestClassifier) else ()
    ours, ref = cls(*base), SK[cls](*(SK[KNeighborsClassifier](),) if base else ())
    assert list(ours.get_params(deep=False)) == list(ref.get_params(deep=False))
    assert {k: v for k, v in ours.get_params(deep=False).items() if k != "estimator"} == \
           {k: v for k, v in ref.get_params(deep=False).items() if k != "estimator"}
    assert repr(ours) == repr(ref) and type(ours).__name__ == cls.__name__
    assert isinstance(ours, SK[cls]) and isinstance(SK[cls](*base), cls)  # both ways
    assert isinstance(ours, ClassifierMixin) or isinstance(ours, TransformerMixin)
    assert type(clone(ours)) is cls and clone(ours).get_params(deep=False).keys() == ours.get_params(deep=False).keys()


def test_cross_validation_pipeline_and_grid_search(digits):
    X, y, Xt, yt = digits
    scores = cross_val_score(SGDClassifier(random_state=42), X, y == "5", cv=3, scoring="accuracy")
    assert scores.shape == (3,) and scores.min() > 0.9
    dec = cross_val_predict(SGDClassifier(random_state=42), X, y == "5", cv=3, method="decision_function")
    assert dec.shape == (len(X),) and dec.dtype == np.float64
    knn_pred = cross_val_predict(KNeighborsClassifier(), X, y, cv=3)
    np.testing.assert_array_equal(knn_pred, cross_val_predict(SK[KNeighborsClassifier](), X, y, cv=3))
    pipe = make_pipeline(StandardScaler(), KNeighborsClassifier()).fit(X, y)
    ref = make_pipeline(SK[StandardScaler](), SK[KNeighborsClassifier]()).fit(X, y)
    np.testing.assert_array_equal(pipe.predict(Xt), ref.predict(Xt))
    grid = {"weights": ["uniform", "distance"], "n_neighbors": [3, 4]}
    ours = GridSearchCV(KNeighborsClassifier(), grid, cv=3).fit(X, y)
    theirs = GridSearchCV(SK[KNeighborsClassifier](), grid, cv=3).fit(X, y)
    assert ours.best_params_ == theirs.best_params_ and ours.best_score_ == theirs.best_score_
    assert ours.score(Xt, yt) == theirs.score(Xt, yt) and type(ours.best_estimator_) is KNeighborsClassifier


def test_pickle_keeps_predictions(digits):
    X, y, Xt, _ = digits
    for est in (SGDClassifier(random_state=0), KNeighborsClassifier(), StandardScaler()):
        est.fit(X, y)
        back = pickle.loads(pickle.dumps(est))
        method = "transform" if isinstance(est, StandardScaler) else "predict"
        np.testing.assert_array_equal(getattr(back, method)(Xt), getattr(est, method)(Xt))
        assert "_gpuclf_model" not in back.__dict__  # a pickle is scikit-learn's state only
    assert ("scikit-learn", "restored from a pickle: scikit-learn's fitted state") in where("predict")


def test_set_params_after_fit_is_followed(digits):
    """KNN reads n_neighbors at predict time in scikit-learn: the fitted model follows the new value."""
    X, y, Xt, _ = digits
    ours, ref = KNeighborsClassifier().fit(X, y), SK[KNeighborsClassifier]().fit(X, y)
    ours.set_params(n_neighbors=1, weights="distance")
    ref.set_params(n_neighbors=1, weights="distance")
    np.testing.assert_array_equal(ours.predict_proba(Xt), ref.predict_proba(Xt))
    ours.set_params(metric="manhattan")
    ref.set_params(metric="manhattan")
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
    assert where("predict")[-1][0] == "scikit-learn"


def test_fitted_attribute_set_by_hand_hands_over(digits):
    X, y, Xt, _ = digits
    est = SGDClassifier(random_state=0).fit(X, y == "5")
    est.coef_ = np.zeros_like(est.coef_)
    est.intercept_ = np.array([1.0])
    assert est.predict(Xt).all()  # scikit-learn's predict on the new coefficients
    assert where("predict")[-1] == ("scikit-learn", "coef_ set by hand after fit")


# -- fallback ------------------------------------------------------------------------------------
FALLBACKS = [
    (lambda: SGDClassifier(loss="log_loss", random_state=0), {}, "loss='log_loss'"),
    (lambda: SGDClassifier(penalty="l1", random_state=0), {}, "penalty='l1'"),
    (lambda: SGDClassifier(class_weight="balanced", random_state=0), {}, "class_weight='balanced'"),
    (lambda: SGDClassifier(random_state=np.random.RandomState(0)), {}, "random_state=RandomState"),
    (lambda: SGDClassifier(random_state=0), {"sample_weight": True}, "sample_weight given"),
    (lambda: KNeighborsClassifier(metric="manhattan"), {}, "metric='manhattan'"),
    (lambda: KNeighborsClassifier(algorithm="kd_tree"), {}, "algorithm='kd_tree'"),
    (lambda: KNeighborsClassifier(weights=lambda d: 1 / (1 + d)), {}, "weights=<function"),
    (lambda: StandardScaler(copy=False), {}, "copy=False"),
    (lambda: StandardScaler(), {"sample_weight": True}, "sample_weight given"),
    (lambda: OneVsRestClassifier(sk_linear._stochastic_gradient.SGDClassifier(random_state=0)), {},
     "the base estimator SGDClassifier is scikit-learn's own"),
]


@pytest.mark.parametrize("make, extra, reason", FALLBACKS)
def test_unsupported_runs_sklearn_with_the_same_result(make, extra, reason, digits):
    X, y, Xt, _ = digits
    ours, twin = make(), make()  # twin: its own RandomState where there is one
    ref = SK[type(ours)](**twin.get_params(deep=False))
    kwargs = {"sample_weight": np.ones(len(X))} if extra.get("sample_weight") else {}
    fit_args = (X,) if isinstance(ours, StandardScaler) else (X, y)
    ours.fit(*fit_args, **kwargs)
    ref.fit(*fit_args, **kwargs)
    method = "transform" if isinstance(ours, StandardScaler) else "predict"
    np.testing.assert_array_equal(getattr(ours, method)(Xt), getattr(ref, method)(Xt))
    place, why = where("fit", type(ours).__name__)[0]
    assert place == "scikit-learn" and why.startswith(reason), why


def test_sparse_input_and_partial_fit_run_sklearn(digits):
    X, y, Xt, _ = digits
    est = SGDClassifier(random_state=0).fit(sp.csr_matrix(X), y)
    assert where("fit")[0] == ("scikit-learn", "sparse X")
    ref = SK[SGDClassifier](random_state=0).fit(sp.csr_matrix(X), y)
    np.testing.assert_array_equal(est.predict(Xt), ref.predict(Xt))
    # Accelerated fit, then sparse queries and a partial_fit: scikit-learn continues from gpuclf's model.
    est = SGDClassifier(random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.predict(sp.csr_matrix(Xt)), est.predict(Xt))
    est.partial_fit(X[:50], y[:50])
    assert where("partial_fit")[0][0] == "scikit-learn"
    knn = KNeighborsClassifier().fit(X, y)
    graph = knn.kneighbors_graph(Xt[:5])
    np.testing.assert_array_equal(graph.toarray(), SK[KNeighborsClassifier]().fit(X, y).kneighbors_graph(Xt[:5])
                                  .toarray())


def test_errors_are_sklearns(digits):
    """Bad parameters and bad data fail with scikit-learn's exception and message, not gpuclf's."""
    X, y, Xt, _ = digits
    for make in (lambda c: c(alpha=-1.0), lambda c: c(max_iter=0)):
        with pytest.raises(InvalidParameterError) as ours:
            make(SGDClassifier).fit(X, y)
        with pytest.raises(InvalidParameterError) as theirs:
            make(SK[SGDClassifier]).fit(X, y)
        assert str(ours.value) == str(theirs.value)
    bad = X.copy()
    bad[0, 0] = np.nan
    for cls in (SGDClassifier, KNeighborsClassifier):
        with pytest.raises(ValueError) as ours:
            cls().fit(bad, y)
        with pytest.raises(ValueError) as theirs:
            SK[cls]().fit(bad, y)
        assert str(ours.value) == str(theirs.value)
        fitted, ref = cls().fit(X, y), SK[cls]().fit(X, y)
        with pytest.raises(ValueError) as ours:
            fitted.predict(X[:, :5])
        with pytest.raises(ValueError) as theirs:
            ref.predict(X[:, :5])
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="Unknown label type"):
        SGDClassifier().fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError, match="The number of classes has to be greater than one"):
        SGDClassifier().fit(X, np.zeros(len(X)))


def test_refit_after_a_fallback_leaves_no_stale_state(digits):
    """A fit by scikit-learn, then one by gpuclf: scikit-learn's private state is that of the second."""
    X, y, Xt, _ = digits
    knn = KNeighborsClassifier(metric="manhattan").fit(X[:100], y[:100])
    knn.set_params(metric="euclidean").fit(X, y)
    assert knn._fit_X.shape == X.shape  # made from the second fit's data, when asked for
    np.testing.assert_array_equal(knn.kneighbors_graph(Xt[:3]).toarray(),
                                  SK[KNeighborsClassifier]().fit(X, y).kneighbors_graph(Xt[:3]).toarray())
