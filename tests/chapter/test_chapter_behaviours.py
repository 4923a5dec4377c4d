"""Book figures a reader relies on, checked against scikit-learn computed here on the offline sample.

Each test fails for one plausible bug that used to pass the suite without real MNIST
(issue 17): the SGD intercept dropped from ``decision_function``, multiclass error rates
normalised by column, the KNN grid search breaking ties toward the last candidate, and the
ROC / precision-recall curves of the 5-detector.
"""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import SGDClassifier as SkSGD
from sklearn.metrics import auc, confusion_matrix, precision_recall_curve, roc_auc_score, roc_curve
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier as SkKNN

import gpuclf
from gpuclf.estimators import SGDClassifier
from gpuclf.chapter import Context, RunConfig
from gpuclf.chapter.binary import step_binary_roc
from gpuclf.chapter.error_analysis import step_error_analysis
from gpuclf.chapter.exercises import PARAM_GRID

from conftest import backend_params


@pytest.fixture(scope="module")
def data():
    return gpuclf.load_mnist("sample").subsample(1200, 200)


def _sklearn_twin(model):
    """A scikit-learn SGDClassifier carrying ``model``'s fitted attributes (its own decision_function)."""
    twin = SkSGD()
    twin.coef_ = np.asarray(model.coef_, dtype=np.float64)
    twin.intercept_ = np.asarray(model.intercept_, dtype=np.float64)
    twin.classes_ = np.asarray(model.classes_)
    twin.n_features_in_ = model.n_features_in_
    return twin


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_decision_function_includes_the_intercept(data, task):
    """Scores are ``X @ coef_.T + intercept_``, as scikit-learn computes them from the same attributes."""
    X = data.X_train.astype(np.float64) / 255.0
    y = data.y_train == 5 if task == "binary" else data.y_train
    model = SGDClassifier(random_state=42).fit(X, y)
    X_new = data.X_test.astype(np.float64) / 255.0
    got = np.asarray(model.decision_function(X_new))
    by_hand = X_new @ np.asarray(model.coef_).T + np.asarray(model.intercept_)
    by_hand = by_hand[:, 0] if task == "binary" else by_hand
    expected = _sklearn_twin(model).decision_function(X_new)
    np.testing.assert_allclose(expected, by_hand, rtol=1e-12, atol=1e-12)  # the reference agrees with itself
    # The intercept moves the scores by more than the tolerance: leaving it out cannot pass.
    assert np.abs(np.asarray(model.intercept_)).max() > 1e-3
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(model.predict(X_new), _sklearn_twin(model).predict(X_new))


def test_binary_sgd_step_reports_scores_with_the_intercept(data):
    """The 5-detector's first scores in results.json are scikit-learn's decision_function of its model."""
    from gpuclf.chapter.binary import step_binary_sgd

    backend = gpuclf.get_backend("numpy")
    ctx = Context(backend, data, RunConfig())
    fitted = []
    real_sgd = ctx.sgd
    ctx.sgd = lambda: fitted.append(real_sgd()) or fitted[-1]
    got = step_binary_sgd(ctx)
    model = fitted[0]
    X_first = np.asarray(ctx.X_train[:10], dtype=np.asarray(model.coef_).dtype)
    expected = _sklearn_twin(model).decision_function(X_first)
    assert abs(float(np.asarray(model.intercept_)[0])) > 1e-3
    np.testing.assert_allclose(got["first_scores"], expected, rtol=1e-5, atol=1e-5)
    assert got["first_predictions"] == [bool(s > 0) for s in expected]


