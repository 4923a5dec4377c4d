"""KNN kernels on NumPy against scikit-learn's brute-force KNeighborsClassifier."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neighbors import KNeighborsClassifier as SkKNN
from threadpoolctl import threadpool_limits

from gpuclf.errors import GpuclfError
from gpuclf.kernels import neighbors as nb
from gpuclf.kernels import topk

WEIGHTS = ["uniform", "distance"]


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread():
    # scikit-learn's neighbour search starts OpenMP threads on every call,
    # which on a busy 2-core machine costs ~0.1 s per call on tiny inputs.
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def exact_sq_distances(X_train, X_query):
    """Squared distances by differences, exact for small integer data."""
    diff = X_query[:, None, :].astype(np.float64) - X_train[None, :, :]
    return (diff * diff).sum(axis=2)


def by_distance_then_index(d2, k):
    """Reference neighbours: stable sort of each row, so ties go to the smaller index."""
    return np.argsort(d2, axis=1, kind="stable")[:, :k]


@pytest.fixture(scope="module")
def blobs():
    """Continuous data: no two distances tie, so every correct search agrees."""
    rng = np.random.default_rng(0)
    X_train = rng.normal(size=(300, 12))
    y_train = rng.integers(0, 4, size=300)
    X_query = rng.normal(size=(60, 12))
    return X_train, y_train, X_query


@pytest.fixture(scope="module")
def tied():
    """Few distinct values in 3 features: distances tie all the time."""
    rng = np.random.default_rng(1)
    X = rng.integers(0, 3, size=(120, 3)).astype(np.float64)
    return X[:80], X[80:]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_kneighbors_matches_sklearn(blobs, dtype):
    X_train, y_train, X_query = blobs
    sk = SkKNN(n_neighbors=7, algorithm="brute").fit(X_train, y_train)
    sk_dist, sk_ind = sk.kneighbors(X_query)
    dist, ind = nb.kneighbors(X_train.astype(dtype), X_query.astype(dtype), 7)
    assert dist.dtype == dtype and ind.dtype == np.int64
    assert_array_equal(ind, sk_ind)
    assert_allclose(dist, sk_dist, rtol=1e-4 if dtype == np.float32 else 1e-10)


@pytest.mark.parametrize("k", [1, 4, 8, 9, 14, 15, 80])
def test_ties_go_to_the_smaller_training_index(tied, k):
    X_train, X_query = tied
    d2 = exact_sq_distances(X_train, X_query)
    expected = by_distance_then_index(d2, k)
    dist, ind = nb.kneighbors(X_train, X_query, k)
    assert_array_equal(ind, expected)
    assert_allclose(dist, np.sqrt(np.take_along_axis(d2, expected, axis=1)), atol=1e-12)


def test_first_columns_are_the_search_for_fewer_neighbours(tied):
    """What the grid search relies on: one search for k_max serves every k."""
    X_train, X_query = tied
    dist, ind = nb.kneighbors(X_train, X_query, 9)
    for k in (3, 4, 5):
        dist_k, ind_k = nb.kneighbors(X_train, X_query, k)
        assert_array_equal(ind[:, :k], ind_k)
        assert_array_equal(dist[:, :k], dist_k)


@pytest.mark.parametrize("budget_bytes", [1, 3000])
def test_chunks_give_the_same_result_as_one_chunk(tied, budget_bytes):
    X_train, X_query = tied
    whole = nb.kneighbors(X_train, X_query, 6)
    chunked = nb.kneighbors(X_train, X_query, 6, budget_bytes=budget_bytes)
    for a, b in zip(whole, chunked):
        assert_array_equal(a, b)


def test_exclude_self_is_leave_one_out(blobs, tied):
    X_train, y_train, _ = blobs
    sk_dist, sk_ind = SkKNN(n_neighbors=5, algorithm="brute").fit(X_train, y_train).kneighbors()
    dist, ind = nb.kneighbors(X_train, X_train, 5, exclude_self=True, budget_bytes=20_000)
    assert_array_equal(ind, sk_ind)
    assert_allclose(dist, sk_dist, rtol=1e-10)
    # With duplicates, the sample itself is what is left out, not a copy of it.
    X, _ = tied
    d2 = exact_sq_distances(X, X)
    np.fill_diagonal(d2, np.inf)
    assert_array_equal(nb.kneighbors(X, X, 5, exclude_self=True)[1], by_distance_then_index(d2, 5))


@pytest.mark.parametrize(
    "args, kwargs, match",
    [
        ((np.zeros((4, 2)), np.zeros((3, 2)), 5), {}, "n_neighbors = 5"),
        ((np.zeros((4, 2)), np.zeros((3, 2)), 0), {}, "n_neighbors = 0"),
        ((np.zeros((4, 2)), np.zeros((4, 2)), 4), {"exclude_self": True}, "left out"),
        ((np.zeros((4, 2)), np.zeros((3, 2)), 1), {"exclude_self": True}, "training rows as queries"),
        ((np.zeros((4, 2)), np.zeros((3, 3)), 1), {}, "same number of features"),
    ],
)
def test_kneighbors_rejects_bad_arguments(args, kwargs, match):
    with pytest.raises(GpuclfError, match=match):
        nb.kneighbors(*args, **kwargs)


@pytest.mark.parametrize("weights", WEIGHTS)
def test_vote_matches_sklearn_predict_and_proba(blobs, weights):
    X_train, y_train, X_query = blobs
    sk = SkKNN(n_neighbors=5, weights=weights, algorithm="brute").fit(X_train, y_train)
    dist, ind = nb.kneighbors(X_train, X_query, 5)
    assert_array_equal(nb.vote(y_train[ind], dist, 4, weights), sk.predict(X_query))
    assert_allclose(nb.vote_proba(y_train[ind], dist, 4, weights), sk.predict_proba(X_query), rtol=1e-12)


def test_uniform_tie_goes_to_the_smallest_class():
    labels = np.array([[2, 1, 1, 2], [3, 0, 3, 0]])
    dist = np.ones((2, 4))
    assert_array_equal(nb.vote(labels, dist, 4), [1, 0])
    assert_allclose(nb.vote_proba(labels, dist, 4), [[0, 0.5, 0.5, 0], [0.5, 0, 0, 0.5]])


def test_distance_weights_are_inverse_distances():
    labels = np.array([[0, 1, 1]])
    dist = np.array([[1.0, 3.0, 3.0]])
    assert_array_equal(nb.vote(labels, dist, 2, "uniform"), [1])
    assert_array_equal(nb.vote(labels, dist, 2, "distance"), [0])
    assert_allclose(nb.vote_proba(labels, dist, 2, "distance"), [[0.6, 0.4]])


def test_exact_matches_outvote_everything_else():
    """A row with a zero distance counts only its exact matches, one vote each."""
    labels = np.array([[2, 1, 0, 0], [2, 1, 0, 0]])
    dist = np.array([[0.0, 0.0, 1e-3, 1e-3], [1.0, 2.0, 4.0, 4.0]])
    assert_array_equal(nb.vote(labels, dist, 3, "distance"), [1, 2])
    assert_allclose(nb.vote_proba(labels, dist, 3, "distance")[0], [0, 0.5, 0.5])


def test_vote_rejects_mismatched_shapes():
    with pytest.raises(GpuclfError, match="must agree"):
        nb.vote(np.zeros((3, 4), dtype=int), np.ones((3, 5)), 2)
    with pytest.raises(GpuclfError, match="weights must be"):
        nb.vote(np.zeros((3, 4), dtype=int), np.ones((3, 4)), 2, "gaussian")


@pytest.mark.parametrize("weights", WEIGHTS)
def test_multilabel_vote_matches_sklearn(blobs, weights):
    X_train, _, X_query = blobs
    rng = np.random.default_rng(2)
    Y = rng.integers(0, 2, size=(X_train.shape[0], 3))
    sk = SkKNN(n_neighbors=4, weights=weights, algorithm="brute").fit(X_train, Y)
    dist, ind = nb.kneighbors(X_train, X_query, 4)
    assert_array_equal(nb.vote(Y[ind], dist, 2, weights), sk.predict(X_query))
    proba = nb.vote_proba(Y[ind], dist, 2, weights)
    for j, sk_proba in enumerate(sk.predict_proba(X_query)):
        assert_allclose(proba[:, j], sk_proba, rtol=1e-12)


@pytest.mark.parametrize("weights", WEIGHTS)
def test_neighbor_mode_is_sklearn_multioutput_predict(weights):
    """Every column a target, as the book's denoising (pixel values 0-255)."""
    rng = np.random.default_rng(3)
    X_train, X_query = rng.normal(size=(200, 5)), rng.normal(size=(30, 5))
    Y = rng.integers(0, 4, size=(200, 50)) * 60  # few values per output: many ties in the vote
    sk = SkKNN(n_neighbors=4, weights=weights, algorithm="brute").fit(X_train, Y)
    dist, ind = sk.kneighbors(X_query)
    w = None if weights == "uniform" else nb.neighbor_weights(dist, weights)
    assert_array_equal(nb.neighbor_mode(Y.astype(np.uint8)[ind], w), sk.predict(X_query))


