"""One-vs-one / one-vs-rest on NumPy against scikit-learn, with SVC as the binary estimator."""
import numpy as np
import pytest
import sklearn.multiclass as skm
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.svm import SVC

from gpuclf.errors import InputError
from gpuclf.estimators.multiclass import OneVsOneClassifier, OneVsRestClassifier


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:1000], y[:1000], X[1000:1300], y[1000:1300]


def scale_gamma(X):
    """sklearn's gamma='scale' on the whole of X, as SVC uses it in every pair."""
    return 1.0 / (X.shape[1] * X.var())


def check_same_as_svc(X, y, X_test):
    """OvO over binary SVCs == multiclass SVC, whose libsvm core is one-vs-one."""
    gamma = scale_gamma(X)
    ours = OneVsOneClassifier(SVC(gamma=gamma, random_state=42)).fit(X, y)
    ref = SVC(random_state=42, break_ties=True).fit(X, y)
    scores = ours.decision_function(X_test)
    np.testing.assert_allclose(scores, ref.decision_function(X_test), rtol=1e-6, atol=1e-8)
    pred = ours.predict(X_test)
    np.testing.assert_array_equal(pred, ref.predict(X_test))
    # SVC's default (break_ties=False) takes the libsvm vote, ties going to
    # the first class: it can differ only where the top vote count is shared.
    default = SVC(random_state=42).fit(X, y).predict(X_test)
    votes = np.rint(scores)
    top = votes == votes.max(axis=1, keepdims=True)
    differ = pred != default
    assert (top.sum(axis=1)[differ] > 1).all()
    np.testing.assert_array_equal(default[differ], ours.classes_[top[differ].argmax(axis=1)])


def check_same_as_sklearn(ours_cls, X, y, X_test):
    ref_cls = getattr(skm, ours_cls.__name__)
    ours = ours_cls(SVC(random_state=42)).fit(X, y)
    ref = ref_cls(SVC(random_state=42)).fit(X, y)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)
    assert len(ours.estimators_) == len(ref.estimators_)
    np.testing.assert_allclose(ours.decision_function(X_test), ref.decision_function(X_test),
                               rtol=1e-6, atol=1e-8)
    assert ours.score(X_test, ref.predict(X_test)) == 1.0


def test_ovo_reproduces_svc(digits):
    check_same_as_svc(*digits[:3])


@pytest.mark.parametrize("cls", [OneVsOneClassifier, OneVsRestClassifier])
def test_same_as_sklearn_multiclass(cls, digits):
    check_same_as_sklearn(cls, *digits[:3])


@pytest.mark.parametrize("cls", [OneVsOneClassifier, OneVsRestClassifier])
def test_two_classes_and_arbitrary_labels(cls, digits):
    X, y, X_test, _ = digits
    keep = np.isin(y, [3, 8])
    check_same_as_sklearn(cls, X[keep], (y[keep] * 7 + 1).astype(np.uint8), X_test)
    assert cls(SVC()).fit(X[keep], y[keep]).decision_function(X_test).shape == (len(X_test),)


class RecordingSVC(SVC):
    """SVC that remembers the labels it was fitted on."""

    def fit(self, X, y):
        self.y_seen_ = y
        return super().fit(X, y)


@pytest.mark.parametrize("cls", [OneVsOneClassifier, OneVsRestClassifier])
def test_base_estimator_gets_int32_zero_one(cls, digits):
    X, y = digits[0][:300], digits[1][:300]
    model = cls(RecordingSVC()).fit(X, y)
    for est in model.estimators_:
        assert est.y_seen_.dtype == np.int32
        np.testing.assert_array_equal(np.unique(est.y_seen_), [0, 1])


def test_ovo_pairs_in_sklearn_order(digits):
    X, y = digits[0][:300], digits[1][:300]
    model = OneVsOneClassifier(RecordingSVC()).fit(X, y)
    pairs = [(i, j) for i in range(10) for j in range(i + 1, 10)]
    for (i, j), est in zip(pairs, model.estimators_, strict=True):
        rows = np.isin(y, [i, j])
        np.testing.assert_array_equal(est.y_seen_, (y[rows] == j).astype(np.int32))


@pytest.mark.parametrize("cls", [OneVsOneClassifier, OneVsRestClassifier])
def test_estimator_contract(cls, digits):
    model = cls(SVC(C=2.0))
    assert clone(model).get_params()["estimator__C"] == 2.0
    assert model.set_params(estimator__C=3.0).estimator.C == 3.0
    X, y = digits[0][:200], digits[1][:200]
    assert model.fit(X, y) is model
    with pytest.raises(InputError, match="y has only one class \\(0\\); .* at least 2 classes"):
        cls(SVC()).fit(X, np.zeros(len(X), dtype=int))


