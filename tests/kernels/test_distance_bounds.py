"""The filters' thresholds are sound: a row they exclude is provably farther than tau, rounding included.

The data are built so that rounding matters (large norms, small differences, float32): a threshold
without the margin lets rows through that it must not, which these tests show first, so that a
margin that were too small would fail them.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from gpuclf.kernels import distance_bounds as db
from gpuclf.kernels import exact_distances as ed
from traced_peak import extra_peak


def cancelling(dtype, n=300, m=12, f=64, seed=0, offset=1000):
    """Rows far from the origin and close to each other: every GEMM term is large, every distance small."""
    rng = np.random.default_rng(seed)
    centre = offset + offset / 10 * rng.random(f)
    X = (centre + rng.normal(size=(n, f))).astype(dtype)
    Q = (centre + rng.normal(size=(m, f))).astype(dtype)
    return X, Q


def exact_c(X, Q):
    ev = ed.PairEvaluator(X, ed.sq_norms(X), Q, ed.sq_norms(Q), None)
    return ev.full(0, len(Q))


def violations(filt, X, Q, thresholds):
    """Pairs with c <= tau but g > T: each would be a neighbour wrongly excluded."""
    Fq, _ = filt.query(Q)
    g = filt.scores(Fq).astype(np.float64)
    c = exact_c(X, Q)
    bad = 0
    for tau in np.sort(c, axis=1).T[::7]:  # many thresholds per query, from the nearest row outwards
        T = thresholds(tau, Fq)
        bad += int(np.sum((c <= tau[:, None]) & (g > T[:, None])))
    return bad


def naive(filt):
    """The threshold without any margin: tau - ||f(q)||^2, rounded to nearest."""
    return lambda tau, Fq: (tau - np.sum(Fq.astype(np.float64) ** 2, axis=1)).astype(filt.dtype).astype(np.float64)


def rigorous(filt, Q):
    """The filter's threshold, for distances c of the definition (the data are not integers)."""
    _, rho = filt.query(Q)
    c_error = db.gamma(Q.shape[1] + 2, 2.0 ** -53)
    return lambda tau, Fq: filt.threshold(tau, Fq, rho, c_error).astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [1000, 30])
def test_identity_filter_excludes_no_row_within_tau(dtype, offset):
    X, Q = cancelling(dtype, offset=offset)
    filt = db.IdentityFilter(X)
    if dtype == np.float32:
        assert violations(filt, X, Q, naive(filt)) > 0  # rounding matters here
    assert violations(filt, X, Q, rigorous(filt, Q)) == 0
    if offset == 30:  # and the margin is not everything: a few rows pass at each query's 5th distance
        Fq, _ = filt.query(Q)
        tau = np.sort(exact_c(X, Q), axis=1)[:, 4]
        admitted = filt.scores(Fq) <= rigorous(filt, Q)(tau, Fq)[:, None]
        assert admitted.sum(axis=1).max() < 30


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["pca", "rotation", "scaled", "random"])
def test_projection_filter_excludes_no_row_within_tau(dtype, kind):
    """Any map bounds the distance once divided by its norm: PCA axes, or not orthonormal at all.

    ``rotation``: all the axes, not centred: the bound is the distance itself, computed from
    features of norm ~8,000 for distances ~10, where rounding alone decides.
    """
    X, Q = cancelling(dtype, seed=1)
    pca = db.Projection.fit(X, X.shape[1])
    rng = np.random.default_rng(2)
    zero = np.zeros(X.shape[1])
    projection = {"pca": db.Projection.fit(X, 16), "rotation": db.Projection(zero, pca.components),
                  "scaled": db.Projection(zero, 3.0 * pca.components[:16]),
                  "random": db.Projection(zero, rng.normal(size=(16, X.shape[1])))}[kind]
    filt = db.ProjectionFilter(X, projection)
    if dtype == np.float32 and kind == "rotation":
        assert violations(filt, X, Q, naive(filt)) > 0
    assert violations(filt, X, Q, rigorous(filt, Q)) == 0


def test_projection_error_bound_holds():
    """rho bounds the distance between the features computed and V (x - mu) computed in extended precision."""
    X, _ = cancelling(np.float32, n=40, f=200, seed=3)
    projection = db.Projection.fit(X, 24)
    for dtype in (np.float32, np.float64):
        features, rho = projection.apply(X, dtype)
        mean, V, _, _ = projection.in_dtype(dtype)
        exact = (X.astype(np.longdouble) - mean.astype(np.longdouble)) @ V.astype(np.longdouble).T
        error = np.sqrt(np.sum((features.astype(np.longdouble) - exact) ** 2, axis=1)).astype(np.float64)
        assert np.all(error <= rho)
        assert np.all(rho < 1e-3 * np.sqrt(np.sum(exact.astype(np.float64) ** 2, axis=1)))  # and not vacuous


