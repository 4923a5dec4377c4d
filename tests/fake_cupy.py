"""A NumPy-backed stand-in for CuPy: runs the gpu backend's own code without CUDA.

CI has no GPU, so the ``numpy`` backend tests our kernels but not the code
that only runs when arrays are CuPy arrays: the host/device boundary, the
memory pool, the device queries. This module imitates the traits of CuPy
that break code written for NumPy, so such bugs fail on CPU-only CI:

- device arrays are their own type, ``cupy.ndarray``, and refuse implicit
  conversion to NumPy (``np.asarray(a)`` raises ``TypeError``; ``a.get()``
  is the way back), as CuPy does;
- CuPy's functions and operators refuse NumPy arrays mixed with device
  arrays (``TypeError: Unsupported type``);
- reductions and scalar indexing give 0-d device arrays, not scalars, and a
  0-d array has no ``__index__`` (``range(a)`` and ``lst[a]`` fail);
- ``cuda.Device``, ``cuda.runtime`` and a memory pool with CuPy's methods;
  the allocator is pluggable (``cuda.set_allocator``) as in CuPy, so RMM's
  ``rmm_cupy_allocator`` (``tests/fake_rmm.py``) takes over from the pool;
  the pool and RMM take their memory from the emulated device, whose size,
  name and compute capability are settable (:func:`configure`,
  :data:`PROFILES`: T4, RTX 4090, H100, H200), so a run that does not fit fails;
- the current device is per thread, arrays live on the device current when
  they were made, and a kernel refuses another device's arrays where peer
  access is off;
- ``cupy.cuda.compiler`` reads ``$CUPY_CACHE_DIR`` once, when CuPy is
  imported (:func:`install`), as CuPy's ``_DiskKernelCacheBackend`` does;
- ``ElementwiseKernel`` for one-statement operations (``y = max(a + b, (T)0)``),
  evaluated with NumPy's operators in C's left-to-right order;
- with ``virtual_bytes``, big arrays are shapes without elements, so runs at
  full size are emulated without computing gigabytes (see ``_virtual``).

It also counts what would cost time on a GPU (:data:`stats`): kernel
launches, host synchronisations (results read on the host, boolean masks,
``unique``/``nonzero`` whose output size depends on the data), host-to-device
copies, distinct kernel signatures (name, dtypes, ranks, the reduction variant
and CuPy's index width), which stand in for the kernels CuPy would compile on
a cold start, and the FLOPs of every matrix product (``2 m k n`` each). The counts are
approximate (one launch per CuPy call) and serve for before/after
comparisons, not as absolute figures.

The arithmetic is NumPy's, so results must equal the ``numpy`` backend's.
Which names real CuPy has is checked separately against CuPy itself
(``tests/gpu/test_cupy_api.py``), where CuPy imports.

Use :func:`installed` (a context manager) to put it in ``sys.modules``, or
:func:`install` for a whole process (``tests/gpu/emulated_site``).
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import os
import sys
import threading
import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__version__ = "14.2.0+numpy-emulation"
_HOST_ERROR = ("Implicit conversion to a NumPy array is not allowed. "
               "Please use `.get()` to construct a NumPy array explicitly.")


class OutOfMemoryError(MemoryError):
    """``cupy.cuda.memory.OutOfMemoryError``: a ``MemoryError``, as in CuPy."""


#: What the emulated device was asked to do since :func:`reset_stats`: kernel launches, host syncs,
#: host-to-device copies, kernel signatures, GEMM FLOPs, and launches that read an array kept on another
#: device than the current one (CuPy allows them where peer access is possible: slow, and easy to miss).
stats = {"launches": 0, "syncs": 0, "h2d": 0, "h2d_bytes": 0, "kernels": set(), "gemm_flops": 0, "cross_device": 0}


def reset_stats() -> None:
    stats.update(launches=0, syncs=0, h2d=0, h2d_bytes=0, kernels=set(), gemm_flops=0, cross_device=0)


#: CuPy indexes an array with 32-bit offsets while its bytes, and a kernel's loop while its elements,
#: are at most this (``_index_32_bits`` in ``cupy/_core/core.pyx``: ``size * itemsize <= 1 << 31`` for
#: an array it allocates, inherited by its views; ``Indexer.init`` in ``_carray.pyx``: ``size <= 1 << 31``).
INDEX_32_LIMIT = 1 << 31


def _launch(name: str, args=(), axis=None, scalars: bool = False) -> None:
    """Count one kernel launch and remember its signature (what CuPy compiles once).

    A signature is (name, dtypes, ranks, variant, index): the variant is the
    kernel a reduction takes, which depends on the size reduced
    (:func:`_reduction_variant`); the index is the widths CuPy compiles the
    kernel's array and loop indices with (:func:`_index_widths`).
    """
    stats["launches"] += 1
    arrays = [a for a in args if isinstance(a, (ndarray, np.ndarray))]
    here = _current_device()
    if any(isinstance(a, ndarray) and a._device != here for a in arrays):
        if not _machine["peer_access"]:
            other = next(a._device for a in arrays if isinstance(a, ndarray) and a._device != here)
            raise ValueError(f"The device where the array resides ({other}) is different from the current device "
                             f"({here}). Peer access is unavailable between these devices.")
        stats["cross_device"] += 1
    variant = _reduction_variant(name, arrays[0], axis) if name in _REDUCTIONS and arrays else ""
    # A custom kernel's Python-number arguments are CuPy scalars, compiled into another variant.
    dtypes = [str(a.dtype) if isinstance(a, (ndarray, np.ndarray)) else "scalar" for a in args] if scalars \
        else [str(a.dtype) for a in arrays]
    # CUB's precompiled and block reductions take raw pointers and an int32 segment size: no CArray widths.
    index = "32" if variant.startswith("cub") else _index_widths(arrays)
    signature = (name, tuple(dtypes), tuple(a.ndim for a in arrays), variant, index)
    if signature not in stats["kernels"] and name != "gemm" and variant != "cub-device":
        _cache_kernel(signature)
    stats["kernels"].add(signature)


def _index_32(a) -> bool:
    """Whether CuPy addresses ``a`` with 32-bit offsets (``_ndarray_base._index_32_bits``)."""
    if isinstance(a, ndarray):
        return a._index_32_bits
    return a.nbytes <= INDEX_32_LIMIT  # a host array (an index key): CuPy copies it to a new device array


def _index_widths(arrays) -> str:
    """``"32"``, or which of the kernel's ``CArray<..., 32-bit>`` arguments and ``CIndexer`` are 64-bit.

    As ``ElementwiseKernel.__call__`` (``cupy/_core/_kernel.pyx``): each array
    keeps the width it was allocated with (a view, its base's); an input
    broadcast to a loop of more than 2**31 bytes becomes 64-bit
    (``internal._broadcast_core``); the loop's ``CIndexer`` is 64-bit above
    2**31 elements. Each distinct answer is another kernel source, compiled
    apart (``CArray<T, N, c, 1>`` against ``<T, N, c, 0>``, ``CIndexer<N, 1>``
    against ``<N, 0>``: the last template argument is "32-bit").
    """
    if not arrays:
        return "32"
    shapes = [tuple(a.shape) for a in arrays]
    try:
        loop = np.broadcast_shapes(*shapes)
    except ValueError:  # a gather or scatter: its loop is the largest operand's
        loop = max(shapes, key=math.prod)
    elements = math.prod(loop)
    bits = [_index_32(a) and not (tuple(a.shape) != loop and elements * a.dtype.itemsize > INDEX_32_LIMIT)
            for a in arrays]
    loop_32 = elements <= INDEX_32_LIMIT
    if all(bits) and loop_32:
        return "32"
    return "CArray:" + "".join("1" if b else "0" for b in bits) + " CIndexer:" + ("1" if loop_32 else "0")


#: Where the emulated ``cupy.cuda.compiler`` caches kernels: read once, when ``cupy`` is imported
#: (:func:`install`), as CuPy 14.2's ``_DiskKernelCacheBackend()`` reads ``$CUPY_CACHE_DIR`` at the import
#: of ``cupy.cuda.compiler`` (``cupy/cuda/_compiler_cache.py``), and never again in that process.
_DEFAULT_CACHE_DIR = os.path.expanduser("~/.cupy/kernel_cache")
_compiler = types.SimpleNamespace(_kernel_cache_backend=types.SimpleNamespace(_cache_dir=_DEFAULT_CACHE_DIR,
                                                                              written=False))


def _cache_kernel(signature) -> None:
    """CuPy writes each kernel it compiles to its cache folder (one file, named by a hash of its source),
    so a kernel already there is not compiled again. The emulation writes there only where
    ``$CUPY_CACHE_DIR`` named the folder at import: never into the user's ``~/.cupy``."""
    backend = _compiler._kernel_cache_backend
    if backend.written:
        path = os.path.join(backend._cache_dir, hashlib.sha1(repr(signature).encode()).hexdigest() + ".cubin")
        if not os.path.exists(path):
            with open(path, "wb") as f:
                f.write(b"emulated")


#: Reductions that first try CUB's precompiled device reductions (``cub.cub_reduction`` in
#: ``cupy/_core/_routines_math.pyx`` and ``_routines_statistics.pyx``), and the dtypes CUB supports
#: (``CUB_sum_support_dtype*`` / ``CUB_support_dtype*`` in ``cupy/cuda/cub.pyx``).
_ROUTINE_CUB = {"sum": "sum", "prod": "sum", "mean": "sum", "max": "minmax", "min": "minmax", "amax": "minmax",
                "amin": "minmax", "ptp": "minmax", "argmax": "minmax", "argmin": "minmax"}
_CUB_DTYPES = {"sum": {"int64", "uint64", "float32", "float64"},
               "minmax": {"int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32",
                          "float64"}}
_REDUCTIONS = set(_ROUTINE_CUB) | {"any", "all", "count_nonzero", "var", "std", "nansum", "nanmax", "nanmin",
                                  "nanmean", "nanargmax", "nanargmin", "average", "norm"}
#: ``CUB_REDUCE_SIZE_THRESHOLD`` in ``cupy/_core/_cub_reduction.pyx``.
CUB_REDUCE_SIZE_THRESHOLD = 128


def _reduction_variant(name: str, a, axis) -> str:
    """The kernel CuPy 14.2 runs a reduction of ``a`` over ``axis`` with (``CUPY_ACCELERATORS=cub``, its default).

    - ``cub-device``: CUB's precompiled device (segmented) reduction, nothing compiled, for the
      routines above when the reduced axes are contiguous in memory (``cub.cub_reduction``);
    - ``cub-block-<threads>``: else, for contiguous reduced axes of at least 128 elements, a kernel
      compiled per block size, ``clp2(ceil(n / 4))`` within [32, 512] (``_can_use_cub_block_reduction``,
      ``_get_cub_block_specs``), ``-2pass`` for a whole-array reduction;
    - ``simple``: CuPy's own reduction kernel (one block size: no size dependence).
    """
    nd = a.ndim
    if nd == 0:
        return "simple"
    axes = tuple(range(nd)) if axis is None else tuple(sorted(int(x) % nd for x in np.atleast_1d(axis)))
    consecutive = axes == tuple(range(axes[0], axes[-1] + 1))
    contiguous = consecutive and ((a.flags.f_contiguous and axes[0] == 0)
                                  or (a.flags.c_contiguous and axes[-1] == nd - 1))
    whole = len(axes) == nd
    family = _ROUTINE_CUB.get(name)
    if (contiguous and family and str(a.dtype) in _CUB_DTYPES[family]
            and not (name in ("argmax", "argmin") and not whole)):
        return "cub-device"
    n = math.prod(a.shape[x] for x in axes)
    if contiguous and n >= CUB_REDUCE_SIZE_THRESHOLD:
        threads = min(max(1 << (-(-n // 4) - 1).bit_length(), 32), 512)
        return f"cub-block-{threads}" + ("-2pass" if whole else "")
    return "simple"


def _sync() -> None:
    stats["syncs"] += 1


class _Block:
    """A pool allocation; dropping it returns the bytes, as CuPy's ``MemoryPointer`` does."""

    def __init__(self, pool, nbytes):
        self.pool, self.nbytes = pool, nbytes

    def __del__(self):
        self.pool.free(self.nbytes)


#: Bytes taken from the emulated device with ``cudaMalloc``: CuPy's pool (what it holds, cached
#: blocks included) and RMM's upstream resource (``tests/fake_rmm.py``); ``mem_info`` reports the rest.
_device_taken = [0]


def cuda_malloc(nbytes: int, error=None) -> None:
    """Take ``nbytes`` from the emulated device, or raise ``error`` (CuPy's ``OutOfMemoryError``) when it is full."""
    free = _free_device_bytes()
    if nbytes > free:
        raise (error or OutOfMemoryError)(f"Out of memory allocating {nbytes:,} bytes (allocated so far: "
                                          f"{_device_taken[0]:,} bytes, free {free:,} of {device_bytes():,})")
    _device_taken[0] += nbytes


def cuda_free(nbytes: int) -> None:
    _device_taken[0] -= nbytes


def device_bytes_taken() -> int:
    """Bytes taken from the emulated device (pools' blocks, RMM's upstream, direct allocations), live or cached."""
    return _device_taken[0]


def _free_device_bytes() -> int:
    return device_bytes() - _machine["context_bytes"] - _device_taken[0]


class _MemoryPool:
    """CuPy's ``MemoryPool`` interface over the bytes of live emulated arrays.

    As in CuPy, ``total_bytes`` keeps the high-water mark until
    ``free_all_blocks``, a ``set_limit`` cap raises ``OutOfMemoryError``,
    and the pool takes from the device (:func:`cuda_malloc`) what it holds,
    so an allocation past the emulated device's memory fails too.
    """

    def __init__(self):
        self.limit = 0
        self.used = 0
        self.high = 0

    def malloc(self, nbytes: int) -> _Block:
        if self.limit and self.used + nbytes > self.limit:
            raise OutOfMemoryError(f"Out of memory allocating {nbytes:,} bytes (pool limit {self.limit:,})")
        grow = self.used + nbytes - self.high
        if grow > 0:
            cuda_malloc(grow)
            self.high += grow
        self.used += nbytes
        return _Block(self, nbytes)

    def free(self, nbytes: int) -> None:
        self.used -= nbytes

    def set_limit(self, size=None, fraction=None):
        self.limit = int(size or 0)

    def get_limit(self) -> int:
        return self.limit

    def used_bytes(self) -> int:
        return self.used

    def total_bytes(self) -> int:
        return self.high

    def free_bytes(self) -> int:
        return self.high - self.used

    def free_all_blocks(self) -> None:
        cuda_free(self.high - self.used)
        self.high = self.used


_POOL = _MemoryPool()
#: CuPy's allocator: its default pool's ``malloc`` until ``cuda.set_allocator`` replaces it.
_allocator = [_POOL.malloc]


def set_allocator(allocator=None) -> None:
    """``cupy.cuda.set_allocator``: None means plain device allocations, no pool."""
    _allocator[0] = allocator


def get_allocator():
    return _allocator[0]


class _DirectBlock:
    """An allocation without a pool (``cuda.set_allocator(None)``): ``cudaMalloc`` now, ``cudaFree`` when dropped."""

    def __init__(self, nbytes):
        cuda_malloc(nbytes)
        self.nbytes = nbytes

    def __del__(self):
        cuda_free(self.nbytes)


class ndarray(NDArrayOperatorsMixin):
    """A device array: a NumPy array that will not pass for one.

    It lives on the device current when it was made (``device``), and keeps
    CuPy's index width (``_index_32_bits``). A *virtual* array (``layout``
    given, see :func:`configure`'s ``virtual_bytes``) has a shape, dtype and
    strides but no elements: ``_a`` is then a read-only stand-in of zeros.
    """

    __array_priority__ = 1000

    def __init__(self, host: np.ndarray, layout=None, base=None):
        self._a, self._v, self._base = host, layout, base
        self._device = _current_device()
        if layout is None:
            # Views share memory in CuPy; only owners allocate. A view keeps its base's index width.
            owns = host.base is None
            root = host.base.nbytes if isinstance(host.base, np.ndarray) else 0
            self._index_32_bits = max(host.nbytes, root) <= INDEX_32_LIMIT
        else:
            owns = base is None
            self._index_32_bits = (base is None or base._index_32_bits) and host.nbytes <= INDEX_32_LIMIT
        allocate = _allocator[0]
        self._memory = None if not owns else allocate(host.nbytes) if allocate is not None \
            else _DirectBlock(host.nbytes)

    @property
    def device(self):
        return _Device(self._device)

    # The way back to the host, and the implicit ways CuPy refuses.
    def get(self, stream=None, order="C", out=None, blocking=True) -> np.ndarray:
        _sync()
        if self._v is not None:
            return np.zeros(self.shape, self.dtype)  # a virtual array's elements are unknown: zeros
        return self._a.copy(order="A" if order == "A" else "C")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(_HOST_ERROR)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _launch(f"{ufunc.__name__}.{method}", inputs)
        virtual = _virtual_ufunc(ufunc, method, inputs, kwargs)
        if virtual is not _REAL:
            return virtual
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_unwrap(o) for o in out)
        result = getattr(ufunc, method)(*_unwrap(inputs), **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        impl = getattr(_module, func.__name__, None)
        if impl is None:
            return NotImplemented
        return impl(*args, **kwargs)

    # Array attributes and methods, computed by NumPy, returned on the "device".
    @property
    def shape(self):
        return self._a.shape

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    @property
    def nbytes(self):
        return self._a.nbytes

    @property
    def T(self):
        return self.transpose()

    @property
    def flags(self):
        if self._v is not None:
            return self._v.flags
        return types.SimpleNamespace(c_contiguous=self._a.flags.c_contiguous,
                                     f_contiguous=self._a.flags.f_contiguous, owndata=self._a.base is None)

    def __getattr__(self, name):
        if name.startswith("_") or name not in _NDARRAY_METHODS:
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        method = getattr(self._a, name)

        def call(*args, **kwargs):
            _check_signature(name, (self, *args), kwargs)
            if name in _SYNCING:
                _sync()
            elif not (name in _FREE_METHODS or (name == "astype" and np.dtype(args[0]) == self.dtype
                                                 and kwargs.get("copy") is False)):
                _launch(name, (self, *args), kwargs.get("axis", args[0] if args and name in _REDUCTIONS else None))
            virtual = _virtual_call(name, getattr(np, name, method), (self, *args), kwargs)
            if virtual is not _REAL:
                return virtual
            return _wrap_result(method(*_unwrap(args), **_unwrap(kwargs)), (self,))

        return call

    def __getitem__(self, key):
        virtual = _virtual_getitem(self, key)
        if virtual is not _REAL:
            _index_cost(key)
            return virtual
        result = self._a[_unwrap(key, allow_host=True)]
        if _index_cost(key):
            # CuPy's gathers write a new C-ordered array (NumPy's may come out in another order).
            result = np.ascontiguousarray(result)
        return _wrap(result)

    def __setitem__(self, key, value):
        _launch("setitem", (self, value))
        _index_cost(key, write=True)
        if self._v is not None or _is_virtual(value):
            return  # no elements to write (a virtual target), or none to read: shapes only
        self._a[_unwrap(key, allow_host=True)] = _unwrap(value, allow_host=True)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    def __bool__(self):
        _sync()
        return bool(self._a)  # a virtual array's zeros

    def __int__(self):
        _sync()
        return int(self._a)

    def __float__(self):
        _sync()
        return float(self._a)

    def __repr__(self):
        if self._v is not None:
            return f"virtual array(shape={self.shape}, dtype={self.dtype}) on the emulated device"
        return f"array({self._a!r}) on the emulated device"


ndarray.__module__ = "cupy"
_NDARRAY_METHODS = frozenset({
    "all", "any", "argmax", "argmin", "argpartition", "argsort", "astype", "clip", "copy", "cumsum",
    "diagonal", "dot", "fill", "flatten", "item", "max", "mean", "min", "nonzero", "prod", "ravel",
    "repeat", "reshape", "round", "searchsorted", "sort", "squeeze", "std", "sum", "swapaxes", "take",
    "tolist", "transpose", "var", "view",
})
#: Methods that only change the view of the same memory (no kernel).
_FREE_METHODS = frozenset({"ravel", "reshape", "squeeze", "swapaxes", "transpose", "view"})
#: Calls whose result goes to the host or whose size depends on the data: the host waits.
_SYNCING = frozenset({"item", "tolist", "nonzero", "flatnonzero", "argwhere", "unique", "extract", "compress"})


def _index_cost(key, write: bool = False) -> bool:
    """A gather for array indices; a boolean mask also syncs (its size comes back to the host)."""
    keys = key if isinstance(key, tuple) else (key,)
    arrays = [k for k in keys if isinstance(k, (ndarray, np.ndarray))]
    if any(k.dtype == bool for k in arrays):
        _sync()
    if arrays and not write:
        _launch("take", arrays)
    return bool(arrays)


def _unwrap(x, allow_host: bool = False):
    """Device arrays to their NumPy arrays; NumPy arrays refused, as CuPy refuses them."""
    if isinstance(x, ndarray):
        return x._a
    if isinstance(x, np.ndarray):
        if allow_host:
            return x
        raise TypeError(f"Unsupported type {type(x)}")
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v, allow_host) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v, allow_host) for k, v in x.items()}
    return x


def _wrap(x):
    """NumPy results back on the "device"; NumPy scalars become 0-d arrays, as in CuPy."""
    if isinstance(x, np.ndarray):
        return ndarray(x)
    if isinstance(x, np.generic):
        return ndarray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


def _wrap_result(result, inputs):
    """``_wrap``, except that an input returned as is (``astype(same dtype, copy=False)``,
    ``ascontiguousarray`` of a contiguous array) is that same device array, as in CuPy:
    wrapping its buffer again would count a second allocation in the pool."""
    for x in inputs:
        if isinstance(x, ndarray) and result is x._a:
            return x
    return _wrap(result)


# -- Virtual arrays: shapes without elements ------------------------------------------------------
# A full-size run makes matrices of gigabytes (10,000 x 300,000 float32 distances); with
# ``configure(virtual_bytes=N)`` an array of N bytes or more that an operation would make is *virtual*:
# it has CuPy's shape, dtype, strides, memory (counted by the pool or RMM) and index width, but no
# elements, and operations on it work out their results' shapes and dtypes by NumPy's rules instead
# of computing. A result under N bytes computed from a virtual array holds zeros. Kernel signatures,
# allocations and peaks are those of the real run; figures are not. An operation without a rule here
# fails by name (NotImplementedError), so a gap shows instead of passing unseen.

_REAL = object()  # "no virtual rule applied: compute with NumPy"


class _Layout:
    """A virtual array's strides and contiguity (its shape and dtype are its zero stand-in's)."""

    def __init__(self, shape, dtype, strides):
        ghost = np.lib.stride_tricks.as_strided(np.empty(1, dtype), shape, strides, writeable=False)
        self.strides = tuple(strides)
        # Flags of a metadata-only view: NumPy computes them from shape and strides, reading nothing.
        self.flags = types.SimpleNamespace(c_contiguous=ghost.flags.c_contiguous,
                                           f_contiguous=ghost.flags.f_contiguous, owndata=True)


def _virtual_on() -> bool:
    return _machine["virtual_bytes"] is not None


def _is_virtual(x) -> bool:
    if isinstance(x, ndarray):
        return x._v is not None
    return isinstance(x, (list, tuple)) and any(_is_virtual(v) for v in x)


def _big(shape, dtype) -> bool:
    return math.prod(shape) * np.dtype(dtype).itemsize >= _machine["virtual_bytes"]


def _contiguous_strides(shape, itemsize: int, order: str = "C"):
    strides, step = [], itemsize
    dims = reversed(shape) if order == "C" else shape
    for n in dims:
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides)) if order == "C" else tuple(strides)


