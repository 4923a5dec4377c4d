"""cuML adapters: clear errors without cuML, the adapter plumbing on NumPy, accuracy with cuML.

The plumbing (float32 / int32 inputs, label decoding, gamma fixed on the
whole training set) is checked on NumPy with scikit-learn estimators in
place of cuML's; the ``cuml`` tests run the real thing where cuML imports.
"""
import importlib.util
import subprocess
import sys

import numpy as np
import pytest
import sklearn.multiclass as skm
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from gpuclf.backends import cuml_adapters as ca
from gpuclf.errors import GpuclfError

CUML_INSTALLED = importlib.util.find_spec("cuml") is not None
FACTORIES = [ca.random_forest, ca.svc, ca.ovr_svc, ca.knn]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:700], y[:700], X[700:1000], y[700:1000]


@pytest.mark.skipif(not CUML_INSTALLED, reason="cuML is not installed, so nothing can import it")
def test_importing_does_not_import_cuml():
    code = "import sys, gpuclf.backends.cuml_adapters; assert 'cuml' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.skipif(CUML_INSTALLED, reason="cuML is installed here")
def test_status_without_cuml():
    ok, reason = ca.cuml_status()
    assert ok is False
    # gpuclf is not on PyPI: the hint installs the extra from a checkout.
    assert "pip install -e '.[gpu-cu12]'" in reason and "gpuclf[" not in reason


@pytest.mark.skipif(CUML_INSTALLED, reason="cuML is installed here")
@pytest.mark.parametrize("factory", FACTORIES)
def test_factories_raise_without_cuml(factory):
    with pytest.raises(GpuclfError, match=r"needs cuML.*pip install"):
        factory()


@pytest.mark.parametrize("factory", [ca.svc, ca.ovr_svc])
@pytest.mark.parametrize("bad, match", [({"probability": True}, "predict_proba"),
                                        ({"decision_function_shape": "ovo"}, "'ovo'")])
def test_svc_rejects_what_it_cannot_honour(factory, bad, match):
    with pytest.raises(GpuclfError, match=match):
        factory(**bad)


class RecordingKNN(KNeighborsClassifier):
    """KNN that remembers the dtypes it was fitted on."""

    def fit(self, X, y):
        self.dtypes_seen_ = (X.dtype, y.dtype)
        return super().fit(X, y)


@pytest.mark.parametrize("labels", ["uint8", "offset", "bool"])
def test_cuml_classifier_feeds_float32_int32_and_decodes(labels, digits):
    X, y, X_test, _ = digits
    y = {"uint8": y.astype(np.uint8), "offset": y * 10 + 3, "bool": y == 5}[labels]
    ours = ca.CumlClassifier(RecordingKNN()).fit(X, y)
    ref = KNeighborsClassifier().fit(X, y)
    assert ours.estimator_.dtypes_seen_ == (np.float32, np.int32)
    pred = ours.predict(X_test)
    assert pred.dtype == y.dtype
    np.testing.assert_array_equal(pred, ref.predict(X_test))
    np.testing.assert_array_equal(ours.predict_proba(X_test), ref.predict_proba(X_test))
    assert clone(ours).get_params()["estimator__n_neighbors"] == 5


@pytest.mark.parametrize("gamma", ["scale", "auto"])
def test_svc_one_vs_one_reproduces_svc(gamma, digits):
    """The GPU svc() composition, scikit-learn's SVC standing in for cuML's."""
    X, y, X_test, _ = digits
    ours = ca.SVCOneVsOne(ca.CumlClassifier(SVC(gamma=gamma, random_state=42))).fit(X, y)
    ref = SVC(gamma=gamma, random_state=42, break_ties=True).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X_test), ref.decision_function(X_test),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    assert ours.get_params()["estimator__estimator__gamma"] == gamma


def test_svc_one_vs_rest_reproduces_sklearn(digits):
    X, y, X_test, _ = digits
    ours = ca.SVCOneVsRest(ca.CumlClassifier(SVC(random_state=42))).fit(X, y)
    ref = skm.OneVsRestClassifier(SVC(random_state=42)).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X_test), ref.decision_function(X_test),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))


SKLEARN_TWINS = {
    "random_forest": lambda: RandomForestClassifier(random_state=42),
    "svc": lambda: SVC(random_state=42),
    "ovr_svc": lambda: skm.OneVsRestClassifier(SVC(random_state=42)),
    "knn": lambda: KNeighborsClassifier(),
}


@pytest.mark.cuml
@pytest.mark.parametrize("name", list(SKLEARN_TWINS))
def test_accuracy_close_to_sklearn(name):
    pytest.importorskip("cuml")
    cp = pytest.importorskip("cupy")
    X, y = load_digits(return_X_y=True)
    X, y, X_test, y_test = X[:1347], y[:1347], X[1347:], y[1347:]  # 450 test digits
    model = getattr(ca, name)().fit(cp.asarray(X, dtype=cp.float32), cp.asarray(y))
    pred = model.predict(cp.asarray(X_test, dtype=cp.float32))
    assert type(pred).__module__.startswith("cupy")
    ours = accuracy_score(y_test, cp.asnumpy(pred))
    ref = accuracy_score(y_test, SKLEARN_TWINS[name]().fit(X, y).predict(X_test))
    assert abs(ours - ref) <= 0.01, (ours, ref)
