"""gpuclf's calls and our fakes, checked against the real CuPy, cuML, cuDF and RMM (no GPU needed).

CuPy (``cupy-cuda12x``, the ``test`` extra), cuML, cuDF and RMM 26.10 all
import and construct their objects on a machine without a GPU. So, where
they are installed, these tests check against the real modules:

- every keyword gpuclf hands a cuML constructor (the adapters, with the
  keywords the workflow passes and every scikit-learn parameter a user may
  pass), the attributes gpuclf reads, and the fake's keywords, defaults and
  refusals (``tests/fake_cuml.py``);
- every RMM resource gpuclf builds, with the sizes it computes, and the
  fake's refusals (``tests/fake_rmm.py``);
- every keyword gpuclf passes to a cuDF reader (read from gpuclf's source),
  and the fake's (``tests/fake_cudf.py``);
- the emulated ``ElementwiseKernel``'s type binding (``tests/fake_cupy.py``)
  against CuPy's own ``_decide_params_type``.

A fake that accepts what the real module refuses fails here. ``.ci/real-tools``
installs the RAPIDS wheels and runs this file with ``GPUCLF_REQUIRE=rapids``:
a module that does not import then fails instead of skipping.
"""
from __future__ import annotations

import ast
import importlib
import inspect
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier as SkForest
from sklearn.neighbors import KNeighborsClassifier as SkKNN
from sklearn.svm import SVC as SkSVC

import fake_cuml
import fake_cupy
import fake_rmm
from gpuclf.backends import cuml_adapters as ca
from gpuclf.backends.allocator import RmmAllocator, pool_sizes
from gpuclf.errors import GpuclfError
from gpuclf.run.options import Size

REQUIRED = set(filter(None, os.environ.get("GPUCLF_REQUIRE", "").split(",")))
ROOT = Path(__file__).resolve().parents[2]


def real(module: str):
    """The real module, or a skip (a failure under ``GPUCLF_REQUIRE=rapids``)."""
    try:
        return importlib.import_module(module)
    except Exception as exc:  # noqa: BLE001 - ImportError, or a CUDA error at import
        if "rapids" in REQUIRED:
            raise AssertionError(f"GPUCLF_REQUIRE=rapids but {module} does not import: {exc}") from exc
        pytest.skip(f"{module} is not installed here ({type(exc).__name__})")


# ----------------------------------------------------------------------------- cuML

CUML = {"SVC": ("cuml.svm", SkSVC), "RandomForestClassifier": ("cuml.ensemble", SkForest),
        "KNeighborsClassifier": ("cuml.neighbors", SkKNN)}


def cuml_class(name: str):
    return getattr(real(CUML[name][0]), name)


def constructs(cls, **kw) -> bool:
    """Whether ``cls(**kw)`` is accepted; a keyword it lacks is ``TypeError``."""
    try:
        cls(**kw)
    except TypeError:
        return False
    return True


@pytest.mark.parametrize("name", sorted(CUML))
def test_fake_cuml_has_cumls_keywords_and_defaults(name):
    params = inspect.signature(cuml_class(name).__init__).parameters
    assert {k: p.default for k, p in params.items() if k != "self"} == fake_cuml.SIGNATURES[name]


@pytest.mark.parametrize("name", sorted(CUML))
def test_fake_cuml_refuses_what_cuml_refuses(name):
    """Every scikit-learn and cuML keyword, at its default: the fake accepts exactly what cuML accepts."""
    cls, fake = cuml_class(name), getattr(fake_cuml, name)
    sklearn_defaults = CUML[name][1]().get_params()
    for keyword, value in {**sklearn_defaults, **fake_cuml.SIGNATURES[name]}.items():
        assert constructs(fake, **{keyword: value}) == constructs(cls, **{keyword: value}), keyword
    assert fake().get_params() == cls().get_params()