def _virtual(shape, dtype, strides=None, base=None) -> ndarray:
    """A virtual array: a new allocation, or (``base``) a view of one."""
    dtype = np.dtype(dtype)
    shape = tuple(int(n) for n in shape)
    strides = strides if strides is not None else _contiguous_strides(shape, dtype.itemsize)
    return ndarray(np.broadcast_to(np.zeros((), dtype), shape), _Layout(shape, dtype, strides), base)


def _result(shape, dtype, order: str = "C") -> ndarray:
    """A new array an operation on virtual inputs makes: virtual when big, else zeros."""
    dtype = np.dtype(dtype)
    if _big(shape, dtype):
        return _virtual(shape, dtype, _contiguous_strides(tuple(shape), dtype.itemsize, order))
    return ndarray(np.zeros(shape, dtype, order=order))


def _view(a: ndarray, apply) -> ndarray:
    """A view of virtual ``a``: ``apply`` runs on a metadata-only NumPy view with its strides
    (slicing, transposing, broadcasting never read elements)."""
    ghost = np.lib.stride_tricks.as_strided(np.empty(1, a.dtype), a.shape, a._v.strides, writeable=False)
    out = apply(ghost)
    base = a if a._v.flags.owndata else a._base
    view = _virtual(out.shape, a.dtype, out.strides, base=base)
    view._v.flags.owndata = False
    view._base = base
    return view


