"""What the GPU libraries can do here: the one home of install hints and library probes.

``gpu.py``, ``kernel.py``, ``cuml_adapters.py``, the CLI's ``info`` and the
test suite's skip reasons all ask this module, so every message says the
same thing. Nothing here imports CuPy, RMM or cuML at module import time.

The CuPy probe does not stop at counting devices: CuPy 14's wheels carry
neither NVRTC, the CUDA headers nor cuBLAS (the ``[ctk]`` extra brings them
from pip), so a machine can list a GPU and still fail at the first kernel.
The probe compiles and runs one element-wise kernel and one small GEMM and
compares both with NumPy; on failure it says, in one line, what to install.
"""
from __future__ import annotations

import os
import sys

import numpy as np

from ..kernels.cuda import PROBE, build

#: gpuclf is not on PyPI: the extras install from a checkout.
GPU_INSTALL = "pip install -e '.[gpu-cu12]' (CUDA 12 driver) or -e '.[gpu-cu13]' (CUDA 13), in a gpuclf checkout"


def extra_install(extra: str) -> str:
    """The command that installs one of gpuclf's extras: from a checkout, as gpuclf is not on PyPI."""
    return f"pip install -e '.[{extra}]' in the gpuclf checkout"

CPU_INSTEAD = "use --backend cpu (scikit-learn) or --backend numpy instead"
#: Where a user without a GPU picks a backend (``gpuclf info``, a full-size cpu run, the README).
LAPTOP_ADVICE = ("without a GPU, --backend cpu (scikit-learn, the reference: exact) takes tens of minutes for the "
                 "whole chapter on full MNIST on a laptop; --backend numpy (gpuclf's GPU kernels on NumPy) takes "
                 "about 2 minutes on 2 quiet cores (measured: docs/timings.md)")
#: CuPy's pip wheels; each has a ``[ctk]`` extra with NVRTC, the CUDA headers and cuBLAS.
CUPY_WHEELS = ("cupy-cuda12x", "cupy-cuda13x")


