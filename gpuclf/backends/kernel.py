"""gpuclf's own kernels behind the Backend interface, on any array namespace.

:class:`KernelBackend` holds everything the GPU backend does that is not
CUDA-specific: the estimators that run on our kernels, batched
cross-validation, the KNN grid search that reuses one neighbour search for
every ``n_neighbors`` and weighting, and the fallbacks. Running it on NumPy
(the ``numpy`` backend) tests the GPU code path on a machine without a GPU.
"""
from __future__ import annotations

import platform

import numpy as np

from sklearn.base import BaseEstimator, MetaEstimatorMixin

from ..dispatch import Dispatcher
from ..errors import GpuclfError
from ..kernels import folds as fold_kernels
from ..kernels import metrics as metric_kernels
from ..kernels.scoring import fold_accuracy
from ..xp import get_namespace, to_host
from .base import Backend, Placement
from .cpu import CpuBackend, sklearn_estimator

# Roles our kernels implement; the others go to cuML on the GPU, else to scikit-learn.
KERNEL_ROLES = ("sgd", "knn", "dummy", "scaler")
CUML_ROLES = ("forest", "svc", "ovr_svc")


class KernelBackend(Backend):
    """Our array kernels on ``xp``; subclasses pick the namespace and the device.

    Parameters
    ----------
    budget_bytes : int, optional
        Working memory a chunked kernel (distances, KNN) may use at once.
    n_jobs : int, default=-1
        Cores of the scikit-learn forest that stands in where cuML is
        missing (trees in parallel; the same trees as with one core).
    knn_search : {"auto", "pruned", "brute"}, default="auto"
        How every KNN search finds its neighbours
        (:mod:`gpuclf.kernels.pruned_neighbors`): the estimators' ``algorithm``,
        the batched cross-validation and the grid search. The neighbours are
        the same whichever is used; only the work differs. ``"auto"`` prunes
        each search the cost model says pruning pays for (full MNIST's), and
        searches small ones by brute force.
    """

    xp = np
    feature_dtype = np.float32

    def __init__(self, budget_bytes: int | None = None, n_jobs: int | None = -1, knn_search: str = "auto"):
        from ..kernels.pruned_neighbors import check_algorithm

        self.budget_bytes = budget_bytes
        self.n_jobs = n_jobs
        self.knn_search = check_algorithm(knn_search)
        self.metrics = metric_kernels
        # Folds run one after another: the forest's trees already use every core.
        self._cpu = CpuBackend()
        self._folds = {}

    # -- arrays ---------------------------------------------------------------
    def asarray(self, a, dtype=None):
        # Images cross as uint8 and widen on the device: a quarter of the float32 transfer.
        out = self.xp.asarray(a)
        return out if dtype is None else out.astype(dtype, copy=False)

    # -- estimators -----------------------------------------------------------
    def uses_cuml(self) -> bool:
        """Whether the cuML adapters serve the forest and SVC roles here."""
        return False

    def cuml_note(self) -> str:
        return "this backend runs gpuclf's kernels on NumPy; forest and SVC use scikit-learn"

    def reproducible(self, role: str) -> bool:
        # cuML's forest builds its trees on several CUDA streams (n_streams=4, its default, kept for
        # speed), and cuML does not promise the same trees twice even with a fixed random_state.
        return super().reproducible(role) and not (role == "forest" and self.uses_cuml())

    def estimator(self, role: str, **params):
        self.check_role(role)
        from .. import estimators

        if role == "sgd":
            return estimators.SGDClassifier(**params)
        if role == "knn":
            params.setdefault("budget_bytes", self.memory_budget())
            params.setdefault("algorithm", self.knn_search)
            if self.dispatcher.distributed:  # the training set sharded over the workers
                from ..estimators.sharded_neighbors import ShardedKNeighborsClassifier

                return ShardedKNeighborsClassifier(scheduler=self.dispatcher.client.scheduler.address, **params)
            return estimators.KNeighborsClassifier(**params)
        if role == "dummy":
            return estimators.DummyClassifier(**params)
        if role == "scaler":
            return estimators.StandardScaler(**params)
        if self.uses_cuml():
            from . import cuml_adapters

            return getattr(cuml_adapters, {"forest": "random_forest"}.get(role, role))(**params)
        if role == "forest" and self.n_jobs is not None:
            params.setdefault("n_jobs", self.n_jobs)
        if self.xp is np:
            return sklearn_estimator(role, **params)
        return OnHost(sklearn_estimator(role, **params))

    def placement(self, role: str) -> Placement:
        self.check_role(role)
        device = "gpu" if self.xp is not np else "cpu"
        if role in KERNEL_ROLES:
            return Placement(device, "gpuclf")
        if self.uses_cuml():
            return Placement(device, "cuml")
        return Placement("cpu", "scikit-learn", self.cuml_note())

    def memory_budget(self) -> int | None:
        """Bytes a chunked kernel may use now (None: the kernel's default)."""
        return self.budget_bytes

    # -- cross-validation -----------------------------------------------------
    def test_folds(self, y, n_splits: int = 3):
        """Test-fold ids, computed once per labels array and ``n_splits`` (a run asks nine times).

        The memo holds the labels array itself, so an id is never reused
        for another array while its entry lives.
        """
        key = (id(y), n_splits)
        hit = self._folds.get(key)
        if hit is not None and hit[0] is y:
            return hit[1]
        if getattr(y, "ndim", 1) == 2:  # multilabel: scikit-learn uses KFold
            folds = fold_kernels.kfold_test_folds(len(y), n_splits, xp=self.xp)
        else:
            folds = fold_kernels.stratified_kfold_test_folds(y, n_splits)
        self._folds[key] = (y, folds)
        return folds

    @staticmethod
    def _runs_on_host(estimator) -> bool:
        return type(estimator).__module__.startswith("sklearn") or isinstance(estimator, OnHost)

    def _on_host(self, estimator, X, y):
        """The scikit-learn model and host copies of ``X`` and ``y``, for the CPU backend's CV."""
        model = estimator.estimator if isinstance(estimator, OnHost) else estimator
        return model, self.to_host(X), self.to_host(y)

    def cross_val_predict(self, estimator, X, y, cv: int = 3, method: str = "predict"):
        if self._runs_on_host(estimator):
            return self.asarray(self._cpu.cross_val_predict(*self._on_host(estimator, X, y), cv, method))
        folds = self.test_folds(y, cv)
        from ..estimators.linear import SGDClassifier

        if isinstance(estimator, SGDClassifier):
            return self._sgd_cross_val(estimator, X, y, folds, method)
        return self._fold_loop(estimator, X, y, folds, cv, method)

    def _sgd_cross_val(self, estimator, X, y, folds, method):
        from ..estimators.linear import cross_val_decision_sgd

        if method not in ("predict", "decision_function"):
            raise GpuclfError(f"SGDClassifier with hinge loss has no {method}; use predict or decision_function")
        # All folds x all one-vs-rest classes train in one batched loop.
        scores = cross_val_decision_sgd(estimator, X, y, folds)
        if method == "decision_function":
            return scores
        classes = self.xp.unique(y)
        picked = (scores > 0).astype(self.xp.int64) if scores.ndim == 1 else self.xp.argmax(scores, axis=1)
        return classes[picked]

    def _fold_loop(self, estimator, X, y, folds, cv, method):
        # One unit per fold, on the cluster's workers when there is one; assembled here in fold order.
        # An estimator that spreads its own work over the cluster (sharded KNN) runs its folds from here.
        d = self.dispatcher if getattr(estimator, "scheduler", None) is None else Dispatcher()
        estimator = self._shared_projection(estimator, X, cv)
        parts = d.map(_fit_predict_fold, range(cv), estimator, method, d.share(X), d.share(y), d.share(folds))
        xp = self.xp
        out = xp.empty((len(y),) + parts[0].shape[1:], dtype=parts[0].dtype)
        for k, part in enumerate(parts):
            out[xp.flatnonzero(folds == k)] = part
        return out

    def _shared_projection(self, estimator, X, cv: int):
        """A pruned KNN's folds filter with one PCA of all of ``X`` (any map keeps the search exact);
        ``"auto"`` gets one only where its folds' searches would prune."""
        from ..estimators.neighbors import KNeighborsClassifier
        from ..kernels.knn_cost import choose
        from ..kernels.pruned_neighbors import fit_projection

        if (not isinstance(estimator, KNeighborsClassifier) or estimator.algorithm == "brute"
                or estimator.projection is not None):
            return estimator
        n, f = X.shape
        if estimator.algorithm == "auto" and choose("auto", n // cv, n - n // cv, f, estimator.n_neighbors,
                                                    built=True) == "brute":
            return estimator
        from sklearn.base import clone

        return clone(estimator).set_params(projection=fit_projection(X, budget_bytes=self.memory_budget()))

    def cross_val_score(self, estimator, X, y, cv: int = 3) -> np.ndarray:
        if self._runs_on_host(estimator):
            return self._cpu.cross_val_score(*self._on_host(estimator, X, y), cv)
        pred = self.cross_val_predict(estimator, X, y, cv, "predict")
        return fold_accuracy(pred, y, self.test_folds(y, cv), cv)

    # -- grid search ----------------------------------------------------------
    def grid_search(self, estimator, param_grid: dict, X, y, cv: int = 5) -> dict:
        from sklearn.base import clone
        from sklearn.model_selection import ParameterGrid

        from ..estimators.neighbors import KNeighborsClassifier

        if self._runs_on_host(estimator):
            model, X_host, y_host = self._on_host(estimator, X, y)
            return self._cpu.grid_search(model, param_grid, X_host, y_host, cv)
        candidates = list(ParameterGrid(param_grid))
        folds = self.test_folds(y, cv)
        if isinstance(estimator, KNeighborsClassifier) and set(param_grid) <= {"n_neighbors", "weights"}:
            # One PCA of X for every fold, and for the best estimator's fits after (on any data: any map bounds).
            estimator = self._shared_projection(estimator, X, cv)
            scores = self._knn_grid_scores(estimator, candidates, X, y, folds, cv)
        else:
            scores = np.array([[float(s) for s in
                                self.cross_val_score(clone(estimator).set_params(**p), X, y, cv)]
                               for p in candidates])
        mean = scores.mean(axis=1)
        best = int(np.argmax(mean))  # first best on ties, as GridSearchCV's rank_test_score
        best_estimator = clone(estimator).set_params(**candidates[best]).fit(X, y)
        return {"best_params": candidates[best], "best_score": float(mean[best]), "params": candidates,
                "mean_test_score": mean.tolist(), "best_estimator": best_estimator}

    def _knn_grid_scores(self, estimator, candidates, X, y, folds, cv) -> np.ndarray:
        """One neighbour search per fold (k = the largest asked) serves every candidate; a unit per fold."""
        classes, y_idx = self.xp.unique(y, return_inverse=True)
        settings = [(p.get("n_neighbors", estimator.n_neighbors), p.get("weights", estimator.weights))
                    for p in candidates]
        d = self.dispatcher
        per_fold = d.map(_knn_fold_scores, range(cv), settings, len(classes), self.memory_budget(),
                         d.share(X), d.share(y_idx), d.share(folds), estimator.algorithm, estimator.projection)
        return np.array(per_fold, dtype=float).T


