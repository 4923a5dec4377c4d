"""Real MNIST: every kind of search the chapter makes, brute force and pruned, against exact arithmetic.

Pixels are integers, so the exact squared distances are integers too, computed here by a float64
GEMM (every value below 2^53, so no rounding at all) and sorted stably: the neighbours and their
order are then unique, and both searches must return them, with ``sqrt`` of those distances.
Subsets keep it under a minute; ``docs/knn-search.md`` has the full-size runs.
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gpuclf.kernels import neighbors as nb
from gpuclf.kernels import pruned_neighbors as pn
from gpuclf.kernels.preprocessing import augment_with_shifts

pytestmark = pytest.mark.realdata


def exact(X, Q, k, exclude_self=False):
    X64, Q64 = X.astype(np.float64), Q.astype(np.float64)
    d2 = (Q64 * Q64).sum(1)[:, None] + (X64 * X64).sum(1)[None, :] - 2 * Q64 @ X64.T
    if exclude_self:
        np.fill_diagonal(d2, np.inf)
    order = np.argsort(d2, axis=1, kind="stable")[:, :k]
    return np.sqrt(np.take_along_axis(d2, order, 1)).astype(np.float32), order


def both(X, Q, k, switches=False, **kw):
    """Brute force and the pruned search, equal; the pruned one (``log[1]``) costing what its data allow.

    Where the filter bounds (pixels), it does well under half brute force's arithmetic, the build
    of its PCA and projection included. Where it cannot (``switches``: independent pixel noise),
    its probe chunk of :data:`~gpuclf.kernels.pruned_neighbors.PROBE_QUERIES` queries hands the
    search to the brute filter, and the switch wastes only that probe's filter: the search costs
    brute force's FLOPs, a few percent more, and the build's (a fixed cost, 28% of these 1,500
    queries' brute force but 2% of full MNIST's 10,000, where the whole search is 1.024 times brute).
    """
    with pn.recording() as log:
        brute = nb.kneighbors(X, Q, k, algorithm="brute", **kw)
        pruned = nb.kneighbors(X, Q, k, algorithm="pruned", **kw)
    for a, b in zip(brute, pruned):
        assert_array_equal(a, b)
    cost = log[1].summary()
    if not switches:
        assert cost["switched_queries"] == 0
        assert cost["flops_vs_brute"] < 0.5
        return pruned
    assert cost["switched_queries"] == len(Q)  # the probe chunk itself is redone with the brute filter
    probe = min(len(Q), pn.PROBE_QUERIES)
    assert cost["flops"]["filter"] == log[0].flops["filter"] + 2 * probe * len(X) * cost["components"]
    build = cost["flops"]["pca"] + 2 * len(X) * X.shape[1] * cost["components"]
    assert (cost["flops_total"] - build) / log[1].brute_flops < 1.05
    return pruned


@pytest.fixture(scope="module")
def mnist(real_mnist):
    return (real_mnist.X_train[:20_000].astype(np.float32), real_mnist.y_train[:20_000],
            real_mnist.X_test[:1_500].astype(np.float32))


def test_test_images_among_training_images(mnist):
    """best_accuracy's final search, and the grid's per fold (k up to 5)."""
    X, _, Q = mnist
    for got, want in zip(both(X, Q, 5), exact(X, Q, 5)):
        assert_array_equal(got, want)


def test_noisy_images_for_denoising(mnist):
    """denoise: pixels plus noise up to 99 (values to 354, still exact integers). The noise is independent
    per pixel, 88% of it outside any 96 axes: the pruned search switches to the brute filter after its probe."""
    X, _, Q = mnist
    rng = np.random.default_rng(42)
    noisy = (X + rng.integers(0, 100, X.shape)).astype(np.float32)
    noisy_q = (Q + rng.integers(0, 100, Q.shape)).astype(np.float32)
    for got, want in zip(both(noisy, noisy_q, 5, switches=True), exact(noisy, noisy_q, 5)):
        assert_array_equal(got, want)


def test_shifted_copies_for_augmentation(mnist):
    """augmentation: the originals and four one-pixel shifts, 5 x 8,000 rows; k = 4."""
    X, y, Q = mnist
    X_aug, _ = augment_with_shifts(X[:8_000], y[:8_000])
    for got, want in zip(both(X_aug, Q, 4), exact(X_aug, Q, 4)):
        assert_array_equal(got, want)


def test_cross_validation_folds_with_one_shared_projection(mnist):
    """multilabel's folds: one PCA of all the rows filters each fold's training part."""
    X, _, _ = mnist
    X = X[:6_000]
    projection = pn.fit_projection(X)
    train, test = X[:4_000], X[4_000:]
    brute = nb.kneighbors(train, test, 5)
    pruned = nb.kneighbors(train, test, 5, algorithm="pruned", projection=projection)
    for a, b, c in zip(brute, pruned, exact(train, test, 5)):
        assert_array_equal(a, b)
        assert_array_equal(b, c)


def test_leave_one_out(mnist):
    X, _, _ = mnist
    X = X[:5_000]
    for got, want in zip(both(X, X, 4, exclude_self=True), exact(X, X, 4, exclude_self=True)):
        assert_array_equal(got, want)
