"""gpuclf's CUDA kernels as CuPy would compile them, generated and compiled here without a GPU.

``ElementwiseKernel.__call__`` and ``ReductionKernel.__call__`` ask CUDA for
the current device before they generate any code, so they cannot run on a
machine without one. The code generators they call are module-level
functions that need no device (CuPy 14.2):

- ``cupy/_core/_kernel.pyx``: ``_get_elementwise_kernel_code(arginfos,
  type_map, params, operation, name, preamble, **kwargs)``, called by
  ``ElementwiseKernel._get_elementwise_kernel``;
- ``cupy/_core/_reduction.pyx``: ``_ReductionKernel_get_cached_function_code(nin,
  nout, params, arginfos, type_map, name, block_size, reduce_type, identity,
  map_expr, reduce_expr, post_map_expr, preamble, options)``, called by
  ``ReductionKernel._get_function``;

and ``compile_with_cache`` (``cupy/_core/core.pyx``) prepends
``_cupy_header_list`` and turns the options into
``assemble_cupy_compiler_options(options)``, to which
``_compile_with_cache_cuda`` adds ``-ftz=true`` before
``cupy.cuda.compiler.compile_using_nvrtc(source, options, arch)``. Only the
architecture lookup ``_get_arch_for_options_for_nvrtc`` is memoised per
device (it calls ``cudaGetDevice``); its undecorated function
(``__wrapped__``), given the architecture, answers without one.

The variants are what CuPy picks at run time from the arguments:

- the dtype of ``T`` (float32, float64);
- the rank the arrays are reduced to (``_reduce_dims``: rank 1 when every
  array is C-contiguous, else the rank of the call), from 1 to the
  kernel's largest declared rank; a reduction's output rank is one less
  (reduced along one axis) or 0 (reduced whole);
- each array's ``c_contiguous`` flag, a template argument of its ``CArray``:
  all contiguous, or all strided (broadcast or sliced); the kernel body sees
  each array through ``_raw_x[_ind.get()]`` and gets the same element type
  either way, so these two cover every ``CArray`` instantiation;
- the index width: ``CIndexer<ndim, 32-bit>`` while the loop has at most
  2**31 elements, ``CArray<..., 32-bit>`` while the array spans at most 2**31
  bytes; so "32" (both), "mixed" (a large array, a small loop) and "64"
  (both large), with a reduction's ``IndexT`` int32 or int64 to match.

A ``ReductionKernel`` with one input would also take CuPy's CUB block
reduction above 128 elements (``_cub_reduction.pyx``), whose code is built
inside a function that compiles at once on the device; :func:`variants`
refuses such a kernel rather than check half of it.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import numpy as np

#: The CuPy release whose internals this module calls (the CI stage installs exactly this one).
CUPY_PIN = "14.2.0"
#: Turing (T4, Colab), Ampere, Ada (RTX 40xx, L4), Hopper (H100, H200), Blackwell, Blackwell (RTX 50xx).
ARCHS = ("75", "80", "89", "90", "100", "120")
DTYPES = ("float32", "float64")
INDEX_WIDTHS = ("32", "mixed", "64")
#: ``GPUCLF_REQUIRE=nvrtc`` (set by .ci/real-tools) turns "NVRTC is not installed here" from a skip into a failure.
REQUIRED = set(filter(None, os.environ.get("GPUCLF_REQUIRE", "").split(",")))


@dataclass(frozen=True)
class Variant:
    """One kernel source CuPy may generate: dtype, ranks, contiguity, index width."""

    dtype: str
    ndim: int
    out_ndim: int | None  # reductions only
    strided: bool
    index: str

    def __str__(self):
        out = "" if self.out_ndim is None else f"->{self.out_ndim}d"
        return f"{self.dtype}-{self.ndim}d{out}-{'strided' if self.strided else 'contig'}-idx{self.index}"


def variants(kernel) -> list[Variant]:
    """Every variant of ``kernel`` (a :class:`gpuclf.kernels.cuda.CudaKernel`) CuPy may compile."""
    n_in = len([p for p in kernel.in_params.split(",") if p.strip()])
    if kernel.reduce is not None and n_in == 1:
        raise NotImplementedError(
            f"{kernel.name}: a one-input ReductionKernel takes CuPy's CUB block reduction, whose source "
            "CuPy builds only while compiling on a device; give it a second input or extend this check")
    ranks = range(1, max(kernel.ranks) + 1)
    found = []
    for dtype in DTYPES:
        for ndim in ranks:
            outs = [None] if kernel.reduce is None else sorted({0, ndim - 1})
            for out_ndim in outs:
                for strided in (False, True):
                    for index in INDEX_WIDTHS:
                        found.append(Variant(dtype, ndim, out_ndim, strided, index))
    return found


def cupy_internals():
    """CuPy's modules this check calls, with a failure (not a skip) when one has moved.

    Returns
    -------
    types.SimpleNamespace
        ``cupy``, ``kernel`` (``cupy._core._kernel``), ``reduction``, ``core``,
        ``carray``, ``scalar``, ``compiler``.
    """
    import types

    import cupy
    from cupy._core import _carray, _kernel, _reduction, _scalar, core
    from cupy.cuda import compiler

    needed = {
        _kernel: ("_get_elementwise_kernel_code", "_ArgInfo", "_TypeMap", "_decide_params_type"),
        _reduction: ("_ReductionKernel_get_cached_function_code", "_get_block_specs"),
        core: ("_cupy_header_list", "assemble_cupy_compiler_options"),
        compiler: ("compile_using_nvrtc", "_get_arch_for_options_for_nvrtc", "CompileException"),
        _carray: ("Indexer",), _scalar: ("CScalar",),
    }
    missing = [f"{m.__name__}.{name}" for m, names in needed.items() for name in names if not hasattr(m, name)]
    if not hasattr(compiler._get_arch_for_options_for_nvrtc, "__wrapped__"):
        missing.append("cupy.cuda.compiler._get_arch_for_options_for_nvrtc.__wrapped__")
    if missing:
        raise AssertionError(f"CuPy {cupy.__version__} moved internals this check calls (written for "
                             f"CuPy {CUPY_PIN}): {', '.join(missing)}")
    return types.SimpleNamespace(cupy=cupy, kernel=_kernel, reduction=_reduction, core=core, carray=_carray,
                                 scalar=_scalar, compiler=compiler)


# _ArgKind in cupy/_core/_kernel.pxd (a C enum, not exported to Python).
_NDARRAY, _INDEXER, _SCALAR = 1, 2, 3


def _array(cp, dtype, ndim: int, strided: bool, wide: bool):
    """``_ArgInfo.from_ndarray`` of such an array: (kind, type, dtype, ndim, c_contiguous, index_32_bits)."""
    return cp.kernel._ArgInfo(_NDARRAY, cp.cupy.ndarray, np.dtype(dtype), ndim, ndim == 0 or not strided, not wide)


def _indexer(cp, ndim: int, wide: bool):
    return cp.kernel._ArgInfo(_INDEXER, cp.carray.Indexer, None, ndim, True, not wide)


def _n_params(spec: str) -> int:
    return len([p for p in spec.split(",") if p.strip()])


def source(kernel, variant: Variant, cp=None) -> str:
    """The CUDA source CuPy compiles for ``kernel`` in ``variant``, headers included."""
    cp = cp or cupy_internals()
    dtype = np.dtype(variant.dtype)
    n_in, n_out = _n_params(kernel.in_params), _n_params(kernel.out_params)
    wide_arrays, wide_loop = variant.index in ("mixed", "64"), variant.index == "64"
    if kernel.reduce is None:
        ek = cp.cupy.ElementwiseKernel(kernel.in_params, kernel.out_params, kernel.body, kernel.name)
        _, _, type_map = ek._decide_params_type((dtype,) * n_in, (dtype,) * n_out)
        arginfos = tuple(_array(cp, dtype, variant.ndim, variant.strided, wide_arrays)
                         for _ in range(n_in + n_out)) + (_indexer(cp, variant.ndim, wide_loop),)
        code = cp.kernel._get_elementwise_kernel_code(arginfos, type_map, ek.params, ek.operation, ek.name,
                                                      ek.preamble, **ek.kwargs)
    else:
        reduce_expr, post_map, identity = kernel.reduce
        rk = cp.cupy.ReductionKernel(kernel.in_params, kernel.out_params, kernel.body, reduce_expr, post_map,
                                     identity, kernel.name)
        # ReductionKernel._get_expressions_and_types passes the scalar types (a.dtype.type).
        _, _, type_map = cp.kernel._decide_params_type(rk.in_params, rk.out_params, (dtype.type,) * n_in,
                                                       (dtype.type,) * n_out)
        type_map = cp.kernel._TypeMap(type_map._pairs + (("IndexT", "int64" if wide_loop else "int32"),))
        block_stride = cp.kernel._ArgInfo(_SCALAR, cp.scalar.CScalar, np.dtype(np.int32), 0, True, True)
        arginfos = (tuple(_array(cp, dtype, variant.ndim, variant.strided, wide_arrays) for _ in range(n_in))
                    + tuple(_array(cp, dtype, variant.out_ndim, variant.strided, wide_arrays) for _ in range(n_out))
                    + (_indexer(cp, variant.ndim, wide_loop), _indexer(cp, variant.out_ndim, wide_loop),
                       block_stride))
        # _AbstractReductionKernel._call without an optimisation context: _get_block_specs(..., -1).
        block_size = cp.reduction._get_block_specs(1, 1, 1, -1)[0]
        code = cp.reduction._ReductionKernel_get_cached_function_code(
            rk.nin, rk.nout, rk._params, arginfos, type_map, rk.name, block_size, rk.reduce_type, rk.identity,
            rk.map_expr, rk.reduce_expr, rk.post_map_expr, rk.preamble, rk.options)
    return "".join(f"#include <{h}>\n" for h in cp.core._cupy_header_list) + code


def compile_options(cp=None) -> tuple:
    """The options ``compile_with_cache`` hands to NVRTC for a kernel without options of its own."""
    cp = cp or cupy_internals()
    return cp.core.assemble_cupy_compiler_options(()) + ("-ftz=true",)


@contextlib.contextmanager
def arch_given(cp=None):
    """Inside the block CuPy's per-device architecture lookup answers for the architecture it is given.

    ``_get_arch_for_options_for_nvrtc(arch)`` is memoised per device, and the
    memo asks CUDA for the current device; its undecorated function gives the
    same answer from ``arch`` alone.
    """
    cp = cp or cupy_internals()
    compiler = cp.compiler
    per_device = compiler._get_arch_for_options_for_nvrtc
    compiler._get_arch_for_options_for_nvrtc = per_device.__wrapped__
    try:
        yield
    finally:
        compiler._get_arch_for_options_for_nvrtc = per_device


def compile_cubin(code: str, arch: str, options: tuple, cp=None) -> bytes:
    """NVRTC's cubin for ``code`` on ``sm_<arch>`` (inside :func:`arch_given`).

    Raises ``CompileException`` with NVRTC's log.
    """
    cp = cp or cupy_internals()
    cubin, _ = cp.compiler.compile_using_nvrtc(code, options, arch=arch)
    return cubin


def nvrtc_problem() -> str | None:
    """Why NVRTC cannot compile here (no CuPy, no NVRTC, no CUDA headers), or None when it can."""
    try:
        import cupy  # noqa: F401
    except ImportError as exc:
        return f"CuPy is not installed ({exc})"
    try:
        from cupy.cuda import nvrtc

        nvrtc.getVersion()
    except Exception as exc:  # noqa: BLE001 - libnvrtc missing
        return f"NVRTC does not load ({type(exc).__name__}: {exc}): pip install 'cupy-cuda12x[ctk]'"
    try:
        compile_options()
    except RuntimeError as exc:  # CuPy: "Failed to find CUDA headers"
        return f"the CUDA headers are missing ({exc})"
    return None
