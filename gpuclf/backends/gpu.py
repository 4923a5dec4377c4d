"""The GPU backend: CuPy arrays resident on the device, our kernels, cuML adapters.

CuPy and cuML are imported lazily, inside methods, so ``import gpuclf``
works on machines without them.
"""
from __future__ import annotations

from ..errors import GpuclfError
from .kernel import KernelBackend

INSTALL_HINT = "pip install 'gpuclf[gpu-cu12]' (CUDA 12) or 'gpuclf[gpu-cu13]' (CUDA 13)"


def cupy_status() -> tuple[bool, str]:
    """Whether CuPy imports and sees a working CUDA device, with a reason."""
    try:
        import cupy
    except ImportError:
        return False, f"the gpu backend needs CuPy, which is not installed: {INSTALL_HINT}"
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CUDARuntimeError without a driver
        return False, f"CuPy is installed but CUDA is not usable ({exc.__class__.__name__}: {exc})"
    if n == 0:
        return False, "CuPy is installed but no CUDA device was found; use --backend cpu"
    return True, f"CuPy {cupy.__version__}, {n} CUDA device(s)"


class GpuBackend(KernelBackend):
    """gpuclf kernels on CuPy; cuML for the forest and SVC when it imports.

    Parameters
    ----------
    max_gpu_memory : int, optional
        Cap in bytes on CuPy's memory pool; chunked kernels size their
        chunks to fit under it and under the free device memory.
    """

    name = "gpu"

    def __init__(self, max_gpu_memory: int | None = None):
        ok, reason = cupy_status()
        if not ok:
            raise GpuclfError(reason)
        import cupy

        from .cuml_adapters import cuml_status

        self.xp = cupy
        super().__init__(budget_bytes=None)
        self.max_gpu_memory = max_gpu_memory
        self._pool = cupy.get_default_memory_pool()
        if max_gpu_memory:
            self._pool.set_limit(size=int(max_gpu_memory))
        self._cuml_ok, self._cuml_reason = cuml_status()

    @classmethod
    def availability(cls):
        return cupy_status()

    def describe(self) -> dict:
        import cupy

        dev = cupy.cuda.Device()
        props = cupy.cuda.runtime.getDeviceProperties(dev.id)
        free, total = dev.mem_info
        return {
            "backend": self.name,
            "device": f"GPU {dev.id}: {props['name'].decode()} ({total / 2**30:.1f} GiB, "
                      f"compute capability {dev.compute_capability})",
            "cuda_driver": cupy.cuda.runtime.driverGetVersion(),
            "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
            "cupy": cupy.__version__,
            "cuml": self._cuml_reason,
            "max_gpu_memory": self.max_gpu_memory,
        }

    def uses_cuml(self) -> bool:
        return self._cuml_ok

    def cuml_note(self) -> str:
        return f"ran on the CPU with scikit-learn because cuML is unavailable ({self._cuml_reason})"

    def synchronize(self) -> None:
        self.xp.cuda.Device().synchronize()

    def memory_budget(self) -> int:
        """Half of what the device can still give, under ``max_gpu_memory``."""
        free, _ = self.xp.cuda.Device().mem_info
        free += self._pool.free_bytes()  # blocks CuPy holds but does not use
        if self.max_gpu_memory:
            free = min(free, int(self.max_gpu_memory) - self._pool.used_bytes())
        return max(free // 2, 16 * 2**20)

    def reset_peak_memory(self) -> None:
        # The pool keeps every block it grew to, so after emptying it the
        # pool's total size at the end of a step is that step's high-water mark.
        self._pool.free_all_blocks()

    def peak_memory_bytes(self) -> int:
        return int(self._pool.total_bytes())
