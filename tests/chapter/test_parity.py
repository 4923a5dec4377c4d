"""Parity: every backend against the ``cpu`` reference, on the same data.

The tolerances are ``gpuclf.chapter.published.TOLERANCES`` (docs/parity.md's table is generated from
it): the tests below read them from there, and one judges every 5-detector figure by it as the
report and ``gpuclf compare`` do.

The SGD rows are wider than the 0.5 pp first planned: scikit-learn's
per-sample SGD stops on a noisy last iterate whose accuracy moves by 1-2 pp
with the seed alone (5-detector fold 0: 0.9499 to 0.971 over five seeds),
while our batched, averaged SGD is steady to about 0.1 pp. On full MNIST ours
is higher on the 5-detector (mean 0.9685 vs 0.9570) and within 0.2 pp on the
scaled multiclass mean; on 20,000 rows it is 1.35 pp lower there.

Runs on real MNIST when ``GPUCLF_MNIST`` is set (5-detector on all 60,000
rows; multiclass and KNN steps on the first 20,000 / 2,000), else on the
offline sample. The ``numpy`` backend runs the GPU backend's code on the CPU;
``gpu`` joins where CUDA is usable.
"""
from __future__ import annotations

import numpy as np
import pytest

from gpuclf import get_backend
from gpuclf.backends import available_backends
from gpuclf.chapter.published import FIGURE_FAMILIES, TOLERANCES, applied_tolerance, verdict

from conftest import BINARY_STEPS, REAL_MNIST, run_steps

OTHERS = [pytest.param(n, marks=pytest.mark.gpu) if n == "gpu" else n
          for n in available_backends() if n != "cpu"]
# The tolerance table lives in gpuclf.chapter.published (the report and gpuclf compare judge by it too).
TOL = {name: t.rel or t.abs for name, t in TOLERANCES.items()}
PP, KNN_PP, KNN_F1 = TOL["model"], TOL["knn_accuracy"], TOL["knn_f1"]
SGD_PP, SGD_MULTI_PP, SGD_CM, SGD_AUC = (TOL["sgd_binary_accuracy"], TOL["sgd_multiclass_accuracy"],
                                         TOL["sgd_confusion"], TOL["sgd_auc"])
STEPS = ["multiclass", "error_analysis", "multilabel", "denoise", "best_accuracy"]
SMALL = dict(n_estimators=10, svc_train_size=500, ovr_train_size=300, grid_train_size=3000,
             sklearn_sgd_max_iter=100)


@pytest.fixture(scope="module")
def parity_data(request):
    if REAL_MNIST:
        return request.getfixturevalue("real_mnist").subsample(20_000, 2_000)
    return request.getfixturevalue("sample_mnist")


