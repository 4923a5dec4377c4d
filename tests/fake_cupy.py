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
- ``ElementwiseKernel`` for one-statement operations (``y = max(a + b, (T)0)``),
  evaluated with NumPy's operators in C's left-to-right order.

It also counts what would cost time on a GPU (:data:`stats`): kernel
launches, host synchronisations (results read on the host, boolean masks,
``unique``/``nonzero`` whose output size depends on the data), host-to-device
copies, distinct kernel signatures (name, dtypes, ndim), which stand in
for the kernels CuPy would compile on a cold start, and the FLOPs of every
matrix product (``2 m k n`` each). The counts are
approximate (one launch per CuPy call) and serve for before/after
comparisons, not as absolute figures.

The arithmetic is NumPy's, so results must equal the ``numpy`` backend's.
Which names real CuPy has is checked separately against CuPy itself
(``tests/gpu/test_cupy_api.py``), where CuPy imports.

Use :func:`installed` (a context manager) to put it in ``sys.modules``.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__version__ = "14.2.0+numpy-emulation"
_HOST_ERROR = ("Implicit conversion to a NumPy array is not allowed. "
               "Please use `.get()` to construct a NumPy array explicitly.")


class OutOfMemoryError(MemoryError):
    """``cupy.cuda.memory.OutOfMemoryError``: a ``MemoryError``, as in CuPy."""


#: What the emulated device was asked to do since :func:`reset_stats`.
stats = {"launches": 0, "syncs": 0, "h2d": 0, "h2d_bytes": 0, "kernels": set(), "gemm_flops": 0}


def reset_stats() -> None:
    stats.update(launches=0, syncs=0, h2d=0, h2d_bytes=0, kernels=set(), gemm_flops=0)


def _launch(name: str, args=(), axis=None, scalars: bool = False) -> None:
    """Count one kernel launch and remember its signature (what CuPy compiles once).

    A signature is (name, dtypes, ranks, variant); the variant is the kernel a
    reduction takes, which depends on the size reduced (:func:`_reduction_variant`).
    """
    stats["launches"] += 1
    arrays = [a for a in args if isinstance(a, (ndarray, np.ndarray))]
    variant = _reduction_variant(name, arrays[0], axis) if name in _REDUCTIONS and arrays else ""
    # A custom kernel's Python-number arguments are CuPy scalars, compiled into another variant.
    dtypes = [str(a.dtype) if isinstance(a, (ndarray, np.ndarray)) else "scalar" for a in args] if scalars \
        else [str(a.dtype) for a in arrays]
    signature = (name, tuple(dtypes), tuple(a.ndim for a in arrays), variant)
    if signature not in stats["kernels"] and name != "gemm" and variant != "cub-device":
        _cache_kernel(signature)
    stats["kernels"].add(signature)


