"""scikit-learn-compatible linear SGD classifier on the batched hinge kernel.

:class:`SGDClassifier` follows scikit-learn's ``SGDClassifier`` (hinge loss,
L2 penalty, one-vs-rest for more than two classes, the same ``classes_``,
``coef_`` and ``intercept_`` shapes) and runs on NumPy or CuPy input.
:func:`cross_val_decision_sgd` trains every fold x every class in one call of
:func:`gpuclf.kernels.linear.fit_hinge_sgd` instead of one fit per fold.
"""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from gpuclf.errors import InputError
from gpuclf.estimators.base import ClassifierMixin
from gpuclf.estimators.validation import encode_labels, validate_X, validate_X_y
from gpuclf.kernels import linear as linear_kernels
from gpuclf.xp import get_namespace, to_namespace


def _check_X_y(estimator, X, y):
    """Validated ``X`` and, in its namespace, the sorted classes and each sample's class index.

    ``estimator`` receives scikit-learn's ``n_features_in_`` bookkeeping.
    """
    X, y = validate_X_y(estimator, X, y)
    classes, y_idx = encode_labels(estimator, y, min_classes=2)
    return X, classes, y_idx


def _ovr_targets(y_idx, n_classes: int, xp, dtype):
    """±1 targets: one column (class 1 positive) for binary, else one per class."""
    positive = xp.arange(n_classes) if n_classes > 2 else xp.asarray([1])
    return xp.where(y_idx[:, None] == positive[None, :], 1, -1).astype(dtype)


def _sklearn_intercept(intercept, binary: bool, xp):
    """Intercepts in scikit-learn's dtype: a binary model's are float64 whatever X's dtype (so are its
    scores); one-vs-rest ones keep coef_'s."""
    return intercept.astype(xp.float64) if binary else intercept


class SGDClassifier(ClassifierMixin, BaseEstimator):
    """Linear classifier (hinge loss, L2 penalty) by batched mini-batch SGD.

    scikit-learn's ``SGDClassifier()`` loss, penalty and learning-rate
    schedule, on NumPy or CuPy arrays, in mini-batches; one-vs-rest for more
    than two classes, all classes trained at once. Parameters that scikit-learn
    also has mean the same and default the same, except ``max_iter`` and
    ``tol``: a fixed 5 epochs with averaged weights by default, scikit-learn's
    stopping rule on request.

    Parameters
    ----------
    loss : {'hinge'}, default='hinge'
        The only loss (a linear SVM), as scikit-learn's default.
    penalty : {'l2'}, default='l2'
        The only penalty, as scikit-learn's default.
    alpha : float, default=1e-4
        L2 penalty; the learning rate follows scikit-learn's 'optimal' schedule.
    max_iter : int, default=5
        Epochs: the most with ``tol``; without, all of them, and more on sets
        under 6,000 rows so that a fit sees at least 30,000 rows.
    tol : float or None, default=None
        With a number, scikit-learn's stopping rule: a model stops once its
        epoch loss has not fallen below ``best_loss - tol * n_samples`` for
        ``n_iter_no_change`` epochs (checked every ``n_iter_no_change`` epochs).
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping (with ``tol``).
    batch_size : int, default=512
        Largest number of rows per mini-batch; small sets use smaller batches
        so that every epoch makes at least 64 updates.
    average_after : int or None, default=1
        Epochs after which the weights are averaged (ASGD); None keeps the last.
    random_state : int or None, default=None
        Seed of the shuffling; None draws a fresh one at each fit, as scikit-learn.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    coef_ : array of shape (1, n_features) for two classes, else (n_classes, n_features)
        float64 for float64 or integer input, float32 for float32 input.
    intercept_ : array of shape (1,) or (n_classes,)
        float64 for two classes, else coef_'s dtype (as scikit-learn's).
    n_features_in_ : int
    n_iter_ : int
        Epochs run (the most of any one-vs-rest model, as scikit-learn).

    See Also
    --------
    gpuclf.kernels.linear.fit_hinge_sgd : the kernel and how its schedule
        differs from scikit-learn's.
    """

    def __init__(self, loss="hinge", penalty="l2", alpha=1e-4, max_iter=5, tol=None, n_iter_no_change=5,
                 batch_size=512, average_after=1, random_state=None):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.batch_size = batch_size
        self.average_after = average_after
        self.random_state = random_state

    def _kernel_params(self) -> dict:
        """Keyword arguments of :func:`~gpuclf.kernels.linear.fit_hinge_sgd` (checked by :func:`validate_X`)."""
        return {"alpha": float(self.alpha), "max_iter": int(self.max_iter),
                "tol": None if self.tol is None else float(self.tol),
                "n_iter_no_change": int(self.n_iter_no_change), "batch_size": int(self.batch_size),
                "average_after": self.average_after, "random_state": self.random_state}

    def fit(self, X, y):
        """Fit one binary model, or one per class (one-vs-rest).

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            NumPy or CuPy; integers become float64, float32 stays float32. The model lives in the
            namespace of ``X`` and ``y`` (CuPy if either is).
        y : array of shape (n_samples,)
            Class labels.

        Returns
        -------
        self
        """
        X, classes, y_idx = _check_X_y(self, X, y)
        params = self._kernel_params()
        xp = get_namespace(X)
        Y = _ovr_targets(y_idx, classes.shape[0], xp, X.dtype)
        coef, intercept, n_iter = linear_kernels.fit_hinge_sgd(X, Y, xp.ones_like(Y), **params)
        self.classes_ = classes
        self.coef_ = coef.T
        self.intercept_ = _sklearn_intercept(intercept, classes.shape[0] <= 2, xp)
        self.n_features_in_ = X.shape[1]
        self.n_iter_ = int(n_iter.max())
        return self

    def decision_function(self, X):
        """Signed scores: shape (n_samples,) for two classes, else (n_samples, n_classes).

        ``X`` is moved to the namespace the model was fitted in, which is
        also that of the result.
        """
        check_is_fitted(self)
        given = getattr(X, "dtype", None)
        xp = get_namespace(self.coef_)
        X = validate_X(self, X, reset=False, xp=xp)
        # scikit-learn's dtype: the rows as given (integers too) times coef_ under NumPy's promotion, plus
        # intercept_ (float64 for a binary model); the GEMM's operands cast to that one dtype.
        rows = given if given is not None and np.dtype(given).kind in "biuf" else X.dtype
        dtype = xp.result_type(rows, self.coef_.dtype)
        scores = linear_kernels.decision_function(X.astype(dtype, copy=False), self.coef_.T.astype(dtype, copy=False),
                                                  self.intercept_)
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
    # A clone takes the fit-time bookkeeping: the caller's estimator stays unfitted.
    X, classes, y_idx = _check_X_y(clone(estimator), X, y)
    params = estimator._kernel_params()
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
    coef, intercept, _ = linear_kernels.fit_hinge_sgd(X, xp.tile(Y, (1, n_splits)), mask, **params)
    intercept = _sklearn_intercept(intercept, n_cls == 1, xp)
    scores = linear_kernels.decision_function(X, coef, intercept).reshape(n, n_splits, n_cls)
    out_of_fold = scores[xp.arange(n), test_folds]
    return out_of_fold[:, 0] if n_cls == 1 else out_of_fold
