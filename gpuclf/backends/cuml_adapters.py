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

import numpy as np
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


class _SVCReduction:
    """What both SVC reductions add to the generic ones: scikit-learn's gamma, F order, batched decisions.

    - ``gamma='scale'`` / ``'auto'`` is fixed once on the whole training set:
      :class:`sklearn.svm.SVC` computes ``1 / (n_features * X.var())`` over all
      of X (float64) and uses it in every pairwise problem, where binary SVCs
      fitted on pairs of classes would each compute their own. The base
      estimator is a :class:`CumlClassifier` around an SVC, so its gamma is
      ``estimator__gamma``.
    - cuML's SVC takes features in F order (``check_inputs(..., order="F")``
      in ``fit`` and ``decision_function``) and copies anything else, once per
      call: ~55 fits and ~155 decision functions a run. X is put in F order
      once per training or query set, and a one-vs-one pair's rows are
      gathered from it straight into F order.
    - The decision values of all binary SVCs come from one kernel matrix
      against their stacked support vectors (:func:`svc_decisions`) instead
      of one call per binary SVC.
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

    def fit(self, X, y):
        return super().fit(_float32_f_order(X), y)

    def _rows(self, X, rows):
        # Columns of the C-ordered transpose of an F-ordered X: one gather, already in F order.
        return X.T[:, rows].T

    def decision_function(self, X):
        return super().decision_function(_float32_f_order(X))

    def _confidences(self, X, xp):
        batched = svc_decisions([est.estimator_ for est in self.estimators_], X)
        return batched if batched is not None else super()._confidences(X, xp)


def _float32_f_order(X):
    """X as float32 in F order: what cuML's SVC works on, made once per set."""
    xp = get_namespace(X)
    return xp.asfortranarray(xp.asarray(X, dtype=xp.float32))


def _kernel_matrix(X, S, kernel: str, gamma: float, coef0: float, degree: int):
    """scikit-learn's (and cuML's) SVC kernels between the rows of ``X`` and ``S``."""
    xp = get_namespace(X, S)
    dot = X @ S.T
    if kernel == "linear":
        return dot
    if kernel == "poly":
        return (gamma * dot + coef0) ** degree
    if kernel == "sigmoid":
        return xp.tanh(gamma * dot + coef0)
    d2 = xp.sum(X * X, axis=1)[:, None] - 2 * dot + xp.sum(S * S, axis=1)
    return xp.exp(-gamma * xp.maximum(d2, 0))


def svc_decisions(models, X, budget_bytes: int | None = None):
    """Decision values of fitted binary SVCs from one kernel matrix, or None where that cannot be done.

    A binary SVC decides ``K(X, SV) @ dual_coef_[0] + intercept_[0]``
    (positive: ``classes_[1]``), in scikit-learn's convention, which cuML's
    ``dual_coef_`` / ``intercept_`` share (cuML converts them to and from
    scikit-learn's without a sign change, ``svm/svm_base.pyx``). Stacking
    every model's support vectors gives one kernel matrix, and a block
    matrix of the dual coefficients turns it into all decisions in one
    product. Computed in float64, as libsvm does.

    Parameters
    ----------
    models : list of fitted binary SVCs
        Sharing one kernel, gamma (a number), coef0 and degree.
    X : array of shape (n, d)
    budget_bytes : int, optional
        Working memory per chunk of rows of X.

    Returns
    -------
    array of shape (n, len(models)), float64, or None
        None when a model does not expose its support vectors or the models
        do not share one kernel (the caller then asks each model).
    """
    from ..kernels.chunking import rows_per_chunk

    keys = ("kernel", "gamma", "coef0", "degree")
    try:
        settings = {tuple(m.get_params().get(k) for k in keys) for m in models}
        parts = [(m.support_vectors_, m.dual_coef_, m.intercept_) for m in models]
    except AttributeError:
        return None
    if len(settings) != 1:
        return None
    kernel, gamma, coef0, degree = settings.pop()
    if kernel not in ("linear", "poly", "rbf", "sigmoid") or isinstance(gamma, str):
        return None
    xp = get_namespace(X)
    f64 = xp.float64
    S = xp.concatenate([xp.asarray(sv, dtype=f64) for sv, _, _ in parts])
    sizes = [int(sv.shape[0]) for sv, _, _ in parts]  # shapes are host metadata: no sync
    # Block matrix: column m holds model m's dual coefficients against its own support vectors.
    D = xp.zeros((S.shape[0], len(models)), dtype=f64)
    D[xp.arange(S.shape[0]), xp.asarray(np.repeat(np.arange(len(models)), sizes))] = xp.concatenate(
        [xp.reshape(xp.asarray(dual, dtype=f64), (-1,)) for _, dual, _ in parts])
    b = xp.concatenate([xp.reshape(xp.asarray(icpt, dtype=f64), (-1,))[:1] for _, _, icpt in parts])
    X = xp.asarray(X, dtype=f64)
    rows = rows_per_chunk(3 * 8 * S.shape[0], budget_bytes, X.shape[0])
    out = xp.empty((X.shape[0], len(models)), dtype=f64)
    for start in range(0, X.shape[0], rows):
        K = _kernel_matrix(X[start:start + rows], S, kernel, float(gamma), float(coef0 or 0.0), int(degree or 3))
        out[start:start + rows] = K @ D + b
    return out


class SVCOneVsOne(_SVCReduction, OneVsOneClassifier):
    """:class:`OneVsOneClassifier` over a binary SVC, with gamma fixed as ``sklearn.svm.SVC`` does."""


class SVCOneVsRest(_SVCReduction, OneVsRestClassifier):
    """:class:`OneVsRestClassifier` over a binary SVC, with gamma computed in float64 on all of X."""


def _drop_defaults(kw: dict, defaults: dict, what: str) -> dict:
    """``kw`` without scikit-learn parameters cuML lacks, which must then be at scikit-learn's default.

    cuML's constructors refuse keywords they do not have (``TypeError``), so a
    parameter at its default is dropped and any other value is refused in one line.
    """
    kw = dict(kw)
    for name, default in defaults.items():
        if name in kw and kw.pop(name) != default:
            raise GpuclfError(f"the GPU {what} (cuML) has no {name}; leave it at {default!r}, or use --backend cpu")
    return kw


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
    # scikit-learn 1.9's default is the string "deprecated"; cuML's SVC has no such keyword at all.
    probability = kw.pop("probability", False)
    if probability not in (False, "deprecated"):
        raise GpuclfError(f"the GPU SVC has no predict_proba (probability={probability!r}); "
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
    kw = _drop_defaults(kw, {"ccp_alpha": 0.0, "min_weight_fraction_leaf": 0.0, "warm_start": False,
                             "monotonic_cst": None}, "random forest")
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