def _sample(x):
    """A one-element stand-in of ``x`` for working out a result's dtype (Python scalars stay weak)."""
    if isinstance(x, (ndarray, np.ndarray)):
        return np.zeros((), x.dtype)
    return x


def _reduced_shape(shape, axis, keepdims=False):
    nd = len(shape)
    axes = set(range(nd)) if axis is None else {int(x) % nd for x in np.atleast_1d(axis)}
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _virtual_ufunc(ufunc, method, inputs, kwargs):
    if not (_virtual_on() and (_is_virtual(inputs) or _is_virtual(kwargs.get("out")))):
        return _REAL
    out = kwargs.get("out")
    if method == "__call__":
        shape = np.broadcast_shapes(*(np.shape(x) for x in inputs))
        dtypes = ufunc(*(_sample(x) for x in inputs), **{k: v for k, v in kwargs.items() if k != "out"})
        if out is not None:
            return out[0] if len(out) == 1 else out
        if ufunc.nout == 1:
            made = _result(shape, dtypes.dtype)
            if ufunc is np.isfinite and not _is_virtual(made):
                made._a[...] = True  # virtual data stand for valid, finite data (see the ``all`` rule)
            return made
        return tuple(_result(shape, d.dtype) for d in dtypes)
    if method == "reduce":
        a = inputs[0]
        dtype = ufunc.reduce(np.zeros((1,) * a.ndim, a.dtype), **{k: v for k, v in kwargs.items() if k != "out"})
        return _result(_reduced_shape(a.shape, kwargs.get("axis", 0), kwargs.get("keepdims", False)),
                       np.asarray(dtype).dtype)
    raise NotImplementedError(f"emulated CuPy, virtual arrays: no shape rule for {ufunc.__name__}.{method}")


