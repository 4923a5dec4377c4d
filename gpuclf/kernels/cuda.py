"""The CUDA kernels gpuclf writes itself: one registry, so that every one is compiled in CI.

CuPy compiles a custom kernel with NVRTC at its first call on a device, so a
typo in a kernel body would first show on a GPU. Every kernel gpuclf defines
is therefore declared here, with :func:`define`, beside the code that calls
it, and built for CuPy with :func:`build`; nothing else in gpuclf calls
``ElementwiseKernel`` or ``ReductionKernel`` (a test reads the source to
check). Kernels are declared in :mod:`gpuclf.kernels` only, the lowest room
that uses them (a test checks); :func:`all_kernels` imports every module
there and returns the registry, which ``tests/gpu/test_nvrtc.py`` compiles with CuPy's own code
generators and NVRTC for every architecture, dtype and array layout, without
a GPU.

A kernel also declares ``ranks``, the array ranks its callers pass: CuPy
compiles one variant per rank it reduces the arrays to (``_reduce_dims`` in
``cupy/_core/_kernel.pyx``), so the compile check covers ranks 1 to
``max(ranks)``; the emulated CuPy's record of the calls
(``tests/kernels/test_kernel_registry.py``) checks that no call passes a higher rank.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass

__all__ = ["CudaKernel", "KERNELS", "PROBE", "all_kernels", "build", "define"]


@dataclass(frozen=True)
class CudaKernel:
    """One custom CuPy kernel: CuPy's constructor arguments, and the ranks its callers pass.

    Attributes
    ----------
    name : str
        The kernel's name (CuPy's ``name``; also its registry key).
    in_params, out_params : str
        CuPy's parameter lists (``"T x, T y"``).
    body : str
        The element-wise operation, or a reduction's map expression.
    reduce : tuple of str, optional
        ``(reduce_expr, post_map_expr, identity)`` for a ``ReductionKernel``.
    ranks : tuple of int
        Array ranks the callers pass.
    """

    name: str
    in_params: str
    out_params: str
    body: str
    reduce: tuple[str, str, str] | None = None
    ranks: tuple[int, ...] = (1, 2)


#: name -> CudaKernel, filled by :func:`define` as modules are imported.
KERNELS: dict[str, CudaKernel] = {}


def define(name: str, in_params: str, out_params: str, body: str, *,
           reduce: tuple[str, str, str] | None = None, ranks: tuple[int, ...] = (1, 2)) -> CudaKernel:
    """Declare a kernel (at module import); a second, different kernel of the same name is an error."""
    kernel = CudaKernel(name, in_params, out_params, body, reduce, tuple(ranks))
    if KERNELS.setdefault(name, kernel) != kernel:
        raise ValueError(f"two different CUDA kernels are named {name!r}")
    return kernel


_BUILT: dict = {}


def build(xp, kernel: CudaKernel):
    """The CuPy kernel object for ``kernel`` in namespace ``xp``, built once (CuPy compiles at first call)."""
    key = (xp, kernel)
    if key not in _BUILT:
        if kernel.reduce is None:
            obj = xp.ElementwiseKernel(kernel.in_params, kernel.out_params, kernel.body, kernel.name)
        else:
            reduce_expr, post_map, identity = kernel.reduce
            obj = xp.ReductionKernel(kernel.in_params, kernel.out_params, kernel.body, reduce_expr, post_map,
                                     identity, kernel.name)
        _BUILT[key] = obj
    return _BUILT[key]


def all_kernels() -> dict[str, CudaKernel]:
    """Every kernel gpuclf defines: imports each module of :mod:`gpuclf.kernels`, then returns the registry."""
    from gpuclf import kernels

    for info in pkgutil.walk_packages(kernels.__path__, "gpuclf.kernels."):
        importlib.import_module(info.name)
    return dict(KERNELS)


#: The probe's kernel (:mod:`gpuclf.backends.probes`): the first thing compiled on a machine.
PROBE = define("gpuclf_probe", "T x", "T y", "y = x + x + (T)1")
