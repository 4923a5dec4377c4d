"""scikit-learn-compatible linear SGD classifier on the batched hinge kernel.

:class:`SGDClassifier` follows scikit-learn's ``SGDClassifier`` (hinge loss,
L2 penalty, one-vs-rest for more than two classes, the same ``classes_``,
``coef_`` and ``intercept_`` shapes) and runs on NumPy or CuPy input.
:func:`cross_val_decision_sgd` trains every fold x every class in one call of
:func:`gpuclf.kernels.linear.fit_hinge_sgd` instead of one fit per fold.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from gpuclf.errors import InputError
from gpuclf.estimators.validation import validate_X
from gpuclf.kernels import linear as linear_kernels
from gpuclf.xp import get_namespace, to_host, to_namespace


def _check_X_y(estimator, X, y):
    """Validated ``X`` and, in its namespace, the sorted classes and each sample's class index.

    ``estimator`` receives scikit-learn's ``n_features_in_`` bookkeeping.
    """
    if y is None:
        raise InputError("SGDClassifier requires y to be passed, but the target y is None")
    xp = get_namespace(X, y)
    X = validate_X(estimator, X, reset=True, xp=xp, float_dtype=np.float32)
    n_samples = X.shape[0]
    y_host = to_host(y)
    if y_host.ndim == 2 and y_host.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected; it is raveled",
                      DataConversionWarning, stacklevel=3)
        y_host = y_host.ravel()
    if y_host.ndim != 1 or y_host.shape[0] != n_samples:
        raise InputError(f"y must be 1-D with one label per row of X ({n_samples}), got shape {y_host.shape}")
    try:
        check_classification_targets(y_host)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    classes, y_idx = np.unique(y_host, return_inverse=True)
    if classes.shape[0] < 2:
        raise InputError(f"y has only one class ({classes[0]!r}); a classifier needs samples of at least 2 classes")
    return X, xp.asarray(classes), xp.asarray(y_idx)


def _ovr_targets(y_idx, n_classes: int, xp, dtype):
    """±1 targets: one column (class 1 positive) for binary, else one per class."""
    positive = xp.arange(n_classes) if n_classes > 2 else xp.asarray([1])
    return xp.where(y_idx[:, None] == positive[None, :], 1, -1).astype(dtype)


class SGDClassifier(ClassifierMixin, BaseEstimator):
    """Linear classifier (hinge loss, L2 penalty) by batched mini-batch SGD.

    scikit-learn's ``SGDClassifier()`` loss, penalty and learning-rate
    schedule, on NumPy or CuPy arrays, in mini-batches for a fixed number of
    epochs; one-vs-rest for more than two classes, all classes trained at once.

    Parameters
    ----------
    alpha : float, default=1e-4
        L2 penalty; the learning rate follows scikit-learn's 'optimal' schedule.
    max_iter : int, default=5
        Epochs, always all of them (no tolerance-based stopping).
    batch_size : int, default=512
        Rows per mini-batch.
    average_after : int or None, default=1
        Epochs after which the weights are averaged (ASGD); None keeps the last.
    random_state : int or None, default=42
        Seed of the shuffling.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    coef_ : array of shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : array of shape (1,) or (n_classes,)
    n_features_in_ : int
    n_iter_ : int
        Epochs run (always ``max_iter``).

    See Also
    --------
    gpuclf.kernels.linear.fit_hinge_sgd : the kernel and how its schedule
        differs from scikit-learn's.
    """

    def __init__(self, alpha=1e-4, max_iter=5, batch_size=512, average_after=1, random_state=42):
        self.alpha = alpha
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.average_after = average_after
        self.random_state = random_state

    def _kernel_params(self) -> dict:
        if not isinstance(self.alpha, numbers.Real) or not self.alpha > 0:
            raise InputError(f"alpha must be a positive number, got {self.alpha!r}")
        for name in ("max_iter", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or value < 1:
                raise InputError(f"{name} must be a positive integer, got {value!r}")
        if self.average_after is not None and (
                not isinstance(self.average_after, numbers.Integral) or self.average_after < 0):
            raise InputError(f"average_after must be None or an integer >= 0, got {self.average_after!r}")
        return {"alpha": float(self.alpha), "max_iter": int(self.max_iter),
                "batch_size": int(self.batch_size), "average_after": self.average_after,
                "random_state": self.random_state}

    def fit(self, X, y):
        """Fit one binary model, or one per class (one-vs-rest).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            NumPy or CuPy; integers become float32. The model lives in the
            namespace of ``X`` and ``y`` (CuPy if either is).
        y : array of shape (n_samples,)
            Class labels.

        Returns
        -------
        self
        """
        params = self._kernel_params()
        X, classes, y_idx = _check_X_y(self, X, y)
        xp = get_namespace(X)
        Y = _ovr_targets(y_idx, classes.shape[0], xp, X.dtype)
        coef, intercept = linear_kernels.fit_hinge_sgd(X, Y, xp.ones_like(Y), **params)
        self.classes_ = classes
        self.coef_ = coef.T
        self.intercept_ = intercept
        self.n_features_in_ = X.shape[1]
        self.n_iter_ = params["max_iter"]
        return self

    def decision_function(self, X):
        """Signed scores: shape (n_samples,) for two classes, else (n_samples, n_classes).

        ``X`` is moved to the namespace the model was fitted in, which is
        also that of the result.
        """
        check_is_fitted(self)
        X = validate_X(self, X, reset=False, xp=get_namespace(self.coef_), float_dtype=np.float32)
        scores = linear_kernels.decision_function(X, self.coef_.T, self.intercept_)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Class of each row: positive score for two classes, else the highest score."""
        scores = self.decision_function(X)
        xp = get_namespace(scores)
        picked = (scores > 0).astype(xp.int64) if scores.ndim == 1 else xp.argmax(scores, axis=1)
        return self.classes_[picked]


