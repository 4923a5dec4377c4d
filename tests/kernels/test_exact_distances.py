"""The one squared distance every KNN search ranks by: its definition, its exact fast path, its batch-independence."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from gpuclf.kernels import exact_distances as ed
from traced_peak import extra_peak


def definition(q, x) -> float:
    """The module's definition, in Python floats (IEEE double): features in order, each step rounded."""
    acc = 0.0
    for a, b in zip(q.tolist(), x.tolist()):
        d = float(a) - float(b)
        acc = acc + d * d
    return acc


def evaluator(X, Q, plan="auto", budget_bytes=None):
    if plan == "auto":
        plan = ed.digit_plan(X.shape[1], ed.integer_bound(X), ed.integer_bound(Q))
    return ed.PairEvaluator(X, ed.sq_norms(X), Q, ed.sq_norms(Q), plan, budget_bytes)


def all_pairs(m, n):
    return np.repeat(np.arange(m), n), np.tile(np.arange(n), m)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_sequential_evaluation_is_the_definition_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    X = (rng.normal(size=(30, 17)) * 10.0 ** rng.integers(-3, 4, size=(30, 17))).astype(dtype)
    Q = rng.normal(size=(7, 17)).astype(dtype)
    ev = evaluator(X, Q)
    assert not ev.exact
    queries, rows = all_pairs(7, 30)
    got = ev.pairs(queries, rows)
    want = [definition(Q[i], X[j]) for i, j in zip(queries, rows)]
    assert_array_equal(got, want)
    assert_array_equal(ev.full(0, 7).ravel(), want)


@pytest.mark.parametrize("low, high, n_features", [(0, 256, 784), (0, 355, 784), (-300, 300, 50), (0, 2, 3),
                                                   (0, 5000, 20)])
def test_digits_give_the_exact_distance_which_is_the_definition(low, high, n_features):
    """On integers the fast path and the definition are both the exact integer: the same bits."""
    rng = np.random.default_rng(high)
    X = rng.integers(low, high, size=(60, n_features)).astype(np.float32)
    Q = rng.integers(low, high, size=(9, n_features)).astype(np.float32)
    fast = evaluator(X, Q)
    assert fast.exact
    slow = evaluator(X, Q, plan=None)
    queries, rows = all_pairs(9, 60)
    exact = ((Q.astype(np.int64)[:, None, :] - X.astype(np.int64)[None]) ** 2).sum(-1).ravel()
    assert_array_equal(fast.pairs(queries, rows), exact)
    assert_array_equal(slow.pairs(queries, rows), exact)
    assert_array_equal(fast.full(0, 9).ravel(), exact)
    assert_array_equal(slow.full(0, 9).ravel(), exact)


def test_a_pairs_value_does_not_depend_on_its_batch():
    """The same pair in a batch of one, of many, in another order, in small memory: one value."""
    rng = np.random.default_rng(3)
    for X, Q in [(rng.normal(size=(200, 33)).astype(np.float32), rng.normal(size=(11, 33)).astype(np.float32)),
                 (rng.integers(0, 256, (200, 784)).astype(np.float32),
                  rng.integers(0, 256, (11, 784)).astype(np.float32))]:
        queries = np.sort(rng.integers(0, 11, 500))
        rows = rng.integers(0, 200, 500)
        whole = evaluator(X, Q).pairs(queries, rows)
        small = evaluator(X, Q, budget_bytes=20_000).pairs(queries, rows)
        one_by_one = [evaluator(X, Q).pairs(queries[p:p + 1], rows[p:p + 1])[0] for p in range(0, 500, 37)]
        assert_array_equal(whole, small)
        assert_array_equal(whole[::37], one_by_one)
        assert_array_equal(whole.reshape(-1)[:5], evaluator(X, Q).full(0, 11)[queries[:5], rows[:5]])


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_digit_path_is_exact_on_any_small_integers(data):
    n_features = data.draw(st.integers(1, 40), label="features")
    bound = data.draw(st.sampled_from([1, 3, 255, 354, 4095]), label="bound")
    values = st.integers(-bound, bound)
    X = np.array(data.draw(st.lists(st.lists(values, min_size=n_features, max_size=n_features),
                                    min_size=1, max_size=12)), dtype=np.float64)
    Q = np.array(data.draw(st.lists(st.lists(values, min_size=n_features, max_size=n_features),
                                    min_size=1, max_size=5)), dtype=np.float64)
    ev = evaluator(X, Q)
    queries, rows = all_pairs(len(Q), len(X))
    exact = ((Q.astype(np.int64)[:, None, :] - X.astype(np.int64)[None]) ** 2).sum(-1).ravel()
    assert ev.exact
    assert_array_equal(ev.pairs(queries, rows), exact)


