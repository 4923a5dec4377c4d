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
- ``cuda.Device``, ``cuda.runtime`` and a memory pool with CuPy's methods.

The arithmetic is NumPy's, so results must equal the ``numpy`` backend's.
Which names real CuPy has is checked separately against CuPy itself
(``tests/test_cupy_api.py``), where CuPy imports.

Use :func:`installed` (a context manager) to put it in ``sys.modules``.
"""
from __future__ import annotations

import contextlib
import sys
import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__version__ = "14.2.0+numpy-emulation"
_HOST_ERROR = ("Implicit conversion to a NumPy array is not allowed. "
               "Please use `.get()` to construct a NumPy array explicitly.")


class _MemoryPool:
    """CuPy's ``MemoryPool`` interface over the bytes of live emulated arrays.

    As in CuPy, ``total_bytes`` keeps the high-water mark until
    ``free_all_blocks`` and a ``set_limit`` cap raises ``MemoryError``.
    """

    def __init__(self):
        self.limit = 0
        self.used = 0
        self.high = 0

    def malloc(self, nbytes: int) -> None:
        if self.limit and self.used + nbytes > self.limit:
            raise MemoryError(f"Out of memory allocating {nbytes:,} bytes (pool limit {self.limit:,})")
        self.used += nbytes
        self.high = max(self.high, self.used)

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
        self.high = self.used


_POOL = _MemoryPool()
DEVICE_BYTES = 80 * 2**30


class ndarray(NDArrayOperatorsMixin):
    """A device array: a NumPy array that will not pass for one."""

    __array_priority__ = 1000

    def __init__(self, host: np.ndarray):
        # Views share memory in CuPy; counting only owners keeps the pool honest.
        self._owned = 0
        owned = host.nbytes if host.base is None else 0
        _POOL.malloc(owned)
        self._owned, self._a = owned, host

    def __del__(self):
        _POOL.free(self._owned)

    # The way back to the host, and the implicit ways CuPy refuses.
    def get(self) -> np.ndarray:
        return self._a.copy()

    def __array__(self, dtype=None, copy=None):
        raise TypeError(_HOST_ERROR)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
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
        return ndarray(self._a.T)

    def __getattr__(self, name):
        if name.startswith("_") or name not in _NDARRAY_METHODS:
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        method = getattr(self._a, name)

        def call(*args, **kwargs):
            return _wrap(method(*_unwrap(args), **_unwrap(kwargs)))

        return call

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key, allow_host=True)])

    def __setitem__(self, key, value):
        self._a[_unwrap(key, allow_host=True)] = _unwrap(value, allow_host=True)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    def __bool__(self):
        return bool(self._a)

    def __int__(self):
        return int(self._a)

    def __float__(self):
        return float(self._a)

    def __repr__(self):
        return f"array({self._a!r}) on the emulated device"


ndarray.__module__ = "cupy"
_NDARRAY_METHODS = frozenset({
    "all", "any", "argmax", "argmin", "argpartition", "argsort", "astype", "clip", "copy", "cumsum",
    "diagonal", "dot", "fill", "flatten", "item", "max", "mean", "min", "nonzero", "prod", "ravel",
    "repeat", "reshape", "round", "searchsorted", "sort", "squeeze", "std", "sum", "swapaxes", "take",
    "tolist", "transpose", "var", "view",
})


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


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    """Host data (NumPy arrays, lists, scalars) or device arrays onto the device."""
    if isinstance(a, ndarray):
        return a if dtype is None or a.dtype == dtype else ndarray(a._a.astype(dtype))
    if isinstance(a, (list, tuple)):
        a = _unwrap(a, allow_host=True)
    return ndarray(np.array(a, dtype=dtype, order=order or "K", copy=True))


def array(a, dtype=None, copy=True, order="K", ndmin=0):
    """A new device array (always a copy, as a host-to-device transfer is)."""
    return ndarray(np.array(_unwrap(a, allow_host=True), dtype=dtype, order=order, ndmin=ndmin))


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    return a.get() if isinstance(a, ndarray) else np.asarray(a)


def get_default_memory_pool() -> _MemoryPool:
    return _POOL


class _Device:
    """``cupy.cuda.Device``: device 0 with 80 GiB."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        self.compute_capability = "90"

    @property
    def mem_info(self):
        return DEVICE_BYTES - _POOL.used_bytes(), DEVICE_BYTES

    def synchronize(self) -> None:
        pass


_runtime = types.SimpleNamespace(
    getDeviceCount=lambda: 1,
    getDeviceProperties=lambda i: {"name": b"Emulated GPU (NumPy)", "totalGlobalMem": DEVICE_BYTES},
    driverGetVersion=lambda: 13000,
    runtimeGetVersion=lambda: 13000,
)


def _function(name, numpy_function):
    def call(*args, **kwargs):
        return _wrap(numpy_function(*_unwrap(args), **_unwrap(kwargs)))

    call.__name__ = name
    return call


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
_module.__dict__.update(
    __version__=__version__, ndarray=ndarray, asarray=asarray, array=array, asnumpy=asnumpy,
    get_default_memory_pool=get_default_memory_pool,
    cuda=types.SimpleNamespace(Device=_Device, runtime=_runtime),
)


@contextlib.contextmanager
def installed():
    """Make ``import cupy`` give this emulation inside the block; the pool starts empty."""
    saved = sys.modules.get("cupy")
    sys.modules["cupy"] = _module
    _POOL.set_limit(size=0)
    try:
        yield _module
    finally:
        if saved is None:
            sys.modules.pop("cupy", None)
        else:
            sys.modules["cupy"] = saved