def test_the_bound_of_a_map_is_its_largest_singular_value():
    rng = np.random.default_rng(4)
    V = rng.normal(size=(5, 30))
    projection = db.Projection(np.zeros(30), V)
    s = projection.sq_norm(np.float64)
    assert np.linalg.norm(V, 2) ** 2 <= s <= np.linalg.norm(V, 2) ** 2 * (1 + 1e-9)


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (3, 7), (16, 784)])
def test_the_top_eigenvalue_bounds_the_squared_norm_of_any_shape(shape):
    """``||M||_2^2`` (from the SVD) and at most a hair above it, down to a 1 x 1 map (one feature, one
    component); an empty map has norm 0."""
    M = np.random.default_rng(shape[1]).normal(size=shape) * 3.0
    exact = np.linalg.norm(M, 2) ** 2
    assert exact <= db._top_eigenvalue(M) <= exact * (1 + 1e-9)
    assert db._top_eigenvalue(np.zeros((0, 4))) == 0.0


@pytest.mark.parametrize("shape, scale", [((2000, 2), 1.0), ((3, 7), 1e-7), ((16, 784), 1e-9)])
def test_the_top_eigenvalue_margin_is_relative_to_the_maps_own_size(shape, scale):
    """The margin scales with ``M``: a tall map (many components, few features: the rounding term counts its
    rows) is still bounded from above, and a tiny map's bound is as tight as a unit map's (no absolute term)."""
    M = np.random.default_rng(shape[0]).normal(size=shape) * scale
    exact = np.linalg.norm(M, 2) ** 2
    assert exact <= db._top_eigenvalue(M) <= exact * (1 + 1e-9)


def test_the_bound_of_a_map_is_taken_in_the_dtype_it_is_applied_in():
    """The float32 map rounds ``1 + 0.75 * 2**-23`` up to ``1 + 2**-23``: its ``s`` bounds the rounded map's
    norm, which is above the float64 map's."""
    projection = db.Projection(np.zeros(1), np.array([[1 + 3 * 2.0**-25]]))
    V32 = projection.in_dtype(np.float32)[1]
    assert float(V32[0, 0]) == 1 + 2.0**-23
    assert float(V32[0, 0]) ** 2 <= projection.sq_norm(np.float32) <= float(V32[0, 0]) ** 2 * (1 + 1e-9)
    assert projection.sq_norm(np.float64) < float(V32[0, 0]) ** 2


@pytest.mark.parametrize("n, u, want", [(1, 0.25, 1 / 3), (3, 2.0**-24, 3 * 2.0**-24 / (1 - 3 * 2.0**-24)),
                                         (2, 0.5, math.inf), (1, 1.0, math.inf)])
def test_gamma_is_highams_factor_and_infinite_past_its_range(n, u, want):
    """Higham's ``gamma_n = n u / (1 - n u)``; no finite factor once ``n u`` reaches 1."""
    assert db.gamma(n, u) == want


def test_round_up_never_rounds_down():
    rng = np.random.default_rng(5)
    values = rng.normal(size=10_000) * 10.0 ** rng.integers(-10, 10, size=10_000)
    up = db._round_up(values, np.float32)
    assert up.dtype == np.float32
    assert np.all(up.astype(np.float64) >= values)
    assert np.all(np.nextafter(up, np.float32(-np.inf)).astype(np.float64) < values)


def test_tf32_widens_the_margin_and_half_precision_removes_it(monkeypatch):
    import fake_cupy

    X, _ = cancelling(np.float32, n=20)
    plain = db.IdentityFilter(X).eta
    with fake_cupy.installed() as cp:
        monkeypatch.setenv("CUPY_TF32", "1")
        assert db.IdentityFilter(cp.asarray(X)).eta > 2 ** -9 > 100 * plain
        monkeypatch.setenv("CUPY_TF32", "0")
        linalg = cp._core._routines_linalg
        try:
            linalg.set_compute_type(np.float32, linalg.COMPUTE_TYPE_FP16)
            assert db.IdentityFilter(cp.asarray(X)).eta == np.inf
        finally:
            linalg.compute_types.clear()


