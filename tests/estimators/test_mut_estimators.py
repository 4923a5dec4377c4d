"""Estimator behaviours that mutation testing found unchecked (issue 17), against scikit-learn.

What a reader swapping our estimators into the chapter's code relies on: the
sentences bad input gets (each names the estimator and what to do), the
column-vector warning, the tags and ``score`` of a multi-output KNN, the
binary SGD's decision threshold, multi-output labels of any type.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.neighbors import KNeighborsClassifier as SkKNN
from sklearn.preprocessing import StandardScaler as SkScaler
from sklearn.utils import get_tags

from gpuclf.errors import InputError, ParameterError
from gpuclf.estimators import (DummyClassifier, KNeighborsClassifier, OneVsRestClassifier, SGDClassifier,
                               StandardScaler)
from gpuclf.estimators.linear import cross_val_decision_sgd

X6 = np.arange(12.0).reshape(6, 2)
Y6 = np.array([0, 1, 0, 1, 0, 1])

MESSAGES = {
    "X None": (lambda: KNeighborsClassifier().fit(None, Y6), InputError,
               "KNeighborsClassifier got None for X; it needs a dense 2-D array (sparse is not supported)"),
    "X sparse": (lambda: KNeighborsClassifier().fit(sp.csr_matrix(X6), Y6), InputError,
                 "KNeighborsClassifier got sparse input for X; it needs a dense 2-D array (sparse is not supported)"),
    "X complex": (lambda: SGDClassifier().fit(X6.astype(complex), Y6), InputError,
                  "Complex data not supported by SGDClassifier; pass real-valued X"),
    "X strings": (lambda: KNeighborsClassifier().fit(np.array([["a", "b"]] * 6), Y6), InputError,
                  "KNeighborsClassifier needs numeric X, got dtype <U1; convert the strings to numbers first"),
    "X object strings": (lambda: StandardScaler().fit(np.array([["a", 1]] * 6, dtype=object)), InputError,
                         "StandardScaler needs numeric X, got dtype object (could not convert string to float: 'a')"),
    "X 1-D": (lambda: KNeighborsClassifier().fit(np.arange(6.0), Y6), InputError,
              "Expected a 2D array for X, got 1D with shape (6,). Reshape your data with X.reshape(-1, 1) if it "
              "has a single feature or X.reshape(1, -1) if it is a single sample"),
    "X no rows": (lambda: StandardScaler().fit(np.zeros((0, 3))), InputError,
                  "Found array with 0 sample(s) (shape=(0, 3)) while a minimum of 1 is required by StandardScaler"),
    "X no columns": (lambda: StandardScaler().fit(np.zeros((3, 0))), InputError,
                     "Found array with 0 feature(s) (shape=(3, 0)) while a minimum of 1 is required by StandardScaler"),
    "y None": (lambda: SGDClassifier().fit(X6, None), InputError,
               "This SGDClassifier estimator requires y to be passed, but the target y is None"),
    "y None, X bad too": (lambda: SGDClassifier().fit(None, None), InputError,
                          "This SGDClassifier estimator requires y to be passed, but the target y is None"),
    "y sparse": (lambda: KNeighborsClassifier().fit(X6, sp.csr_matrix(Y6)), InputError,
                 "KNeighborsClassifier needs a dense y; sparse labels are not supported"),
    "y mixed types": (lambda: KNeighborsClassifier().fit(X6, [0, "a", 0, "a", 0, "a"]), InputError,
                      "Mix of label input types (string and number) in y; KNeighborsClassifier needs one type of label"),
    "y 3-D": (lambda: KNeighborsClassifier().fit(X6, np.zeros((6, 1, 2))), InputError,
              "y should be a 1d array, got an array of shape (6, 1, 2) instead"),
    "y 2-D for SGD": (lambda: SGDClassifier().fit(X6, np.zeros((6, 2))), InputError,
                      "y should be a 1d array, got an array of shape (6, 2) instead"),
    "X infinity": (lambda: SGDClassifier().fit(np.r_[[[np.inf, 0.0]], X6[1:]], Y6), InputError,
                   "X contains NaN or infinity; SGDClassifier needs finite values (impute or drop them)"),
    "y NaN": (lambda: DummyClassifier().fit(X6, np.r_[np.nan, Y6[1:]]), InputError,
              "Input y contains NaN or infinity; DummyClassifier needs finite class labels"),
    "no rows": (lambda: DummyClassifier().fit(np.zeros((0, 2)), np.zeros(0)), InputError,
                "Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is required by DummyClassifier"),
    "one class": (lambda: SGDClassifier().fit(X6, np.zeros(6)), InputError,
                  "y has only one class (0.0); SGDClassifier needs samples of at least 2 classes"),
    "one class, OvR": (lambda: OneVsRestClassifier(SGDClassifier()).fit(X6, np.ones(6, dtype=int)), InputError,
        "y has only one class (1); OneVsRestClassifier needs samples of at least 2 classes"),
    "n_neighbors 0": (lambda: KNeighborsClassifier().fit(X6, Y6).kneighbors(X6, n_neighbors=0), InputError,
                      "Expected n_neighbors > 0. Got 0"),
    "n_neighbors param": (lambda: KNeighborsClassifier(n_neighbors=0).fit(X6, Y6), ParameterError,
                          "The 'n_neighbors' parameter of KNeighborsClassifier must be an integer >= 1, got 0"),
    "CV of another estimator": (lambda: cross_val_decision_sgd(KNeighborsClassifier(), X6, Y6, np.arange(6) % 2),
                                InputError, "cross_val_decision_sgd needs a gpuclf SGDClassifier, got "
                                "KNeighborsClassifier"),
}


@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_bad_input_gets_its_sentence(case):
    call, error, message = MESSAGES[case]
    with pytest.raises(error) as err:
        call()
    assert str(err.value) == message
    assert isinstance(err.value, ValueError)  # what scikit-learn raises, so the book's except clauses still work


def test_float_fold_ids_are_refused():
    with pytest.raises(InputError):
        cross_val_decision_sgd(SGDClassifier(), X6, Y6, (np.arange(6) % 2).astype(float))
    with pytest.raises(InputError):
        cross_val_decision_sgd(SGDClassifier(), X6, Y6, np.arange(6) % 2 - 1)


@pytest.mark.call_stack
def test_column_vector_y_warns_as_sklearn_does_at_the_caller():
    with pytest.warns(DataConversionWarning) as ours:
        KNeighborsClassifier(n_neighbors=3).fit(X6, Y6[:, None])
    with pytest.warns(DataConversionWarning) as theirs:
        SkKNN(n_neighbors=3).fit(X6, Y6[:, None])
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs][:1]
    assert ours[0].filename == __file__  # the warning names the user's line, not gpuclf's
    knn = KNeighborsClassifier(n_neighbors=3).fit(X6, Y6)
    with pytest.warns(DataConversionWarning) as scored:
        knn.score(X6, Y6[:, None])
    assert scored[0].filename == __file__


def test_knn_tags_are_sklearn_s():
    ours, theirs = get_tags(KNeighborsClassifier()), get_tags(SkKNN())
    assert ours.classifier_tags.multi_label == theirs.classifier_tags.multi_label is True
    assert ours.target_tags.multi_output == theirs.target_tags.multi_output is True


def test_multi_output_score_is_subset_accuracy_like_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    Y = np.c_[X[:, 0] > 0, X[:, 1] + 0.8 * rng.normal(size=80) > 0].astype(int)
    w = rng.uniform(0.5, 2, size=40)
    ours, theirs = KNeighborsClassifier(n_neighbors=3).fit(X[:40], Y[:40]), SkKNN(n_neighbors=3).fit(X[:40], Y[:40])
    assert ours.score(X[40:], Y[40:]) == pytest.approx(theirs.score(X[40:], Y[40:]))
    assert ours.score(X[40:], Y[40:], sample_weight=w) == pytest.approx(theirs.score(X[40:], Y[40:], sample_weight=w))
    # Some rows are right on one output only: subset accuracy is below the mean per-output accuracy.
    assert ours.score(X[40:], Y[40:]) < (ours.predict(X[40:]) == Y[40:]).mean()


def test_multi_output_labels_of_any_type_and_count():
    """Columns with different numbers of classes (2, 3 and 5) and string labels, against scikit-learn."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    Y = np.c_[np.where(X[:, 0] > 0, "yes", "no"), np.array(["a", "b", "c"])[(X[:, 1] > 0).astype(int) + (X[:, 0] > 1)],
              np.array(["v", "w", "x", "y", "z"])[np.digitize(X[:, 1], [-1, -0.3, 0.3, 1])]]
    ours, theirs = KNeighborsClassifier().fit(X[:40], Y[:40]), SkKNN().fit(X[:40], Y[:40])
    assert (ours.predict(X[40:]) == theirs.predict(X[40:])).all()
    assert [c.tolist() for c in ours.classes_] == [c.tolist() for c in theirs.classes_]
    for a, b in zip(ours.predict_proba(X[40:]), theirs.predict_proba(X[40:])):
        np.testing.assert_allclose(a, b)


