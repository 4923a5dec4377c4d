"""Exact k-nearest neighbours, and the votes scikit-learn casts on them.

:func:`kneighbors` returns each query's neighbours sorted by distance, ties
broken by the smaller training index, so the first ``k`` columns of a search
for ``k_max`` neighbours are exactly the search for ``k``: a grid search over
``n_neighbors`` and ``weights`` needs one search per fold, then
:func:`vote` on column slices. The search itself (brute force, or pruned by
PCA lower bounds, with the same result either way) is
:mod:`gpuclf.kernels.pruned_neighbors`. :func:`vote` and :func:`vote_proba`
follow ``KNeighborsClassifier.predict`` / ``predict_proba``;
:func:`neighbor_mode` is its per-output prediction for many-valued targets
(the book's denoising, where every pixel is a target).
"""
from __future__ import annotations

import numpy as np

from gpuclf.errors import GpuclfError
from gpuclf.kernels.exact_distances import sqrt_distances
from gpuclf.kernels.pruned_neighbors import NeighborIndex, check_algorithm
from gpuclf.xp import get_namespace

WEIGHTS = ("uniform", "distance")


def _float_dtype(xp, *arrays):
    """float32 and float64 inputs keep their precision; anything else becomes float64."""
    dtype = np.dtype(xp.result_type(*arrays))
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _checked(X_train, X_query, k: int, exclude_self: bool):
    """The arrays in their common float dtype, after the shape and ``k`` checks every search makes."""
    xp = get_namespace(X_train, X_query)
    if X_train.ndim != 2 or X_query.ndim != 2 or X_train.shape[1] != X_query.shape[1]:
        raise GpuclfError(
            f"kneighbors needs 2-D X_train and X_query with the same number of features, "
            f"got shapes {X_train.shape} and {X_query.shape}"
        )
    n_train, n_query = X_train.shape[0], X_query.shape[0]
    if exclude_self and n_query != n_train:
        raise GpuclfError(
            f"exclude_self needs the training rows as queries, got {n_query} queries for {n_train} rows"
        )
    k_max = n_train - 1 if exclude_self else n_train
    if not 1 <= k <= k_max:
        raise GpuclfError(
            f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {k}, n_samples_fit = {n_train}"
            + (" (one less when each sample is left out of its own neighbours)" if exclude_self else "")
            + "; use 1 <= n_neighbors <= the number of training samples"
        )
    dtype = _float_dtype(xp, X_train, X_query)
    return xp.asarray(X_train, dtype=dtype), xp.asarray(X_query, dtype=dtype), dtype


def sq_kneighbors(X_train, X_query, k: int, *, budget_bytes: int | None = None, exclude_self: bool = False,
                  algorithm: str = "brute", projection=None, index: NeighborIndex | None = None):
    """The ``k`` nearest training rows by exact squared distance: what every merge of partial searches needs.

    Parameters are those of :func:`kneighbors`.

    Returns
    -------
    sq_distances : float64 array of shape (n_query, k)
        The squared distances of :mod:`gpuclf.kernels.exact_distances`, ascending; unlike
        the rounded distances of :func:`kneighbors`, two different ones never compare equal.
    indices : int64 array of shape (n_query, k)
    """
    X_train, X_query, _ = _checked(X_train, X_query, k, exclude_self)
    if index is None:
        index = NeighborIndex(X_train, budget_bytes=budget_bytes)
    return index.search(X_query, k, exclude_self=exclude_self, algorithm=check_algorithm(algorithm),
                        projection=projection)


def kneighbors(X_train, X_query, k: int, *, budget_bytes: int | None = None, exclude_self: bool = False,
               algorithm: str = "brute", projection=None, index: NeighborIndex | None = None):
    """Exact ``k`` nearest training rows of each query row (euclidean).

    Parameters
    ----------
    X_train : array of shape (n_train, n_features)
    X_query : array of shape (n_query, n_features)
        With ``exclude_self``, the training rows themselves (``n_query == n_train``).
    k : int
        Neighbours per query, ``1 <= k <= n_train`` (``n_train - 1`` with ``exclude_self``).
    budget_bytes : int, optional
        Working memory per query chunk (see :func:`~gpuclf.kernels.chunking.rows_per_chunk`).
    exclude_self : bool, default=False
        Leave query ``i`` out of its own neighbours (leave-one-out, as
        scikit-learn's ``kneighbors(X=None)``).
    algorithm : {"brute", "pruned", "auto"}, default="brute"
        How candidates are found (:mod:`gpuclf.kernels.pruned_neighbors`); every
        choice returns the same neighbours, indices and distances.
    projection : Projection, optional
        The pruned filter's map (:func:`~gpuclf.kernels.pruned_neighbors.fit_projection`),
        e.g. one PCA shared by all the folds of a cross-validation.
    index : NeighborIndex, optional
        ``X_train`` already prepared (its norms and filters are reused).

    Returns
    -------
    distances : array of shape (n_query, k)
        Euclidean distances, ascending; float32 for float32 inputs, else float64.
    indices : array of shape (n_query, k), int64
        Training rows; equal distances are ordered by index, so the result is
        deterministic and its first ``j`` columns are the search for ``j``.

    Notes
    -----
    Neighbours are ranked by the squared distance of
    :mod:`gpuclf.kernels.exact_distances`: exact on integer data such as pixels,
    hence scikit-learn's neighbours there, tie for tie; the distance returned
    is its square root, rounded once to the inputs' dtype.
    """
    dtype = _float_dtype(get_namespace(X_train, X_query), X_train, X_query)
    sq, indices = sq_kneighbors(X_train, X_query, k, budget_bytes=budget_bytes, exclude_self=exclude_self,
                                algorithm=algorithm, projection=projection, index=index)
    return sqrt_distances(sq, dtype), indices


