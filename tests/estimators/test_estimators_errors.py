"""Bad input to every exported estimator fails as scikit-learn's counterpart does, on NumPy and emulated CuPy.

Each case runs scikit-learn's estimator in the test and expects the same
outcome from gpuclf's: success where it succeeds, and where it raises a
``ValueError`` or ``TypeError``, an :class:`~gpuclf.errors.InputError` (a
``ValueError`` that the command line prints as one line). The few places
where gpuclf deliberately refuses what scikit-learn accepts are listed in
``STRICTER`` with the reason. The ``emulated`` runs hand the estimators
device arrays (``OnDevice``), so the CuPy code paths meet the same input.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.dummy
import sklearn.linear_model
import sklearn.multiclass
import sklearn.neighbors
import sklearn.preprocessing
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.exceptions import DataConversionWarning, FitFailedWarning, NotFittedError
from sklearn.model_selection import GridSearchCV

import fake_cupy
from gpuclf.errors import GpuclfError, InputError, ParameterError
from gpuclf.estimators import (DummyClassifier, KNeighborsClassifier, OneVsOneClassifier, OneVsRestClassifier,
                               SGDClassifier, StandardScaler)
from test_estimators_checks import NearestCentroid, OnDevice

# ours, scikit-learn's: the same model, so that outcomes (and predictions) compare.
PAIRS = {
    "dummy": (lambda: DummyClassifier(), lambda: sklearn.dummy.DummyClassifier()),
    "knn": (lambda: KNeighborsClassifier(n_neighbors=3),
            lambda: sklearn.neighbors.KNeighborsClassifier(n_neighbors=3, algorithm="brute")),
    "ovo": (lambda: OneVsOneClassifier(NearestCentroid()),
            lambda: sklearn.multiclass.OneVsOneClassifier(NearestCentroid())),
    "ovr": (lambda: OneVsRestClassifier(NearestCentroid()),
            lambda: sklearn.multiclass.OneVsRestClassifier(NearestCentroid())),
    "sgd": (lambda: SGDClassifier(random_state=0), lambda: sklearn.linear_model.SGDClassifier(random_state=0)),
}
CLASSIFIERS = list(PAIRS)

#: (estimator, case) -> why gpuclf raises where scikit-learn's estimator does not.
STRICTER = {
    ("dummy", "y NaN"): "scikit-learn's dummy makes NaN a class; gpuclf checks y as every classifier does",
    ("dummy", "y continuous"): "scikit-learn's dummy counts any values; gpuclf checks y as every classifier does",
    ("dummy", "X empty"): "scikit-learn's dummy fits no classes on no rows, then cannot predict",
    ("dummy", "X None"): "scikit-learn's dummy fits without X at all; gpuclf's takes the rows from X",
    ("ovr", "one class"): "scikit-learn's OvR fits a constant predictor with a warning; gpuclf refuses, as OvO does",
    ("dummy", "y inf"): "as y NaN",
    ("dummy", "y 2 columns"): "gpuclf's dummy predicts one output (the chapter's use); scikit-learn's several",
    ("dummy", "y sparse"): "gpuclf's estimators take dense labels",
    ("knn", "y sparse"): "gpuclf's estimators take dense labels",
    ("knn", "X sparse"): "gpuclf's kernels work on dense arrays; sparse X is refused in one line",
    ("sgd", "X sparse"): "gpuclf's kernels work on dense arrays; sparse X is refused in one line",
    ("sgd", "X strings"): "strings are refused even when they spell numbers, as scikit-learn's KNN and OvO do",
    ("scaler", "X strings"): "strings are refused even when they spell numbers, as scikit-learn's KNN and OvO do",
    ("scaler", "X NaN"): "gpuclf's scaler has no NaN-aware statistics (scikit-learn's ignores NaN); it refuses NaN",
    ("scaler", "NaN"): "as X NaN at fit",
    **{(name, "y mixed list"): "NumPy turns [1, 'a'] into strings, so scikit-learn's predictions change type; "
                               "gpuclf refuses, as scikit-learn's OvR and unique_labels do"
       for name in ("dummy", "knn", "ovo", "sgd")},
}


#: SGDClassifier checks y itself (linear.py's _check_X_y, under rewrite); validate_X_y + encode_labels
#: would give it the shared messages and checks. Not strict: passes once it does.

@pytest.fixture(params=["numpy", "emulated"])
def path(request):
    """How the estimator gets its arrays: NumPy as given, or as device arrays (emulated CuPy)."""
    if request.param == "numpy":
        yield lambda est: est
    else:
        with fake_cupy.installed():
            yield OnDevice


def _data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)


def _outcome(fit):
    """'ok', or the exception raised (warnings silenced: only the outcome counts)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit()
        except Exception as exc:  # noqa: BLE001 - the exception is the result
            return exc
    return "ok"


