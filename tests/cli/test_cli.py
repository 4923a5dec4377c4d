"""Command line: runs, one-line errors with exit code 2, nothing half-written, resume."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from gpuclf.cli import main

QUICK = ["--backend", "cpu", "--data", "sample", "--train-size", "1500", "--test-size", "300", "--no-report",
         "--quiet"]


def run_cli(*args, env=None):
    """Run ``python -m gpuclf`` in a subprocess: exit code, stdout, stderr."""
    proc = subprocess.run([sys.executable, "-m", "gpuclf", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)
    return proc.returncode, proc.stdout, proc.stderr


def assert_one_line_error(code, err, expected):
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("gpuclf: error: "), err
    assert expected in lines[0], lines[0]


def test_run_writes_results(tmp_path):
    out = tmp_path / "out"
    assert main(["run", *QUICK, "--steps", "data,binary_cv,binary_metrics", "--out", str(out)]) == 0
    doc = json.loads((out / "results.json").read_text())
    assert doc["backend"] == "cpu" and list(doc["steps"]) == ["data", "binary_cv", "binary_metrics"]
    assert doc["steps"]["data"]["n_train"] == 1500
    cm = np.array(doc["steps"]["binary_metrics"]["confusion_matrix"])
    assert cm.sum() == 1500 and cm[1].sum() == doc["steps"]["data"]["train_class_counts"][5]
    assert set(doc["seconds"]) == set(doc["steps"])
    assert doc["placement"]["binary_cv"]["sgd"] == {"device": "cpu", "library": "scikit-learn", "note": ""}
    assert not [p for p in os.listdir(out) if p.startswith(".tmp-")]


def _bad_npz(tmp_path, **arrays):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return str(path)


@pytest.mark.parametrize("make, expected", [
    (lambda t: _bad_npz(t, X=np.full((70, 784), np.nan), y=np.zeros(70)), "NaN or infinite"),
    (lambda t: _bad_npz(t, X=np.zeros((70, 780)), y=np.zeros(70)), "780 columns"),
    (lambda t: _bad_npz(t, X=np.full((70, 784), 300), y=np.zeros(70)), "0..255"),
    (lambda t: _bad_npz(t, X=np.zeros((70, 784)), y=np.full(70, 12)), "label 12"),
    (lambda t: _bad_npz(t, X=np.zeros((0, 784)), y=np.zeros(0)), "empty"),
    (lambda t: str(t / "missing.npz"), "does not exist"),
])
def test_bad_data_one_line_and_nothing_written(tmp_path, make, expected):
    out = tmp_path / "out"
    code, _, err = run_cli("run", "--backend", "cpu", "--data", make(tmp_path), "--out", str(out))
    assert_one_line_error(code, err, expected)
    assert not out.exists()


@pytest.mark.parametrize("args, expected", [
    (["--steps", "binary_cv,frobnicate"], "unknown step(s) frobnicate"),
    (["--backend", "tpu"], "unknown backend 'tpu'"),
])
def test_bad_options(tmp_path, capsys, args, expected):
    out = tmp_path / "out"
    code = main(["run", "--data", "sample", "--out", str(out), *args])
    assert_one_line_error(code, capsys.readouterr().err, expected)
    assert not out.exists()


def test_gpu_backend_without_cuda_says_what_to_do(tmp_path, capsys):
    from gpuclf.backends.gpu import cupy_status

    if cupy_status()[0]:
        pytest.skip("a CUDA device is usable here")
    code = main(["run", "--backend", "gpu", "--data", "sample", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert_one_line_error(code, err, "--backend gpu is not available")
    assert "CuPy" in err or "CUDA" in err


def test_out_not_writable(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    code = main(["run", *QUICK, "--steps", "data", "--out", str(blocker / "sub")])
    assert_one_line_error(code, capsys.readouterr().err, f"--out {str(blocker / 'sub')!r}: {str(blocker)!r} is a file, "
                          "not a folder")


def test_fewer_samples_than_folds(tmp_path, capsys):
    code = main(["run", *QUICK[:-6], "--train-size", "2", "--test-size", "2", "--quiet", "--no-report",
                 "--steps", "binary_cv", "--out", str(tmp_path / "o")])
    assert_one_line_error(code, capsys.readouterr().err, "fold")


def test_killed_run_resumes(tmp_path):
    out = tmp_path / "out"
    steps = ["data", "binary_sgd", "binary_cv", "binary_metrics", "multilabel", "denoise"]
    args = [*QUICK, "--steps", ",".join(steps), "--out", str(out)]
    proc = subprocess.Popen([sys.executable, "-m", "gpuclf", "run", *args], stderr=subprocess.DEVNULL)
    results = out / "results.json"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if results.exists() and len(json.loads(results.read_text())["steps"]) >= 2:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    before = json.loads(results.read_text())
    done = list(before["steps"])
    assert 2 <= len(done) < 6
    code, _, err = run_cli("run", *args, "--resume")
    assert code == 0, err
    after = json.loads(results.read_text())
    assert list(after["steps"]) == steps
    for step in done:  # finished steps were kept, not recomputed
        assert after["seconds"][step] == before["seconds"][step]
        assert after["steps"][step] == before["steps"][step]


def test_resume_refuses_other_seed(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", *QUICK, "--steps", "data", "--out", str(out)]) == 0
    code = main(["run", *QUICK, "--steps", "data", "--out", str(out), "--resume", "--seed", "7"])
    assert_one_line_error(code, capsys.readouterr().err, "--seed 7 contradicts the run recorded in")


def test_info_reports_versions_and_backends():
    code, out, err = run_cli("info")
    assert code == 0, err
    assert "scikit-learn" in out and "backend cpu      available" in out
    assert "auto picks" in out
