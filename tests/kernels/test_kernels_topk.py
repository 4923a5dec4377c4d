"""topk.block_minima against a plain per-block loop; the partition top-k on the (emulated) device."""
from __future__ import annotations

import numpy as np
import pytest

import fake_cupy
from gpuclf.kernels import topk
from traced_peak import extra_peak


def _blocks_reference(d2, n_blocks):
    """Per row and block, the first column holding the block's minimum (a loop over slices)."""
    m, n = d2.shape
    width = n // n_blocks
    idx = np.empty((m, n_blocks), dtype=np.int64)
    for i in range(m):
        for b in range(n_blocks):
            idx[i, b] = b * width + int(np.argmin(d2[i, b * width:(b + 1) * width]))
    return np.take_along_axis(d2, idx, axis=1), idx


def _tied_chunk():
    # Small integers: many ties inside a block (the first column must win); 23 columns into 4 blocks of 5
    # leaves 3 columns in no block, and the smallest value of a row sits there.
    d2 = np.random.default_rng(3).integers(1, 5, size=(6, 23)).astype(np.float64)
    d2[:, 20:] = 0.0
    return d2


@pytest.mark.parametrize("n_blocks", [1, 4, 23])
def test_block_minima_is_each_blocks_first_minimum(n_blocks):
    """Indices are columns of the whole row (block offset added), int64, the first minimum on ties;
    the leftover columns belong to no block."""
    d2 = _tied_chunk()
    values, indices = topk.block_minima(d2.copy(), n_blocks)
    want_values, want_indices = _blocks_reference(d2, n_blocks)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, want_indices)
    np.testing.assert_array_equal(values, want_values)


def test_block_minima_on_device():
    """On the (emulated) device the result stays on the device and equals the per-block loop."""
    d2 = _tied_chunk()
    want_values, want_indices = _blocks_reference(d2, 4)
    with fake_cupy.installed() as cp:
        values, indices = topk.block_minima(cp.asarray(d2), 4)
        assert isinstance(values, cp.ndarray) and isinstance(indices, cp.ndarray)
        values, indices = values.get(), indices.get()
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices, want_indices)
    np.testing.assert_array_equal(values, want_values)


def test_partition_top_k_on_device():
    """argpartition plus the tie repair, on the (emulated) device with CuPy's signatures: each row's
    ``k`` smallest in (value, index) order, as a stable argsort of the row gives them."""
    d2 = _tied_chunk()
    k = 7
    want_indices = np.argsort(d2, axis=1, kind="stable")[:, :k]
    with fake_cupy.installed() as cp:
        values, indices = topk.smallest_k_by_partition(cp.asarray(d2), k)
        assert isinstance(values, cp.ndarray) and isinstance(indices, cp.ndarray)
        values, indices = values.get(), indices.get()
    np.testing.assert_array_equal(indices, want_indices)
    np.testing.assert_array_equal(values, np.take_along_axis(d2, want_indices, axis=1))


def test_argmin_top_k_and_seeds_on_device():
    """The argmin passes, and seeds on both of its paths (k smallest; one minimum per column block),
    on the (emulated) device: the stable argsort's k smallest, and the per-block loop's minima."""
    d2 = _tied_chunk()
    wide = np.random.default_rng(5).integers(0, 50, size=(3, 4100)).astype(np.float64)  # 4 blocks of 1,025
    want_k = np.argsort(d2, axis=1, kind="stable")[:, :3]
    want_blocks = _blocks_reference(wide, 4)[1]
    values, indices = topk.smallest_k_by_argmin(d2.astype(np.float32), 3)
    assert values.dtype == np.float32 and indices.dtype == np.int64  # the input's dtype; int64 columns
    np.testing.assert_array_equal(indices, want_k)
    with fake_cupy.installed() as cp:
        _, by_argmin = topk.smallest_k_by_argmin(cp.asarray(d2), 3)
        _, seeded_k = topk.seeds(cp.asarray(d2), 3)
        _, seeded_blocks = topk.seeds(cp.asarray(wide), 1)
        assert all(isinstance(a, cp.ndarray) for a in (by_argmin, seeded_k, seeded_blocks))
        by_argmin, seeded_k, seeded_blocks = by_argmin.get(), seeded_k.get(), seeded_blocks.get()
    np.testing.assert_array_equal(by_argmin, want_k)
    np.testing.assert_array_equal(seeded_k, want_k)
    np.testing.assert_array_equal(seeded_blocks, want_blocks)


