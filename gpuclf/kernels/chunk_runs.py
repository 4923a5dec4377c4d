"""How a search's chunks run: their reused buffers, and on NumPy several chunks at once on CPU threads.

On NumPy only the GEMMs of a chunk run on every core (BLAS's threads): its element-wise passes over the
score matrix (the mask, the seeds' minima, the candidates' list) and its refine run on one. On two cores
those passes are about half of a pruned search's time. Chunks are independent, and NumPy releases the GIL
in its loops, so running ``w`` chunks at once on ``w`` threads, each GEMM on one BLAS thread, keeps every
core busy all along. The results do not depend on it: each chunk's neighbours are exact whatever order
the chunks run in, and they are stored by position. CuPy runs one chunk at a time: the device already
runs each pass on all its cores. The pruned filter's projection of the rows
(:meth:`~gpuclf.kernels.distance_bounds.Projection.apply`) runs its row blocks the same way.
"""
from __future__ import annotations

import contextlib
import functools
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np


class ChunkBuffers:
    """A search's score matrix and candidate mask, allocated once and reused by each chunk.

    On a CPU a fresh array of this size is a fresh mapping, zeroed by the kernel on first touch: reusing one
    saved about a sixth of the pruned filter's GEMM on full MNIST. CuPy's pool reuses blocks already;
    there it only keeps the two arrays alive through the chunk's refine, which the chunk sizes allow for
    (the refine has its own quarter of the working memory).
    """

    def __init__(self, xp, dtype, rows: int, n: int):
        self.xp, self.dtype, self.rows, self.n = xp, dtype, rows, n
        self._scores = self._mask = None

    def left(self, budget_bytes: int | None) -> int | None:
        """What ``budget_bytes`` leaves beside the two arrays as they are now (None: no budget given)."""
        if budget_bytes is None:
            return None
        return max(1, int(budget_bytes) - sum(int(a.nbytes) for a in (self._scores, self._mask) if a is not None))

    def scores(self, m: int):
        """An (m, n) array of the scores' dtype, C-contiguous (rows of one buffer)."""
        if self._scores is None or self._scores.shape[0] < m:
            self._scores = self.xp.empty((max(m, self.rows), self.n), dtype=self.dtype)
        return self._scores[:m]

    def mask(self, m: int):
        """An (m, n) boolean array, C-contiguous."""
        if self._mask is None or self._mask.shape[0] < m:
            self._mask = self.xp.empty((max(m, self.rows), self.n), dtype=bool)
        return self._mask[:m]


#: Fewer (query, row) pairs than this run on one thread: too little work to share.
MIN_THREADED_PAIRS = 1 << 22


@functools.cache
def _blas():
    """threadpoolctl's controller of the BLAS libraries loaded (scanning them once: NumPy's is loaded by now)."""
    from threadpoolctl import ThreadpoolController  # scikit-learn's dependency

    return ThreadpoolController().select(user_api="blas")


def blas_threads() -> int:
    """How many threads the loaded BLAS libraries use now (1 where none is found)."""
    return max([int(lib.get("num_threads") or 1) for lib in _blas().info()], default=1)


def workers(xp, n_chunks: int, n_pairs: int) -> int:
    """Threads for ``n_chunks`` chunks of ``n_pairs`` (query, row) pairs, or of entries for a pass over rows:
    BLAS's thread count on NumPy (at most one a chunk), and 1 on CuPy or for a small pass."""
    if xp is not np or n_chunks < 2 or n_pairs < MIN_THREADED_PAIRS:
        return 1
    return max(1, min(n_chunks, blas_threads()))


@contextlib.contextmanager
def single_blas_thread():
    """A context in which BLAS runs on one thread (process-wide, then restored).

    threadpoolctl's ``threadpool_limits`` scans every loaded library on each call, allocating in proportion
    to them (over 0.6 MB in a full test run); the scan here is made once, so a small solve under a memory
    budget stays within it. The limit is set on entering the block, not when the context is made.
    """
    with _blas().limit(limits=1):
        yield


@contextlib.contextmanager
def one_blas_thread(n_workers: int):
    """BLAS on one thread while ``n_workers > 1`` chunks run side by side (process-wide, then restored)."""
    if n_workers <= 1:
        yield
        return
    with single_blas_thread():
        yield


def map_in_order(fn, items, n_workers: int, make_state):
    """``[fn(item, state) for item in items]`` on ``n_workers`` threads, in the items' order.

    ``make_state()`` gives each thread its own state (a chunk's buffers), made on the thread's first item.
    The first error raised by ``fn`` (or a Ctrl-C while waiting) is raised here once the running items have
    ended; the items not started are dropped, so an interrupted search stops within a chunk.
    """
    if n_workers <= 1:
        state = make_state()
        return [fn(item, state) for item in items]
    local = threading.local()

    def run(item):
        if not hasattr(local, "state"):
            local.state = make_state()
        return fn(item, local.state)

    with one_blas_thread(n_workers):
        pool = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="gpuclf-chunk")
        try:
            futures = [pool.submit(run, item) for item in items]
            return [future.result() for future in futures]
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


__all__ = ["MIN_THREADED_PAIRS", "ChunkBuffers", "blas_threads", "map_in_order", "one_blas_thread",
           "single_blas_thread", "workers"]
