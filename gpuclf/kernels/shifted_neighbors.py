"""Exact KNN against a training set augmented with shifted copies, one shift at a time.

The augmented training set is the original images followed by blocks of the
same images shifted by ``(dx, dy)``, in the order of :data:`SHIFT_ORDER`
(row ``b * n + i`` is image ``i`` under shift ``b``). It is never built:
:func:`iter_augmented_kneighbors` generates one block (shifted in row chunks,
then mapped to features, e.g. a PCA projection), searches it with
:func:`gpuclf.kernels.neighbors.sq_kneighbors` (brute force or pruned) and
merges that block's top-k into the running top-k with
:func:`gpuclf.kernels.knn_merge.merge_topk`, by the exact squared distances of
:mod:`gpuclf.kernels.exact_distances` (the same for a pair whatever block or
chunk it is searched in). Equal distances stay in global row order, so the
result is the search of the materialised set (:func:`augment`), bit for bit.
A pruned search fits one projection on the first block's features and
filters every block with it (any map gives a valid bound).
Memory is one block of features plus the search's chunk, whatever the
number of shifts.

The named shift sets are prefixes of :data:`SHIFT_ORDER`, nested from none
to every shift of up to two pixels each way: one pass over the largest set
yields the neighbours of every smaller set on the way (cross-validation of
the shift set costs one search).

Cost
----
Per (query, augmented row) pair of a brute-force search, in float32 with ``d``
features and ``k`` neighbours (``k <= 14``: ``k`` argmin passes, see
``kernels/pruned_neighbors.py``):

- FLOPs: ``2 d`` in the GEMM, 2 more (the norms added, the next score compared);
- bytes: 4 written by the GEMM, 8 by the add of the norms (read and write),
  ``4 k`` read by the argmin passes, 4 by the pass that checks each query's
  next score against its threshold: ``16 + 4 k``. (The exact distances of the
  ``k`` neighbours, a few per query, are left out.)

MNIST, 10,000 test queries against 60,000 x 25 shifted rows with ``d = 50``
and ``k = 4``: 1.5e10 pairs, 1.5e12 FLOPs, 4.8e11 bytes. Memory traffic
dominates: on one H200 (4.8 TB/s, 67 TFLOP/s in float32) that is about
0.09 s of traffic and 0.02 s of arithmetic. On two shared CPU cores the
same search with the book's 5 shifts (3e9 pairs, 8.4e10 bytes) took 33 s:
about 2.5 GB/s of the model's traffic. Generating a block (shift, then the
``n x 784 x d`` projection GEMM: 4.7 GFLOPs for 60,000 rows and ``d = 50``)
is small beside it. :func:`search_cost` computes these figures.
"""
from __future__ import annotations

from gpuclf.errors import GpuclfError
from gpuclf.kernels.chunking import rows_per_chunk
from gpuclf.kernels.exact_distances import sqrt_distances
from gpuclf.kernels.knn_merge import merge_topk
from gpuclf.kernels.neighbors import _float_dtype, sq_kneighbors
from gpuclf.kernels.pruned_neighbors import choose, fit_projection
from gpuclf.kernels.preprocessing import BOOK_SHIFTS, shift_images
from gpuclf.xp import get_namespace

#: Every shift of up to two pixels each way, ordered so that each set of
#: :data:`SHIFT_SETS` is a prefix: none, the book's four one-pixel shifts (in
#: its order), the one-pixel diagonals, the two-pixel axis shifts, the rest.
SHIFT_ORDER = (
    (0, 0), *BOOK_SHIFTS,
    (-1, -1), (1, -1), (-1, 1), (1, 1),
    (-2, 0), (2, 0), (0, 2), (0, -2),
    (-2, -1), (2, -1), (-2, 1), (2, 1), (-1, -2), (1, -2), (-1, 2), (1, 2),
    (-2, -2), (2, -2), (-2, 2), (2, 2),
)
#: Named shift sets: how many leading entries of :data:`SHIFT_ORDER` each takes.
SHIFT_SETS = {
    "none": 1,       # the original images only
    "book": 5,       # the book's: one pixel left, right, down, up
    "1px": 9,        # |dx|, |dy| <= 1
    "2px-axes": 13,  # |dx| + |dy| <= 2
    "2px": 25,       # |dx|, |dy| <= 2
}


def shifts_of(name: str) -> tuple:
    """The ``(dx, dy)`` shifts of a named set (see :data:`SHIFT_SETS`), the original first."""
    if name not in SHIFT_SETS:
        raise GpuclfError(f"unknown shift set {name!r}; choose one of {', '.join(SHIFT_SETS)}")
    return SHIFT_ORDER[:SHIFT_SETS[name]]