def _cache_kernel(signature) -> None:
    """CuPy writes each kernel it compiles to ``$CUPY_CACHE_DIR`` (one file, named by a hash of its source);
    emulated where that variable is set, so a kernel already there is not "compiled" again."""
    folder = os.environ.get("CUPY_CACHE_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, hashlib.sha1(repr(signature).encode()).hexdigest() + ".cubin")
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
    host = a._a if isinstance(a, ndarray) else a
    nd = host.ndim
    if nd == 0:
        return "simple"
    axes = tuple(range(nd)) if axis is None else tuple(sorted(int(x) % nd for x in np.atleast_1d(axis)))
    consecutive = axes == tuple(range(axes[0], axes[-1] + 1))
    contiguous = consecutive and ((host.flags.f_contiguous and axes[0] == 0)
                                  or (host.flags.c_contiguous and axes[-1] == nd - 1))
    whole = len(axes) == nd
    family = _ROUTINE_CUB.get(name)
    if (contiguous and family and str(host.dtype) in _CUB_DTYPES[family]
            and not (name in ("argmax", "argmin") and not whole)):
        return "cub-device"
    n = int(np.prod([host.shape[x] for x in axes]))
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


class _MemoryPool:
    """CuPy's ``MemoryPool`` interface over the bytes of live emulated arrays.

    As in CuPy, ``total_bytes`` keeps the high-water mark until
    ``free_all_blocks`` and a ``set_limit`` cap raises ``OutOfMemoryError``.
    """

    def __init__(self):
        self.limit = 0
        self.used = 0
        self.high = 0

    def malloc(self, nbytes: int) -> _Block:
        if self.limit and self.used + nbytes > self.limit:
            raise OutOfMemoryError(f"Out of memory allocating {nbytes:,} bytes (pool limit {self.limit:,})")
        self.used += nbytes
        self.high = max(self.high, self.used)
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
        self.high = self.used


_POOL = _MemoryPool()
DEVICE_BYTES = 80 * 2**30
#: CuPy's allocator: its default pool's ``malloc`` until ``cuda.set_allocator`` replaces it.
_allocator = [_POOL.malloc]


def set_allocator(allocator=None) -> None:
    """``cupy.cuda.set_allocator``: None means plain device allocations, no pool."""
    _allocator[0] = allocator


def get_allocator():
    return _allocator[0]


class ndarray(NDArrayOperatorsMixin):
    """A device array: a NumPy array that will not pass for one."""

    __array_priority__ = 1000

    def __init__(self, host: np.ndarray):
        # Views share memory in CuPy; only owners allocate.
        allocate = _allocator[0]
        owns = host.base is None and allocate is not None
        self._memory = allocate(host.nbytes) if owns else None
        self._a = host

    # The way back to the host, and the implicit ways CuPy refuses.
    def get(self, stream=None, order="C", out=None, blocking=True) -> np.ndarray:
        _sync()
        return self._a.copy(order="A" if order == "A" else "C")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(_HOST_ERROR)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = tuple(_unwrap(o) for o in out)
        _launch(f"{ufunc.__name__}.{method}", inputs)
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

    @property
    def flags(self):
        return types.SimpleNamespace(c_contiguous=self._a.flags.c_contiguous,
                                     f_contiguous=self._a.flags.f_contiguous, owndata=self._a.base is None)

    def __getattr__(self, name):
        if name.startswith("_") or name not in _NDARRAY_METHODS:
            raise AttributeError(f"'cupy.ndarray' object has no attribute {name!r}")
        method = getattr(self._a, name)

        def call(*args, **kwargs):
            if name in _SYNCING:
                _sync()
            elif not (name in _FREE_METHODS or (name == "astype" and np.dtype(args[0]) == self.dtype
                                                 and kwargs.get("copy") is False)):
                _launch(name, (self, *args), kwargs.get("axis", args[0] if args and name in _REDUCTIONS else None))
            return _wrap_result(method(*_unwrap(args), **_unwrap(kwargs)), (self,))

        return call

    def __getitem__(self, key):
        result = self._a[_unwrap(key, allow_host=True)]
        if _index_cost(key):
            # CuPy's gathers write a new C-ordered array (NumPy's may come out in another order).
            result = np.ascontiguousarray(result)
        return _wrap(result)

    def __setitem__(self, key, value):
        _launch("setitem", (self, value))
        _index_cost(key, write=True)
        self._a[_unwrap(key, allow_host=True)] = _unwrap(value, allow_host=True)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(row) for row in self._a)

    def __bool__(self):
        _sync()
        return bool(self._a)

    def __int__(self):
        _sync()
        return int(self._a)

    def __float__(self):
        _sync()
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


def asarray(a, dtype=None, order=None, *, copy=None, blocking=False):
    """Host data (NumPy arrays, lists, scalars) or device arrays onto the device."""
    if isinstance(a, ndarray):
        if (dtype is None or a.dtype == dtype) and (order in (None, "K", "A")
                                                    or a._a.flags[f"{order.upper()}_CONTIGUOUS"]):
            return a
        _launch("astype", (a,))
        return ndarray(np.array(a._a, dtype=dtype, order=order or "K"))
    if isinstance(a, (list, tuple)):
        a = _unwrap(a, allow_host=True)
    # CuPy converts a NumPy array to ``dtype`` on the host, then sends it
    # (``_array_default`` in ``cupy/_core/core.pyx``): the bytes sent are the converted array's.
    host = np.array(a, dtype=dtype, order=order or "K", copy=True)
    stats["h2d"] += 1
    stats["h2d_bytes"] += host.nbytes
    return ndarray(host)


def array(a, dtype=None, copy=True, order="K", ndmin=0):
    """A new device array (always a copy, as a host-to-device transfer is)."""
    if isinstance(a, ndarray):
        _launch("copy", (a,))
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
    """``cupy.cuda.Device``: device 0 with 80 GiB."""

    def __init__(self, device=None):
        self.id = 0 if device is None else int(device)
        if not 0 <= self.id < _machine["devices"]:
            raise _machine["error"](f"cudaErrorInvalidDevice: invalid device ordinal {self.id}")
        self.compute_capability = "90"

    @property
    def mem_info(self):
        return DEVICE_BYTES - _POOL.used_bytes(), DEVICE_BYTES

    def use(self) -> None:
        _machine["current"] = self.id

    def __enter__(self):
        self._previous = _machine["current"]
        self.use()
        return self

    def __exit__(self, *exc):
        _machine["current"] = self._previous

    def synchronize(self) -> None:
        _sync()


class CUDARuntimeError(RuntimeError):
    """``cupy_backends.cuda.api.runtime.CUDARuntimeError``."""


#: The emulated machine: devices, driver and runtime versions, and what fails
#: (tests change these to imitate a machine without a driver or without NVRTC).
_machine = {"devices": 1, "driver": 13000, "runtime": 13000, "current": 0, "error": CUDARuntimeError,
            "compile_error": None, "gemm_error": None}