def cross_val_decision_sgd(estimator, X, y, test_folds):
    """Out-of-fold decision scores, all folds x classes trained in one batched call.

    Model ``(fold k, class c)`` trains on the samples outside fold ``k``; each
    sample is then scored by the models of its own test fold, which equals
    ``cross_val_predict(estimator, X, y, cv=folds, method="decision_function")``
    up to the shared shuffling.

    Parameters
    ----------
    estimator : SGDClassifier
        Supplies the hyper-parameters (it is not fitted).
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples,)
        The result lives in the namespace of ``X`` and ``y`` (CuPy if either is).
    test_folds : int array of shape (n_samples,)
        Test-fold id of each sample, ``0 .. n_splits - 1``.

    Returns
    -------
    array of shape (n_samples,) for two classes, else (n_samples, n_classes)
    """
    if not isinstance(estimator, SGDClassifier):
        raise InputError(f"cross_val_decision_sgd needs a gpuclf SGDClassifier, got {type(estimator).__name__}")
    params = estimator._kernel_params()
    # A clone takes the fit-time bookkeeping: the caller's estimator stays unfitted.
    X, classes, y_idx = _check_X_y(clone(estimator), X, y)
    n = X.shape[0]
    xp = get_namespace(X)
    test_folds = to_namespace(test_folds, xp)
    if test_folds.shape != (n,) or test_folds.dtype.kind not in "iu" or int(test_folds.min()) < 0:
        raise InputError(f"test_folds must be fold ids 0, 1, ..., one per row of X ({n}), "
                         f"got shape {test_folds.shape} and dtype {test_folds.dtype}")
    n_splits = int(test_folds.max()) + 1
    Y = _ovr_targets(y_idx, classes.shape[0], xp, X.dtype)
    n_cls = Y.shape[1]
    # Column j is the model of fold j // n_cls and class j % n_cls.
    fold_of_model = xp.repeat(xp.arange(n_splits), n_cls)
    mask = test_folds[:, None] != fold_of_model[None, :]
    coef, intercept = linear_kernels.fit_hinge_sgd(X, xp.tile(Y, (1, n_splits)), mask, **params)
    scores = linear_kernels.decision_function(X, coef, intercept).reshape(n, n_splits, n_cls)
    out_of_fold = scores[xp.arange(n), test_folds]
    return out_of_fold[:, 0] if n_cls == 1 else out_of_fold
