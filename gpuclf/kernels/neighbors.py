"""Brute-force k-nearest neighbours by GEMM, and the votes scikit-learn casts on them.

:func:`kneighbors` returns each query's neighbours sorted by distance, ties
broken by the smaller training index, so the first ``k`` columns of a search
for ``k_max`` neighbours are exactly the search for ``k``: a grid search over
``n_neighbors`` and ``weights`` needs one search per fold, then
:func:`vote` on column slices. :func:`vote` and :func:`vote_proba` follow
``KNeighborsClassifier.predict`` / ``predict_proba``; :func:`neighbor_mode`
is its per-output prediction for many-valued targets (the book's denoising,
where every pixel is a target).
"""
from __future__ import annotations

import numpy as np

from gpuclf.errors import GpuclfError
from gpuclf.kernels.chunking import rows_per_chunk
from gpuclf.kernels.cuda import build, define
from gpuclf.xp import get_namespace

WEIGHTS = ("uniform", "distance")


def _float_dtype(xp, *arrays):
    """float32 and float64 inputs keep their precision; anything else becomes float64."""
    dtype = np.dtype(xp.result_type(*arrays))
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


# Top-k costs, in bytes moved per (query, train) pair. One argmin pass reads
# the distance (itemsize). CuPy 14.2's argpartition (``_routines_sorting.pyx``)
# is a selection, not a sort, for k < 512: it writes an int64 index per pair,
# then gathers value and index per pair while keeping a sorted head of
# max(32, 2**bit_length(k)) entries per segment, and ``unravel_index`` reads
# and writes the int64 indices again; the tie repair below adds an int64 tie
# count. About 48 bytes plus two reads of the value, against ``itemsize`` per
# argmin pass, so argmin wins up to k ~ 14 (float32) or ~ 8 (float64); NumPy's
# introselect plus the same repair costs a similar number of passes.
PARTITION_BYTES_PER_PAIR = 48


def _argmin_is_cheaper(k: int, itemsize: int) -> bool:
    """Whether ``k`` argmin passes move fewer bytes than argpartition and its tie repair."""
    return k * itemsize <= PARTITION_BYTES_PER_PAIR + 2 * itemsize


def _smallest_k(d2, k: int):
    """Each row's ``k`` smallest entries and their columns, ordered by (value, index).

    Parameters
    ----------
    d2 : array of shape (m, n)
        Squared distances, at least ``k`` columns. Overwritten (a scratch chunk).
    k : int

    Returns
    -------
    values : array of shape (m, k)
    indices : array of shape (m, k), int64
    """
    if _argmin_is_cheaper(k, d2.dtype.itemsize):
        return _smallest_k_by_argmin(d2, k)
    return _smallest_k_by_partition(d2, k)


def _smallest_k_by_argmin(d2, k: int):
    """``k`` passes of argmin; argmin takes the first of equal minima, hence (value, index) order."""
    xp = get_namespace(d2)
    m = d2.shape[0]
    row = xp.arange(m)
    values = xp.empty((m, k), dtype=d2.dtype)
    indices = xp.empty((m, k), dtype=xp.int64)
    for j in range(k):
        picked = xp.argmin(d2, axis=1)
        values[:, j] = d2[row, picked]
        indices[:, j] = picked
        d2[row, picked] = xp.inf
    return values, indices


def _smallest_k_by_partition(d2, k: int):
    """argpartition, then the entries tied with the k-th smallest repaired to the lowest indices."""
    xp = get_namespace(d2)
    m, n = d2.shape
    part = xp.argpartition(d2, k - 1, axis=1)[:, :k].copy()  # copy frees the (m, n) indices
    cand = xp.take_along_axis(d2, part, axis=1)
    kth = cand.max(axis=1, keepdims=True)
    # argpartition keeps an arbitrary subset of the entries tied with the k-th
    # smallest (NumPy's introselect and CuPy's bitonic selection differ). Replace the tied
    # slots by the tied entries of smallest index: the r-th tied entry of row i
    # is where that row's running tie count first reaches r. Offsetting each
    # row's counts by i * (n + 1) makes the whole chunk one ascending sequence,
    # so one searchsorted finds them all without a loop or a host sync.
    row = xp.arange(m, dtype=xp.int64)[:, None]
    ties_seen = xp.cumsum(d2 == kth, axis=1, dtype=xp.int64)
    ties_seen += row * (n + 1)
    tied_slot = cand == kth
    wanted = row * (n + 1) + xp.cumsum(tied_slot, axis=1, dtype=xp.int64)
    first_ties = xp.searchsorted(ties_seen.ravel(), wanted.ravel()).reshape(m, k) - row * n
    # Sorted by index, then stably by distance: (distance, index) order.
    chosen = xp.sort(xp.where(tied_slot, first_ties, part), axis=1)
    order = xp.argsort(xp.take_along_axis(d2, chosen, axis=1), axis=1, kind="stable")
    indices = xp.take_along_axis(chosen, order, axis=1)
    return xp.take_along_axis(d2, indices, axis=1), indices


