"""Reliability: determinism, chunked kernels under a memory budget, out-of-memory messages."""
from __future__ import annotations

import numpy as np
import pytest

from gpuclf import RunConfig, get_backend, run_workflow
from gpuclf.backends.kernel import NumpyBackend
from gpuclf.errors import GpuclfError

STEPS = ["binary_sgd", "binary_cv", "binary_metrics", "binary_tradeoff", "multilabel", "denoise"]


@pytest.mark.parametrize("name", ["cpu", "numpy"])
def test_same_seed_same_figures(name, sample_mnist, tmp_path):
    data = sample_mnist.subsample(1200, 200)
    docs = [run_workflow(get_backend(name), data, RunConfig(steps=STEPS), str(tmp_path / str(i)),
                         progress=False).doc["steps"] for i in range(2)]
    assert docs[0] == docs[1]


def test_other_seed_changes_sgd(sample_mnist, tmp_path):
    data = sample_mnist.subsample(1200, 200)
    runs = [run_workflow(get_backend("numpy"), data, RunConfig(steps=["binary_sgd"], random_state=s),
                         str(tmp_path / str(s)), progress=False).doc["steps"] for s in (1, 2)]
    assert runs[0]["binary_sgd"]["first_scores"] != runs[1]["binary_sgd"]["first_scores"]


def test_tiny_memory_budget_gives_identical_results(sample_mnist, tmp_path):
    """The KNN steps chunk their n_query x n_train work; a 1 MiB budget means many chunks."""
    data = sample_mnist.subsample(2000, 300)
    steps = ["multilabel", "denoise", "best_accuracy"]
    config = RunConfig(steps=steps, grid_train_size=1000)
    big = run_workflow(NumpyBackend(), data, config, str(tmp_path / "big"), progress=False).doc["steps"]
    small = run_workflow(NumpyBackend(budget_bytes=2**20), data, config, str(tmp_path / "small"),
                         progress=False).doc["steps"]
    assert small == big


def test_out_of_memory_names_step_and_option(sample_mnist, tmp_path, monkeypatch):
    class OutOfMemoryError(MemoryError):  # what CuPy raises, by name
        pass

    def exhausted(ctx):
        raise OutOfMemoryError("out of memory allocating 1,073,741,824 bytes")

    monkeypatch.setitem(__import__("gpuclf.chapter").chapter.STEPS, "denoise", exhausted)
    # From Python, the advice names get_backend's parameter (the command line says --max-gpu-memory).
    with pytest.raises(GpuclfError, match=r"step denoise ran out of GPU memory.*get_backend\('gpu', max_gpu_memory="):
        run_workflow(get_backend("numpy"), sample_mnist.subsample(500, 100), RunConfig(steps=["denoise"]),
                     str(tmp_path), progress=False)


def test_results_survive_a_failing_step(sample_mnist, tmp_path, monkeypatch):
    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setitem(__import__("gpuclf.chapter").chapter.STEPS, "multilabel", broken)
    with pytest.raises(RuntimeError):
        run_workflow(get_backend("numpy"), sample_mnist.subsample(500, 100),
                     RunConfig(steps=["data", "binary_cv", "multilabel"]), str(tmp_path), progress=False)
    import json

    doc = json.loads((tmp_path / "results.json").read_text())
    assert list(doc["steps"]) == ["data", "binary_cv"]
    assert np.isfinite(doc["steps"]["binary_cv"]["sgd_cv_accuracy"]).all()
