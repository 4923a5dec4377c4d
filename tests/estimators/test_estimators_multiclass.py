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
