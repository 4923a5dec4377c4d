"""The chapter's baseline: a classifier that ignores X, on NumPy or CuPy."""
from __future__ import annotations

from sklearn.base import BaseEstimator, ClassifierMixin

from ..errors import GpuclfError
from ..xp import get_namespace

STRATEGIES = ("prior", "most_frequent")


class DummyClassifier(ClassifierMixin, BaseEstimator):
    """Predict the most frequent training class, as :class:`sklearn.dummy.DummyClassifier`.

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
    """

    def __init__(self, strategy: str = "prior"):
        self.strategy = strategy

    def fit(self, X, y):
        """Count the classes of ``y`` (1-D labels); ``X`` only gives the row count."""
        if self.strategy not in STRATEGIES:
            raise GpuclfError(f"DummyClassifier strategy must be one of {', '.join(STRATEGIES)}, "
                              f"got {self.strategy!r}")
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise GpuclfError(f"y must be 1-D with one label per row of X ({X.shape[0]}), "
                              f"got shape {y.shape}")
        xp = get_namespace(X, y)
        self.classes_, counts = xp.unique(y, return_counts=True)
        self.n_classes_ = len(self.classes_)
        self.class_prior_ = counts / counts.sum()
        return self

    def _top(self):
        xp = get_namespace(self.classes_)
        return xp, xp.argmax(self.class_prior_)  # argmax keeps the first (smallest) class on ties

    def predict(self, X):
        """The most frequent training class for every row of ``X``."""
        xp, top = self._top()
        return self.classes_[xp.zeros(X.shape[0], dtype=xp.int64) + top]

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), float64."""
        xp, top = self._top()
        if self.strategy == "prior":
            row = self.class_prior_
        else:
            row = (xp.arange(self.n_classes_) == top).astype(xp.float64)
        return xp.ones((X.shape[0], 1)) * row

    def score(self, X, y):
        """Accuracy on ``y`` as a Python float; ``X`` may be None, as in scikit-learn."""
        xp = get_namespace(y)
        if X is None:
            X = xp.zeros((y.shape[0], 1))
        return float(xp.mean(self.predict(X) == y))
