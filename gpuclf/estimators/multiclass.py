"""One-vs-one and one-vs-rest classifiers over a binary estimator, on NumPy or CuPy.

They follow :mod:`sklearn.multiclass` rule for rule, but keep the data in
the namespace of the input: the GPU backend builds a multiclass SVC from
binary cuML SVCs this way, so training never leaves the device. The base
estimator is fitted with ``y`` in {0, 1} (int32); its confidence in label 1
is ``decision_function(X)`` where it has one, else ``predict_proba(X)[:, 1]``
(scikit-learn's ``_predict_binary``), so a KNN or a forest is a base too.
"""
from __future__ import annotations

from sklearn.base import BaseEstimator, clone
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if

from ..xp import get_namespace
from .base import ClassifierMixin
from .validation import check_fitted, encode_labels, validate_X, validate_X_y


def _has_decision_function(estimator) -> bool:
    return callable(getattr(estimator, "decision_function", None))


def _scores(estimator, X, xp):
    """The binary estimator's confidence in label 1 as a flat float64 array in ``xp``.

    ``decision_function`` where the estimator has one, else the probability of
    label 1, as scikit-learn's ``_predict_binary``.
    """
    if _has_decision_function(estimator):
        scores = estimator.decision_function(X)
    else:
        scores = xp.asarray(estimator.predict_proba(X))[:, 1]
    return xp.reshape(xp.asarray(scores), (-1,)).astype(xp.float64)


def _binary_threshold(estimator) -> float:
    """Where label 1 starts on :func:`_scores`' scale: 0 for decision values, 0.5 for probabilities."""
    return 0.0 if _has_decision_function(estimator) else 0.5


def _base_has(method: str):
    """``available_if`` check: the base estimator (fitted or not) has ``method``, as scikit-learn's meta-estimators."""
    def check(self) -> bool:
        estimators = self.__dict__.get("estimators_")
        base = estimators[0] if estimators else self.estimator
        getattr(base, method)  # an AttributeError here hides the method, with the base's reason
        return True

    return check


