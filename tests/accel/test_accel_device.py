"""accel on the gpu backend, through the CuPy and cuML emulations (tests/fake_cupy.py, tests/fake_cuml.py):
NumPy inputs go to the device once per call and results come back as NumPy; CuPy inputs give CuPy results;
string labels work (they are encoded on the host); with cuML, the forest and SVC are swapped too."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

import fake_cupy
import fake_cuml
import fake_rmm
import gpuclf.accel as accel
from gpuclf.accel import calls


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X + np.random.default_rng(0).random(X.shape) * 1e-3  # no equidistant neighbours
    return X[:600], y[:600].astype(str).astype(object), X[600:800]


@pytest.fixture
def on_device():
    with fake_cupy.installed() as cupy:
        calls.clear()
        try:
            accel.install(backend="gpu", quiet=True)
            yield cupy
        finally:
            accel.uninstall()
            from gpuclf.accel import backend

            backend.forget_backend()  # the next test chooses again, outside the emulation


def test_numpy_in_numpy_out_same_as_numpy_backend(on_device, digits):
    import sklearn.linear_model
    import sklearn.neighbors
    import sklearn.preprocessing

    X, y, Xt = digits
    knn = sklearn.neighbors.KNeighborsClassifier().fit(X, y)
    pred = knn.predict(Xt)
    assert isinstance(pred, np.ndarray) and pred.dtype == object
    assert isinstance(knn.__dict__["_gpuclf_model"]._fit_X, on_device.ndarray)  # the training set on the device
    ref = sklearn.neighbors._classification.KNeighborsClassifier().fit(X, y)
    np.testing.assert_array_equal(pred, ref.predict(Xt))
    scaled = sklearn.preprocessing.StandardScaler().fit(X).transform(Xt)
    assert isinstance(scaled, np.ndarray)
    np.testing.assert_allclose(scaled, sklearn.preprocessing._data.StandardScaler().fit(X).transform(Xt), atol=1e-12)
    sgd = sklearn.linear_model.SGDClassifier(random_state=0).fit(X, y)
    assert isinstance(sgd.coef_, np.ndarray) and sgd.predict(Xt).dtype.kind == "U"
    assert {r["where"] for r in calls.summary()} == {"gpuclf (gpu)"}


def test_cupy_in_cupy_out(on_device, digits):
    import sklearn.neighbors

    X, y, Xt = digits
    Xd, yd = on_device.asarray(X), on_device.asarray(y.astype(np.int64))
    knn = sklearn.neighbors.KNeighborsClassifier().fit(Xd, yd)
    assert isinstance(knn.predict(on_device.asarray(Xt)), on_device.ndarray)
    assert isinstance(knn.predict_proba(on_device.asarray(Xt)), on_device.ndarray)
    assert isinstance(knn.predict(Xt), np.ndarray)
    import sklearn.dummy

    dummy = sklearn.dummy.DummyClassifier().fit(Xd, yd)
    assert isinstance(dummy.predict(on_device.asarray(Xt)), on_device.ndarray)
    assert calls.summary()[-1]["where"] == "gpuclf (gpu)"


def test_cuml_swaps_forest_and_svc(digits):
    X, y, Xt = digits
    with fake_cupy.installed(), fake_rmm.installed(), fake_cuml.installed():
        calls.clear()
        try:
            names = accel.install(backend="gpu", quiet=True)
            import sklearn.ensemble
            import sklearn.svm

            assert {"RandomForestClassifier", "SVC"} <= set(names)
            svc = sklearn.svm.SVC().fit(X, y)
            pred = svc.predict(Xt)
            assert pred.dtype == object and svc.decision_function(Xt).shape == (len(Xt), 10)
            ref = sklearn.svm._classes.SVC(break_ties=True).fit(X, y)
            assert (pred == ref.predict(Xt)).mean() > 0.97  # the emulated cuML SVC is scikit-learn's on the host
            forest = sklearn.ensemble.RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
            assert forest.predict_proba(Xt).shape == (len(Xt), 10)
            assert len(forest.estimators_) == 10  # scikit-learn's trees, made when asked for
            svc.decision_function_shape = "ovo"  # the book's cell: scikit-learn's SVC takes over, refitted
            assert svc.decision_function(Xt[:1]).shape == (1, 45)
            wheres = {(r["estimator"], r["where"]) for r in calls.summary()}
            assert ("SVC", "cuML (gpu)") in wheres and ("RandomForestClassifier", "cuML (gpu)") in wheres
        finally:
            accel.uninstall()
            from gpuclf.accel import backend

            backend.forget_backend()