#: New arrays, virtual when big.
_V_MAKE = {"empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like", "full_like", "arange"}
#: Reductions: the result drops (or keeps as 1, ``keepdims``) the reduced axes.
_V_REDUCE = {"sum", "prod", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "any", "all",
             "count_nonzero", "var", "std", "nansum", "nanmax", "nanmin", "nanmean", "ptp"}
#: Same shape as the input (``axis=None`` flattens, for the scans and sorts).
_V_SAME = {"sort", "argsort", "argpartition", "cumsum", "cumprod", "copy", "clip", "round", "nan_to_num",
           "ascontiguousarray", "asfortranarray", "astype", "fill"}


def _virtual_call(name, numpy_function, args, kwargs):
    """The result of ``name(*args, **kwargs)`` by shape rules when an argument is virtual (or the result
    is a big new array), else ``_REAL``."""
    if not _virtual_on() or name in ("shape", "ndim", "size", "result_type", "iinfo", "finfo", "dtype"):
        return _REAL
    if name in _V_MAKE:
        settings = {k: v for k, v in kwargs.items() if k not in ("shape", "order")}
        if name == "arange":
            made = numpy_function(*args, **kwargs)  # small enough to make: the sizes of the runs' ranges
            shape, dtype = made.shape, made.dtype
        elif name.endswith("_like"):
            like = args[0]
            shape = kwargs.get("shape", like.shape)
            dtype = numpy_function(np.zeros(0, like.dtype), *args[1:], **settings).dtype
        else:  # empty, zeros, ones, full: the dtype NumPy gives an empty array made the same way
            shape = (args[0],) if np.isscalar(args[0]) else tuple(args[0])
            dtype = numpy_function((0,), *args[1:], **settings).dtype
        if not (_big(shape, dtype) or _is_virtual(args[:1])):
            return _REAL
        return _result(shape, dtype, "F" if kwargs.get("order") == "F" else "C")
    if not (_is_virtual(args) or _is_virtual(list(kwargs.values()))):
        return _REAL
    if isinstance(numpy_function, np.ufunc):  # cupy.less_equal(a, b, out=...): CuPy's ufuncs, as a @ b or a <= b
        return _virtual_ufunc(numpy_function, "__call__", args,
                              {**kwargs, "out": (kwargs["out"],)} if "out" in kwargs else kwargs)
    a = args[0]
    if name in _V_REDUCE:
        axis = kwargs.get("axis", args[1] if len(args) > 1 else None)
        keepdims = kwargs.get("keepdims", False)
        rest = {k: v for k, v in kwargs.items() if k not in ("out",)}
        sample = numpy_function(np.zeros((1,) * a.ndim, a.dtype), *args[1:], **rest)
        out = _result(_reduced_shape(a.shape, axis, keepdims), np.asarray(sample).dtype)
        if name == "all" and not _is_virtual(out):
            # A virtual array stands for valid data that are not kept (a full-size augmented set, written
            # block by block): checks such as ``isfinite(X).all()`` pass on it, as on the data it stands for.
            out._a[...] = True
        return out
    if name in _V_SAME:
        axis = kwargs.get("axis", "same")
        if name == "fill":
            return None
        if name == "astype":
            dtype = np.dtype(args[1] if len(args) > 1 else kwargs["dtype"])
            if dtype == a.dtype and kwargs.get("copy") is False:
                return a
        elif name in ("argsort", "argpartition"):
            dtype = np.dtype(np.intp)
        elif name in ("cumsum", "cumprod"):
            dtype = np.cumsum(np.zeros(1, a.dtype), dtype=kwargs.get("dtype")).dtype
            axis = kwargs.get("axis", args[1] if len(args) > 1 else None)
        else:
            dtype = a.dtype
        shape = (a.size,) if axis is None else a.shape
        order = kwargs.get("order", "K" if name in ("astype", "clip", "round", "nan_to_num") else "C")
        if order in ("K", "A"):  # CuPy's astype keeps an F-ordered array's layout
            order = "F" if a.flags.f_contiguous and not a.flags.c_contiguous else "C"
        return _result(shape, dtype, "F" if axis is not None and order == "F" else "C")
    if name in ("reshape", "ravel", "flatten"):
        new = (-1,) if name != "reshape" else (args[1:] if len(args) > 2 else args[1] if len(args) > 1
                                              else kwargs["shape"] if "shape" in kwargs else kwargs["newshape"])
        shape = np.empty(a.shape, "V0").reshape(new).shape  # itemsize 0: resolves -1, reads nothing
        if name != "flatten" and a._v.flags.c_contiguous:
            return _view(a, lambda g: np.lib.stride_tricks.as_strided(
                g, shape, _contiguous_strides(shape, a.dtype.itemsize)))
        return _result(shape, a.dtype)
    if name == "flatnonzero":
        # The count a virtual mask selects is unknown. The searches' masks select candidate pairs, a few
        # per query, gathered into arrays far below the virtual size whatever their count: no memory peak
        # or index width depends on it, so the emulation takes none (the searches return zeros anyway).
        return ndarray(np.zeros(0, np.intp))
    if name in ("transpose", "swapaxes", "squeeze", "expand_dims", "broadcast_to", "moveaxis"):
        return _view(a, lambda g: getattr(np, name)(g, *args[1:], **kwargs))
    if name == "take_along_axis":
        idx, axis = args[1], kwargs.get("axis", args[2] if len(args) > 2 else None)
        shape = np.broadcast_shapes(tuple(idx.shape[i] if i == axis % a.ndim else n for i, n in enumerate(a.shape)),
                                    idx.shape)
        return _result(shape, a.dtype)
    if name == "take":
        idx, axis = args[1], kwargs.get("axis", args[2] if len(args) > 2 else None)
        shape = np.shape(idx) if axis is None else a.shape[:axis] + np.shape(idx) + a.shape[axis + 1:]
        return _result(shape, a.dtype)
    if name == "searchsorted":
        return _result(np.shape(args[1]), np.intp)
    if name == "where" and len(args) == 3:
        shape = np.broadcast_shapes(*(np.shape(x) for x in args))
        return _result(shape, np.where(True, _sample(args[1]), _sample(args[2])).dtype)
    if name in ("concatenate", "stack", "vstack", "hstack"):
        parts = [np.empty(np.shape(x), "V0") for x in a]
        shape = numpy_function(parts, *args[1:], **kwargs).shape
        return _result(shape, np.result_type(*(_sample(x) for x in a)))
    if name in ("get", "asnumpy", "tolist", "item"):
        host = np.zeros(a.shape, a.dtype)
        return host.tolist() if name == "tolist" else host.item() if name == "item" else host
    raise NotImplementedError(f"emulated CuPy, virtual arrays: no shape rule for {name}")


