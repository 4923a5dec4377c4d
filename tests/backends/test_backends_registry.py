"""Backend registry: choice, availability messages, roles and placement."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from gpuclf.backends import (ROLES, Backend, Placement, available_backends, backend_names, get_backend,
                             register_backend, resolve_backend_name)
from gpuclf.backends.gpu import cupy_status
from gpuclf.errors import GpuclfError

from conftest import backend_params


def test_cpu_and_numpy_always_available():
    assert {"cpu", "numpy"} <= set(available_backends())
    assert set(backend_names()) >= {"cpu", "gpu", "numpy"}


def test_auto_picks_gpu_only_with_cuda(monkeypatch):
    monkeypatch.delenv("GPUCLF_BACKEND", raising=False)
    name, why = resolve_backend_name(None)
    assert name == ("gpu" if cupy_status()[0] else "cpu")
    assert why.startswith("auto (default)")


def test_env_var_chooses(monkeypatch):
    monkeypatch.setenv("GPUCLF_BACKEND", "numpy")
    assert resolve_backend_name(None) == ("numpy", "$GPUCLF_BACKEND")
    assert get_backend().name == "numpy"
    # An explicit argument wins over the environment.
    assert get_backend("cpu").name == "cpu"


def test_unknown_backend():
    with pytest.raises(GpuclfError, match="unknown backend 'tpu'; choose one of auto"):
        get_backend("tpu")


@pytest.mark.skipif(cupy_status()[0], reason="a CUDA device is usable here")
def test_gpu_unavailable_message():
    with pytest.raises(GpuclfError, match="--backend gpu is not available: .*(CuPy|CUDA)") as info:
        get_backend("gpu")
    assert "pip install" in str(info.value) or "CUDA" in str(info.value)


def test_register_a_backend():
    class Tiny(type(get_backend("cpu"))):
        name = "tiny"

    register_backend("tiny", Tiny)
    try:
        assert get_backend("tiny").name == "tiny"
    finally:
        from gpuclf.backends import _REGISTRY

        del _REGISTRY["tiny"]


def test_options_for_other_backends_are_ignored():
    assert get_backend("cpu", n_jobs=2, max_gpu_memory=2**30).n_jobs == 2


@pytest.mark.parametrize("name", backend_params())
@pytest.mark.parametrize("role", ROLES)
def test_every_role_builds_a_cloneable_estimator(name, role):
    backend = get_backend(name)
    est = backend.estimator(role)
    copy = clone(est)
    assert type(copy) is type(est) and repr(copy) == repr(est)
    assert copy.get_params(deep=False).keys() == est.get_params(deep=False).keys()
    placement = backend.placement(role)
    assert isinstance(placement, Placement) and placement.device in ("cpu", "gpu")


def test_numpy_backend_says_where_forest_runs():
    p = get_backend("numpy").placement("forest")
    assert (p.device, p.library) == ("cpu", "scikit-learn") and "scikit-learn" in p.note
    assert get_backend("numpy").placement("sgd") == Placement("cpu", "gpuclf")


@pytest.mark.parametrize("name", backend_params())
def test_unknown_role(name):
    with pytest.raises(GpuclfError, match="unknown estimator role 'tree'"):
        get_backend(name).estimator("tree")


@pytest.mark.parametrize("name", backend_params())
def test_arrays_round_trip(name):
    backend = get_backend(name)
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    dev = backend.asarray(a, backend.feature_dtype)
    np.testing.assert_array_equal(backend.to_host(dev), a)
    assert isinstance(backend.to_host(dev), np.ndarray)
    assert issubclass(type(backend), Backend)


def test_on_host_fallback_matches_sklearn(sample_mnist):
    """The GPU backend wraps scikit-learn fallbacks in OnHost; same answers, same CV."""
    from sklearn.svm import SVC

    from gpuclf.backends.kernel import OnHost

    d = sample_mnist.subsample(600, 100)
    wrapped = OnHost(SVC(random_state=42)).fit(d.X_train, d.y_train)
    plain = SVC(random_state=42).fit(d.X_train, d.y_train)
    np.testing.assert_array_equal(wrapped.predict(d.X_test), plain.predict(d.X_test))
    np.testing.assert_allclose(wrapped.decision_function(d.X_test), plain.decision_function(d.X_test))
    np.testing.assert_array_equal(wrapped.classes_, plain.classes_)
    backend = get_backend("numpy")
    np.testing.assert_array_equal(
        backend.cross_val_predict(OnHost(SVC(random_state=42)), d.X_train, d.y_train),
        get_backend("cpu").cross_val_predict(SVC(random_state=42), d.X_train, d.y_train))