def check_like_sklearn(name, case, ours_fit, theirs_fit):
    """Ours succeeds where scikit-learn's does, else raises an InputError (a ValueError)."""
    theirs = _outcome(theirs_fit)
    assert theirs == "ok" or isinstance(theirs, (ValueError, TypeError)), theirs
    ours = _outcome(ours_fit)
    if theirs == "ok" and (name, case) not in STRICTER:
        assert ours == "ok", f"scikit-learn accepts {case!r}, gpuclf raised {ours!r}"
    else:
        assert isinstance(ours, InputError), f"scikit-learn raised {theirs!r} on {case!r}, gpuclf gave {ours!r}"
        assert "\n" not in str(ours)  # one line for the command line


# -- X at fit --------------------------------------------------------------------------
X0, Y0 = _data()
BAD_X = {
    "X 3-D": (X0[:, :, None], Y0),
    "X 1-D": (X0[:, 0], Y0),
    "X empty": (X0[:0], Y0[:0]),
    "X no features": (X0[:, :0], Y0),
    "X NaN": (np.where(X0 > 1.5, np.nan, X0), Y0),
    "X inf": (np.where(X0 > 1.5, np.inf, X0), Y0),
    "X strings": (X0.astype(str), Y0),
    "X complex": (X0 + 1j, Y0),
    "X None": (None, Y0),
    "X sparse": (sparse.csr_matrix(X0), Y0),
    "X list": (X0.tolist(), Y0),
    "X DataFrame": (pd.DataFrame(X0, columns=list("abcd")), Y0),
    "X int": (np.rint(X0 * 10).astype(np.int16), Y0),
}


@pytest.mark.parametrize("case", BAD_X)
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_fit_X_like_sklearn(name, case, path):
    X, y = BAD_X[case]
    ours, theirs = PAIRS[name]
    check_like_sklearn(name, case, lambda: path(ours()).fit(X, y), lambda: theirs().fit(X, y))


@pytest.mark.parametrize("case", BAD_X)
def test_scaler_fit_X_like_sklearn(case, path):
    X, _ = BAD_X[case]
    if case == "X sparse":  # scikit-learn's centres nothing on sparse input; ours always centres
        with pytest.raises(InputError, match="sparse"):
            path(StandardScaler()).fit(X)
        return
    check_like_sklearn("scaler", case, lambda: path(StandardScaler()).fit(X),
                       lambda: sklearn.preprocessing.StandardScaler().fit(X))


# -- y at fit --------------------------------------------------------------------------
BAD_Y = {
    "y None": None,
    "y shorter": Y0[:-1],
    "y longer": np.r_[Y0, 0],
    "y NaN": np.where(Y0 == 2, np.nan, Y0),
    "y inf": np.where(Y0 == 2, np.inf, Y0),
    "y continuous": Y0 + 0.5,
    "y integral floats": Y0.astype(float),
    "y bool": Y0 > 0,
    "y mixed list": [1 if v else "a" for v in Y0],  # NumPy makes them all strings, as scikit-learn
    "y mixed objects": np.array([1 if v else "a" for v in Y0], dtype=object),
    "y 2 columns": np.c_[Y0, Y0],
    "y 3-D": Y0[:, None, None],
    "y sparse": sparse.csr_matrix(Y0[:, None]),
    "one class": np.zeros_like(Y0),
}
ON_HOST_ONLY = {"y mixed list", "y mixed objects"}  # string labels: CuPy has none (tested below)


@pytest.mark.parametrize("case", BAD_Y)
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_fit_y_like_sklearn(name, case, path):
    if case in ON_HOST_ONLY and path is OnDevice:
        pytest.skip("string labels on the device are refused: test_device_refuses_string_labels")
    y = BAD_Y[case]
    ours, theirs = PAIRS[name]
    check_like_sklearn(name, case, lambda: path(ours()).fit(X0, y), lambda: theirs().fit(X0, y))


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_length_mismatch_message(name, path):
    ours, theirs = PAIRS[name]
    with pytest.raises(ValueError) as sk_err:
        theirs().fit(X0, Y0[:-2])
    with pytest.raises(InputError) as err:
        path(ours()).fit(X0, Y0[:-2])
    assert str(err.value) == str(sk_err.value) == "Found input variables with inconsistent numbers of samples: [30, 28]"


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_mixed_objects_say_unknown_label_type(name):
    """scikit-learn's KNN and OvO say so; its dummy, OvR and SGD raise a TypeError from sorting str with int."""
    y = BAD_Y["y mixed objects"]
    with pytest.raises(InputError, match="Unknown label type: unknown"):
        PAIRS[name][0]().fit(X0, y)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_column_vector_y_warns_and_fits_as_1d(name, path):
    ours = PAIRS[name][0]
    with pytest.warns(DataConversionWarning):
        column = path(ours()).fit(X0, Y0[:, None]).predict(X0)
    assert_array_equal(column, path(ours()).fit(X0, Y0).predict(X0))