def cupy_wheels() -> list[str]:
    """Names of the installed CuPy wheels (``cupy-cuda12x`` ...), read without importing them."""
    from importlib import metadata

    found = []
    for name in CUPY_WHEELS:
        try:
            metadata.version(name)
            found.append(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def cupy_wheel() -> str | None:
    """Name of the installed CuPy wheel, the first of :func:`cupy_wheels`."""
    return next(iter(cupy_wheels()), None)


def two_cupys() -> str | None:
    """Why CuPy cannot be trusted here when two of its wheels are installed side by side, else None.

    ``cupy-cuda12x`` and ``cupy-cuda13x`` both unpack into one ``cupy/``
    folder: whichever was installed last overwrote part of the other, so
    CuPy's version, its compiled modules and the CUDA libraries they load
    may disagree. It happens when RAPIDS's CUDA 12 wheels (which require
    ``cupy-cuda12x``) are installed beside a CUDA 13 image's ``cupy-cuda13x``.
    """
    wheels = cupy_wheels()
    if len(wheels) < 2:
        return None
    return (f"two CuPy packages are installed ({', '.join(wheels)}) and share one cupy/ folder; keep the one for "
            f"your driver (pip uninstall {' '.join(wheels)}, then {GPU_INSTALL}); with RAPIDS, its wheels of the "
            "same CUDA version")


def ctk_hint() -> str:
    """The pip command that adds the CUDA toolkit pieces CuPy compiles and multiplies with."""
    wheel = cupy_wheel()
    names = [wheel] if wheel else CUPY_WHEELS
    return " or ".join(f"pip install '{name}[ctk]'" for name in names)


def _cuda_version(code: int) -> str:
    """CUDA's integer version (12080) as text (12.8)."""
    return f"{code // 1000}.{code % 1000 // 10}"


def _driver_problem(cupy) -> str | None:
    """Why CUDA could not start, from the driver and runtime versions, or None when they fit.

    ``cudaDriverGetVersion`` reports 0 where no driver is loaded; CuPy then
    raises "CUDA driver version is insufficient", which reads as "update
    your driver" to someone who has none. Within one major version an older
    driver runs a newer runtime (CUDA's minor-version compatibility), so
    only a smaller major version is a mismatch.
    """
    runtime = cupy.cuda.runtime
    try:
        found = int(runtime.driverGetVersion())
    except Exception:  # noqa: BLE001 - no libcuda at all
        found = 0
    try:
        needed = int(runtime.runtimeGetVersion())
    except Exception:  # noqa: BLE001
        needed = 0
    if found == 0:
        return f"no NVIDIA driver found (CuPy {cupy.__version__} needs one for CUDA " \
               f"{_cuda_version(needed) if needed else '12 or 13'})"
    if needed and found // 1000 < needed // 1000:
        return (f"the NVIDIA driver supports CUDA {_cuda_version(found)} but CuPy {cupy.__version__} needs "
                f"CUDA {_cuda_version(needed)}: update the driver, or install the CuPy for your driver "
                f"({GPU_INSTALL})")
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _smoke_test(cupy) -> str | None:
    """Compile and run one element-wise kernel and one GEMM; None when both give NumPy's answer."""
    host = np.arange(16, dtype=np.float32).reshape(4, 4)
    stage = "compiling a kernel"
    try:
        twice_plus_one = build(cupy, PROBE)
        a = cupy.asarray(host)
        ok = np.array_equal(twice_plus_one(a).get(), host + host + 1)
        stage = "a matrix product (cuBLAS)"
        ok = ok and np.allclose((a @ a).get(), host @ host)
    except Exception as exc:  # noqa: BLE001 - CompileException, NVRTCError, ImportError of cuBLAS ...
        return (f"CuPy {cupy.__version__} sees a GPU but failed at {stage} ({_first_line(exc)}); "
                f"CuPy 14 needs the CUDA toolkit libraries: {ctk_hint()}")
    if not ok:
        return f"CuPy {cupy.__version__} ran {stage} on the GPU but got a wrong result"
    return None


def visible_devices_note() -> str:
    """How ``CUDA_VISIBLE_DEVICES`` renumbers the devices, for ``info`` and ``describe``."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return "" if visible is None else f" (CUDA_VISIBLE_DEVICES={visible}: devices are numbered within that list)"


_CUPY_CACHE: dict = {}


def cupy_status(device: int = 0) -> tuple[bool, str]:
    """Whether CuPy imports and runs kernels on ``device``, with a one-line reason.

    Parameters
    ----------
    device : int, default=0
        Device number among those CUDA shows (after ``CUDA_VISIBLE_DEVICES``),
        as ``--device``.

    Returns
    -------
    ok, reason : bool, str
        ``reason`` names CuPy's version and the device when ok; otherwise what
        is missing and the command that installs it.
    """
    device = int(device)
    key = (id(sys.modules.get("cupy")), device, os.environ.get("CUDA_VISIBLE_DEVICES"))
    if key not in _CUPY_CACHE:
        _CUPY_CACHE[key] = _probe_cupy(device)
    return _CUPY_CACHE[key]


def _probe_cupy(device: int) -> tuple[bool, str]:
    problem = two_cupys()
    if problem:
        return False, problem
    try:
        import cupy
    except ImportError:
        return False, f"the gpu backend needs CuPy, which is not installed: {GPU_INSTALL}"
    try:
        n = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as exc:  # noqa: BLE001 - CUDARuntimeError, worded for the driver, if any
        return False, _driver_problem(cupy) or \
            f"CuPy {cupy.__version__} cannot use CUDA ({_first_line(exc)})"
    if n == 0:
        return False, f"CuPy is installed but no CUDA device was found{visible_devices_note()}"
    if not 0 <= device < n:
        return False, f"--device {device} does not exist: CUDA shows {n} device(s), 0 to {n - 1}" \
                      f"{visible_devices_note()}"
    with cupy.cuda.Device(device):
        problem = _smoke_test(cupy)
    if problem:
        return False, problem
    return True, f"CuPy {cupy.__version__}, {n} CUDA device(s), using device {device}; kernels compile and run"


def cuml_status() -> tuple[bool, str]:
    """Whether cuML imports here, with a one-line reason (an install hint when not).

    Importing cuML sets CuPy's allocator to RMM's (cuML's ``_setup_cupy``);
    the gpu backend installs its own allocator first, so that is harmless,
    but call this only when a forest or SVC is about to be built, or for
    ``info``.
    """
    import importlib

    try:
        cuml = importlib.import_module("cuml")
    except ImportError:
        return False, f"cuML is not installed: {GPU_INSTALL}"
    except Exception as exc:  # noqa: BLE001 - e.g. a CUDA runtime or driver error raised at import
        return False, f"cuML is installed but does not import ({_first_line(exc)})"
    return True, f"cuML {cuml.__version__}"


def cuml_summary() -> str:
    """What ``info`` says of cuML without importing it (which would replace CuPy's allocator).

    The forest and SVC run on cuML where it imports, else on the CPU with
    scikit-learn on all cores.
    """
    import importlib.util

    if importlib.util.find_spec("cuml") is not None:
        return "installed; the forest and SVC run on it (imported when first built)"
    return f"not installed, so the forest and SVC run on the CPU with scikit-learn (all cores): {GPU_INSTALL}"


def rmm_module():
    """The ``rmm`` module when it imports, else None."""
    try:
        import rmm
        import rmm.allocators.cupy  # noqa: F401 - checks the CuPy bridge is there too
    except Exception:  # noqa: BLE001 - ImportError, or a CUDA error at import
        return None
    return rmm


def cuda_version(value) -> str:
    """CUDA's integer version as people write it: 12040 -> ``12.4``, as ``nvidia-smi`` shows it."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1000:
        return f"{value // 1000}.{value % 1000 // 10}"
    return str(value)