def test_neighbor_mode_takes_the_smallest_value_on_ties():
    values = np.array([[[3, 7], [1, 7], [3, 5], [1, 5]]], dtype=np.uint8)
    mode = nb.neighbor_mode(values)
    assert mode.dtype == np.uint8
    assert_array_equal(mode, [[1, 5]])
    assert_array_equal(nb.neighbor_mode(values, np.array([[1.0, 0.5, 1.0, 0.25]])), [[3, 7]])


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_knn_matches_sklearn_on_small_integer_data(data):
    n_train = data.draw(st.integers(2, 25), label="n_train")
    n_features = data.draw(st.integers(1, 3), label="n_features")
    ints = st.integers(0, 3)
    X_train = np.array(data.draw(st.lists(st.lists(ints, min_size=n_features, max_size=n_features),
                                          min_size=n_train, max_size=n_train)), dtype=np.float64)
    X_query = np.array(data.draw(st.lists(st.lists(ints, min_size=n_features, max_size=n_features),
                                          min_size=1, max_size=8)), dtype=np.float64)
    y = np.array(data.draw(st.lists(st.integers(0, 2), min_size=n_train, max_size=n_train)))
    k = data.draw(st.integers(1, n_train), label="k")
    weights = data.draw(st.sampled_from(WEIGHTS), label="weights")
    classes, codes = np.unique(y, return_inverse=True)

    sk = SkKNN(n_neighbors=k, weights=weights, algorithm="brute").fit(X_train, y)
    sk_dist, sk_ind = sk.kneighbors(X_query)
    dist, ind = nb.kneighbors(X_train, X_query, k)
    assert_allclose(dist, np.sort(sk_dist, axis=1), atol=1e-12)

    # Where the k-th and (k+1)-th distances tie, which neighbours are kept is
    # arbitrary; elsewhere the neighbour set is unique and so is the vote,
    # unless two classes' sums of 1/d tie up to rounding (summation order).
    all_d2 = np.sort(exact_sq_distances(X_train, X_query), axis=1)
    unique_set = np.ones(len(X_query), bool) if k == n_train else all_d2[:, k - 1] < all_d2[:, k]
    compare = unique_set.copy()
    if weights == "distance" and len(classes) > 1:
        proba = np.sort(nb.vote_proba(codes[ind], dist, len(classes), weights), axis=1)
        compare &= proba[:, -1] - proba[:, -2] > 1e-9
    assert_array_equal(np.sort(ind, axis=1)[unique_set], np.sort(sk_ind, axis=1)[unique_set])
    pred = classes[nb.vote(codes[ind], dist, len(classes), weights)]
    assert_array_equal(pred[compare], sk.predict(X_query)[compare])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_both_selections_agree_on_ties(dtype):
    """k argmin passes (small k) and the repaired partition (large k) pick the same neighbours."""
    rng = np.random.default_rng(3)
    d2 = rng.integers(0, 4, size=(50, 200)).astype(dtype)
    for k in (1, 5, 17):
        by_min = topk.smallest_k_by_argmin(d2.copy(), k)
        by_partition = topk.smallest_k_by_partition(d2.copy(), k)
        assert_array_equal(by_min[1], by_partition[1])
        assert_array_equal(by_min[1], by_distance_then_index(d2, k))
        assert_array_equal(by_min[0], np.take_along_axis(d2, by_min[1], axis=1))


