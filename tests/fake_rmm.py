"""A stand-in for RMM's Python API over the emulated device of ``tests/fake_cupy.py``.

It keeps what gpuclf relies on, from RMM's own sources
(``python/rmm/rmm/pylibrmm/memory_resource/_memory_resource.pyx``,
``rmm/allocators/cupy.py``, ``rmm/statistics.py``):

- resources compose by wrapping an upstream (``PoolMemoryResource(upstream,
  initial_pool_size, maximum_pool_size)``, ``StatisticsResourceAdaptor``,
  ``LimitingResourceAdaptor(upstream, allocation_limit)``);
- ``set_current_device_resource`` decides where every later allocation goes,
  ``rmm_cupy_allocator`` included; the default resource is plain
  ``cudaMalloc`` (:class:`CudaMemoryResource`);
- a refused allocation raises ``MemoryError`` (RMM maps ``rmm::out_of_memory``
  to it), not CuPy's ``OutOfMemoryError``;
- the statistics adaptor has a counter stack: ``push_counters`` starts a
  counter at zero, ``pop_counters`` merges it into the one below
  (``statistics_resource_adaptor_impl.hpp``), ``allocation_counts`` reads the top.

Every resource records what it was built with (:data:`built`), so tests can
check what the backend configured. Use :func:`installed`.
"""
from __future__ import annotations

import contextlib
import dataclasses
import sys
import types

import fake_cupy

built: list = []


@dataclasses.dataclass
class Statistics:
    current_bytes: int = 0
    current_count: int = 0
    peak_bytes: int = 0
    peak_count: int = 0
    total_bytes: int = 0
    total_count: int = 0


def _RmmOutOfMemory(detail):
    """RMM maps ``rmm::out_of_memory`` to ``MemoryError``."""
    return MemoryError(f"std::bad_alloc: out_of_memory: CUDA error: out of memory ({detail})")


class DeviceMemoryResource:
    def allocate(self, nbytes: int, stream=None) -> int:
        raise NotImplementedError

    def deallocate(self, ptr: int, nbytes: int, stream=None) -> None:
        raise NotImplementedError


class CudaMemoryResource(DeviceMemoryResource):
    """``cudaMalloc``/``cudaFree``: each call would synchronise on a real device."""

    calls = 0

    def __init__(self):
        built.append(self)
        self.allocated = 0

    def allocate(self, nbytes, stream=None):
        CudaMemoryResource.calls += 1
        fake_cupy._sync()
        fake_cupy.cuda_malloc(nbytes, error=_RmmOutOfMemory)
        self.allocated += nbytes
        return 1

    def deallocate(self, ptr, nbytes, stream=None):
        CudaMemoryResource.calls += 1
        fake_cupy.cuda_free(nbytes)
        self.allocated -= nbytes


class _Adaptor(DeviceMemoryResource):
    def __init__(self, upstream_mr):
        if not isinstance(upstream_mr, DeviceMemoryResource):
            raise TypeError("upstream_mr must be a DeviceMemoryResource")
        self.upstream_mr = upstream_mr
        built.append(self)

    def get_upstream(self):
        return self.upstream_mr


