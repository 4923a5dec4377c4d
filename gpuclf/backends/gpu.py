"""The GPU backend: CuPy arrays resident on the device, our kernels, cuML adapters.

CuPy is imported when the backend starts, cuML only when a forest or SVC
is first built (:meth:`GpuBackend.uses_cuml`), so ``import gpuclf``,
``gpuclf info`` and steps without those models never load cuML. The
backend owns the device allocator (:mod:`.allocator`) that CuPy and cuML
share.
"""
from __future__ import annotations

from ..errors import GpuclfError
from .allocator import install_allocator, is_out_of_memory
from .kernel import KernelBackend
from .probes import cuml_status, cuml_summary, cupy_status, visible_devices_note

__all__ = ["GpuBackend", "cupy_status"]


class GpuBackend(KernelBackend):
    """gpuclf kernels on CuPy; cuML for the forest and SVC when it imports.

    Parameters
    ----------
    max_gpu_memory : int, optional
        Cap in bytes on all device allocations (CuPy's and cuML's);
        chunked kernels size their chunks to fit under it and under the
        free device memory.
    device : int, default=0
        CUDA device to run on, numbered within ``CUDA_VISIBLE_DEVICES``.
    n_jobs : int, default=-1
        CPU cores for the scikit-learn fallback of the forest and SVC.
    knn_search : {"auto", "pruned", "brute"}, default="auto"
        As :class:`~gpuclf.backends.kernel.KernelBackend`.
    """

    name = "gpu"
    #: CuPy compiles each kernel on first use (see :mod:`gpuclf.run.warmup`).
    compiles_kernels = True

    def __init__(self, max_gpu_memory: int | None = None, device: int = 0, n_jobs: int | None = -1,
                 knn_search: str = "auto"):
        ok, reason = cupy_status(device)
        if not ok:
            raise GpuclfError(reason)
        import cupy

        self.xp = cupy
        super().__init__(budget_bytes=None, n_jobs=n_jobs, knn_search=knn_search)
        self.max_gpu_memory = max_gpu_memory
        self.device = int(device)
        cupy.cuda.Device(self.device).use()
        self.allocator = install_allocator(cupy, max_gpu_memory)
        self._cuml = None  # (ok, reason) once asked

    @classmethod
    def availability(cls):
        return cupy_status()

    def describe(self) -> dict:
        cupy = self.xp
        dev = cupy.cuda.Device(self.device)
        props = cupy.cuda.runtime.getDeviceProperties(dev.id)
        free, total = dev.mem_info
        return {
            "backend": self.name,
            "device": f"GPU {dev.id}: {props['name'].decode()} ({total / 2**30:.1f} GiB, "
                      f"compute capability {dev.compute_capability}){visible_devices_note()}",
            "cuda_driver": cupy.cuda.runtime.driverGetVersion(),
            "cuda_runtime": cupy.cuda.runtime.runtimeGetVersion(),
            "cupy": cupy.__version__,
            "cuml": self._cuml[1] if self._cuml else cuml_summary(),
            "allocator": self.allocator.name,
            "max_gpu_memory": self.max_gpu_memory,
            "knn_search": self.knn_search,
        }

    def uses_cuml(self) -> bool:
        # The first forest or SVC imports cuML; the allocator is already in place.
        if self._cuml is None:
            self._cuml = cuml_status()
        return self._cuml[0]

    def cuml_note(self) -> str:
        return f"ran on the CPU with scikit-learn because cuML is unavailable ({self._cuml[1]})"

    def synchronize(self) -> None:
        self.xp.cuda.Device(self.device).synchronize()

    def memory_budget(self) -> int:
        """Half of what the device can still give, under ``max_gpu_memory``."""
        free, _ = self.xp.cuda.Device(self.device).mem_info
        free += self.allocator.cached_bytes()  # blocks held for reuse count as free
        if self.max_gpu_memory:
            free = min(free, int(self.max_gpu_memory) - self.allocator.used_bytes())
        return max(free // 2, 16 * 2**20)

    def reset_peak_memory(self) -> None:
        self.allocator.reset_peak()

    def peak_memory_bytes(self) -> int:
        return self.allocator.peak_bytes()

    def out_of_memory(self, exc: BaseException) -> bool:
        return is_out_of_memory(exc)