@pytest.mark.parametrize("k", [2, 9, 20])
def test_argmin_passes_and_partition_pick_the_same_neighbours(tied, k):
    """Either top-k path may be chosen by cost; both give (distance, index) order."""
    X_train, X_query = tied
    d2 = exact_sq_distances(X_train, X_query)
    by_argmin = topk.smallest_k_by_argmin(d2.copy(), k)
    by_partition = topk.smallest_k_by_partition(d2.copy(), k)
    for a, b in zip(by_argmin, by_partition):
        assert_array_equal(a, b)


def test_top_k_path_follows_the_bytes_moved():
    # float32: argmin passes read 4 bytes a pair, argpartition and its repair ~56.
    assert topk.argmin_is_cheaper(14, 4) and not topk.argmin_is_cheaper(15, 4)
    assert topk.argmin_is_cheaper(8, 8) and not topk.argmin_is_cheaper(9, 8)


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
def test_search_on_the_emulated_device_equals_numpy(blobs, algorithm):
    """Bit for bit: the exact squared distances are element-wise float64 on both namespaces."""
    import fake_cupy

    X_train, _, X_query = blobs
    X_train, X_query = X_train.astype(np.float32), X_query.astype(np.float32)
    want = nb.kneighbors(X_train, X_query, 5, algorithm=algorithm)
    with fake_cupy.installed() as cp:
        got = nb.kneighbors(cp.asarray(X_train), cp.asarray(X_query), 5, algorithm=algorithm)
        got = [a.get() for a in got]
    for a, b in zip(got, want):
        assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["uint8", "bool", "offset", "constant_column", "wide"])
