"""The default run and ``knn_plus`` at MNIST's full size (60,000 / 10,000 rows), emulated, on the GPUs people have.

The emulated CuPy (``tests/fake_cupy.py``) runs them without computing the
gigabyte matrices: arrays of 256 MiB or more are *virtual* (shape, dtype,
strides, memory and CuPy's index width, no elements), everything smaller is
computed. That is every array but the distance chunks of the neighbour
searches, so the data, the SGD, the curves and the votes' shapes are the
real run's, and the kernel signatures and memory peaks are what CuPy would
see; the figures are not (the searches return zeros).

What this shows, on the Tesla T4 profile (16 GB, the smallest; see
``fake_cupy.PROFILES``):

- no kernel is compiled inside a timed step: every kernel signature of each
  step, index width included, was compiled by the warm-up (on 5,125 rows),
  and none is a 64-bit-index variant;
- the default run fits, and at which peak; and since every chunk budget the
  run computes there is above ``MAX_CHUNK_BYTES``, the 2 GiB cap and not
  the device sets the chunks, so the run chunks and peaks the same on the
  RTX 4090, H100 and H200 (checked against each profile's memory);
- without the cap (the code before issue 31), the augmentation's distance
  chunk is 64-bit on the same T4, and its kernels compile inside the timed step.

To keep it cheap, what runs on the host without cuML is smaller: the forest
has 10 trees instead of 100, the SVCs train on 500 and 300 rows instead of
2,000 and 1,000 (scikit-learn's, on host copies: no device array depends on
them but the views ``X[:n]``); and the CV of ``knn_plus`` runs on 1,000 rows
instead of 10,000 (at 10,000 its largest array is a 3,334 x 6,666 float32
distance block, 89 MB, far under the final search's 2 GiB chunks, and the CV
is most of its cost).
"""
from __future__ import annotations

import dataclasses

import fake_cupy
import numpy as np
import pytest
from step_kernels import kernels_per_step

import gpuclf.chapter as chapter
from gpuclf import RunConfig, get_backend, run_workflow
from gpuclf.backends.gpu import GpuBackend
from gpuclf.kernels import chunking

VIRTUAL_BYTES = 256 * 2**20
FULL = (60_000, 10_000)
#: Smaller host-side work (see above); every other option is the default run's.
HOST_SIDE = dict(n_estimators=10, svc_train_size=500, ovr_train_size=300, knn_plus_cv_rows=1000)
STEPS = chapter.select_steps(None) + ["knn_plus"]


@pytest.fixture(scope="module")
def full_mnist(sample_mnist):
    """MNIST's shapes from the offline sample's digits (repeated), so real MNIST is not needed."""
    d = sample_mnist
    return dataclasses.replace(d, X_train=np.tile(d.X_train, (15, 1)), y_train=np.tile(d.y_train, 15),
                               X_test=np.tile(d.X_test, (10, 1)), y_test=np.tile(d.y_test, 10))


def emulated_run(data, out, profile: str, steps=None, **config):
    """The run on ``profile``: its results document, the kernels new in each timed step, and the budgets asked."""
    budgets, budget = [], GpuBackend.memory_budget

    def recorded(self):
        budgets.append(budget(self))
        return budgets[-1]

    with fake_cupy.installed(profile=profile, virtual_bytes=VIRTUAL_BYTES), kernels_per_step() as new:
        GpuBackend.memory_budget = recorded
        try:
            doc = run_workflow(get_backend("gpu"), data, RunConfig(steps=steps, **{**HOST_SIDE, **config}), str(out),
                               progress=False).doc
        finally:
            GpuBackend.memory_budget = budget
        kernels = set(fake_cupy.stats["kernels"])
    return doc, new, budgets, kernels


@pytest.fixture(scope="module")
def t4_run(full_mnist, tmp_path_factory):
    """The default run and knn_plus on the T4."""
    return emulated_run(full_mnist, tmp_path_factory.mktemp("t4"), "t4", steps=STEPS)


def test_no_kernel_compiles_inside_a_timed_step_at_full_size(t4_run, full_mnist):
    doc, new, _, kernels = t4_run
    assert (doc["n_train"], doc["n_test"]) == FULL and list(doc["steps"]) == STEPS
    assert doc["warmup"]["rows"] < FULL[0] and not doc["warmup"]["skipped"]
    assert {step: sorted(map(str, found)) for step, found in new.items() if found} == {}
    assert [k for k in kernels if k[4] != "32"] == []
    # The emulation did reason about the big arrays: the searches' chunks were virtual, and capped.
    assert doc["memory"]["augmentation"]["device_peak_bytes"] > chunking.MAX_CHUNK_BYTES


@pytest.mark.parametrize("profile", sorted(fake_cupy.PROFILES))
def test_the_default_run_and_knn_plus_fit_every_profile(t4_run, profile):
    doc, _, budgets, _ = t4_run
    peaks = {step: m["device_peak_bytes"] for step, m in doc["memory"].items()}
    machine = fake_cupy.PROFILES[profile]
    usable = machine["device_bytes"] - machine["context_bytes"]
    # On the T4 every budget is above the cap: the cap sets the chunks there, and so on any larger device.
    assert min(budgets) > chunking.MAX_CHUNK_BYTES and usable >= fake_cupy.PROFILES["t4"]["device_bytes"] - \
        fake_cupy.PROFILES["t4"]["context_bytes"]
    assert max(peaks.values()) < usable, (profile, peaks)
    # The peaks, for the record (docs/gpu-checks.md): the searches' steps are the largest, knn_plus's (its
    # shifted queries against the 60,000 rows) first, then the augmentation's 300,000 rows.
    assert max(peaks, key=peaks.get) == "knn_plus"
    assert 2.5 * 2**30 < peaks["augmentation"] < peaks["knn_plus"] < 4 * 2**30


def test_without_the_cap_the_augmentation_compiles_64_bit_kernels_in_its_timed_step(full_mnist, tmp_path,
                                                                                      monkeypatch):
    """The negative control: issue 31's defect, reproduced by lifting the cap."""
    monkeypatch.setattr(chunking, "MAX_CHUNK_BYTES", 2**62)
    _, new, _, _ = emulated_run(full_mnist, tmp_path, "t4", steps=["augmentation"])
    wide = {name for name, *_, index in new["augmentation"] if index != "32"}
    # The candidate mask's compare over a chunk of scores and the scatter take CArray arguments; argmin
    # is a CUB block reduction over raw pointers (``_cub_reduction.pyx``), the same kernel at any size.
    assert {"less_equal.__call__", "setitem"} <= wide, new["augmentation"]
