"""The swapped ``sklearn.multiclass`` reductions: one-vs-one and one-vs-rest around any base."""
from __future__ import annotations


import numpy as np
from sklearn import multiclass as sk_multiclass
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, validate_data

from .. import estimators as gpuclf_estimators
from ..xp import is_cupy_array, to_host
from .proxy import Accelerated, Unsupported, gpuclf_call

# -- one-vs-one, one-vs-rest -----------------------------------------------------------------------
def _meta_has(method: str):
    """scikit-learn's own availability rule for a meta-estimator's method (the base, or its first fit)."""
    def check(self) -> bool:
        estimators = self.__dict__.get("estimators_")
        getattr(estimators[0] if estimators else self.estimator, method)
        return True

    return check


class _Reduction(Accelerated):
    """What the swapped one-vs-one and one-vs-rest share: gpuclf's reduction over swapped binary estimators."""

    _gpuclf_class: type

    def _gpuclf_params(self) -> dict:
        if not isinstance(self.estimator, Accelerated):
            raise Unsupported(f"the base estimator {type(self.estimator).__name__} is scikit-learn's own")
        return {}

    def fit(self, X, y, **fit_params):
        return self._run_fit("fit", self._fit_gpuclf, X, y, **fit_params)

    def _classes(self, y):
        """scikit-learn's ``classes_`` for ``y`` (and what else its fit sets from y)."""
        raise NotImplementedError

    def _fit_gpuclf(self, X, y):
        from sklearn.base import clone

        self._gpuclf_params()
        Xb, y = self._fit_input(X, y, **self._fit_check)
        y = np.asarray(y)
        classes, extra = self._classes(y)
        codes = np.searchsorted(classes, y)
        model = gpuclf_call(self._gpuclf_class(clone(self.estimator)).fit, Xb, self._device_codes(codes))
        fitted = dict(classes_=classes, estimators_=model.estimators_, **extra)
        if hasattr(model.estimators_[0], "n_features_in_"):
            fitted["n_features_in_"] = model.estimators_[0].n_features_in_
        self._keep(model, **fitted)

    def _predict(self, model, X):
        codes = to_host(gpuclf_call(model.predict, self._query_input(X, **self._predict_check)))
        return self._labels(self.classes_[codes], X)

    def predict(self, X):
        return self._run("predict", self._predict, X)


class OneVsRestClassifier(_Reduction, sk_multiclass.OneVsRestClassifier):
    __doc__ = sk_multiclass.OneVsRestClassifier.__doc__
    _sklearn_class = sk_multiclass.OneVsRestClassifier
    _gpuclf_class = gpuclf_estimators.OneVsRestClassifier
    # scikit-learn's one-vs-rest leaves X to its binary estimators (which check it, and name themselves in
    # their messages) and keeps no feature names: X is only made an array here.
    _fit_check = _predict_check = {}

    def _fit_input(self, X, y, **check):
        if is_cupy_array(X) or is_cupy_array(y):
            return super()._fit_input(X, y)
        if y is None:
            validate_data(self, X, y)  # scikit-learn's "requires y to be passed", before anything else
        X = check_array(X, accept_sparse=True, ensure_all_finite=False, dtype=None)
        return self._backend().asarray(X), np.asarray(y)

    def _query_input(self, X, **check):
        if is_cupy_array(X):
            return super()._query_input(X)
        return self._backend().asarray(check_array(X, accept_sparse=True, ensure_all_finite=False, dtype=None))

    def _classes(self, y):
        binarizer = LabelBinarizer(sparse_output=True).fit(y)
        if binarizer.y_type_.startswith("multilabel"):
            raise Unsupported("multilabel y")
        return binarizer.classes_, {"label_binarizer_": binarizer}

    @available_if(_meta_has("decision_function"))
    def decision_function(self, X):
        return self._run("decision_function", self._scores("decision_function"), X)

    @available_if(_meta_has("predict_proba"))
    def predict_proba(self, X):
        return self._run("predict_proba", self._scores("predict_proba"), X)

    def _scores(self, method: str):
        def run(model, X):
            Xb = self._query_input(X, **self._predict_check)
            return self._output(gpuclf_call(getattr(model, method), Xb), X)

        return run


class OneVsOneClassifier(_Reduction, sk_multiclass.OneVsOneClassifier):
    __doc__ = sk_multiclass.OneVsOneClassifier.__doc__
    _sklearn_class = sk_multiclass.OneVsOneClassifier
    _gpuclf_class = gpuclf_estimators.OneVsOneClassifier
    _fit_check = {"accept_sparse": ["csr", "csc"], "ensure_all_finite": False}
    _predict_check = {"accept_sparse": True, "ensure_all_finite": False}

    def _classes(self, y):
        check_classification_targets(y)
        return np.unique(y), {"pairwise_indices_": None}

    def decision_function(self, X):
        return self._run("decision_function", self._decision, X)

    def _decision(self, model, X):
        Xb = self._query_input(X, **self._predict_check)
        return self._output(gpuclf_call(model.decision_function, Xb), X)