def test_encode_columns_is_unique_per_column(kind):
    rng = np.random.default_rng(1)
    y = {"uint8": rng.integers(0, 256, (200, 30)).astype(np.uint8),
         "bool": rng.random((200, 5)) < 0.3,
         "offset": rng.integers(-40, 40, (200, 7)),
         "constant_column": np.column_stack([np.full(200, 7), rng.integers(0, 3, 200)]).astype(np.int16),
         "wide": np.column_stack([np.arange(600) * 3 - 900, np.arange(600) % 5])}[kind]
    classes, codes, table = nb.encode_columns(y)
    # Codes in the narrowest type that holds the largest column's class indices (pixels: uint8).
    most = max(len(np.unique(y[:, j])) for j in range(y.shape[1]))
    assert codes.dtype == (np.uint8 if most <= 256 else np.uint16)
    for j in range(y.shape[1]):
        want_classes, want_codes = np.unique(y[:, j], return_inverse=True)
        assert_array_equal(classes[j], want_classes)
        assert classes[j].dtype == y.dtype
        assert_array_equal(codes[:, j], want_codes)
        assert_array_equal(table[j], np.concatenate([want_classes, np.repeat(want_classes[-1:],
                                                                             table.shape[1] - len(want_classes))]))


@pytest.mark.parametrize("weights", ["uniform", "distance"])
def test_votes_sum_in_neighbour_order_without_a_weighted_bincount(weights):
    """Same totals as a weighted bincount, without the float atomics it is on a GPU."""
    import fake_cupy

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 4, (50, 6))
    dist = rng.random((50, 6))
    dist[0, 2] = 0.0
    w = nb.neighbor_weights(dist, weights)
    bins = (np.arange(50)[:, None] * 4 + labels).ravel()
    want = np.bincount(bins, weights=w.ravel(), minlength=200).reshape(50, 4)
    assert_array_equal(nb.vote_proba(labels, dist, 4, weights), want / want.sum(axis=1, keepdims=True))
    with fake_cupy.installed() as cp:
        fake_cupy.reset_stats()
        got = nb.vote(cp.asarray(labels), cp.asarray(dist), 4, weights).get()
        assert not any(name == "bincount" for name, *_ in fake_cupy.stats["kernels"])
    assert_array_equal(got, np.argmax(want, axis=1))


