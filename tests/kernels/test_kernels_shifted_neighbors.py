"""The augmented-set search, block by block, against the materialised set and scikit-learn's KNN."""
import tracemalloc

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy.ndimage import shift as scipy_shift
from sklearn.neighbors import KNeighborsClassifier as SkKNN

from gpuclf.errors import GpuclfError
from gpuclf.kernels import neighbors
from gpuclf.kernels import shifted_neighbors as sn
from gpuclf.kernels.images import deskew
from gpuclf.kernels.pca import pca_fit, pca_transform
from gpuclf.kernels.preprocessing import BOOK_SHIFTS


def test_shift_sets_are_nested_prefixes_up_to_two_pixels():
    assert len(set(sn.SHIFT_ORDER)) == 25 == len(sn.SHIFT_ORDER)
    assert set(sn.SHIFT_ORDER) == {(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3)}
    assert sn.shifts_of("none") == ((0, 0),)
    assert sn.shifts_of("book") == ((0, 0), *BOOK_SHIFTS)  # the book's augmentation, in its order
    assert set(sn.shifts_of("1px")) == {(dx, dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
    assert set(sn.shifts_of("2px-axes")) == {(dx, dy) for dx, dy in sn.SHIFT_ORDER if abs(dx) + abs(dy) <= 2}
    sizes = list(sn.SHIFT_SETS.values())
    assert sizes == sorted(sizes) and sizes[-1] == 25
    with pytest.raises(GpuclfError, match="unknown shift set '3px'; choose one of none, book, 1px, 2px-axes, 2px"):
        sn.shifts_of("3px")


@pytest.mark.parametrize("shift", sn.SHIFT_ORDER)
def test_every_shift_matches_scipy(sample_mnist, shift):
    X = sample_mnist.X_train[:5]
    dx, dy = shift
    expected = np.stack([scipy_shift(x.reshape(28, 28), [dy, dx], cval=0, mode="constant").ravel() for x in X])
    assert_array_equal(sn.shifted_features(X, shift), expected)
    # In row chunks through a transform: the same images, then mapped.
    assert_array_equal(sn.shifted_features(X, shift, lambda Z: Z * 2, budget_bytes=1), expected * 2)


@pytest.fixture(scope="module")
def pipeline(sample_mnist):
    """Deskewed float32 digits and a PCA of the training part: the step's features."""
    X = deskew(sample_mnist.X_train[:700].astype(np.float32))
    train, test = X[:500], X[500:]
    mean, components, _ = pca_fit(train, 30)
    return train, sample_mnist.y_train[:500], test, lambda Z: pca_transform(Z, mean, components)


@pytest.mark.parametrize("budget", [None, 30 * 4 * 500 * 7])
def test_block_search_equals_the_materialised_search(pipeline, budget):
    train, _, test, transform = pipeline
    shifts = sn.shifts_of("2px")
    full = sn.augment(train, shifts, transform)
    assert full.shape == (25 * 500, 30)
    seen = []
    for blocks, d, i in sn.iter_augmented_kneighbors(train, transform(test), 6, shifts, transform, budget):
        want_d, want_i = neighbors.kneighbors(full[:blocks * 500], transform(test), 6)
        assert_array_equal(i, want_i)
        # Chunks of other shapes round float32 GEMMs differently in the last bit.
        np.testing.assert_allclose(d, want_d, rtol=1e-5)
        seen.append(blocks)
    assert seen == list(range(1, 26))
    # Shifted copies are found: some neighbours come from blocks past the originals.
    assert (i >= 500).any()


@pytest.mark.parametrize("k, weights", [(1, "uniform"), (4, "distance"), (6, "uniform")])
def test_predictions_equal_sklearn_on_the_materialised_set(pipeline, k, weights):
    train, y, test, transform = pipeline
    shifts = sn.shifts_of("1px")
    query = transform(test)
    d, i = sn.augmented_kneighbors(train, query, k, shifts, transform)
    ours = neighbors.vote(y[i % 500], d, 10, weights)
    sk = SkKNN(n_neighbors=k, weights=weights).fit(sn.augment(train, shifts, transform), np.tile(y, len(shifts)))
    assert_array_equal(ours, sk.predict(query))
    sk_d, sk_i = sk.kneighbors(query)
    assert_array_equal(i, sk_i)
    np.testing.assert_allclose(d, sk_d, rtol=1e-4)


def test_search_cost():
    cost = sn.search_cost(10_000, 60_000 * 25, 50, 4)
    assert cost == {"pairs": 1.5e10, "flops": 1.5e10 * 102, "bytes": 1.5e10 * 4 * 8}


def test_no_shift_is_a_mistake(pipeline):
    train, _, test, transform = pipeline
    with pytest.raises(GpuclfError, match="at least one shift"):
        sn.augmented_kneighbors(train, transform(test), 3, ())


def test_the_augmented_set_is_never_built(sample_mnist):
    """Under a 1 MiB budget the search of 25 shifted copies holds one block at a time, not the 25."""
    X = sample_mnist.X_train[:2000].astype(np.float32)
    mean, components, _ = pca_fit(X, 30)

    def transform(Z):
        return pca_transform(Z, mean, components)

    query = transform(X[:300])
    budget = 2**20
    tracemalloc.start()
    try:
        sn.augmented_kneighbors(X, query, 4, sn.shifts_of("2px"), transform, budget)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    materialised = 25 * 2000 * 30 * 4  # the augmented features alone: 5.7 MiB
    assert peak < 2 * budget < materialised, peak  # measured: 1.3 MiB; built whole, 11.6 MiB
