"""The ``k`` smallest entries per query, in (value, index) order: scikit-learn's tie order.

Two shapes of input. :func:`smallest_k` takes a dense ``(m, n)`` chunk (one
row per query, one column per training row). :func:`segment_smallest_k`
takes a ragged list of (query, row, value) triples sorted by (query, row): the
candidates of a pruned search, whose number differs per query. Both order
equal values by the smaller row index, so a search for ``k_max`` neighbours
holds the search for every smaller ``k`` in its first columns.
"""
from __future__ import annotations

from gpuclf.xp import get_namespace

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


def argmin_is_cheaper(k: int, itemsize: int) -> bool:
    """Whether ``k`` argmin passes move fewer bytes than argpartition and its tie repair."""
    return k * itemsize <= PARTITION_BYTES_PER_PAIR + 2 * itemsize


def bytes_per_pair(k: int, itemsize: int) -> int:
    """Working bytes per (query, row) pair of :func:`smallest_k`, besides its input."""
    return 0 if argmin_is_cheaper(k, itemsize) else 3 * itemsize + 24



def smallest_k(d2, k: int):
    """Each row's ``k`` smallest entries and their columns, ordered by (value, index).

    Parameters
    ----------
    d2 : array of shape (m, n)
        At least ``k`` columns. Overwritten (a scratch chunk): the argmin
        path sets the entries it picks to ``inf``.
    k : int

    Returns
    -------
    values : array of shape (m, k)
    indices : array of shape (m, k), int64
    """
    if argmin_is_cheaper(k, d2.dtype.itemsize):
        return smallest_k_by_argmin(d2, k)
    return smallest_k_by_partition(d2, k)


def smallest_k_by_argmin(d2, k: int):
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


def smallest_k_by_partition(d2, k: int):
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


#: Row batches of :func:`block_minima` over blocks that leave columns out (see there).
BLOCK_BATCHES = 8


def block_minima(d2, n_blocks: int):
    """The smallest entry of each of ``n_blocks`` contiguous column blocks per row: one argmin pass.

    The blocks are the first ``n_blocks * (n // n_blocks)`` columns split evenly (the few
    columns left over belong to none). ``n // n_blocks`` must be at least 1.

    Returns
    -------
    values : array of shape (m, n_blocks)
    indices : int64 array of shape (m, n_blocks)
        Column of each block's minimum (the first, on ties): distinct columns.
    """
    xp = get_namespace(d2)
    m, n = d2.shape
    width = n // n_blocks
    # Where the blocks leave columns out, they are a strided view, which NumPy's argmin copies whole:
    # a batch of rows at a time keeps that copy to 1 / BLOCK_BATCHES of the scores.
    step = m if n == n_blocks * width else -(-m // BLOCK_BATCHES)
    indices = xp.empty((m, n_blocks), dtype=xp.int64)
    for s in range(0, m, step):
        indices[s:s + step] = xp.argmin(d2[s:s + step, :n_blocks * width].reshape(-1, n_blocks, width), axis=2)
    indices += xp.arange(n_blocks, dtype=xp.int64) * width
    return xp.take_along_axis(d2, indices, axis=1), indices


#: Narrowest column block :func:`seeds` takes a minimum over: NumPy's argmin along a short last axis
#: is dominated by its per-block overhead (3,333 x 32 blocks of 208 columns: 0.27 s, against 0.03 s
#: for 20 blocks of 3,000), where ``k`` passes over whole rows are cheaper. 1,025, not 1,024: from
#: 1,025 elements CuPy's CUB block reduction has its largest block (512 threads, one kernel at any
#: longer length; ``gpuclf.run.warmup.CUB_SATURATED``), so a warm-up on a few thousand rows compiles
#: the argmin that full-size searches run.
MIN_SEED_BLOCK = 1025


def _blocked(n: int, k: int, blocks_per_k: int) -> bool:
    return blocks_per_k > 0 and n // (blocks_per_k * k) >= MIN_SEED_BLOCK


def seeds(d2, k: int, blocks_per_k: int = 4):
    """At least ``k`` distinct columns of small value per row, cheaply: the minimum of each of
    ``blocks_per_k * k`` column blocks (one pass), or where the blocks would be narrower than
    :data:`MIN_SEED_BLOCK` (or ``blocks_per_k`` is 0), the ``k`` smallest (:func:`smallest_k`,
    which overwrites their entries with ``inf``).

    Returns
    -------
    values, indices : arrays of shape (m, s), ``s >= k``
    """
    if _blocked(d2.shape[1], k, blocks_per_k):
        return block_minima(d2, blocks_per_k * k)
    return smallest_k(d2, k)


def seed_bytes_per_pair(n: int, k: int, itemsize: int, blocks_per_k: int = 4) -> int:
    """Working bytes per (query, row) pair of :func:`seeds` over ``n`` columns, besides its input."""
    if not _blocked(n, k, blocks_per_k):
        return bytes_per_pair(k, itemsize)
    # Blocks that cover the rows are a view; others are copied a batch of rows at a time (block_minima).
    return 0 if n % (blocks_per_k * k) == 0 else -(-itemsize // BLOCK_BATCHES)


def sort_rows(values, indices):
    """Each row's entries in (value, index) order: a sort by index, then a stable one by value.

    Parameters
    ----------
    values : array of shape (m, s)
    indices : int array of shape (m, s), distinct within a row

    Returns
    -------
    values, indices : arrays of shape (m, s)
    """
    xp = get_namespace(values)
    order = xp.argsort(indices, axis=1)
    indices, values = xp.take_along_axis(indices, order, axis=1), xp.take_along_axis(values, order, axis=1)
    order = xp.argsort(values, axis=1, kind="stable")
    return xp.take_along_axis(values, order, axis=1), xp.take_along_axis(indices, order, axis=1)


def segment_smallest_k(queries, rows, values, counts, k: int):
    """The ``k`` smallest values of each query's candidates, in (value, row) order.

    Parameters
    ----------
    queries, rows : int64 arrays of shape (P,)
        The candidates, in any order; each (query, row) pair at most once.
    values : array of shape (P,)
    counts : int64 array of shape (m,)
        Candidates per query, each at least ``k``.
    k : int

    Returns
    -------
    values : array of shape (m, k)
    rows : array of shape (m, k), int64

    Notes
    -----
    Three sorts, each stable over the one before: by row, by value, by query.
    Each query's segment is then in (value, row) order, and its first ``k``
    entries sit at fixed offsets from the segment's start, so they are
    gathered without a boolean mask (no host sync on a GPU).
    """
    xp = get_namespace(values)
    order = xp.argsort(rows, kind="stable")
    order = order[xp.argsort(values[order], kind="stable")]
    order = order[xp.argsort(queries[order], kind="stable")]
    start = xp.cumsum(counts) - counts
    picked = order[start[:, None] + xp.arange(k)[None, :]]
    return values[picked], rows[picked]
