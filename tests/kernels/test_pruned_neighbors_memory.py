"""What a search holds besides its working memory (``NeighborIndex.held_bytes``), measured on the emulated GPU.

``held_bytes`` is what a search given ``budget_bytes`` subtracts from it before sizing its working memory: the
index's norms and filters, the compact copy of small-integer rows, the pruned filter's build, the outputs. The
emulated CuPy (``tests/fake_cupy.py``) counts every device array in its memory pool, so each test measures:

- what stays on the device after a search (the index's caches and the outputs): never more than
  ``held_bytes`` said beforehand, and not much less when nothing is built (the bound is close);
- what the pruned filter's build holds at once: within ``held_bytes`` and the build's own working budget;
- a whole search given a budget adds no more than that budget to the device, in each case ``held_bytes``
  tells apart (brute force, the build, a built filter, a new projection; rows in uint8, in uint16, in neither).
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from gpuclf.kernels import pruned_neighbors as pn

N, F, M, K = 4000, 64, 200, 5  # 64 features: the default pruned filter has 8 components


def _rows(kind: str, seed: int):
    """Training rows and queries: floats, integers in 0..255 (a uint8 copy), in 256..4000 (uint16), past 65535."""
    rng = np.random.default_rng(seed)
    low, high = {"float": (0, 0), "uint8": (0, 256), "uint16": (256, 4001), "wide": (66000, 80001)}[kind]
    if kind == "float":
        return rng.random((N, F)).astype(np.float32), rng.random((M, F)).astype(np.float32)
    return (rng.integers(low, high, (N, F)).astype(np.float32), rng.integers(low, high, (M, F)).astype(np.float32))


def _brute(X, Q, k):
    """The k nearest rows by exact int64/float64 distances, ties by row."""
    d = ((Q.astype(np.float64)[:, None, :] - X.astype(np.float64)[None]) ** 2).sum(-1)
    return np.argsort(d, axis=1, kind="stable")[:, :k]


def _caller_projection(cp, X_dev, d):
    """A projection fitted by the caller (as one shared by folds), in the rows' dtype already: the caller's memory."""
    projection = pn.fit_projection(X_dev, d)
    projection.in_dtype(np.float32)
    return projection


@pytest.mark.parametrize("kind", ["float", "uint8", "uint16", "wide"])
def test_held_bytes_bounds_what_each_search_keeps(kind):
    """After each search the device holds the index's caches and the outputs; ``held_bytes``, asked before the
    search, is at least that, and (nothing being built) at most a tenth more: brute force before and after the
    pruned filter exists, the first pruned search, a second one, a new projection (three times the components) and a
    search with it. Measured here: 0.99 to 1.0 of the bound without a build; with one, its temporaries
    (gone after the search) are counted too."""
    import fake_cupy

    X, Q = _rows(kind, 1)
    want = _brute(X, Q, K)
    with fake_cupy.installed() as cp:
        pool = cp.get_default_memory_pool()
        X_dev, Q_dev = cp.asarray(X), cp.asarray(Q)
        first, second = _caller_projection(cp, X_dev, 16), _caller_projection(cp, X_dev, 48)
        pool.free_all_blocks()
        start = pool.used_bytes()
        index = pn.NeighborIndex(X_dev)
        steps = [("brute", None, False), ("pruned", first, True), ("pruned", first, False), ("brute", None, False),
                 ("pruned", second, True), ("pruned", second, False)]
        for algorithm, projection, builds in steps:
            held = index.held_bytes(algorithm, M, K, projection)
            with pn.recording() as log:
                sq, idx = index.search(Q_dev, K, algorithm=algorithm, projection=projection)
            kept = pool.used_bytes() - start
            assert log[0].algorithm == algorithm
            assert kept <= held, f"{algorithm} (build: {builds}): keeps {kept:,} bytes, held_bytes said {held:,}"
            if not builds:
                assert kept >= 0.9 * held, f"{algorithm}: keeps {kept:,} bytes, held_bytes said {held:,}"
            assert_array_equal(idx.get(), want)
            del sq, idx


@pytest.mark.parametrize("components", [8, 32])
def test_held_bytes_bounds_the_pruned_filters_build(components):
    """Building the pruned filter (the rows' features, their error bounds and norms at once) within a small
    working budget holds no more than ``held_bytes`` of the first pruned search and that budget; measured here
    0.91 of it. (The features' float64 norms were once computed in one unbudgeted pass: 32 components went
    over.)"""
    import fake_cupy

    X, _ = _rows("float", 2)  # no compact copy, which the bound counts but the build does not make
    m, k, work = 20, 5, 1 << 16
    with fake_cupy.installed() as cp:
        pool = cp.get_default_memory_pool()
        X_dev = cp.asarray(X)
        projection = _caller_projection(cp, X_dev, components)
        pool.free_all_blocks()
        start = pool.used_bytes()
        index = pn.NeighborIndex(X_dev)
        held = index.held_bytes("pruned", m, k, projection)  # the rows' norms, computed first by a search too
        pool.free_all_blocks()
        index.filter("pruned", projection, work)
        peak = pool.total_bytes() - start
    assert peak <= held + work, f"the build holds {peak:,} bytes, held_bytes {held:,} and its budget {work:,}"


@pytest.mark.parametrize("kind, components, budget", [("float", 8, 760_000), ("uint8", 8, 1_000_000),
                                                     ("uint16", 8, 1_300_000), ("wide", 8, 760_000),
                                                     ("float", 32, 1_480_000)])
def test_searches_keep_within_their_budget(kind, components, budget):
    """One index, one budget, searches in turn: brute force, the first pruned search (it fits the PCA and
    builds the filter), a second one, brute force with the filter built, a new projection: none adds more
    than the budget to the device (the rows and queries aside), and each finds the exact neighbours. The
    budget is tight: what the index and search hold is most of it. (A new projection of 32 components once
    went 1.25 budgets over: the old filter lived through the new one's build.)"""
    import fake_cupy

    X, Q = _rows(kind, 3)
    want = _brute(X, Q, K)
    with fake_cupy.installed() as cp:
        pool = cp.get_default_memory_pool()
        X_dev, Q_dev = cp.asarray(X), cp.asarray(Q)
        other = _caller_projection(cp, X_dev, components)
        pool.free_all_blocks()
        start = pool.used_bytes()
        index = pn.NeighborIndex(X_dev, budget_bytes=budget)
        for step, (algorithm, projection) in enumerate([("brute", None), ("pruned", None), ("pruned", None),
                                                        ("brute", None), ("pruned", other), ("pruned", other)]):
            pool.free_all_blocks()
            with pn.recording() as log:
                sq, idx = index.search(Q_dev, K, algorithm=algorithm, projection=projection)
            peak = pool.total_bytes() - start
            assert log[0].algorithm == algorithm
            assert peak <= budget, f"search {step} ({algorithm}): {peak / budget:.3f} x the budget"
            assert_array_equal(idx.get(), want)
            del sq, idx


def test_held_bytes_counts_the_map_the_index_fits():
    """The PCA an index fits for itself stays with its filter (mean and axes in float64 and in the rows'
    dtype): after a second pruned search of 256-feature rows, what the device keeps is within ``held_bytes``
    (1.33 times it before the map was counted)."""
    import fake_cupy

    rng = np.random.default_rng(4)
    X, Q = rng.random((2000, 256)).astype(np.float32), rng.random((50, 256)).astype(np.float32)
    with fake_cupy.installed() as cp:
        pool = cp.get_default_memory_pool()
        X_dev, Q_dev = cp.asarray(X), cp.asarray(Q)
        pool.free_all_blocks()
        start = pool.used_bytes()
        index = pn.NeighborIndex(X_dev)
        index.search(Q_dev, K, algorithm="pruned")
        held = index.held_bytes("pruned", 50, K)
        sq, idx = index.search(Q_dev, K, algorithm="pruned")
        kept = pool.used_bytes() - start
        got = idx.get()
    assert kept <= held, f"keeps {kept:,} bytes, held_bytes said {held:,}"
    assert_array_equal(got, _brute(X, Q, K))
