"""PCA by the covariance's eigenvectors against scikit-learn's PCA."""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.decomposition import PCA

from gpuclf.errors import GpuclfError
from gpuclf.kernels.pca import pca_fit, pca_transform
from traced_peak import extra_peak


@pytest.fixture(scope="module")
def X(sample_mnist):
    return sample_mnist.X_train[:600].astype(np.float64)


@pytest.mark.parametrize("n_components", [1, 10, 40])
def test_pca_matches_sklearn(X, n_components):
    sk = PCA(n_components, svd_solver="full").fit(X)
    mean, components, variance = pca_fit(X, n_components)
    assert_allclose(mean, sk.mean_, rtol=1e-12)
    assert_allclose(variance, sk.explained_variance_, rtol=1e-9)
    # Same signs as scikit-learn's svd_flip: each component's largest entry is positive.
    assert_allclose(components, sk.components_, atol=1e-8)
    assert_allclose(pca_transform(X, mean, components), sk.transform(X), atol=1e-6)


def test_float32_pca_with_a_budget_below_the_covariance(X):
    """A budget smaller than the covariance itself: chunks of d rows (here all 600 at once), in float32."""
    mean, components, variance = pca_fit(X, 20)
    mean32, components32, variance32 = pca_fit(X.astype(np.float32), 20, budget_bytes=784 * 4 * 50)
    assert components32.dtype == mean32.dtype == variance32.dtype == np.float32
    assert_allclose(variance32, variance, rtol=1e-4)
    Z, Z32 = pca_transform(X, mean, components), pca_transform(X.astype(np.float32), mean32, components32)
    assert Z32.dtype == np.float32
    assert_allclose(Z32, Z, atol=1e-2 * np.abs(Z).max())


def test_integer_images_give_float64(sample_mnist):
    mean, components, variance = pca_fit(sample_mnist.X_train[:50], 3)
    assert mean.dtype == components.dtype == np.float64


@pytest.mark.parametrize("X, n, match", [
    (np.zeros((1, 4)), 1, r"at least 2 rows, got shape \(1, 4\)"),
    (np.zeros(4), 1, r"2-D X"),
    (np.zeros((5, 4)), 5, "n_components must be between 1 and the 4 features, got 5"),
    (np.zeros((5, 4)), 0, "got 0"),
])
def test_mistakes(X, n, match):
    with pytest.raises(GpuclfError, match=match):
        pca_fit(X, n)


def test_the_smallest_fits_allowed():
    """The bounds are inclusive: two rows, and as many components as features, fit like scikit-learn's PCA."""
    rng = np.random.default_rng(5)
    two = rng.normal(size=(2, 4))
    mean, components, variance = pca_fit(two, 1)
    sk = PCA(1, svd_solver="full").fit(two)
    np.testing.assert_allclose(mean, sk.mean_, atol=1e-12)
    np.testing.assert_allclose(np.abs(components), np.abs(sk.components_), atol=1e-10)
    np.testing.assert_allclose(variance, sk.explained_variance_, rtol=1e-10)
    X = rng.normal(size=(20, 4))
    mean, components, variance = pca_fit(X, 4)
    sk = PCA(4, svd_solver="full").fit(X)
    assert components.shape == (4, 4)
    np.testing.assert_allclose(np.abs(components), np.abs(sk.components_), atol=1e-10)
    np.testing.assert_allclose(variance, sk.explained_variance_, rtol=1e-10)


def test_float32_rows_get_a_mean_summed_in_float64():
    """The mean of float32 rows is their float64 mean rounded once (summed in float32, 200,000 rows near
    1,000 would drift by about 1e-5 relative, 100 float32 ulps)."""
    rng = np.random.default_rng(7)
    X = (1000 + rng.random((200_000, 3))).astype(np.float32)
    mean, _, _ = pca_fit(X, 1)
    assert mean.dtype == np.float32
    assert_allclose(mean, X.astype(np.float64).mean(axis=0).astype(np.float32), rtol=2e-7)


def test_the_default_budget_fits_a_small_pca_in_one_chunk():
    """On the (emulated) device, 1,000 rows take the launches of 10: one chunk, not a GEMM a row."""
    import fake_cupy

    X = np.random.default_rng(8).normal(size=(1000, 16))
    with fake_cupy.installed() as cp:
        launches = []
        for rows in (X[:10], X):
            fake_cupy.reset_stats()
            pca_fit(cp.asarray(rows), 2)
            launches.append(fake_cupy.stats["launches"])
    assert launches[0] == launches[1]


def test_the_fit_keeps_within_its_budget_when_the_covariance_weighs():
    """256 features: the covariance and a chunk's product take a quarter of a 4 MB budget, and the chunks
    of centred rows get the rest (tracemalloc; chunks sized without the two d x d arrays held 1.3 budgets)."""
    X = np.random.default_rng(9).normal(size=(6000, 256))
    budget = 4 * 2**20
    pca_fit(X[:10], 2)  # first-call imports: not working memory
    extra, _ = extra_peak(lambda: pca_fit(X, 4, budget_bytes=budget))
    assert X.nbytes > 2 * budget
    assert extra <= 1.05 * budget, f"{extra / budget:.2f} x the budget"


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_chunked_fit_adds_up_every_chunk(dtype, rtol):
    """2,000 rows of 64 features in chunks of 100 (the budget holds the covariance, a chunk's product and
    100 centred rows): scikit-learn's components and variances, so every chunk's product is in the sum."""
    rng = np.random.default_rng(10)
    X = rng.normal(size=(2000, 64)) * np.linspace(1.0, 3.0, 64)
    item = np.dtype(dtype).itemsize
    budget = 2 * 64 * 64 * item + 16 * 64 + 64 * item * 100
    mean, components, variance = pca_fit(X.astype(dtype), 5, budget_bytes=budget)
    sk = PCA(5, svd_solver="full").fit(X)
    assert_allclose(variance, sk.explained_variance_, rtol=rtol)
    assert_allclose(mean, sk.mean_, rtol=rtol, atol=rtol)
    assert_allclose(np.abs(components @ sk.components_.T), np.eye(5), atol=1e2 * rtol)


def test_float32_fit_keeps_within_its_budget():
    """float32 rows are centred, multiplied and summed in float32: 256 features, a 2.5 MiB budget holds the
    float32 covariance, a chunk's product and 2 MiB of float32 rows (tracemalloc; a float64 covariance would
    take 1.1 budgets, float64 centred rows nearly 2)."""
    X = np.random.default_rng(11).normal(size=(8000, 256)).astype(np.float32)
    budget = 5 * 2**19
    pca_fit(X[:10], 2)  # first-call imports: not working memory
    extra, (mean, components, variance) = extra_peak(lambda: pca_fit(X, 4, budget_bytes=budget))
    assert X.nbytes > 3 * budget
    assert extra <= 1.05 * budget, f"{extra / budget:.2f} x the budget"
    sk = PCA(4, svd_solver="full").fit(X.astype(np.float64))
    assert_allclose(variance, sk.explained_variance_, rtol=1e-4)
