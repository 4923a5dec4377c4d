"""``tools/gpu-check``, the one command for a lent GPU, run here on the emulated CuPy and a small subset.

Its phases run as the separate processes they are on a GPU machine: each
starts with ``tests/gpu/emulated_site`` on ``PYTHONPATH``, whose
``sitecustomize`` imports the emulated CuPy as ``cupy`` (reading
``$CUPY_CACHE_DIR`` once, as CuPy does). On the emulation the gpu runs equal
the numpy run figure for figure, the warm-up leaves no kernel to compile in a
timed step (kernels counted as files in ``$CUPY_CACHE_DIR``, which the
emulation writes as CuPy does), the cold run compiles into a cache of its
own, and without cuML the forest and SVC are reported as run on the CPU.
"""
from __future__ import annotations

import csv
import importlib.machinery
import importlib.util
import json
import os
from pathlib import Path

import pytest

import fake_cupy
from gpuclf.chapter import STEPS, select_steps

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "tests" / "gpu" / "emulated_site"
SMALL = ["--train-size", "1000", "--test-size", "200"]
FILES = ["gpu-cold.json", "gpu-warm.json", "kernels.json", "numpy.json", "parity.md", "pytest.log", "runs.log",
         "steps.csv", "summary.txt"]
#: A test phase that compiles kernels (the SGD kernels against their NumPy twins, on the emulated device).
COMPILING_TESTS = "tests/kernels/test_sgd_step.py -m gpu"