def neighbor_weights(distances, weights: str = "uniform"):
    """Vote weight of each neighbour, as scikit-learn's ``_get_weights``.

    Parameters
    ----------
    distances : array of shape (n, k)
    weights : {"uniform", "distance"}
        ``"distance"``: ``1 / d``, except that in a row with any ``d == 0``
        the zero-distance neighbours weigh 1 and the others 0.

    Returns
    -------
    array of shape (n, k), float64
    """
    xp = get_namespace(distances)
    if weights not in WEIGHTS:
        raise GpuclfError(f"weights must be 'uniform' or 'distance', got {weights!r}")
    if weights == "uniform":
        return xp.ones(distances.shape, dtype=xp.float64)
    d = distances.astype(xp.float64)
    zero = d == 0
    # Dividing by 1 where d == 0 keeps NumPy quiet; those rows take the mask instead.
    inverse = 1.0 / xp.where(zero, 1.0, d)
    return xp.where(zero.any(axis=1, keepdims=True), zero.astype(xp.float64), inverse)


def _class_weights(neighbor_labels, distances, n_classes: int, weights: str):
    """Summed vote weight per class: (n, n_classes), or (n, L, n_classes) for 3-D labels."""
    xp = get_namespace(neighbor_labels, distances)
    if neighbor_labels.shape[:2] != distances.shape:
        raise GpuclfError(
            f"neighbor_labels {neighbor_labels.shape} and distances {distances.shape} "
            "must agree on (n_samples, n_neighbors)"
        )
    w = neighbor_weights(distances, weights)
    n, k = distances.shape
    n_outputs = 1 if neighbor_labels.ndim == 2 else neighbor_labels.shape[2]
    labels = neighbor_labels.reshape(n, k, n_outputs, 1)
    # A weighted bincount is a float atomic add on the GPU, whose order (and
    # so the last bit of a total, and an argmax tie) changes run to run. A
    # one-hot sum over the k neighbours adds in neighbour order everywhere,
    # which is also the order of NumPy's bincount: the same totals.
    one_hot = labels == xp.arange(n_classes, dtype=labels.dtype)
    totals = (one_hot * w[:, :, None, None]).sum(axis=1)
    return totals.reshape(neighbor_labels.shape[:1] + neighbor_labels.shape[2:] + (n_classes,))


def vote(neighbor_labels, distances, n_classes: int, weights: str = "uniform"):
    """Predicted class index per row, by scikit-learn's KNN rules.

    Parameters
    ----------
    neighbor_labels : int array of shape (n, k), or (n, k, L) for multilabel
        Class index of each neighbour, in ``[0, n_classes)``; 3-D votes each
        of the ``L`` outputs independently (``n_classes=2`` for 0/1 labels).
    distances : array of shape (n, k)
        Neighbour distances (read only for ``weights="distance"``).
    n_classes : int
    weights : {"uniform", "distance"}, default="uniform"
        See :func:`neighbor_weights`.

    Returns
    -------
    array of shape (n,) or (n, L), int64
        The class of largest total weight; the smallest class on ties.
    """
    xp = get_namespace(neighbor_labels, distances)
    return xp.argmax(_class_weights(neighbor_labels, distances, n_classes, weights), axis=-1)


def vote_proba(neighbor_labels, distances, n_classes: int, weights: str = "uniform"):
    """Class probabilities as ``KNeighborsClassifier.predict_proba``: normalised vote weights.

    Parameters are those of :func:`vote`.

    Returns
    -------
    array of shape (n, n_classes) or (n, L, n_classes), float64
    """
    totals = _class_weights(neighbor_labels, distances, n_classes, weights)
    return totals / totals.sum(axis=-1, keepdims=True)