def test_digit_plans():
    mnist = ed.digit_plan(784, 255, 255)
    assert (mnist.base, mnist.count) == (64, 2)
    assert 784 * 255 * (mnist.base - 1) < 2 ** 24
    noisy = ed.digit_plan(784, 354, 354)  # the book's denoising: pixels plus noise below 100
    assert 784 * 354 * (noisy.base - 1) < 2 ** 24 and noisy.count == 2
    assert ed.digit_plan(784, None, 255) is None and ed.digit_plan(784, 255, None) is None
    assert ed.digit_plan(784, 2 ** 24, 1) is None  # not exact in float32
    assert ed.digit_plan(784, 65535, 65535) is None  # no base keeps x . q_r below 2^24
    assert ed.digit_plan(10, 3000, 3000) is not None
    tf32 = ed.digit_plan(784, 255, 255, input_bits=11)
    assert tf32.base <= 2 ** 11
    assert ed.digit_plan(3, 4000, 1, input_bits=11) is None  # 4000 needs 12 bits: not exact in TF32
    assert ed.digit_plan(784, 255, 255, input_bits=0) is None  # half precision: nothing is exact


def test_digit_plans_at_their_limits():
    """Hand-computed plans at each limit of ``digit_plan``: the distances must stay exact in float64
    (``2 n (mx + mq)^2 < 2^53``), the base is the largest power of two up to 4096 with
    ``n mx (base - 1) < 2^24``, and the count the fewest digits whose last stays within ``base - 2``."""
    P = ed.DigitPlan
    # n = 2^20 features of bound 1: base 16 (2^20 * 15 < 2^24 <= 2^20 * 31); 65534 needs 5 digits of base 16
    assert ed.digit_plan(2 ** 20, 1, 2 ** 16 - 2) == P(16, 5)
    assert ed.digit_plan(2 ** 20, 1, 2 ** 16 - 1) is None  # 2 n (mx + mq)^2 = 2^53 exactly
    assert ed.digit_plan(2 ** 20, 1, 2 ** 16) is None
    # one feature: 2100 * 4095 < 2^24, so base 4096; two features: 4200 * 4095 >= 2^24, so 2048
    assert ed.digit_plan(1, 2100, 100) == P(4096, 1)
    assert ed.digit_plan(2, 2100, 100) == P(2048, 1)
    assert ed.digit_plan(0, 2100, 100) == P(4096, 1)  # no features: counted as one
    assert ed.digit_plan(1, 1, 5) == P(4096, 1)  # the base stops at 4096 however small the rows
    # 4098 * 4094 < 2^24 <= 4098 * 4095: base 4096 would let a partial sum reach 2^24, so 2048
    assert ed.digit_plan(1, 4098, 1) == P(2048, 1)
    # TF32 keeps 11 bits of each input: digits up to 2047, so base 2048 and no more
    assert ed.digit_plan(1, 1, 5, input_bits=11) == P(2048, 1)
    # n mx = 2^24 admits no base, not even 2 (x . q_r could reach 2^24); just below, base 2 for q = 0 only
    assert ed.digit_plan(2, 2 ** 23, 0) is None
    assert ed.digit_plan(8, 10 ** 6, 0) == P(2, 1)
    # one digit holds |q| up to base - 2, so 4094 in base 4096; 4095 needs two
    assert ed.digit_plan(1, 1, 4094) == P(4096, 1)
    assert ed.digit_plan(1, 1, 4095) == P(4096, 2)


