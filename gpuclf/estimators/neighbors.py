""":class:`KNeighborsClassifier`: scikit-learn's brute-force KNN on gpuclf's kernels."""
from __future__ import annotations

import numbers
import warnings

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import check_is_fitted

from gpuclf.errors import InputError
from gpuclf.estimators.validation import validate_X
from gpuclf.kernels import neighbors
from gpuclf.kernels.chunking import rows_per_chunk
from gpuclf.xp import get_namespace


def _validate_y(y, n_samples: int, xp):
    """y as an array of xp, 1-D or (n_samples, n_outputs), with class-like values."""
    if y is None:
        raise InputError("KNeighborsClassifier requires y to be passed, but the target y is None")
    y = xp.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected; it is used as y.ravel()",
            DataConversionWarning,
            stacklevel=3,
        )
        y = y.ravel()
    if y.ndim not in (1, 2) or y.shape[0] != n_samples:
        raise InputError(
            f"y must have shape ({n_samples},) or ({n_samples}, n_outputs) to match X, got {y.shape}"
        )
    if y.dtype.kind == "f":
        if not bool(xp.isfinite(y).all()):
            raise InputError("Input y contains NaN or infinity; class labels must be finite")
        if not bool((y == xp.floor(y)).all()):
            raise InputError(
                "Unknown label type: continuous. KNeighborsClassifier needs class labels "
                "(integers or strings), not continuous values"
            )
    return y


def _encode(y, xp):
    """Sorted classes of ``y`` and each label's index among them."""
    classes = xp.unique(y)
    return classes, xp.searchsorted(classes, y)


class KNeighborsClassifier(ClassifierMixin, BaseEstimator):
    """Brute-force k-nearest-neighbours vote, as scikit-learn's (``algorithm="brute"``).

    Works on NumPy or CuPy arrays and returns arrays of the input's
    namespace. Neighbours at equal distance are taken in training order.

    Parameters
    ----------
    n_neighbors : int, default=5
    weights : {"uniform", "distance"}, default="uniform"
        ``"distance"`` weighs neighbours by ``1 / d``; an exact match
        (``d == 0``) outvotes all others.
    budget_bytes : int, optional
        Working memory for one chunk of queries (None: the default of
        :func:`~gpuclf.kernels.chunking.rows_per_chunk`).

    Attributes
    ----------
    classes_ : array of shape (n_classes,), or a list of them per output
    outputs_2d_ : bool
        Whether y had several outputs (multilabel, or e.g. one per pixel).
    n_features_in_ : int
    """

    def __init__(self, n_neighbors=5, weights="uniform", budget_bytes=None):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.budget_bytes = budget_bytes

    def fit(self, X, y):
        """Store the training set and encode its labels.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
        y : array of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self
        """
        if not isinstance(self.n_neighbors, numbers.Integral) or self.n_neighbors < 1:
            raise InputError(f"n_neighbors must be a positive integer, got {self.n_neighbors!r}")
        if self.weights not in neighbors.WEIGHTS:
            raise InputError(f"weights must be 'uniform' or 'distance', got {self.weights!r}")
        X = validate_X(self, X, reset=True)
        xp = get_namespace(X)
        y = _validate_y(y, X.shape[0], xp)
        self.outputs_2d_ = y.ndim == 2
        if self.outputs_2d_:
            encoded = [_encode(y[:, j], xp) for j in range(y.shape[1])]
            self.classes_ = [classes for classes, _ in encoded]
            self._y = xp.stack([codes for _, codes in encoded], axis=1)
            # One row of classes per output, padded with its last class, maps
            # the predicted indices of every output back in one gather.
            width = max(classes.shape[0] for classes in self.classes_)
            self._class_table = xp.stack([
                xp.concatenate([c, xp.repeat(c[-1:], width - c.shape[0])]) for c in self.classes_
            ])
        else:
            self.classes_, self._y = _encode(y, xp)
        self._fit_X = X
        return self

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        """Nearest training samples of each row of X.

        Parameters
        ----------
        X : array of shape (n_queries, n_features), optional
            None queries the training set, each sample left out of its own
            neighbours.
        n_neighbors : int, optional
            Defaults to the constructor's ``n_neighbors``.
        return_distance : bool, default=True

        Returns
        -------
        distances : array of shape (n_queries, n_neighbors)
            Euclidean, ascending; only when ``return_distance``.
        indices : array of shape (n_queries, n_neighbors), int64
        """
        check_is_fitted(self)
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        if X is None:
            query, exclude_self = self._fit_X, True
        else:
            query = validate_X(self, X, reset=False).astype(self._fit_X.dtype, copy=False)
            exclude_self = False
        distances, indices = neighbors.kneighbors(
            self._fit_X, query, k, budget_bytes=self.budget_bytes, exclude_self=exclude_self
        )
        return (distances, indices) if return_distance else indices

    def predict(self, X=None):
        """Class of each row of X by neighbour vote (smallest class on ties).

        Returns
        -------
        array of shape (n_queries,) or (n_queries, n_outputs)
        """
        distances, indices = self.kneighbors(X)
        if not self.outputs_2d_:
            codes = neighbors.vote(self._y[indices], distances, self.classes_.shape[0], self.weights)
            return self.classes_[codes]
        xp = get_namespace(indices)
        weights = neighbors.neighbor_weights(distances, self.weights)
        n, n_outputs = indices.shape[0], self._y.shape[1]
        # neighbor_mode holds a few (rows, k, n_outputs) arrays: 784 pixel
        # targets make that large, so rows go in chunks.
        rows = rows_per_chunk(indices.shape[1] * n_outputs * 24, self.budget_bytes, n)
        codes = xp.concatenate([
            neighbors.neighbor_mode(self._y[indices[s:s + rows]], weights[s:s + rows])
            for s in range(0, n, rows)
        ])
        return self._class_table[xp.arange(n_outputs), codes]

    def predict_proba(self, X=None):
        """Vote weights normalised to probabilities, classes in ``classes_`` order.

        Returns
        -------
        array of shape (n_queries, n_classes), or a list with one per output
        """
        distances, indices = self.kneighbors(X)
        if not self.outputs_2d_:
            return neighbors.vote_proba(self._y[indices], distances, self.classes_.shape[0], self.weights)
        return [
            neighbors.vote_proba(self._y[:, j][indices], distances, classes.shape[0], self.weights)
            for j, classes in enumerate(self.classes_)
        ]

    def score(self, X, y, sample_weight=None):
        """Mean accuracy (subset accuracy for several outputs), computed in X's namespace."""
        pred = self.predict(X)
        xp = get_namespace(pred)
        correct = pred == xp.asarray(y).reshape(pred.shape)
        if correct.ndim == 2:
            correct = correct.all(axis=1)
        weights = None if sample_weight is None else xp.asarray(sample_weight)
        return float(xp.average(correct.astype(xp.float64), weights=weights))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        return tags