def _index_shape(shape, key) -> tuple:
    """The shape NumPy gives ``a[key]`` for ``a`` of ``shape`` (slices, integers, None, Ellipsis, integer
    and boolean arrays), worked out without touching elements."""
    key = list(key) if isinstance(key, tuple) else [key]
    used = sum(np.ndim(k) if getattr(k, "dtype", None) == bool else 0 if k is None or k is Ellipsis else 1
               for k in key)
    if any(k is Ellipsis for k in key):
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        key[i:i + 1] = [slice(None)] * (len(shape) - used)
    else:
        key += [slice(None)] * (len(shape) - used)
    out, advanced, positions, dim = [], [], [], 0
    for k in key:
        if k is None:
            out.append(1)
        elif isinstance(k, slice):
            out.append(len(range(*k.indices(shape[dim]))))
            dim += 1
        elif getattr(k, "dtype", None) == bool:
            if _is_virtual(k):
                raise NotImplementedError("emulated CuPy, virtual arrays: a virtual mask selects an unknown count")
            count = int(np.count_nonzero(_unwrap(k, allow_host=True)))
            advanced.append((count,))
            positions.append(len(out))
            dim += np.ndim(k)
        elif np.ndim(k) == 0 and not isinstance(k, ndarray):
            dim += 1  # an integer drops its axis
        else:
            advanced.append(np.shape(k))
            positions.append(len(out))
            dim += 1
    if not advanced:
        return tuple(out)
    broadcast = list(np.broadcast_shapes(*advanced))
    # Advanced indices next to each other put their shape in place; apart, in front (NumPy's rule).
    at = positions[0] if len(set(positions)) == 1 else 0
    return tuple(out[:at] + broadcast + out[at:])


def _virtual_getitem(a: ndarray, key):
    if not _virtual_on() or not (a._v is not None or _is_virtual(key if isinstance(key, tuple) else (key,))):
        return _REAL
    keys = key if isinstance(key, tuple) else (key,)
    basic = all(k is None or k is Ellipsis or isinstance(k, slice) or (np.ndim(k) == 0 and not isinstance(k, ndarray))
                for k in keys)
    if basic and a._v is not None:
        return _view(a, lambda g: g[key])
    return _result(_index_shape(a.shape, key), a.dtype)


def result_type(*arrays_and_dtypes):
    """CuPy's: a device array counts by its dtype, anything else (a NumPy array, a dtype) goes to NumPy as is."""
    return np.result_type(*(a.dtype if isinstance(a, ndarray) else a for a in arrays_and_dtypes))


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    """Host data (NumPy arrays, lists, scalars) or device arrays onto the device.

    A device array kept on another device is copied onto the current one
    (``_array_from_cupy_ndarray`` in ``cupy/_core/core.pyx``).
    """
    if isinstance(a, ndarray):
        here = a._device == _current_device()
        if here and (dtype is None or a.dtype == dtype) and (order in (None, "K", "A")
                                                             or getattr(a.flags, f"{order.lower()}_contiguous")):
            return a
        if here:
            _launch("astype", (a,))
        # From another device: a copy between devices (cudaMemcpyPeer), no kernel, no peer access needed.
        if _virtual_on() and a._v is not None:
            return _result(a.shape, dtype or a.dtype, "F" if order == "F" else "C")
        return ndarray(np.array(a._a, dtype=dtype, order=order or "K"))
    if isinstance(a, (list, tuple)):
        a = _unwrap(a, allow_host=True)
    stats["h2d"] += 1
    if _virtual_on() and isinstance(a, np.ndarray) and _big(a.shape, dtype or a.dtype):
        stats["h2d_bytes"] += math.prod(a.shape) * np.dtype(dtype or a.dtype).itemsize
        return _result(a.shape, dtype or a.dtype)
    # CuPy converts a NumPy array to ``dtype`` on the host, then sends it
    # (``_array_default`` in ``cupy/_core/core.pyx``): the bytes sent are the converted array's.
    host = np.array(a, dtype=dtype, order=order or "K", copy=True)
    stats["h2d_bytes"] += host.nbytes
    return ndarray(host)