def neighbor_mode(neighbor_values, weights=None):
    """Per-output (weighted) mode over the neighbour axis, smallest value on ties.

    This is ``KNeighborsClassifier.predict`` when every column of y is a
    target (scikit-learn's ``_mode`` / ``weighted_mode`` per output).

    Parameters
    ----------
    neighbor_values : array of shape (n, k, m)
        Values of the ``m`` outputs for each of the ``k`` neighbours (integers,
        e.g. pixel values or class indices).
    weights : array of shape (n, k), optional
        Vote weights (:func:`neighbor_weights`); None counts every neighbour once.

    Returns
    -------
    array of shape (n, m), dtype of ``neighbor_values``
    """
    xp = get_namespace(neighbor_values, weights)
    if neighbor_values.ndim != 3:
        raise GpuclfError(f"neighbor_values must be 3-D (n, k, m), got shape {neighbor_values.shape}")
    n, k, m = neighbor_values.shape
    # score[i, j, o]: weight of the neighbours sharing neighbour j's value of
    # output o. The loop is over the k neighbours, never over rows or outputs.
    # Unweighted, the scores are counts up to k: int16 keeps the (n, k, m) passes small (784 outputs).
    score = xp.zeros((n, k, m), dtype=(xp.int16 if k < 2**15 else xp.int64) if weights is None else xp.float64)
    if weights is None:
        for j in range(k):
            score += neighbor_values == neighbor_values[:, j:j + 1, :]
    else:
        w = xp.asarray(weights, dtype=xp.float64)
        for j in range(k):
            score += (neighbor_values == neighbor_values[:, j:j + 1, :]) * w[:, j, None, None]
    best = score == score.max(axis=1, keepdims=True)
    ceiling = neighbor_values.max()
    return xp.where(best, neighbor_values, ceiling).min(axis=1)


def encode_columns(y):
    """Sorted classes and codes of every column of a small-integer ``y`` in a few whole-array steps.

    The per-output encoding of a multi-output KNN (784 pixel targets when
    denoising) without a loop over columns: one ``bincount`` over
    ``column * n_values + value`` marks which values each column holds, a
    cumulative sum turns that into each value's rank (its code), and one
    row sort lists each column's classes. Only the class counts come back
    to the host (one transfer).

    Parameters
    ----------
    y : array of shape (n, m), bool or integer with a small range

    Returns
    -------
    classes : list of m arrays
        Each column's sorted distinct values (views of one device array), as ``unique``.
    codes : array of shape (n, m), of :func:`code_dtype` (``uint8`` for pixels)
        Index of each value among its column's classes, as ``unique(return_inverse=True)``; narrow, so
        that the votes over them (:func:`neighbor_mode`) move an eighth of int64's bytes.
    table : array of shape (m, max classes)
        Row j: column j's classes, padded with its last class.
    """
    from gpuclf.xp import to_host

    xp = get_namespace(y)
    n, m = y.shape
    lo = int(y.min()) if y.dtype != bool else 0
    span = int(y.max()) - lo + 1 if y.dtype != bool else 2
    # Flat indices column * span + value, built in place in the narrowest integer type that holds them.
    index = np.iinfo(index_dtype(m * span))
    if y.dtype == bool or index.min <= lo and lo + span - 1 <= index.max:
        where = y.astype(index.dtype)
        if lo:
            where -= lo
    else:  # labels beyond the index type, with a small spread: take the minimum off in y's own type first
        where = (y - xp.asarray(lo, dtype=y.dtype)).astype(index.dtype)
    where += xp.arange(m, dtype=where.dtype) * span
    present = xp.bincount(where.ravel(), minlength=m * span).reshape(m, span) > 0
    counts = to_host(present.sum(axis=1))
    rank = (xp.cumsum(present, axis=1) - 1).astype(code_dtype(int(counts.max())))
    codes = rank.ravel()[where]
    value = xp.arange(span, dtype=xp.int64)
    # Absent values sort last; the padding repeats each column's largest class.
    table = xp.sort(xp.where(present, value, span), axis=1)[:, :int(counts.max())]
    table = xp.minimum(table, xp.max(xp.where(present, value, -1), axis=1, keepdims=True))
    wide = xp.uint64 if y.dtype.kind == "u" else xp.int64  # holds every label of y, and so lo + a class
    table = (table.astype(wide) + xp.asarray(lo, dtype=wide)).astype(y.dtype)
    return [table[j, :c] for j, c in enumerate(counts.tolist())], codes, table


def index_dtype(size: int):
    """The narrowest signed type of the indices ``0 .. size - 1``: ``int32`` up to ``size = 2**31``."""
    return np.int32 if size <= 2**31 else np.int64


def code_dtype(n_classes: int):
    """The narrowest unsigned type of class indices below ``n_classes``: ``uint8`` for pixels (256 values)."""
    return np.uint8 if n_classes <= 256 else np.uint16 if n_classes <= 65536 else np.int64


#: Widest value range :func:`encode_columns` takes per column (pixels: 256).
ENCODE_MAX_SPAN = 1 << 16