def shifted_features(X, shift, transform=None, budget_bytes: int | None = None):
    """Features of ``X``'s images shifted by ``shift = (dx, dy)``, in row chunks.

    Parameters
    ----------
    X : array of shape (n, 784)
        Flattened 28x28 images.
    shift : (int, int)
        Pixels right and down, as :func:`~gpuclf.kernels.preprocessing.shift_images`.
    transform : callable, optional
        Maps a chunk of shifted images to its features (e.g. a PCA
        projection); None keeps the pixels.
    budget_bytes : int, optional
        Memory for one chunk of shifted images.

    Returns
    -------
    array of shape (n, n_features)
    """
    xp = get_namespace(X)
    dx, dy = shift
    if transform is None:
        return shift_images(X, dx, dy)
    n = X.shape[0]
    rows = rows_per_chunk(2 * X.shape[1] * X.dtype.itemsize, budget_bytes, n)
    parts = [transform(shift_images(X[s:s + rows], dx, dy)) for s in range(0, n, rows)]
    return parts[0] if len(parts) == 1 else xp.concatenate(parts)


def augment(X, shifts, transform=None, budget_bytes: int | None = None):
    """The materialised augmented set: every block of :func:`shifted_features`, in order.

    ``len(shifts) * n`` rows; the reference that :func:`iter_augmented_kneighbors`
    searches without building (and what scikit-learn is fitted on).
    """
    xp = get_namespace(X)
    return xp.concatenate([shifted_features(X, s, transform, budget_bytes) for s in shifts])


def iter_augmented_kneighbors(X_train, X_query, k: int, shifts, transform=None, budget_bytes: int | None = None,
                              algorithm: str = "brute"):
    """The ``k`` nearest augmented rows of each query after each block of shifts.

    Parameters
    ----------
    X_train : array of shape (n, 784)
        Training images (the originals; each block shifts them).
    X_query : array of shape (n_query, n_features)
        Query features (already transformed).
    k : int
        ``1 <= k <= n``.
    shifts : sequence of (int, int)
        Blocks in order; a prefix of :data:`SHIFT_ORDER` for the named sets.
    transform : callable, optional
        Images to features, as for :func:`shifted_features`.
    budget_bytes : int, optional
        Working memory of a search chunk and of a chunk of shifted images.
    algorithm : {"brute", "pruned", "auto"}
        The search of each block (:func:`~gpuclf.kernels.neighbors.kneighbors`): the same result.

    Yields
    ------
    n_blocks : int
        Blocks searched so far (1, 2, ..., ``len(shifts)``).
    distances : array of shape (n_query, k)
        Ascending euclidean distances over the first ``n_blocks`` blocks.
    indices : array of shape (n_query, k), int64
        Augmented rows ``block * n + image``; equal distances in row order.
    """
    if not shifts:
        raise GpuclfError("the augmented search needs at least one shift, e.g. (0, 0) for the originals")
    n = X_train.shape[0]
    best, projection = None, None
    for b, shift in enumerate(shifts):
        features = shifted_features(X_train, shift, transform, budget_bytes)
        if b == 0:
            algorithm = choose(algorithm, X_query.shape[0], n * len(shifts), features.shape[1], k, built=False)
            projection = fit_projection(features, budget_bytes=budget_bytes) if algorithm == "pruned" else None
        sq, indices = sq_kneighbors(features, X_query, k, budget_bytes=budget_bytes, algorithm=algorithm,
                                    projection=projection)
        dtype = _float_dtype(get_namespace(features), features, X_query)
        del features
        indices += b * n
        best = (sq, indices) if best is None else merge_topk([best[0], sq], [best[1], indices], k)
        yield b + 1, sqrt_distances(best[0], dtype), best[1]


def augmented_kneighbors(X_train, X_query, k: int, shifts, transform=None, budget_bytes: int | None = None,
                         algorithm: str = "brute"):
    """The ``k`` nearest rows of the augmented set; see :func:`iter_augmented_kneighbors`.

    Returns
    -------
    distances, indices : arrays of shape (n_query, k)
    """
    for _, distances, indices in iter_augmented_kneighbors(X_train, X_query, k, shifts, transform, budget_bytes,
                                                           algorithm):
        pass
    return distances, indices


#: One H200's peaks, for the roofline estimate: HBM3e bandwidth and float32 (non-tensor) arithmetic.
H200_BYTES_PER_S, H200_FLOPS = 4.8e12, 6.7e13


def roofline_seconds(cost: dict, bytes_per_s: float = H200_BYTES_PER_S, flops_per_s: float = H200_FLOPS) -> float:
    """The least time ``cost`` (:func:`search_cost`) takes at these peaks: memory or arithmetic, whichever binds."""
    return max(cost["bytes"] / bytes_per_s, cost["flops"] / flops_per_s)


def search_cost(n_query: int, n_rows: int, n_features: int, k: int, itemsize: int = 4) -> dict:
    """FLOPs and bytes of a brute-force search of ``n_query`` queries among ``n_rows`` rows.

    The per-pair model of the module docstring: ``2 d + 2`` FLOPs and
    ``4 itemsize`` bytes (GEMM write, the norms' add read and write, the next
    score's check) plus one read per argmin pass.

    Returns
    -------
    dict
        ``pairs``, ``flops``, ``bytes``.
    """
    pairs = int(n_query) * int(n_rows)
    return {"pairs": pairs, "flops": pairs * (2 * int(n_features) + 2),
            "bytes": pairs * int(itemsize) * (4 + int(k))}
