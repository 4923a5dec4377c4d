"""Batched hinge-loss SGD (kernel and SGDClassifier) against scikit-learn on NumPy."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_blobs
from sklearn.linear_model import SGDClassifier as SkSGDClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from gpuclf.errors import GpuclfError
from gpuclf.estimators.linear import SGDClassifier, cross_val_decision_sgd
from gpuclf.kernels.linear import decision_function, fit_hinge_sgd

# scikit-learn 1.9.1, SGDClassifier(random_state=42), StratifiedKFold(3), real MNIST.
SKLEARN_5_ACCURACY = [0.95035, 0.96035, 0.9604]
SKLEARN_5_AUC = 0.9604938554008616
SKLEARN_SCALED_ACCURACY = [0.89835, 0.8902, 0.90095]  # on StandardScaler'd pixels


def _problem(n=240, d=6, m=4, seed=0):
    """Shared features, one noisy linear rule per model and random sample masks."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    Y = np.where(X @ rng.normal(size=(d, m)) + 0.3 * rng.normal(size=(n, m)) > 0, 1.0, -1.0)
    return X, Y, rng.random((n, m)) < 0.7


def _fold_ids(y, n_splits=3):
    folds = np.empty(len(y), dtype=np.int64)
    for k, (_, test) in enumerate(StratifiedKFold(n_splits).split(np.zeros(len(y)), y)):
        folds[test] = k
    return folds


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("average_after, sk_average", [(None, False), (0, True)])
def test_batch_of_one_is_sklearn_per_sample_sgd(average_after, sk_average):
    # One sample per batch leaves nothing stale, so the schedule must be
    # scikit-learn's exactly; it replays our epoch orders with shuffle=False.
    X, Y, _ = _problem(n=150, m=1)
    coef, intercept = fit_hinge_sgd(X, Y, np.ones_like(Y), batch_size=1, max_iter=2,
                                    average_after=average_after, random_state=3)
    rng = np.random.default_rng(3)
    order = np.concatenate([rng.permutation(150) for _ in range(2)])
    sk = SkSGDClassifier(shuffle=False, max_iter=1, tol=None, average=sk_average).fit(X[order], Y[order, 0])
    assert_allclose(coef[:, 0], sk.coef_[0], rtol=1e-10)
    assert_allclose(intercept, sk.intercept_, rtol=1e-10)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 1e-4)])
def test_batched_models_equal_models_trained_alone(dtype, rtol):
    X, Y, M = _problem()
    X = X.astype(dtype)
    coef, intercept = fit_hinge_sgd(X, Y, M, batch_size=32, max_iter=3)
    assert coef.dtype == dtype and intercept.dtype == dtype
    for j in range(Y.shape[1]):
        alone, alone_b = fit_hinge_sgd(X, Y[:, [j]], M[:, [j]], batch_size=32, max_iter=3)
        assert_allclose(coef[:, [j]], alone, rtol=rtol, atol=rtol * np.abs(alone).max())
        assert_allclose(intercept[[j]], alone_b, rtol=rtol)


def test_held_out_rows_have_no_influence():
    X, Y, M = _problem()
    held_out = ~M[:, 0]
    X2, Y2 = X.copy(), Y.copy()
    X2[held_out] = 100 * np.random.default_rng(1).normal(size=(held_out.sum(), X.shape[1]))
    Y2[held_out, 0] *= -1
    coef, intercept = fit_hinge_sgd(X, Y, M, batch_size=32)
    coef2, intercept2 = fit_hinge_sgd(X2, Y2, M, batch_size=32)
    assert_array_equal(coef2[:, 0], coef[:, 0])
    assert intercept2[0] == intercept[0]
    assert not np.allclose(coef2[:, 1:], coef[:, 1:])  # the other models did train on those rows


@pytest.mark.parametrize("n_classes", [2, 4])
def test_accuracy_comparable_to_sklearn(n_classes):
    X, y = make_blobs(n_samples=3000, centers=n_classes, n_features=10, cluster_std=3.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0, stratify=y)
    ours = SGDClassifier().fit(X_train, y_train).score(X_test, y_test)
    theirs = SkSGDClassifier(random_state=42).fit(X_train, y_train).score(X_test, y_test)
    assert ours >= theirs - 0.01


def test_multiclass_one_vs_rest_shapes_and_labels():
    X, y_idx = make_blobs(n_samples=300, centers=3, n_features=5, random_state=0)
    y = np.array(["emu", "cat", "dog"])[y_idx]
    model = SGDClassifier().fit(X, y)
    assert_array_equal(model.classes_, ["cat", "dog", "emu"])
    assert model.coef_.shape == (3, 5) and model.intercept_.shape == (3,)
    scores = model.decision_function(X)
    assert scores.shape == (300, 3)
    assert_array_equal(model.predict(X), model.classes_[scores.argmax(axis=1)])
    assert model.score(X, y) > 0.9