def test_index_dtype_is_int32_exactly_while_the_largest_index_fits():
    """``encode_columns``' flat indices ``0 .. m * span - 1``: int32 up to 2**31 of them, int64 past (an
    int32 index of 2**31 would wrap to a negative one)."""
    assert [nb.index_dtype(n) for n in (1, 2**31 - 1, 2**31, 2**31 + 1, 2**40)] == [np.int32] * 3 + [np.int64] * 2
    for size in (2**31, 2**31 + 1):
        largest = np.array([size - 1])
        assert largest.astype(nb.index_dtype(size))[0] == size - 1


def test_code_dtype_is_the_narrowest_that_holds_the_indices():
    assert [nb.code_dtype(n) for n in (1, 256, 257, 65536, 65537)] == [np.uint8, np.uint8, np.uint16, np.uint16,
                                                                         np.int64]
    assert np.iinfo(nb.code_dtype(256)).max == 255 and np.iinfo(nb.code_dtype(65536)).max == 65535


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int64])
def test_unweighted_mode_counts_as_weights_of_one(dtype):
    """``weights=None`` counts in int16; weights of one (float64) must give the same modes, ties included."""
    rng = np.random.default_rng(4)
    values = rng.integers(0, 3, (300, 7, 20)).astype(dtype)  # three values over seven neighbours: many ties
    counted = nb.neighbor_mode(values)
    assert counted.dtype == dtype
    assert_array_equal(counted, nb.neighbor_mode(values, np.ones((300, 7))))
    # The mode by hand: the most frequent value, the smallest on ties.
    counts = np.stack([(values == v).sum(axis=1) for v in range(3)], axis=-1)
    assert_array_equal(counted, counts.argmax(axis=-1))


