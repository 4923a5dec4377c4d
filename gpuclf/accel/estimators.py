"""The swapped classes: scikit-learn's estimators running on gpuclf's when their parameters and input allow.

Each class subclasses scikit-learn's own (see :mod:`gpuclf.accel.proxy`) and
says which of its parameter values gpuclf's estimator covers
(``_gpuclf_params``), how scikit-learn checks the input, and how gpuclf's
results become scikit-learn's (class labels with scikit-learn's dtype,
NumPy arrays). Labels are encoded on the host as scikit-learn encodes them,
so string labels work on the GPU too: gpuclf's estimator sees class codes.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn import dummy as sk_dummy
from sklearn import linear_model as sk_linear
from sklearn import multiclass as sk_multiclass
from sklearn import neighbors as sk_neighbors
from sklearn import preprocessing as sk_preprocessing
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import FLOAT_DTYPES, check_array, validate_data

from .. import estimators as gpuclf_estimators
from ..xp import is_cupy_array, to_host
from .proxy import Accelerated, Unsupported, gpuclf_call

__all__ = ["DummyClassifier", "KNeighborsClassifier", "OneVsOneClassifier", "OneVsRestClassifier",
           "RandomForestClassifier", "SGDClassifier", "SVC", "StandardScaler"]


def _require(params: dict, name: str, allowed, what: str) -> None:
    """:class:`Unsupported` unless ``params[name]`` is one of ``allowed``."""
    value = params[name]
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        raise Unsupported(f"{name}={value!r}: {what}")


def _seed(params: dict, what: str):
    seed = params["random_state"]
    if seed is None or (isinstance(seed, numbers.Integral) and 0 <= seed < 2**32):
        return seed
    raise Unsupported(f"random_state={seed!r}: {what} takes an integer seed")


# -- SGD -------------------------------------------------------------------------------------------
class SGDClassifier(Accelerated, sk_linear.SGDClassifier):
    __doc__ = sk_linear.SGDClassifier.__doc__
    _sklearn_class = sk_linear.SGDClassifier

    def _gpuclf_params(self) -> dict:
        p = self.get_params(deep=False)
        what = "gpuclf's SGD has the hinge loss, the L2 penalty and scikit-learn's 'optimal' schedule only"
        _require(p, "loss", ["hinge"], what)
        _require(p, "penalty", ["l2"], what)
        _require(p, "learning_rate", ["optimal"], what)
        _require(p, "fit_intercept", [True], "gpuclf's SGD always fits an intercept")
        _require(p, "shuffle", [True], "gpuclf's SGD always shuffles")
        _require(p, "early_stopping", [False], "gpuclf's SGD has no validation split")
        _require(p, "class_weight", [None], "gpuclf's SGD weighs every sample the same")
        _require(p, "warm_start", [False], "gpuclf's SGD starts from zero")
        _require(p, "average", [False, 0], "gpuclf's SGD averages after its first epoch by design")
        _require(p, "verbose", [0, False], "gpuclf's SGD prints no epochs")
        params = {"alpha": p["alpha"], "n_iter_no_change": p["n_iter_no_change"],
                  "random_state": _seed(p, "gpuclf's SGD")}
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

    @staticmethod
    def _labels(labels, X):
        """Predicted labels: NumPy, or CuPy for CuPy input where CuPy can hold them (numbers)."""
        if is_cupy_array(X) and labels.dtype.kind in "biuf":
            from ..xp import get_namespace

            return get_namespace(X).asarray(labels)
        return labels

    def densify(self):
        return self._handover("densify")

    def sparsify(self):
        return self._handover("sparsify")


# -- KNN -------------------------------------------------------------------------------------------
class KNeighborsClassifier(Accelerated, sk_neighbors.KNeighborsClassifier):
    __doc__ = sk_neighbors.KNeighborsClassifier.__doc__
    _sklearn_class = sk_neighbors.KNeighborsClassifier
    _lazy_attributes = frozenset({"_fit_X", "_y", "_fit_method", "_tree"})

    def _gpuclf_params(self) -> dict:
        p = self.get_params(deep=False)
        _require(p, "weights", ["uniform", "distance"], "gpuclf's KNN weighs uniformly or by 1/distance")
        _require(p, "algorithm", ["auto", "brute"],
                 "gpuclf's KNN is brute force (a tree may order equidistant neighbours otherwise)")
        euclidean = (p["metric"] in ("euclidean", "l2") or (p["metric"] == "minkowski" and p["p"] == 2))
        if not euclidean:
            raise Unsupported(f"metric={p['metric']!r}, p={p['p']!r}: gpuclf's KNN is Euclidean only")
        if p["metric_params"]:
            raise Unsupported(f"metric_params={p['metric_params']!r}: gpuclf's KNN takes none")
        return {"n_neighbors": p["n_neighbors"], "weights": p["weights"],
                "budget_bytes": self._backend().memory_budget()}

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
        return SGDClassifier._labels(self._decode(codes), X)

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


# -- the scaler ------------------------------------------------------------------------------------
def _no_float16(X) -> None:
    if X.dtype == np.float16:
        raise Unsupported("float16 X: scikit-learn's scaler keeps it, gpuclf's computes in float32 or float64")


class StandardScaler(Accelerated, sk_preprocessing.StandardScaler):
    __doc__ = sk_preprocessing.StandardScaler.__doc__
    _sklearn_class = sk_preprocessing.StandardScaler

    def _gpuclf_params(self) -> dict:
        p = self.get_params(deep=False)
        _require(p, "copy", [True], "gpuclf's scaler always returns a new array")
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


# -- the dummy -------------------------------------------------------------------------------------
class DummyClassifier(Accelerated, sk_dummy.DummyClassifier):
    __doc__ = sk_dummy.DummyClassifier.__doc__
    _sklearn_class = sk_dummy.DummyClassifier

    def _gpuclf_params(self) -> dict:
        p = self.get_params(deep=False)
        _require(p, "strategy", ["prior", "most_frequent"], "gpuclf's dummy predicts the most frequent class only")
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
        return SGDClassifier._labels(self.classes_[codes], X)

    def predict_proba(self, X):
        return self._run("predict_proba", self._predict_proba, X)

    def _predict_proba(self, model, X):
        if not is_cupy_array(X):
            raise Unsupported("host arrays: scikit-learn's dummy only counts the labels")
        return gpuclf_call(model.predict_proba, X)


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
        return SGDClassifier._labels(self.classes_[codes], X)

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
        return SGDClassifier._labels(self.classes_[codes.astype(np.intp)], X)

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
        _require(params, "oob_score", [False], "cuML's forest has no out-of-bag score")
        _require(params, "class_weight", [None], "cuML's forest weighs every sample the same")
        _require(params, "bootstrap", [True], "cuML's forest always bootstraps")
        _require(params, "verbose", [0, False], "cuML's forest prints nothing")
        _require(params, "max_features", ["sqrt"], "gpuclf passes scikit-learn's default only")
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
        _require(params, "decision_function_shape", ["ovr"], "gpuclf's SVC answers scikit-learn's default shape")
        _require(params, "probability", [False, "deprecated"], "cuML's SVC here has no predict_proba")
        _require(params, "break_ties", [False], "gpuclf's SVC breaks ties by the decision values")
        _require(params, "class_weight", [None], "gpuclf's SVC weighs every sample the same")
        if params["kernel"] == "precomputed" or callable(params["kernel"]):
            raise Unsupported(f"kernel={params['kernel']!r}: cuML's SVC computes its own kernel")
        keep = ("C", "kernel", "degree", "gamma", "coef0", "tol", "max_iter", "random_state", "cache_size")
        return {k: params[k] for k in keep}

    def decision_function(self, X):
        return self._run("decision_function", self._method("decision_function"), X)
