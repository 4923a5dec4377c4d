"""KNeighborsClassifier and StandardScaler estimators against scikit-learn on NumPy."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neighbors import KNeighborsClassifier as SkKNN
from sklearn.preprocessing import StandardScaler as SkStandardScaler
from threadpoolctl import threadpool_limits

from gpuclf.errors import InputError
from gpuclf.estimators import KNeighborsClassifier, StandardScaler

WEIGHTS = ["uniform", "distance"]


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread():
    # scikit-learn's neighbour search starts OpenMP threads on every call,
    # which on a busy 2-core machine costs ~0.1 s per call on tiny inputs.
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def data():
    """Continuous features (no distance ties) and string labels."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(250, 8))
    y = np.array(["cat", "dog", "emu"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)]
    return X[:200], y[:200], X[200:], y[200:]


@pytest.mark.parametrize("weights", WEIGHTS)
def test_matches_sklearn(data, weights):
    X, y, X_test, y_test = data
    sk = SkKNN(n_neighbors=4, weights=weights, algorithm="brute").fit(X, y)
    knn = KNeighborsClassifier(n_neighbors=4, weights=weights).fit(X, y)
    assert_array_equal(knn.classes_, sk.classes_)
    assert_array_equal(knn.predict(X_test), sk.predict(X_test))
    assert_allclose(knn.predict_proba(X_test), sk.predict_proba(X_test), rtol=1e-12)
    assert knn.score(X_test, y_test) == pytest.approx(sk.score(X_test, y_test))
    dist, ind = knn.kneighbors(X_test, n_neighbors=6)
    sk_dist, sk_ind = sk.kneighbors(X_test, n_neighbors=6)
    assert_array_equal(ind, sk_ind)
    assert_allclose(dist, sk_dist, rtol=1e-10)


def test_without_X_each_sample_is_left_out(data):
    X, y, _, _ = data
    sk = SkKNN(n_neighbors=3, weights="distance", algorithm="brute").fit(X, y)
    knn = KNeighborsClassifier(n_neighbors=3, weights="distance").fit(X, y)
    assert_array_equal(knn.kneighbors(return_distance=False), sk.kneighbors(return_distance=False))
    assert_array_equal(knn.predict(None), sk.predict(None))
    assert knn.score(None, y) == pytest.approx(sk.score(None, y))


def test_float32_stays_float32(data):
    X, y, X_test, _ = data
    knn = KNeighborsClassifier().fit(X.astype(np.float32), y)
    dist, _ = knn.kneighbors(X_test)  # float64 queries are cast to the training dtype
    assert dist.dtype == np.float32
    assert_array_equal(knn.predict(X_test), SkKNN(algorithm="brute").fit(X, y).predict(X_test))


@pytest.mark.parametrize("weights", WEIGHTS)
def test_multilabel_matches_sklearn(data, weights):
    X, y, X_test, _ = data
    Y = np.c_[y == "dog", X[:, 2] > 0, np.zeros(len(y))].astype(int)  # last label never set
    sk = SkKNN(n_neighbors=5, weights=weights, algorithm="brute").fit(X, Y)
    knn = KNeighborsClassifier(n_neighbors=5, weights=weights).fit(X, Y)
    assert_array_equal(knn.predict(X_test), sk.predict(X_test))
    for ours, theirs in zip(knn.predict_proba(X_test), sk.predict_proba(X_test), strict=True):
        assert_allclose(ours, theirs, rtol=1e-12)
    assert knn.score(X_test, sk.predict(X_test)) == 1.0


def test_multi_output_labels_beyond_int32_match_sklearn(data):
    """Multi-output labels such as IDs of 3 billion (a spread of a few): predictions as scikit-learn's."""
    X = data[0]
    Y = 3_000_000_000 + np.column_stack([X[:, 0] > 0, 5 + (X[:, 1] > 0.5)]).astype(np.int64)
    want = SkKNN(n_neighbors=3).fit(X, Y).predict(X[:40])
    got = KNeighborsClassifier(n_neighbors=3).fit(X, Y).predict(X[:40])
    assert_array_equal(got, want)
    assert got.dtype == want.dtype


@pytest.mark.parametrize("weights", WEIGHTS)
def test_denoising_pixel_targets_match_sklearn(weights):
    """The book's denoising: noisy images in, every clean pixel a target."""
    rng = np.random.default_rng(4)
    clean = rng.integers(0, 4, size=(150, 49)) * 85  # few grey levels: ties in each pixel's vote
    noisy = clean + rng.uniform(0, 100, size=clean.shape)
    sk = SkKNN(n_neighbors=4, weights=weights, algorithm="brute").fit(noisy[:120], clean[:120])
    knn = KNeighborsClassifier(n_neighbors=4, weights=weights).fit(noisy[:120], clean[:120])
    expected = sk.predict(noisy[120:])
    assert_array_equal(knn.predict(noisy[120:]), expected)
    # A tiny budget runs the per-pixel vote one query at a time.
    assert_array_equal(knn.set_params(budget_bytes=1).predict(noisy[120:]), expected)


