"""Merging the exact top-k of several shards of a training set into the top-k of the whole.

Each shard is a contiguous block of training rows, searched by
:func:`gpuclf.kernels.neighbors.sq_kneighbors` (squared distances ascending,
equal ones by row). Merge those exact squared distances, not the rounded
distances: two different squared distances can round to one float32
distance, and a merge by that would order them by row instead. Any global neighbour is among its own shard's first k,
so the union of the shards' lists holds the answer; a *stable* sort of that
union by distance, the shards taken in row order, puts equal distances in
global row order: the unsharded search's order, and so scikit-learn's.
(``cupy.argsort`` is always stable; NumPy's with ``kind="stable"``.)
"""
from __future__ import annotations

from gpuclf.xp import get_namespace


def merge_topk(distances: list, indices: list, k: int, exclude=None):
    """The ``k`` nearest of the shards' lists, in the unsharded order.

    Parameters
    ----------
    distances, indices : list of arrays of shape (n_query, k_s)
        Per shard, in row order of the shards: ascending (squared) distances
        and the global row indices (shard offset added).
    k : int
    exclude : array of shape (n_query,), optional
        A global row to leave out per query (each training row's own index
        for leave-one-out): its entry is moved past every other.

    Returns
    -------
    distances, indices : arrays of shape (n_query, k)
    """
    xp = get_namespace(*distances)
    d = xp.concatenate(distances, axis=1)
    i = xp.concatenate(indices, axis=1)
    if exclude is not None:
        d = xp.where(i == exclude[:, None], xp.inf, d)
    order = xp.argsort(d, axis=1, kind="stable")[:, :k]
    return xp.take_along_axis(d, order, axis=1), xp.take_along_axis(i, order, axis=1)