# d2 = max((d2 + |q|^2) + |x|^2, 0) in one pass on the device, in the order
# and rounding of the NumPy twin below (no multiply, so nothing to contract into an FMA).
_EPILOGUE = define("gpuclf_knn_epilogue", "T q, T x", "T d2", "d2 = max(d2 + q + x, (T)0)")


def _distance_epilogue(xp, d2, q_sq, x_sq) -> None:
    """Add the squared norms to ``-2 Q X^T`` and clamp at 0, in place, in one pass where a kernel compiles."""
    if hasattr(xp, "ElementwiseKernel"):
        build(xp, _EPILOGUE)(q_sq, x_sq, d2)
        return
    d2 += q_sq
    d2 += x_sq
    xp.maximum(d2, 0, out=d2)


def kneighbors(X_train, X_query, k: int, *, budget_bytes: int | None = None, exclude_self: bool = False):
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

    Returns
    -------
    distances : array of shape (n_query, k)
        Euclidean distances, ascending; float32 for float32 inputs, else float64.
    indices : array of shape (n_query, k), int64
        Training rows; equal distances are ordered by index, so the result is
        deterministic and its first ``j`` columns are the search for ``j``.

    Notes
    -----
    Squared distances are ``|q|^2 - 2 q.x + |x|^2`` (one GEMM per chunk),
    clamped at 0, in the inputs' float dtype: float32 on the GPU rounds
    near-equal distances differently from scikit-learn's float64, which can
    swap neighbours whose distances differ by about 1e-7 relative.
    """
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
    X_train = xp.asarray(X_train, dtype=dtype)
    X_query = xp.asarray(X_query, dtype=dtype)
    train_sq = xp.sum(X_train * X_train, axis=1)

    # Per (query, train) pair a chunk holds the distance; with the partition
    # path also argpartition's int64 indices, their unravelled copy and the
    # int64 tie count.
    per_pair = dtype.itemsize if _argmin_is_cheaper(k, dtype.itemsize) else 4 * dtype.itemsize + 24
    rows = rows_per_chunk(n_train * per_pair, budget_bytes, n_query)
    distances = xp.empty((n_query, k), dtype=dtype)
    indices = xp.empty((n_query, k), dtype=xp.int64)
    for start in range(0, n_query, rows):
        Q = X_query[start:start + rows]
        # (-2 Q) X^T is exactly -2 (Q X^T): scaling by a power of two rounds
        # nothing, so the GEMM absorbs the first pass over the chunk.
        d2 = (Q * -2) @ X_train.T
        _distance_epilogue(xp, d2, xp.sum(Q * Q, axis=1)[:, None], train_sq)
        if exclude_self:
            own = xp.arange(Q.shape[0])
            d2[own, start + own] = xp.inf
        distances[start:start + rows], indices[start:start + rows] = _smallest_k(d2, k)
        del d2  # else the next chunk's product is allocated while this one is alive: twice the budget
    return xp.sqrt(distances), indices


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
    dtype = xp.int64 if weights is None else xp.float64
    w = xp.ones((n, k), dtype=dtype) if weights is None else xp.asarray(weights, dtype=dtype)
    # score[i, j, o]: weight of the neighbours sharing neighbour j's value of
    # output o. The loop is over the k neighbours, never over rows or outputs.
    score = xp.zeros((n, k, m), dtype=dtype)
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
    codes : array of shape (n, m), int64
        Index of each value among its column's classes, as ``unique(return_inverse=True)``.
    table : array of shape (m, max classes)
        Row j: column j's classes, padded with its last class.
    """
    from gpuclf.xp import to_host

    xp = get_namespace(y)
    n, m = y.shape
    lo = int(y.min()) if y.dtype != bool else 0
    values = y.astype(xp.int64) - lo
    span = int(values.max()) + 1 if y.dtype != bool else 2
    column = xp.arange(m, dtype=xp.int64) * span
    present = xp.bincount((values + column).ravel(), minlength=m * span).reshape(m, span) > 0
    rank = xp.cumsum(present, axis=1) - 1
    codes = rank.ravel()[values + column]
    counts = to_host(present.sum(axis=1))
    value = xp.arange(span, dtype=xp.int64)
    # Absent values sort last; the padding repeats each column's largest class.
    table = xp.sort(xp.where(present, value, span), axis=1)[:, :int(counts.max())]
    table = xp.minimum(table, xp.max(xp.where(present, value, -1), axis=1, keepdims=True))
    table = (table + lo).astype(y.dtype)
    return [table[j, :c] for j, c in enumerate(counts.tolist())], codes, table


#: Widest value range :func:`encode_columns` takes per column (pixels: 256).
ENCODE_MAX_SPAN = 1 << 16
