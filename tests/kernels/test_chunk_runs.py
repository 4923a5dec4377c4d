"""A search's chunks side by side on CPU threads: the same neighbours as one thread, within the memory budget.

``chunk_runs.blas_threads`` is patched to say how many threads BLAS has, so each case runs both ways on
any machine; a spy on ``map_in_order`` shows that the threaded way really ran on threads.
"""
from __future__ import annotations

import threading
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gpuclf.kernels import chunk_runs
from gpuclf.kernels import neighbors as nb
from gpuclf.kernels import pruned_neighbors as pn


@pytest.fixture
def threads(monkeypatch):
    """``set(n)`` makes BLAS report ``n`` threads; ``used`` lists each search's workers and thread names."""
    seen = {"workers": [], "names": set()}
    real = chunk_runs.map_in_order

    def spy(fn, items, n_workers, make_state):
        items = list(items)
        seen["workers"].append(n_workers)
        seen["first"] = items[0] if items else None

        # Each of the n_workers threads waits on its first item until all have one: on a busy machine one
        # thread could otherwise run every chunk before the others start, and the test would see one name.
        barrier, started = threading.Barrier(max(1, n_workers), timeout=120), threading.local()

        def named(item, state):
            if n_workers > 1:
                seen["names"].add(threading.current_thread().name)
                if not getattr(started, "done", False):
                    started.done = True
                    barrier.wait()
            return fn(item, state)
        return real(named, items, n_workers, make_state)

    monkeypatch.setattr(chunk_runs, "map_in_order", spy)

    def set_threads(n):
        monkeypatch.setattr(chunk_runs, "blas_threads", lambda: n)
        seen["workers"].clear()
        seen["names"].clear()
    seen["set"] = set_threads
    return seen


def images(n, seed, noise=30):
    """Integer images around a few prototypes: near-ties and exact duplicates."""
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 256, (12, 48))
    X = protos[rng.integers(0, 12, n)] + rng.integers(0, noise, (n, 48))
    X[::50] = X[1::50]  # duplicated rows: ties broken by index
    return X.astype(np.float32)


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
@pytest.mark.parametrize("k, exclude_self", [(1, False), (5, False), (4, True)])
def test_threads_give_one_threads_neighbours(threads, algorithm, k, exclude_self):
    X = images(2500 if exclude_self else 6000, 1)
    Q = X if exclude_self else images(900, 2)  # over 4 million pairs either way
    threads["set"](1)
    one = nb.kneighbors(X, Q, k, algorithm=algorithm, exclude_self=exclude_self, budget_bytes=2**22)
    assert set(threads["workers"]) == {1}
    threads["set"](2)
    two = nb.kneighbors(X, Q, k, algorithm=algorithm, exclude_self=exclude_self, budget_bytes=2**22)
    assert threads["workers"][-1] == 2 and len(threads["names"]) == 2  # two threads shared the chunks
    assert all(name.startswith("gpuclf-chunk") for name in threads["names"])
    # A pruned search's probe runs alone first (it decides the filter); brute force shares every chunk.
    assert (threads["first"][0] > 0) == (algorithm == "pruned")
    for a, b in zip(one, two):
        assert_array_equal(a, b)


def test_a_small_search_and_cupy_stay_on_one_thread(threads):
    threads["set"](8)
    X = images(2000, 3)
    nb.kneighbors(X, images(1000, 4), 3, budget_bytes=2**16)  # 2 million pairs: too little to share
    assert set(threads["workers"]) == {1}
    assert chunk_runs.workers(np, 10, chunk_runs.MIN_THREADED_PAIRS) == 8
    assert chunk_runs.workers(np, 3, chunk_runs.MIN_THREADED_PAIRS) == 3  # never more threads than chunks
    assert chunk_runs.workers(np, 1, 10 * chunk_runs.MIN_THREADED_PAIRS) == 1
    assert chunk_runs.workers(object(), 10, 10 * chunk_runs.MIN_THREADED_PAIRS) == 1  # not NumPy


