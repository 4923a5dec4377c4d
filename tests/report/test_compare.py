"""``gpuclf compare``: real run folders made here (cpu vs numpy on the sample), judged by the parity table."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

import gpuclf
from gpuclf.cli import main
from gpuclf.report.compare import COMPARE_HTML, COMPARE_MD, compare_runs
from gpuclf.chapter.published import TOLERANCES, sgd_claim, verdict

from conftest import run_steps

STEPS = ["data", "binary_cv", "binary_metrics", "binary_tradeoff"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two real runs of the same steps on the same data: cpu (scikit-learn) and numpy (gpuclf kernels)."""
    data = gpuclf.load_mnist("sample").subsample(1500, 300)
    dirs = {}
    for name in ("cpu", "numpy"):
        out = tmp_path_factory.mktemp(name)
        run_steps(name, data, STEPS, out, sklearn_sgd_max_iter=50)
        dirs[name] = str(out)
    return dirs


def _doc(folder):
    with open(f"{folder}/results.json") as f:
        return json.load(f)


def test_compare_writes_html_and_markdown(runs, tmp_path):
    html_path, md_path = compare_runs([runs["cpu"], runs["numpy"]], str(tmp_path / "cmp"))
    assert html_path.endswith(COMPARE_HTML) and md_path.endswith(COMPARE_MD)
    md, html = open(md_path).read(), open(html_path).read()
    cpu, numpy = _doc(runs["cpu"]), _doc(runs["numpy"])
    # Seconds of each run and the speedup of the second over the first, per step.
    for step in STEPS:
        a, b = cpu["seconds"][step], numpy["seconds"][step]
        row = next(line for line in md.splitlines() if line.startswith(f"| {step} | {a:,.2f} |"))
        assert f"| {b:,.2f} |" in row
        if b > 0:
            assert f"{a / b:,.1f}×" in row
    # The dummy baseline is deterministic: identical on both backends.
    assert re.search(r"\| binary_cv: dummy_cv_accuracy \|.*\| identical \| identical \|", md)
    # On 1,500 sample rows the SGD's tolerance (set for full MNIST) does not apply: its difference, no verdict.
    d = np.mean(numpy["steps"]["binary_cv"]["sgd_cv_accuracy"]) - np.mean(cpu["steps"]["binary_cv"]["sgd_cv_accuracy"])
    assert re.search(rf"\| binary_cv: sgd_cv_accuracy \|.*\| – \| not judged: {re.escape(f'{d:+.4g}')} \|", md)
    # Thresholds are in each SGD's own units: shown, never judged.
    assert re.search(r"\| binary_tradeoff: threshold_90_precision \|.*\| not compared \|", md)
    # Memory peaks per step.
    mib = cpu["memory"]["binary_cv"]["host_peak_rss_bytes"] / 2**20
    assert f"| binary_cv | {mib:,.0f} / –" in md
    # The HTML: the report's style, self-contained, the same verdicts.
    assert "<style>" in html and "<script" not in html and "https://" not in html
    n_identical = int(re.search(r"comparisons: (\d+) identical", md).group(1))
    assert n_identical > 0 and html.count("class=ok>identical<") == n_identical


def test_on_full_mnist_every_figure_is_judged_by_its_tolerance(runs, tmp_path):
    """Runs on the book's data are held to the parity table: the tolerance is shown, and the verdict it gives."""
    dirs = []
    for name in ("cpu", "numpy"):
        doc = _doc(runs[name])
        doc.update(n_train=60_000, n_test=10_000, data_source="openml:mnist_784")
        (tmp_path / name).mkdir()
        (tmp_path / name / "results.json").write_text(json.dumps(doc))
        dirs.append(str(tmp_path / name))
    _, md_path = compare_runs(dirs, str(tmp_path / "cmp"))
    md = open(md_path).read()
    cpu, numpy = _doc(runs["cpu"]), _doc(runs["numpy"])
    tol = TOLERANCES["sgd_binary_accuracy"]
    want = verdict(numpy["steps"]["binary_cv"]["sgd_cv_accuracy"], cpu["steps"]["binary_cv"]["sgd_cv_accuracy"], tol)
    assert re.search(rf"\| binary_cv: sgd_cv_accuracy \|.*\| {re.escape(tol.text)} \| {want} \|", md)
    assert "| not judged: " not in md and "set for full MNIST, which these runs use" in md
    # scikit-learn's SGD against gpuclf's: precision and recall differ by design, shown with their difference.
    d = numpy["steps"]["binary_metrics"]["precision"] - cpu["steps"]["binary_metrics"]["precision"]
    assert f"| none: the two SGDs differ by design | differs by design: {d:+.4g} |" in md
    n = md.count("| differs by design: ")
    assert n >= 3 and f", {n} that differ by design (precision and recall of two different SGDs)," in md
    assert f"{sgd_claim()}." in md


