"""Brute force and the pruned search: the same neighbours, indices and distances, bit for bit, on every kind of data.

The reference is exact arithmetic where the data allow it (integers: int64 distances, a stable sort,
so ties by index) and scikit-learn's brute force elsewhere. Each case runs the pruned search's two
ways of finishing a chunk: refining its candidates, and the exhaustive fallback.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from gpuclf.errors import GpuclfError
from gpuclf.kernels import neighbors as nb
from gpuclf.kernels import pruned_neighbors as pn
from traced_peak import extra_peak


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread():
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(params=["refine", "switch", "fallback"])
def finish(request, monkeypatch):
    """Refine every chunk's candidates; or hand every pruned chunk to the brute filter; or evaluate every
    chunk exhaustively. (Left to the cost model, small searches like these' switch at their first chunk.)"""
    monkeypatch.setattr(pn, "REFINE_PAIRS_PER_CANDIDATE", {"refine": 0, "switch": 1e30, "fallback": 0}[request.param])
    if request.param == "fallback":
        monkeypatch.setattr(pn, "FALLBACK_FRACTION", 0.0)
        monkeypatch.setattr(pn, "FALLBACK_FLOOR", -1)
    else:
        monkeypatch.setattr(pn, "FALLBACK_FRACTION", 2.0)
    return request.param


def reference(X, Q, k, exclude_self=False):
    """Exact neighbours of integer data: int64 squared distances, ties by index (a stable sort)."""
    d2 = ((Q.astype(np.int64)[:, None, :] - X.astype(np.int64)[None]) ** 2).sum(-1).astype(np.float64)
    if exclude_self:
        np.fill_diagonal(d2, np.inf)
    order = np.argsort(d2, axis=1, kind="stable")[:, :k]
    return np.sqrt(np.take_along_axis(d2, order, 1)), order


def search_all(X, Q, k, **kw):
    """(distances, indices) of every algorithm; they must all be the same arrays."""
    got = {a: nb.kneighbors(X, Q, k, algorithm=a, **kw) for a in ("brute", "pruned", "auto")}
    for name, (d, i) in got.items():
        assert_array_equal(d, got["brute"][0], err_msg=name)
        assert_array_equal(i, got["brute"][1], err_msg=name)
    return got["brute"]


def digits(n, seed, noise=0):
    """Digit-like integer images: a few prototypes, noisy copies (many near-ties, some exact)."""
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 256, size=(6, 64)) * (rng.random((6, 64)) < 0.4)
    X = protos[rng.integers(0, 6, n)] + rng.integers(0, noise + 1, (n, 64))
    return np.clip(X, 0, 255 + noise).astype(np.float32)