def test_distance_weights_of_exact_matches_raise_no_warning():
    """A zero distance takes the exact-match mask silently, as scikit-learn's ``_get_weights`` does:
    no divide-by-zero RuntimeWarning reaches the caller, and the weights are scikit-learn's."""
    import warnings

    from sklearn.neighbors._base import _get_weights

    dist = np.array([[0.0, 0.5, 2.0], [0.25, 0.5, 4.0], [0.0, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = nb.neighbor_weights(dist, "distance")
    assert got.dtype == np.float64
    assert_array_equal(got, _get_weights(dist, "distance"))


def test_unweighted_mode_counts_past_int16():
    """More than 2**15 neighbours: a value held by 32,768 of them outvotes one held by a single one
    (the counts must not wrap around as int16 would)."""
    k = 2**15 + 1
    values = np.zeros((1, k, 1), dtype=np.uint8)
    values[0, 0, 0] = 1
    assert_array_equal(nb.neighbor_mode(values), [[np.bincount(values[0, :, 0]).argmax()]])


@pytest.mark.parametrize("on_device", ["X_train", "X_query"])
def test_search_takes_one_host_and_one_device_array(on_device):
    """The search brings both inputs to the namespace of whichever is on the device (``xp.asarray``):
    one NumPy and one CuPy array give NumPy's neighbours, on the device."""
    import fake_cupy
    X = np.random.default_rng(9).integers(0, 4, size=(30, 16)).astype(np.float32)
    arrays = {"X_train": X[:20], "X_query": X[20:]}
    want = [nb.kneighbors(arrays["X_train"], arrays["X_query"], 3),
            nb.sq_kneighbors(arrays["X_train"], arrays["X_query"], 3)]
    with fake_cupy.installed() as cp:
        mixed = {**arrays, on_device: cp.asarray(arrays[on_device])}
        got = [nb.kneighbors(mixed["X_train"], mixed["X_query"], 3),
               nb.sq_kneighbors(mixed["X_train"], mixed["X_query"], 3)]
        for (d, i), (want_d, want_i) in zip(got, want):
            assert isinstance(d, cp.ndarray) and isinstance(i, cp.ndarray)
            assert d.dtype == want_d.dtype
            assert_array_equal(d.get(), want_d)
            assert_array_equal(i.get(), want_i)


@pytest.mark.parametrize("dtype", [np.uint8, np.int32, bool])
def test_integer_and_bool_inputs_are_searched_as_float64(dtype):
    """Pixels (uint8), other integers and booleans are converted, not refused: float64 distances,
    the exact neighbours (ties by index), for the plain and the squared search."""
    rng = np.random.default_rng(10)
    X = rng.integers(0, 3, size=(40, 9)).astype(dtype)
    Q = X[30:]
    sq = exact_sq_distances(X.astype(np.float64), Q.astype(np.float64))
    want_i = np.argsort(sq, axis=1, kind="stable")[:, :4]
    want_sq = np.take_along_axis(sq, want_i, axis=1)
    d, i = nb.kneighbors(X, Q, 4)
    s, j = nb.sq_kneighbors(X, Q, 4)
    assert d.dtype == np.float64 and s.dtype == np.float64
    assert_array_equal(i, want_i)
    assert_array_equal(j, want_i)
    assert_array_equal(s, want_sq)
    assert_allclose(d, np.sqrt(want_sq), rtol=1e-15)


@pytest.mark.parametrize("train, query", [(np.float64, np.float32), (np.float32, np.float64)])
def test_mixed_float_dtypes_give_float64_distances(train, query):
    """float32 and float64 together give float64 distances, whichever side is float32 (as scikit-learn),
    searched in float64: the float64 side is not rounded to float32 (which would err by ~1e-7)."""
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(45)
    X, Q = rng.normal(size=(50, 6)).astype(train), rng.normal(size=(4, 6)).astype(query)
    d, i = nb.kneighbors(X, Q, 3)
    assert d.dtype == np.float64
    want = NearestNeighbors(n_neighbors=3).fit(X.astype(np.float64)).kneighbors(Q.astype(np.float64))
    assert_array_equal(i, want[1])
    assert_allclose(d, want[0], rtol=1e-6)
    sq, j = nb.sq_kneighbors(X, Q, 3)
    assert_array_equal(j, want[1])
    assert_allclose(sq, np.take_along_axis(exact_sq_distances(X, Q), j, axis=1), rtol=1e-13)
    assert_allclose(d, np.sqrt(sq), rtol=1e-15)


@pytest.mark.parametrize("y", [
    np.array([[3_000_000_000, 3_000_000_007], [3_000_000_001, 3_000_000_007], [3_000_000_000, 3_000_000_009]]),
    np.array([[2**64 - 1, 2**64 - 9], [2**64 - 3, 2**64 - 8], [2**64 - 1, 2**64 - 8]], dtype=np.uint64),
    np.array([[-2**40, -2**40 + 300], [-2**40 + 5, -2**40 + 7], [-2**40, -2**40]]),
    np.array([[-128, 127], [127, -128], [0, 0]], dtype=np.int8),  # the whole int8 range
])
def test_encode_columns_takes_labels_of_any_size_with_a_small_spread(y):
    """Each column's classes and codes are ``np.unique(column, return_inverse=True)``'s, for labels beyond
    the narrow index type (int32) as long as their spread (over every column) is small."""
    classes, codes, _ = nb.encode_columns(y)
    for j in range(y.shape[1]):
        want, inverse = np.unique(y[:, j], return_inverse=True)
        assert_array_equal(classes[j], want)
        assert classes[j].dtype == y.dtype
        assert_array_equal(codes[:, j], inverse)
