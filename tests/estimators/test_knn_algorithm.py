"""KNeighborsClassifier(algorithm=...): the same model whichever search finds the neighbours."""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.base import clone
from sklearn.neighbors import KNeighborsClassifier as SkKNN
from threadpoolctl import threadpool_limits

from gpuclf.errors import ParameterError
from gpuclf.estimators import KNeighborsClassifier
from gpuclf.kernels import pruned_neighbors as pn

ALGORITHMS = ["brute", "pruned", "auto"]


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread():
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def digits(sample_mnist):
    return (sample_mnist.X_train[:800].astype(np.float32), sample_mnist.y_train[:800],
            sample_mnist.X_test[:100].astype(np.float32))


def _outputs(knn, X, Q):
    return [*knn.kneighbors(Q), *knn.kneighbors(), knn.predict(Q), knn.predict_proba(Q), knn.predict(None)]


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_every_algorithm_gives_scikit_learns_model(digits, weights):
    X, y, Q = digits
    outputs = {a: _outputs(KNeighborsClassifier(4, weights=weights, algorithm=a).fit(X, y), X, Q)
               for a in ALGORITHMS}
    for name in ALGORITHMS:
        for got, want in zip(outputs[name], outputs["brute"]):
            assert_array_equal(got, want)
    sk = SkKNN(4, weights=weights, algorithm="brute").fit(X.astype(np.int64), y)
    assert_array_equal(outputs["pruned"][1], sk.kneighbors(Q.astype(np.int64))[1])
    assert_array_equal(outputs["pruned"][4], sk.predict(Q.astype(np.int64)))


def test_denoising_targets_with_the_pruned_search(digits):
    """The book's multi-output fit: noisy images in, 784 clean pixels out."""
    X, _, Q = digits
    rng = np.random.default_rng(42)
    noisy, noisy_q = X + rng.integers(0, 100, X.shape), Q + rng.integers(0, 100, Q.shape)
    got = KNeighborsClassifier(algorithm="pruned").fit(noisy, X.astype(np.uint8)).predict(noisy_q)
    assert_array_equal(got, KNeighborsClassifier().fit(noisy, X.astype(np.uint8)).predict(noisy_q))
    assert_array_equal(got, SkKNN(algorithm="brute").fit(noisy, X.astype(np.uint8)).predict(noisy_q))


def test_a_shared_projection_is_a_parameter(digits):
    X, y, Q = digits
    projection = pn.fit_projection(X)
    knn = KNeighborsClassifier(algorithm="pruned", projection=projection)
    assert knn.get_params()["projection"] is projection and knn.get_params()["algorithm"] == "pruned"
    copy = clone(knn)
    assert isinstance(copy.projection, pn.Projection)
    assert_array_equal(copy.fit(X[:500], y[:500]).predict(Q), KNeighborsClassifier().fit(X[:500], y[:500]).predict(Q))


@pytest.mark.parametrize("params, message", [
    ({"algorithm": "kd_tree"}, "The 'algorithm' parameter of KNeighborsClassifier must be one of 'auto', "
                               "'pruned', 'brute', got 'kd_tree'"),
    ({"projection": np.eye(3)}, "The 'projection' parameter of KNeighborsClassifier must be None or a Projection"),
])
def test_bad_search_parameters_are_refused_at_fit(params, message):
    with pytest.raises(ParameterError, match=message):
        KNeighborsClassifier(**params).fit(np.zeros((4, 3)), [0, 1, 0, 1])


def test_the_pca_is_fitted_once_and_a_given_projection_replaces_it(digits, monkeypatch):
    """The pruned search fits its PCA at the first search and keeps it for the next ones (predict, kneighbors,
    leave-one-out); a projection passed in is used instead, so cross-validation folds fit no PCA at all."""
    X, y, Q = digits
    X, y = X[:300], y[:300]
    shared = pn.fit_projection(X)
    fits = []
    real = pn.Projection.fit
    monkeypatch.setattr(pn.Projection, "fit", staticmethod(lambda *a, **kw: (fits.append(1), real(*a, **kw))[1]))
    knn = KNeighborsClassifier(4, algorithm="pruned").fit(X, y)
    got = [knn.predict(Q), knn.kneighbors(Q)[1], knn.kneighbors(return_distance=False)]
    assert len(fits) == 1
    given = KNeighborsClassifier(4, algorithm="pruned", projection=shared).fit(X, y)
    for a, b in zip([given.predict(Q), given.kneighbors(Q)[1], given.kneighbors(return_distance=False)], got):
        assert_array_equal(a, b)
    assert len(fits) == 1