def test_one_neighbour_is_allowed():
    knn, sk = KNeighborsClassifier(n_neighbors=1).fit(X6, Y6), SkKNN(n_neighbors=1).fit(X6, Y6)
    np.testing.assert_array_equal(knn.kneighbors(X6[:2], n_neighbors=1)[1], sk.kneighbors(X6[:2], n_neighbors=1)[1])
    assert knn.predict(X6).tolist() == Y6.tolist()


def test_binary_sgd_predicts_the_positive_class_for_any_positive_score():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 3))
    y = np.where(X[:, 0] + 0.5 * rng.normal(size=300) > 0, "five", "other")
    model = SGDClassifier(random_state=0).fit(X, y)
    scores = model.decision_function(X)
    assert ((scores > 0) & (scores < 1)).any()  # scores on the positive side, inside the margin
    assert model.predict(X).tolist() == model.classes_[(scores > 0).astype(int)].tolist()


def test_clone_keeps_the_parameters_and_forgets_the_fit():
    knn = KNeighborsClassifier(n_neighbors=2, weights="distance").fit(X6, Y6)
    copy = clone(knn)
    assert copy.get_params() == knn.get_params() and not hasattr(copy, "classes_")


def test_scaler_inverse_transform_restores_float32_data():
    X = np.random.default_rng(3).uniform(0, 255, size=(50, 4)).astype(np.float32)
    scaler = StandardScaler().fit(X)
    back = scaler.inverse_transform(scaler.transform(X))
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, X, rtol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sk = SkScaler().fit(X)
        np.testing.assert_array_equal(back, sk.inverse_transform(sk.transform(X)))


