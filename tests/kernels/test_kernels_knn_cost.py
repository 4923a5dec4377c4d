"""The KNN cost model (``gpuclf/kernels/knn_cost.py``): a search's statistics and the FLOPs ``"auto"`` decides by.

Every figure is computed here from its documented meaning (the docstrings and ``docs/knn-search.md``'s
"Cost model"), not from the module's helpers.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from gpuclf.kernels import knn_cost


def _stats(candidates, **kw):
    base = dict(algorithm="pruned", n_queries=len(candidates), n_train=1_000, n_features=784, k=5,
                n_components=96, exact=True, candidates=np.asarray(candidates, dtype=np.int64))
    base.update(kw)
    return knn_cost.SearchStats(**base)


def test_summary_reports_every_figure_under_its_documented_name():
    """``summary()``: what was searched, candidates per query (median, p90, max, mean), fallbacks, FLOPs
    and their ratio to brute force's ``2 n_queries n_train n_features``."""
    c = np.arange(101)  # 0..100: median 50, 90th percentile 90, max 100, mean 50
    stats = _stats(c, fallback_chunks=2, fallback_queries=7, switched_queries=3,
                   flops={"filter": 1_000, "refine": 200, "projection": 30, "pca": 4})
    s = stats.summary()
    total = 1_000 + 200 + 30 + 4
    assert s == {
        "algorithm": "pruned", "queries": 101, "train_rows": 1_000, "features": 784, "k": 5, "components": 96,
        "exact": True, "candidates_median": 50.0, "candidates_p90": 90.0, "candidates_max": 100,
        "candidates_mean": 50.0, "fallback_chunks": 2, "fallback_queries": 7, "switched_queries": 3,
        "flops": {"filter": 1_000, "refine": 200, "projection": 30, "pca": 4}, "flops_total": total,
        "flops_vs_brute": total / (2 * 101 * 1_000 * 784),
    }
    # A percentile that is not the 90th is told apart: 11 values 0, 10, ..., 100 have p90 = 90 exactly.
    assert _stats(np.arange(11) * 10).summary()["candidates_p90"] == 90.0


def test_summary_of_a_search_with_no_queries_is_all_zeros():
    """No candidates and no brute FLOPs: the figures are zeros, with no warning and no division by zero."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = _stats([]).summary()
    assert s["queries"] == 0
    assert (s["candidates_median"], s["candidates_p90"], s["candidates_max"], s["candidates_mean"]) == (0.0, 0.0, 0, 0.0)
    assert s["flops_total"] == 0 and s["flops_vs_brute"] == 0.0


def test_expected_candidates_are_the_seeds_and_about_forty_more():
    """``4 k`` seeds (the default ``seed_blocks``) and 40 more on MNIST's 60,000 rows or fewer; beyond,
    the 40 grow as the fourth root of the rows (``docs/knn-search.md``: 20 seeds + 37 candidates, k = 5)."""
    assert knn_cost.expected_candidates(60_000, 5) == 4 * 5 + 40
    assert knn_cost.expected_candidates(8_000, 4) == 4 * 4 + 40
    assert knn_cost.expected_candidates(60_000, 5, seed_blocks=2) == 2 * 5 + 40
    # 16 x MNIST's rows: the fourth root doubles the 40.
    assert knn_cost.expected_candidates(16 * 60_000, 5) == pytest.approx(20 + 80, rel=1e-12)
    assert knn_cost.expected_candidates(300_000, 4) == pytest.approx(16 + 40 * 5 ** 0.25, rel=1e-12)


def _pruned_reference(q, n, f, d, k, build):
    """The pruned search's FLOPs by ``estimate_flops``'s docstring: ``2 (d + 1)`` a pair, each exact distance
    128 brute pairs of ``2 f``, the queries' projection ``2 f d`` each; the build: the rows' projection
    ``2 f d`` each, ``2 f^2`` per covariance row (at most 8,192), and ``100 f^3`` for the eigendecomposition."""
    candidates = min(n, 4 * k + 40 * max(1.0, n / 60_000) ** 0.25)
    cost = 2 * (d + 1) * q * n + q * candidates * 128 * 2 * f + 2 * q * f * d
    if build:
        cost += 2 * n * f * d + 2 * min(n, 8192) * f * f + 100 * f ** 3
    return cost


def test_estimate_flops_of_brute_force_is_two_f_a_pair():
    assert knn_cost.estimate_flops("brute", 10_000, 60_000, 784, 5) == 2 * 10_000 * 60_000 * 784
    assert knn_cost.estimate_flops("brute", 3, 7, 11, 1, build=False) == 2 * 3 * 7 * 11


@pytest.mark.parametrize("q, n, f, d, k", [
    (10_000, 60_000, 784, 96, 5),  # MNIST: d = 96 (an eighth of 784, a multiple of 16)
    (2_000, 300_000, 784, 96, 4),  # more rows than MNIST's: more candidates, the PCA on 8,192 of them
    (50, 30, 256, 32, 5),  # fewer rows than expected candidates, and than the PCA's 8,192
])
def test_estimate_flops_of_the_pruned_search_follows_its_docstring(q, n, f, d, k):
    """The build is counted by default; without it, only the filter, the refine and the queries' projection."""
    assert knn_cost.estimate_flops("pruned", q, n, f, k) == pytest.approx(_pruned_reference(q, n, f, d, k, True),
                                                                          rel=1e-12)
    assert knn_cost.estimate_flops("pruned", q, n, f, k, build=True) == pytest.approx(
        _pruned_reference(q, n, f, d, k, True), rel=1e-12)
    assert knn_cost.estimate_flops("pruned", q, n, f, k, build=False) == pytest.approx(
        _pruned_reference(q, n, f, d, k, False), rel=1e-12)


def test_default_components_is_an_eighth_of_the_features_to_the_nearest_16():
    """The docstring's rule, for every width up to 4,000: the multiple of 16 nearest to an eighth of the
    features (half-way widths left out: either neighbour is as near), clipped to 8..128 and to the width."""
    from gpuclf.kernels.knn_cost import default_components

    for f in range(1, 4000):
        eighth = f / 8
        low = 16 * (f // 128)
        if eighth - low == 8:
            continue
        nearest = low if eighth - low < 8 else low + 16
        assert default_components(f) == min(f, max(8, min(128, nearest))), f


def test_auto_prunes_only_where_the_estimate_saves_a_fifth():
    """``choose("auto", ...)``: pruned where :func:`estimate_flops` puts it below 0.8 of brute force, brute
    force where it saves less than a fifth, and where it costs more."""
    ratios = []
    for n_query in (1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000, 5000):
        for n_train in (1000, 3000, 10_000, 60_000):
            args = (n_query, n_train, 784, 5)
            ratio = knn_cost.estimate_flops("pruned", *args) / knn_cost.estimate_flops("brute", *args)
            assert knn_cost.choose("auto", *args, built=False) == ("pruned" if ratio < 0.8 else "brute"), args
            ratios.append(ratio)
    # Both sides are met, and searches that pruning would make cheaper, but by less than a fifth.
    assert min(ratios) < 0.8 and any(0.8 <= r < 1.0 for r in ratios) and max(ratios) > 1.0