@pytest.mark.parametrize("backend_name", backend_params())
def test_error_rates_are_normalised_by_true_class(data, backend_name):
    """The book's ``norm_conf_mx``: each row divided by that digit's count, diagonal zeroed."""
    rng = np.random.default_rng(0)
    y = data.y_train
    # A prediction whose errors depend on the class, so row and column sums differ.
    pred = np.where(rng.random(len(y)) < 0.15 + 0.03 * y, (y + 1 + (y % 3)) % 10, y).astype(y.dtype)
    backend = gpuclf.get_backend(backend_name)
    ctx = Context(backend, data, RunConfig())
    ctx._memo["sgd_scaled_pred"] = backend.asarray(pred)
    got = step_error_analysis(ctx)
    expected = confusion_matrix(y, pred, normalize="true")
    np.fill_diagonal(expected, 0.0)
    assert not np.allclose(expected, confusion_matrix(y, pred, normalize="pred") * (1 - np.eye(10)), atol=1e-3)
    np.testing.assert_allclose(got["error_rates"], np.round(expected, 4), atol=1e-12)
    assert got["confusion_matrix"] == confusion_matrix(y, pred).tolist()
    # The most confused pairs are the five largest off-diagonal rates, largest first, with their counts.
    order = np.argsort(-expected, axis=None, kind="stable")[:5]
    pairs = [(int(i), int(j)) for i, j in zip(*np.unravel_index(order, expected.shape))]
    assert [(p["true"], p["predicted"]) for p in got["most_confused"]] == pairs
    counts = confusion_matrix(y, pred)
    for p in got["most_confused"]:
        assert p["rate"] == pytest.approx(expected[p["true"], p["predicted"]])
        assert p["count"] == counts[p["true"], p["predicted"]]


def _tied_digits(n_per_class=30, seed=0):
    """Three far-apart tight clusters: every grid candidate scores 1.0 in every fold."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]])
    X = np.concatenate([c + rng.normal(scale=0.5, size=(n_per_class, 2)) for c in centres])
    y = np.repeat(np.arange(3), n_per_class)
    return X, y


@pytest.mark.parametrize("backend_name", backend_params())
def test_grid_search_ties_go_to_the_first_candidate(backend_name):
    """GridSearchCV's rank order: among equal mean scores the first candidate in ParameterGrid order wins."""
    X, y = _tied_digits()
    backend = gpuclf.get_backend(backend_name)
    search = backend.grid_search(backend.estimator("knn"), PARAM_GRID, backend.asarray(X), backend.asarray(y), cv=3)
    reference = GridSearchCV(SkKNN(), PARAM_GRID, cv=3).fit(X, y)
    assert len(set(reference.cv_results_["mean_test_score"])) == 1  # a real tie, everywhere
    assert search["params"] == list(reference.cv_results_["params"])
    assert search["best_params"] == reference.best_params_ == reference.cv_results_["params"][0]


@pytest.mark.parametrize("backend_name", backend_params())
def test_grid_search_scores_match_gridsearchcv(data, backend_name):
    """Mean CV accuracy per candidate and the winner, as GridSearchCV on the same rows and folds."""
    X, y = data.X_train[:600].astype(np.float32), data.y_train[:600]
    backend = gpuclf.get_backend(backend_name)
    search = backend.grid_search(backend.estimator("knn"), PARAM_GRID, backend.asarray(X, backend.feature_dtype),
                                 backend.asarray(y), cv=3)
    reference = GridSearchCV(SkKNN(), PARAM_GRID, cv=3).fit(X, y)
    np.testing.assert_allclose(search["mean_test_score"], reference.cv_results_["mean_test_score"], atol=1e-12)
    assert search["best_params"] == reference.best_params_
    assert search["best_score"] == pytest.approx(reference.best_score_)


def test_roc_and_pr_curves_match_sklearn(data):
    """The ROC step's curves and AUC are scikit-learn's on the same out-of-fold scores."""
    y5 = data.y_train == 5
    scores = np.random.default_rng(7).normal(size=len(y5)) + 1.5 * y5
    backend = gpuclf.get_backend("numpy")
    ctx = Context(backend, data, RunConfig(n_estimators=5))
    ctx._memo["sgd5_scores"] = backend.asarray(scores)
    got = step_binary_roc(ctx)
    fpr, tpr, _ = roc_curve(y5, scores)
    np.testing.assert_allclose(ctx.arrays["fpr"], fpr)
    np.testing.assert_allclose(ctx.arrays["tpr"], tpr)
    precisions, recalls, _ = precision_recall_curve(y5, scores)
    np.testing.assert_allclose(ctx.arrays["sgd_precisions"], precisions)
    np.testing.assert_allclose(ctx.arrays["sgd_recalls"], recalls)
    assert got["sgd_auc"] == pytest.approx(roc_auc_score(y5, scores), abs=1e-12)
    # The forest's AUC is the area under the ROC curve the step stores for it (trapezoids, as scikit-learn).
    assert got["forest_auc"] == pytest.approx(auc(ctx.arrays["forest_fpr"], ctx.arrays["forest_tpr"]), abs=1e-12)
