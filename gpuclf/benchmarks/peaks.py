"""The machine's own limits, measured in the same run as the steps: GEMM throughput and memory bandwidth.

A step's achieved GFLOP/s means little alone; as a share of what the same
array library reaches on one large matrix product, on the same machine, in
the same run, it reads the same on a laptop and on an H200. The GEMM is
square, float32 and float64 (gpuclf's kernels compute in float32,
scikit-learn in float64), and sized so that one product takes about
:data:`TARGET_SECONDS`: big enough to reach the BLAS's steady rate, small
enough to stay quick on two cores (at most 8,192 rows: about 20 ms in
float32 on an H200, still its steady rate). The bandwidth is one large copy
(bytes read plus bytes written), by one thread on the host: NumPy copies
with one, so a many-core server's figure is below its machine's total.
"""
from __future__ import annotations

import time

import numpy as np

#: Seconds one timed GEMM or copy should take at least.
TARGET_SECONDS = 0.2
GEMM_SIZES = (256, 512, 1024, 2048, 4096, 8192)
#: Bytes of the copied array: well beyond any cache.
COPY_BYTES = {"numpy": 256 * 2**20, "cupy": 2 * 2**30}


def array_library(backend) -> str:
    """``numpy`` or ``cupy``: the array library whose limits bound a backend's steps."""
    return getattr(backend.xp, "__name__", "numpy").split(".")[0]


def compute_dtype(backend) -> str:
    """The float dtype a backend multiplies in: its feature dtype, float64 for scikit-learn."""
    return np.dtype(backend.feature_dtype or np.float64).name


def _elapsed(fn, sync) -> float:
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def gemm_operands(xp, n: int, dtype: str):
    """Two (n, n) matrices in ``dtype`` on ``xp``'s device, from a fixed seed (host-drawn, moved once)."""
    rng = np.random.default_rng(0)
    return tuple(xp.asarray(rng.standard_normal((n, n), dtype=np.float32).astype(dtype)) for _ in range(2))


def gemm_size(xp, dtype: str, sync) -> int:
    """The smallest of :data:`GEMM_SIZES` whose product takes :data:`TARGET_SECONDS` (else the largest)."""
    for n in GEMM_SIZES:
        a, b = gemm_operands(xp, n, dtype)
        a @ b  # the first call may load the BLAS or compile
        if _elapsed(lambda: a @ b, sync) >= TARGET_SECONDS:
            return n
    return GEMM_SIZES[-1]


def copy_bytes(library: str, budget_bytes: int | None = None) -> int:
    """Bytes of the copied array: :data:`COPY_BYTES`, within half of ``budget_bytes`` (source and
    destination), in whole MiB."""
    nbytes = COPY_BYTES[library]
    if budget_bytes is not None:
        nbytes = min(nbytes, max(budget_bytes // 2 // 2**20, 1) * 2**20)
    return nbytes


def copy_repeats(xp, src, dst, sync) -> int:
    """Copies per timed round so that the round takes :data:`TARGET_SECONDS` (a GPU copies 2 GiB in < 1 ms)."""
    xp.copyto(dst, src)
    once = _elapsed(lambda: xp.copyto(dst, src), sync)
    return max(1, int(np.ceil(TARGET_SECONDS / max(once, 1e-9))))


def _owner(filepath: str | None) -> str:
    """Which package brought a library: ``numpy`` for ``.../numpy.libs/libscipy_openblas64_-....so``."""
    import os

    folder = os.path.basename(os.path.dirname(filepath or ""))
    return folder.removesuffix(".libs") if folder.endswith(".libs") else os.path.basename(filepath or "?")


def blas_info() -> list[dict]:
    """The BLAS and OpenMP libraries loaded in this process, with their thread counts (threadpoolctl).

    ``owner`` tells apart NumPy's and SciPy's copies of one BLAS (both wheels
    bundle an OpenBLAS, with thread pools of their own).
    """
    from threadpoolctl import threadpool_info

    keys = ("user_api", "internal_api", "version", "num_threads", "threading_layer", "architecture", "prefix")
    return [{**{k: lib.get(k) for k in keys}, "owner": _owner(lib.get("filepath"))} for lib in threadpool_info()]


def gemm_peak(xp, sync) -> float:
    """FLOP/s of one float32 product sized to take about :data:`TARGET_SECONDS` (one try: keep the best of several)."""
    n = gemm_size(xp, "float32", sync)
    a, b = gemm_operands(xp, n, "float32")
    sync()
    elapsed = _elapsed(lambda: a @ b, sync)
    return 2.0 * n ** 3 / elapsed