def load_script():
    loader = importlib.machinery.SourceFileLoader("gpu_check", str(ROOT / "tools" / "gpu-check"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("gpu_check", loader))
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def emulated_processes():
    """Every process gpu-check starts imports the emulated CuPy."""
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "GPUCLF_EMULATE_GPU", "CUPY_CACHE_DIR")}
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SITE), saved["PYTHONPATH"]]))
    os.environ["GPUCLF_EMULATE_GPU"] = "1"
    os.environ.pop("CUPY_CACHE_DIR", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def checked(emulated_processes, tmp_path_factory):
    """gpu-check with every phase, its test phase compiling kernels; its folder and what it printed."""
    out = tmp_path_factory.mktemp("check")
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert load_script().main(["sample", "--out", str(out), *SMALL, "--pytest-args", COMPILING_TESTS]) == 0
    return out, printed.getvalue()


def test_gpu_check_on_the_emulation(checked):
    out, printed = checked
    assert sorted(p.name for p in out.iterdir()) == FILES
    assert printed == (out / "summary.txt").read_text()
    rows = list(csv.DictReader((out / "steps.csv").open()))
    assert [r["step"] for r in rows] == select_steps(None)
    for r in rows:
        assert float(r["seconds_cold"]) >= 0 and float(r["seconds_warm"]) >= 0 and float(r["seconds_numpy"]) >= 0
        assert r["kernels_compiled_cold"] == r["kernels_compiled_warm"] == "0", r  # the warm-up compiled them
        assert r["done_cold"] == r["done_warm"] == r["done_numpy"] == "True"
    kernels = json.loads((out / "kernels.json").read_text())
    # Compiled by the warm-up, and outside the steps the availability probe's one kernel (gpuclf_probe).
    assert kernels["cold"]["complete"] and kernels["cold"]["warmup"] > 0 and kernels["cold"]["outside_steps"] == 1
    assert kernels["warm"]["total"] == 0  # every kernel came from the cold run's cache
    assert kernels["tests"]["total"] > 0  # the test phase compiled too, into its own cache
    assert "without cuML: forest, ovr_svc, svc ran on the CPU with scikit-learn" in printed
    assert "in timed steps" in printed and "outside tolerance" not in printed and "INCOMPLETE" not in printed
    parity = (out / "parity.md").read_text()
    assert "| 5-detector precision |" in parity and "not the book's data" in parity
    assert "tests: ok" in printed and " passed" in (out / "pytest.log").read_text()
    for name in ("gpu-cold.json", "gpu-warm.json", "numpy.json"):
        doc = json.loads((out / name).read_text())
        assert doc["gpu_check"]["complete"] and doc["gpu_check"]["steps_finished"] == select_steps(None)


def test_the_cold_run_compiles_the_same_kernels_without_the_test_phase(checked, tmp_path):
    """The test phase compiled kernels (above); the cold run, in a cache of its own, compiled as many without it."""
    out, _ = checked
    with_tests = json.loads((out / "kernels.json").read_text())["cold"]["total"]
    assert load_script().main(["sample", "--out", str(tmp_path), *SMALL, "--phases", "cold"]) == 0
    alone = json.loads((tmp_path / "kernels.json").read_text())
    assert alone["cold"]["total"] == with_tests and alone["tests"]["total"] == 0


def test_phases_stopped_at_their_limit_leave_every_file_marked_incomplete(emulated_processes, tmp_path):
    script = load_script()
    out = tmp_path / "check"
    assert script.main(["sample", "--out", str(out), *SMALL, "--phases", "tests,cold,numpy", "--tests-seconds", "0",
                        "--run-seconds", "0", "--numpy-seconds", "0"]) == 0
    assert sorted(p.name for p in out.iterdir()) == FILES
    summary = (out / "summary.txt").read_text()
    assert "tests: stopped at its 0 s limit" in summary and "cold: stopped at its 0 s limit" in summary
    assert "INCOMPLETE: cold, warm, numpy did not finish" in summary
    assert "INCOMPLETE" in (out / "pytest.log").read_text() and "INCOMPLETE" in (out / "runs.log").read_text()
    assert (out / "parity.md").read_text().startswith("INCOMPLETE")
    kernels = json.loads((out / "kernels.json").read_text())
    assert not kernels["tests"]["complete"] and not kernels["cold"]["complete"] and not kernels["warm"]["complete"]
    for name in ("gpu-cold.json", "gpu-warm.json", "numpy.json"):
        assert json.loads((out / name).read_text())["gpu_check"]["complete"] is False
    assert all(r["done_cold"] == "False" for r in csv.DictReader((out / "steps.csv").open()))


def test_a_stopped_gpu_run_keeps_its_kernel_counts(sample_mnist, tmp_path, monkeypatch):
    """kernels.json is written after every step: a run stopped in its third step keeps the first two's counts."""
    script = load_script()
    original = STEPS["binary_cv"]

    def interrupted(ctx):
        if ctx.config.n_estimators >= 10:  # the timed call, not the warm-up's
            raise KeyboardInterrupt
        return original(ctx)

    monkeypatch.setenv("CUPY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setitem(STEPS, "binary_cv", interrupted)
    with fake_cupy.installed():  # the command line turns Ctrl-C into its exit status, finished steps saved
        assert script.run_gpuclf("gpu", "sample", str(tmp_path / "run"), ["data", "binary_sgd", "binary_cv"],
                                 SMALL) != 0
    kernels = json.loads((tmp_path / "run" / "kernels.json").read_text())
    assert kernels["complete"] is False and 0 < kernels["total"] <= len(os.listdir(tmp_path / "cache"))
    assert kernels["timed_steps"] == {"data": 0, "binary_sgd": 0, "binary_cv": 0}
    assert kernels["warmup"] == kernels["total"] - kernels["outside_steps"] and kernels["outside_steps"] == 1


def test_extra_steps_are_added_to_the_default_run():
    script = load_script()
    defaults = select_steps(None)
    args = script.parse(["data.npz", "--extra-steps", defaults[0]])
    assert script.steps_of(args) == defaults
    assert script.steps_of(script.parse(["data.npz"])) == defaults


def test_the_default_test_phase_leaves_out_the_estimator_checks_and_real_mnist():
    args = load_script().parse(["data.npz"])
    assert "not realdata" in args.pytest_args and "not test_sklearn_checks_on_device" in args.pytest_args
    assert "not test_parity" in args.pytest_args