def test_labels_as_a_plain_list():
    ours = KNeighborsClassifier(n_neighbors=3).fit(X6, Y6.tolist())
    assert ours.predict(X6).tolist() == SkKNN(n_neighbors=3).fit(X6, Y6.tolist()).predict(X6).tolist()


def test_score_names_the_estimator_for_bad_labels():
    knn = KNeighborsClassifier(n_neighbors=3).fit(X6, Y6)
    with pytest.raises(InputError) as err:
        knn.score(X6, np.r_[np.nan, Y6[1:]])
    assert str(err.value) == "Input y contains NaN or infinity; KNeighborsClassifier needs finite class labels"


def test_labels_cross_to_where_the_model_lives():
    """validate_y hands labels back in the model's namespace: device labels for a host model come back,
    host labels for a device model go over, a device column vector is raveled there."""
    import fake_cupy
    from gpuclf.estimators.validation import validate_y

    with fake_cupy.installed() as cp:
        est = KNeighborsClassifier()
        got = validate_y(est, cp.asarray(Y6), 6, xp=np)
        assert type(got) is np.ndarray and got.tolist() == Y6.tolist()
        got = validate_y(est, Y6, 6, xp=cp)
        assert isinstance(got, cp.ndarray) and got.get().tolist() == Y6.tolist()
        same = cp.asarray(Y6)
        assert validate_y(est, same, 6, xp=cp) is same  # already there: no round trip
        floats = cp.asarray(Y6.astype(np.float64))  # checked on the host, handed back as they came
        assert validate_y(est, floats, 6, xp=cp) is floats
        with pytest.warns(DataConversionWarning):
            got = validate_y(est, cp.asarray(Y6[:, None]), 6, xp=cp)
        assert isinstance(got, cp.ndarray) and got.shape == (6,)


