"""The report: PNGs and report.html built from a real (small) run of the workflow."""
from __future__ import annotations

import base64
import json
import os
import shutil

import numpy as np
import pytest
from matplotlib.image import imread

import gpuclf
from gpuclf.backends.cpu import CpuBackend
from gpuclf.report import FIGURES_DIR, PLOTS, build_report

# Capping the SGD's epochs below is what makes the non-converging raw-pixel SGD quick.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CONFIG = dict(n_estimators=10, svc_train_size=300, ovr_train_size=200, grid_train_size=600)


class QuickSgdCpu(CpuBackend):
    """The cpu backend with the SGD stopped after 20 epochs.

    On 1,500 raw-pixel digits the multiclass SGD never meets its tolerance and
    runs all 1,000 epochs (about 40 s per fit, four fits in ``multiclass``);
    the report only needs the step's outputs, not a converged model.
    """

    def estimator(self, role, **params):
        if role == "sgd":
            params.setdefault("max_iter", 20)
        return super().estimator(role, **params)


def _run(out_dir, steps=None) -> dict:
    data = gpuclf.load_mnist("sample").subsample(train_size=1500, test_size=300)
    # The shim must stay the backend users get for "cpu", only quicker.
    assert type(gpuclf.get_backend("cpu")) is CpuBackend
    gpuclf.run_workflow(QuickSgdCpu(), data, gpuclf.RunConfig(steps=steps, **CONFIG), str(out_dir), progress=False)
    with open(os.path.join(out_dir, "results.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """All steps run once for the module; returns (out_dir, results, report path)."""
    out = tmp_path_factory.mktemp("full")
    doc = _run(out)
    return str(out), doc, build_report(str(out))


@pytest.fixture(scope="module")
def tradeoff_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("tradeoff")
    doc = _run(out, steps=["binary_tradeoff"])
    return str(out), doc, build_report(str(out))


def _read(path) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def _matrix_rows(matrix):
    """The HTML of each matrix row as the report's tables write it."""
    return ["".join(f"<td>{v}</td>" for v in row) for row in matrix]


def test_every_plot_is_a_readable_png(full_run):
    out_dir, _, _ = full_run
    for name, *_ in PLOTS:
        path = os.path.join(out_dir, FIGURES_DIR, name)
        assert os.path.isfile(path), name
        with open(path, "rb") as f:
            assert f.read(8) == PNG_MAGIC, name
        img = imread(path)
        height, width = img.shape[:2]
        assert 300 <= height <= 2000 and 400 <= width <= 2000, (name, img.shape)
        # A blank canvas would be one colour; every plot draws lines, text or digits.
        assert np.ptp(img[..., :3]) > 0.5, name


def test_html_holds_steps_backend_and_embedded_images(full_run):
    out_dir, doc, page = full_run
    assert page == os.path.join(out_dir, "report.html")
    html = _read(page)
    assert set(doc["steps"]) == set(gpuclf.STEPS)
    for step in doc["steps"]:
        assert f"<h2 id='{step}'>" in html and f"<td>{step}</td>" in html
    assert "on cpu</h1>" in html and doc["environment"]["device"] in html
    assert html.count('<img src="data:image/png;base64,') == len(PLOTS)
    for name, *_ in PLOTS:
        with open(os.path.join(out_dir, FIGURES_DIR, name), "rb") as f:
            assert base64.b64encode(f.read()).decode("ascii") in html, name
    # Self-contained: nothing to fetch besides the embedded data.
    assert "http://" not in html and "https://" not in html and "<script" not in html


def test_html_shows_the_confusion_matrices(full_run):
    _, doc, page = full_run
    html = _read(page)
    for step in ("binary_metrics", "error_analysis"):
        for row in _matrix_rows(doc["steps"][step]["confusion_matrix"]):
            assert row in html, (step, row)


def test_html_shows_seconds_and_placement(full_run):
    _, doc, page = full_run
    html = _read(page)
    assert f"<td>{doc['seconds']['multiclass']:.2f}</td>" in html
    assert "svc: cpu (scikit-learn)" in html and "knn: cpu (scikit-learn)" in html


def test_partial_run_skips_other_plots(tradeoff_run):
    out_dir, doc, page = tradeoff_run
    assert list(doc["steps"]) == ["binary_tradeoff"]
    assert os.listdir(os.path.join(out_dir, FIGURES_DIR)) == ["precision_recall_vs_threshold.png"]
    html = _read(page)
    assert html.count("<img ") == 1
    assert "<h2 id='binary_tradeoff'>" in html and "<h2 id='data'>" not in html


def test_notes_and_text_are_escaped(tradeoff_run, tmp_path):
    out_dir, _, _ = tradeoff_run
    shutil.copytree(out_dir, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "results.json"
    doc = json.loads(path.read_text())
    doc["placement"]["binary_tradeoff"]["sgd"] = {"device": "cpu", "library": "scikit-learn",
                                                 "note": "ran on the CPU because cuML <is> unavailable & co"}
    path.write_text(json.dumps(doc))
    html = _read(build_report(str(tmp_path)))
    assert "ran on the CPU because cuML &lt;is&gt; unavailable &amp; co" in html
    assert "<is>" not in html


def test_no_temporary_files_left(full_run, tradeoff_run):
    build_report(tradeoff_run[0])  # rebuilding over existing files must not leave any either
    for out_dir in (full_run[0], tradeoff_run[0]):
        for folder, _, files in os.walk(out_dir):
            assert not [f for f in files if f.startswith(".tmp-")], folder


def test_missing_results_is_one_clear_error(tmp_path):
    with pytest.raises(gpuclf.GpuclfError, match="results.json"):
        build_report(str(tmp_path))
