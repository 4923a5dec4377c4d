"""The gpu backend's allocator, availability check and lazy cuML, on the emulated CuPy, RMM and cuML.

``tests/fake_cupy.py``, ``tests/fake_rmm.py`` and ``tests/fake_cuml.py``
behave as the libraries do at the boundaries the backend relies on (read
from their sources): ``import cuml`` sets CuPy's allocator to RMM's, RMM's
default resource is plain ``cudaMalloc``, RMM refuses with ``MemoryError``
and CuPy's pool with ``OutOfMemoryError``.
"""
from __future__ import annotations

import re
import sys

import fake_cuml
import fake_cupy
import fake_rmm
import numpy as np
import pytest
from step_kernels import kernels_per_step

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
    before = pool.used_bytes()  # arrays other tests keep alive
    import cuml  # noqa: F401

    a = cupy.zeros(1000, dtype=np.float64)
    assert pool.used_bytes() == before and a.nbytes == 8000
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


@pytest.mark.parametrize("size", ["2.3G", "1000000", "1", "257", "64MiB"])
def test_any_max_gpu_memory_builds_the_rmm_pool(rapids, size):
    """RMM wants pool sizes in multiples of 256 bytes; the cap itself stays what the user typed."""
    from gpuclf.run.options import Size

    limit = Size()(size)
    backend = get_backend("gpu", max_gpu_memory=limit)
    pool, limiter = fake_rmm.built[1], fake_rmm.built[-1]
    assert pool.maximum_pool_size % 256 == 0 and 0 <= pool.maximum_pool_size - limit < 256
    assert pool.initial_pool_size % 256 == 0 and limiter.get_allocation_limit() == limit
    assert isinstance(backend.allocator, RmmAllocator)


