"""A machine's fingerprint for the bench JSON, and what differs between two of them.

The fingerprint is what makes one machine's times differ from another's:
the CPU model and cores, the host memory, each BLAS with its thread count
(and the thread variables that set them), the GPU with its memory, driver
and CUDA runtime, and the libraries' versions. Two runs of one computer
under ``OMP_NUM_THREADS=1`` and ``=2`` are two machines here, and their
difference is the BLAS threads.
"""
from __future__ import annotations

import os
import platform

from ..backends.probes import cuda_version
from gpuclf.run.environment import library_versions
from .peaks import blas_info

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
#: Library versions shown in a fingerprint (the rest of library_versions() does not time anything here).
VERSIONS = ("python", "numpy", "scipy", "scikit-learn", "cupy", "cuml", "gpuclf", "platform")


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` knows)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def host_memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def usable_cpus() -> int:
    """Cores this process may run on (a container or ``taskset`` may allow fewer than the machine has)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def fingerprint(backends: dict) -> dict:
    """This machine, as the bench JSON records it.

    Parameters
    ----------
    backends : dict
        ``describe()`` of each backend the run used (its device, and on a GPU
        the driver and CUDA runtime).

    Returns
    -------
    dict
        JSON-ready; :func:`facts` turns it into the rows of a comparison.
    """
    gpus = {name: d for name, d in backends.items() if d.get("cuda_runtime") is not None}
    return {
        "cpu_model": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable_cpus(),
        "host_memory_bytes": host_memory_bytes(),
        "blas": blas_info(),
        "thread_variables": {k: os.environ[k] for k in THREAD_VARIABLES if k in os.environ},
        "gpu": {name: {k: d.get(k) for k in ("device", "cuda_driver", "cuda_runtime", "allocator")}
                for name, d in gpus.items()},
        "versions": {k: v for k, v in library_versions().items() if k in VERSIONS},
    }


def threads(n) -> str:
    """``1 thread``, ``2 threads``."""
    return f"{n} thread{'' if n == 1 else 's'}"


def _blas_text(lib: dict) -> str:
    parts = [f"{lib.get('internal_api')} {lib.get('version') or ''}".strip(), threads(lib.get("num_threads"))]
    if lib.get("architecture"):
        parts.append(str(lib["architecture"]))
    return ", ".join(parts)


def facts(fp: dict) -> dict:
    """A fingerprint as ``{fact: text}``, in a fixed order, for a side-by-side table."""
    mem = fp.get("host_memory_bytes")
    out = {"CPU model": fp.get("cpu_model") or "?",
           "CPU cores (usable / logical)": f"{fp.get('usable_cpus')} / {fp.get('logical_cpus')}",
           "host memory": "?" if mem is None else f"{mem / 2**30:.1f} GiB",
           "thread variables": ", ".join(f"{k}={v}" for k, v in fp.get("thread_variables", {}).items()) or "none set"}
    for lib in fp.get("blas", []):
        out[f"{lib.get('user_api')} ({lib.get('owner') or lib.get('prefix')})"] = _blas_text(lib)
    gpus = fp.get("gpu", {})
    for name, d in gpus.items():
        out[f"GPU ({name})"] = str(d.get("device"))
        out[f"driver / CUDA runtime ({name})"] = (f"{cuda_version(d.get('cuda_driver'))} / "
                                                   f"{cuda_version(d.get('cuda_runtime'))}")
    if not gpus:
        out["GPU"] = "none used"
    for k, v in fp.get("versions", {}).items():
        out[k] = v or "not installed"
    return out


def differences(a: dict, b: dict) -> list[str]:
    """What differs between two fingerprints, one line per fact (``BLAS threads: 1 vs 2``)."""
    fa, fb = facts(a), facts(b)
    return [f"{k}: {fa.get(k, '–')} vs {fb.get(k, '–')}" for k in dict.fromkeys([*fa, *fb])
            if fa.get(k) != fb.get(k)]