def _fit_predict_fold(k: int, estimator, method: str, X, y, folds):
    """Fit a clone on every fold but ``k`` and ``method`` it on fold ``k`` (a unit of cross-validation)."""
    from sklearn.base import clone

    xp = get_namespace(X)
    test, train = xp.flatnonzero(folds == k), xp.flatnonzero(folds != k)
    return getattr(clone(estimator).fit(X[train], y[train]), method)(X[test])


def _knn_fold_scores(k: int, settings, n_classes: int, budget_bytes, X, y_idx, folds, algorithm: str = "brute",
                     projection=None) -> list:
    """Accuracy on fold ``k`` of every (n_neighbors, weights) setting, from one search for the largest."""
    from ..kernels import neighbors

    xp = get_namespace(X)
    test, train = xp.flatnonzero(folds == k), xp.flatnonzero(folds != k)
    dist, ind = neighbors.kneighbors(X[train], X[test], max(n for n, _ in settings), budget_bytes=budget_bytes,
                                     algorithm=algorithm, projection=projection)
    labels = y_idx[train][ind]
    return [float(xp.mean(neighbors.vote(labels[:, :n], dist[:, :n], n_classes, weights) == y_idx[test]))
            for n, weights in settings]


class OnHost(MetaEstimatorMixin, BaseEstimator):
    """A scikit-learn estimator fed host copies of device arrays.

    The GPU backend's fallback when cuML is missing: inputs are copied to
    the host, outputs come back in the inputs' namespace, so steps keep
    passing device arrays.

    Parameters
    ----------
    estimator : scikit-learn estimator
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        from sklearn.base import clone

        self.estimator_ = clone(self.estimator).fit(to_host(X), to_host(y))
        return self

    def _call(self, method, X):
        out = getattr(self.estimator_, method)(to_host(X))
        return get_namespace(X).asarray(out)

    def predict(self, X):
        return self._call("predict", X)

    def decision_function(self, X):
        return self._call("decision_function", X)

    def predict_proba(self, X):
        return self._call("predict_proba", X)

    @property
    def classes_(self):
        return self.estimator_.classes_

    @property
    def estimators_(self):
        return self.estimator_.estimators_


class NumpyBackend(KernelBackend):
    """The GPU backend's code run on NumPy: same kernels, no GPU needed.

    Used to test the GPU code path on CPU-only machines and to compare our
    kernels with scikit-learn on equal hardware.
    """

    name = "numpy"

    @classmethod
    def availability(cls):
        return True, "gpuclf's GPU kernels on NumPy: the fast path without a GPU, and the GPU code path's test bed"

    def describe(self) -> dict:
        return {"backend": self.name, "device": f"CPU: {platform.machine()} (NumPy, gpuclf kernels)",
                "knn_search": self.knn_search}