def test_sort_rows_on_device():
    """Each row's entries in (value, index) order, as a lexsort by (value, index) orders them."""
    rng = np.random.default_rng(6)
    values = rng.integers(0, 3, size=(5, 8)).astype(np.float32)
    indices = np.stack([rng.permutation(40)[:8] for _ in range(5)]).astype(np.int64)
    order = np.stack([np.lexsort((i, v)) for v, i in zip(values, indices)])
    with fake_cupy.installed() as cp:
        got_values, got_indices = topk.sort_rows(cp.asarray(values), cp.asarray(indices))
        assert isinstance(got_values, cp.ndarray) and isinstance(got_indices, cp.ndarray)
        got_values, got_indices = got_values.get(), got_indices.get()
    np.testing.assert_array_equal(got_indices, np.take_along_axis(indices, order, axis=1))
    np.testing.assert_array_equal(got_values, np.take_along_axis(values, order, axis=1))
    assert got_values.dtype == np.float32


def test_segment_smallest_k_on_device():
    """Ragged candidates in any order: each query's k smallest in (value, row) order, as a per-query
    sort of its own candidates gives them."""
    rng = np.random.default_rng(7)
    counts = np.array([3, 6, 4], dtype=np.int64)
    queries = np.repeat(np.arange(3), counts)
    rows = np.concatenate([rng.permutation(20)[:c] for c in counts]).astype(np.int64)
    values = rng.integers(0, 3, size=rows.size).astype(np.float64)  # ties: the smaller row first
    shuffle = rng.permutation(rows.size)
    queries, rows, values = queries[shuffle], rows[shuffle], values[shuffle]
    k = 3
    want_rows = np.stack([rows[queries == q][np.lexsort((rows[queries == q], values[queries == q]))][:k]
                          for q in range(3)])
    with fake_cupy.installed() as cp:
        got_values, got_rows = topk.segment_smallest_k(*(cp.asarray(a) for a in (queries, rows, values, counts)), k)
        assert isinstance(got_values, cp.ndarray) and isinstance(got_rows, cp.ndarray)
        got_values, got_rows = got_values.get(), got_rows.get()
    np.testing.assert_array_equal(got_rows, want_rows)
    want_values = np.stack([[values[(queries == q) & (rows == r)][0] for r in want_rows[q]] for q in range(3)])
    np.testing.assert_array_equal(got_values, want_values)


def test_sort_rows_and_segments_are_stable_on_wide_rows():
    """Rows and segments longer than NumPy's insertion-sort cutoff (16), many ties: (value, index) order
    still, which needs the stable sorts (NumPy's default quicksort is not stable there)."""
    rng = np.random.default_rng(8)
    values = rng.integers(0, 3, size=(4, 64)).astype(np.float64)
    indices = np.stack([rng.permutation(64) for _ in range(4)]).astype(np.int64)
    order = np.stack([np.lexsort((i, v)) for v, i in zip(values, indices)])
    got_values, got_indices = topk.sort_rows(values, indices)
    np.testing.assert_array_equal(got_indices, np.take_along_axis(indices, order, axis=1))
    np.testing.assert_array_equal(got_values, np.take_along_axis(values, order, axis=1))

    counts = np.array([70, 90], dtype=np.int64)
    queries = np.repeat(np.arange(2), counts)
    rows = np.concatenate([rng.permutation(100)[:c] for c in counts]).astype(np.int64)
    vals = rng.integers(0, 3, size=rows.size).astype(np.float64)
    shuffle = rng.permutation(rows.size)
    queries, rows, vals = queries[shuffle], rows[shuffle], vals[shuffle]
    k = 40
    want = np.stack([rows[queries == q][np.lexsort((rows[queries == q], vals[queries == q]))][:k] for q in range(2)])
    got_vals, got_rows = topk.segment_smallest_k(queries, rows, vals, counts, k)
    np.testing.assert_array_equal(got_rows, want)
    assert got_rows.dtype == np.int64


def _argpartition_by_its_contract(a, kth, axis=-1, **kwargs):
    """NumPy's argpartition with only what its API promises kept: the ``kth`` entry in its sorted place,
    the others on the right side of it in reversed order (NumPy's own happens to leave more sorted)."""
    out = _NUMPY_ARGPARTITION(a, kth, axis=axis, **kwargs)
    out = np.moveaxis(out, axis, -1)
    out = np.concatenate([out[..., :kth][..., ::-1], out[..., kth:kth + 1], out[..., kth + 1:][..., ::-1]], axis=-1)
    return np.moveaxis(out, -1, axis)