def test_rows_that_leave_only_base_two_get_no_plan_and_a_search_ends():
    """Rows with 2^24 / 3 <= n_features * train_bound < 2^24 admit base 2 only, whose last digit has no room:
    no plan (the definition, evaluated sequentially), where the digit count used to loop for ever. Run in a
    child process, so that a regression fails on its time limit instead of hanging the suite."""
    import subprocess
    import sys

    code = """
import numpy as np
from gpuclf.kernels import exact_distances as ed, neighbors as nb
assert ed.digit_plan(8, 10 ** 6, 1) is None and ed.digit_plan(8, 10 ** 6, 0) is not None
X = np.array([[1e6] * 8, [0.0] * 8], dtype=np.float32)
Q = np.ones((1, 8), dtype=np.float32)
for algorithm in ("brute", "pruned"):
    d, i = nb.kneighbors(X, Q, 2, algorithm=algorithm)
    assert i.tolist() == [[1, 0]] and np.allclose(d, [[8 ** 0.5, (8 * (1e6 - 1) ** 2) ** 0.5]]), (d, i)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_query_digits_reassemble_exactly():
    rng = np.random.default_rng(5)
    Q = rng.integers(-10 ** 6, 10 ** 6, size=(20, 7)).astype(np.float32)
    plan = ed.digit_plan(7, 1, 10 ** 6)
    digits = ed.query_digits(Q, plan)
    assert digits.dtype == np.float32 and digits.shape == (20, 7, plan.count)
    assert np.abs(digits).max() <= plan.base - 1
    assert_array_equal(sum(digits[..., r].astype(np.int64) * plan.base ** r for r in range(plan.count)), Q)


@pytest.mark.parametrize("values, want", [
    ([[0.0, 3.0], [-7.0, 2.0]], 7), ([[0.5, 1.0]], None), ([[np.nan, 1.0]], None), ([[np.inf, 1.0]], None),
])
def test_integer_bound(values, want):
    assert ed.integer_bound(np.array(values)) == want


def test_gemm_precision_is_cupys_compute_type(monkeypatch):
    import fake_cupy

    monkeypatch.setenv("CUPY_TF32", "1")
    assert ed.gemm_input_bits(np) == 24
    with fake_cupy.installed() as cp:
        assert ed.gemm_input_bits(cp) == 11
        monkeypatch.setenv("CUPY_TF32", "0")
        assert ed.gemm_input_bits(cp) == 24
        linalg = cp._core._routines_linalg
        try:
            linalg.set_compute_type(np.float32, linalg.COMPUTE_TYPE_BF16)
            assert ed.gemm_input_bits(cp) == 0
        finally:
            linalg.compute_types.clear()


def test_real_cupy_tells_its_compute_type():
    """The names read from CuPy exist there (no GPU needed to ask)."""
    cupy = pytest.importorskip("cupy")
    assert ed.gemm_input_bits(cupy) in (11, 24)


@pytest.mark.parametrize("values, dtype", [((0, 256), np.uint8), ((0, 355), np.uint16), ((-3, 3), None),
                                           ((0, 70_000), None)])
def test_compact_rows_hold_the_same_values_in_fewer_bytes(values, dtype):
    rng = np.random.default_rng(values[1])
    X = rng.integers(*values, size=(50, 30)).astype(np.float32)
    Q = rng.integers(0, 256, size=(7, 30)).astype(np.float32)
    compact = ed.compact_rows(X, ed.integer_bound(X))
    if dtype is None:
        assert compact is None
        return
    assert compact.dtype == dtype
    assert_array_equal(compact, X)
    queries, rows = all_pairs(7, 50)
    plan = ed.digit_plan(30, ed.integer_bound(X), ed.integer_bound(Q))
    with_copy = ed.PairEvaluator(X, ed.sq_norms(X), Q, ed.sq_norms(Q), plan, compact=compact).pairs(queries, rows)
    assert_array_equal(with_copy, evaluator(X, Q).pairs(queries, rows))



@pytest.mark.parametrize("largest, dtype", [(255, np.uint8), (256, np.uint16), (65535, np.uint16), (65536, None)])
def test_compact_rows_take_the_smallest_type_that_holds_every_value(largest, dtype):
    """At each edge of uint8 and uint16: the narrowest type that holds the largest value, the same values;
    None past uint16 (a copy would wrap the value round)."""
    X = np.array([[0.0, 1.0, largest], [largest, 7.0, 3.0]], dtype=np.float32)
    compact = ed.compact_rows(X, ed.integer_bound(X))
    if dtype is None:
        assert compact is None
        return
    assert compact.dtype == dtype
    assert_array_equal(compact, X)


def test_flops_count_the_definitions_three_operations_per_feature():
    """The sequential evaluation is the definition: a subtraction, a product and a sum per feature and pair,
    counted in ``flops`` and accumulated over calls (pairs, a full block of m x n pairs, pairs again)."""
    rng = np.random.default_rng(7)
    m, n, f = 7, 30, 17
    X, Q = rng.normal(size=(n, f)), rng.normal(size=(m, f))
    ev = evaluator(X, Q)
    assert not ev.exact and ev.flops == 0
    queries, rows = all_pairs(m, n)
    ev.pairs(queries[:50], rows[:50])
    assert ev.flops == 3 * 50 * f
    ev.full(2, 6)
    assert ev.flops == 3 * 50 * f + 3 * 4 * n * f
    ev.pairs(queries[:9], rows[:9])
    assert ev.flops == 3 * 59 * f + 3 * 4 * n * f


def test_flops_of_the_digit_path_count_each_digits_gemm():
    """A full block on the fast path is one GEMM per digit: ``2 f`` FLOPs per digit and pair, accumulated."""
    rng = np.random.default_rng(9)
    m, n, f = 6, 40, 11
    X = rng.integers(0, 256, (n, f)).astype(np.float32)
    Q = rng.integers(0, 5000, (m, f)).astype(np.float32)
    ev = evaluator(X, Q)
    assert ev.exact and ev.plan.count >= 2
    ev.full(1, 4)
    assert ev.flops == 2 * ev.plan.count * 3 * n * f
    ev.full(0, 6)
    assert ev.flops == 2 * ev.plan.count * 9 * n * f


def test_a_full_block_on_the_digit_path_does_not_copy_the_training_rows():
    """The digits multiply the float32 rows as they are: a few queries against many rows hold temporaries in
    proportion to their (m, n) block, not a converted copy of the (n, f) training set."""
    import tracemalloc

    rng = np.random.default_rng(10)
    X = rng.integers(0, 256, (20_000, 64)).astype(np.float32)
    Q = rng.integers(0, 256, (2, 64)).astype(np.float32)
    ev = evaluator(X, Q)
    assert ev.exact
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        got = ev.full(0, 2)
        extra = tracemalloc.get_traced_memory()[1] - base - got.nbytes
    finally:
        tracemalloc.stop()
    assert extra <= 8 * got.nbytes < X.nbytes, f"{extra / got.nbytes:.1f} x the block"
    exact = ((Q.astype(np.int64)[:, None, :] - X.astype(np.int64)[None]) ** 2).sum(-1)
    assert_array_equal(got, exact)


@pytest.mark.parametrize("n_features, n_train, budget", [(2, 2000, 48_000), (64, 300, 64_000)])
def test_sequential_batches_keep_within_the_budget(n_features, n_train, budget):
    """The definition's float64 temporaries of one batch of pairs (the two widened rows and their difference)
    follow ``budget_bytes`` (tracemalloc: NumPy reports its buffers), whatever the number of pairs; the values
    are those of an unbudgeted evaluation."""

    rng = np.random.default_rng(n_features)
    X, Q = rng.normal(size=(n_train, n_features)), rng.normal(size=(100, n_features))
    queries, rows = all_pairs(100, n_train)
    ev = evaluator(X, Q, budget_bytes=budget)
    extra, got = extra_peak(lambda: ev.pairs(queries, rows))
    assert 8 * 3 * n_features * len(queries) > 20 * budget  # in one batch the pairs would take 20 budgets
    assert extra <= 1.5 * budget, f"{extra / budget:.2f} x the budget"  # the gathered rows: a third more
    assert_array_equal(got, evaluator(X, Q).pairs(queries, rows))


def test_both_evaluations_on_the_emulated_device():
    """Pairs and full blocks, by the sequential definition and by the digits: device arrays in, device arrays
    out, NumPy's bits."""
    import fake_cupy

    rng = np.random.default_rng(8)
    cases = [(rng.normal(size=(40, 9)), rng.normal(size=(6, 9))),
             (rng.integers(0, 256, (40, 9)).astype(np.float32), rng.integers(0, 5000, (6, 9)).astype(np.float32))]
    queries, rows = all_pairs(6, 40)
    for X, Q in cases:
        want_pairs, want_full = evaluator(X, Q).pairs(queries, rows), evaluator(X, Q).full(1, 5)
        with fake_cupy.installed() as cp:
            ev = evaluator(cp.asarray(X), cp.asarray(Q))
            assert ev.exact == (X.dtype == np.float32)
            got_pairs, got_full = ev.pairs(cp.asarray(queries), cp.asarray(rows)), ev.full(1, 5)
            assert isinstance(got_pairs, cp.ndarray) and isinstance(got_full, cp.ndarray)
            got_pairs, got_full = got_pairs.get(), got_full.get()
        assert_array_equal(got_pairs, want_pairs)
        assert_array_equal(got_full, want_full)


