"""The swapped ``sklearn.linear_model.SGDClassifier``: gpuclf's batched, averaged SGD (docs/parity.md)."""
from __future__ import annotations

import warnings

import numpy as np
from sklearn import linear_model as sk_linear
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import check_classification_targets, unique_labels

from .. import estimators as gpuclf_estimators
from ..xp import to_host
from .proxy import Accelerated, gpuclf_call, require, seed

# -- SGD -------------------------------------------------------------------------------------------
class SGDClassifier(Accelerated, sk_linear.SGDClassifier):
    __doc__ = sk_linear.SGDClassifier.__doc__
    _sklearn_class = sk_linear.SGDClassifier

    def _gpuclf_params(self) -> dict:
        p = self.get_params(deep=False)
        what = "gpuclf's SGD has the hinge loss, the L2 penalty and scikit-learn's 'optimal' schedule only"
        require(p, "loss", ["hinge"], what)
        require(p, "penalty", ["l2"], what)
        require(p, "learning_rate", ["optimal"], what)
        require(p, "fit_intercept", [True], "gpuclf's SGD always fits an intercept")
        require(p, "shuffle", [True], "gpuclf's SGD always shuffles")
        require(p, "early_stopping", [False], "gpuclf's SGD has no validation split")
        require(p, "class_weight", [None], "gpuclf's SGD weighs every sample the same")
        require(p, "warm_start", [False], "gpuclf's SGD starts from zero")
        require(p, "average", [False, 0], "gpuclf's SGD averages after its first epoch by design")
        require(p, "verbose", [0, False], "gpuclf's SGD prints no epochs")
        params = {"alpha": p["alpha"], "n_iter_no_change": p["n_iter_no_change"],
                  "random_state": seed(p, "gpuclf's SGD")}
        # scikit-learn's defaults (max_iter=1000, tol=1e-3) take gpuclf's schedule: 5 averaged epochs
        # (docs/parity.md); anything else asked for is honoured, scikit-learn's stopping rule included.
        if (p["max_iter"], p["tol"]) != (1000, 1e-3):
            params.update(max_iter=p["max_iter"], tol=p["tol"])
        return params

    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        return self._run_fit("fit", self._fit_gpuclf, X, y, coef_init=coef_init, intercept_init=intercept_init,
                             sample_weight=sample_weight)

    def _fit_gpuclf(self, X, y):
        params = self._gpuclf_params()
        self._more_validate_params()  # scikit-learn's own checks of parameter combinations
        Xb, y = self._fit_input(X, y, accept_sparse="csr", dtype=[np.float64, np.float32], order="C",
                                accept_large_sparse=False)
        check_classification_targets(y)
        found, codes = np.unique(y, return_inverse=True)
        classes = unique_labels(found)  # scikit-learn's classes_: its dtype too ('<U1' for object strings)
        model = gpuclf_call(gpuclf_estimators.SGDClassifier(**params).fit, Xb, self._device_codes(codes))
        n_samples = Xb.shape[0]
        # scikit-learn's warnings of the same fit: its stopping rule ran out of epochs, a deprecated power_t.
        if params.get("tol") is not None and model.n_iter_ >= params["max_iter"]:
            warnings.warn("Maximum number of iteration reached before convergence. Consider increasing max_iter to "
                          "improve the fit.", ConvergenceWarning, stacklevel=4)
        if self.power_t < 0:
            warnings.warn("Negative values for `power_t` are deprecated in version 1.8 and will raise an error in "
                          "1.10. Use values in the range [0.0, inf) instead.", FutureWarning, stacklevel=4)
        # C order, as scikit-learn's partial_fit needs when it continues from these coefficients.
        self._keep(model, classes_=classes, coef_=np.ascontiguousarray(to_host(model.coef_)),
                   intercept_=to_host(model.intercept_),
                   n_iter_=model.n_iter_, t_=float(model.n_iter_ * n_samples + 1))

    def _to_sklearn_state(self, model, data) -> None:
        # What scikit-learn's partial_fit reads when it continues from a fitted model.
        self._expanded_class_weight = np.ones(len(self.classes_), dtype=np.float64)
        self._loss_function_ = self._get_loss_function(self.loss)

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        return self._handover("partial_fit", X, y, classes=classes, sample_weight=sample_weight)

    def decision_function(self, X):
        return self._run("decision_function", self._decision, X)

    def _decision(self, model, X):
        Xb = self._query_input(X, accept_sparse="csr")
        return self._output(gpuclf_call(model.decision_function, Xb), X)

    def predict(self, X):
        return self._run("predict", self._predict, X)

    def _predict(self, model, X):
        Xb = self._query_input(X, accept_sparse="csr")
        codes = to_host(gpuclf_call(model.predict, Xb))
        return self._labels(self.classes_[codes], X)

    def densify(self):
        return self._handover("densify")

    def sparsify(self):
        return self._handover("sparsify")