def test_verdicts_follow_the_tolerance_table():
    tol = TOLERANCES["sgd_binary_accuracy"]
    assert verdict([0.95, 0.96], [0.95, 0.96], tol) == "identical"
    assert verdict([0.95, 0.96], [0.955, 0.965], tol) == "within tolerance"
    assert verdict([0.95, 0.96], [0.97, 0.98], tol) == "outside tolerance"
    cm = TOLERANCES["sgd_confusion"]
    assert verdict([[90, 10], [5, 95]], [[91, 9], [5, 95]], cm) == "within tolerance"  # 0.5 pp of samples
    assert verdict([[90, 10], [5, 95]], [[80, 20], [5, 95]], cm) == "outside tolerance"  # 5 pp
    assert verdict(57.3, 57.0, TOLERANCES["rmse"]) == "within tolerance"
    assert verdict(3370.0, 1.5e6, TOLERANCES["sgd_threshold"]) == "not compared"
    assert verdict({"n_neighbors": 4}, {"n_neighbors": 3}, TOLERANCES["identical"]) == "outside tolerance"


def test_cli_compare_and_refusals(runs, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["compare", runs["cpu"], runs["numpy"], "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / COMPARE_MD)
    assert (out / COMPARE_HTML).is_file()

    # A run with other options (here the forest size) is refused in one line, naming both folders.
    other = tmp_path / "other"
    doc = _doc(runs["numpy"])
    doc["config"]["n_estimators"] = 7
    other.mkdir()
    (other / "results.json").write_text(json.dumps(doc))
    assert main(["compare", runs["cpu"], str(other), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("gpuclf: error: cannot compare")
    assert "option n_estimators (100 vs 7)" in err and runs["cpu"] in err
    # Other data: refused too.
    doc = _doc(runs["numpy"])
    doc["n_train"] = 999
    (other / "results.json").write_text(json.dumps(doc))
    assert main(["compare", runs["cpu"], str(other), "--out", str(tmp_path / "x")]) == 2
    assert "different n_train (1500 vs 999)" in capsys.readouterr().err
    # The same names and sizes but other pixels (the recorded content fingerprint): refused.
    doc = _doc(runs["numpy"])
    doc["data_fingerprint"] = "blake2b:0000"
    (other / "results.json").write_text(json.dumps(doc))
    assert main(["compare", runs["cpu"], str(other), "--out", str(tmp_path / "x")]) == 2
    assert "different data content" in capsys.readouterr().err
    # One folder, or a folder without results: one line each.
    assert main(["compare", runs["cpu"], "--out", str(tmp_path / "x")]) == 2
    assert "at least two run folders" in capsys.readouterr().err
    assert main(["compare", runs["cpu"], str(tmp_path / "nothing"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gpuclf: error: cannot compare runs: ") and "nothing/results.json" in err
    assert err.count("\n") == 1


def test_different_steps_compare_the_common_ones(runs, tmp_path):
    doc = _doc(runs["numpy"])
    for part in ("steps", "seconds", "memory"):
        doc[part] = {k: v for k, v in doc[part].items() if k == "binary_cv"}
    (tmp_path / "results.json").write_text(json.dumps(doc))
    _, md_path = compare_runs([runs["cpu"], str(tmp_path)], str(tmp_path / "cmp"))
    md = open(md_path).read()
    assert "| binary_cv |" in md and "| binary_metrics |" not in md
    total = np.round(_doc(runs["cpu"])["seconds"]["binary_cv"], 2)
    assert f"| all compared steps | {total:,.2f} |" in md
