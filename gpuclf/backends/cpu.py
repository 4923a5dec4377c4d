"""The reference backend: scikit-learn estimators on NumPy arrays."""
from __future__ import annotations

import platform

import numpy as np

from .base import Backend, Placement


def sklearn_estimator(role: str, **params):
    """The book's scikit-learn estimator for ``role`` (defaults as in the chapter)."""
    if role == "sgd":
        from sklearn.linear_model import SGDClassifier

        return SGDClassifier(**params)
    if role == "forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(**params)
    if role == "svc":
        from sklearn.svm import SVC

        return SVC(**params)
    if role == "ovr_svc":
        from sklearn.multiclass import OneVsRestClassifier
        from sklearn.svm import SVC

        return OneVsRestClassifier(SVC(**params))
    if role == "knn":
        from sklearn.neighbors import KNeighborsClassifier

        return KNeighborsClassifier(**params)
    if role == "dummy":
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(**params)
    if role == "scaler":
        from sklearn.preprocessing import StandardScaler

        return StandardScaler(**params)
    raise AssertionError(role)


class CpuBackend(Backend):
    """scikit-learn + NumPy: the reference every other backend is checked against.

    Parameters
    ----------
    n_jobs : int, optional
        Passed to scikit-learn's cross-validation and grid search (``-1``: all cores).
    """

    name = "cpu"
    xp = np

    def __init__(self, n_jobs: int | None = None):
        import sklearn.metrics

        self.n_jobs = n_jobs
        self.metrics = sklearn.metrics

    @classmethod
    def availability(cls):
        return True, "scikit-learn on the CPU"

    def describe(self) -> dict:
        import os

        return {"backend": self.name, "device": f"CPU: {platform.processor() or platform.machine()} "
                f"({os.cpu_count()} cores)", "n_jobs": self.n_jobs}

    def asarray(self, a, dtype=None):
        # Keep uint8 pixels as they are: scikit-learn converts per estimator,
        # which is what the book's figures were produced with.
        return np.asarray(a, dtype=dtype)

    def estimator(self, role: str, **params):
        self.check_role(role)
        if self.n_jobs is not None and role in ("sgd", "forest", "knn"):
            params.setdefault("n_jobs", self.n_jobs)  # parallel over classes/trees/queries; same results
        return sklearn_estimator(role, **params)

    def placement(self, role: str) -> Placement:
        self.check_role(role)
        return Placement("cpu", "scikit-learn")

    @staticmethod
    def check_cv(y, n_splits: int) -> None:
        """Raise GpuclfError (not sklearn's ValueError) when a fold would lack a class."""
        from ..kernels.folds import kfold_test_folds, stratified_kfold_test_folds

        if np.ndim(y) == 2:
            kfold_test_folds(len(y), n_splits)
        else:
            stratified_kfold_test_folds(np.asarray(y), n_splits)

    def test_folds(self, y, n_splits: int = 3):
        from sklearn.model_selection import check_cv

        self.check_cv(y, n_splits)
        folds = np.empty(len(y), dtype=np.int64)
        for k, (_, test) in enumerate(check_cv(n_splits, y, classifier=True).split(np.zeros(len(y)), y)):
            folds[test] = k
        return folds

    def cross_val_predict(self, estimator, X, y, cv: int = 3, method: str = "predict"):
        from sklearn.model_selection import cross_val_predict

        self.check_cv(y, cv)
        return cross_val_predict(estimator, X, y, cv=cv, method=method, n_jobs=self.n_jobs)

    def cross_val_score(self, estimator, X, y, cv: int = 3) -> np.ndarray:
        from sklearn.model_selection import cross_val_score

        self.check_cv(y, cv)
        return cross_val_score(estimator, X, y, cv=cv, scoring="accuracy", n_jobs=self.n_jobs)

    def grid_search(self, estimator, param_grid: dict, X, y, cv: int = 5) -> dict:
        from sklearn.model_selection import GridSearchCV

        self.check_cv(y, cv)
        search = GridSearchCV(estimator, param_grid, cv=cv, n_jobs=self.n_jobs).fit(X, y)
        return {"best_params": search.best_params_, "best_score": float(search.best_score_),
                "params": list(search.cv_results_["params"]),
                "mean_test_score": search.cv_results_["mean_test_score"].tolist(),
                "best_estimator": search.best_estimator_}