def test_cross_validated_sgd_scores_stay_on_the_device():
    """Device rows, labels and fold ids: the fold models train there and the scores come back there, equal to
    the host's (the fold ids go to the rows' namespace, not NumPy's)."""
    import fake_cupy

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    folds = np.arange(60) % 3
    want = cross_val_decision_sgd(SGDClassifier(random_state=0), X, y, folds)
    with fake_cupy.installed() as cp:
        got = cross_val_decision_sgd(SGDClassifier(random_state=0), cp.asarray(X), cp.asarray(y), cp.asarray(folds))
        assert isinstance(got, cp.ndarray)
        np.testing.assert_allclose(got.get(), want, rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
def test_sgd_scores_take_sklearns_dtype(n_classes, fit_dtype):
    """scikit-learn scores ``X @ coef_.T + intercept_`` with NumPy's promotion, the rows as given: a float32
    model scores uint8 rows in float32 and float64 or int64 rows in float64, and a binary model's intercept_
    is float64 whatever the data (so are its scores, and the out-of-fold ones). gpuclf cast every row to the
    model's dtype before."""
    from sklearn.linear_model import SGDClassifier as SkSGD
    from sklearn.model_selection import PredefinedSplit, cross_val_predict

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)) * 20 + 100
    y = (X[:, 0] > 100).astype(int) + (n_classes == 3) * (X[:, 1] > 100)
    ours = SGDClassifier(random_state=0).fit(X.astype(fit_dtype), y)
    ref = SkSGD(random_state=0).fit(X.astype(fit_dtype), y)
    assert (ours.coef_.dtype, ours.intercept_.dtype) == (ref.coef_.dtype, ref.intercept_.dtype)
    for score_dtype in (np.float32, np.float64, np.uint8, np.int8, np.int64):
        Xs = np.clip(X, 0, 127).astype(score_dtype)
        got = ours.decision_function(Xs)
        assert got.dtype == ref.decision_function(Xs).dtype, score_dtype
        # Same model, scored exactly: within the rounding of a GEMM in the rows' and coef_'s promoted dtype.
        exact = (Xs.astype(np.float64) @ ours.coef_.T.astype(np.float64) + ours.intercept_).reshape(got.shape)
        scale = (np.abs(Xs.astype(np.float64)) @ np.abs(ours.coef_.T.astype(np.float64))).reshape(got.shape)
        eps = np.finfo(np.result_type(Xs.dtype, ours.coef_.dtype)).eps
        assert np.all(np.abs(got - exact) <= 8 * X.shape[1] * eps * (scale + np.abs(exact)))
    folds = np.arange(60) % 3
    cv = cross_val_decision_sgd(SGDClassifier(random_state=0), X.astype(fit_dtype), y, folds)
    want = cross_val_predict(SkSGD(random_state=0), X.astype(fit_dtype), y, cv=PredefinedSplit(folds),
                             method="decision_function")
    assert cv.dtype == want.dtype


def test_device_labels_put_the_model_on_the_device():
    """fit's promise: the model lives in the namespace of X and y, CuPy if either is, so host rows with device
    labels train on the device, where predict answers (scikit-learn's predictions, there)."""
    import fake_cupy

    want = SkKNN(n_neighbors=3).fit(X6, Y6).predict(X6)
    with fake_cupy.installed() as cp:
        model = KNeighborsClassifier(n_neighbors=3).fit(X6, cp.asarray(Y6))
        assert isinstance(model.classes_, cp.ndarray)
        got = model.predict(X6)
        assert isinstance(got, cp.ndarray) and got.get().tolist() == want.tolist()