BAD_X = {
    "nan": (lambda X: np.where(X > 1.5, np.nan, X), "NaN or infinity"),
    "inf": (lambda X: np.where(X > 1.5, np.inf, X), "NaN or infinity"),
    "1-D": (lambda X: X[0], "Expected a 2D array"),
}


@pytest.mark.parametrize("case", BAD_X)
def test_bad_X_raises_gpuclf_error(data, case):
    make_bad, match = BAD_X[case]
    X, y, X_test, _ = data
    with pytest.raises(InputError, match=match):
        KNeighborsClassifier().fit(make_bad(X), y)
    knn = KNeighborsClassifier().fit(X, y)
    with pytest.raises(InputError, match=match):
        knn.predict(make_bad(X_test))


def test_wrong_number_of_features_raises_gpuclf_error(data):
    X, y, X_test, _ = data
    knn = KNeighborsClassifier().fit(X, y)
    with pytest.raises(InputError, match="X has 5 features, but KNeighborsClassifier is expecting 8"):
        knn.predict(X_test[:, :5])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_neighbors": 0}, "'n_neighbors' parameter of KNeighborsClassifier must be an integer >= 1"),
        ({"n_neighbors": 2.5}, "'n_neighbors' parameter of KNeighborsClassifier must be an integer >= 1"),
        ({"weights": "gaussian"}, "'weights' parameter of KNeighborsClassifier must be one of"),
        ({"n_neighbors": 201}, "n_samples_fit = 200"),
    ],
)
def test_bad_parameters_raise_gpuclf_error(data, params, match):
    X, y, X_test, _ = data
    with pytest.raises(InputError, match=match):
        KNeighborsClassifier(**params).fit(X, y).predict(X_test)


@pytest.mark.parametrize(
    "y, match",
    [
        (None, "requires y"),
        (np.linspace(0, 1, 200), "Unknown label type"),
        (np.full(200, np.inf), "NaN or infinity"),
        (np.zeros(150), "inconsistent numbers of samples: \\[200, 150\\]"),
    ],
)
def test_bad_y_raises_gpuclf_error(data, y, match):
    X, _, _, _ = data
    with pytest.raises(InputError, match=match):
        KNeighborsClassifier().fit(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8])
def test_standard_scaler_matches_sklearn(dtype):
    rng = np.random.default_rng(5)
    X = rng.normal(50, 10, size=(100, 4)).clip(0, 255).astype(dtype)
    X[:, 3] = 7
    sk = SkStandardScaler().fit(X)
    scaler = StandardScaler().fit(X)
    assert_allclose(scaler.mean_, sk.mean_, rtol=1e-14)
    assert_allclose(scaler.scale_, sk.scale_, rtol=1e-12)
    Z = scaler.transform(X)
    assert Z.dtype == sk.transform(X).dtype
    assert_allclose(Z, sk.transform(X), rtol=1e-6, atol=1e-6)
    assert_allclose(scaler.fit_transform(X), Z)
    assert_allclose(scaler.inverse_transform(Z), X, rtol=1e-5)
    with pytest.raises(InputError, match="X has 3 features"):
        scaler.transform(X[:, :3])


@pytest.mark.realdata
def test_mnist_predictions_match_sklearn(real_mnist):
    """In float32, the GPU's precision, near-equal distances may round apart from sklearn's float64."""
    X_train, y_train = real_mnist.X_train[:10_000], real_mnist.y_train[:10_000]
    X_test = real_mnist.X_test[:2_000]
    sk = SkKNN(n_neighbors=4, weights="distance", algorithm="brute").fit(X_train, y_train)
    expected = sk.predict(X_test)
    knn = KNeighborsClassifier(n_neighbors=4, weights="distance").fit(X_train.astype(np.float32), y_train)
    assert np.mean(knn.predict(X_test.astype(np.float32)) == expected) >= 0.999


@pytest.mark.realdata
def test_mnist_denoising_matches_sklearn(real_mnist):
    """The book's denoising: noise added to the images, the clean pixels as 784 targets."""
    rng = np.random.default_rng(42)
    X_train, X_test = real_mnist.X_train[:2_000], real_mnist.X_test[:20]
    noisy_train = X_train + rng.integers(0, 100, size=X_train.shape)
    noisy_test = X_test + rng.integers(0, 100, size=X_test.shape)
    expected = SkKNN(algorithm="brute").fit(noisy_train, X_train).predict(noisy_test)
    assert_array_equal(KNeighborsClassifier().fit(noisy_train, X_train).predict(noisy_test), expected)