def array(a, dtype=None, copy=True, order="K", ndmin=0):
    """A new device array (always a copy, as a host-to-device transfer is)."""
    if isinstance(a, ndarray):
        _launch("copy", (a,))
        if a._v is not None:
            return _result((1,) * (ndmin - a.ndim) + a.shape, dtype or a.dtype, "F" if order == "F" else "C")
    else:
        stats["h2d"] += 1
    return ndarray(np.array(_unwrap(a, allow_host=True), dtype=dtype, order=order, ndmin=ndmin))


def asfortranarray(a, dtype=None):
    return asarray(a, dtype=dtype, order="F")


def ascontiguousarray(a, dtype=None):
    return asarray(a, dtype=dtype, order="C")


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    return a.get() if isinstance(a, ndarray) else np.asarray(a)


def _c_to_python(expression: str) -> str:
    """A C expression as Python on NumPy arrays: ``(T)`` casts dropped, ``c ? a : b`` as ``where``."""
    expression = expression.replace("(T)", "").strip()
    depth, question = 0, None
    for i, ch in enumerate(expression):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "?" and depth == 0:
            question = i
            break
    if question is None:
        return expression
    depth, rest = 0, expression[question + 1:]
    for i, ch in enumerate(rest):
        depth += ch == "("
        depth -= ch == ")"
        if ch == ":" and depth == 0:
            return (f"where({_c_to_python(expression[:question])}, {_c_to_python(rest[:i])}, "
                    f"{_c_to_python(rest[i + 1:])})")
    raise NotImplementedError(f"unbalanced ternary in {expression!r}")


def _is_dtype_name(name: str) -> bool:
    """``float32``, ``int64``... name a dtype; ``T``, ``U`` are type variables."""
    try:
        np.dtype(name)
    except TypeError:
        return False
    return len(name) > 1


def _params(spec: str):
    """``"T x, float32 y"`` as [(name, type)]."""
    return [(p.split()[-1], p.split()[-2]) for p in spec.split(",") if p.strip()]


class ElementwiseKernel:
    """``cupy.ElementwiseKernel`` whose C body NumPy evaluates, statement by statement.

    The body may hold statements ``out = expr``, ``out += expr`` (``-=``,
    ``*=``) separated by ``;``; expressions may use the parameters,
    arithmetic, comparisons, ``c ? a : b``, ``(T)`` casts and
    ``max``/``min``/``sqrt``. Each statement runs on whole arrays, which
    equals running the body per element because no element reads another.
    C evaluates ``a + b + c`` left to right, as Python does. Inputs
    broadcast and outputs may be passed (and read), as in CuPy.
    """

    _FUNCTIONS = {"max": np.maximum, "min": np.minimum, "sqrt": np.sqrt, "where": np.where,
                  "exp": np.exp, "log": np.log, "abs": np.abs}

    def __init__(self, in_params: str, out_params: str, operation: str, name: str = "kernel", **kwargs):
        self.inputs, self.outputs = _params(in_params), _params(out_params)
        self.statements = []
        for statement in (part.strip() for part in operation.split(";")):
            if not statement:
                continue
            target, op, expression = None, None, None
            for candidate in ("+=", "-=", "*=", "="):
                if candidate in statement:
                    target, expression = (x.strip() for x in statement.split(candidate, 1))
                    op = candidate
                    break
            if target not in {n for n, _ in self.outputs}:
                raise NotImplementedError(f"the emulation assigns only outputs, got {statement!r}")
            self.statements.append((target, op, _c_to_python(expression)))
        self.name = name

    def _bind(self, inputs, outputs) -> dict:
        """Type names to dtypes, as CuPy's ``_decide_params_type_core`` binds them: outputs first, then
        inputs; an array whose dtype differs from its name's binding is ``TypeError: Type is mismatched``
        (no promotion); Python scalars take the binding."""
        bound = {}
        for params, args in ((self.outputs, outputs), (self.inputs, inputs)):
            for (name, type_name), a in zip(params, args):
                if not isinstance(a, (ndarray, np.ndarray)):
                    continue
                explicit = type_name not in bound and _is_dtype_name(type_name)
                want = np.dtype(type_name) if explicit else bound.get(type_name)
                if want is not None and a.dtype != want:
                    raise TypeError(f"Type is mismatched. {name} {a.dtype} {want} {type_name}")
                bound.setdefault(type_name, a.dtype)
        return bound

    def __call__(self, *args, **kwargs):
        if _machine["compile_error"] is not None:  # CuPy compiles at the first call, not at construction
            raise _machine["compile_error"]
        n_in = len(self.inputs)
        inputs, outputs = list(args[:n_in]), list(args[n_in:])
        bound = self._bind(inputs, outputs)
        _launch(self.name, inputs + outputs, scalars=True)
        if _virtual_on() and any(_is_virtual(a) for a in inputs + outputs):
            shape = np.broadcast_shapes(*(np.shape(a) for a in inputs + outputs))
            made = [_result(shape, bound.get(t, t)) for _, t in self.outputs[len(outputs):]]
            results = outputs + made
            return results[0] if len(results) == 1 else tuple(results)
        arrays = [_unwrap(a) for a in inputs + outputs]
        scope = {}
        for (name, type_name), a in zip(self.inputs, arrays):
            scope[name] = a if isinstance(a, np.ndarray) else np.asarray(a, dtype=bound.get(type_name, type_name))
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
        targets = {}
        for i, (name, type_name) in enumerate(self.outputs):
            if i < len(outputs):
                targets[name] = _unwrap(outputs[i])
            else:
                targets[name] = np.zeros(shape, dtype=bound.get(type_name, type_name))
            scope[name] = targets[name].copy()
        with np.errstate(all="ignore"):
            for target, op, expression in self.statements:
                value = eval(expression, {"__builtins__": {}, **self._FUNCTIONS}, scope)  # noqa: S307
                current = scope[target]
                if op == "+=":
                    value = current + value
                elif op == "-=":
                    value = current - value
                elif op == "*=":
                    value = current * value
                scope[target] = np.asarray(value).astype(current.dtype, copy=False)
        for name, array in targets.items():
            array[...] = scope[name]
        results = [outputs[i] if i < len(outputs) else ndarray(targets[name])
                   for i, (name, _) in enumerate(self.outputs)]
        return results[0] if len(results) == 1 else tuple(results)


class ReductionKernel:
    """``cupy.ReductionKernel`` for the sums, maxima and minima of a mapped expression."""

    _REDUCE = {"a + b": np.sum, "max(a, b)": np.max, "min(a, b)": np.min}

    def __init__(self, in_params, out_params, map_expr, reduce_expr, post_map_expr, identity, name="reduce",
                 **kwargs):
        if reduce_expr.replace(" ", "") not in {k.replace(" ", "") for k in self._REDUCE}:
            raise NotImplementedError(f"the emulation reduces with + or max/min, got {reduce_expr!r}")
        self.inputs, self.outputs = _params(in_params), _params(out_params)
        self.map = _c_to_python(map_expr)
        self.reduce = next(f for k, f in self._REDUCE.items() if k.replace(" ", "") == reduce_expr.replace(" ", ""))
        if post_map_expr.replace(" ", "") != f"{self.outputs[0][0]}=a":
            raise NotImplementedError("the emulation's post-map is the identity")
        self.name = name

    def __call__(self, *args, axis=None, out=None, keepdims=False, **kwargs):
        _launch(self.name, args, scalars=True)
        if _virtual_on() and any(_is_virtual(a) for a in args):
            shape = _reduced_shape(np.broadcast_shapes(*(np.shape(a) for a in args)), axis, keepdims)
            dtype = next((a.dtype for a in args if isinstance(a, ndarray)), np.float64)
            return out if out is not None else _result(shape, dtype)
        arrays = [_unwrap(a) for a in args]
        scope = dict(zip((n for n, _ in self.inputs), arrays))
        with np.errstate(all="ignore"):
            mapped = np.asarray(eval(self.map, {"__builtins__": {}, **ElementwiseKernel._FUNCTIONS}, scope))  # noqa: S307
        result = self.reduce(mapped, axis=axis, keepdims=keepdims)
        if out is not None:
            _unwrap(out)[...] = result
            return out
        return _wrap(np.asarray(result))