@pytest.mark.parametrize("k", [1, 4, 10, 20])
def test_integer_images_give_exact_neighbours(finish, k):
    X, Q = digits(400, 0, noise=3), digits(50, 1, noise=3)
    d, i = search_all(X, Q, k)
    want_d, want_i = reference(X, Q, k)
    assert_array_equal(i, want_i)
    assert_array_equal(d, want_d.astype(np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_continuous_data_match_scikit_learn(finish, dtype):
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 40)).astype(dtype)
    Q = rng.normal(size=(40, 40)).astype(dtype)
    d, i = search_all(X, Q, 6)
    sk_d, sk_i = NearestNeighbors(n_neighbors=6, algorithm="brute").fit(X).kneighbors(Q)
    assert_array_equal(i, sk_i)
    np.testing.assert_allclose(d, sk_d, rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_leave_one_out_with_duplicates(finish):
    """Each row is its own query and is left out, not its duplicates."""
    X = np.repeat(digits(60, 3), 3, axis=0)
    d, i = search_all(X, X, 5, exclude_self=True)
    want_d, want_i = reference(X, X, 5, exclude_self=True)
    assert_array_equal(i, want_i)
    assert_array_equal(d, want_d.astype(np.float32))
    assert not (i == np.arange(len(X))[:, None]).any()


def test_constant_images_tie_everywhere(finish):
    X = np.full((120, 64), 7.0, dtype=np.float32)
    Q = np.vstack([np.full((3, 64), 7.0), np.zeros((2, 64))]).astype(np.float32)
    d, i = search_all(X, Q, 9)
    assert_array_equal(i, np.tile(np.arange(9), (5, 1)))
    assert_array_equal(d[:3], 0)
    assert_array_equal(d[3:], np.float32(56.0))


def test_k_as_large_as_the_training_set(finish):
    X, Q = digits(40, 4), digits(7, 5)
    d, i = search_all(X, Q, 40)
    assert_array_equal(i, reference(X, Q, 40)[1])
    assert_array_equal(np.sort(i, axis=1), np.tile(np.arange(40), (7, 1)))


@pytest.mark.parametrize("budget", [1, 50_000])
def test_chunks_change_nothing(budget):
    X, Q = digits(300, 6, noise=2), digits(80, 7, noise=2)
    whole = search_all(X, Q, 5)
    chunked = search_all(X, Q, 5, budget_bytes=budget)
    for a, b in zip(whole, chunked):
        assert_array_equal(a, b)


def test_any_projection_gives_the_same_neighbours():
    """A PCA of other data, of a superset, or a random map: the bound stays valid, the result exact."""
    X, Q = digits(300, 8, noise=5), digits(40, 9, noise=5)
    want = nb.kneighbors(X, Q, 5)
    rng = np.random.default_rng(0)
    for projection in (pn.fit_projection(np.vstack([X, Q])), pn.fit_projection(digits(200, 10), 4),
                       pn.Projection(np.zeros(64), rng.normal(size=(12, 64)))):
        for a, b in zip(nb.kneighbors(X, Q, 5, algorithm="pruned", projection=projection), want):
            assert_array_equal(a, b)



def test_an_index_of_no_rows_builds_its_pruned_filter():
    """No training rows, and a projection fitted elsewhere (as shared by folds): the pruned filter is built, and
    scores each query against no row, under a finite threshold (no row's rounding to bound)."""
    rng = np.random.default_rng(25)
    projection = pn.fit_projection(rng.normal(size=(50, 10)), 3)
    filt = pn.NeighborIndex(np.empty((0, 10))).filter("pruned", projection)
    Fq, rho = filt.query(rng.normal(size=(4, 10)))
    assert filt.n_rows == 0 and filt.scores(Fq).shape == (4, 0)
    assert np.isfinite(filt.threshold(np.ones(4), Fq, rho, 0.0)).all()



def test_the_pruned_filter_covers_the_rounding_of_the_rows_features():
    """Rows on a circle of radius 100 in a plane of 784 features, projected onto that plane, and queries at its
    centre and near it: each row's features have the row's own norm but for their rounding (float32 dot
    products of 784 terms), enough to put some rows' scores above a threshold without margins. The filter's
    threshold, whose margin bounds the rows' rounding (in proportion to their distance from the mean),
    excludes no row within tau."""
    from gpuclf.kernels import distance_bounds as db
    from gpuclf.kernels import exact_distances as ed

    rng = np.random.default_rng(26)
    f = 784
    V = np.linalg.qr(rng.normal(size=(f, 2)))[0].T
    directions = rng.normal(size=(2000, 2))
    X = (directions / np.linalg.norm(directions, axis=1, keepdims=True) @ V * 100).astype(np.float32)
    filt = pn.NeighborIndex(X).filter("pruned", pn.Projection(np.zeros(f), V))
    for Q in (np.zeros((1, f), dtype=np.float32), (10 * V[:1]).astype(np.float32)):
        Fq, rho_q = filt.query(Q)
        g = filt.scores(Fq)[0].astype(np.float64)
        c = ed.PairEvaluator(X, ed.sq_norms(X), Q, ed.sq_norms(Q), None).full(0, 1)[0]
        taus = np.sort(c)[::50]
        a2 = float(np.sum(Fq.astype(np.float64) ** 2))
        assert any(np.any((c <= tau) & (g > tau - a2)) for tau in taus)  # rounding matters here
        for tau in taus:
            T = float(filt.threshold(np.array([tau]), Fq, rho_q, db.gamma(f + 2, 2.0 ** -53))[0])
            assert not np.any((c <= tau) & (g > T)), tau

@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_pruned_equals_brute_on_ties_duplicates_and_constants(data):
    """Property: small integer data (ties, duplicated rows, constant images), any k up to n."""
    n_features = data.draw(st.integers(1, 12), label="features")
    levels = data.draw(st.sampled_from([1, 2, 4, 256]), label="levels")
    row = st.lists(st.integers(0, levels - 1), min_size=n_features, max_size=n_features)
    base = data.draw(st.lists(row, min_size=1, max_size=8), label="distinct rows")
    picks = data.draw(st.lists(st.integers(0, len(base) - 1), min_size=2, max_size=30), label="rows")
    X = np.array([base[p] for p in picks], dtype=np.float32)
    Q = np.array(data.draw(st.lists(row, min_size=1, max_size=6)), dtype=np.float32)
    k = data.draw(st.integers(1, len(X)), label="k")
    finish = data.draw(st.sampled_from(["refine", "switch", "fallback"]), label="finish")
    saved = pn.FALLBACK_FRACTION, pn.FALLBACK_FLOOR, pn.REFINE_PAIRS_PER_CANDIDATE
    pn.FALLBACK_FRACTION, pn.FALLBACK_FLOOR = (0.0, -1) if finish == "fallback" else (2.0, 1 << 16)
    pn.REFINE_PAIRS_PER_CANDIDATE = 1e30 if finish == "switch" else 0
    try:
        d, i = search_all(X, Q, k)
        loo = len(X) > k and search_all(X, X, k, exclude_self=True)
    finally:
        pn.FALLBACK_FRACTION, pn.FALLBACK_FLOOR, pn.REFINE_PAIRS_PER_CANDIDATE = saved
    want_d, want_i = reference(X, Q, k)
    assert_array_equal(i, want_i)
    assert_array_equal(d, want_d.astype(np.float32))
    if loo:
        assert_array_equal(loo[1], reference(X, X, k, exclude_self=True)[1])


def low_rank(n, seed, rank=6):
    """Integer rows near a 6-dimensional plane: a few principal axes bound their distances tightly."""
    rng = np.random.default_rng(seed)
    W = np.random.default_rng(99).normal(size=(rank, 64))
    return np.rint(100 + rng.normal(size=(n, rank)) @ W * 8 + rng.integers(0, 3, (n, 64))).astype(np.float32)


def test_statistics_of_a_search():
    X, Q = low_rank(2000, 11), low_rank(100, 12)
    with pn.recording() as log:
        pruned_result = nb.kneighbors(X, Q, 5, algorithm="pruned")
        brute_result = nb.kneighbors(X, Q, 5, algorithm="brute")
    for a, b in zip(pruned_result, brute_result):
        assert_array_equal(a, b)
    pruned, brute = log
    assert (pruned.algorithm, brute.algorithm) == ("pruned", "brute")
    assert pruned.exact and pruned.n_components == 8 < brute.n_components == 64
    assert pruned.candidates.shape == (100,) and pruned.candidates.min() >= 5
    summary = pruned.summary()
    assert summary["candidates_median"] <= summary["candidates_p90"] <= summary["candidates_max"] < 50
    assert summary["fallback_chunks"] == 0 and summary["flops"]["filter"] == 2 * 100 * 2000 * 8
    assert summary["flops"]["pca"] == 2 * 2000 * 64 * 64 and summary["flops_vs_brute"] < 1
    assert brute.summary()["flops"]["filter"] == brute.brute_flops



@pytest.mark.parametrize("components", [None, 48])
def test_a_pruned_search_keeps_within_its_budget(components):
    """The pruned filter's scores come in the rows' float32, from float32 features (tracemalloc: a search adds no
    more than its budget, the filter it builds included), with brute force's neighbours, and silently (no
    warning, such as a NumPy deprecation that a later NumPy raises). A given map of 48 components (the
    default for 64 features is 8) is counted in what the search holds."""
    import tracemalloc
    import warnings

    X, Q = low_rank(6000, 1), low_rank(600, 2)
    budget = 20_000_000
    projection = None if components is None else pn.fit_projection(X, components)
    want = nb.kneighbors(X, Q, 5, algorithm="brute")
    with threadpool_limits(limits=1):
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            with pn.recording() as log, warnings.catch_warnings():
                warnings.simplefilter("error")
                got = nb.kneighbors(X, Q, 5, algorithm="pruned", budget_bytes=budget, projection=projection)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
    assert log[0].algorithm == "pruned" and log[0].switched_queries == 0 and log[0].fallback_chunks == 0
    assert 600 * 6000 * 4 > budget / 2  # the scores of every pair at once: most of the budget
    assert peak <= budget, f"{peak / budget:.2f} x the budget"
    for a, b in zip(got, want):
        assert_array_equal(a, b)


def test_a_given_maps_arrays_are_counted_before_the_working_budget(monkeypatch):
    """The working memory gets what the index's arrays leave of the budget, the given map's features (48
    components, against 8 by default for 64 features) counted: the filter is built within that remainder."""
    X, Q = low_rank(3000, 1), low_rank(300, 2)
    projection, given = pn.fit_projection(X, 48), 20_000_000
    index = pn.NeighborIndex(X, budget_bytes=given)
    held = index.held_bytes("pruned", len(Q), 5, projection)
    assert held > index.held_bytes("pruned", len(Q), 5) + 3000 * 40 * 4  # 40 more features a row, at least
    asked, build = [], pn.NeighborIndex.filter

    def spy(self, algorithm, projection=None, budget_bytes=None):
        asked.append(budget_bytes)
        return build(self, algorithm, projection, budget_bytes)

    monkeypatch.setattr(pn.NeighborIndex, "filter", spy)
    index.search(Q, 5, algorithm="pruned", projection=projection)
    assert asked == [given - held]


def test_noise_no_axis_captures_hands_the_search_to_the_brute_filter():
    """Independent noise on every feature (the book's denoising): the projection bounds nothing, the
    candidates would cost more than brute force, and the search switches; the result is the same."""
    rng = np.random.default_rng(21)
    X = low_rank(3000, 22) + rng.integers(0, 100, (3000, 64))
    Q = low_rank(200, 23) + rng.integers(0, 100, (200, 64))
    with pn.recording() as log:
        pruned = nb.kneighbors(X, Q, 5, algorithm="pruned", budget_bytes=3000 * 16 * 40)
    brute = nb.kneighbors(X, Q, 5)
    for a, b in zip(pruned, brute):
        assert_array_equal(a, b)
    (stats,) = log
    assert stats.switched_queries == 200  # at the first chunk, which the brute filter did again
    assert stats.brute_flops < stats.flops["filter"] < 1.2 * stats.brute_flops
    assert stats.summary()["switched_queries"] == 200


def test_statistics_count_fallbacks(monkeypatch):
    monkeypatch.setattr(pn, "REFINE_PAIRS_PER_CANDIDATE", 0)
    monkeypatch.setattr(pn, "FALLBACK_FRACTION", 0.0)
    monkeypatch.setattr(pn, "FALLBACK_FLOOR", -1)
    X, Q = digits(100, 13), digits(30, 14)
    with pn.recording() as log:
        nb.kneighbors(X, Q, 3, algorithm="pruned", budget_bytes=100 * 12 * 10)
    (stats,) = log
    assert stats.fallback_queries == 30 and stats.fallback_chunks >= 3
    assert (stats.candidates == 100).all()


def test_auto_prunes_large_searches_of_wide_data_only():
    # The chapter's searches: 10,000 test images, or a fold of 20,000, against MNIST's training rows.
    assert pn.choose("auto", 10_000, 60_000, 784, 5, built=False) == "pruned"
    assert pn.choose("auto", 20_000, 40_000, 784, 5, built=True) == "pruned"
    assert pn.choose("auto", 10_000, 300_000, 784, 4, built=False) == "pruned"
    # One digit (the multilabel step's example) does not pay for a PCA; knn_plus's 50 features are too few.
    assert pn.choose("auto", 1, 60_000, 784, 5, built=False) == "brute"
    assert pn.choose("auto", 10_000, 60_000, 50, 4, built=True) == "brute"
    assert pn.choose("auto", 200, 1_000, 784, 5, built=False) == "brute"
    assert pn.choose("brute", 10_000, 60_000, 784, 5, built=True) == "brute"
    assert pn.choose("pruned", 1, 10, 2, 1, built=False) == "pruned"
    with pytest.raises(GpuclfError, match="algorithm must be one of 'auto', 'pruned', 'brute'"):
        pn.choose("kd_tree", 1, 1, 1, 1, built=False)


def test_the_pruned_filter_is_built_once_per_index():
    X, Q = digits(500, 15), digits(20, 16)
    index = pn.NeighborIndex(X)
    nb.kneighbors(X, Q, 3, algorithm="pruned", index=index)
    first = index.filter("pruned")
    nb.kneighbors(X, Q[:5], 3, algorithm="pruned", index=index)
    assert index.filter("pruned") is first and index.build_flops["pca"] == 2 * 500 * 64 * 64
    assert index.build_flops["projection"] == 2 * 500 * 64 * first.d  # the rows' projection, once


def test_kneighbors_searches_with_the_index_and_projection_it_is_given():
    """``index``: the search builds its pruned filter on that index (kept for the next search);
    ``projection``: that map replaces the PCA (none is fitted)."""
    X, Q = digits(300, 8, noise=5), digits(40, 9, noise=5)
    projection = pn.Projection(np.zeros(64), np.random.default_rng(0).normal(size=(12, 64)))
    index = pn.NeighborIndex(X)
    for a, b in zip(nb.kneighbors(X, Q, 5, algorithm="pruned", projection=projection, index=index),
                    nb.kneighbors(X, Q, 5)):
        assert_array_equal(a, b)
    assert index.has_filter("pruned") and index.build_flops == {"projection": 2 * 300 * 64 * 12, "pca": 0}


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
def test_emulated_device_gives_the_numpy_bits(algorithm):
    import fake_cupy

    X, Q = digits(300, 17, noise=4), digits(40, 18, noise=4)
    rng = np.random.default_rng(0)
    Xf, Qf = rng.normal(size=(300, 40)).astype(np.float32), rng.normal(size=(40, 40)).astype(np.float32)
    want = [nb.kneighbors(X, Q, 5, algorithm=algorithm), nb.kneighbors(Xf, Qf, 5, algorithm=algorithm),
            nb.kneighbors(X, X, 4, algorithm=algorithm, exclude_self=True)]
    with fake_cupy.installed() as cp:
        got = [nb.kneighbors(cp.asarray(X), cp.asarray(Q), 5, algorithm=algorithm),
               nb.kneighbors(cp.asarray(Xf), cp.asarray(Qf), 5, algorithm=algorithm),
               nb.kneighbors(cp.asarray(X), cp.asarray(X), 4, algorithm=algorithm, exclude_self=True)]
        got = [(d.get(), i.get()) for d, i in got]
    for (gd, gi), (wd, wi) in zip(got, want):
        assert_array_equal(gd, wd)
        assert_array_equal(gi, wi)


@pytest.mark.parametrize("precision", ["tf32", "half"])
def test_reduced_precision_gemms_keep_the_result(monkeypatch, precision):
    """TF32 widens the margins and shrinks the digits' base; half precision leaves no bound, so every
    row is a candidate, evaluated by the definition. The neighbours stay the same either way."""
    import fake_cupy

    X, Q = digits(200, 19, noise=4), digits(30, 20, noise=4)
    want = nb.kneighbors(X, Q, 4, algorithm="pruned")
    with fake_cupy.installed() as cp:
        linalg = cp._core._routines_linalg
        if precision == "tf32":
            monkeypatch.setenv("CUPY_TF32", "1")
        else:
            linalg.set_compute_type(np.float32, linalg.COMPUTE_TYPE_FP16)
        try:
            with pn.recording() as log:
                got = nb.kneighbors(cp.asarray(X), cp.asarray(Q), 4, algorithm="pruned")
            got = [a.get() for a in got]
        finally:
            linalg.compute_types.clear()
    for a, b in zip(got, want):
        assert_array_equal(a, b)
    assert log[0].exact == (precision == "tf32")
    assert (log[0].candidates == 200).all() == (precision == "half")


def test_values_near_float32s_limit_are_searched_exhaustively():
    """Scores would overflow (inf - inf): no bound to trust, so every pair's exact distance, in float64."""
    rng = np.random.default_rng(24)
    X = (rng.normal(size=(60, 5)) * 1e20).astype(np.float32)
    Q = (rng.normal(size=(8, 5)) * 1e20).astype(np.float32)
    with pn.recording() as log:
        d, i = search_all(X, Q, 3)
    assert all(s.fallback_queries == 8 for s in log)
    sk_d, sk_i = NearestNeighbors(n_neighbors=3, algorithm="brute").fit(X.astype(np.float64)).kneighbors(Q)
    assert_array_equal(i, sk_i)
    np.testing.assert_allclose(d, sk_d, rtol=1e-6)


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
def test_every_branch_runs_each_branch_and_changes_no_result(algorithm, monkeypatch):
    """The warm-up's mode: each chunk also takes the branches its data did not choose, same neighbours."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, (3_000, 100)).astype(np.float32)
    Q = rng.integers(0, 256, (300, 100)).astype(np.float32)
    want = nb.kneighbors(X, Q, 5, algorithm=algorithm)
    calls = []
    for name in ("_exhaustive", "_chunk"):
        real = getattr(pn.NeighborIndex, name)
        monkeypatch.setattr(pn.NeighborIndex, name, lambda self, *a, _real=real, _name=name, **kw: (
            calls.append((_name, a[0].name if _name == "_chunk" else None)), _real(self, *a, **kw))[1])
    with pn.every_branch():
        got = nb.kneighbors(X, Q, 5, algorithm=algorithm)
    for a, b in zip(got, want):
        assert_array_equal(a, b)
    assert ("_exhaustive", None) in calls and ("_chunk", "brute") in calls
    calls.clear()
    nb.kneighbors(X, Q, 5, algorithm=algorithm)  # outside the block: the data's branch only
    assert ("_exhaustive", None) not in calls


def test_a_mask_count_of_every_length_class_is_compiled():
    import fake_cupy

    with fake_cupy.installed() as cp:
        before = set(fake_cupy.stats["kernels"])
        pn.count_every_length_class(cp)
        variants = {k[3] for k in set(fake_cupy.stats["kernels"]) - before if k[0] == "count_nonzero"}
    assert {"simple", *(f"cub-block-{t}-2pass" for t in (32, 64, 128, 256, 512))} <= variants, variants


@pytest.mark.parametrize("algorithm", ["pruned", "auto"])
def test_one_training_row_is_searched_by_brute_force(algorithm):
    """One row has no PCA (pca_fit needs two): the pruned search brute-forces it instead of raising, and a
    projection cannot be fitted to share (None)."""
    from gpuclf.kernels.pruned_neighbors import fit_projection
    rng = np.random.default_rng(0)
    X, Q = rng.random((1, 20)), rng.random((4, 20))
    d, i = nb.kneighbors(X, Q, 1, algorithm=algorithm)
    assert i.tolist() == [[0]] * 4
    np.testing.assert_allclose(d[:, 0], np.linalg.norm(Q - X, axis=1), rtol=1e-12)
    assert fit_projection(X) is None
    assert fit_projection(rng.random((2, 20))) is not None



def test_two_training_rows_are_pruned():
    """Two rows have a PCA (fit_projection fits one): a pruned search of them prunes, with brute force's
    neighbours."""
    rng = np.random.default_rng(1)
    X, Q = rng.random((2, 20)), rng.random((4, 20))
    with pn.recording() as log:
        got = nb.kneighbors(X, Q, 2, algorithm="pruned")
    assert log[0].algorithm == "pruned"
    for a, b in zip(got, nb.kneighbors(X, Q, 2, algorithm="brute")):
        assert_array_equal(a, b)


@pytest.mark.parametrize("high, dtype", [(256, np.uint8), (300, np.uint16), (None, None)])
def test_the_index_keeps_its_rows_compact_where_they_fit(high, dtype):
    """The rows the pruned search gathers: uint8 pixels, uint16 wider integers, the same values; None (the rows
    themselves) for data that are not integers."""
    rng = np.random.default_rng(2)
    X = rng.random((50, 12)).astype(np.float32) if high is None else rng.integers(0, high, (50, 12)).astype(np.float32)
    X[0, 0] = high - 1 if high else X[0, 0]
    compact = pn.NeighborIndex(X, budget_bytes=10_000)._compact()
    if dtype is None:
        assert compact is None
        return
    assert compact.dtype == dtype
    assert_array_equal(compact, X)


@pytest.fixture
def every_chunk_falls_back(monkeypatch):
    """Every chunk of a pruned search is evaluated exhaustively (the ``finish`` fixture's ``fallback``)."""
    monkeypatch.setattr(pn, "REFINE_PAIRS_PER_CANDIDATE", 0)
    monkeypatch.setattr(pn, "FALLBACK_FRACTION", 0.0)
    monkeypatch.setattr(pn, "FALLBACK_FLOOR", -1)


def test_fit_projection_fits_the_components_asked():
    """``n_components`` (down to one) is the PCA's: scikit-learn's axes, up to their signs."""
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(30)
    X = rng.normal(size=(300, 10)) * np.arange(1.0, 11.0)  # distinct variances: well-defined axes
    for d in (1, 3):
        projection = pn.fit_projection(X, d)
        assert projection.n_components == d
        axes = PCA(d).fit(X).components_
        np.testing.assert_allclose(np.abs(projection.components @ axes.T), np.eye(d), atol=1e-8)
        np.testing.assert_allclose(projection.mean, X.mean(axis=0), rtol=1e-12)


def test_fit_projection_keeps_within_its_budget():
    """The PCA's working memory follows ``budget_bytes`` (tracemalloc): its centred rows come in chunks.
    (The slack is for Python objects, e.g. threadpoolctl's, which tracemalloc counts too.)"""
    import tracemalloc

    X = np.random.default_rng(31).normal(size=(8000, 128))
    budget = 2**20
    pn.fit_projection(X[:10], 2)  # its first call imports the PCA's module: not working memory
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        projection = pn.fit_projection(X, 4, budget_bytes=budget)
        extra = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert X.nbytes > 7 * budget  # centred at once, the rows would take 7 budgets
    assert extra <= 2 * budget, f"{extra / budget:.2f} x the budget"
    assert projection.n_components == 4



@pytest.mark.parametrize("n_components", [256, 16])
def test_projected_features_keep_within_their_budget(n_components):
    """Projecting rows (the pruned filter's features, and each chunk's queries) centres them in blocks that follow
    ``budget_bytes`` (tracemalloc), down to a projection onto every axis; the features come in the dtype asked,
    within their error bounds of the map."""

    rng = np.random.default_rng(33)
    X = rng.normal(size=(4000, 256)).astype(np.float32)
    axes = np.linalg.qr(rng.normal(size=(256, 256)))[0][:n_components]
    projection = pn.Projection(X.mean(axis=0).astype(np.float64), axes)
    projection.apply(X[:10], np.float32)  # its float32 map, cached at the first call: not working memory
    budget = 400_000
    extra, (features, rho) = extra_peak(lambda: projection.apply(X, np.float32, budget))
    assert X.nbytes > 10 * budget  # centred at once, the rows would take 10 budgets
    assert extra <= budget, f"{extra / budget:.2f} x the budget"
    assert features.dtype == np.float32 and features.shape == (4000, n_components)
    mean, V, _, _ = projection.in_dtype(np.float32)  # the map in float32, applied in float64 (error ~1e-16)
    exact = (X.astype(np.float64) - mean.astype(np.float64)) @ V.astype(np.float64).T
    assert np.all(np.linalg.norm(features - exact, axis=1) <= rho)


def test_counting_every_length_class_compiles_the_masks_kernels():
    """After the warm-up's counts, counting a candidate mask (bool, 2-D) of any of those lengths compiles no
    kernel: the warm-up counted masks, not arrays of another dtype."""
    import fake_cupy

    with fake_cupy.installed() as cp:
        pn.count_every_length_class(cp)
        before = set(fake_cupy.stats["kernels"])
        for n in pn._REDUCED_LENGTHS:
            cp.count_nonzero(cp.zeros((4, n // 4), dtype=bool))
        assert set(fake_cupy.stats["kernels"]) == before


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
def test_exhaustive_batches_on_the_emulated_device(every_chunk_falls_back, algorithm):
    """Leave-one-out with duplicates, every chunk exhaustive and split into batches by a small budget, on the
    emulated GPU: each row left out of its own neighbours (in every batch), exact neighbours, NumPy's bits."""
    import fake_cupy

    X = np.repeat(digits(40, 3), 3, axis=0)
    want_d, want_i = reference(X, X, 4, exclude_self=True)
    with fake_cupy.installed() as cp:
        with pn.recording() as log:
            d, i = nb.kneighbors(cp.asarray(X), cp.asarray(X), 4, algorithm=algorithm, exclude_self=True,
                                 budget_bytes=80_000)
        d, i = d.get(), i.get()
    assert log[0].fallback_queries == len(X) and log[0].fallback_chunks > 1
    assert (log[0].candidates == len(X) - 1).all()  # every row but the query's own
    assert_array_equal(i, want_i)
    assert_array_equal(d, want_d.astype(np.float32))


def test_an_exhaustive_chunk_evaluates_each_pair_once():
    """Values near float32's limit (no bound to trust): every pair's exact distance once, by the definition
    (a subtraction, a product and a sum a feature), in one fallback chunk for a search of one chunk."""
    rng = np.random.default_rng(32)
    X = (rng.normal(size=(60, 5)) * 1e20).astype(np.float32)
    Q = (rng.normal(size=(8, 5)) * 1e20).astype(np.float32)
    with pn.recording() as log:
        search_all(X, Q, 3)
    for stats in log:
        assert (stats.fallback_chunks, stats.fallback_queries) == (1, 8)
        assert (stats.candidates == 60).all()
        assert stats.flops["refine"] == 3 * 8 * 60 * 5


def test_a_fallback_search_launches_no_kernel_per_query(every_chunk_falls_back):
    """The exhaustive path evaluates a chunk in batches sized by memory, not query by query: on the emulated
    GPU, a search of 20, 40 or 80 queries (one chunk each) launches the same number of kernels."""
    import fake_cupy

    rng = np.random.default_rng(33)
    launches = []
    for X, Q in [(rng.integers(0, 256, (100, 16)), rng.integers(0, 256, (80, 16))),
                 (rng.normal(size=(100, 16)), rng.normal(size=(80, 16)))]:
        with fake_cupy.installed() as cp:
            for m in (20, 40, 80):
                X_dev, Q_dev = cp.asarray(X.astype(np.float32)), cp.asarray(Q[:m].astype(np.float32))
                fake_cupy.reset_stats()
                with pn.recording() as log:
                    nb.kneighbors(X_dev, Q_dev, 3, algorithm="pruned")
                assert log[0].fallback_queries == m
                launches.append(fake_cupy.stats["launches"])
    assert launches[0] == launches[1] == launches[2] and launches[3] == launches[4] == launches[5], launches


def test_a_search_that_falls_back_keeps_within_its_budget():
    """Constant training images tie every pair, so every chunk is evaluated exhaustively (no
    monkeypatching): on the emulated GPU the search adds no more than its budget to the device."""
    import fake_cupy

    rng = np.random.default_rng(34)
    X = np.full((2000, 32), 4095.0, dtype=np.float32)
    Q = rng.integers(0, 4096, (300, 32)).astype(np.float32)
    budget = 3_000_000
    with fake_cupy.installed() as cp:
        pool = cp.get_default_memory_pool()
        X_dev, Q_dev = cp.asarray(X), cp.asarray(Q)
        pool.free_all_blocks()  # from here the pool's size is its high-water mark
        start = pool.used_bytes()
        with pn.recording() as log:
            d, i = nb.kneighbors(X_dev, Q_dev, 9, algorithm="brute", budget_bytes=budget)
        peak = pool.total_bytes() - start
        d, i = d.get(), i.get()
    assert log[0].fallback_queries == 300 and log[0].fallback_chunks > 1
    assert peak <= budget, f"{peak / budget:.2f} x the budget"
    assert_array_equal(i, np.tile(np.arange(9), (300, 1)))  # all at one distance: ties by row
    assert_array_equal(d[:, 0], np.sqrt(((Q.astype(np.int64) - 4095) ** 2).sum(1)).astype(np.float32))


def _signs(n, f, scale, seed):
    """Rows of +-scale: every row has the squared norm f scale^2, the columns' sums of squares are n scale^2."""
    return (np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, f)) * scale).astype(np.float32)


@pytest.mark.parametrize("n, f, scale", [(60, 5, 3e18), (1000, 2, 1e18)])
def test_rows_whose_pca_would_overflow_are_searched_by_brute_force(n, f, scale):
    """Rows whose float32 covariance overflows (checked here) have no PCA to prune with: a pruned search
    brute-forces them, silently (no overflow warning), with brute force's neighbours."""
    import warnings

    X, Q = _signs(n, f, scale, 35), _signs(7, f, scale, 36) * np.float32(0.5)
    centred = X - X.mean(axis=0)
    with np.errstate(over="ignore"):
        assert not np.isfinite(centred.T @ centred).all()
    want = nb.kneighbors(X, Q, 3, algorithm="brute")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pn.recording() as log:
            got = nb.kneighbors(X, Q, 3, algorithm="pruned")
    assert log[0].algorithm == "brute"
    for a, b in zip(got, want):
        assert_array_equal(a, b)


def test_large_rows_whose_pca_stays_finite_are_pruned():
    """Large values whose float32 covariance stays two orders of magnitude below overflow (checked here) are
    pruned as any others, with brute force's neighbours."""
    X, Q = _signs(60, 5, 1e17, 37), _signs(7, 5, 1e17, 38) * np.float32(0.5)
    assert len(X) * float(np.max(np.sum(X.astype(np.float64) ** 2, axis=1))) < np.finfo(np.float32).max / 100
    want = nb.kneighbors(X, Q, 3, algorithm="brute")
    with pn.recording() as log:
        got = nb.kneighbors(X, Q, 3, algorithm="pruned")
    assert log[0].algorithm == "pruned"
    for a, b in zip(got, want):
        assert_array_equal(a, b)


@pytest.mark.parametrize("k", [5, 9])
@pytest.mark.parametrize("features, train_high, query_high, digits", [(8, 2**19, 2**24, 13), (784, 256, 256, 2)])
def test_exhaustive_batches_keep_within_the_budget_whatever_the_digits(k, features, train_high, query_high, digits):
    """The fallback's batches of full distances hold, per pair, one float32 product per query digit, the
    float64 arrays of full()'s last step and the top-k's scratch (tracemalloc: NumPy reports its buffers), one
    batch at a time. Queries up to 2^24 against rows up to 2^19 take 13 digits of base 4, so each pair's
    products outweigh everything else: batches sized for fewer digits would hold several budgets; pixels take
    2 digits, where the float64 arrays weigh most (k = 5, the argmin top-k, has no scratch: batches sized
    without one float64 array, or with the last batch still alive, held 1.33 budgets). The budget is the one
    given, else the index's; the neighbours are the exact ones either way."""
    import tracemalloc

    from gpuclf.kernels import exact_distances as ed

    rng = np.random.default_rng(41)
    X = rng.integers(0, train_high, (2000, features)).astype(np.float32)
    Q = rng.integers(0, query_high, (200, features)).astype(np.float32)
    budget = 3_000_000
    plan = ed.digit_plan(features, ed.integer_bound(X), ed.integer_bound(Q))
    assert plan.count == digits
    d2 = ((Q.astype(np.int64)[:, None, :] - X.astype(np.int64)[None]) ** 2).sum(-1)
    want_i = np.argsort(d2, axis=1, kind="stable")[:, :k]
    for index, passed in [(pn.NeighborIndex(X), budget), (pn.NeighborIndex(X, budget_bytes=budget), None)]:
        evaluator = ed.PairEvaluator(X, ed.sq_norms(X), Q, ed.sq_norms(Q), plan)
        stats = pn.SearchStats("brute", 200, 2000, features, k, 8)
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            sq, idx, counts = index._exhaustive(evaluator, 0, k, False, stats, passed)
            extra = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        assert 2000 * 200 * (4 * plan.count + 32) > 4 * budget  # the chunk's pairs at once: 4 budgets or more
        assert extra <= budget, f"{extra / budget:.2f} x the budget"
        assert_array_equal(idx, want_i)
        assert_array_equal(sq, np.take_along_axis(d2, want_i, axis=1))
        assert_array_equal(counts, 2000)
        assert (stats.fallback_chunks, stats.fallback_queries) == (1, 200)


@pytest.mark.parametrize("algorithm, k", [("brute", 5), ("brute", 9), ("pruned", 5)])
def test_a_search_whose_chunks_fall_back_keeps_within_its_budget(algorithm, k):
    """Constant rows tie every pair, and queries up to 2^24 take 13 digits: each chunk is evaluated
    exhaustively, or refined whole where it is small. Within the budget either way (tracemalloc): the
    fallback's share leaves room for the chunk's score and mask buffers, which stay alive (1.36 budgets
    before), and a small chunk is refined only while its candidates fit the budget (2.2 budgets before:
    65,536 candidates of a 13-digit refine, whatever the budget)."""
    import tracemalloc

    rng = np.random.default_rng(3)
    X = np.full((2000, 8), 4095.0, dtype=np.float32)
    Q = rng.integers(0, 2**24, (270, 8)).astype(np.float32)
    budget = 3_000_000
    nb.kneighbors(X[:10], Q[:2], 1, algorithm=algorithm)  # imports and first-call caches: not working memory
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        with pn.recording() as log:
            d, i = nb.kneighbors(X, Q, k, algorithm=algorithm, budget_bytes=budget)
        extra = tracemalloc.get_traced_memory()[1] - base - d.nbytes - i.nbytes
    finally:
        tracemalloc.stop()
    assert log[0].fallback_queries >= 240
    assert extra <= budget, f"{extra / budget:.2f} x the budget"
    assert_array_equal(i, np.tile(np.arange(k), (270, 1)))  # all at one distance: ties by row
    want = np.sqrt(((Q.astype(np.int64) - 4095) ** 2).sum(1))
    np.testing.assert_allclose(d[:, 0], want, rtol=1e-7)


def test_an_index_says_which_filters_it_has_built():
    """Brute force needs nothing built; the pruned filter is there once a pruned search has built it."""
    X = np.random.default_rng(44).normal(size=(300, 20))
    index = pn.NeighborIndex(X)
    assert index.has_filter("brute") and not index.has_filter("pruned")
    index.search(X[:5], 3, algorithm="brute")
    assert not index.has_filter("pruned")
    index.search(X[:5], 3, algorithm="pruned")
    assert index.has_filter("pruned") and index.has_filter("brute")


def test_a_search_defaults_to_brute_force_keeping_each_querys_own_row():
    """``search(Q, k)`` alone: brute force (``algorithm="brute"``), and a query that is a training row is
    among its own neighbours (``exclude_self=False``), at distance 0."""
    X = digits(200, 45, noise=3)
    with pn.recording() as log:
        sq, idx = pn.NeighborIndex(X).search(X[:6], 4)
    want_d, want_i = reference(X, X[:6], 4)
    assert log[0].algorithm == "brute"
    assert_array_equal(idx, want_i)
    assert_array_equal(np.sqrt(sq), want_d)


def test_auto_counts_a_built_filter_or_a_given_projection_as_paid():
    """``"auto"`` prices the pruned filter's build only where it is still to make (:func:`choose`'s ``built``):
    ten queries against 12,000 rows are brute-forced on a fresh index, pruned once its filter exists or given a
    projection, with the same neighbours."""
    X, Q = low_rank(12_000, 46), low_rank(10, 47)
    (n, f), k = X.shape, 3
    assert pn.choose("auto", 10, n, f, k, built=False) == "brute"
    assert pn.choose("auto", 10, n, f, k, built=True) == "pruned"
    built = pn.NeighborIndex(X)
    built.filter("pruned")
    with pn.recording() as log:
        got = [pn.NeighborIndex(X).search(Q, k, algorithm="auto"), built.search(Q, k, algorithm="auto"),
               pn.NeighborIndex(X).search(Q, k, algorithm="auto", projection=pn.fit_projection(X[:500], 8))]
    assert [s.algorithm for s in log] == ["brute", "pruned", "pruned"]
    for sq, idx in got[1:]:
        assert_array_equal(sq, got[0][0])
        assert_array_equal(idx, got[0][1])


def test_the_warm_up_brute_forces_rows_auto_cannot_prune():
    """In :func:`every_branch` ``"auto"`` is taken as ``"pruned"``, and so falls back as a pruned search does: one
    training row (no PCA) and rows whose PCA would overflow are brute-forced, with brute force's neighbours."""
    rng = np.random.default_rng(0)
    for X, Q, k in [(rng.random((1, 20)), rng.random((4, 20)), 1), (_signs(60, 5, 3e18, 35), _signs(7, 5, 1.5e18, 36), 3)]:
        want = nb.kneighbors(X, Q, k)
        with pn.every_branch(), pn.recording() as log:
            got = nb.kneighbors(X, Q, k, algorithm="auto")
        assert log[0].algorithm == "brute"
        for a, b in zip(got, want):
            assert_array_equal(a, b)


def test_the_first_search_of_a_warm_up_counts_a_mask_of_every_length_class():
    """:func:`every_branch`'s first search compiles the mask counts of every length class (on the emulated GPU),
    whatever its own masks' lengths (here one class: 4 queries of 100 rows)."""
    import fake_cupy

    X, Q = digits(100, 48), digits(4, 49)
    with fake_cupy.installed() as cp:
        X_dev, Q_dev = cp.asarray(X), cp.asarray(Q)
        fake_cupy.reset_stats()
        with pn.every_branch():
            nb.kneighbors(X_dev, Q_dev, 3)
        variants = {key[3] for key in fake_cupy.stats["kernels"] if key[0] == "count_nonzero"}
    assert {"simple", *(f"cub-block-{t}-2pass" for t in (32, 64, 128, 256, 512))} <= variants, variants


def test_the_rows_passes_keep_within_the_index_budget():
    """Asked before any search, ``held_bytes`` computes the rows' norms and integer bound (:meth:`_prepared`)
    in passes within the index's budget (tracemalloc: the norms it keeps, and at most the budget besides; the
    integer check's two temporaries fill it, and the slack is for Python's objects)."""
    X = np.random.default_rng(50).integers(0, 256, (4000, 256)).astype(np.float32)
    budget = 1_000_000
    index = pn.NeighborIndex(X, budget_bytes=budget)
    extra, _ = extra_peak(lambda: index.held_bytes("pruned", 100, 5))
    assert X.nbytes > 4 * budget  # in one pass, the rows' temporaries would take 4 budgets or more
    assert extra <= 1.01 * budget + index._prepared()[0].nbytes, f"{extra / budget:.2f} x the budget"


def test_the_queries_passes_keep_within_the_search_budget():
    """The queries' norms and integer check come in passes within the search's working memory: 8,000 queries
    of 128 features (4 MB) against a few rows, a budget of 1.5 MB (tracemalloc), brute force's neighbours."""
    rng = np.random.default_rng(51)
    X, Q = rng.integers(0, 256, (100, 128)).astype(np.float32), rng.integers(0, 256, (8000, 128)).astype(np.float32)
    budget = 1_500_000
    want = pn.NeighborIndex(X).search(Q, 1)
    with threadpool_limits(limits=1):
        extra, got = extra_peak(lambda: pn.NeighborIndex(X, budget_bytes=budget).search(Q, 1))
    assert Q.nbytes > 2 * budget
    assert extra <= budget, f"{extra / budget:.2f} x the budget"
    for a, b in zip(got, want):
        assert_array_equal(a, b)


def test_a_pruned_search_counts_the_projection_of_its_rows_and_queries():
    """``flops["projection"]`` (:class:`SearchStats`: the features of rows and queries): a fresh index's pruned
    search projects its 2,000 rows and its 100 queries on ``d`` axes, ``2 f d`` FLOPs each, once."""
    X, Q = low_rank(2000, 11), low_rank(100, 12)
    with pn.recording() as log:
        nb.kneighbors(X, Q, 5, algorithm="pruned")
    (stats,) = log
    d = stats.n_components
    assert stats.algorithm == "pruned" and stats.switched_queries == 0 and d == 8
    assert stats.flops["projection"] == 2 * 2000 * 64 * d + 2 * 100 * 64 * d


def test_a_pruned_search_with_blocked_seeds_finds_the_exact_neighbours():
    """8,400 rows and k = 2: the pruned filter seeds with the minima of 4 k blocks (each at least
    ``topk.MIN_SEED_BLOCK`` wide), more seeds than k, so ``tau`` is their k-th smallest distance; the neighbours
    are the exact ones (int64 reference, ties by row) and brute force's, bit for bit."""
    from gpuclf.kernels import topk

    X, Q = low_rank(8400, 31), low_rank(60, 32)
    assert 8400 // (4 * 2) >= topk.MIN_SEED_BLOCK
    with pn.recording() as log:
        got = nb.kneighbors(X, Q, 2, algorithm="pruned")
    assert log[0].algorithm == "pruned" and log[0].switched_queries == 0
    want_d, want_i = reference(X, Q, 2)
    assert_array_equal(got[1], want_i)
    np.testing.assert_allclose(got[0], want_d, rtol=1e-6)
    for a, b in zip(got, nb.kneighbors(X, Q, 2, algorithm="brute")):
        assert_array_equal(a, b)


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
def test_every_branch_leaves_each_query_out_of_its_own_neighbours(algorithm):
    """In :func:`every_branch` a leave-one-out search (``exclude_self``) runs its extra branches too (the
    exhaustive one included), with the exact neighbours (int64 reference) of the search outside the block."""
    X = digits(300, 52, noise=4)
    want = nb.kneighbors(X, X, 4, algorithm=algorithm, exclude_self=True)
    with pn.every_branch():
        got = nb.kneighbors(X, X, 4, algorithm=algorithm, exclude_self=True)
    for a, b in zip(got, want):
        assert_array_equal(a, b)
    assert_array_equal(got[1], reference(X, X, 4, exclude_self=True)[1])


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
def test_every_branch_keeps_a_search_within_its_budget(algorithm):
    """The warm-up's extra exhaustive pass over each chunk is sized by what the chunk's working memory leaves
    beside its score and mask buffers (tracemalloc: the search adds no more than its budget; low-rank rows, so
    the refine's candidates are few), with the neighbours of the search outside the block."""
    import tracemalloc

    X, Q = low_rank(2000, 61), low_rank(270, 62)
    budget = 3_000_000
    want = nb.kneighbors(X, Q, 5, algorithm=algorithm)
    with threadpool_limits(limits=1), pn.every_branch():
        nb.kneighbors(X[:10], Q[:2], 1, algorithm=algorithm)  # imports and first-call caches: not working memory
        tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            d, i = nb.kneighbors(X, Q, 5, algorithm=algorithm, budget_bytes=budget)
            extra = tracemalloc.get_traced_memory()[1] - base - d.nbytes - i.nbytes
        finally:
            tracemalloc.stop()
    assert extra <= budget, f"{extra / budget:.2f} x the budget"
    for a, b in zip((d, i), want):
        assert_array_equal(a, b)


def test_every_branch_runs_the_blocked_argmin_from_one_block_of_rows(monkeypatch):
    """The warm-up compiles the seeds' blocked argmin wherever one block fits (``n >= topk.MIN_SEED_BLOCK``
    rows, here exactly that many), though brute force's seeds take the k smallest; outside the block it is not
    run. The neighbours are the same."""
    from gpuclf.kernels import topk

    calls, real = [], topk.block_minima
    monkeypatch.setattr(topk, "block_minima", lambda d2, n_blocks: (calls.append(n_blocks), real(d2, n_blocks))[1])
    X, Q = digits(topk.MIN_SEED_BLOCK, 53, noise=3), digits(5, 54, noise=3)
    want = nb.kneighbors(X, Q, 1, algorithm="brute")
    assert calls == []
    with pn.every_branch():
        got = nb.kneighbors(X, Q, 1, algorithm="brute")
    assert calls and set(calls) == {1}
    for a, b in zip(got, want):
        assert_array_equal(a, b)
