"""Family 3: data that makes a step impossible is refused before any step, the same on every backend."""
from __future__ import annotations

import numpy as np
import pytest

from cli_errors import assert_one_line_error, run_main
from gpuclf import RunConfig, get_backend, run_workflow
from gpuclf.data import MnistData
from gpuclf.errors import GpuclfError
from gpuclf.chapter import STEPS

BACKENDS = ["cpu", "numpy"]


def _subset(sample, keep, n_train=300, n_test=60) -> MnistData:
    """The first rows of the sample whose labels pass ``keep``."""
    tr, te = keep(sample.y_train), keep(sample.y_test)
    return MnistData(sample.X_train[tr][:n_train], sample.y_train[tr][:n_train],
                     sample.X_test[te][:n_test], sample.y_test[te][:n_test], "test-subset")


def _save(tmp_path, data: MnistData):
    path = tmp_path / "subset.npz"
    np.savez(path, X_train=data.X_train, y_train=data.y_train, X_test=data.X_test, y_test=data.y_test)
    return path


CASES = [
    # (labels kept, rows, steps, what the message names)
    (lambda y: y != 5, None, "binary_sgd", ["step binary_sgd", "5s and 1 of other digits", "has 0 5s"]),
    (lambda y: y != 5, None, "binary_roc", ["step binary_roc", "3-fold cross-validation", "has 0 5s"]),
    (lambda y: y == 5, None, "binary_cv", ["step binary_cv", "and 0 others"]),
    (lambda y: y == 3, None, "multiclass", ["step multiclass", "at least 2 different digits", "all 3s"]),
    (lambda y: y == 7, None, "error_analysis", ["step error_analysis", "all 7s"]),
    (lambda y: y >= 0, 6, "multilabel",
     ["step multilabel", "at least 5 rows to fit KNN with n_neighbors=5 in each training fold", "gives 4"]),
    (lambda y: y >= 0, 4, "denoise",
     ["step denoise", "at least 5 rows to fit KNN with n_neighbors=5;", "training set gives 4"]),
    (lambda y: y >= 0, 40, "best_accuracy", ["step best_accuracy", "5-fold cross-validation", "digit"]),
    (lambda y: y >= 0, 20, "knn_plus", ["step knn_plus", "3-fold cross-validation", "digit"]),
]


@pytest.mark.parametrize("keep, rows, step, expected", CASES, ids=[c[2] for c in CASES])
def test_same_message_on_every_backend_before_any_step(sample_mnist, tmp_path, keep, rows, step, expected):
    data = _subset(sample_mnist, keep, n_train=rows or 300)
    messages = []
    for name in BACKENDS:
        out = tmp_path / name
        with pytest.raises(GpuclfError) as info:
            run_workflow(get_backend(name), data, RunConfig(steps=["data", step]), str(out), progress=False)
        messages.append(str(info.value))
        assert not out.exists()  # refused before the data step, before the folder
    assert messages[0] == messages[1]
    for text in expected:
        assert text in messages[0], messages[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_names_the_step_in_one_line(sample_mnist, tmp_path, capsys, backend):
    path = _save(tmp_path, _subset(sample_mnist, lambda y: y != 5))
    out = tmp_path / "out"
    code, err = run_main(capsys, "run", "--backend", backend, "--data", path, "--out", out, "--quiet")
    assert_one_line_error(code, err, "step binary_sgd cannot run on this data", "--steps")
    assert not out.exists()


def test_the_steps_that_can_run_still_do(sample_mnist, tmp_path, capsys):
    """Leaving the impossible steps out works: no 5s still allows the multiclass steps."""
    path = _save(tmp_path, _subset(sample_mnist, lambda y: y != 5, n_train=200))
    code, err = run_main(capsys, "run", "--backend", "numpy", "--data", path, "--out", tmp_path / "o",
                         "--steps", "data,multiclass,denoise", "--quiet", "--no-report")
    assert code == 0, err


def test_preconditions_are_tight_for_knn(sample_mnist, tmp_path):
    """Exactly at the bound the step runs on both backends (the check is not stricter than the libraries)."""
    data = sample_mnist.subsample(7, 20)  # 3-fold: smallest training fold 7 - 3 = 4... one short
    with pytest.raises(GpuclfError, match="gives 4"):
        run_workflow(get_backend("numpy"), data, RunConfig(steps=["multilabel"]), str(tmp_path / "a"),
                     progress=False)
    data = sample_mnist.subsample(8, 20)  # 8 - 3 = 5 rows: scikit-learn's 5 neighbours fit
    for name in BACKENDS:
        doc = run_workflow(get_backend(name), data, RunConfig(steps=["multilabel", "denoise"]),
                           str(tmp_path / name), progress=False).doc
        assert set(doc["steps"]) == {"multilabel", "denoise"}


def test_every_step_with_estimators_declares_its_needs():
    undeclared = [name for name, step in STEPS.items() if not getattr(step, "needs", ())]
    assert undeclared == ["data", "augmentation"]  # the data summary; augmentation fits 5x the rows