class PoolMemoryResource(_Adaptor):
    """Grows by asking the upstream, never gives back; refuses past ``maximum_pool_size``."""

    def __init__(self, upstream_mr, initial_pool_size=None, maximum_pool_size=None):
        super().__init__(upstream_mr)
        # RMM_EXPECTS in pool_memory_resource_impl.cpp, before any allocation: a RuntimeError.
        for what, size in (("Initial", initial_pool_size), ("Maximum", maximum_pool_size)):
            if size is not None and size % 256:
                raise RuntimeError(f"RMM failure at: pool_memory_resource_impl.cpp: Error, {what} pool size "
                                   f"required to be a multiple of 256 bytes")
        if initial_pool_size is not None and maximum_pool_size is not None and initial_pool_size > maximum_pool_size:
            raise RuntimeError("RMM failure at: pool_memory_resource_impl.cpp: Initial pool size exceeds the "
                               "maximum pool size!")
        self.initial_pool_size, self.maximum_pool_size = initial_pool_size, maximum_pool_size
        self.size = 0
        self.in_use = 0
        self._grow(initial_pool_size if initial_pool_size is not None else fake_cupy.device_bytes() // 2)

    def __del__(self):
        # A pool gives its memory back to its upstream only when it is destroyed (not at interpreter exit).
        if getattr(self, "size", 0) and getattr(fake_cupy, "cuda_free", None) is not None:
            self.upstream_mr.deallocate(None, self.size)
            self.size = 0

    def _grow(self, nbytes):
        if self.maximum_pool_size is not None and self.size + nbytes > self.maximum_pool_size:
            raise MemoryError(f"std::bad_alloc: out_of_memory: RMM failure: Maximum pool size exceeded "
                              f"(failed to allocate {nbytes} bytes)")
        self.upstream_mr.allocate(nbytes)
        self.size += nbytes

    def allocate(self, nbytes, stream=None):
        if self.in_use + nbytes > self.size:
            self._grow(max(nbytes, self.in_use + nbytes - self.size))
        self.in_use += nbytes
        return 1

    def deallocate(self, ptr, nbytes, stream=None):
        self.in_use -= nbytes

    def pool_size(self):
        return self.size


class StatisticsResourceAdaptor(_Adaptor):
    def __init__(self, upstream_mr):
        super().__init__(upstream_mr)
        self._stack = [Statistics()]

    def allocate(self, nbytes, stream=None):
        ptr = self.upstream_mr.allocate(nbytes)
        top = self._stack[-1]
        top.current_bytes += nbytes
        top.current_count += 1
        top.total_bytes += nbytes
        top.total_count += 1
        top.peak_bytes = max(top.peak_bytes, top.current_bytes)
        top.peak_count = max(top.peak_count, top.current_count)
        return ptr

    def deallocate(self, ptr, nbytes, stream=None):
        self.upstream_mr.deallocate(ptr, nbytes)
        self._stack[-1].current_bytes -= nbytes
        self._stack[-1].current_count -= 1

    @property
    def allocation_counts(self) -> Statistics:
        return dataclasses.replace(self._stack[-1])

    def push_counters(self) -> Statistics:
        before = dataclasses.replace(self._stack[-1])
        self._stack.append(Statistics())
        return before

    def pop_counters(self) -> Statistics:
        if len(self._stack) < 2:
            raise IndexError("cannot pop the last counter pair")
        top = self._stack.pop()
        below = self._stack[-1]
        below.peak_bytes = max(below.peak_bytes, below.current_bytes + top.peak_bytes)
        below.current_bytes += top.current_bytes
        below.total_bytes += top.total_bytes
        below.current_count += top.current_count
        below.total_count += top.total_count
        return top


class LimitingResourceAdaptor(_Adaptor):
    def __init__(self, upstream_mr, allocation_limit):
        super().__init__(upstream_mr)
        self.allocation_limit = int(allocation_limit)
        self.allocated = 0

    def allocate(self, nbytes, stream=None):
        if self.allocated + nbytes > self.allocation_limit:
            raise MemoryError(f"std::bad_alloc: out_of_memory: RMM failure: Exceeded memory limit "
                              f"(failed to allocate {nbytes} bytes)")
        ptr = self.upstream_mr.allocate(nbytes)
        self.allocated += nbytes
        return ptr

    def deallocate(self, ptr, nbytes, stream=None):
        self.upstream_mr.deallocate(ptr, nbytes)
        self.allocated -= nbytes

    def get_allocated_bytes(self):
        return self.allocated

    def get_allocation_limit(self):
        return self.allocation_limit


_current = [None]


def get_current_device_resource():
    if _current[0] is None:
        _current[0] = CudaMemoryResource()
    return _current[0]


def set_current_device_resource(mr):
    _current[0] = mr


class DeviceBuffer:
    """Device memory from the current resource, returned when the buffer is dropped."""

    def __init__(self, size=0, stream=None):
        self.size = int(size)
        self.mr = get_current_device_resource()
        self.ptr = self.mr.allocate(self.size) if self.size else 0

    def __del__(self):
        if getattr(self, "ptr", 0):
            self.mr.deallocate(self.ptr, self.size)


def rmm_cupy_allocator(nbytes):
    """RMM's CuPy allocator: a ``MemoryPointer`` over a ``DeviceBuffer`` it owns."""
    cupy = fake_cupy._module
    buf = DeviceBuffer(size=nbytes)
    return cupy.cuda.MemoryPointer(cupy.cuda.UnownedMemory(ptr=buf.ptr, size=buf.size, owner=buf), 0)


def _modules() -> dict:
    rmm = types.ModuleType("rmm")
    mr = types.ModuleType("rmm.mr")
    for name in ("DeviceMemoryResource", "CudaMemoryResource", "PoolMemoryResource", "StatisticsResourceAdaptor",
                 "LimitingResourceAdaptor", "get_current_device_resource", "set_current_device_resource"):
        setattr(mr, name, globals()[name])
    allocators = types.ModuleType("rmm.allocators")
    cupy_allocators = types.ModuleType("rmm.allocators.cupy")
    cupy_allocators.rmm_cupy_allocator = rmm_cupy_allocator
    allocators.cupy = cupy_allocators
    rmm.mr, rmm.allocators, rmm.DeviceBuffer, rmm.__version__ = mr, allocators, DeviceBuffer, "26.10.0+fake"
    return {"rmm": rmm, "rmm.mr": mr, "rmm.allocators": allocators, "rmm.allocators.cupy": cupy_allocators}


_ABSENT = object()  # not in sys.modules (None there means "hidden": import raises ImportError)


@contextlib.contextmanager
def installed():
    """``import rmm`` gives this stand-in inside the block (use it inside ``fake_cupy.installed()``)."""
    saved = {name: sys.modules.get(name, _ABSENT) for name in _modules()}
    sys.modules.update(_modules())
    built.clear()
    _current[0] = None
    CudaMemoryResource.calls = 0
    try:
        yield sys.modules["rmm"]
    finally:
        _current[0] = None
        for name, module in saved.items():
            if module is _ABSENT:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
