"""Families 4 and 5, issue 11 §4: resuming damaged or foreign state, the output folder, one writer at a time."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from cli_errors import assert_one_line_error, run_main

QUICK = ["--backend", "numpy", "--data", "sample", "--train-size", "300", "--test-size", "60", "--quiet"]


@pytest.fixture
def finished(tmp_path, capsys):
    """A finished two-step run (with arrays and a report) in tmp_path/out."""
    out = tmp_path / "out"
    code, err = run_main(capsys, "run", *QUICK, "--seed", "7", "--steps", "data,binary_sgd", "--out", out)
    assert code == 0, err
    return out


def _doc(out):
    return json.loads((out / "results.json").read_text())


# -- family 4: --resume on damaged or foreign state --------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("[]", "it holds a list, expected an object"),
    ('"results"', "it holds a string"),
    ("{", "is not valid (JSONDecodeError"),
    ('{"gpuclf_results": 2}', "'gpuclf_results' is not 1"),
])
def test_resume_refuses_results_json_of_the_wrong_shape(finished, capsys, text, expected):
    (finished / "results.json").write_text(text)
    code, err = run_main(capsys, "run", "--resume", "--out", finished)
    assert_one_line_error(code, err, "results.json", expected)
    assert (finished / "results.json").read_text() == text


@pytest.mark.parametrize("damage, expected", [
    (lambda d: d.update(steps=None), "'steps' is null, expected an object"),
    (lambda d: d["steps"].update(data=3), "steps['data'] is a number, expected an object"),
    (lambda d: d["seconds"].update(data="fast"), "seconds['data'] is a string, expected a number"),
    (lambda d: d.pop("config"), "'config' is missing"),
    (lambda d: d.update(n_train=True), "'n_train' is true/false"),
    (lambda d: d["config"].update(random_state=-4), "invalid --seed"),
    (lambda d: d["config"].update(steps=["data", "frobnicate"]), "invalid --steps"),
    (lambda d: d.update(data_origin=["sample"]), "does not record where its data came from"),
    (lambda d: d.update(backend="tpu"), "unknown backend 'tpu'"),
    (lambda d: d["config"].update(thresholds=["x"]), "invalid --thresholds"),
])
def test_resume_refuses_damaged_fields(finished, capsys, damage, expected):
    doc = _doc(finished)
    damage(doc)
    (finished / "results.json").write_text(json.dumps(doc))
    code, err = run_main(capsys, "run", "--resume", "--out", finished)
    assert_one_line_error(code, err, expected)


def test_binary_garbage_results_json(finished, capsys):
    (finished / "results.json").write_bytes(b"\xff\xfe\x00garbage")
    code, err = run_main(capsys, "run", "--resume", "--out", finished)
    assert_one_line_error(code, err, "results.json is not valid")


def test_damaged_arrays_skip_their_plots_with_a_note(finished, capsys):
    (finished / "arrays" / "data.npz").write_bytes(b"PK\x03\x04 not really")
    code, err = run_main(capsys, "run", "--resume", "--out", finished)  # all done: rebuilds the report
    assert code == 0, err
    page = (finished / "report.html").read_text()
    assert "Plots skipped" in page and "data.npz" in page


def test_damaged_arrays_one_line_from_load_arrays(finished):
    from gpuclf.errors import GpuclfError
    from gpuclf.run.store import load_arrays

    np.savez(finished / "arrays" / "data.npz", evil=np.array([object()], dtype=object), allow_pickle=True)
    with pytest.raises(GpuclfError, match="plot arrays .*data.npz.*holds Python objects"):
        load_arrays(str(finished), "data")


def _npz(path, y_shift=0):
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.integers(0, 256, (350, 784), dtype=np.uint8), y=(np.arange(350) + y_shift) % 10)
    return path


def test_resume_refuses_other_data_under_the_same_name(tmp_path, capsys):
    data, out = _npz(tmp_path / "mnist.npz"), tmp_path / "out"
    args = ["--backend", "numpy", "--quiet", "--no-report", "--out", out]
    assert run_main(capsys, "run", *args, "--data", data, "--steps", "data")[0] == 0
    _npz(data, y_shift=1)  # same name, other labels
    code, err = run_main(capsys, "run", *args, "--resume", "--steps", "binary_sgd")
    assert_one_line_error(code, err, "holds a run with other data")
    assert list(_doc(out)["steps"]) == ["data"]
    # The same content under another name is the same data.
    _npz(data)
    os.rename(data, tmp_path / "moved.npz")
    code, err = run_main(capsys, "run", *args, "--resume", "--data", tmp_path / "moved.npz", "--steps", "binary_sgd")
    assert code == 0, err


# -- issue 11 §4: --resume continues the recorded run --------------------------------------------------

def test_resume_continues_the_recorded_run_without_options(finished, capsys, monkeypatch):
    # Neither the environment nor the defaults may replace what the run recorded.
    monkeypatch.setenv("GPUCLF_MNIST", "/nonexistent/mnist.npz")
    monkeypatch.setenv("GPUCLF_BACKEND", "cpu")
    before = _doc(finished)
    code, err = run_main(capsys, "run", "--resume", "--out", finished, "--steps", "binary_cv", "--quiet")
    assert code == 0, err
    after = _doc(finished)
    assert after["backend"] == "numpy" and after["n_train"] == 300 and after["n_test"] == 60
    assert after["config"]["random_state"] == 7 and after["data_fingerprint"] == before["data_fingerprint"]
    assert list(after["steps"]) == ["data", "binary_sgd", "binary_cv"]  # a finished run gained a step
    assert after["config"]["steps"] == ["data", "binary_sgd", "binary_cv"]
    for step in ("data", "binary_sgd"):  # kept, not recomputed
        assert after["steps"][step] == before["steps"][step] and after["seconds"][step] == before["seconds"][step]


@pytest.mark.parametrize("option, expected", [
    (["--seed", "8"], "--seed 8 contradicts the run recorded in"),
    (["--train-size", "500"], "--train-size 500 contradicts"),
    (["--backend", "cpu"], "--backend cpu contradicts"),
    (["--thresholds", "1,2"], "--thresholds 1,2 contradicts"),
    (["--n-estimators", "5"], "--n-estimators 5 contradicts"),
])
def test_resume_refuses_contradicting_options(finished, capsys, option, expected):
    before = (finished / "results.json").read_bytes()
    code, err = run_main(capsys, "run", "--resume", "--out", finished, *option)
    assert_one_line_error(code, err, expected, "(--")
    assert (finished / "results.json").read_bytes() == before


def test_resume_accepts_agreeing_options(finished, capsys):
    code, err = run_main(capsys, "run", "--resume", "--out", finished, *QUICK, "--seed", "7", "--no-report")
    assert code == 0, err


def test_resume_without_a_run(tmp_path, capsys):
    code, err = run_main(capsys, "run", "--resume", "--out", tmp_path / "empty")
    assert_one_line_error(code, err, f"--resume: {tmp_path / 'empty'} holds no finished step to continue "
                          f"({tmp_path / 'empty' / 'results.json'} does not exist); run without --resume")
    assert not (tmp_path / "empty").exists()


# -- the output folder ----------------------------------------------------------------------------------

def test_new_run_into_an_old_run_is_refused_then_force_replaces(finished, capsys):
    before = (finished / "results.json").read_bytes()
    code, err = run_main(capsys, "run", *QUICK, "--steps", "data", "--out", finished)
    assert_one_line_error(code, err, "already holds a run", "--resume", "--force")
    assert (finished / "results.json").read_bytes() == before
    (finished / "notes.txt").write_text("mine")
    code, err = run_main(capsys, "run", *QUICK, "--steps", "data", "--out", finished, "--force", "--no-report")
    assert code == 0, err
    assert list(_doc(finished)["steps"]) == ["data"]
    assert sorted(os.listdir(finished / "arrays")) == ["data.npz"]  # binary_sgd's arrays did not survive
    assert not (finished / "figures").exists() and not (finished / "report.html").exists()
    assert (finished / "notes.txt").read_text() == "mine"  # only gpuclf's own outputs are replaced


def test_stale_temporaries_are_cleaned(finished, capsys):
    stale = [finished / ".tmp-abc-results.json", finished / "arrays" / ".tmp-x-data.npz",
             finished / "figures" / ".tmp-y-digits.png"]
    for path in stale:
        path.write_bytes(b"half")
    code, err = run_main(capsys, "run", "--resume", "--out", finished, "--no-report")
    assert code == 0, err
    assert not any(p.exists() for p in stale)


@pytest.mark.parametrize("name, make", [
    ("results.json", lambda p: p.mkdir()),
    ("arrays", lambda p: p.write_text("x")),
    ("figures", lambda p: p.write_text("x")),
    ("report.html", lambda p: p.mkdir()),
])
def test_outputs_of_the_wrong_kind(tmp_path, capsys, name, make):
    out = tmp_path / "out"
    out.mkdir()
    make(out / name)
    code, err = run_main(capsys, "run", *QUICK, "--steps", "data", "--out", out)
    line = assert_one_line_error(code, err, f"'{name}' is ", "--force")
    assert "folder" in line, line
    code, err = run_main(capsys, "run", *QUICK, "--steps", "data", "--out", out, "--force", "--no-report")
    assert code == 0, err


@pytest.mark.parametrize("name", ["arrays", "figures", "report.html"])
def test_resume_into_outputs_of_the_wrong_kind(finished, capsys, name):
    import shutil

    path = finished / name
    shutil.rmtree(path) if path.is_dir() else path.unlink()
    path.mkdir() if name == "report.html" else path.write_text("x")
    code, err = run_main(capsys, "run", "--resume", "--out", finished, "--steps", "binary_cv")
    assert_one_line_error(code, err, f"'{name}' is ")


def test_disk_full_keeps_finished_steps(tmp_path, capsys, monkeypatch):
    import gpuclf.run.files

    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] > 3:  # data: arrays + results.json; binary_sgd: results.json; then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(gpuclf.run.files.os, "fsync", fsync)
    out = tmp_path / "out"
    code, err = run_main(capsys, "run", *QUICK, "--steps", "data,binary_sgd,binary_cv", "--out", out)
    line = assert_one_line_error(code, err, "no space left on device", "step binary_cv was not saved",
                                 "(data, binary_sgd) are kept", "--resume")
    assert "results.json" in line
    assert list(_doc(out)["steps"]) == ["data", "binary_sgd"]
    assert not [p for p in os.listdir(out) if p.startswith(".tmp-")]
    monkeypatch.undo()
    code, err = run_main(capsys, "run", "--resume", "--out", out, "--no-report")
    assert code == 0, err
    assert list(_doc(out)["steps"]) == ["data", "binary_sgd", "binary_cv"]


# -- one writer per folder: two real processes ----------------------------------------------------------

BLOCKING_RUN = textwrap.dedent("""
    import os, sys, time
    import gpuclf.chapter as chapter
    from gpuclf.cli import main

    go = sys.argv[1]
    real = chapter.STEPS["binary_sgd"]

    def waiting(ctx):  # the run holds its folder until the test says go
        open(go + ".started", "w").close()
        while not os.path.exists(go):
            time.sleep(0.02)
        return real(ctx)

    chapter.STEPS["binary_sgd"] = waiting
    sys.exit(main(sys.argv[2:]))
