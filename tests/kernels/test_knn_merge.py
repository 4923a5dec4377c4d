"""merge_topk: the shards' top-k lists merged into the unsharded search's top-k, tie for tie.

No Dask here: the shards are searched in this process by the same kernel the
workers run, and the merge must equal one search over all rows (which
``tests/kernels/test_kernels_neighbors.py`` checks against scikit-learn).
"""
from __future__ import annotations

import numpy as np
import pytest

from gpuclf.kernels.knn_merge import merge_topk
from gpuclf.kernels.neighbors import kneighbors


def _tied_rows(n=40, seed=0):
    """Few distinct rows, repeated: many exact distance ties across shards."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 4, size=(6, 5)).astype(np.float64)
    return base[rng.integers(0, len(base), size=n)]


def _sharded(X, Q, k, cuts):
    """Each shard's own top-k (as a worker computes it), with global row indices."""
    distances, indices = [], []
    for start, stop in zip([0, *cuts], [*cuts, len(X)]):
        d, i = kneighbors(X[start:stop], Q, min(k, stop - start))
        distances.append(d)
        indices.append(i + start)
    return distances, indices


@pytest.mark.parametrize("cuts", [[20], [7, 13, 29], [1, 2, 3, 39], [10, 20, 30]])
@pytest.mark.parametrize("k", [1, 3, 5])
def test_merge_equals_the_unsharded_search(cuts, k):
    X = _tied_rows()
    Q = _tied_rows(12, seed=1)
    d, i = merge_topk(*_sharded(X, Q, k, cuts), k)
    d_all, i_all = kneighbors(X, Q, k)
    np.testing.assert_array_equal(i, i_all)
    np.testing.assert_allclose(d, d_all, rtol=0, atol=0)
    assert d.shape == i.shape == (12, k)


def test_ties_go_to_the_lower_global_row():
    X = np.zeros((6, 2))  # every row at the same distance from every query
    Q = np.ones((2, 2))
    # Two shards, rows 0-2 and 3-5, all tied: the merged order is the global row order.
    d, i = merge_topk([np.full((2, 3), 2.0), np.full((2, 3), 2.0)],
                      [np.tile([0, 1, 2], (2, 1)), np.tile([3, 4, 5], (2, 1))], 4)
    np.testing.assert_array_equal(i, [[0, 1, 2, 3], [0, 1, 2, 3]])
    np.testing.assert_array_equal(d, np.full((2, 4), 2.0))
    assert np.array_equal(kneighbors(X, Q, 4)[1], i)


def test_exclude_leaves_each_query_out_of_its_own_neighbours():
    X = _tied_rows(30, seed=2)
    k = 4
    d, i = merge_topk(*_sharded(X, X, k + 1, [9, 21]), k, exclude=np.arange(len(X)))
    # Leave-one-out by hand: the full distance matrix, the row itself pushed past every other, stable order.
    full = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(full, np.inf)
    order = np.argsort(full, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(i, order)
    assert not (i == np.arange(len(X))[:, None]).any()
    np.testing.assert_allclose(d, np.sqrt(np.take_along_axis(full, order, 1)), rtol=1e-12, atol=1e-12)
    # The same as the unsharded leave-one-out search.
    np.testing.assert_array_equal(i, kneighbors(X, X, k, exclude_self=True)[1])


def test_merge_runs_on_the_device():
    """On the emulated device (which refuses a sort ``kind`` other than None or "stable" and a ``take_along_axis``
    without ``axis``, as CuPy does) the merge equals the unsharded search."""
    import fake_cupy
    X = _tied_rows()
    Q = _tied_rows(12, seed=1)
    distances, indices = _sharded(X, Q, 3, [7, 13, 29])
    d_all, i_all = kneighbors(X, Q, 3)
    with fake_cupy.installed() as cp:
        d, i = merge_topk([cp.asarray(a) for a in distances], [cp.asarray(a) for a in indices], 3)
        d, i = d.get(), i.get()
    np.testing.assert_array_equal(i, i_all)
    np.testing.assert_array_equal(d, d_all)