@pytest.mark.parametrize("name", CLASSIFIERS)
@pytest.mark.parametrize("labels", [np.array(["cat", "dog", "emu"]), np.array([-1.5, 0.0, 2.5]),
                                    np.array([7, 3, 250], dtype=np.uint8), np.array([False, True, True])])
def test_labels_round_trip_like_sklearn(name, labels):
    """Predictions are training labels, of their dtype, equal to scikit-learn's (on NumPy)."""
    y = labels[Y0]
    if labels.dtype.kind == "f":  # non-integral floats are "continuous" to scikit-learn's classifiers
        with pytest.raises(InputError, match="Unknown label type"):
            PAIRS[name][0]().fit(X0, y)
        return
    X_test, _ = _data(12, seed=1)
    ours, theirs = PAIRS[name][0]().fit(X0, y), PAIRS[name][1]().fit(X0, y)
    assert_array_equal(ours.classes_, theirs.classes_)
    pred = ours.predict(X_test)
    assert pred.dtype == theirs.predict(X_test).dtype
    if name != "sgd":  # gpuclf's SGD trains in mini-batches: the same labels, not the same model
        assert_array_equal(pred, theirs.predict(X_test))
    assert ours.score(X_test, pred) == 1.0


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_device_refuses_string_labels(name):
    with fake_cupy.installed():
        with pytest.raises(InputError, match="labels must be numbers or booleans"):
            OnDevice(PAIRS[name][0]()).fit(X0, np.array(["a", "b", "c"])[Y0])


# -- predicting ------------------------------------------------------------------------
BAD_QUERY = {
    "wrong n_features": X0[:5, :3],
    "1-D": X0[0],
    "3-D": X0[:5, :, None],
    "NaN": np.where(X0[:5] > 1, np.nan, X0[:5]),
    "empty": X0[:0],
    "list": X0[:5].tolist(),
}


@pytest.mark.parametrize("case", BAD_QUERY)
@pytest.mark.parametrize("name", CLASSIFIERS)
def test_predict_like_sklearn(name, case, path):
    ours, theirs = PAIRS[name]
    model, ref = path(ours()).fit(X0, Y0), theirs().fit(X0, Y0)
    Xq = BAD_QUERY[case]
    check_like_sklearn(name, case, lambda: model.predict(Xq), lambda: ref.predict(Xq))


def test_dataframe_columns_are_remembered(path):
    X = pd.DataFrame(X0, columns=list("abcd"))
    knn = path(KNeighborsClassifier()).fit(X, Y0)
    assert_array_equal(knn.feature_names_in_, list("abcd"))
    with pytest.warns(UserWarning, match="fitted with feature names"):
        knn.predict(X0)


@pytest.mark.parametrize("case", ["wrong n_features", "NaN", "3-D"])
def test_scaler_transform_like_sklearn(case, path):
    scaler, ref = path(StandardScaler()).fit(X0), sklearn.preprocessing.StandardScaler().fit(X0)
    Xq = BAD_QUERY[case]
    for method in ("transform", "inverse_transform"):
        check_like_sklearn("scaler", case, lambda: getattr(scaler, method)(Xq), lambda: getattr(ref, method)(Xq))


# -- before fit ------------------------------------------------------------------------
UNFITTED = [(DummyClassifier, ["predict", "predict_proba", "score"]),
            (KNeighborsClassifier, ["predict", "predict_proba", "kneighbors", "score"]),
            (lambda: OneVsOneClassifier(NearestCentroid()), ["predict", "decision_function", "score"]),
            (lambda: OneVsRestClassifier(NearestCentroid()), ["predict", "decision_function", "score"]),
            (SGDClassifier, ["predict", "decision_function"]),
            (StandardScaler, ["transform", "inverse_transform"])]


@pytest.mark.parametrize("make, methods", UNFITTED)
def test_not_fitted_error_before_fit(make, methods, path):
    est = make()
    for method in methods:
        args = (X0, Y0) if method == "score" else (X0,)
        with pytest.raises(NotFittedError):
            getattr(est, method)(*args)