""")


def test_second_run_into_the_same_folder_is_refused(tmp_path, capsys):
    out, go = tmp_path / "out", tmp_path / "go"
    first = subprocess.Popen([sys.executable, "-c", BLOCKING_RUN, str(go), "run", *QUICK, "--no-report",
                              "--steps", "data,binary_sgd", "--out", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (tmp_path / "go.started").exists():
            assert first.poll() is None and time.time() < deadline, first.communicate()
            time.sleep(0.05)
        for extra in (["--resume"], ["--force"]):  # neither may barge in
            code, err = run_main(capsys, "run", *QUICK, "--steps", "data,binary_cv", "--out", out, *extra)
            assert_one_line_error(code, err, f"another gpuclf run (process {first.pid}) is writing to --out")
    finally:
        go.touch()
        stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    assert list(_doc(out)["steps"]) == ["data", "binary_sgd"]  # the first run's steps all survived
    # The lock went with the process: a later run gets in.
    code, err = run_main(capsys, "run", "--resume", "--out", out, "--steps", "binary_cv", "--no-report")
    assert code == 0, err


def test_lock_released_when_the_holder_is_killed(tmp_path, capsys):
    out = tmp_path / "out"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from gpuclf.run.folder import lock_output
        with lock_output({str(out)!r}):
            print("locked", flush=True)
            time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, err = run_main(capsys, "run", *QUICK, "--steps", "data", "--out", out)
        assert_one_line_error(code, err, "is writing to --out")
    finally:
        holder.kill()
        holder.wait()
    code, err = run_main(capsys, "run", *QUICK, "--steps", "data", "--out", out, "--no-report")
    assert code == 0, err