def _device_count() -> int:
    # CUDA's minor-version compatibility: an older driver of the same major version runs.
    if _machine["driver"] // 1000 < _machine["runtime"] // 1000:
        # What CuPy reports with no driver, or too old a one.
        raise CUDARuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient for "
                               "CUDA runtime version")
    return _machine["devices"]


_runtime = types.SimpleNamespace(
    getDeviceCount=_device_count,
    getDeviceProperties=lambda i: {"name": b"Emulated GPU (NumPy)", "totalGlobalMem": DEVICE_BYTES},
    driverGetVersion=lambda: _machine["driver"],
    runtimeGetVersion=lambda: _machine["runtime"],
    CUDARuntimeError=CUDARuntimeError,
)


def _function(name, numpy_function):
    def call(*args, **kwargs):
        if name in _SYNCING:
            _sync()
        elif name not in _FREE_FUNCTIONS:
            _launch(name, args, kwargs.get("axis", args[1] if len(args) > 1 and name in _REDUCTIONS else None))
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
    if out is not None:  # CuPy writes into out, as NumPy does
        np.matmul(_unwrap(a), _unwrap(b), out=_unwrap(out))
        return out
    return _wrap(np.matmul(_unwrap(a), _unwrap(b)))


class MemoryPointer:
    """``cupy.cuda.MemoryPointer`` over an ``UnownedMemory``: keeps its owner alive."""

    def __init__(self, mem, offset):
        self.mem, self.offset = mem, offset


class UnownedMemory:
    def __init__(self, ptr, size, owner, device_id=-1):
        self.ptr, self.size, self._owner, self.device_id = ptr, size, owner, device_id


_module.__dict__.update(
    __version__=__version__, ndarray=ndarray, asarray=asarray, array=array, asnumpy=asnumpy,
    asfortranarray=asfortranarray, ascontiguousarray=ascontiguousarray, matmul=_matmul,
    ElementwiseKernel=ElementwiseKernel, ReductionKernel=ReductionKernel,
    get_default_memory_pool=get_default_memory_pool,
    cuda=types.SimpleNamespace(
        Device=_Device, runtime=_runtime, set_allocator=set_allocator, get_allocator=get_allocator,
        MemoryPointer=MemoryPointer, UnownedMemory=UnownedMemory,
        get_current_stream=lambda: None, get_device_id=lambda: _machine["current"],
        memory=types.SimpleNamespace(OutOfMemoryError=OutOfMemoryError, MemoryPointer=MemoryPointer),
    ),
)
# ``a @ b`` on device arrays goes through __array_ufunc__ (np.matmul): route it to the GEMM counter too.
ndarray.__matmul__ = lambda self, other: _matmul(self, other)
ndarray.__rmatmul__ = lambda self, other: _matmul(other, self)


def configure(**machine) -> None:
    """Change the emulated machine (``devices``, ``driver``, ``runtime``, ``compile_error``, ``gemm_error``)."""
    unknown = set(machine) - set(_machine)
    if unknown:
        raise TypeError(f"unknown machine settings {sorted(unknown)}")
    _machine.update(machine)


#: The RAPIDS libraries that run on a device; the fakes of tests/fake_rmm.py, fake_cuml.py and
#: fake_cudf.py stand in for them inside :func:`installed`.
RAPIDS = ("rmm", "cuml", "cudf")


@contextlib.contextmanager
def installed(**machine):
    """Make ``import cupy`` give this emulation inside the block.

    The pool starts empty and uncapped, CuPy's allocator is the pool's, the
    counters start at zero; ``machine`` settings (see :func:`configure`)
    hold inside the block only.
    """
    from gpuclf.backends import probes

    saved = sys.modules.get("cupy")
    # Real RMM, cuML and cuDF (a RAPIDS install without a GPU) would run on no device under the
    # emulated CuPy: hidden ("import rmm" raises ImportError) unless their fakes are installed too.
    hidden = {name: module for name, module in sys.modules.items() if name.split(".")[0] in RAPIDS}
    sys.modules.update({name: None for name in hidden} | {name: None for name in RAPIDS})
    sys.modules["cupy"] = _module
    _POOL.set_limit(size=0)
    set_allocator(_POOL.malloc)
    reset_stats()
    defaults = dict(_machine)
    configure(**machine)
    probes._CUPY_CACHE.clear()
    try:
        yield _module
    finally:
        _machine.update(defaults)
        set_allocator(_POOL.malloc)
        probes._CUPY_CACHE.clear()
        if saved is None:
            sys.modules.pop("cupy", None)
        else:
            sys.modules["cupy"] = saved
        for name in [n for n in sys.modules if n.split(".")[0] in RAPIDS]:
            del sys.modules[name]
        sys.modules.update(hidden)
