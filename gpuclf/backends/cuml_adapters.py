"""cuML estimators behind scikit-learn's parameter names, for the GPU backend.

cuML is imported inside the functions, never when this module is imported,
so the package works without it. Each factory returns an estimator whose
``fit`` hands cuML float32 features and int32 labels and whose outputs come
back in the namespace of the input (CuPy on the GPU backend). Parameter
names and semantics are from the cuML API reference:

- https://docs.nvidia.com/cuml/latest/api/generated/cuml.ensemble.RandomForestClassifier/
- https://docs.nvidia.com/cuml/latest/api/generated/cuml.svm.SVC/
- https://docs.nvidia.com/cuml/latest/api/generated/cuml.neighbors.KNeighborsClassifier/

The multiclass SVC is built from binary cuML SVCs by our own
:class:`~gpuclf.estimators.multiclass.OneVsOneClassifier`, so it trains on the
device and reproduces scikit-learn's one-vs-one rule exactly.
"""
from __future__ import annotations

import importlib

from sklearn.base import BaseEstimator, ClassifierMixin, clone

from ..errors import GpuclfError
from ..estimators.multiclass import OneVsOneClassifier, OneVsRestClassifier
from ..xp import get_namespace, to_namespace
from .probes import cuml_status

__all__ = ["CumlClassifier", "SVCOneVsOne", "SVCOneVsRest", "cuml_status", "knn", "ovr_svc", "random_forest", "svc"]


def _cuml_class(module: str, name: str):
    ok, reason = cuml_status()
    if not ok:
        raise GpuclfError(f"this estimator needs cuML: {reason}")
    return getattr(importlib.import_module(module), name)


class CumlClassifier(ClassifierMixin, BaseEstimator):
    """A classifier fed float32 features and int32 class codes, answering in the input's labels.

    cuML's fit methods document float32 features and int32 labels; encoding
    the labels as ``0..n_classes-1`` also lets predictions come back with
    the caller's label values and dtype (uint8 digits, bool detectors).

    Parameters
    ----------
    estimator : estimator
        A cuML (or any scikit-learn-style) classifier.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    estimator_ : the fitted clone of ``estimator``
    """

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        """Fit a clone of ``estimator`` on float32 ``X`` and int32 codes of ``y`` (1-D)."""
        xp = get_namespace(X, y)
        self.classes_, codes = xp.unique(y, return_inverse=True)
        self.estimator_ = clone(self.estimator).fit(
            xp.asarray(X, dtype=xp.float32), xp.reshape(codes, (-1,)).astype(xp.int32))
        return self

    def _ask(self, method: str, X):
        xp = get_namespace(X)
        return xp, to_namespace(getattr(self.estimator_, method)(xp.asarray(X, dtype=xp.float32)), xp)

    def predict(self, X):
        """Predicted labels, in the values and dtype of the training labels."""
        xp, codes = self._ask("predict", X)
        # Some cuML versions return the codes as floats; they are exact integers.
        return self.classes_[xp.reshape(codes, (-1,)).astype(xp.int64)]

    def predict_proba(self, X):
        """Class probabilities, columns in the order of ``classes_``."""
        return self._ask("predict_proba", X)[1]

    def decision_function(self, X):
        """The estimator's decision values (binary: positive means ``classes_[1]``)."""
        return self._ask("decision_function", X)[1]


class _ResolvedGamma:
    """Fix an SVC's ``gamma='scale'`` / ``'auto'`` on the whole training set.

    :class:`sklearn.svm.SVC` computes ``gamma='scale'`` once, as
    ``1 / (n_features * X.var())`` over all of X (float64), and uses it in
    every pairwise problem; binary SVCs fitted on pairs of classes would
    each compute their own. The base estimator is a :class:`CumlClassifier`
    around an SVC, so its gamma is ``estimator__gamma``.
    """

    def _binary_estimator(self, X):
        base = clone(self.estimator)
        gamma = base.get_params()["estimator__gamma"]
        if gamma == "auto":
            base.set_params(estimator__gamma=1.0 / X.shape[1])
        elif gamma == "scale":
            xp = get_namespace(X)
            var = float(xp.var(X, dtype=xp.float64))
            base.set_params(estimator__gamma=1.0 / (X.shape[1] * var) if var != 0 else 1.0)
        return base


class SVCOneVsOne(_ResolvedGamma, OneVsOneClassifier):
    """:class:`OneVsOneClassifier` over a binary SVC, with gamma fixed as ``sklearn.svm.SVC`` does."""


class SVCOneVsRest(_ResolvedGamma, OneVsRestClassifier):
    """:class:`OneVsRestClassifier` over a binary SVC, with gamma computed in float64 on all of X."""


