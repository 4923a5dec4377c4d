"""``tools/gpu-check``, the one command for a lent GPU, run here on the emulated CuPy and a small subset.

On the emulation the gpu runs equal the numpy run figure for figure, the
warm-up leaves no kernel to compile in a timed step (kernels counted as
files in ``$CUPY_CACHE_DIR``, which the emulation writes as CuPy does), and
without cuML the forest and SVC are reported as run on the CPU.
"""
from __future__ import annotations

import csv
import importlib.machinery
import importlib.util
from pathlib import Path

import fake_cupy
from gpuclf.chapter import select_steps

ROOT = Path(__file__).resolve().parents[2]


def load_script():
    loader = importlib.machinery.SourceFileLoader("gpu_check", str(ROOT / "tools" / "gpu-check"))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("gpu_check", loader))
    loader.exec_module(module)
    return module


def test_gpu_check_on_the_emulation(tmp_path, capsys):
    script = load_script()
    out = tmp_path / "check"
    with fake_cupy.installed():
        assert script.main(["sample", "--out", str(out), "--train-size", "1000", "--test-size", "200",
                            "--in-process", "--pytest-args", "tests/kernels/test_sgd_step.py -m gpu"]) == 0
    printed = capsys.readouterr().out
    files = sorted(p.name for p in out.iterdir())
    assert files == ["gpu-cold.json", "gpu-warm.json", "numpy.json", "parity.md", "pytest.log", "runs.log",
                     "steps.csv", "summary.txt"]
    assert printed == (out / "summary.txt").read_text()
    rows = list(csv.DictReader((out / "steps.csv").open()))
    assert [r["step"] for r in rows] == select_steps(None)
    for r in rows:
        assert float(r["seconds_cold"]) >= 0 and float(r["seconds_warm"]) >= 0 and float(r["seconds_numpy"]) >= 0
        assert r["kernels_compiled_cold"] == r["kernels_compiled_warm"] == "0", r  # the warm-up compiled them
    assert "without cuML: forest, ovr_svc, svc ran on the CPU with scikit-learn" in printed
    assert "in timed steps" in printed and "outside tolerance" not in printed
    parity = (out / "parity.md").read_text()
    assert "| 5-detector precision |" in parity and "not the book's data" in parity
    assert "gpu tests: ok" in printed and "skipped" in (out / "pytest.log").read_text()


def test_extra_steps_are_added_to_the_default_run():
    script = load_script()
    defaults = select_steps(None)
    args = script.parse(["data.npz", "--extra-steps", defaults[0]])
    assert script.steps_of(args) == defaults
    assert script.steps_of(script.parse(["data.npz"])) == defaults