def test_validate_X_y_honours_the_namespace_and_float_dtype_asked():
    """validate_X_y's ``xp`` (default: that of X and y) and ``float_dtype`` (what non-float X becomes)."""
    import fake_cupy
    from gpuclf.estimators.validation import validate_X_y

    X_int = np.arange(12).reshape(6, 2)
    X, y = validate_X_y(SGDClassifier(), X_int, Y6, float_dtype=np.float32)
    assert X.dtype == np.float32 and X.tolist() == X_int.tolist()
    X, y = validate_X_y(SGDClassifier(), X_int, Y6)
    assert X.dtype == np.float64
    with fake_cupy.installed() as cp:
        X, y = validate_X_y(SGDClassifier(), cp.asarray(X6), cp.asarray(Y6), xp=np)
        assert type(X) is np.ndarray and type(y) is np.ndarray
        assert X.tolist() == X6.tolist() and y.tolist() == Y6.tolist()
        X, y = validate_X_y(SGDClassifier(), X6, cp.asarray(Y6))
        assert isinstance(X, cp.ndarray) and isinstance(y, cp.ndarray)


def test_column_vector_warning_is_sklearns_and_names_no_gpuclf_line():
    """scikit-learn's sentence, attributed to a line outside gpuclf (unlike the call_stack test above, this
    holds whatever wraps the user's frame)."""
    import os

    import gpuclf

    with pytest.warns(DataConversionWarning) as ours:
        KNeighborsClassifier(n_neighbors=3).fit(X6, Y6[:, None])
    with pytest.warns(DataConversionWarning) as theirs:
        SkKNN(n_neighbors=3).fit(X6, Y6[:, None])
    assert str(ours[0].message) == str(theirs[0].message)
    assert not os.path.abspath(ours[0].filename).startswith(os.path.dirname(os.path.abspath(gpuclf.__file__)) + os.sep)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_validate_X_does_not_copy_float_input(dtype):
    """A float32 or float64 ``X`` is used as it is, as scikit-learn's ``check_array(copy=False)`` uses it: a
    60,000 x 784 training set is not duplicated on the device by the check."""
    from sklearn.utils import check_array

    from gpuclf.estimators import SGDClassifier
    from gpuclf.estimators.validation import validate_X

    X = np.arange(12, dtype=dtype).reshape(4, 3)
    assert np.shares_memory(check_array(X), X)
    out = validate_X(SGDClassifier(), X, reset=True)
    assert out.dtype == dtype and np.shares_memory(out, X)


def test_multilabel_y_with_no_columns_is_refused_as_scikit_learn_refuses_it():
    """A 2-D ``y`` with no columns is refused with scikit-learn's words (it checks a 2-D ``y`` as it checks X:
    "Found array with 0 feature(s)"), whatever the labels' type, and never passes as integer labels."""
    from sklearn.neighbors import KNeighborsClassifier as Sk

    for dtype in (int, float, bool):
        y = np.zeros((6, 0), dtype=dtype)
        with pytest.raises(ValueError) as sk:
            Sk().fit(X6, y)
        with pytest.raises(InputError) as ours:
            KNeighborsClassifier().fit(X6, y)
        assert str(ours.value) + "." == str(sk.value)  # gpuclf's messages end without a full stop


@pytest.mark.parametrize("fit_dtype", [np.float32, np.float64])
def test_sgd_scores_of_object_rows_are_floats_as_scikit_learns(fit_dtype):
    """Numbers in an object array are checked into float64 rows, as scikit-learn's ``check_array`` does: the
    scores are float64 values, equal to those of the same rows given as float64."""
    from sklearn.linear_model import SGDClassifier as Sk

    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = SGDClassifier(random_state=0).fit(X.astype(fit_dtype), y)
    got = model.decision_function(X.astype(object))
    assert got.dtype == Sk(random_state=0).fit(X.astype(fit_dtype), y).decision_function(X.astype(object)).dtype
    np.testing.assert_array_equal(got, model.decision_function(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_scoring_rows_of_the_models_dtype_does_not_copy_them(dtype):
    """Rows already in the scores' dtype go to the GEMM as they are: scoring 20,000 x 100 rows takes far less
    than another copy of them (tracemalloc), as scikit-learn's ``safe_sparse_dot`` does."""
    from traced_peak import extra_peak

    rng = np.random.default_rng(4)
    X = rng.normal(size=(20_000, 100)).astype(dtype)
    model = SGDClassifier(random_state=0, max_iter=2, tol=None).fit(X[:200], (X[:200, 0] > 0).astype(int))
    peak, scores = extra_peak(lambda: model.decision_function(X))
    assert scores.shape == (20_000,)
    assert peak < X.nbytes / 4
