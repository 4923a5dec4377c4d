"""cuML's forest and SVC behind scikit-learn's ``RandomForestClassifier`` and ``SVC`` (gpu backend with cuML)."""
from __future__ import annotations


import numpy as np
from sklearn.utils.multiclass import check_classification_targets

from ..xp import is_cupy_array, to_host
from .proxy import Accelerated, Unsupported, gpuclf_call, require

# -- cuML's forest and SVC (gpu backend with cuML only) ----------------------------------------------
class _Cuml(Accelerated):
    """A scikit-learn classifier run by cuML through gpuclf's adapter (:mod:`gpuclf.backends.cuml_adapters`).

    cuML's forest and SVC are other implementations of the same algorithms (quantile splits, another SMO
    solver): close to scikit-learn's results, not identical. scikit-learn's own fitted state (trees,
    support vectors) is scikit-learn's fit on the kept training data, made only when something asks for it.
    """

    _adapter: str

    def _where(self) -> str:
        return "cuML (gpu)"

    def _gpuclf_params(self) -> dict:
        backend = self._backend()
        if backend.name != "gpu" or not backend.uses_cuml():
            raise Unsupported("cuML runs this estimator on the gpu backend only")
        return self._cuml_params(self.get_params(deep=False))

    def _cuml_params(self, params: dict) -> dict:
        return params

    def fit(self, X, y, sample_weight=None):
        return self._run_fit("fit", self._fit_gpuclf, X, y, sample_weight=sample_weight)

    def _fit_gpuclf(self, X, y):
        from ..backends import cuml_adapters

        params = self._gpuclf_params()
        Xb, y = self._fit_input(X, y, **self._fit_check)
        y = np.asarray(y)
        if y.ndim != 1:
            raise Unsupported("y with several outputs")
        check_classification_targets(y)
        classes, codes = np.unique(y, return_inverse=True)
        model = gpuclf_call(lambda: getattr(cuml_adapters, self._adapter)(**params).fit(Xb, self._device_codes(codes)))
        self._keep(model, data=(X, y), classes_=classes, n_classes_=len(classes), **self._fitted(Xb))

    def _fitted(self, Xb) -> dict:
        return {}

    def _to_sklearn_state(self, model, data) -> None:
        X, y = data
        self._sklearn_class.fit(self, to_host(X) if is_cupy_array(X) else X, y)

    def predict(self, X):
        return self._run("predict", self._predict, X)

    def _predict(self, model, X):
        codes = to_host(gpuclf_call(model.predict, self._query_input(X, **self._predict_check)))
        return self._labels(self.classes_[codes.astype(np.intp)], X)

    def _method(self, name: str):
        def run(model, X):
            Xb = self._query_input(X, **self._predict_check)
            return self._output(gpuclf_call(getattr(model, name), Xb), X)

        return run
try:
    from sklearn import ensemble as sk_ensemble
    from sklearn import svm as sk_svm
except ImportError:  # pragma: no cover - both are part of every scikit-learn
    sk_ensemble = sk_svm = None


class RandomForestClassifier(_Cuml, sk_ensemble.RandomForestClassifier):
    __doc__ = sk_ensemble.RandomForestClassifier.__doc__
    _sklearn_class = sk_ensemble.RandomForestClassifier
    _adapter = "random_forest"
    _lazy_attributes = frozenset({"estimators_", "estimator_", "n_outputs_", "oob_score_",
                                  "oob_decision_function_", "_n_samples", "_n_samples_bootstrap"})
    _fit_check = {"accept_sparse": "csc", "dtype": np.float32}
    _predict_check = {"accept_sparse": "csr", "dtype": np.float32}

    def _cuml_params(self, params: dict) -> dict:
        require(params, "oob_score", [False], "cuML's forest has no out-of-bag score")
        require(params, "class_weight", [None], "cuML's forest weighs every sample the same")
        require(params, "bootstrap", [True], "cuML's forest always bootstraps")
        require(params, "verbose", [0, False], "cuML's forest prints nothing")
        require(params, "max_features", ["sqrt"], "gpuclf passes scikit-learn's default only")
        keep = ("n_estimators", "criterion", "max_depth", "min_samples_split", "min_samples_leaf",
                "max_leaf_nodes", "min_impurity_decrease", "max_samples", "ccp_alpha", "min_weight_fraction_leaf",
                "warm_start", "monotonic_cst", "random_state")
        return {k: params[k] for k in keep if k in params}

    def predict_proba(self, X):
        return self._run("predict_proba", self._method("predict_proba"), X)


class SVC(_Cuml, sk_svm.SVC):
    __doc__ = sk_svm.SVC.__doc__
    _sklearn_class = sk_svm.SVC
    _adapter = "svc"
    _lazy_attributes = frozenset({"support_", "support_vectors_", "n_support_", "dual_coef_", "intercept_",
                                  "fit_status_", "probA_", "probB_", "class_weight_", "shape_fit_", "n_iter_",
                                  "_gamma", "_sparse", "_dual_coef", "_intercept_", "_n_support", "_probA",
                                  "_probB", "coef_"})
    _fit_check = {"dtype": np.float64, "order": "C", "accept_sparse": "csr", "accept_large_sparse": False}
    _predict_check = {"dtype": np.float64, "accept_sparse": "csr", "accept_large_sparse": False}

    def _cuml_params(self, params: dict) -> dict:
        require(params, "decision_function_shape", ["ovr"], "gpuclf's SVC answers scikit-learn's default shape")
        require(params, "probability", [False, "deprecated"], "cuML's SVC here has no predict_proba")
        require(params, "break_ties", [False], "gpuclf's SVC breaks ties by the decision values")
        require(params, "class_weight", [None], "gpuclf's SVC weighs every sample the same")
        if params["kernel"] == "precomputed" or callable(params["kernel"]):
            raise Unsupported(f"kernel={params['kernel']!r}: cuML's SVC computes its own kernel")
        keep = ("C", "kernel", "degree", "gamma", "coef0", "tol", "max_iter", "random_state", "cache_size")
        return {k: params[k] for k in keep}

    def decision_function(self, X):
        return self._run("decision_function", self._method("decision_function"), X)