# -- hyper-parameters ------------------------------------------------------------------
BAD_PARAMS = [
    ("knn", {"n_neighbors": 0}), ("knn", {"n_neighbors": -1}), ("knn", {"n_neighbors": 2.5}),
    ("knn", {"n_neighbors": np.inf}), ("knn", {"n_neighbors": "5"}), ("knn", {"weights": "gaussian"}),
    ("dummy", {"strategy": "mode"}), ("dummy", {"strategy": None}),
    ("sgd", {"alpha": np.inf}), ("sgd", {"alpha": np.nan}), ("sgd", {"alpha": -1.0}), ("sgd", {"max_iter": 0}),
    ("sgd", {"max_iter": 2.5}), ("sgd", {"random_state": -1}), ("sgd", {"random_state": 2**40}),
    ("ovo", {"estimator": None}), ("ovr", {"estimator": "svc"}),
]


@pytest.mark.parametrize("name, params", BAD_PARAMS)
def test_bad_hyper_parameters_raise_like_sklearn(name, params, path):
    """scikit-learn raises InvalidParameterError (a ValueError and a TypeError); so does gpuclf's ParameterError."""
    ours, theirs = PAIRS[name]
    ref = theirs().set_params(**params)
    with pytest.raises(ValueError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref.fit(X0, Y0)
    est = ours().set_params(**params)
    with pytest.raises(ParameterError, match=f"The '{next(iter(params))}' parameter of {type(est).__name__}"):
        path(est).fit(X0, Y0)
    assert not hasattr(est, "classes_")  # refused before touching the data


def test_budget_bytes_must_be_positive():
    with pytest.raises(ParameterError, match="budget_bytes"):
        KNeighborsClassifier(budget_bytes=0).fit(X0, Y0)


@pytest.mark.parametrize("query", [None, X0[:4]])
@pytest.mark.parametrize("n_neighbors", [0, -2, 30, 31, 2.0])
def test_kneighbors_bounds_like_sklearn(n_neighbors, query, path):
    """Same exception type and message as scikit-learn's (leaving each sample out allows one fewer)."""
    ref = sklearn.neighbors.KNeighborsClassifier(algorithm="brute").fit(X0, Y0)
    theirs = _outcome(lambda: ref.kneighbors(query, n_neighbors=n_neighbors))
    knn = path(KNeighborsClassifier()).fit(X0, Y0)
    model = knn.estimator_ if isinstance(knn, OnDevice) else knn
    ours = _outcome(lambda: model.kneighbors(query, n_neighbors=n_neighbors))
    if theirs == "ok":
        assert ours == "ok"
        return
    assert isinstance(ours, GpuclfError) and isinstance(ours, type(theirs))
    assert str(ours) == str(theirs)


def test_n_neighbors_above_samples_is_a_value_error_at_predict():
    knn = KNeighborsClassifier(n_neighbors=31).fit(X0, Y0)  # as scikit-learn's, fit does not know the bound
    with pytest.raises(InputError, match="Expected n_neighbors <= n_samples_fit, but n_neighbors = 31, "
                                         "n_samples_fit = 30, n_samples = 5"):
        knn.predict(X0[:5])


def test_grid_search_error_score_sees_value_errors():
    """GridSearchCV(error_score=nan) turns a candidate's ValueError into a NaN score and a warning."""
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [3, 0]}, cv=3, error_score=np.nan)
    with pytest.warns(FitFailedWarning, match="3 fits failed"):
        search.fit(X0, Y0)
    assert search.best_params_ == {"n_neighbors": 3}
    assert np.isnan(search.cv_results_["mean_test_score"][1])


def test_integer_labels_on_the_device_are_checked_without_a_host_copy():
    """Integer targets are classification targets whatever their values: only their shape is checked, so the
    denoising KNN's 784 pixel outputs per row stay on the device (no sync); float labels still go through
    scikit-learn's host check."""
    from gpuclf.estimators import KNeighborsClassifier
    from gpuclf.estimators.validation import validate_y

    pixels = np.random.default_rng(0).integers(0, 256, size=(50, 784), dtype=np.uint8)
    with fake_cupy.installed() as cp:
        y = cp.asarray(pixels)
        fake_cupy.reset_stats()
        assert validate_y(KNeighborsClassifier(), y, 50, xp=cp, multi_output=True) is y
        assert fake_cupy.stats["syncs"] == 0
        with pytest.raises(InputError, match="inconsistent numbers of samples"):
            validate_y(KNeighborsClassifier(), y, 49, xp=cp, multi_output=True)
        with pytest.raises(InputError, match="NaN or infinity"):
            validate_y(KNeighborsClassifier(), cp.asarray(np.array([0.0, np.nan])), 2, xp=cp)