def test_projection_blocks_side_by_side_share_the_budget(monkeypatch):
    """On NumPy a long projection runs in blocks on every BLAS thread, each with its share of the budget
    (tracemalloc, two threads). Blocks of another height may round the GEMM otherwise (OpenBLAS picks its
    kernel by the operands' shape: 3e-6 apart on an AMD EPYC with OpenBLAS 0.3.31), so each layout's
    features are held to the bound ``rho``, which is the same for every layout (one row's sum)."""

    from gpuclf.kernels import chunk_runs

    rng = np.random.default_rng(42)
    X = rng.normal(size=(16384, 256)).astype(np.float32)
    axes = np.linalg.qr(rng.normal(size=(256, 256)))[0][:16]
    projection = db.Projection(X.mean(axis=0).astype(np.float64), axes)
    budget = 2_000_000
    one_thread = projection.apply(X, np.float32, budget)
    monkeypatch.setattr(chunk_runs, "blas_threads", lambda: 2)
    assert chunk_runs.workers(np, 2, X.size) == 2
    extra, (features, rho) = extra_peak(lambda: projection.apply(X, np.float32, budget))
    assert extra <= budget, f"{extra / budget:.2f} x the budget"
    unbudgeted = projection.apply(X, np.float32)  # no budget: the default blocks, also side by side
    mean, V, _, _ = projection.in_dtype(np.float32)
    exact = (X.astype(np.float64) - mean) @ V.astype(np.float64).T  # float64: ~1e-14 off, rho ~1e-5 x the norm
    for got, got_rho in (one_thread, (features, rho), unbudgeted):
        np.testing.assert_array_equal(got_rho, one_thread[1])
        assert np.all(np.sqrt(np.sum((got - exact) ** 2, axis=1)) <= got_rho)


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
def test_scores_are_written_into_the_buffer_given(algorithm):
    """Both filters' ``scores`` fill the ``out`` buffer a search reuses for every chunk (the docstring's
    promise: a fresh array is a fresh mapping of memory), with the values a fresh array would get."""
    from gpuclf.kernels.pruned_neighbors import NeighborIndex

    rng = np.random.default_rng(43)
    X, Q = rng.normal(size=(300, 40)), rng.normal(size=(7, 40))
    filt = NeighborIndex(X).filter(algorithm)
    Fq, _ = filt.query(Q)
    out = np.empty((7, 300), dtype=filt.dtype)
    got = filt.scores(Fq, out=out)
    assert got is out
    np.testing.assert_array_equal(out, filt.scores(Fq))


def test_identity_filter_reuses_the_norms_it_is_given():
    """``sq`` given (the index's norms): the same filter as without, and no norms computed again, so its
    working memory is a few bytes a row, not the float64 chunk of rows that :func:`sq_norms` squares."""
    X, _ = cancelling(np.float32, n=2000, f=64)
    sq = ed.sq_norms(X)
    own_peak, own = extra_peak(lambda: db.IdentityFilter(X))
    peak, filt = extra_peak(lambda: db.IdentityFilter(X, sq))
    np.testing.assert_array_equal(filt.w, own.w)
    assert filt.R == own.R
    assert peak <= 24 * X.shape[0] < own_peak / 10  # w and one float64 temporary per row


def test_rho_bounds_the_rounding_of_features_where_it_comes_close():
    """``apply``'s ``rho`` bounds ``||features - V (x - mu)||`` for the float32 map it applies (exact reference
    in float64), on rows where the rounding comes close to the bound: two features, where the worst case of
    the centring and the two-term dot products is nearly reached (87% of rho here, against under 5% on
    pixels), so a bound made smaller by a rounding factor would not hold."""
    V = np.array([[-0.9989286025096469, 0.04627793305803225], [0.04627793305803225, 0.998928602509647]])
    mu = np.array([-1.5966435632140903, -0.07466642158330894])
    X = (mu + np.random.default_rng(0).normal(size=(50_000, 2))).astype(np.float32)
    projection = db.Projection(mu, V)
    features, rho = projection.apply(X, np.float32)
    mean, V32, _, _ = projection.in_dtype(np.float32)
    exact = (X.astype(np.float64) - mean.astype(np.float64)) @ V32.astype(np.float64).T
    err = np.linalg.norm(features.astype(np.float64) - exact, axis=1)
    assert np.all(err <= rho)
    assert (err / rho).max() > 0.75  # the rows do reach near the bound: the check above has teeth


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_up_keeps_values_the_dtype_holds(dtype):
    """``_round_up``: the smallest ``dtype`` value not below each float64 value: a value the dtype holds
    exactly is itself, any other the next one up."""
    exact = np.array([0.0, 1.0, -0.5, 3.0, 2.0 ** -20, -7.25])
    assert np.array_equal(db._round_up(exact, dtype), exact.astype(dtype))
    inexact = np.array([0.1, -0.1, 1 / 3])
    up = db._round_up(inexact, dtype)
    assert np.all(up.astype(np.float64) >= inexact)
    below = np.nextafter(up, np.array(-np.inf, dtype=dtype))
    assert np.all(below.astype(np.float64) < inexact) or dtype is np.float64


