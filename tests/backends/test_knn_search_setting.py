"""The backend's knn_search setting: what every KNN of the chapter searches with, one PCA per data set."""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.model_selection import GridSearchCV, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier as SkKNN
from threadpoolctl import threadpool_limits

from gpuclf import get_backend
from gpuclf.errors import GpuclfError
from gpuclf.kernels import pruned_neighbors as pn


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def digits(sample_mnist):
    return sample_mnist.X_train[:900].astype(np.float32), sample_mnist.y_train[:900]


@pytest.fixture
def projections(monkeypatch):
    """Every PCA the searches fit, by the number of rows it was fitted on."""
    fitted = []
    real = pn.Projection.fit.__func__

    def counting(cls, X, *args, **kwargs):
        fitted.append(X.shape[0])
        return real(cls, X, *args, **kwargs)

    monkeypatch.setattr(pn.Projection, "fit", classmethod(counting))
    return fitted


def test_the_setting_reaches_the_estimators():
    assert get_backend("numpy").estimator("knn").algorithm == "auto"  # pruned where it pays
    assert get_backend("numpy", knn_search="pruned").estimator("knn").algorithm == "pruned"
    assert get_backend("numpy", knn_search="auto").estimator("knn", n_neighbors=3).get_params()["n_neighbors"] == 3
    with pytest.raises(GpuclfError, match="algorithm must be one of"):
        get_backend("numpy", knn_search="ball_tree")


def test_cross_validation_shares_one_projection_and_changes_nothing(digits, projections):
    X, y = digits
    Y = np.stack([y >= 7, y % 2 == 1], axis=1)
    predictions = {}
    for search in ("brute", "pruned"):
        b = get_backend("numpy", knn_search=search)
        predictions[search] = b.cross_val_predict(b.estimator("knn"), X, Y, cv=3)
    assert projections == [X.shape[0]]  # one PCA of all the rows, for the three folds
    assert_array_equal(predictions["pruned"], predictions["brute"])
    assert_array_equal(predictions["pruned"], cross_val_predict(SkKNN(), X.astype(np.int64), Y, cv=3))


def test_grid_search_shares_one_projection_and_changes_nothing(digits, projections):
    X, y = digits
    grid = {"weights": ["uniform", "distance"], "n_neighbors": [3, 4, 5]}
    results = {}
    for search in ("brute", "pruned"):
        b = get_backend("numpy", knn_search=search)
        results[search] = b.grid_search(b.estimator("knn"), grid, X, y, cv=3)
    assert projections == [X.shape[0]]
    assert results["pruned"]["mean_test_score"] == results["brute"]["mean_test_score"]
    sk = GridSearchCV(SkKNN(), grid, cv=3).fit(X.astype(np.int64), y)
    np.testing.assert_allclose(results["pruned"]["mean_test_score"], sk.cv_results_["mean_test_score"], atol=1e-12)
    best = results["pruned"]["best_estimator"]
    assert best.algorithm == "pruned" and isinstance(best.projection, pn.Projection)
    best.fit(X, y).predict(X[:300])  # the final fit on more rows reuses the grid's PCA
    assert projections == [X.shape[0]]


def test_the_default_auto_fits_no_projection_for_folds_it_searches_by_brute_force(digits, projections):
    X, y = digits
    b = get_backend("numpy")  # knn_search="auto": 300 x 600 folds are searched by brute force
    predicted = b.cross_val_predict(b.estimator("knn"), X, y, cv=3)
    assert projections == []
    assert_array_equal(predicted, cross_val_predict(SkKNN(), X.astype(np.int64), y, cv=3))
