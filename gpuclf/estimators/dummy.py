"""The chapter's baseline: a classifier that ignores X, on NumPy or CuPy."""
from __future__ import annotations

from sklearn.base import BaseEstimator

from ..xp import get_namespace
from .base import ClassifierMixin
from .validation import encode_labels, num_samples, validate_y


class DummyClassifier(ClassifierMixin, BaseEstimator):
    """Predict the most frequent training class, as :class:`sklearn.dummy.DummyClassifier`.

    As scikit-learn's, it reads only the number of rows of ``X`` (any
    values, NaN or sparse included); ``y`` gets the checks of every gpuclf
    classifier (finite, discrete labels; scikit-learn's dummy is laxer there).

    Parameters
    ----------
    strategy : {"prior", "most_frequent"}, default="prior"
        Both predict the most frequent class (the smallest label on ties);
        ``predict_proba`` returns the class frequencies for ``"prior"`` and
        a one-hot row for ``"most_frequent"``.

    Attributes
    ----------
    classes_ : array of shape (n_classes,)
    class_prior_ : float64 array of shape (n_classes,)
        Frequency of each class in the training labels.
    n_classes_ : int
    n_features_in_ : int
        When ``X`` has columns.
    """

    def __init__(self, strategy: str = "prior"):
        self.strategy = strategy

    def fit(self, X, y):
        """Count the classes of ``y`` (1-D labels); ``X`` only gives the row count.

        The classes live in ``y``'s namespace (CuPy if ``X`` or ``y`` is a CuPy array).
        """
        n = num_samples(self, X, reset=True)
        y = validate_y(self, y, n, xp=get_namespace(X, y))
        self.classes_, codes = encode_labels(self, y)
        self.n_classes_ = int(self.classes_.shape[0])
        xp = get_namespace(codes)
        counts = xp.bincount(codes, minlength=self.n_classes_)
        self.class_prior_ = counts / counts.sum()
        return self

    def _top(self):
        xp = get_namespace(self.classes_)
        return xp, xp.argmax(self.class_prior_)  # argmax keeps the first (smallest) class on ties

    def predict(self, X):
        """The most frequent training class for every row of ``X``."""
        n = num_samples(self, X, reset=False)
        xp, top = self._top()
        return self.classes_[xp.zeros(n, dtype=xp.int64) + top]

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), float64."""
        n = num_samples(self, X, reset=False)
        xp, top = self._top()
        if self.strategy == "prior":
            row = self.class_prior_
        else:
            row = (xp.arange(self.n_classes_) == top).astype(xp.float64)
        return xp.ones((n, 1)) * row

    def score(self, X, y, sample_weight=None):
        """Accuracy on ``y`` as a Python float; ``X`` may be None, as in scikit-learn."""
        return super().score(y if X is None else X, y, sample_weight)  # X=None: one prediction per label

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's dummy tags: X's values are never read.
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = True
        tags.classifier_tags.poor_score = True
        tags.no_validation = True
        return tags