def get_default_memory_pool() -> _MemoryPool:
    return _POOL


class _Device:
    """``cupy.cuda.Device``: the emulated machine's devices (:func:`configure`); ``Device()`` is the current one."""

    def __init__(self, device=None):
        self.id = _current_device() if device is None else int(device)
        if not 0 <= self.id < _machine["devices"]:
            raise _machine["error"](f"cudaErrorInvalidDevice: invalid device ordinal {self.id}")
        self.compute_capability = _machine["compute_capability"]

    @property
    def mem_info(self):
        """(free, total) as ``cudaMemGetInfo``: less the CUDA context and what the pool or RMM took."""
        return _free_device_bytes(), device_bytes()

    def use(self) -> None:
        _thread.device = self.id

    def __enter__(self):
        self._previous = _current_device()
        self.use()
        return self

    def __exit__(self, *exc):
        _thread.device = self._previous

    def synchronize(self) -> None:
        _sync()


class CUDARuntimeError(RuntimeError):
    """``cupy_backends.cuda.api.runtime.CUDARuntimeError``."""


#: The emulated machine: devices, their name, memory and compute capability, driver and runtime
#: versions, the memory the CUDA context keeps, whether devices reach each other's memory, what fails
#: (tests change these to imitate a machine without a driver or without NVRTC), and from which size
#: arrays are virtual (None: never; see ``_virtual``).
_machine = {"devices": 1, "name": "Emulated GPU (NumPy)", "device_bytes": 80 * 2**30, "compute_capability": "90",
            "context_bytes": 0, "driver": 13000, "runtime": 13000, "peer_access": True, "error": CUDARuntimeError,
            "compile_error": None, "gemm_error": None, "virtual_bytes": None}

#: GPUs readers and this project run the chapter on, as CUDA reports them: ``totalGlobalMem`` (nvidia-smi's
#: MiB), compute capability, and a driver and CuPy build of the CUDA major version such machines have.
#: ``context_bytes`` is what the CUDA context, cuBLAS's workspace and the driver keep on the device
#: (an estimate: 300-600 MiB is usual; not measured here, where no GPU was lent).
PROFILES = {
    "t4": dict(name="Tesla T4", device_bytes=15360 * 2**20, compute_capability="75", driver=12040,
               runtime=12090, context_bytes=512 * 2**20),  # Colab: CUDA 12 driver, cupy-cuda12x
    "rtx4090": dict(name="NVIDIA GeForce RTX 4090", device_bytes=24564 * 2**20, compute_capability="89",
                    driver=12080, runtime=12090, context_bytes=512 * 2**20),
    "h100": dict(name="NVIDIA H100 80GB HBM3", device_bytes=81559 * 2**20, compute_capability="90", driver=13000,
                 runtime=13000, context_bytes=512 * 2**20),  # the lent machine: CUDA 13 driver, cupy-cuda13x
    "h200": dict(name="NVIDIA H200", device_bytes=143771 * 2**20, compute_capability="90", driver=13000,
                 runtime=13000, context_bytes=512 * 2**20),
}

#: The current device is per host thread, as CUDA's: a new thread (Dask's communication thread, say)
#: starts on device 0 whatever another thread chose with ``Device(n).use()``.
_thread = threading.local()


def _current_device() -> int:
    return getattr(_thread, "device", 0)


def device_bytes() -> int:
    """The emulated device's memory (``totalGlobalMem``)."""
    return _machine["device_bytes"]


def _device_count() -> int:
    # CUDA's minor-version compatibility: an older driver of the same major version runs.
    if _machine["driver"] // 1000 < _machine["runtime"] // 1000:
        # What CuPy reports with no driver, or too old a one.
        raise CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient for "
                               "CUDA runtime version")
    return _machine["devices"]


_runtime = types.SimpleNamespace(
    getDeviceCount=_device_count,
    getDeviceProperties=lambda i: {"name": _machine["name"].encode(), "totalGlobalMem": device_bytes()},
    driverGetVersion=lambda: _machine["driver"],
    runtimeGetVersion=lambda: _machine["runtime"],
    CUDARuntimeError=CUDARuntimeError,
)


def _check_signature(name: str, args: tuple, kwargs: dict) -> None:
    """Refuse what CuPy 14 refuses where NumPy accepts it. ``args`` start with the array (methods: ``self``).

    - ``take_along_axis(a, indices, axis)`` has no default axis (cupy/_indexing/indexing.py);
    - ``sort``/``argsort`` take ``kind`` None or "stable" only (``_ndarray_base._check_kind_sort``);
    - ``reshape`` takes integers only: its shape becomes a C++ ``shape_t`` (``_routines_manipulation._reshape``),
      where NumPy reads ``None`` as "keep the shape".
    """
    if name == "take_along_axis" and len(args) < 3 and "axis" not in kwargs:
        raise TypeError("take_along_axis() missing 1 required positional argument: 'axis'")
    if name in ("sort", "argsort"):
        kind = kwargs.get("kind", args[2] if len(args) > 2 else None)
        if kind is not None and kind != "stable":
            raise ValueError("kind can only be None or 'stable'")
    if name == "reshape":
        new = args[1:] if len(args) > 2 else args[1] if len(args) > 1 else kwargs.get("shape", kwargs.get("newshape"))
        if new is None or (isinstance(new, (tuple, list)) and any(n is None for n in new)):
            raise TypeError("'NoneType' object cannot be interpreted as an integer")


def _function(name, numpy_function):
    def call(*args, **kwargs):
        _check_signature(name, args, kwargs)
        if name in _SYNCING:
            _sync()
        elif isinstance(numpy_function, np.ufunc):  # cupy.less_equal(a, b, out=c) is a <= b's kernel
            _launch(f"{name}.__call__", args)
        elif name not in _FREE_FUNCTIONS:
            _launch(name, args, kwargs.get("axis", args[1] if len(args) > 1 and name in _REDUCTIONS else None))
        virtual = _virtual_call(name, numpy_function, args, kwargs)
        if virtual is not _REAL:
            return virtual
        return _wrap_result(numpy_function(*_unwrap(args), **_unwrap(kwargs)), args)

    call.__name__ = name
    return call


#: Functions that make no kernel (views, metadata) or are only a host-side wrapper.
_FREE_FUNCTIONS = frozenset({"reshape", "ravel", "broadcast_to", "squeeze", "expand_dims", "swapaxes",
                             "transpose", "result_type", "shape", "ndim", "iinfo", "finfo", "dtype"})


