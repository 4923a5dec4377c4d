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


# -- mutation survivors (round 5) ------------------------------------------------------------------
def test_roofline_seconds_is_the_binding_peak():
    """The least time at two peaks: bytes over bandwidth or FLOPs over arithmetic, whichever is larger."""
    assert sn.roofline_seconds({"bytes": 8e9, "flops": 1e9}, bytes_per_s=4e9, flops_per_s=1e9) == 2.0  # memory
    assert sn.roofline_seconds({"bytes": 1e9, "flops": 3e9}, bytes_per_s=4e9, flops_per_s=1e9) == 3.0  # arithmetic
    # The defaults are one H200's peaks: 4.8 TB/s, 67 TFLOP/s.
    assert sn.roofline_seconds({"bytes": 9.6e12, "flops": 6.7e13}) == 2.0
    assert sn.roofline_seconds({"bytes": 4.8e12, "flops": 2 * 6.7e13}) == 2.0


def _scipy_shifted(X, shift):
    dx, dy = shift
    return np.stack([scipy_shift(x.reshape(28, 28), [dy, dx], order=0, cval=0, mode="constant").ravel() for x in X])


def test_shifted_features_chunks_use_the_budget_and_are_all_kept():
    """A budget of two 784-value rows per image (the chunk's shifted copy and its transform's output)
    for 5 images gives chunks of 5; a 10-image set in two such chunks comes back whole."""
    X = np.random.default_rng(0).integers(0, 256, size=(10, 784)).astype(np.float64)
    seen = []

    def transform(Z):
        seen.append(Z.shape[0])
        return Z * 2

    got = sn.shifted_features(X, (1, -1), transform, budget_bytes=5 * 2 * 784 * 8)
    assert seen == [5, 5]
    assert_array_equal(got, _scipy_shifted(X, (1, -1)) * 2)


def test_shifted_features_of_more_rows_than_pixels(sample_mnist):
    """Sets of more than 784 images are shifted whole, in chunks."""
    X = sample_mnist.X_train[:900]
    got = sn.shifted_features(X, (0, 1), lambda Z: Z[:, :400], budget_bytes=300 * 2 * 784 * X.dtype.itemsize)
    assert got.shape == (900, 400)
    assert_array_equal(got, _scipy_shifted(X, (0, 1))[:, :400])


def test_augment_keeps_each_chunk_within_the_budget():
    """``augment`` hands its budget to every block: each chunk of shifted images fits in it."""
    X = np.random.default_rng(1).integers(0, 256, size=(12, 784)).astype(np.float32)
    budget = 3 * 2 * 784 * 4
    chunks = []

    def transform(Z):
        chunks.append(Z.nbytes)
        return Z[:, ::8]

    got = sn.augment(X, sn.shifts_of("book"), transform, budget)
    assert max(chunks) <= budget and len(chunks) >= 5 * 4
    assert_array_equal(got, np.concatenate([_scipy_shifted(X, s)[:, ::8] for s in sn.shifts_of("book")]))


def test_no_shift_message(pipeline):
    train, _, test, transform = pipeline
    with pytest.raises(GpuclfError, match=r"^the augmented search needs at least one shift, "
                                          r"e\.g\. \(0, 0\) for the originals$"):
        sn.augmented_kneighbors(train, transform(test), 3, ())


@pytest.mark.parametrize("features, queries, expected", [
    (np.float32, np.float32, np.float32), (np.float64, np.float32, np.float64), (np.float32, np.float64, np.float64)])
def test_distances_dtype_is_the_inputs(pipeline, features, queries, expected):
    """Distances are float32 only when the shifted features and the queries both are (as ``kneighbors``)."""
    train, _, test, transform = pipeline

    def typed(Z):
        return transform(Z).astype(features)

    query = transform(test[:20]).astype(queries)
    shifts = sn.shifts_of("book")
    d, i = sn.augmented_kneighbors(train, query, 3, shifts, typed)
    want_d, want_i = neighbors.kneighbors(sn.augment(train, shifts, typed), query, 3)
    assert d.dtype == want_d.dtype == expected
    assert_array_equal(i, want_i)


