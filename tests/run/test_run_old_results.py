"""A results folder written by an earlier gpuclf still resumes and compares.

``fixtures/results-8a7f8be.json`` is the ``results.json`` that gpuclf wrote at
commit 8a7f8be (before the package was regrouped into rooms) for
``gpuclf run --backend numpy --data sample --steps data,binary_cv``; its plot
arrays are left out (the report draws the figures whose arrays it finds).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from cli_errors import run_main

OLD = Path(__file__).parent / "fixtures" / "results-8a7f8be.json"


def _old_run(tmp_path) -> Path:
    out = tmp_path / "old"
    out.mkdir()
    shutil.copy(OLD, out / "results.json")
    return out


def test_an_old_run_resumes_keeping_its_steps(tmp_path, capsys):
    out = _old_run(tmp_path)
    before = json.loads(OLD.read_text())
    code, err = run_main(capsys, "run", "--resume", "--out", out, "--steps", "binary_metrics", "--quiet")
    assert code == 0, err
    doc = json.loads((out / "results.json").read_text())
    assert doc["config"]["steps"] == ["data", "binary_cv", "binary_metrics"]
    for step in ("data", "binary_cv"):  # not run again: the recorded figures and seconds stand
        assert doc["steps"][step] == before["steps"][step]
        assert doc["seconds"][step] == before["seconds"][step]
    # The new step is computed from the same data and options: its confusion matrix counts every training image.
    matrix = doc["steps"]["binary_metrics"]["confusion_matrix"]
    assert sum(map(sum, matrix)) == before["steps"]["data"]["n_train"]
    assert (out / "report.html").is_file()


def test_an_old_run_compares_with_a_new_one(tmp_path, capsys):
    old = _old_run(tmp_path)
    new = tmp_path / "new"
    assert run_main(capsys, "run", "--backend", "numpy", "--data", "sample", "--steps", "data,binary_cv",
                    "--out", new, "--quiet", "--no-report")[0] == 0
    code, err = run_main(capsys, "compare", old, new, "--out", tmp_path / "cmp")
    assert code == 0, err
    text = (tmp_path / "cmp" / "compare.md").read_text()
    # The same code path on the same data: every judged figure of the old run is the new run's.
    summary = re.search(r"(\d+) identical, (\d+) within tolerance, (\d+) outside tolerance", text)
    assert summary and int(summary[1]) > 0 and summary[2] == summary[3] == "0", text[:400]
    assert "| data: train_class_counts |" in text and "| binary_cv: dummy_cv_accuracy |" in text