def test_integer_targets_skip_sklearn_s_sort_but_keep_its_errors(monkeypatch):
    """Host integer labels are classification targets whatever their values: no ``check_classification_targets``
    (a sort of every label) for them; float, string and empty-column targets still go through it."""
    from gpuclf.errors import InputError
    from gpuclf.estimators import validation

    calls = []
    real = validation.check_classification_targets
    monkeypatch.setattr(validation, "check_classification_targets", lambda y: (calls.append(y.dtype), real(y)))
    X = np.arange(40, dtype=float).reshape(20, 2)
    KNeighborsClassifier(n_neighbors=3).fit(X, np.arange(20) % 4)
    KNeighborsClassifier(n_neighbors=3).fit(X, np.c_[np.arange(20) % 2, np.arange(20) % 3].astype(np.uint8))
    assert calls == []
    KNeighborsClassifier(n_neighbors=3).fit(X, (np.arange(20) % 4).astype(float))
    assert calls == [np.dtype(float)]
    with pytest.raises(InputError, match="Unknown label type"):
        KNeighborsClassifier(n_neighbors=3).fit(X, np.linspace(0, 1, 20))
    with pytest.raises(InputError):
        KNeighborsClassifier(n_neighbors=3).fit(X, np.zeros((20, 0), dtype=int))


def test_multi_output_score_refuses_one_label_per_row_like_sklearn():
    """Two outputs scored against 1-D labels of two rows: scikit-learn refuses the mix, so do we (no broadcast)."""
    X = np.arange(12.0).reshape(6, 2)
    Y = np.c_[np.arange(6) % 2, np.arange(6) // 3]
    query, labels = X[:2], np.array([0, 1])
    with pytest.raises(ValueError):
        SkKNN(n_neighbors=3).fit(X, Y).score(query, labels)
    with pytest.raises(ValueError):
        KNeighborsClassifier(n_neighbors=3).fit(X, Y).score(query, labels)


def test_wide_range_integer_targets_match_sklearn():
    """int64 targets a trillion apart are encoded per output, not as a bincount over their whole range."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    Y = (rng.integers(-1, 2, size=(40, 2)) * 10**15).astype(np.int64)
    Y[:, 0] = np.abs(Y[:, 0])  # two classes in the first output, three in the second
    pred, expected = KNeighborsClassifier(n_neighbors=3).fit(X[:30], Y[:30]).predict(X[30:]), \
        SkKNN(n_neighbors=3).fit(X[:30], Y[:30]).predict(X[30:])
    assert pred.dtype == expected.dtype == np.int64
    assert_array_equal(pred, expected)


@pytest.mark.parametrize("weights", WEIGHTS)
def test_multi_output_vote_keeps_to_the_budget(weights):
    """784 pixel targets: the per-pixel vote goes in chunks of queries that fit budget_bytes, so its working
    memory stays near the budget (the whole vote at once would take (queries, k, 784) float64 arrays)."""
    from traced_peak import extra_peak

    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 4))
    Y = (rng.integers(0, 4, size=(300, 784)) * 85).astype(np.uint8)
    budget = 1 << 16
    knn = KNeighborsClassifier(n_neighbors=5, weights=weights, budget_bytes=budget).fit(X[:150], Y[:150])
    peak, pred = extra_peak(lambda: knn.predict(X[150:]))
    assert peak < 8 * budget
    assert_array_equal(pred, knn.set_params(budget_bytes=None).predict(X[150:]))  # one chunk: the same votes


def test_device_model_keeps_queries_and_targets_on_the_device():
    """A model fitted on the device: device queries are not sent to the host and back, and small-integer
    targets (pixels, flags) are encoded in a few whole-array steps, not one host sync per output."""
    import fake_cupy

    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 3))
    Y = rng.integers(0, 3, size=(60, 40)).astype(np.uint8)
    with fake_cupy.installed() as cp:
        query = cp.asarray(X[40:])
        for targets in (Y, Y > 0):
            fake_cupy.reset_stats()
            knn = KNeighborsClassifier(n_neighbors=3).fit(cp.asarray(X[:40]), cp.asarray(targets[:40]))
            assert fake_cupy.stats["syncs"] < 10  # 40 outputs
            fake_cupy.reset_stats()
            pred = knn.predict(query)
            assert fake_cupy.stats["h2d_bytes"] < query.nbytes
            assert_array_equal(pred.get(), SkKNN(n_neighbors=3).fit(X[:40], targets[:40]).predict(X[40:]))


@pytest.mark.parametrize("algorithm", ["brute", "pruned"])
def test_search_keeps_to_the_budget(algorithm):
    """budget_bytes bounds the search's working memory (all 300 x 3000 distances at once would take 7 MB)."""
    from traced_peak import extra_peak

    rng = np.random.default_rng(8)
    X = rng.normal(size=(3000, 16))
    y = (X[:, 0] > 0).astype(int)
    budget = 1 << 16
    knn = KNeighborsClassifier(n_neighbors=5, budget_bytes=budget, algorithm=algorithm).fit(X, y)
    peak, (_, indices) = extra_peak(lambda: knn.kneighbors(X[:300]))
    assert peak < 16 * budget
    assert_array_equal(indices, SkKNN(n_neighbors=5, algorithm="brute").fit(X, y).kneighbors(X[:300])[1])
