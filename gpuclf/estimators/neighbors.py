""":class:`KNeighborsClassifier`: scikit-learn's KNN on gpuclf's kernels, brute force or pruned, same neighbours."""
from __future__ import annotations

from sklearn.base import BaseEstimator

from gpuclf.estimators.base import ClassifierMixin
from gpuclf.estimators.validation import (check_fitted, check_n_neighbors, encode_labels, validate_X, validate_X_y)
from gpuclf.kernels import neighbors
from gpuclf.kernels.chunking import rows_per_chunk
from gpuclf.xp import get_namespace


def _small_integers(y) -> bool:
    """Whether every column of ``y`` fits :func:`~gpuclf.kernels.neighbors.encode_columns` (pixels, flags)."""
    if y.dtype == bool:
        return True
    if y.dtype.kind not in "iu":
        return False
    if y.dtype.itemsize == 1:
        return True
    return int(y.max()) - int(y.min()) < neighbors.ENCODE_MAX_SPAN


class KNeighborsClassifier(ClassifierMixin, BaseEstimator):
    """k-nearest-neighbours vote, as scikit-learn's with ``algorithm="brute"``.

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
    algorithm : {"brute", "pruned", "auto"}, default="brute"
        How the neighbours are found (:mod:`gpuclf.kernels.pruned_neighbors`):
        a GEMM over all features, or PCA lower bounds that leave about a
        tenth of the arithmetic on MNIST; ``"auto"`` picks the cheaper for each
        search. The neighbours, indices and distances are the same whichever
        is used.
    projection : Projection, optional
        The pruned search's map (:func:`~gpuclf.kernels.pruned_neighbors.fit_projection`);
        None fits a PCA on the training set at the first pruned search. Any
        map keeps the search exact, so one fitted on a whole data set serves
        every cross-validation fold of it.

    Attributes
    ----------
    classes_ : array of shape (n_classes,), or a list of them per output
    outputs_2d_ : bool
        Whether y had several outputs (multilabel, or e.g. one per pixel).
    n_features_in_ : int
    """

    def __init__(self, n_neighbors=5, weights="uniform", budget_bytes=None, algorithm="brute", projection=None):
        self.n_neighbors = n_neighbors
        self.weights = weights
        self.budget_bytes = budget_bytes
        self.algorithm = algorithm
        self.projection = projection

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
        X, y = validate_X_y(self, X, y, multi_output=True)
        xp = get_namespace(X)
        self.outputs_2d_ = y.ndim == 2
        if self.outputs_2d_ and _small_integers(y):
            self.classes_, self._y, self._class_table = neighbors.encode_columns(y)
        elif self.outputs_2d_:
            encoded = [encode_labels(self, y[:, j]) for j in range(y.shape[1])]
            self.classes_ = [classes for classes, _ in encoded]
            self._y = xp.stack([codes for _, codes in encoded], axis=1)
            # One row of classes per output, padded with its last class, maps
            # the predicted indices of every output back in one gather.
            width = max(classes.shape[0] for classes in self.classes_)
            self._class_table = xp.stack([
                xp.concatenate([c, xp.repeat(c[-1:], width - c.shape[0])]) for c in self.classes_
            ])
        else:
            self.classes_, self._y = encode_labels(self, y)
        self._fit_X = X
        # The search's preparation of X (norms, filters), filled at the first search and kept.
        self._index = neighbors.NeighborIndex(X, budget_bytes=self.budget_bytes)
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
        check_fitted(self)
        if X is None:
            query, exclude_self = self._fit_X, True
        else:
            query = validate_X(self, X, reset=False, xp=get_namespace(self._fit_X))
            query, exclude_self = query.astype(self._fit_X.dtype, copy=False), False
        k = check_n_neighbors(self.n_neighbors if n_neighbors is None else n_neighbors, self._fit_X.shape[0],
                              query.shape[0], leave_one_out=exclude_self)
        distances, indices = neighbors.kneighbors(
            self._fit_X, query, k, budget_bytes=self.budget_bytes, exclude_self=exclude_self,
            algorithm=self.algorithm, projection=self.projection, index=self._index,
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
        # Uniform votes are counts (None): the same modes as weights of one, in int16 instead of float64.
        weights = None if self.weights == "uniform" else neighbors.neighbor_weights(distances, self.weights)
        n, n_outputs = indices.shape[0], self._y.shape[1]
        # neighbor_mode holds a few (rows, k, n_outputs) arrays: 784 pixel
        # targets make that large, so rows go in chunks.
        rows = rows_per_chunk(indices.shape[1] * n_outputs * 24, self.budget_bytes, n)
        codes = xp.concatenate([
            neighbors.neighbor_mode(self._y[indices[s:s + rows]], None if weights is None else weights[s:s + rows])
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        return tags