def test_a_switch_to_the_brute_filter_under_threads(threads):
    """Noise no axis captures: the probe hands the search to the brute filter, for every thread's chunks."""
    rng = np.random.default_rng(5)
    X = (images(6000, 6, noise=1) + rng.integers(0, 100, (6000, 48))).astype(np.float32)
    Q = (images(800, 7, noise=1) + rng.integers(0, 100, (800, 48))).astype(np.float32)
    threads["set"](2)
    with pn.recording() as log:
        got = nb.kneighbors(X, Q, 5, algorithm="pruned", budget_bytes=2**22)
    (stats,) = log
    assert threads["workers"][-1] == 2
    assert stats.switched_queries == 800 and stats.candidates.shape == (800,)
    for a, b in zip(got, nb.kneighbors(X, Q, 5, algorithm="brute")):
        assert_array_equal(a, b)


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
def test_threads_share_the_memory_budget(threads, algorithm):
    """Two chunks at once, each with half the working memory: the traced peak is one thread's, within the
    budget (the chunk sizes' estimate is cautious: one thread's peak is about half the budget here, so a
    budget given whole to each thread shows as twice one thread's peak)."""
    X, Q = images(8000, 8), images(1200, 9)
    index = pn.NeighborIndex(X)
    projection = pn.fit_projection(X) if algorithm == "pruned" else None
    index.search(Q[:10], 3, algorithm=algorithm, projection=projection)  # the index's own arrays, built
    budget = 2**22
    index.budget_bytes = budget
    peaks = {}
    for n_threads in (1, 2):
        threads["set"](n_threads)
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            sq, idx = index.search(Q, 3, algorithm=algorithm, projection=projection)
            peaks[n_threads] = tracemalloc.get_traced_memory()[1] - base - sq.nbytes - idx.nbytes
        finally:
            tracemalloc.stop()
        assert threads["workers"][-1] == n_threads
    assert peaks[2] <= 1.1 * budget, f"peak {peaks[2] / budget:.2f}x the budget"
    assert peaks[2] <= 1.25 * peaks[1], f"two threads {peaks[2] / peaks[1]:.2f}x one thread's peak"


def test_map_in_order_keeps_order_state_per_thread_and_one_blas_thread():
    made = []

    def make():
        made.append(threading.current_thread().name)
        return {"items": []}

    def fn(item, state):
        state["items"].append(item)
        return item * item, chunk_runs.blas_threads()

    out = chunk_runs.map_in_order(fn, list(range(40)), 2, make)
    assert [v for v, _ in out] == [i * i for i in range(40)]
    assert {b for _, b in out} == {1}  # BLAS on one thread while two chunks run
    assert len(made) == len(set(made)) <= 2  # one state per thread
    assert chunk_runs.map_in_order(fn, [3], 1, make)[0][0] == 9


def test_map_in_order_raises_a_chunks_error_and_starts_no_more():
    import time

    ran, before = [], chunk_runs.blas_threads()

    def fn(item, state):
        ran.append(item)
        if item == 7:
            raise ValueError("chunk 7")
        time.sleep(0.05)
        return item

    with pytest.raises(ValueError, match="chunk 7"):
        chunk_runs.map_in_order(fn, list(range(40)), 2, dict)
    assert 7 in ran and len(ran) < 40  # the items not yet started were dropped (a Ctrl-C ends the same way)
    assert chunk_runs.blas_threads() == before  # BLAS's threads given back


def test_map_in_order_raises_once_the_running_items_have_ended():
    """A chunk's error is raised once the chunks already running have ended, not while they still write
    into the caller's arrays."""
    import time

    ended = []

    def fn(item, state):
        if item == 0:
            time.sleep(0.05)  # item 1 is running by now
            raise ValueError("chunk 0")
        time.sleep(0.5)
        ended.append(item)
        return item

    with pytest.raises(ValueError, match="chunk 0"):
        chunk_runs.map_in_order(fn, [0, 1], 2, dict)
    assert ended == [1]


def test_chunk_buffers_reuse_one_allocation():
    buffers = chunk_runs.ChunkBuffers(np, np.dtype(np.float32), 10, 7)
    a, b = buffers.scores(10), buffers.scores(4)
    assert a.shape == (10, 7) and b.shape == (4, 7) and np.shares_memory(a, b)
    assert b.flags.c_contiguous and buffers.mask(3).dtype == bool
    assert buffers.scores(12).shape == (12, 7)  # a longer chunk than planned gets a larger buffer


def test_the_projection_of_the_rows_runs_its_blocks_on_threads(threads):
    """``Projection.apply`` on two threads: the same error bounds, bit for bit (element-wise), and features
    equal to a rounding (each block's GEMM on one BLAS thread may add in another order: any order is bounded)."""
    X = np.tile(images(3000, 10), (2, 17))[:, :784]  # 6,000 rows of 784: 4.7 million entries, two threads' work
    projection = pn.fit_projection(X)
    threads["set"](1)
    one, rho_one = projection.apply(X, np.float32)
    threads["set"](2)
    two, rho_two = projection.apply(X, np.float32, budget_bytes=2**22)
    assert threads["workers"] == [2] and len(threads["names"]) == 2
    assert_array_equal(rho_one, rho_two)
    np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("n_threads", [1, 2])