@pytest.fixture(scope="module")
def mnist_2000(real_mnist):
    """The book's SVC slice: the first 2,000 training digits, scored on 200 test digits."""
    data = real_mnist.subsample(2000, 200)
    return data.X_train.astype(np.float64), data.y_train, data.X_test.astype(np.float64)


@pytest.mark.realdata
def test_ovo_reproduces_svc_on_mnist(mnist_2000):
    check_same_as_svc(*mnist_2000)


@pytest.mark.realdata
@pytest.mark.parametrize("cls", [OneVsOneClassifier, OneVsRestClassifier])
def test_same_as_sklearn_on_mnist(cls, mnist_2000):
    check_same_as_sklearn(cls, *mnist_2000)


@pytest.mark.parametrize("cls", [OneVsOneClassifier, OneVsRestClassifier])
@pytest.mark.parametrize("classes", [[3, 8], None])
def test_probability_base_as_sklearn(cls, classes, digits):
    """A base without decision_function (KNN): its probability of label 1 is the confidence, as scikit-learn's.

    Votes (one-vs-one), ties between probabilities (one-vs-rest: the first class, as scikit-learn's reversed
    loop gives) and the 0.5 threshold of two classes give scikit-learn's predictions and decisions exactly.
    """
    from sklearn.neighbors import KNeighborsClassifier

    X, y, X_test, _ = digits
    if classes is not None:
        keep = np.isin(y, classes)
        X, y = X[keep], y[keep]
    ref = getattr(skm, cls.__name__)(KNeighborsClassifier(n_neighbors=3)).fit(X, y)
    ours = cls(KNeighborsClassifier(n_neighbors=3)).fit(X, y)
    np.testing.assert_array_equal(ours.predict(X_test), ref.predict(X_test))
    if cls is OneVsOneClassifier:
        np.testing.assert_allclose(ours.decision_function(X_test), ref.decision_function(X_test), rtol=1e-12)
    else:
        assert not hasattr(ours, "decision_function") and not hasattr(ref, "decision_function")
        np.testing.assert_allclose(ours.predict_proba(X_test), ref.predict_proba(X_test), rtol=1e-12)


def test_ovr_predict_proba_only_where_the_base_has_it():
    assert not hasattr(OneVsRestClassifier(SVC()), "predict_proba")
    assert hasattr(OneVsRestClassifier(SVC(probability=True)), "predict_proba")


def test_svc_reduction_predicts_by_its_own_decision_function():
    """The GPU's one-vs-rest SVC prepares X (float32, F order) in decision_function, and predict goes through
    it: at queries that float32 rounds across the boundary, predict still agrees with decision_function."""
    from gpuclf.backends.cuml_adapters import CumlClassifier, SVCOneVsRest

    model = SVCOneVsRest(CumlClassifier(SVC(kernel="linear"))).fit(np.arange(4.0)[:, None], [0, 0, 1, 1])

    def positive(bits):  # the decision at the float32 whose bit pattern is ``bits``
        return model.decision_function(np.int32(bits).view(np.float32).reshape(1, 1).astype(np.float64))[0] > 0

    lo, hi = int(np.float32(0).view(np.int32)), int(np.float32(3).view(np.int32))
    assert not positive(lo) and positive(hi)
    while hi - lo > 1:  # bisect to the two adjacent float32 values on either side of the boundary
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if positive(mid) else (mid, hi)
    halfway = (float(np.int32(lo).view(np.float32)) + float(np.int32(hi).view(np.float32))) / 2
    query = np.array([[np.nextafter(halfway, -np.inf)], [np.nextafter(halfway, np.inf)]])  # float32: lo, hi
    assert model.predict(query).tolist() == model.classes_[(model.decision_function(query) > 0).astype(int)].tolist() \
        == [0, 1]


def test_ovo_votes_from_the_decision_values_without_a_predict_pass(digits):
    """With a decision_function, each pair's vote is its sign (SVC's predict), not a second pass through predict."""
    X, y, X_test, _ = digits
    keep = np.isin(y[:400], [1, 4, 7])
    calls = []

    class CountingSVC(SVC):
        def predict(self, X):
            calls.append(len(X))
            return super().predict(X)

    pred = OneVsOneClassifier(CountingSVC()).fit(X[:400][keep], y[:400][keep]).predict(X_test)
    assert calls == []
    np.testing.assert_array_equal(pred, skm.OneVsOneClassifier(SVC()).fit(X[:400][keep], y[:400][keep]).predict(X_test))


def test_ovo_vote_at_a_decision_of_exactly_zero_is_svc_s():
    """Symmetric data put the query on the boundary (decision -0.0): SVC predicts classes_[1] there, so do we."""
    X, y, query = np.array([[-1.0], [1.0], [-2.0], [2.0]]), np.array([3, 5, 3, 5]), np.array([[0.0]])
    svc = SVC(kernel="linear").fit(X, y)
    assert svc.decision_function(query)[0] == 0
    assert OneVsOneClassifier(SVC(kernel="linear")).fit(X, y).predict(query).tolist() == svc.predict(query).tolist()


