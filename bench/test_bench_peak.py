"""The machine's limits, measured before the steps of each round: GEMM throughput per dtype, memory bandwidth.

One test per array library the backends use (NumPy for cpu and numpy, CuPy
for gpu) and round, at the start of each round. The GEMM is square and
sized once per library and dtype so that one product takes about 0.2 s, up
to 8,192 rows (``gpuclf.benchmarks.peaks``); the copy moves a 256 MiB array
on the host, up to 2 GiB on a GPU (within half the memory the device can
give), repeated within a round where one copy is too quick to time.
The report divides each step's rate by the best round of these.
"""
import numpy as np
import pytest

from gpuclf.benchmarks import peaks


@pytest.fixture(scope="session")
def sizes_of():
    """GEMM sizes and copy repeats, calibrated once per library and dtype for the whole session."""
    return {}


@pytest.fixture
def device(contexts, library):
    """``(xp, synchronize, copy bytes)`` of the array library: NumPy, or the gpu backend's CuPy."""
    if library == "numpy":
        return np, lambda: None, peaks.COPY_BYTES[library]
    backend = contexts("gpu").backend
    # Source and destination both fit in what the device can give (a laptop GPU may have 4 GiB).
    return backend.xp, backend.synchronize, peaks.copy_bytes(library, backend.memory_budget())


def _info(bench_round, extra):
    return {"round": bench_round, "blas": peaks.blas_info(), **extra}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_peak(benchmark, device, library, bench_round, dtype, sizes_of):
    xp, sync, _ = device
    n = sizes_of.setdefault(("gemm", library, dtype), peaks.gemm_size(xp, dtype, sync))
    a, b = peaks.gemm_operands(xp, n, dtype)
    sync()  # the operands' transfer must not run into the timed product
    benchmark.group = "peak"

    def product():
        a @ b
        sync()

    benchmark.pedantic(product, rounds=1, warmup_rounds=1 if bench_round == 1 else 0, iterations=1)
    benchmark.extra_info.update(_info(bench_round, {"peak": "gemm", "library": library, "dtype": dtype, "n": n,
                                                    "flops": 2 * n ** 3}))


def test_copy_bandwidth(benchmark, device, library, bench_round, sizes_of):
    xp, sync, nbytes = device
    src = xp.ones(nbytes // 4, dtype=np.float32)
    dst = xp.empty_like(src)
    repeats = sizes_of.setdefault(("copy", library), peaks.copy_repeats(xp, src, dst, sync))
    benchmark.group = "peak"

    def copies():
        for _ in range(repeats):
            xp.copyto(dst, src)
        sync()  # once: a sync per copy would add its latency to each

    sync()
    benchmark.pedantic(copies, rounds=1, warmup_rounds=1 if bench_round == 1 else 0, iterations=1)
    # Each copy reads the array and writes it once.
    benchmark.extra_info.update(_info(bench_round, {"peak": "copy", "library": library,
                                                    "bytes": 2 * nbytes * repeats, "repeats": repeats}))
