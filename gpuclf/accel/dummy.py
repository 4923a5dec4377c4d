"""The swapped ``sklearn.dummy.DummyClassifier`` (on device arrays; on the host scikit-learn's own)."""
from __future__ import annotations


import numpy as np
from sklearn import dummy as sk_dummy
from sklearn.utils.multiclass import check_classification_targets

from .. import estimators as gpuclf_estimators
from ..xp import is_cupy_array, to_host
from .proxy import Accelerated, Unsupported, gpuclf_call, require

# -- the dummy -------------------------------------------------------------------------------------
class DummyClassifier(Accelerated, sk_dummy.DummyClassifier):
    __doc__ = sk_dummy.DummyClassifier.__doc__
    _sklearn_class = sk_dummy.DummyClassifier

    def _gpuclf_params(self) -> dict:
        p = self.get_params(deep=False)
        require(p, "strategy", ["prior", "most_frequent"], "gpuclf's dummy predicts the most frequent class only")
        return {"strategy": p["strategy"]}

    def fit(self, X, y, sample_weight=None):
        return self._run_fit("fit", self._fit_gpuclf, X, y, sample_weight=sample_weight)

    def _fit_gpuclf(self, X, y):
        # On the host scikit-learn's dummy only counts the labels: nothing to move, nothing to gain.
        if not (is_cupy_array(X) or is_cupy_array(y)):
            raise Unsupported("host arrays: scikit-learn's dummy only counts the labels")
        params = self._gpuclf_params()
        y_host = to_host(y)
        if y_host.ndim != 1:
            raise Unsupported("y with several outputs")
        check_classification_targets(y_host)
        classes, codes = np.unique(y_host, return_inverse=True)
        model = gpuclf_call(gpuclf_estimators.DummyClassifier(**params).fit, X, self._device_codes(codes))
        fitted = dict(classes_=classes, n_classes_=len(classes), n_outputs_=1, class_prior_=to_host(model.class_prior_),
                      _strategy=params["strategy"], sparse_output_=False)
        if hasattr(model, "n_features_in_"):
            fitted["n_features_in_"] = model.n_features_in_
        self._keep(model, data=(X, y), **fitted)

    def _to_sklearn_state(self, model, data) -> None:
        X, y = data
        self._sklearn_class.fit(self, to_host(X) if is_cupy_array(X) else X, to_host(y))

    def predict(self, X):
        return self._run("predict", self._predict, X)

    def _predict(self, model, X):
        if not is_cupy_array(X):
            raise Unsupported("host arrays: scikit-learn's dummy only counts the labels")
        codes = to_host(gpuclf_call(model.predict, X))
        return self._labels(self.classes_[codes], X)

    def predict_proba(self, X):
        return self._run("predict_proba", self._predict_proba, X)

    def _predict_proba(self, model, X):
        if not is_cupy_array(X):
            raise Unsupported("host arrays: scikit-learn's dummy only counts the labels")
        return gpuclf_call(model.predict_proba, X)