def test_free_pool_blocks_count_in_the_chunk_budget(rapids):
    """What the RMM pool holds but no array uses is free for the next chunk, as CuPy's pool's free bytes are."""
    cupy, _ = rapids
    backend = get_backend("gpu")
    a = cupy.zeros(300 * 2**20 // 8)  # past the 256 MiB initial pool: it grows
    grown = backend.allocator.cached_bytes()
    del a
    assert backend.allocator.cached_bytes() == grown + 300 * 2**20 == fake_rmm.built[1].pool_size() \
        - backend.allocator.used_bytes()
    free, _ = cupy.cuda.Device(0).mem_info
    assert backend.memory_budget() == (free + backend.allocator.cached_bytes()) // 2


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
    # Called from Python, the advice names the Python keyword, not the command line's option.
    assert "step binary_sgd ran out of GPU memory" in message and "get_backend('gpu', max_gpu_memory=...)" in message
    assert "--max-gpu-memory" not in message and "\n" not in message


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


def test_an_older_driver_of_the_same_major_version_is_fine():
    with fake_cupy.installed(driver=12020, runtime=12090):
        assert probes.cupy_status()[0]


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


# -- SVC on cuML: one F-ordered copy per set, decisions batched -------------------------------------
def test_svc_feeds_cuml_f_order_once_and_batches_decisions(rapids):
    """No input reaches cuML's SVC in C order (each would be copied), and predictions ask no binary SVC."""
    cupy, _ = rapids
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    from gpuclf.backends import cuml_adapters as ca

    X, y = load_digits(return_X_y=True)
    X_train, y_train, X_test = (cupy.asarray(a) for a in (X[:600], y[:600], X[600:800]))
    for factory in (ca.svc, ca.ovr_svc):
        fake_cuml.calls.clear()
        model = factory().fit(X_train, y_train)
        fits = [f_order for what, f_order in fake_cuml.calls if what == "SVC.fit"]
        assert fits and all(fits)
        fake_cuml.calls.clear()
        model.decision_function(X_test)
        assert fake_cuml.calls == []  # one kernel matrix, not a call per binary SVC
    ref = SVC(random_state=42, break_ties=True).fit(X[:600].astype(np.float32), y[:600])
    ours = ca.svc().fit(X_train, y_train)
    np.testing.assert_allclose(ours.decision_function(X_test).get(), ref.decision_function(X[600:800]),
                               rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(ours.predict(X_test).get(), ref.predict(X[600:800]))


@pytest.mark.parametrize("kernel", ["linear", "poly", "rbf", "sigmoid"])
def test_batched_svc_decisions_equal_each_models(kernel):
    from sklearn.datasets import load_digits
    from sklearn.svm import SVC

    from gpuclf.backends.cuml_adapters import svc_decisions

    X, y = load_digits(return_X_y=True)
    X = X / 16
    models = [SVC(kernel=kernel, gamma=0.05, coef0=0.5).fit(X[:300], y[:300] == c) for c in (1, 3, 8)]
    want = np.stack([m.decision_function(X[300:400]) for m in models], axis=1)
    np.testing.assert_allclose(svc_decisions(models, X[300:400], budget_bytes=4096), want, rtol=1e-7, atol=1e-9)
    assert svc_decisions([SVC(gamma=0.1).fit(X[:300], y[:300] == 1), models[0]], X) is None  # kernels differ


# -- data movement, folds, warm-up ---------------------------------------------------------------
def test_images_cross_as_uint8_and_widen_on_the_device(cupy):
    backend = get_backend("gpu")
    X = np.arange(6000, dtype=np.uint8).reshape(60, 100)
    fake_cupy.reset_stats()
    dev = backend.asarray(X, np.float32)
    assert dev.dtype == np.float32 and fake_cupy.stats["h2d_bytes"] == X.nbytes  # not 4 * X.nbytes
    np.testing.assert_array_equal(dev.get(), X.astype(np.float32))


def test_test_folds_are_computed_once_per_labels_and_splits(cupy, monkeypatch):
    from gpuclf.kernels import folds

    calls = []
    real = folds.stratified_kfold_test_folds
    monkeypatch.setattr(folds, "stratified_kfold_test_folds", lambda y, n: calls.append(n) or real(y, n))
    backend = get_backend("gpu")
    y = cupy.asarray(np.arange(90) % 3)
    first = backend.test_folds(y, 3)
    assert backend.test_folds(y, 3) is first and calls == [3]
    backend.test_folds(y, 5)
    backend.test_folds(cupy.asarray(np.arange(90) % 3), 3)  # another array: computed again
    assert calls == [3, 5, 3]


def test_denoise_fit_encodes_784_outputs_without_a_loop(cupy, sample_mnist):
    """The per-output encoding is a few whole-array steps: a handful of syncs, not two per pixel."""
    backend = get_backend("gpu")
    X = backend.asarray(sample_mnist.X_train[:500], np.float32)
    Y = backend.asarray(sample_mnist.X_train[:500])
    fake_cupy.reset_stats()
    knn = backend.estimator("knn").fit(X, Y)
    assert fake_cupy.stats["syncs"] <= 8 and fake_cupy.stats["launches"] < 60
    from sklearn.neighbors import KNeighborsClassifier

    ref = KNeighborsClassifier().fit(sample_mnist.X_train[:500], sample_mnist.X_train[:500])
    np.testing.assert_array_equal(knn.predict(X[:20]).get(), ref.predict(sample_mnist.X_train[:20]))


def test_warm_up_compiles_every_kernel_before_the_timed_steps(cupy, sample_mnist, tmp_path):
    """Every default step, on more rows than the warm-up takes: no kernel signature is new in a timed step.

    The signatures include the reduction kernel CuPy picks by the length
    reduced (``fake_cupy._reduction_variant``): a warm-up below 128 or 1,025
    rows would leave CUB block kernels to compile inside the steps.
    """
    import gpuclf.chapter as chapter
    from gpuclf.run.warmup import warmup_rows

    config = RunConfig(cv=3, grid_cv=3, n_estimators=5, svc_train_size=600, ovr_train_size=400,
                       grid_train_size=3500)
    data = sample_mnist.subsample(4000, 1000)
    assert warmup_rows(config, 4000, 1000)[0] < 4000  # the warm-up is capped: the run reduces longer rows
    with kernels_per_step() as seen:
        doc = run_workflow(get_backend("gpu"), data, config, str(tmp_path), progress=False).doc
    assert doc["warmup"]["steps"] == chapter.select_steps(None) and doc["warmup"]["seconds"] >= 0
    assert not doc["warmup"]["skipped"]
    assert all(not new for new in seen.values()), {k: v for k, v in seen.items() if v}
    assert any(variant.startswith("cub-block-512") for *_, variant, _ in fake_cupy.stats["kernels"])
    assert "warmup" not in run_workflow(get_backend("numpy"), sample_mnist.subsample(1000, 200),
                                        RunConfig(steps=["binary_sgd"]), str(tmp_path / "np"), progress=False).doc


def test_a_step_that_fails_its_warm_up_is_recorded_and_said(cupy, sample_mnist, tmp_path):
    import gpuclf.chapter as chapter
    from gpuclf.report.deviations import deviations

    original = chapter.STEPS["binary_cv"]

    def fails_on_the_warm_up_sample(ctx):
        if ctx.config.n_estimators < 10:  # the warm-up's
            raise ValueError("needs 10 trees")
        return original(ctx)

    try:
        chapter.STEPS["binary_cv"] = fails_on_the_warm_up_sample
        doc = run_workflow(get_backend("gpu"), sample_mnist.subsample(1000, 200),
                           RunConfig(steps=["binary_sgd", "binary_cv"]), str(tmp_path), progress=False).doc
    finally:
        chapter.STEPS["binary_cv"] = original
    assert doc["warmup"]["steps"] == ["binary_sgd"]
    assert doc["warmup"]["skipped"] == {"binary_cv": "ValueError: needs 10 trees"}
    assert "binary_cv" in doc["steps"]  # the real step still ran
    assert any(line.startswith("Warm-up:") and "needs 10 trees" in line for line in deviations(doc))


def test_warmup_and_info_commands(cupy, capsys, monkeypatch, tmp_path):
    from gpuclf.cli import main

    monkeypatch.setenv("CUPY_CACHE_DIR", str(tmp_path / "kernels"))
    monkeypatch.setattr("gpuclf.run.warmup.CUB_SATURATED", 100)
    assert main(["warmup"]) == 0
    assert str(tmp_path / "kernels") in capsys.readouterr().err
    assert main(["info", "--device", "0"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^allocator +CuPy memory pool", out, flags=re.M) and "kernels compile and run" in out
    assert "forest and SVC run on the CPU" in out


def test_cumls_forest_is_the_one_estimator_not_reproducible(rapids, cupy):
    """The bench leaves the forest's figures unchecked across rounds where cuML builds it (n_streams=4)."""
    from gpuclf.backends import ROLES

    on_cuml = get_backend("gpu")
    assert on_cuml.uses_cuml()
    assert [r for r in ROLES if not on_cuml.reproducible(r)] == ["forest"]
    assert all(get_backend(name).reproducible(r) for name in ("cpu", "numpy") for r in ROLES)
    with pytest.raises(GpuclfError, match="unknown estimator role"):
        on_cuml.reproducible("tree")


def test_without_cuml_the_gpu_backends_scikit_learn_forest_is_reproducible(cupy):
    from gpuclf.backends import ROLES

    backend = get_backend("gpu")
    assert not backend.uses_cuml() and all(backend.reproducible(r) for r in ROLES)