def test_the_projection_filter_projects_queries_within_its_budget():
    """``ProjectionFilter(X, projection, budget_bytes).query(Q)`` projects the queries under the same
    budget as the rows: block by block, not all of ``Q`` centred at once."""
    rng = np.random.default_rng(0)
    X, Q = rng.normal(size=(500, 40)), rng.normal(size=(20_000, 40))
    projection = db.Projection.fit(X, 4)
    budget = 64 * 1024
    f = db.ProjectionFilter(X, projection, budget_bytes=budget)
    f.query(Q[:10])  # the map's constants in this dtype are made once, before measuring
    peak, (features, rho) = extra_peak(lambda: f.query(Q))
    assert peak < Q.nbytes / 4  # beyond the blocks, three float64s a query (the squared norms, rho)
    assert extra_peak(lambda: db.ProjectionFilter(X, projection).query(Q))[0] >= Q.nbytes  # all at once
    expected, expected_rho = projection.apply(Q, Q.dtype)
    np.testing.assert_allclose(features, expected, rtol=1e-12, atol=1e-12)  # GEMMs of other block sizes
    np.testing.assert_allclose(rho, expected_rho, rtol=1e-12)


def test_projection_fit_uses_evenly_spaced_rows_up_to_max_rows():
    """``Projection.fit(X, n, max_rows=m)``: the PCA of every ``ceil(n_rows / m)``-th row (``X[::step]``), as
    scikit-learn's ``PCA`` fits them (axes up to sign); all rows where there are no more than ``m``."""
    from sklearn.decomposition import PCA

    X = np.random.default_rng(3).normal(size=(1000, 6)) * np.arange(1, 7) + np.linspace(0, 5, 1000)[:, None]
    for max_rows, step in [(100, 10), (300, 4), (1000, 1), (5000, 1)]:
        projection = db.Projection.fit(X, 3, max_rows=max_rows)
        ref = PCA(3, svd_solver="full").fit(X[::step])
        np.testing.assert_allclose(projection.mean, ref.mean_, rtol=1e-12, atol=1e-12, err_msg=str(max_rows))
        np.testing.assert_allclose(np.abs(projection.components), np.abs(ref.components_), atol=1e-9)
        assert projection.mean.dtype == projection.components.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_scores_is_false_wherever_a_score_can_overflow(dtype):
    """``finite_scores(Fq)`` says whether every score of the queries is finite: False (the chunk is then
    brute-forced) wherever a row's or a query's norm lets ``-2 q.x + ||x||^2`` overflow the dtype, whichever
    of the two is large; True for ordinary norms, whose scores are the squared distances less ``||q||^2``."""
    big = math.sqrt(float(np.finfo(dtype).max))  # a norm whose square is the dtype's largest value
    cases = [  # (row norm, query norm): the query opposite the row, so that -2 q.x adds to ||x||^2
        (0.98 * big, 0.11 * big),  # the row large, the query small
        (0.8 * big, 0.8 * big),    # both large
        (0.1 * big, 6.0 * big),    # the query large (the row below the limit)
    ]
    for row, query in cases:
        X = np.array([[row, 0.0], [1.0, 1.0]], dtype=dtype)
        Fq = np.array([[-query, 0.0]], dtype=dtype)
        f = db.IdentityFilter(X)
        with np.errstate(over="ignore"):
            overflowed = not np.isfinite(f.scores(Fq)).all()
        assert overflowed, (row, query)  # each case really overflows
        assert not f.finite_scores(Fq), (row, query)
    X = np.array([[3.0, 4.0], [1.0, 1.0]], dtype=dtype)
    f = db.IdentityFilter(X)
    Fq = np.array([[-1.0, 2.0]], dtype=dtype)
    assert f.finite_scores(Fq)
    np.testing.assert_allclose(f.scores(Fq), ((Fq[:, None, :] - X[None]) ** 2).sum(-1) - (Fq ** 2).sum(1)[:, None])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_threshold_keeps_every_pair_at_distance_tau(dtype):
    """Step 4 of the module docstring: ``c_ij <= tau_i`` implies ``g_ij <= T_i``. Here ``tau`` is each pair's
    own exact squared distance (long double, rounded up), the tightest case, on 784 features near each
    other, where the GEMM's roundings are largest against the distances."""
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(200, 784)) + 3).astype(dtype)
    Q = (X[rng.integers(0, 200, 20)] + rng.normal(scale=0.05, size=(20, 784))).astype(dtype)
    f = db.IdentityFilter(X)
    Fq, rho = f.query(Q)
    g = f.scores(Fq).astype(np.float64)
    c = ((Q.astype(np.longdouble)[:, None, :] - X.astype(np.longdouble)[None]) ** 2).sum(-1)
    tau = np.nextafter(c.astype(np.float64), np.inf)
    T = np.stack([f.threshold(tau[:, j], Fq, rho, 0.0) for j in range(X.shape[0])], axis=1)
    assert T.dtype == dtype  # in the features' dtype, rounded up
    assert np.all(g <= T)