def _adapter_calls():
    """(factory, keywords): what the workflow passes, and every scikit-learn parameter at its default."""
    calls = [("random_forest", {"n_estimators": 100, "random_state": 42}), ("svc", {"random_state": 42}),
             ("ovr_svc", {"random_state": 42}), ("knn", {}), ("knn", {"n_neighbors": 4, "weights": "distance"}),
             ("svc", {"probability": False}), ("ovr_svc", {"probability": False})]
    twins = {"random_forest": SkForest, "svc": SkSVC, "ovr_svc": SkSVC, "knn": SkKNN}
    return calls + [(name, twin().get_params()) for name, twin in twins.items()]


@pytest.mark.parametrize("world", ["real", "fake"])
@pytest.mark.parametrize("factory, kw", _adapter_calls(), ids=lambda v: v if isinstance(v, str) else "")
def test_adapters_build_cuml_estimators_from_sklearn_keywords(world, factory, kw, monkeypatch):
    """``cuml_adapters.svc(probability=False)`` and the rest: no keyword reaches cuML that it refuses."""
    if world == "real":
        for name in CUML:
            cuml_class(name)
        model = getattr(ca, factory)(**kw)
    else:
        with fake_cupy.installed(), fake_rmm.installed(), fake_cuml.installed():
            monkeypatch.setattr(ca, "cuml_status", lambda: (True, "fake cuML"))
            model = getattr(ca, factory)(**kw)
    inner = model.estimator if factory != "svc" and factory != "ovr_svc" else model.estimator.estimator
    assert type(inner).__module__.startswith("cuml" if world == "real" else "fake_cuml")


@pytest.mark.parametrize("factory", ["svc", "ovr_svc"])
@pytest.mark.parametrize("kw", [{"probability": True}, {"decision_function_shape": "ovo"}])
def test_adapters_refuse_what_the_gpu_svc_cannot_do_in_one_line(factory, kw, monkeypatch):
    monkeypatch.setattr(ca, "cuml_status", lambda: (True, "fake cuML"))
    with fake_cupy.installed(), fake_rmm.installed(), fake_cuml.installed(), pytest.raises(GpuclfError):
        getattr(ca, factory)(**kw)


def test_forest_refuses_sklearn_only_parameters_off_their_defaults(monkeypatch):
    monkeypatch.setattr(ca, "cuml_status", lambda: (True, "fake cuML"))
    with fake_cupy.installed(), fake_rmm.installed(), fake_cuml.installed(), \
            pytest.raises(GpuclfError, match="ccp_alpha"):
        ca.random_forest(ccp_alpha=0.1)


def test_attributes_gpuclf_reads_are_cumls():
    """``svc_decisions`` reads the fitted SVC's support vectors, dual coefficients and intercept, and the
    kernel settings from ``get_params``."""
    SVC = cuml_class("SVC")
    for attribute in ("support_vectors_", "dual_coef_", "intercept_"):
        assert hasattr(SVC, attribute), attribute
    assert {"kernel", "gamma", "coef0", "degree"} <= set(SVC().get_params())


# ----------------------------------------------------------------------------- RMM

LIMITS = [Size()("2.3G"), Size()("1000000"), 1, 255, 257, Size()("64MiB"), None]


@pytest.mark.parametrize("limit", LIMITS)
def test_rmm_accepts_the_pool_gpuclf_builds_for_any_size(limit):
    """``--max-gpu-memory 2.3G`` / ``1000000``: RMM's 256-byte rule holds; without a GPU only the
    allocation fails (MemoryError), never the sizes (RuntimeError)."""
    mr = real("rmm").mr
    initial, maximum = pool_sizes(limit)
    try:
        mr.PoolMemoryResource(mr.CudaMemoryResource(), initial_pool_size=initial, maximum_pool_size=maximum)
    except MemoryError:
        pass  # no device to allocate the initial pool from
    if limit:
        stats = mr.StatisticsResourceAdaptor(mr.CudaMemoryResource())
        assert mr.LimitingResourceAdaptor(stats, int(limit)).get_allocation_limit() == int(limit)