_NUMPY_ARGPARTITION = np.argpartition


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_partition_top_k_holds_for_any_argpartition_the_api_allows(monkeypatch, k):
    """The partition path relies only on argpartition's contract (CuPy's selection and NumPy's introselect
    order the rest differently): with the other entries in the worst allowed order, still the k smallest
    in (value, index) order, ties to the lowest indices."""
    rng = np.random.default_rng(5)
    d2 = np.round(rng.random((40, 60)) * 8)  # many ties
    want = np.argsort(d2, axis=1, kind="stable")[:, :k]
    monkeypatch.setattr(np, "argpartition", _argpartition_by_its_contract)
    values, indices = topk.smallest_k_by_partition(d2, k)
    np.testing.assert_array_equal(indices, want)
    np.testing.assert_array_equal(values, np.take_along_axis(d2, want, axis=1))


def test_seed_bytes_per_pair_is_the_working_memory_of_seeds():
    """With seeds' own default blocks, ``seed_bytes_per_pair(n, k, itemsize)`` bounds what ``seeds(d2, k)``
    allocates per pair, and is not loose (within 4x): k = 9 float64 is argpartition's case (48 bytes a
    pair), whereas over 39,996 = 36 x 1,111 columns the 4 k = 36 blocks of at least 1,025 columns are a
    view of the rows, whose minima take a few bytes a block (a query's part), not a byte a pair (the
    estimate is 0). Over 40,000 columns the blocks leave 4 out: a strided view, which NumPy's argmin
    copies, a batch of rows at a time."""
    rng = np.random.default_rng(9)
    for m, n in [(4, 3_000), (4, 39_996), (64, 40_000)]:
        d2 = np.round(rng.random((m, n)) * 50)
        peak, _ = extra_peak(lambda d2=d2: topk.seeds(d2, 9))
        estimate = topk.seed_bytes_per_pair(n, 9, d2.itemsize) * d2.size
        per_query = 64 * 4 * 9 * d2.shape[0]  # the seeds' columns and values: 64 bytes a block at most
        assert peak <= estimate + per_query and estimate <= 4 * peak + per_query


def test_one_block_per_k_takes_each_blocks_minimum():
    """``blocks_per_k=1`` still means blocks: ``k`` blocks of ``n // k`` columns, each row's minimum of each
    (the two smallest values sharing a block give one seed), and ``d2`` is left as it was."""
    rng = np.random.default_rng(8)
    n, k = 2 * topk.MIN_SEED_BLOCK, 2
    d2 = rng.uniform(10, 20, size=(3, n))
    d2[:, [5, 6]] = [1.0, 2.0]  # both in the first block
    before = d2.copy()
    values, indices = topk.seeds(d2, k, blocks_per_k=1)
    half = n // 2
    np.testing.assert_array_equal(np.sort(values, axis=1), np.sort(np.c_[before[:, :half].min(1),
                                                                          before[:, half:].min(1)], axis=1))
    assert all(set(row) == {5, half + int(np.argmin(before[i, half:]))} for i, row in enumerate(indices.tolist()))
    np.testing.assert_array_equal(d2, before)


def test_blocks_narrower_than_the_minimum_give_the_k_smallest_instead():
    """``seeds(d2, k)`` with the default 4 blocks per k: for ``n`` under ``4 k MIN_SEED_BLOCK`` columns the
    blocks would be too narrow, so the seeds are the ``k`` smallest of each row (whatever ``k``), not block
    minima; from there on, ``4 k`` block minima."""
    rng = np.random.default_rng(9)
    for k in (2, 3):
        n = 4 * k * topk.MIN_SEED_BLOCK - 1
        d2 = rng.uniform(size=(2, n))
        want = np.sort(d2, axis=1)[:, :k]
        values, _ = topk.seeds(d2.copy(), k)
        np.testing.assert_array_equal(np.sort(values, axis=1), want)
        wide = rng.uniform(size=(2, n + 1))
        assert topk.seeds(wide, k)[0].shape == (2, 4 * k)


def test_seed_bytes_are_whole_bytes_a_pair():
    """Where the blocks leave columns out, each batch copies ``1 / BLOCK_BATCHES`` of the rows: that share of
    a score's bytes a pair, rounded up to whole bytes (an int, as the budget arithmetic takes it)."""
    n, k = 4 * 2 * topk.MIN_SEED_BLOCK + 1, 2
    for itemsize in (4, 8):
        got = topk.seed_bytes_per_pair(n, k, itemsize)
        assert isinstance(got, int) and got == -(-itemsize // topk.BLOCK_BATCHES) >= itemsize / topk.BLOCK_BATCHES
