"""The figures in report.html as a reader sees them: percentages, counts, AUCs and thresholds.

A small real run (numpy backend, offline sample) writes results.json; the test formats each
figure itself (percent with two decimals, thousands separators, four-decimal AUC) and looks for
that text in the report's sentences and tables. A changed format (a fraction shown as 0.95, a
lost decimal, a count without its separator) fails here.
"""
from __future__ import annotations

import html
import json
import os
import re

import numpy as np
import pytest

import gpuclf
from gpuclf.report import build_report

STEPS = ["binary_cv", "binary_metrics", "binary_tradeoff", "binary_roc"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report-figures")
    data = gpuclf.load_mnist("sample").subsample(train_size=2000, test_size=200)
    gpuclf.run_workflow(gpuclf.get_backend("numpy"), data, gpuclf.RunConfig(steps=STEPS, n_estimators=5),
                        str(out), progress=False)
    with open(os.path.join(out, "results.json")) as f:
        doc = json.load(f)
    with open(build_report(str(out)), encoding="utf-8") as f:
        page = f.read()
    # What a reader sees: tags dropped, entities decoded, whitespace collapsed.
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    return doc["steps"], text


def percent(fraction: float, digits: int = 2) -> str:
    return f"{round(100 * fraction, digits):.{digits}f}%"


def test_cv_accuracy_is_a_percentage_with_two_decimals(report):
    steps, text = report
    sgd = float(np.mean(steps["binary_cv"]["sgd_cv_accuracy"]))
    assert 0.5 < sgd < 1
    assert f"right on {percent(sgd)} of images" in text
    for fold in steps["binary_cv"]["sgd_cv_accuracy"]:
        assert percent(fold) in text


def test_precision_recall_f1_and_counts(report):
    steps, text = report
    m = steps["binary_metrics"]
    (tn, fp), (fn, tp) = m["confusion_matrix"]
    assert tn >= 1000  # so the thousands separator shows
    assert f"{tn:,}" in text and f"{tp:,}" in text
    assert f"a recall of {percent(m['recall'])}" in text
    assert f"a precision of {percent(m['precision'])}" in text
    assert f"F1, their harmonic mean, is {percent(m['f1'])}" in text
    # Row shares of the confusion matrix, one decimal.
    assert percent(tn / (tn + fp), 1) in text and percent(tp / (fn + tp), 1) in text


def test_auc_has_four_decimals(report):
    steps, text = report
    roc = steps["binary_roc"]
    assert f"The SGD's AUC is {roc['sgd_auc']:.4f}" in text
    assert f"{roc['forest_auc']:.4f}" in text


def test_tradeoff_rows_show_targets_thresholds_and_rates(report):
    steps, text = report
    reached = [r for r in steps["binary_tradeoff"]["at_precision_targets"] if r.get("reached")]
    assert reached
    for r in reached:
        row = f"{percent(r['target'], 0)} {r['threshold']:,.2f} {percent(r['precision'])} {percent(r['recall'])}"
        assert row in text, row