# -- the digit path's pairs: any layout of candidates, its FLOPs, its batches ------------------------------------

def _pairs_of(counts, n, seed):
    """Pairs for ``counts[i]`` candidates of query ``i`` (ascending queries, as ``pairs`` asks): the rows of each
    query in random order, repeats included."""
    rng = np.random.default_rng(seed)
    queries = np.repeat(np.arange(len(counts)), counts).astype(np.int64)
    return queries, rng.integers(0, n, queries.shape[0]).astype(np.int64)


def _exact(X, Q, queries, rows):
    return ((Q[queries].astype(np.int64) - X[rows].astype(np.int64)) ** 2).sum(axis=1)


#: Candidates per query: queries with none (first, middle, last), more than a BLOCK with a partial last block,
#: exactly one and two BLOCKs, one candidate, a BLOCK less one and plus one.
_COUNTS = [0, 37, 16, 32, 0, 0, 0, 1, 15, 17, 0]


@pytest.mark.parametrize("case", ["pixels", "pixels-compact", "signed", "largest"])
def test_digit_pairs_are_exact_in_any_layout_of_candidates(case):
    """Every pair's value is the exact integer ``||q - x||^2`` (int64 arithmetic), whatever the layout: queries
    without candidates, more than a BLOCK of them, partial last blocks, repeated and unsorted rows; on pixels
    (from the float32 rows or their uint8 copy), signed values, and the largest values ``digit_plan`` admits for
    8 features (``|x| <= 2^24 / 24``: base 4; ``|q| < 2^24``: 13 digits)."""
    rng = np.random.default_rng(11)
    f, bx, bq = {"pixels": (784, 255, 255), "pixels-compact": (784, 255, 255), "signed": (30, 300, 5000),
                 "largest": (8, 2 ** 24 // 24, 2 ** 24 - 1)}[case]
    low = 0 if case.startswith("pixels") else -1
    X = rng.integers(low * bx, bx + 1, (70, f)).astype(np.float32)
    Q = rng.integers(low * bq, bq + 1, (len(_COUNTS), f)).astype(np.float32)
    X[:2, 0], Q[:2, 0] = [-bx * (low != 0), bx], [-bq * (low != 0), bq]  # the extremes of both sides
    plan = ed.digit_plan(f, ed.integer_bound(X), ed.integer_bound(Q))
    assert plan is not None
    if case == "largest":
        assert (plan.base, plan.count) == (4, 13)
        assert ed.digit_plan(f, bx, bq + 1) is None
    compact = ed.compact_rows(X, ed.integer_bound(X)) if case == "pixels-compact" else None
    assert (compact is not None) == (case == "pixels-compact")
    ev = ed.PairEvaluator(X, ed.sq_norms(X), Q, ed.sq_norms(Q), plan, compact=compact)
    queries, rows = _pairs_of(_COUNTS, len(X), 12)
    assert_array_equal(ev.pairs(queries, rows), _exact(X, Q, queries, rows))
    # One query's candidates alone, the last query alone, one pair: the same values.
    assert_array_equal(ev.pairs(np.full(40, 3), rows[:40]), _exact(X, Q, np.full(40, 3), rows[:40]))
    last = np.full(5, len(Q) - 1)
    assert_array_equal(ev.pairs(last, rows[:5]), _exact(X, Q, last, rows[:5]))


def test_digit_pairs_count_the_flops_the_device_multiplies():
    """``flops`` is what the batched GEMMs did (the emulated device's count of ``2 m k n`` per product),
    accumulated over calls; a query pads its last block only (fewer than BLOCK empty slots, all its blocks
    full otherwise) and a query without candidates costs nothing."""
    import fake_cupy

    rng = np.random.default_rng(13)
    f = 20
    X = rng.integers(0, 256, (50, f)).astype(np.float32)
    Q = rng.integers(0, 5000, (len(_COUNTS), f)).astype(np.float32)
    queries, rows = _pairs_of(_COUNTS, len(X), 14)
    with fake_cupy.installed() as cp:
        ev = evaluator(cp.asarray(X), cp.asarray(Q))
        assert ev.exact and ev.plan.count >= 2
        per_slot = 2 * f * ev.plan.count
        done = 0
        for q, r in [(queries, rows), (queries[1:40], rows[1:40]), (np.full(48, 9), rows[:48])]:
            fake_cupy.reset_stats()
            got = ev.pairs(cp.asarray(q), cp.asarray(r)).get()
            assert_array_equal(got, _exact(X, Q, q, r))
            gemm = fake_cupy.stats["gemm_flops"]
            done += gemm
            assert ev.flops == done
            counts = np.bincount(q)
            slots = int((-(-counts // ed.BLOCK) * ed.BLOCK).sum())  # each query's candidates in whole blocks
            assert gemm == per_slot * slots
            assert per_slot * len(q) <= gemm < per_slot * (len(q) + ed.BLOCK * np.count_nonzero(counts))


class _GatherLog(np.ndarray):
    """An array that records the bytes each gather (indexing by an array) reads from it."""

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(key, np.ndarray):
            self.log.append(np.asarray(out).nbytes)
        return out


def test_digit_pairs_gather_the_compact_rows_instead_of_the_training_rows():
    """With :func:`compact_rows` (uint8 pixels), each candidate's row is gathered from the copy, a quarter of the
    bytes of the float32 rows, which are not gathered at all; the same exact values."""
    rng = np.random.default_rng(15)
    X = rng.integers(0, 256, (60, 100)).astype(np.float32)
    Q = rng.integers(0, 256, (len(_COUNTS), 100)).astype(np.float32)
    compact = ed.compact_rows(X, ed.integer_bound(X))
    assert compact.dtype == np.uint8
    plan = ed.digit_plan(100, 255, 255)
    Xlog, clog = X.view(_GatherLog), compact.view(_GatherLog)
    Xlog.log, clog.log = [], []
    ev = ed.PairEvaluator(Xlog, ed.sq_norms(X), Q, ed.sq_norms(Q), plan, compact=clog)
    queries, rows = _pairs_of(_COUNTS, len(X), 16)
    assert_array_equal(np.asarray(ev.pairs(queries, rows)), _exact(X, Q, queries, rows))
    assert Xlog.log == []
    assert len(queries) * 100 <= sum(clog.log) < (len(queries) + ed.BLOCK * len(_COUNTS)) * 100


def _pairs_and_gemm_operands(monkeypatch, ev, queries, rows):
    """``ev.pairs(queries, rows)``, and the dtype, size and bytes of both operands of each ``np.matmul`` it made."""
    operands, matmul = [], np.matmul

    def spy(a, b, *args, **kwargs):
        operands.append(tuple(SimpleNamespace(dtype=x.dtype, size=x.size, nbytes=x.nbytes) for x in (a, b)))
        return matmul(a, b, *args, **kwargs)

    monkeypatch.setattr(np, "matmul", spy)
    try:
        return ev.pairs(queries, rows), operands
    finally:
        monkeypatch.setattr(np, "matmul", matmul)


@pytest.mark.parametrize("f, bx, bq, compact", [(784, 255, 255, True), (50, 65535, 9_000_000, True),
                                                (50, 65535, 9_000_000, False), (300, 255, 2_000_000, False)])
def test_each_batch_of_blocks_holds_its_arrays_within_the_budget(monkeypatch, f, bx, bq, compact):
    """A batch's own arrays (the candidates' rows as gathered, their float32 conversion, the queries' gathered
    digits) fit in ``budget_bytes``, whatever the digit count (up to 13 digits of base 4) and the rows' type; the
    GEMM multiplies float32 by float32 (exact, see the module docstring), and the batches give the exact values."""
    rng = np.random.default_rng(f + bx)
    X = rng.integers(0, bx + 1, (300, f)).astype(np.float32)
    Q = rng.integers(-bq, bq + 1, (12, f)).astype(np.float32)
    X[0, 0], Q[0, 0] = bx, bq
    plan = ed.digit_plan(f, bx, bq)
    rows_copy = ed.compact_rows(X, bx) if compact else None
    source = X if rows_copy is None else rows_copy
    budget = 150_000
    ev = ed.PairEvaluator(X, ed.sq_norms(X), Q, ed.sq_norms(Q), plan, budget, compact=rows_copy)
    queries = np.sort(rng.integers(0, 12, 3000))
    rows = rng.integers(0, 300, 3000)
    got, operands = _pairs_and_gemm_operands(monkeypatch, ev, queries, rows)
    assert_array_equal(got, _exact(X, Q, queries, rows))
    assert len(operands) >= 4
    assert all(a.dtype == b.dtype == np.float32 for a, b in operands)
    # a gathered copy of the rows in another dtype is alive beside the operands
    assert max((a.size * source.itemsize if source.dtype != a.dtype else 0) + a.nbytes + b.nbytes
               for a, b in operands) <= budget


@pytest.mark.parametrize("f, bx, bq, compact, budget", [
    (784, 255, 255, True, 600_000), (784, 255, 255, False, 600_000), (784, 255, 255, True, None)])
def test_digit_pairs_keep_within_the_budget(f, bx, bq, compact, budget):
    """tracemalloc's peak of a call, less its result and the pairs' index arrays (a few int64 per pair and
    slot), stays within the budget, the cache-sized batch (``CACHE_BYTES``) where no budget is given, however
    many batches the pairs take: one batch's arrays alive at a time (the last batch's float32 rows kept through
    the next gather took 1.6 budgets)."""

    rng = np.random.default_rng(f + bx + 1)
    X = rng.integers(0, bx + 1, (400, f)).astype(np.float32)
    Q = rng.integers(-bq, bq + 1, (30, f)).astype(np.float32)
    rows_copy = ed.compact_rows(X, ed.integer_bound(X)) if compact else None
    plan = ed.digit_plan(f, ed.integer_bound(X), ed.integer_bound(Q))
    ev = ed.PairEvaluator(X, ed.sq_norms(X), Q, ed.sq_norms(Q), plan, budget, compact=rows_copy)
    limit = ed.CACHE_BYTES if budget is None else budget
    n_pairs = 6 * limit // (4 * f)  # the candidates' float32 rows alone: six limits
    queries = np.sort(rng.integers(0, 30, n_pairs))
    rows = rng.integers(0, 400, n_pairs)
    extra, got = extra_peak(lambda: ev.pairs(queries, rows))
    index = 8 * 6 * (n_pairs + ed.BLOCK * len(Q))
    assert extra - index <= limit, f"{(extra - index) / limit:.2f} x the budget"
    assert_array_equal(got, _exact(X, Q, queries, rows))


# -- the row-chunked passes: integer_bound and sq_norms -------------------------------------------------------

@pytest.mark.parametrize("values, want", [
    (np.empty((0, 3)), 0), (np.empty((4, 0)), 0), (np.zeros((3, 2)), 0), ([[7.0]], 7), ([[-9.0]], 9),
    ([[-0.5]], None),
])
def test_integer_bound_of_empty_zero_and_single_entry_arrays(values, want):
    """No entry (no rows, or rows without features) and all zeros: the largest magnitude is 0, the least bound
    every entry meets; a single entry is its own magnitude, or None when it is not an integer."""
    assert ed.integer_bound(np.asarray(values, dtype=np.float32)) == want


@pytest.mark.parametrize("where", [0, 1234, 1999])
def test_integer_bound_reads_every_row_in_chunks_within_its_budget(where):
    """With a budget of 50 rows' temporaries (two per chunk) the check goes through all 2,000 rows chunk by chunk:
    a large value or a fraction in the first, a middle or the last row is found; the check's temporaries stay
    within ``budget_bytes`` (tracemalloc)."""
    rng = np.random.default_rng(where)
    X = rng.integers(-100, 101, (2000, 100)).astype(np.float32)
    budget = 2 * 100 * 4 * 50
    X[where, 7] = -12345.0
    extra, got = extra_peak(lambda: ed.integer_bound(X, budget))
    assert got == 12345
    assert extra <= 1.5 * budget, f"{extra / budget:.2f} x the budget"  # beyond it, a few scalars and views
    X[where, 3] = 0.5
    assert ed.integer_bound(X, budget) is None


def test_sq_norms_cover_every_row_in_chunks_within_the_budget():
    """``sum_j x_j^2`` of each of 2,000 rows (exact: int64 arithmetic), computed in chunks whose float64 copy
    (16 bytes per feature and row counted: the next chunk's copy is made while the last one's is alive) stays within
    ``budget_bytes``."""
    rng = np.random.default_rng(21)
    X = rng.integers(-300, 301, (2000, 100)).astype(np.float32)
    budget = 16 * 100 * 25
    extra, got = extra_peak(lambda: ed.sq_norms(X, budget))
    assert got.dtype == np.float64
    assert_array_equal(got, (X.astype(np.int64) ** 2).sum(axis=1))
    assert extra <= 1.5 * budget, f"{extra / budget:.2f} x the budget"  # beyond it, each chunk's 25 sums


def test_norms_and_empty_pairs_stay_on_the_emulated_device():
    """Device arrays in, device arrays out: ``sq_norms`` of device rows, and ``pairs`` of no pairs (float64,
    empty) on both evaluations."""
    import fake_cupy

    X = np.arange(12, dtype=np.float32).reshape(4, 3)
    with fake_cupy.installed() as cp:
        norms = ed.sq_norms(cp.asarray(X))
        assert isinstance(norms, cp.ndarray) and norms.dtype == np.float64
        assert_array_equal(norms.get(), (X.astype(np.int64) ** 2).sum(axis=1))
        none = cp.asarray(np.zeros(0, dtype=np.int64))
        for plan in ("auto", None):
            ev = evaluator(cp.asarray(X), cp.asarray(X[:2]), plan=plan)
            assert ev.exact == (plan == "auto")
            got = ev.pairs(none, none)
            assert isinstance(got, cp.ndarray) and got.dtype == np.float64 and got.shape == (0,)


def test_tall_narrow_rows_keep_both_passes_within_the_budget():
    """200,000 rows of one feature and a budget of 2,000 rows' temporaries: many more rows than budget bytes, and
    still each chunk of ``integer_bound`` and ``sq_norms`` stays within ``budget_bytes``; the exact bound and
    norms."""
    rng = np.random.default_rng(22)
    X = rng.integers(-1000, 1001, (200_000, 1)).astype(np.float32)
    X[-1, 0] = 4321.0
    budget = 16_000
    extra, got = extra_peak(lambda: ed.integer_bound(X, budget))
    assert got == 4321
    assert extra <= 1.5 * budget, f"{extra / budget:.2f} x the budget"
    extra, got = extra_peak(lambda: ed.sq_norms(X, budget))
    assert_array_equal(got, X[:, 0].astype(np.int64) ** 2)
    assert extra <= 1.5 * budget, f"{extra / budget:.2f} x the budget"


def test_many_blocks_of_one_feature_keep_each_batch_within_the_budget(monkeypatch):
    """One feature, 100,000 pairs (6,250 blocks) and a budget of a dozen blocks: more blocks than budget bytes,
    and still each batched GEMM's operands fit in ``budget_bytes``; the exact values."""
    rng = np.random.default_rng(23)
    X = rng.integers(0, 256, (300, 1)).astype(np.float32)
    Q = rng.integers(0, 256, (3, 1)).astype(np.float32)
    budget = 1500
    ev = evaluator(X, Q, budget_bytes=budget)
    assert ev.exact
    queries = np.sort(rng.integers(0, 3, 100_000))
    rows = rng.integers(0, 300, 100_000)
    got, operands = _pairs_and_gemm_operands(monkeypatch, ev, queries, rows)
    assert_array_equal(got, _exact(X, Q, queries, rows))
    assert len(operands) > 100 and max(a.nbytes + b.nbytes for a, b in operands) <= budget
