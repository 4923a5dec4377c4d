"""The gpu backend's allocator, availability check and lazy cuML, on the emulated CuPy, RMM and cuML.

``tests/fake_cupy.py``, ``tests/fake_rmm.py`` and ``tests/fake_cuml.py``
behave as the libraries do at the boundaries the backend relies on (read
from their sources): ``import cuml`` sets CuPy's allocator to RMM's, RMM's
default resource is plain ``cudaMalloc``, RMM refuses with ``MemoryError``
and CuPy's pool with ``OutOfMemoryError``.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest

import fake_cuml
import fake_cupy
import fake_rmm
from gpuclf import RunConfig, get_backend, run_workflow
from gpuclf.backends import probes
from gpuclf.backends.allocator import CupyPoolAllocator, RmmAllocator
from gpuclf.errors import GpuclfError


@pytest.fixture
def cupy():
    with fake_cupy.installed() as module:
        yield module


@pytest.fixture
def rapids(cupy):
    """CuPy, RMM and cuML all present (cuML findable, not imported)."""
    with fake_rmm.installed() as rmm, fake_cuml.installed():
        yield cupy, rmm


def test_emulation_reproduces_cumls_allocator_takeover(rapids):
    """Without the backend's allocator, importing cuML leaves CuPy's pool counting nothing (issue 15)."""
    cupy, rmm = rapids
    pool = cupy.get_default_memory_pool()
    import cuml  # noqa: F401

    a = cupy.zeros(1000, dtype=np.float64)
    assert pool.used_bytes() == 0 and a.nbytes == 8000
    assert fake_rmm.CudaMemoryResource.calls >= 1  # every allocation a cudaMalloc


def test_without_rmm_the_backend_uses_cupys_pool(cupy):
    backend = get_backend("gpu")
    assert isinstance(backend.allocator, CupyPoolAllocator)
    backend.reset_peak_memory()
    a = cupy.zeros((1000, 100), dtype=np.float32)
    assert backend.peak_memory_bytes() >= a.nbytes


def test_with_rmm_one_stack_serves_cupy_and_cuml(rapids):
    cupy, rmm = rapids
    backend = get_backend("gpu", max_gpu_memory=64 * 2**20)
    kinds = [type(r).__name__ for r in fake_rmm.built]
    assert kinds == ["CudaMemoryResource", "PoolMemoryResource", "StatisticsResourceAdaptor",
                     "LimitingResourceAdaptor"]
    limiter = fake_rmm.built[-1]
    assert rmm.mr.get_current_device_resource() is limiter and limiter.get_allocation_limit() == 64 * 2**20
    assert cupy.cuda.get_allocator() is rmm.allocators.cupy.rmm_cupy_allocator
    assert "cuml" not in sys.modules  # the backend did not import it
    assert isinstance(backend.allocator, RmmAllocator)
    import cuml  # noqa: F401 - re-installs rmm_cupy_allocator, which still allocates from our stack

    backend.reset_peak_memory()
    a = cupy.zeros((1000, 1000), dtype=np.float32)
    del a
    b = cupy.zeros(10, dtype=np.float32)
    assert backend.peak_memory_bytes() >= 4_000_000 and limiter.get_allocated_bytes() == b.nbytes
    backend.reset_peak_memory()  # a new step: its peak is what is live plus what it adds
    assert backend.peak_memory_bytes() == b.nbytes


def test_peaks_are_per_step_with_rmm(rapids, sample_mnist, tmp_path):
    get = get_backend("gpu")
    doc = run_workflow(get, sample_mnist, RunConfig(steps=["data", "binary_sgd", "multilabel"]), str(tmp_path),
                       progress=False).doc
    peaks = {step: m["device_peak_bytes"] for step, m in doc["memory"].items()}
    assert peaks["multilabel"] >= 4000 * 784 * 4  # KNN holds the training set
    assert peaks["data"] < peaks["multilabel"]


@pytest.mark.parametrize("with_rmm", [False, True], ids=["cupy-pool", "rmm"])
def test_out_of_memory_is_one_line_naming_step_and_option(with_rmm, cupy, sample_mnist, tmp_path):
    import contextlib

    context = fake_rmm.installed() if with_rmm else contextlib.nullcontext()
    with context:
        backend = get_backend("gpu", max_gpu_memory=4 * 2**20)  # less than the training set
        with pytest.raises(GpuclfError) as info:
            run_workflow(backend, sample_mnist, RunConfig(steps=["binary_sgd"]), str(tmp_path), progress=False)
    message = str(info.value)
    assert "step binary_sgd ran out of GPU memory" in message and "--max-gpu-memory" in message
    assert "\n" not in message


def test_cuml_is_imported_only_for_a_forest_or_svc(rapids, sample_mnist, tmp_path):
    from gpuclf.cli import main

    backend = get_backend("gpu")
    backend.describe()
    run_workflow(backend, sample_mnist, RunConfig(steps=["binary_cv"]), str(tmp_path / "a"), progress=False)
    assert fake_cuml.imports[0] == 0 and "cuml" not in sys.modules
    assert main(["info"]) == 0
    assert fake_cuml.imports[0] == 0
    assert backend.placement("forest").library == "cuml"  # first need: now it imports
    assert fake_cuml.imports[0] == 1


def test_forest_fallback_uses_every_core(cupy):
    backend = get_backend("gpu")
    forest = backend.estimator("forest", n_estimators=5)
    assert forest.estimator.n_jobs == -1
    assert get_backend("numpy").estimator("forest").n_jobs == -1


# -- availability ---------------------------------------------------------------------------------
def test_availability_runs_a_kernel_and_a_gemm(cupy):
    fake_cupy.reset_stats()
    ok, reason = probes.cupy_status()
    assert ok and "kernels compile and run" in reason
    names = {name for name, *_ in fake_cupy.stats["kernels"]}
    assert {"gpuclf_probe", "gemm"} <= names


@pytest.mark.parametrize("machine, expected", [
    ({"driver": 0}, "no NVIDIA driver found"),
    ({"driver": 12020}, "the NVIDIA driver supports CUDA 12.2 but CuPy .* needs CUDA 13.0"),
    ({"devices": 0}, "no CUDA device was found"),
    ({"compile_error": RuntimeError("nvrtc: error: failed to open libnvrtc.so.13")},
     r"failed at compiling a kernel \(RuntimeError: nvrtc.*pip install 'cupy-cuda1[23]x\[ctk\]'"),
    ({"gemm_error": ImportError("libcublas.so.13: cannot open shared object file")},
     r"failed at a matrix product \(cuBLAS\).*\[ctk\]"),
])
def test_availability_says_what_is_wrong_in_one_line(machine, expected):
    with fake_cupy.installed(**machine):
        ok, reason = probes.cupy_status()
        assert not ok and "\n" not in reason
        assert __import__("re").search(expected, reason), reason
        assert "insufficient" not in reason
        with pytest.raises(GpuclfError, match="--backend gpu is not available"):
            get_backend("gpu")


def test_device_option_is_checked_and_used(cupy, monkeypatch):
    with pytest.raises(GpuclfError, match="--device 3 does not exist: CUDA shows 1 device"):
        get_backend("gpu", device=3)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2")
    backend = get_backend("gpu", device=0)
    assert "CUDA_VISIBLE_DEVICES=2" in backend.describe()["device"]


def test_install_hints_work_from_a_checkout():
    for text in (probes.GPU_INSTALL, probes.cuml_summary()):
        assert "gpuclf[" not in text
    assert "pip install -e '.[gpu-cu12]'" in probes.GPU_INSTALL