@pytest.mark.parametrize("algorithm", ["brute", "pruned", "auto"])
def test_one_training_image(sample_mnist, algorithm):
    """A training set of one image: its shifted copies are the whole augmented set. Each block is one row,
    which has no PCA: a pruned search of it brute-forces (it raised "PCA needs ... 2 rows" before)."""
    X = sample_mnist.X_train[:3].astype(np.float64)
    shifts = sn.shifts_of("book")
    d, i = sn.augmented_kneighbors(X[:1], X[1:], 1, shifts, algorithm=algorithm)
    want_d, want_i = neighbors.kneighbors(sn.augment(X[:1], shifts), X[1:], 1)
    assert_array_equal(i, want_i)
    np.testing.assert_allclose(d, want_d)


def test_pruned_search_shares_one_projection(pipeline):
    """``algorithm="pruned"`` prunes every block with the projection fitted once on the first block:
    no block's search fits a PCA of its own; the neighbours are brute force's."""
    from gpuclf.kernels.pruned_neighbors import recording

    train, _, test, transform = pipeline
    query = transform(test)
    shifts = sn.shifts_of("book")
    with recording() as log:
        d, i = sn.augmented_kneighbors(train, query, 4, shifts, transform, algorithm="pruned")
    assert [s.algorithm for s in log] == ["pruned"] * len(shifts)
    assert [s.flops["pca"] for s in log] == [0] * len(shifts)
    want_d, want_i = sn.augmented_kneighbors(train, query, 4, shifts, transform)
    assert_array_equal(i, want_i)
    assert_array_equal(d, want_d)


def test_only_the_pruned_search_fits_a_projection(pipeline, monkeypatch):
    """The PCA is the pruned search's cost alone: a brute-force search fits none, a pruned one fits one."""
    calls = []
    fit = sn.fit_projection
    monkeypatch.setattr(sn, "fit_projection", lambda *args, **kwargs: calls.append(1) or fit(*args, **kwargs))
    train, _, test, transform = pipeline
    query = transform(test[:20])
    sn.augmented_kneighbors(train, query, 4, sn.shifts_of("book"), transform, algorithm="brute")
    assert calls == []
    sn.augmented_kneighbors(train, query, 4, sn.shifts_of("book"), transform, algorithm="pruned")
    assert calls == [1]


@pytest.fixture(scope="module")
def wide(sample_mnist):
    """1,000 images and a 64-axis PCA: wide enough for ``"auto"`` to weigh a pruned search."""
    X = sample_mnist.X_train[:1200].astype(np.float32)
    mean, components, _ = pca_fit(X[:1000], 64)
    return X[:1000], X[1000:], lambda Z: pca_transform(Z, mean, components)


@pytest.mark.parametrize("n_query", [10, 200])
def test_auto_chooses_as_for_the_materialised_set(wide, n_query):
    """``"auto"`` picks for the whole augmented set (25 blocks of 1,000 rows) what it picks when that set
    is built and searched at once: brute force for 10 queries, the pruned search for 200."""
    from gpuclf.kernels.pruned_neighbors import recording

    train, test, transform = wide
    query = transform(test[:n_query])
    shifts = sn.shifts_of("2px")
    with recording() as materialised:
        want_d, want_i = neighbors.kneighbors(sn.augment(train, shifts, transform), query, 4, algorithm="auto")
    assert [s.algorithm for s in materialised] == ["brute" if n_query == 10 else "pruned"]
    with recording() as log:
        d, i = sn.augmented_kneighbors(train, query, 4, shifts, transform, algorithm="auto")
    assert {s.algorithm for s in log} == {materialised[0].algorithm} and len(log) == 25
    assert_array_equal(i, want_i)


def test_pruned_search_on_a_device_holds_one_block(sample_mnist):
    """On the (emulated) device, a pruned search of 784-pixel blocks holds one block of features, the
    projection's fit within its documented working memory (below the budget, three 784 x 784 arrays:
    a chunk of centred rows, the covariance and a chunk's product) and the budget: never a second block."""
    import fake_cupy

    X = sample_mnist.X_train[:4000].astype(np.float32)
    budget = 2**20
    with fake_cupy.installed() as cp:
        pool = cp.get_default_memory_pool()
        X_dev, query = cp.asarray(X), cp.asarray(X[:50])
        pool.free_all_blocks()
        before = pool.used_bytes()
        sn.augmented_kneighbors(X_dev, query, 4, ((0, 0), (1, 0)), None, budget, algorithm="pruned")
        peak = pool.total_bytes() - before
    block, fit = X.nbytes, 3 * 784 * 784 * 4
    assert peak <= block + fit + budget < 2 * block + fit, peak  # measured: block + 7.0 MiB