def test_binary_bool_labels_like_sklearn():
    X, y_idx = make_blobs(n_samples=300, centers=2, n_features=5, random_state=0)
    model = SGDClassifier().fit(X.astype(np.float32), y_idx == 1)
    assert_array_equal(model.classes_, [False, True])
    assert model.coef_.shape == (1, 5) and model.intercept_.shape == (1,)
    scores = model.decision_function(X)
    assert scores.shape == (300,)
    pred = model.predict(X)
    assert pred.dtype == bool
    assert_array_equal(pred, scores > 0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_cross_val_scores_come_from_the_fold_models(n_classes):
    X, y = make_blobs(n_samples=300, centers=n_classes, n_features=5, random_state=0)
    folds = _fold_ids(y)
    params = {"batch_size": 32, "max_iter": 3}
    scores = cross_val_decision_sgd(SGDClassifier(**params), X, y, folds)
    n_models = 1 if n_classes == 2 else n_classes
    assert scores.shape == ((300,) if n_classes == 2 else (300, n_classes))
    Y = np.where(y[:, None] == (np.arange(n_classes) if n_classes > 2 else 1), 1.0, -1.0)
    for k in range(3):
        train = np.repeat((folds != k)[:, None], n_models, axis=1)
        coef, intercept = fit_hinge_sgd(X, Y, train, **params)
        expected = decision_function(X[folds == k], coef, intercept)
        assert_allclose(scores[folds == k], expected.reshape(scores[folds == k].shape), rtol=1e-10)


def _with(X, row, col, value):
    X = X.copy()
    X[row, col] = value
    return X


@pytest.mark.parametrize("make_call, match", [
    (lambda X, y: SGDClassifier().fit(_with(X, 3, 1, np.nan), y), "NaN"),
    (lambda X, y: SGDClassifier().fit(_with(X, 0, 0, np.inf), y), "infinity"),
    (lambda X, y: SGDClassifier().fit(X, y).predict(X[:, :4]), "X has 4 features, but SGDClassifier is expecting 5"),
    (lambda X, y: SGDClassifier().fit(X, np.zeros_like(y)), "at least 2 classes"),
    (lambda X, y: SGDClassifier(batch_size=0).fit(X, y), "batch_size must be a positive integer"),
    (lambda X, y: cross_val_decision_sgd(SGDClassifier(), X, y, np.zeros(3, dtype=int)), "test_folds"),
    (lambda X, y: SGDClassifier().fit(X.astype(str), y), "SGDClassifier needs numeric X, got dtype <U"),
])
def test_bad_input_raises_gpuclf_error(make_call, match):
    X, y = make_blobs(n_samples=60, centers=2, n_features=5, random_state=0)
    with pytest.raises(GpuclfError, match=match):
        make_call(X, y)


def test_pixels_become_float32_and_cv_leaves_the_estimator_unfitted():
    """uint8 images train in float32 (the GPU's type), as the CV helper does, without fitting its argument."""
    X, y = make_blobs(n_samples=90, centers=3, n_features=6, random_state=0)
    pixels = np.clip(X * 20 + 128, 0, 255).astype(np.uint8)
    model = SGDClassifier().fit(pixels, y)
    assert model.coef_.dtype == np.float32 and model.n_features_in_ == 6
    template = SGDClassifier()
    scores = cross_val_decision_sgd(template, pixels, y, np.arange(90) % 3)
    assert scores.dtype == np.float32 and scores.shape == (90, 3)
    assert not hasattr(template, "n_features_in_")


# Every applicable check passes; scikit-learn itself skips check_array_api_input
# unless SCIPY_ARRAY_API is set (our CuPy support goes through get_namespace instead).
@parametrize_with_checks([SGDClassifier()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.realdata
def test_five_detector_reaches_sklearn_on_real_mnist(real_mnist):
    # On raw pixels scikit-learn's last per-sample iterate is noisy: with other
    # random_state values its fold-0 accuracy spans 0.9499-0.971. Our averaged
    # mini-batch weights are steadier and land near the top of that range, so
    # the check is "no worse than scikit-learn by more than 0.5 pp (AUC 0.005),
    # and not above its own seed-to-seed range".
    X = real_mnist.X_train.astype(np.float32)
    y5 = real_mnist.y_train == 5
    folds = _fold_ids(y5)
    scores = cross_val_decision_sgd(SGDClassifier(), X, y5, folds)
    accuracy = [np.mean((scores[folds == k] > 0) == y5[folds == k]) for k in range(3)]
    for ours, theirs in zip(accuracy, SKLEARN_5_ACCURACY):
        assert theirs - 0.005 <= ours <= 0.976
    assert SKLEARN_5_AUC - 0.005 <= roc_auc_score(y5, scores) <= 0.976


@pytest.mark.realdata
def test_scaled_multiclass_close_to_sklearn(real_mnist):
    # scikit-learn's folds differ by up to 1 pp among themselves, ours by less,
    # so the mean is held to 0.5 pp and each fold to 1 pp.
    X = StandardScaler().fit_transform(real_mnist.X_train.astype(np.float64)).astype(np.float32)
    y = real_mnist.y_train
    folds = _fold_ids(y)
    pred = cross_val_decision_sgd(SGDClassifier(), X, y, folds).argmax(axis=1)
    accuracy = [np.mean(pred[folds == k] == y[folds == k]) for k in range(3)]
    assert np.mean(accuracy) == pytest.approx(np.mean(SKLEARN_SCALED_ACCURACY), abs=0.005)
    assert_allclose(accuracy, SKLEARN_SCALED_ACCURACY, atol=0.01)
