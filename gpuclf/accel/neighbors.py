"""The swapped ``sklearn.neighbors.KNeighborsClassifier``: gpuclf's exact KNN search."""
from __future__ import annotations

import warnings

import numpy as np
from sklearn import neighbors as sk_neighbors
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets

from .. import estimators as gpuclf_estimators
from ..xp import to_host
from .proxy import Accelerated, Unsupported, gpuclf_call, require

# -- KNN -------------------------------------------------------------------------------------------
class KNeighborsClassifier(Accelerated, sk_neighbors.KNeighborsClassifier):
    __doc__ = sk_neighbors.KNeighborsClassifier.__doc__
    _sklearn_class = sk_neighbors.KNeighborsClassifier
    _lazy_attributes = frozenset({"_fit_X", "_y", "_fit_method", "_tree"})

    def _gpuclf_params(self) -> dict:
        p = self.get_params(deep=False)
        require(p, "weights", ["uniform", "distance"], "gpuclf's KNN weighs uniformly or by 1/distance")
        require(p, "algorithm", ["auto", "brute"],
                 "gpuclf's KNN is brute force (a tree may order equidistant neighbours otherwise)")
        euclidean = (p["metric"] in ("euclidean", "l2") or (p["metric"] == "minkowski" and p["p"] == 2))
        if not euclidean:
            raise Unsupported(f"metric={p['metric']!r}, p={p['p']!r}: gpuclf's KNN is Euclidean only")
        if p["metric_params"]:
            raise Unsupported(f"metric_params={p['metric_params']!r}: gpuclf's KNN takes none")
        backend = self._backend()
        # scikit-learn's "auto" and "brute" both get gpuclf's exact search: the backend's choice (pruned where it
        # pays) for "auto", brute force as asked; the neighbours are the same either way.
        algorithm = getattr(backend, "knn_search", "auto") if p["algorithm"] == "auto" else "brute"
        return {"n_neighbors": p["n_neighbors"], "weights": p["weights"], "algorithm": algorithm,
                "budget_bytes": backend.memory_budget()}

    def fit(self, X, y):
        return self._run_fit("fit", self._fit_gpuclf, X, y)

    def _fit_gpuclf(self, X, y):
        params = self._gpuclf_params()
        if isinstance(X, (sk_neighbors.KDTree, sk_neighbors.BallTree, sk_neighbors._base.NeighborsBase)):
            raise Unsupported(f"X is a fitted {type(X).__name__}: scikit-learn reuses its index")
        Xb, y = self._fit_input(X, y, accept_sparse="csr", multi_output=True, order="C")
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            warnings.warn("A column-vector y was passed when a 1d array was expected. Please change the shape of y "
                          "to (n_samples,), for example using ravel().", DataConversionWarning, stacklevel=4)
            y = y.ravel()
        check_classification_targets(y)
        if y.ndim == 1:
            classes, codes = np.unique(y, return_inverse=True)
        else:
            found = [np.unique(y[:, k], return_inverse=True) for k in range(y.shape[1])]
            classes = [c for c, _ in found]
            codes = np.stack([codes.reshape(-1) for _, codes in found], axis=1)
        model = gpuclf_call(gpuclf_estimators.KNeighborsClassifier(**params).fit, Xb, self._device_codes(codes))
        # effective_metric_ as scikit-learn's fit sets it for a Euclidean metric (minkowski with p=2 is renamed).
        self._keep(model, data=(X, y), classes_=classes, outputs_2d_=y.ndim == 2, n_samples_fit_=Xb.shape[0],
                   effective_metric_="euclidean" if self.metric == "minkowski" else self.metric,
                   effective_metric_params_={})

    def _to_sklearn_state(self, model, data) -> None:
        X, y = data
        self._sklearn_class.fit(self, X, y)

    def _decode(self, codes):
        """gpuclf's class codes to scikit-learn's labels (one column per output, the first output's dtype)."""
        if not self.outputs_2d_:
            return self.classes_[codes]
        out = np.empty(codes.shape, dtype=self.classes_[0].dtype)
        for k, classes in enumerate(self.classes_):
            out[:, k] = classes[codes[:, k]]
        return out

    def _query(self, X):
        return None if X is None else self._query_input(X, accept_sparse="csr", order="C")

    def predict(self, X):
        return self._run("predict", self._predict, X)

    def _predict(self, model, X):
        codes = to_host(gpuclf_call(model.predict, self._query(X)))
        return self._labels(self._decode(codes), X)

    def predict_proba(self, X):
        return self._run("predict_proba", self._predict_proba, X)

    def _predict_proba(self, model, X):
        return self._output(gpuclf_call(model.predict_proba, self._query(X)), X)

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        return self._run("kneighbors", self._kneighbors, X, n_neighbors=n_neighbors, return_distance=return_distance)

    def _kneighbors(self, model, X, n_neighbors=None, return_distance=True):
        out = gpuclf_call(model.kneighbors, self._query(X), n_neighbors=n_neighbors, return_distance=return_distance)
        return self._output(out, X)

    def kneighbors_graph(self, X=None, n_neighbors=None, mode="connectivity"):
        return self._run("kneighbors_graph", self._unsupported("a sparse graph"), X, n_neighbors=n_neighbors,
                         mode=mode)

    @staticmethod
    def _unsupported(what: str):
        def refuse(model, *args, **kwargs):
            raise Unsupported(f"gpuclf does not build {what}")

        return refuse
