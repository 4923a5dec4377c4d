"""The one device allocator CuPy and cuML share, owned by the gpu backend.

``import cuml`` sets CuPy's allocator to RMM's (cuML's ``_setup_cupy``
calls ``cupy.cuda.set_allocator(rmm_cupy_allocator)``), and RMM's default
resource is plain ``cudaMalloc``/``cudaFree``. Left alone, that silently
turns off CuPy's pool: peaks read 0, ``--max-gpu-memory`` caps nothing and
every temporary synchronises. So the backend decides, once, at start:

- with RMM: a pool (``PoolMemoryResource`` over ``CudaMemoryResource``)
  behind a ``StatisticsResourceAdaptor`` (per-step peaks, with its counter
  stack) and, for ``--max-gpu-memory``, a ``LimitingResourceAdaptor``; it
  becomes RMM's current device resource and, through
  ``rmm_cupy_allocator``, CuPy's allocator. cuML allocates from RMM's
  current resource, so when it later re-installs ``rmm_cupy_allocator``
  everything still goes through this one stack;
- without RMM (hence without cuML): CuPy's own memory pool, capped with
  ``set_limit``.

Either way the backend asks the same four questions (peak, in use, free
for chunking, is this exception an out-of-memory) and gets one answer.
"""
from __future__ import annotations


INITIAL_POOL_BYTES = 256 * 2**20
#: RMM's pool sizes must be multiples of this (``pool_memory_resource_impl.cpp``: "Initial/Maximum pool
#: size required to be a multiple of 256 bytes", a RuntimeError raised at construction).
POOL_ALIGNMENT = 256


def pool_sizes(limit: int | None) -> tuple[int, int | None]:
    """RMM pool's initial and maximum sizes for a cap of ``limit`` bytes (None: no cap).

    Both are rounded up to a multiple of :data:`POOL_ALIGNMENT`, so any size a
    user types is accepted; the cap itself stays exact, enforced by the
    ``LimitingResourceAdaptor`` in front of the pool.
    """
    if not limit:
        return INITIAL_POOL_BYTES, None
    maximum = -(-int(limit) // POOL_ALIGNMENT) * POOL_ALIGNMENT
    return min(maximum, INITIAL_POOL_BYTES), maximum


class CupyPoolAllocator:
    """CuPy's default memory pool; its ``total_bytes`` after ``free_all_blocks`` is a step's peak."""

    name = "CuPy memory pool"

    def __init__(self, cupy, limit: int | None = None):
        self.cupy = cupy
        self.pool = cupy.get_default_memory_pool()
        cupy.cuda.set_allocator(self.pool.malloc)
        self.pool.set_limit(size=int(limit or 0))
        self.limit = limit

    def reset_peak(self) -> None:
        # The pool keeps every block it grew to, so once emptied of unused
        # blocks, its total size at the end of a step is the step's high-water mark.
        self.pool.free_all_blocks()

    def peak_bytes(self) -> int:
        return int(self.pool.total_bytes())

    def used_bytes(self) -> int:
        return int(self.pool.used_bytes())

    def cached_bytes(self) -> int:
        """Bytes the pool holds but no array uses (free for a new chunk)."""
        return int(self.pool.free_bytes())


class RmmAllocator:
    """RMM pool -> statistics -> (limit), installed for RMM users (cuML) and for CuPy.

    Parameters
    ----------
    cupy, rmm : modules
    limit : int, optional
        Bytes all device allocations together may hold (``--max-gpu-memory``).
    """

    name = "RMM pool"

    def __init__(self, cupy, rmm, limit: int | None = None):
        from rmm.allocators.cupy import rmm_cupy_allocator

        mr = rmm.mr
        # Start small and grow on demand (RMM's default start, half the free
        # memory, would hide that memory from the chunk sizing and from other processes).
        initial, maximum = pool_sizes(limit)
        self.pool = mr.PoolMemoryResource(mr.CudaMemoryResource(), initial_pool_size=initial,
                                          maximum_pool_size=maximum)
        self.stats = mr.StatisticsResourceAdaptor(self.pool)
        self.limiter = mr.LimitingResourceAdaptor(self.stats, int(limit)) if limit else None
        mr.set_current_device_resource(self.limiter or self.stats)
        cupy.cuda.set_allocator(rmm_cupy_allocator)
        self.limit = limit
        self._base = 0
        self._pushed = False

    def reset_peak(self) -> None:
        # A pushed counter starts at zero and tracks what the step allocates on
        # top of what was live before it; popping merges it back.
        if self._pushed:
            self.stats.pop_counters()
        self._base = int(self.stats.allocation_counts.current_bytes)
        self.stats.push_counters()
        self._pushed = True

    def peak_bytes(self) -> int:
        counts = self.stats.allocation_counts
        return self._base + int(counts.peak_bytes) if self._pushed else int(counts.peak_bytes)

    def used_bytes(self) -> int:
        counts = self.stats.allocation_counts
        return self._base + int(counts.current_bytes) if self._pushed else int(counts.current_bytes)

    def cached_bytes(self) -> int:
        """Bytes the pool holds but no allocation uses: its size less what is live (free for a new chunk)."""
        return max(int(self.pool.pool_size()) - self.used_bytes(), 0)


def install_allocator(cupy, limit: int | None = None):
    """Put the backend's allocator in place for CuPy (and for cuML, through RMM).

    Returns
    -------
    RmmAllocator or CupyPoolAllocator
    """
    from .probes import rmm_module

    rmm = rmm_module()
    if rmm is not None:
        return RmmAllocator(cupy, rmm, limit)
    return CupyPoolAllocator(cupy, limit)


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a device allocation failure: CuPy's ``OutOfMemoryError`` or RMM's.

    Both are ``MemoryError`` subclasses (RMM turns ``rmm::out_of_memory`` and
    a limiting adaptor's refusal into ``MemoryError``); cuBLAS and cuSOLVER
    report theirs as ``CUBLAS_STATUS_ALLOC_FAILED``-style runtime errors.
    """
    return isinstance(exc, MemoryError) or "ALLOC_FAILED" in str(exc) or "out of memory" in str(exc).lower()