@pytest.fixture(scope="module")
def results(parity_data, tmp_path_factory):
    """Results per backend of the multiclass and KNN steps (computed once)."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run_steps(name, parity_data, STEPS, tmp_path_factory.mktemp(name), **SMALL)["steps"]
        return cache[name]

    return get


@pytest.fixture(scope="module")
def binary(request, tmp_path_factory):
    """5-detector results per backend: full real MNIST when available, else the sample."""
    if REAL_MNIST:
        return request.getfixturevalue("real_binary_results")
    data = request.getfixturevalue("sample_mnist")
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = run_steps(name, data, BINARY_STEPS, tmp_path_factory.mktemp(f"b-{name}"),
                                    n_estimators=10)
        return cache[name]

    return get


def shares(cm) -> np.ndarray:
    cm = np.asarray(cm, dtype=float)
    return cm / cm.sum()


@pytest.mark.parametrize("other", OTHERS)
def test_fold_assignment_identical(other, parity_data):
    cpu, dev = get_backend("cpu"), get_backend(other)
    y = parity_data.y_train
    targets = {"multiclass": y, "5-detector": y == 5, "multilabel": np.stack([y >= 7, y % 2 == 1], axis=1)}
    for name, target in targets.items():
        for k in (3, 5):
            np.testing.assert_array_equal(dev.to_host(dev.test_folds(dev.asarray(target), k)),
                                          cpu.test_folds(target, k), err_msg=f"{name}, {k} folds")


@pytest.mark.parametrize("other", OTHERS)
def test_binary_sgd_parity(other, binary):
    ref, got = binary("cpu")["steps"], binary(other)["steps"]
    assert np.mean(got["binary_cv"]["sgd_cv_accuracy"]) == pytest.approx(
        np.mean(ref["binary_cv"]["sgd_cv_accuracy"]), abs=SGD_PP)
    assert got["binary_cv"]["dummy_cv_accuracy"] == ref["binary_cv"]["dummy_cv_accuracy"]
    np.testing.assert_allclose(shares(got["binary_metrics"]["confusion_matrix"]),
                               shares(ref["binary_metrics"]["confusion_matrix"]), atol=SGD_CM)
    assert got["binary_roc"]["sgd_auc"] == pytest.approx(ref["binary_roc"]["sgd_auc"], abs=SGD_AUC)
    # Forest: the same library on both unless cuML trains it.
    if binary(other)["placement"]["binary_roc"]["forest"]["library"] == "scikit-learn":
        assert got["binary_roc"]["forest_auc"] == ref["binary_roc"]["forest_auc"]
    else:
        assert got["binary_roc"]["forest_auc"] == pytest.approx(ref["binary_roc"]["forest_auc"], abs=PP)


@pytest.mark.parametrize("other", OTHERS)
def test_every_figure_of_the_5_detector_meets_the_table(other, binary):
    """Each figure the steps record, judged as the report and compare judge it (FIGURE_FAMILIES): none outside.

    Precision and recall at a threshold of two different SGDs differ by design: the table says so, and
    then they are not judged; between two runs of one SGD (gpu against numpy) they are.
    """
    ref, got = binary("cpu"), binary(other)
    libraries = {d["placement"]["binary_cv"]["sgd"]["library"] for d in (ref, got)}
    judged = {}
    for step in BINARY_STEPS:
        for name, value in got["steps"][step].items():
            family = FIGURE_FAMILIES.get(f"{step}.{name}")
            if family is not None:
                tol = applied_tolerance(family, full_mnist=True, same_sgd=len(libraries) == 1)
                judged[f"{step}.{name}"] = verdict(value, ref["steps"][step][name], tol)
    assert "outside tolerance" not in judged.values(), judged
    assert judged["binary_metrics.precision"] == ("differs by design" if len(libraries) == 2 else "identical")
    assert judged["binary_tradeoff.precision_at_90"] in ("identical", "within tolerance")


@pytest.mark.parametrize("other", OTHERS)
def test_multiclass_parity(other, results):
    ref, got = results("cpu")["multiclass"], results(other)["multiclass"]
    assert np.mean(got["sgd_scaled_cv_accuracy"]) == pytest.approx(
        np.mean(ref["sgd_scaled_cv_accuracy"]), abs=SGD_MULTI_PP)
    np.testing.assert_allclose(shares(results(other)["error_analysis"]["confusion_matrix"]),
                               shares(results("cpu")["error_analysis"]["confusion_matrix"]), atol=SGD_CM)
    assert got["svc_test_accuracy"] == pytest.approx(ref["svc_test_accuracy"], abs=PP)
    assert got["ovr_test_accuracy"] == pytest.approx(ref["ovr_test_accuracy"], abs=PP)


@pytest.mark.parametrize("other", OTHERS)
def test_knn_parity(other, results, parity_data):
    ref, got = results("cpu"), results(other)
    # F1 differs by at most 2 x 0.1% of samples when >= 99.9% of predictions agree.
    for key in ("f1_macro", "f1_weighted"):
        assert got["multilabel"][key] == pytest.approx(ref["multilabel"][key], abs=KNN_F1)
    assert got["best_accuracy"]["best_params"] == ref["best_accuracy"]["best_params"]
    np.testing.assert_allclose([g["mean_cv_accuracy"] for g in got["best_accuracy"]["grid"]],
                               [g["mean_cv_accuracy"] for g in ref["best_accuracy"]["grid"]], atol=KNN_PP)
    assert got["best_accuracy"]["test_accuracy"] == pytest.approx(ref["best_accuracy"]["test_accuracy"], abs=KNN_PP)


@pytest.mark.parametrize("other", OTHERS)
def test_knn_predictions_identical(other, parity_data):
    """Prediction by prediction: >= 99.9% identical to scikit-learn's KNN."""
    cpu, dev = get_backend("cpu"), get_backend(other)
    d = parity_data.subsample(10_000, 2_000)
    want = cpu.estimator("knn", n_neighbors=4, weights="distance").fit(d.X_train, d.y_train).predict(d.X_test)
    knn = dev.estimator("knn", n_neighbors=4, weights="distance")
    got = dev.to_host(knn.fit(dev.asarray(d.X_train, dev.feature_dtype), dev.asarray(d.y_train))
                      .predict(dev.asarray(d.X_test, dev.feature_dtype)))
    assert np.mean(got == want) >= 0.999


@pytest.mark.parametrize("other", OTHERS)
def test_denoise_parity(other, results):
    ref, got = results("cpu")["denoise"], results(other)["denoise"]
    assert got["rmse_noisy"] == pytest.approx(ref["rmse_noisy"], rel=1e-6)
    assert got["rmse_denoised"] == pytest.approx(ref["rmse_denoised"], rel=TOL["rmse"])