def _svc_params(kw: dict) -> dict:
    """scikit-learn SVC parameters as cuML SVC ones."""
    kw = dict(kw)
    # libsvm's shrinking heuristic only changes speed, and cuML's SMO solver
    # has no such option; break_ties=True is what OneVsOneClassifier.predict does.
    kw.pop("shrinking", None)
    kw.pop("break_ties", None)
    shape = kw.pop("decision_function_shape", "ovr")
    if shape != "ovr":
        raise GpuclfError(f"the GPU SVC returns scikit-learn's default decision_function_shape='ovr', "
                          f"not {shape!r}")
    if kw.get("probability"):
        raise GpuclfError("the GPU SVC has no predict_proba (probability=True); "
                          "use decision_function, or --backend cpu")
    return kw


def _binary_svc(kw: dict) -> CumlClassifier:
    params = _svc_params(kw)
    SVC = _cuml_class("cuml.svm", "SVC")
    # cuML SVC: same C, kernel, degree, gamma, coef0, tol, class_weight as
    # scikit-learn; random_state is "used only when probability = True".
    return CumlClassifier(SVC(output_type="cupy", **params))


def svc(random_state: int | None = 42, **kw) -> SVCOneVsOne:
    """``sklearn.svm.SVC(random_state=42, **kw)`` on the GPU: one-vs-one over binary cuML SVCs.

    Parameters
    ----------
    random_state : int or None, default=42
    **kw
        scikit-learn SVC parameters (``C``, ``kernel``, ``gamma``, ...).

    Raises
    ------
    GpuclfError
        Without cuML (with what to install), or for ``probability=True`` /
        ``decision_function_shape='ovo'``.
    """
    return SVCOneVsOne(_binary_svc({"random_state": random_state, **kw}))


def ovr_svc(**kw) -> SVCOneVsRest:
    """``OneVsRestClassifier(SVC(**kw))`` on the GPU, over binary cuML SVCs (see :func:`svc`)."""
    return SVCOneVsRest(_binary_svc(kw))


def random_forest(n_estimators: int = 100, random_state: int | None = 42, **kw) -> CumlClassifier:
    """``sklearn.ensemble.RandomForestClassifier`` parameters on ``cuml.ensemble.RandomForestClassifier``.

    cuML splits on ``n_bins=128`` quantiles rather than exact thresholds, and
    its ``max_depth`` defaults to 16 before 26.08 (``None``, unlimited as in
    scikit-learn, is accepted from 26.04), so accuracy is close but the
    trees are not identical.

    Raises
    ------
    GpuclfError
        Without cuML, with what to install.
    """
    RandomForestClassifier = _cuml_class("cuml.ensemble", "RandomForestClassifier")
    # cuML names: split_criterion ('gini' | 'entropy'; scikit-learn's
    # 'log_loss' is the same entropy criterion), max_leaves (-1: unlimited),
    # max_samples as a fraction (1.0: all rows). cuML builds trees on CUDA
    # streams (n_streams) and has no n_jobs.
    if "criterion" in kw:
        criterion = kw.pop("criterion")
        kw["split_criterion"] = "entropy" if criterion == "log_loss" else criterion
    if "max_leaf_nodes" in kw:
        leaves = kw.pop("max_leaf_nodes")
        kw["max_leaves"] = -1 if leaves is None else leaves
    if kw.get("max_samples", 1.0) is None:
        kw["max_samples"] = 1.0
    kw.pop("n_jobs", None)
    return CumlClassifier(RandomForestClassifier(n_estimators=n_estimators, random_state=random_state,
                                                 output_type="cupy", **kw))


def knn(**kw) -> CumlClassifier:
    """``sklearn.neighbors.KNeighborsClassifier`` parameters on ``cuml.neighbors.KNeighborsClassifier``.

    Raises
    ------
    GpuclfError
        Without cuML, with what to install.
    """
    KNeighborsClassifier = _cuml_class("cuml.neighbors", "KNeighborsClassifier")
    # cuML: "Currently, only 'brute' is supported" (plus approximate
    # 'ivfflat' / 'ivfpq'); scikit-learn's exact tree searches find the same
    # neighbours, so they map to 'brute', and leaf_size has no counterpart.
    # cuML's default metric='euclidean' is scikit-learn's 'minkowski' with p=2.
    if kw.get("algorithm") in ("kd_tree", "ball_tree"):
        kw["algorithm"] = "brute"
    kw.pop("leaf_size", None)
    return CumlClassifier(KNeighborsClassifier(output_type="cupy", **kw))