class _Multiclass(ClassifierMixin, BaseEstimator):
    """What both reductions share: label encoding, the binary fits, accuracy."""

    def __init__(self, estimator):
        self.estimator = estimator

    def _binary_estimator(self, X):
        """The unfitted binary estimator cloned for each sub-problem (a hook for subclasses)."""
        return clone(self.estimator)

    def _validate_fit(self, X, y):
        """Checked ``X``, and the class index of each label; sets ``classes_``.

        NaN and infinity in X are left to the base estimator, as scikit-learn's
        meta-estimators do.
        """
        X, y = validate_X_y(self, X, y, allow_nan=True)
        self.classes_, codes = encode_labels(self, y, min_classes=2)
        return X, codes

    def _validate_predict(self, X):
        """Checked ``X``, moved to the namespace the model was fitted in."""
        check_fitted(self)
        return validate_X(self, X, reset=False, xp=get_namespace(self.classes_), allow_nan=True)

    def _fit_binary(self, base, X, positive):
        """Fit a clone of ``base`` on ``X`` with 0/1 int32 labels (1 where ``positive``)."""
        xp = get_namespace(X, positive)
        return clone(base).fit(X, positive.astype(xp.int32))

    def _rows(self, X, rows):
        """The training rows of one sub-problem (a hook: a subclass may keep a layout)."""
        return X[rows]

    def _confidences(self, X, xp):
        """Each binary estimator's decision values, one column each (a hook: a subclass may batch them)."""
        return xp.stack([_scores(est, X, xp) for est in self.estimators_], axis=1)

    def _combined(self, X):
        """The multiclass scores :meth:`predict` takes the argmax of (a hook per reduction)."""
        raise NotImplementedError

    def predict(self, X):
        """The class with the highest score (the first one on ties).

        With two classes, ``classes_[1]`` where the binary estimator's
        confidence passes its threshold: 0 for decision values, 0.5 for
        probabilities (scikit-learn's ``_threshold_for_binary_predict``).
        """
        check_fitted(self)
        scores = self._combined(X)
        xp = get_namespace(scores)
        if scores.ndim == 1:
            threshold = _binary_threshold(self.estimators_[0])
            return self.classes_[(scores > threshold).astype(xp.int64)]
        return self.classes_[xp.argmax(scores, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if hasattr(self.estimator, "__sklearn_tags__"):  # a bad estimator is refused by fit, not here
            tags.input_tags.allow_nan = get_tags(self.estimator).input_tags.allow_nan
        return tags


class OneVsOneClassifier(_Multiclass):
    """One binary estimator per pair of classes, combined by votes.

    Reproduces :class:`sklearn.multiclass.OneVsOneClassifier` (and so the
    multiclass rule of :class:`sklearn.svm.SVC`): pairs ``(i, j)`` with
    ``i < j`` in the order of ``classes_``, each trained on the rows of
    classes ``i`` and ``j`` with ``j`` as the positive label. ``predict``
    is the argmax of ``decision_function``, as ``SVC(break_ties=True)``;
    SVC's default gives tied votes to the first class instead.

    Each pair votes by its estimator's ``predict`` where the estimator has
    no ``decision_function`` (scikit-learn's rule), and by the sign of its
    decision value where it has one (the same vote for SVC, without a
    second pass over the support vectors).

    Parameters
    ----------
    estimator : estimator
        Binary classifier with ``fit`` and ``predict``, and
        ``decision_function`` or ``predict_proba``.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    estimators_ : list of n_classes * (n_classes - 1) / 2 fitted estimators
    """

    def fit(self, X, y):
        """Fit one binary estimator per pair of classes; returns ``self``."""
        X, codes = self._validate_fit(X, y)
        xp = get_namespace(X)
        base = self._binary_estimator(X)
        n = len(self.classes_)
        self.estimators_ = []
        for i in range(n):
            for j in range(i + 1, n):
                rows = xp.flatnonzero((codes == i) | (codes == j))
                self.estimators_.append(self._fit_binary(base, self._rows(X, rows), codes[rows] == j))
        return self

    def decision_function(self, X):
        """Votes plus normalised summed confidences, as scikit-learn's ``_ovr_decision_function``.

        Returns
        -------
        array of shape (n_samples, n_classes), or (n_samples,) for two classes
            The confidence term lies in (-1/3, 1/3), so it breaks ties
            between equal vote counts without overturning any vote.
        """
        X = self._validate_predict(X)
        xp = get_namespace(X)
        n = len(self.classes_)
        conf = self._confidences(X, xp)
        # Pair k = (i, j) adds -conf to class i and +conf to class j, and votes for j where its
        # estimator predicts label 1, else for i. One-hot pair matrices turn the per-pair loop
        # into two products.
        first, second = xp.triu_indices(n, k=1)
        classes = xp.arange(n)
        to_i = (first[:, None] == classes).astype(xp.float64)
        to_j = (second[:, None] == classes).astype(xp.float64)
        if _has_decision_function(self.estimators_[0]):
            for_j = (conf >= 0).astype(xp.float64)  # decision >= 0 -> label 1, as SVC's predict
        else:
            for_j = xp.stack([xp.reshape(xp.asarray(est.predict(X)), (-1,)) == 1 for est in self.estimators_],
                             axis=1).astype(xp.float64)
        votes = for_j @ to_j + (1.0 - for_j) @ to_i
        summed = conf @ (to_j - to_i)
        scores = votes + summed / (3 * (xp.abs(summed) + 1))
        return scores[:, 1] if n == 2 else scores

    def _combined(self, X):
        return self.decision_function(X)


class OneVsRestClassifier(_Multiclass):
    """One binary estimator per class against all the others.

    Reproduces :class:`sklearn.multiclass.OneVsRestClassifier` for
    multiclass (not multilabel) targets; with two classes a single
    estimator is trained for ``classes_[1]``, as scikit-learn does.
    ``predict`` takes each estimator's decision value, or its probability of
    label 1 where it has no ``decision_function``; ``decision_function`` and
    ``predict_proba`` exist where the base estimator has them.

    Parameters
    ----------
    estimator : estimator
        Binary classifier with ``fit``, and ``decision_function`` or ``predict_proba``.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    estimators_ : list of fitted estimators (one per class, or one for two classes)
    """

    def fit(self, X, y):
        """Fit one binary estimator per class; returns ``self``."""
        X, codes = self._validate_fit(X, y)
        base = self._binary_estimator(X)
        targets = [1] if len(self.classes_) == 2 else range(len(self.classes_))
        self.estimators_ = [self._fit_binary(base, X, codes == k) for k in targets]
        return self

    def _confidence_columns(self, X):
        X = self._validate_predict(X)
        scores = self._confidences(X, get_namespace(X))
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def _combined(self, X):
        # Through decision_function where there is one: a subclass may prepare X there (SVC's F order).
        return self.decision_function(X) if _has_decision_function(self.estimators_[0]) \
            else self._confidence_columns(X)

    @available_if(_base_has("decision_function"))
    def decision_function(self, X):
        """Each estimator's decision value for its class.

        Returns
        -------
        array of shape (n_samples, n_classes), or (n_samples,) for two classes
        """
        return self._confidence_columns(X)

    @available_if(_base_has("predict_proba"))
    def predict_proba(self, X):
        """Each estimator's probability of its class, normalised to sum to 1 per row (where the sum is not 0).

        Returns
        -------
        array of shape (n_samples, n_classes)
        """
        X = self._validate_predict(X)
        xp = get_namespace(X)
        Y = xp.stack([xp.asarray(est.predict_proba(X))[:, 1].astype(xp.float64) for est in self.estimators_],
                     axis=1)
        if Y.shape[1] == 1:
            return xp.concatenate([1 - Y, Y], axis=1)
        sums = Y.sum(axis=1, keepdims=True)
        return Y / xp.where(sums == 0, 1.0, sums)  # scikit-learn leaves all-zero rows as they are