def test_ovo_over_a_base_without_decision_function_votes_on_the_device(digits):
    """OvO over gpuclf's KNN (predictions, no decision values) on device arrays: the votes are counted there
    and equal the host's (the emulated CuPy refuses what CuPy refuses, e.g. ``reshape(a, None)``)."""
    import fake_cupy
    from gpuclf.estimators import KNeighborsClassifier as OurKNN

    X, y = digits[0][:300], digits[1][:300]
    want = OneVsOneClassifier(OurKNN(n_neighbors=3)).fit(X, y).predict(X[:50])
    with fake_cupy.installed() as cp:
        got = OneVsOneClassifier(OurKNN(n_neighbors=3)).fit(cp.asarray(X), cp.asarray(y)).predict(cp.asarray(X[:50]))
        assert isinstance(got, cp.ndarray)
        assert got.get().tolist() == want.tolist()


@pytest.mark.parametrize("cls", [OneVsRestClassifier, OneVsOneClassifier])
def test_a_fitted_reduction_offers_its_fitted_models_methods_as_sklearn(cls, digits):
    """Once fitted, ``decision_function`` / ``predict_proba`` follow the fitted binary models, not an
    ``estimator`` set afterwards: scikit-learn's meta-estimators check ``estimators_[0]`` first."""
    from sklearn.neighbors import KNeighborsClassifier

    X, y = digits[0][:200], digits[1][:200]
    ref = getattr(skm, cls.__name__)(SVC()).fit(X, y).set_params(estimator=KNeighborsClassifier())
    ours = cls(SVC()).fit(X, y).set_params(estimator=KNeighborsClassifier())
    for method in ("decision_function", "predict_proba"):
        assert hasattr(ours, method) == hasattr(ref, method)
    assert hasattr(ours, "decision_function")  # the fitted SVCs have one; a KNN has none


def test_gpu_ovo_svc_takes_gamma_from_all_of_x_as_sklearn(digits):
    """The GPU backend's one-vs-one SVC fixes ``gamma="scale"`` on the whole X before the pairs are cut, as
    one multiclass ``sklearn.svm.SVC`` does (an OvO of SVCs would compute it per pair): the reference is
    scikit-learn's OvO of SVCs (standing in for cuML's) given that gamma."""
    from gpuclf.backends.cuml_adapters import CumlClassifier, SVCOneVsOne

    X, y = digits[0][:300] / 16, digits[1][:300]
    ours = SVCOneVsOne(CumlClassifier(SVC())).fit(X, y)
    ref = skm.OneVsOneClassifier(SVC(gamma=1.0 / (X.shape[1] * X.var()))).fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X[:40]), ref.decision_function(X[:40]), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cls", [OneVsRestClassifier, OneVsOneClassifier])
def test_reductions_over_a_device_sgd_stay_on_the_device(cls, digits):
    """Device rows and labels: each binary model trains there, the scores and votes are counted there, and
    the predictions equal the host's."""
    import fake_cupy
    from gpuclf.estimators import SGDClassifier

    X, y = digits[0][:300] / 16, digits[1][:300] % 3
    want = cls(SGDClassifier(random_state=0)).fit(X, y)
    with fake_cupy.installed() as cp:
        got = cls(SGDClassifier(random_state=0)).fit(cp.asarray(X), cp.asarray(y))
        scores, pred = got.decision_function(cp.asarray(X[:40])), got.predict(cp.asarray(X[:40]))
        assert isinstance(scores, cp.ndarray) and isinstance(pred, cp.ndarray)
        np.testing.assert_allclose(scores.get(), want.decision_function(X[:40]), rtol=1e-9)
        assert pred.get().tolist() == want.predict(X[:40]).tolist()


@pytest.mark.parametrize("cls", [OneVsRestClassifier, OneVsOneClassifier])
def test_the_allow_nan_tag_says_whether_fit_takes_nan(cls, digits):
    """A base that takes NaN (HistGradientBoostingClassifier) makes the reduction take NaN, and its
    ``allow_nan`` tag says so (scikit-learn's check_estimator reads it); over SVC, NaN is refused and the tag
    is False. (scikit-learn 1.9's own reductions pass NaN to such a base but leave the tag False.)"""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.utils import get_tags

    X, y = digits[0][:120].copy(), digits[1][:120] % 3
    X[::7, 3] = np.nan
    for base, takes_nan in ((HistGradientBoostingClassifier(max_iter=5), True), (SVC(), False)):
        assert get_tags(cls(base)).input_tags.allow_nan is takes_nan
        if takes_nan:
            assert cls(base).fit(X, y).predict(X).shape == y.shape
        else:
            with pytest.raises(ValueError, match="NaN"):
                cls(base).fit(X, y)