@pytest.mark.parametrize("negative_at", [None, 0, 3333, 5999])
def test_the_compact_copy_checks_every_block_on_threads(threads, n_threads, negative_at):
    """The rows' uint8 copy is made block by block (on two threads where BLAS has two): a negative value in
    any block, the last included, leaves no copy; otherwise the copy holds every value."""
    from gpuclf.kernels import exact_distances as ed

    X = np.minimum(np.tile(images(6000, 11), (1, 17))[:, :784], 255)  # 4.7 million values: two threads
    if negative_at is not None:
        X[negative_at, 5] = -1
    threads["set"](n_threads)
    compact = ed.compact_rows(X, 255, budget_bytes=2**20)  # blocks of 334 rows
    assert threads["workers"] == [n_threads]
    if negative_at is None:
        assert compact.dtype == np.uint8
        assert_array_equal(compact, X)
    else:
        assert compact is None


def test_blas_threads_is_the_largest_thread_count_of_the_blas_libraries(monkeypatch):
    """``blas_threads()``: threadpoolctl's largest ``num_threads`` among the BLAS libraries, 1 where none is
    found (no BLAS library, or one that reports no thread count)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    with threadpool_limits(limits=2, user_api="blas"):
        reported = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
        assert chunk_runs.blas_threads() == max(reported, default=1)

    class Libraries:  # threadpoolctl's controller, as loaded on machines it cannot read
        def __init__(self, info):
            self._info = info

        def info(self):
            return self._info

    for info, expected in (([], 1), ([{"num_threads": None}], 1), ([{}], 1),
                           ([{"num_threads": 3}, {"num_threads": None}, {"num_threads": 2}], 3)):
        monkeypatch.setattr(chunk_runs, "_blas", lambda info=info: Libraries(info))
        assert chunk_runs.blas_threads() == expected, info


def test_chunk_buffers_are_reused_and_grow_for_a_longer_chunk():
    """The same arrays for every chunk up to the rows they were made for (their point: no fresh mapping a
    chunk); a longer chunk gets arrays of its own length, of the shape and dtype asked."""
    from gpuclf.kernels.chunk_runs import ChunkBuffers

    buffers = ChunkBuffers(np, np.float32, 10, 40)
    for get, dtype in ((buffers.scores, np.float32), (buffers.mask, bool)):
        first = get(10)
        assert first.shape == (10, 40) and first.dtype == dtype and first.flags.c_contiguous
        assert np.shares_memory(get(10), first) and np.shares_memory(get(4), first)
        longer = get(25)
        assert longer.shape == (25, 40) and longer.dtype == dtype


def test_small_solves_run_on_one_blas_thread_without_rescanning_the_libraries(monkeypatch):
    """The PCA's ``eigh`` and the bounds' ``eigvalsh`` run on one BLAS thread (the count restored after), and
    threadpoolctl scans the loaded libraries at most once a process: a scan per call allocates in proportion to
    the libraries loaded (0.6 MB in a full test run), beyond a small fit's memory budget."""
    import threadpoolctl

    from gpuclf.kernels import distance_bounds, pca

    scans = []
    real_init = threadpoolctl.ThreadpoolController.__init__

    def counted(self, *args, **kwargs):
        scans.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(threadpoolctl.ThreadpoolController, "__init__", counted)
    chunk_runs._blas.cache_clear()
    seen = []
    real_eigh, real_eigvalsh = np.linalg.eigh, np.linalg.eigvalsh
    monkeypatch.setattr(np.linalg, "eigh", lambda a: (seen.append(chunk_runs.blas_threads()), real_eigh(a))[1])
    monkeypatch.setattr(np.linalg, "eigvalsh",
                        lambda a: (seen.append(chunk_runs.blas_threads()), real_eigvalsh(a))[1])
    X = np.random.default_rng(0).normal(size=(300, 6))
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = chunk_runs.blas_threads()
        for _ in range(3):
            pca.pca_fit(X, 2, budget_bytes=4096)
            distance_bounds._top_eigenvalue(X[:4])
        assert chunk_runs.blas_threads() == before
        made = chunk_runs.single_blas_thread()  # the limit is set on entering, not when the context is made
        assert chunk_runs.blas_threads() == before
        with made:
            assert chunk_runs.blas_threads() == 1
        assert chunk_runs.blas_threads() == before
    scans_in_calls = len(scans) - 1  # the threadpool_limits above is one scan of its own
    assert seen == [1] * 6
    assert scans_in_calls <= 1
