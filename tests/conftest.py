"""Shared fixtures: backends available here, real MNIST when $GPUCLF_MNIST names it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

# Tests live in rooms (tests/kernels, tests/data, ...) named as gpuclf's; their file names are unique, and a
# few import helpers from a test of another room (``from test_kernels_images import reference_moments``).
sys.path[1:1] = sorted(str(room) for room in Path(__file__).parent.iterdir()
                       if room.is_dir() and str(room) not in sys.path and not room.name.startswith((".", "__")))

from gpuclf.backends import available_backends  # noqa: E402
from gpuclf.backends.gpu import cupy_status  # noqa: E402
from gpuclf.chapter.published import BOOK_THRESHOLDS  # noqa: E402

GPU_OK, GPU_REASON = cupy_status()
REAL_MNIST = os.environ.get("GPUCLF_MNIST")
REAL_REASON = "real MNIST not available: set GPUCLF_MNIST to an npz with X (70000x784) and y"


def pytest_collection_modifyitems(config, items):
    skip_gpu = pytest.mark.skip(reason=f"no usable CUDA device: {GPU_REASON}")
    for item in items:
        # cuML runs on a device: with the RAPIDS wheels installed and no GPU, its tests skip too. The markers
        # themselves, not item.keywords: those also hold the folder names, and tests/gpu/ is a folder.
        if (item.get_closest_marker("gpu") or item.get_closest_marker("cuml")) and not GPU_OK:
            item.add_marker(skip_gpu)


@pytest.fixture(scope="session")
def real_mnist():
    """Real MNIST (OpenML order) as an MnistData, or skip with the reason."""
    if not REAL_MNIST or not os.path.isfile(REAL_MNIST):
        pytest.skip(REAL_REASON)
    from gpuclf.data import load_mnist

    return load_mnist(REAL_MNIST)


@pytest.fixture(scope="session")
def sample_mnist():
    """The offline 5,000-digit sample (4,000 train / 1,000 test)."""
    from gpuclf.data import load_mnist

    return load_mnist("sample")


def backend_params():
    """Every backend usable here, as pytest params (gpu ones carry the gpu marker)."""
    names = available_backends()
    return [pytest.param(n, marks=pytest.mark.gpu) if n == "gpu" else n for n in names]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


BINARY_STEPS = ["binary_cv", "binary_metrics", "binary_tradeoff", "binary_roc"]


def run_steps(backend_name, data, steps, out_dir, **config):
    """Run workflow steps through the public API; returns the ``results.json`` document."""
    from gpuclf import RunConfig, get_backend, run_workflow

    backend = get_backend(backend_name, n_jobs=2)
    store = run_workflow(backend, data, RunConfig(steps=steps, **config), str(out_dir), progress=False)
    return store.doc


@pytest.fixture(scope="session")
def real_binary_results(real_mnist, tmp_path_factory):
    """The 5-detector steps on full real MNIST, per backend (computed once per session)."""
    cache = {}

    def get(backend_name):
        if backend_name not in cache:
            out = tmp_path_factory.mktemp(f"binary-{backend_name}")
            # The book's example thresholds too: they are in scikit-learn's units on this data.
            cache[backend_name] = run_steps(backend_name, real_mnist, BINARY_STEPS, out, n_estimators=10,
                                            thresholds=BOOK_THRESHOLDS)
        return cache[backend_name]

    return get