@pytest.mark.parametrize("limit", LIMITS)
def test_the_backends_rmm_stack_builds_for_any_size(limit):
    """The whole stack as the gpu backend builds it, on the real RMM (the emulated CuPy beneath)."""
    rmm = real("rmm")
    importlib.import_module("rmm.allocators.cupy")
    modules = {name: m for name, m in sys.modules.items() if name.split(".")[0] == "rmm"}
    try:  # on a GPU, put back the resource later tests allocate through
        current = rmm.mr.get_current_device_resource()
    except RuntimeError:  # no device: RmmAllocator fails before it installs anything
        current = None
    with fake_cupy.installed() as cupy:
        sys.modules.update(modules)  # the real RMM, which the emulation hides by default
        try:
            RmmAllocator(cupy, rmm, limit)
        except MemoryError:
            pass  # the initial pool: no device here
        finally:
            if current is not None:
                rmm.mr.set_current_device_resource(current)


@pytest.mark.parametrize("initial, maximum", [(1_000_000, None), (256 * 4000, 1_000_000), (256, 2560),
                                              (512, 256), (None, 2.3e9 // 256 * 256), (1, None)])
def test_fake_pool_refuses_what_rmm_refuses(initial, maximum):
    mr = real("rmm").mr

    def refused(module):
        try:
            module.PoolMemoryResource(module.CudaMemoryResource(), initial_pool_size=initial,
                                      maximum_pool_size=None if maximum is None else int(maximum))
        except RuntimeError as exc:  # a size refused; else CUDA's own error (no device here)
            text = str(exc)
            return text[text.index(text.split("pool size")[0].split()[-1]):] if "pool size" in text else None
        except MemoryError:
            return None
        return None

    with fake_cupy.installed(), fake_rmm.installed() as fake:
        fake_says = refused(fake.mr)
    assert fake_says == refused(mr)


def test_rmm_has_every_name_gpuclf_calls():
    rmm = real("rmm")
    from rmm.allocators.cupy import rmm_cupy_allocator  # noqa: F401

    mr = rmm.mr
    assert callable(mr.PoolMemoryResource.pool_size)
    for name in ("push_counters", "pop_counters", "allocation_counts"):
        assert hasattr(mr.StatisticsResourceAdaptor, name), name
    for name in ("get_allocation_limit", "get_allocated_bytes"):
        assert hasattr(mr.LimitingResourceAdaptor, name), name
    assert callable(mr.set_current_device_resource)


# ----------------------------------------------------------------------------- cuDF

def _reader_keywords() -> dict:
    """``{"read_csv": {"header", ...}}``: every keyword gpuclf's source passes to a cuDF reader."""
    found = {}
    for path in (ROOT / "gpuclf").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "cudf"):
                found.setdefault(node.func.attr, set()).update(k.arg for k in node.keywords if k.arg)
    return found


def test_gpuclf_calls_cudf_readers():
    assert {"read_csv", "read_parquet"} <= set(_reader_keywords())


@pytest.mark.parametrize("reader", sorted(_reader_keywords()))
def test_cudf_readers_take_every_keyword_gpuclf_passes(reader):
    import fake_cudf

    cudf = real("cudf")
    keywords = _reader_keywords()[reader]
    for module in (cudf, fake_cudf):
        params = inspect.signature(getattr(module, reader)).parameters
        takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values()) and module is fake_cudf
        assert keywords <= set(params) or takes_any, (module.__name__, keywords - set(params))


def test_fake_to_cupy_has_cudfs_signature():
    import fake_cudf

    cudf = real("cudf")
    real_params = list(inspect.signature(cudf.DataFrame.to_cupy).parameters)
    assert list(inspect.signature(fake_cudf.DataFrame.to_cupy).parameters) == real_params


# ----------------------------------------------------------------------------- CuPy

SIGNATURES = [("float32", "float32", "float32"), ("float32", "float64", "float32"),
              ("float64", "float64", "float32"), ("float64", "float64", "float64"), ("float32", "float32", "float64")]


@pytest.mark.parametrize("x, y, z", SIGNATURES)
def test_fake_kernel_binds_types_as_cupy_does(x, y, z):
    """CuPy binds ``T`` from the arguments without promotion: mixed dtypes are ``TypeError: Type is
    mismatched``; the emulation refuses the same calls."""
    cupy = real("cupy")
    kernel = cupy.ElementwiseKernel("T x, T y", "T z", "z = x + y", "gpuclf_contract")
    try:
        kernel._decide_params_type((np.dtype(x), np.dtype(y)), (np.dtype(z),))
        cupy_refuses = False
    except TypeError as exc:
        cupy_refuses = "Type is mismatched" in str(exc)
    with fake_cupy.installed() as cp:
        fake = cp.ElementwiseKernel("T x, T y", "T z", "z = x + y", "gpuclf_contract")
        args = [cp.asarray(np.ones(3, dtype)) for dtype in (x, y, z)]
        try:
            fake(*args)
            fake_refuses = False
        except TypeError as exc:
            fake_refuses = "Type is mismatched" in str(exc)
    assert fake_refuses == cupy_refuses


def test_fake_reduction_threshold_is_cupys():
    real("cupy")
    from cupy._core import _cub_reduction

    assert fake_cupy.CUB_REDUCE_SIZE_THRESHOLD == _cub_reduction._CUB_REDUCE_SIZE_THRESHOLD


def test_fake_refuses_the_sort_kinds_and_the_axisless_gather_cupy_refuses():
    """NumPy 2 accepts ``take_along_axis(a, i)`` and any sort ``kind``; CuPy takes ``axis`` as a required
    argument and ``kind`` None or "stable" only. The emulation refuses the same calls, so a kernel that
    relies on NumPy's leniency fails on it as it would on a GPU."""
    cupy = real("cupy")
    assert inspect.signature(cupy.take_along_axis).parameters["axis"].default is inspect.Parameter.empty
    with pytest.raises(ValueError, match="kind can only be None or 'stable'"):
        cupy._core.core._ndarray_base._check_kind_sort("quicksort")
    with fake_cupy.installed() as cp:
        a = cp.asarray(np.array([[3.0, 1.0, 2.0]]))
        order = cp.argsort(a, axis=-1, kind="stable")
        with pytest.raises(TypeError, match="required positional argument: 'axis'"):
            cp.take_along_axis(a, order)
        assert cp.take_along_axis(a, order, -1).get().tolist() == [[1.0, 2.0, 3.0]]
        for call in (lambda: a.argsort(kind="quicksort"), lambda: cp.sort(a, -1, "heapsort"),
                     lambda: cp.argsort(a, kind="STABLE")):
            with pytest.raises(ValueError, match="kind can only be None or 'stable'"):
                call()
        assert a.argsort(-1, None).get().tolist() == [[1, 2, 0]]
        # NumPy reads reshape(a, None) as "keep the shape"; CuPy's shape is integers only.
        for call in (lambda: cp.reshape(a, None), lambda: a.reshape(None), lambda: a.reshape(3, None)):
            with pytest.raises(TypeError):
                call()
        assert cp.reshape(a, (3,)).shape == (3,) and a.reshape(-1, 1).shape == (3, 1)


@pytest.mark.parametrize("args", [(np.zeros(2, np.float32), np.float64), (np.zeros(2, np.uint8), np.zeros(1, np.float32)),
                                  (np.float32, np.int64)])
def test_fake_result_type_takes_host_arrays_as_cupy_does(args):
    """``cupy.result_type`` reads a NumPy array's dtype (no device needed); the emulation agrees, device arrays
    counting by their dtype."""
    cupy = real("cupy")
    expected = cupy.result_type(*args)
    with fake_cupy.installed() as cp:
        assert cp.result_type(*args) == expected
        on_device = [cp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
        assert cp.result_type(*on_device) == expected