class _CupyModule(types.ModuleType):
    """Top-level names: ours above, else NumPy's function of that name, wrapped."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        value = getattr(np, name)  # AttributeError for names NumPy lacks
        if isinstance(value, type) or not callable(value):
            return value  # dtypes (cupy.float32 is numpy.float32), nan, inf
        return _function(name, value)


_module = _CupyModule("cupy", __doc__)
def _matmul(a, b, out=None):
    if _machine["gemm_error"] is not None:
        raise _machine["gemm_error"]
    _launch("gemm", (a, b))
    # (..., m, k) @ (k, n): 2 m k n per matrix of the batch.
    stats["gemm_flops"] += 2 * int(np.prod(a.shape[:-1])) * a.shape[-1] * b.shape[-1]
    shape = (*a.shape[:-1], b.shape[-1])
    if _virtual_on() and (_is_virtual(a) or _is_virtual(b) or out is not None and _is_virtual(out)
                          or _big(shape, np.result_type(a.dtype, b.dtype))):
        return out if out is not None else _result(shape, np.result_type(a.dtype, b.dtype))
    if out is not None:  # CuPy writes into out, as NumPy does
        np.matmul(_unwrap(a), _unwrap(b), out=_unwrap(out))
        return out
    return _wrap(np.matmul(_unwrap(a), _unwrap(b)))


def _get_compute_type(dtype):
    """``cupy._core._routines_linalg.get_compute_type``: TF32 for float32 where ``CUPY_TF32`` > 0 (read as CuPy
    reads it; CuPy then keeps its first answer, the emulation asks again each time)."""
    if np.dtype(dtype).char in "fF" and int(os.getenv("CUPY_TF32", "0")) > 0:
        return _linalg.COMPUTE_TYPE_TF32
    return _linalg.compute_types.get(np.dtype(dtype).char, _linalg.COMPUTE_TYPE_DEFAULT)


#: ``cupy._core._routines_linalg``'s compute types (CuPy 14.2) and their getter and setter.
_linalg = types.SimpleNamespace(
    COMPUTE_TYPE_TBD=0, COMPUTE_TYPE_DEFAULT=1, COMPUTE_TYPE_PEDANTIC=2, COMPUTE_TYPE_FP16=3, COMPUTE_TYPE_FP32=4,
    COMPUTE_TYPE_FP64=5, COMPUTE_TYPE_BF16=6, COMPUTE_TYPE_TF32=7, compute_types={},
    get_compute_type=_get_compute_type,
    set_compute_type=lambda dtype, kind: _linalg.compute_types.__setitem__(np.dtype(dtype).char, kind),
)


class MemoryPointer:
    """``cupy.cuda.MemoryPointer`` over an ``UnownedMemory``: keeps its owner alive."""

    def __init__(self, mem, offset):
        self.mem, self.offset = mem, offset


class UnownedMemory:
    def __init__(self, ptr, size, owner, device_id=-1):
        self.ptr, self.size, self._owner, self.device_id = ptr, size, owner, device_id


_module.__dict__.update(
    __version__=__version__, ndarray=ndarray, asarray=asarray, array=array, asnumpy=asnumpy, result_type=result_type,
    asfortranarray=asfortranarray, ascontiguousarray=ascontiguousarray, matmul=_matmul,
    ElementwiseKernel=ElementwiseKernel, ReductionKernel=ReductionKernel,
    get_default_memory_pool=get_default_memory_pool,
    _core=types.SimpleNamespace(_routines_linalg=_linalg, get_compute_type=_get_compute_type),
    cuda=types.SimpleNamespace(
        Device=_Device, runtime=_runtime, set_allocator=set_allocator, get_allocator=get_allocator,
        MemoryPointer=MemoryPointer, UnownedMemory=UnownedMemory,
        get_current_stream=lambda: None, get_device_id=_current_device, compiler=_compiler,
        memory=types.SimpleNamespace(OutOfMemoryError=OutOfMemoryError, MemoryPointer=MemoryPointer),
    ),
)
# ``a @ b`` on device arrays goes through __array_ufunc__ (np.matmul): route it to the GEMM counter too.
ndarray.__matmul__ = lambda self, other: _matmul(self, other)
ndarray.__rmatmul__ = lambda self, other: _matmul(other, self)


def configure(profile: str | None = None, **machine) -> None:
    """Change the emulated machine: a ``profile`` of :data:`PROFILES`, then any key of ``_machine``
    (``devices``, ``device_bytes``, ``driver``, ``runtime``, ``compile_error``, ``virtual_bytes``...)."""
    if profile is not None:
        if profile not in PROFILES:
            raise TypeError(f"unknown device profile {profile!r}; known: {sorted(PROFILES)}")
        machine = {**PROFILES[profile], **machine}
    unknown = set(machine) - set(_machine)
    if unknown:
        raise TypeError(f"unknown machine settings {sorted(unknown)}")
    _machine.update(machine)


#: The RAPIDS libraries that run on a device; the fakes of tests/fake_rmm.py, fake_cuml.py and
#: fake_cudf.py stand in for them inside :func:`installed`.
RAPIDS = ("rmm", "cuml", "cudf")


def install(**machine) -> dict:
    """``import cupy`` gives this emulation from now on, as in a process that imported CuPy.

    As CuPy's import, this reads ``$CUPY_CACHE_DIR`` once (later changes of the
    variable are not seen) and creates that folder. Real RMM, cuML and cuDF
    are hidden. Returns what :func:`uninstall` needs to restore.
    """
    from gpuclf.backends import probes

    saved = {"cupy": sys.modules.get("cupy"), "machine": dict(_machine),
             # Real RMM, cuML and cuDF (a RAPIDS install without a GPU) would run on no device under the
             # emulated CuPy: hidden ("import rmm" raises ImportError) unless their fakes are installed too.
             "hidden": {name: module for name, module in sys.modules.items() if name.split(".")[0] in RAPIDS},
             "cache": dict(vars(_compiler._kernel_cache_backend))}
    sys.modules.update({name: None for name in saved["hidden"]} | {name: None for name in RAPIDS})
    sys.modules["cupy"] = _module
    _POOL.set_limit(size=0)
    _POOL.free_all_blocks()  # a new process holds no cached blocks (arrays other tests keep alive stay counted)
    set_allocator(_POOL.malloc)
    reset_stats()
    configure(**machine)
    folder = os.environ.get("CUPY_CACHE_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
    _compiler._kernel_cache_backend.__dict__.update(_cache_dir=folder or _DEFAULT_CACHE_DIR, written=bool(folder))
    probes._CUPY_CACHE.clear()
    return saved


def uninstall(saved: dict) -> None:
    """Undo :func:`install`: the CuPy module, the machine and the cache folder that were there before."""
    from gpuclf.backends import probes

    _machine.clear()
    _machine.update(saved["machine"])
    _compiler._kernel_cache_backend.__dict__.update(saved["cache"])
    _thread.device = 0
    set_allocator(_POOL.malloc)
    probes._CUPY_CACHE.clear()
    if saved["cupy"] is None:
        sys.modules.pop("cupy", None)
    else:
        sys.modules["cupy"] = saved["cupy"]
    for name in [n for n in sys.modules if n.split(".")[0] in RAPIDS]:
        del sys.modules[name]
    sys.modules.update(saved["hidden"])


@contextlib.contextmanager
def installed(profile: str | None = None, **machine):
    """Make ``import cupy`` give this emulation inside the block (:func:`install`, then :func:`uninstall`).

    The pool starts empty and uncapped, CuPy's allocator is the pool's, the
    counters start at zero; the ``profile`` and ``machine`` settings (see
    :func:`configure`) hold inside the block only. Each block is one import of
    CuPy: ``$CUPY_CACHE_DIR`` is read when it starts.
    """
    saved = install(**({"profile": profile} if profile else {}), **machine)
    try:
        yield _module
    finally:
        uninstall(saved)
