"""The tradeoff step: precision targets and score quantiles, checked against scikit-learn on set scores."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_recall_curve, precision_score, recall_score

import gpuclf
from gpuclf.chapter import Context, RunConfig
from gpuclf.chapter.binary import step_binary_roc, step_binary_tradeoff

from conftest import backend_params


@pytest.fixture(scope="module")
def data():
    return gpuclf.load_mnist("sample").subsample(800, 100)


def _tradeoff(backend_name, data, scores, **config):
    """The step on given out-of-fold scores (what the SGD would have produced)."""
    backend = gpuclf.get_backend(backend_name)
    ctx = Context(backend, data, RunConfig(**config))
    ctx._memo["sgd5_scores"] = backend.asarray(scores)
    return step_binary_tradeoff(ctx)


def _scores(y5, scale, rng):
    """Noisy scores on any scale: 5s higher on average."""
    return scale * (rng.normal(size=len(y5)) + 2.0 * y5)


@pytest.mark.parametrize("backend_name", backend_params())
@pytest.mark.parametrize("scale", [1.0, 3e3, 1e6])
def test_targets_and_quantiles_match_sklearn(backend_name, scale, data):
    rng = np.random.default_rng(0)
    y5 = data.y_train == 5
    scores = _scores(y5, scale, rng)
    got = _tradeoff(backend_name, data, scores)
    precisions, recalls, thresholds = precision_recall_curve(y5, scores)
    for row, target in zip(got["at_precision_targets"], (0.80, 0.90, 0.95)):
        reached = precisions[:-1] >= target
        assert row["reached"] == bool(reached.any())
        if row["reached"]:
            # The book's rule: the lowest threshold whose precision reaches the target.
            t = thresholds[np.argmax(reached)]
            assert row["threshold"] == pytest.approx(t, rel=1e-6)
            pred = scores >= row["threshold"]
            assert row["precision"] == pytest.approx(precision_score(y5, pred)) and row["precision"] >= target
            assert row["recall"] == pytest.approx(recall_score(y5, pred))
            assert row["f1"] == pytest.approx(f1_score(y5, pred))
    for row, q in zip(got["at_score_quantiles"], (0.80, 0.90, 0.95)):
        assert row["quantile"] == q and row["threshold"] == pytest.approx(np.quantile(scores, q), rel=1e-6)
        assert row["precision"] == pytest.approx(precision_score(y5, scores >= row["threshold"]))
    assert got["threshold_90_precision"] == got["at_precision_targets"][1]["threshold"]
    assert "at_thresholds" not in got  # absolute thresholds only when asked


def test_results_do_not_depend_on_the_score_scale(data):
    """What the default report shows means the same on every backend, whatever the SGD's units."""
    y5 = data.y_train == 5
    scores = _scores(y5, 1.0, np.random.default_rng(1))
    small, large = _tradeoff("numpy", data, scores), _tradeoff("numpy", data, scores * 1e5)
    for part in ("at_precision_targets", "at_score_quantiles"):
        for a, b in zip(small[part], large[part]):
            assert (a.get("precision"), a.get("recall")) == (b.get("precision"), b.get("recall"))


@pytest.mark.parametrize("backend_name", backend_params())
def test_unreached_target_is_said_not_argmax_of_nothing(backend_name, data):
    """Scores that never separate 5s: no threshold reaches 90% precision, and the step says so."""
    y5 = data.y_train == 5
    scores = np.random.default_rng(2).normal(size=len(y5))
    got = _tradeoff(backend_name, data, scores, precision_targets=(0.5, 0.99))
    precisions, _, _ = precision_recall_curve(y5, scores)
    assert got["threshold_90_precision"] is None and got["recall_at_90"] is None
    missed = got["at_precision_targets"][1]
    assert missed == {"target": 0.99, "reached": False, "best_precision": pytest.approx(precisions[:-1].max())}
    # argmax of an all-False mask would have given the lowest threshold and the share of 5s as "precision".
    assert missed["best_precision"] > np.mean(y5)


def test_asked_thresholds_are_reported_too(data):
    y5 = data.y_train == 5
    scores = _scores(y5, 3e3, np.random.default_rng(3))
    got = _tradeoff("cpu", data, scores, thresholds=(0.0, 3000.0))
    assert set(got["at_thresholds"]) == {"0", "3000"}
    assert got["at_thresholds"]["3000"]["recall"] == pytest.approx(recall_score(y5, scores >= 3000))


def test_roc_step_marks_the_90_precision_point(data):
    y5 = data.y_train == 5
    scores = _scores(y5, 1.0, np.random.default_rng(4))
    backend = gpuclf.get_backend("numpy")
    ctx = Context(backend, data, RunConfig(n_estimators=5))
    ctx._memo["sgd5_scores"] = backend.asarray(scores)
    at90 = step_binary_roc(ctx)["sgd_at_90_precision"]
    _, _, thresholds = precision_recall_curve(y5, scores)
    precisions = precision_recall_curve(y5, scores)[0][:-1]
    t = thresholds[np.argmax(precisions >= 0.9)]
    assert at90["threshold"] == pytest.approx(t)
    assert at90["fpr"] == pytest.approx(np.mean(scores[~y5] >= t))
    assert at90["recall"] == pytest.approx(np.mean(scores[y5] >= t))
