"""The swapped ``sklearn.preprocessing.StandardScaler``."""
from __future__ import annotations


import numpy as np
from sklearn import preprocessing as sk_preprocessing
from sklearn.utils.validation import FLOAT_DTYPES

from .. import estimators as gpuclf_estimators
from ..xp import to_host
from .proxy import Accelerated, Unsupported, gpuclf_call, require

# -- the scaler ------------------------------------------------------------------------------------
def _no_float16(X) -> None:
    if X.dtype == np.float16:
        raise Unsupported("float16 X: scikit-learn's scaler keeps it, gpuclf's computes in float32 or float64")


class StandardScaler(Accelerated, sk_preprocessing.StandardScaler):
    __doc__ = sk_preprocessing.StandardScaler.__doc__
    _sklearn_class = sk_preprocessing.StandardScaler

    def _gpuclf_params(self) -> dict:
        p = self.get_params(deep=False)
        require(p, "copy", [True], "gpuclf's scaler always returns a new array")
        return {"with_mean": bool(p["with_mean"]), "with_std": bool(p["with_std"])}

    def fit(self, X, y=None, sample_weight=None):
        return self._run_fit("fit", self._fit_gpuclf, X, y, sample_weight=sample_weight)

    def _fit_gpuclf(self, X, y=None):
        params = self._gpuclf_params()
        Xb, _ = self._fit_input(X, None, supervised=False, accept_sparse=("csr", "csc"), dtype=FLOAT_DTYPES,
                                ensure_all_finite="allow-nan")
        _no_float16(Xb)
        model = gpuclf_call(gpuclf_estimators.StandardScaler(**params).fit, Xb)
        self._keep(model, mean_=to_host(model.mean_) if model.mean_ is not None else None,
                   var_=to_host(model.var_) if model.var_ is not None else None,
                   scale_=to_host(model.scale_) if model.scale_ is not None else None,
                   n_samples_seen_=model.n_samples_seen_)

    def partial_fit(self, X, y=None, sample_weight=None):
        return self._handover("partial_fit", X, y, sample_weight=sample_weight)

    def transform(self, X, copy=None):
        return self._run("transform", self._scale("transform"), X, copy=copy)

    def inverse_transform(self, X, copy=None):
        return self._run("inverse_transform", self._scale("inverse_transform"), X, copy=copy)

    def _scale(self, method: str):
        def run(model, X, copy=None):
            if copy is False or (copy is None and not self.copy):
                raise Unsupported("copy=False: gpuclf's scaler does not scale in place")
            # No copy while checking: gpuclf's transform makes the new array.
            Xb = self._query_input(X, accept_sparse="csr", dtype=FLOAT_DTYPES, ensure_all_finite="allow-nan",
                                   copy=False)
            _no_float16(Xb)
            return self._output(gpuclf_call(getattr(model, method), Xb), X)

        return run
