"""Every step of the chapter, figure by figure, against scikit-learn computed here (issue 17).

The cpu backend is the reference: each step's figures must be what the
book's own scikit-learn calls give on the same offline sample. Steps whose
figures come from scores or predictions (metrics, tradeoff, error
analysis) are also fed scores through the context's memo, so they are
checked on every backend without training anything. These tests are the
ones ``tools/mutation.py --module workflow`` runs against workflow.py.
"""
from __future__ import annotations

import dataclasses
import numpy as np
import pytest
from scipy.ndimage import shift as nd_shift
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, precision_recall_curve, precision_score,
                             recall_score, roc_auc_score, roc_curve)
from sklearn.model_selection import GridSearchCV, cross_val_predict, cross_val_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

import gpuclf
from gpuclf.errors import GpuclfError
from gpuclf.chapter import Context, FULL_SGD_ROWS, OPTIONAL_STEPS, RunConfig, STEPS, select_steps
from gpuclf.chapter.binary import (step_binary_cv, step_binary_metrics, step_binary_roc, step_binary_sgd,
                                   step_binary_tradeoff)
from gpuclf.chapter.denoise import step_denoise
from gpuclf.chapter.error_analysis import ERROR_PAIR_KEYS, error_pair, step_error_analysis
from gpuclf.chapter.exercises import BOOK_BEST_PARAMS, PARAM_GRID, step_augmentation, step_best_accuracy
from gpuclf.chapter.mnist import step_data
from gpuclf.chapter.multiclass import step_multiclass
from gpuclf.chapter.multilabel import step_multilabel

import fake_cupy
from conftest import backend_params

pytestmark = [pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
              # the denoising KNN's targets are pixel values: scikit-learn calls that "a regression problem"
              pytest.mark.filterwarnings("ignore:The number of unique classes:UserWarning")]


@pytest.fixture(scope="module")
def data():
    return gpuclf.load_mnist("sample").subsample(600, 150)


def _ctx(data, backend="cpu", **config):
    ctx = Context(gpuclf.get_backend(backend), data, RunConfig(**config))
    ctx.stages = []
    ctx.on_progress = ctx.stages.append
    return ctx


def _sgd(**kw):
    # What the cpu backend trains below FULL_SGD_ROWS rows: the book's SGD with 100 epochs.
    return SGDClassifier(random_state=42, max_iter=100, **kw)


def _scores(data, seed=0):
    """Scores that rank 5s higher, with ties and both signs (what an SGD's decision_function looks like)."""
    rng = np.random.default_rng(seed)
    y5 = data.y_train == 5
    return np.round(rng.normal(size=len(y5)) * 3 + 4 * y5 - 2, 1)


def _prf(y, pred):
    return {"precision": precision_score(y, pred), "recall": recall_score(y, pred), "f1": f1_score(y, pred)}


def test_step_data(data):
    ctx = _ctx(data)
    got = step_data(ctx)
    assert got == data.summary()
    assert got["n_train"] == 600 and got["n_test"] == 150 and got["n_features"] == 784
    assert got["train_class_counts"] == np.bincount(data.y_train, minlength=10).tolist()
    np.testing.assert_array_equal(ctx.arrays["digits"], data.X_train[:100])
    np.testing.assert_array_equal(ctx.arrays["digit_labels"], data.y_train[:100])


@pytest.mark.parametrize("n_rows, cap, expected", [(600, None, 100), (FULL_SGD_ROWS - 1, None, 100),
                                                    (FULL_SGD_ROWS, None, 1000), (600, 7, 7), (FULL_SGD_ROWS, 3, 3)])
def test_sklearn_sgd_epochs(n_rows, cap, expected):
    """scikit-learn's own 1000 epochs from FULL_SGD_ROWS rows up, 100 below, or the asked cap."""
    data = gpuclf.load_mnist("sample")
    rows = np.resize(np.arange(len(data.y_train)), n_rows)
    big = dataclasses.replace(data, X_train=data.X_train[rows], y_train=data.y_train[rows])
    sgd = Context(gpuclf.get_backend("cpu"), big, RunConfig(random_state=7, sklearn_sgd_max_iter=cap)).sgd()
    assert isinstance(sgd, SGDClassifier)
    assert sgd.get_params()["max_iter"] == expected and sgd.get_params()["random_state"] == 7


def test_gpuclf_sgd_keeps_its_own_epochs(data):
    """The epoch cap is scikit-learn's alone: gpuclf's SGD keeps its own defaults, seeded by the run."""
    backend = gpuclf.get_backend("numpy")
    sgd = Context(backend, data, RunConfig(sklearn_sgd_max_iter=7)).sgd()
    assert sgd.get_params() == backend.estimator("sgd", random_state=42).get_params()
    assert sgd.get_params()["max_iter"] != 7


def test_detector_and_positive_labels(data):
    ctx = _ctx(data, positive_class=3)
    assert ctx.detector == "3-detector"
    np.testing.assert_array_equal(ctx.y_train_positive, data.y_train == 3)
    assert ctx.y_train_positive is ctx.y_train_positive  # computed once, reused by every step


def test_step_binary_sgd(data):
    ctx = _ctx(data)
    got = step_binary_sgd(ctx)
    y5 = data.y_train == 5
    sk = _sgd().fit(data.X_train, y5)
    first = data.X_train[:10]
    assert got["some_digit_label"] == int(data.y_train[0])
    assert got["some_digit_is_5"] == bool(sk.predict(first[:1])[0])
    assert got["first_labels"] == data.y_train[:10].tolist()
    assert got["first_predictions"] == sk.predict(first).tolist()
    np.testing.assert_allclose(got["first_scores"], sk.decision_function(first), rtol=1e-12)


def test_step_binary_cv(data):
    ctx = _ctx(data)
    got = step_binary_cv(ctx)
    y5 = data.y_train == 5
    np.testing.assert_allclose(got["sgd_cv_accuracy"], cross_val_score(_sgd(), data.X_train, y5, cv=3), rtol=0)
    np.testing.assert_allclose(got["dummy_cv_accuracy"],
                               cross_val_score(DummyClassifier(), data.X_train, y5, cv=3), rtol=0)
    assert got["dummy_predicts_any_5"] is False
    assert ctx.stages == ["SGD 5-detector, 3-fold CV"]


def test_dummy_predicts_the_majority_even_when_it_is_the_positive_class(data):
    ctx = _ctx(data, positive_class=5)
    ctx._memo["y_train_positive"] = ~(data.y_train == 5)  # "5" is now the majority
    ctx._memo["sgd5_scores"] = _scores(data)
    assert step_binary_cv(ctx)["dummy_predicts_any_5"] is True


@pytest.mark.parametrize("backend_name", backend_params())
def test_step_binary_metrics(data, backend_name):
    ctx = _ctx(data, backend_name)
    scores = _scores(data)
    ctx._memo["sgd5_scores"] = ctx.backend.asarray(scores)
    got = step_binary_metrics(ctx)
    y5, pred = data.y_train == 5, scores > 0
    assert got["confusion_matrix"] == confusion_matrix(y5, pred).tolist()
    for key, value in _prf(y5, pred).items():
        assert got[key] == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("backend_name", backend_params())
def test_step_binary_tradeoff(data, backend_name):
    ctx = _ctx(data, backend_name, precision_targets=(0.5, 0.9, 1.5), score_quantiles=(0.5, 0.9),
               thresholds=(-1.5, 0, 2))
    scores = _scores(data)
    ctx._memo["sgd5_scores"] = ctx.backend.asarray(scores)
    got = step_binary_tradeoff(ctx)
    y5 = data.y_train == 5
    precisions, recalls, thresholds = precision_recall_curve(y5, scores)
    for name, value in zip(("precisions", "recalls", "thresholds"), (precisions, recalls, thresholds)):
        np.testing.assert_allclose(ctx.arrays[name], value, rtol=1e-12)

    def at(t):
        return {"threshold": float(t), **_prf(y5, scores >= t)}

    # The book: threshold_90_precision = thresholds[(precisions >= 0.90).argmax()]
    t90 = thresholds[(precisions >= 0.90).argmax()]
    assert got["threshold_90_precision"] == pytest.approx(t90)
    assert got["precision_at_90"] == pytest.approx(precision_score(y5, scores >= t90))
    assert got["recall_at_90"] == pytest.approx(recall_score(y5, scores >= t90))
    first, ninety, unreachable = got["at_precision_targets"]
    assert first == pytest.approx({"target": 0.5, "reached": True, **at(thresholds[(precisions >= 0.5).argmax()])})
    assert ninety == pytest.approx({"target": 0.9, "reached": True, **at(t90)})
    assert unreachable == pytest.approx({"target": 1.5, "reached": False, "best_precision": precisions[:-1].max()})
    # One approx per row: pytest 9's approx refuses nested structures (a list of dicts).
    assert got["at_score_quantiles"] == [pytest.approx({"quantile": q, **at(np.quantile(scores, q))})
                                         for q in (0.5, 0.9)]
    assert got["score_range"] == [scores.min(), scores.max()]
    assert list(got["at_thresholds"]) == ["-1.5", "0", "2"]
    for key, t in zip(got["at_thresholds"], (-1.5, 0.0, 2.0)):
        assert got["at_thresholds"][key] == pytest.approx(_prf(y5, scores >= t))


def test_tradeoff_without_thresholds_or_a_reachable_90(data):
    ctx = _ctx(data)
    y5 = data.y_train == 5
    # Scores that never separate: precision never reaches 90%.
    scores = np.where(np.arange(len(y5)) % 2 == 0, 1.0, -1.0)
    ctx._memo["sgd5_scores"] = scores
    got = step_binary_tradeoff(ctx)
    assert "at_thresholds" not in got
    assert got["threshold_90_precision"] is None and got["precision_at_90"] is None and got["recall_at_90"] is None
    assert [t["reached"] for t in got["at_precision_targets"]] == [False, False, False]
    assert got["at_precision_targets"][0]["best_precision"] == pytest.approx(
        precision_recall_curve(y5, scores)[0][:-1].max())


def test_step_binary_roc(data):
    ctx = _ctx(data, n_estimators=5)
    scores = _sgd5_cv_scores(data)
    got = step_binary_roc(ctx)
    y5 = data.y_train == 5
    forest = RandomForestClassifier(n_estimators=5, random_state=42)
    proba = cross_val_predict(forest, data.X_train, y5, cv=3, method="predict_proba")[:, 1]
    assert got["sgd_auc"] == pytest.approx(roc_auc_score(y5, scores), rel=1e-12)
    assert got["forest_auc"] == pytest.approx(roc_auc_score(y5, proba), rel=1e-12)
    forest_prf = _prf(y5, proba >= 0.5)
    assert (got["forest_precision"], got["forest_recall"], got["forest_f1"]) == pytest.approx(
        (forest_prf["precision"], forest_prf["recall"], forest_prf["f1"]))
    expected_arrays = {"fpr": roc_curve(y5, scores)[0], "tpr": roc_curve(y5, scores)[1],
                       "forest_fpr": roc_curve(y5, proba)[0], "forest_tpr": roc_curve(y5, proba)[1],
                       "forest_precisions": precision_recall_curve(y5, proba)[0],
                       "forest_recalls": precision_recall_curve(y5, proba)[1],
                       "sgd_precisions": precision_recall_curve(y5, scores)[0],
                       "sgd_recalls": precision_recall_curve(y5, scores)[1]}
    assert set(expected_arrays) <= set(ctx.arrays)
    for name, value in expected_arrays.items():
        np.testing.assert_allclose(ctx.arrays[name], value, rtol=1e-12, err_msg=name)
    precisions, recalls, thresholds = precision_recall_curve(y5, scores)
    t90 = thresholds[(precisions >= 0.90).argmax()]
    assert got["sgd_at_90_precision"] == pytest.approx({
        "reached": True, "threshold": t90, "fpr": ((scores >= t90) & ~y5).sum() / (~y5).sum(),
        "precision": precision_score(y5, scores >= t90), "recall": recall_score(y5, scores >= t90)})
    assert got["sgd_at_90_precision"]["fpr"] > 0
    assert got["placement_forest"] == ctx.backend.placement("forest").to_dict()
    assert ctx.stages == ["SGD 5-detector, 3-fold CV", "random forest (5 trees), 3-fold CV"]


def _sgd5_cv_scores(data):
    return cross_val_predict(_sgd(), data.X_train, data.y_train == 5, cv=3, method="decision_function")


def test_roc_90_point_when_no_threshold_reaches_it(data):
    ctx = _ctx(data, n_estimators=2)
    ctx._memo["sgd5_scores"] = np.where(np.arange(len(data.y_train)) % 2 == 0, 1.0, -1.0)
    got = step_binary_roc(ctx)["sgd_at_90_precision"]
    assert got == {"reached": False, "threshold": None, "fpr": None, "precision": None, "recall": None}


def test_step_multiclass(data):
    ctx = _ctx(data, svc_train_size=300, ovr_train_size=200)
    got = step_multiclass(ctx)
    X, y, X_test, y_test = data.X_train, data.y_train, data.X_test, data.y_test
    svc = SVC(random_state=42).fit(X[:300], y[:300])
    ovr = OneVsRestClassifier(SVC(random_state=42)).fit(X[:200], y[:200])
    assert got["svc_some_digit"] == int(svc.predict(X[:1])[0])
    assert got["svc_some_digit_scores"] == [round(float(v), 2) for v in svc.decision_function(X[:1])[0]]
    assert got["svc_test_accuracy"] == pytest.approx(accuracy_score(y_test, svc.predict(X_test)))
    assert got["ovr_n_estimators"] == 10
    assert got["ovr_some_digit"] == int(ovr.predict(X[:1])[0])
    assert got["ovr_test_accuracy"] == pytest.approx(accuracy_score(y_test, ovr.predict(X_test)))
    assert got["sgd_some_digit"] == int(_sgd().fit(X, y).predict(X[:1])[0])
    np.testing.assert_allclose(got["sgd_cv_accuracy"], cross_val_score(_sgd(), X, y, cv=3), rtol=0)
    X_scaled = StandardScaler().fit_transform(X.astype(np.float64))
    np.testing.assert_allclose(got["sgd_scaled_cv_accuracy"], cross_val_score(_sgd(), X_scaled, y, cv=3), rtol=0)
    placement = ctx.backend.placement("svc").to_dict()
    assert got["placement_svc"] == placement and got["placement_ovr_svc"] == placement
    assert ctx.stages == ["SVC (one-vs-one) on 300 rows", "one-vs-rest SVC on 200 rows", "SGD, 10 classes",
                          "SGD on raw pixels, 3-fold CV", "SGD on scaled pixels, 3-fold CV"]


def test_multiclass_slices_are_capped_by_the_training_rows(data):
    small = data.subsample(120, 30)
    ctx = _ctx(small, svc_train_size=10_000, ovr_train_size=5_000)
    step_multiclass(ctx)
    assert ctx.stages[:2] == ["SVC (one-vs-one) on 120 rows", "one-vs-rest SVC on 120 rows"]


@pytest.mark.parametrize("backend_name", backend_params())
def test_error_analysis_pair_and_images(data, backend_name):
    y = data.y_train
    pred = np.where(np.arange(len(y)) % 4 == 0, (y + 2) % 10, y).astype(y.dtype)
    pred[(y == 3) & (np.arange(len(y)) % 3 == 1)] = 5
    pred[(y == 5) & (np.arange(len(y)) % 3 == 1)] = 3
    ctx = _ctx(data, backend_name)
    ctx._memo["sgd_scaled_pred"] = ctx.backend.asarray(pred)
    got = step_error_analysis(ctx)
    assert got["pair"] == [3, 5]
    for (t, p), key in zip(((3, 3), (3, 5), (5, 3), (5, 5)), ERROR_PAIR_KEYS):
        rows = np.flatnonzero((y == t) & (pred == p))[:25]
        assert len(rows) > 0
        np.testing.assert_array_equal(ctx.arrays[key], data.X_train[rows], err_msg=key)
    np.testing.assert_array_equal(ctx.arrays["confusion_matrix"], confusion_matrix(y, pred))
    expected = confusion_matrix(y, pred, normalize="true")
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(ctx.arrays["error_rates"], expected, rtol=1e-12)
    assert ctx.arrays["confusion_matrix"].dtype == np.int64


def test_error_analysis_of_another_positive_class_shows_what_it_is_taken_for(data):
    y = data.y_train
    pred = y.copy()
    pred[(y == 4) & (np.arange(len(y)) % 2 == 0)] = 9
    ctx = _ctx(data, positive_class=4)
    ctx._memo["sgd_scaled_pred"] = pred
    assert step_error_analysis(ctx)["pair"] == [4, 9]


def test_most_confused_rates_a_class_of_one_image_by_that_image():
    """Rates are per true class: a class with one image, taken for another, has an error rate of 1 (not 1/2);
    the diagonal counts no error; the largest rates come first with their counts."""
    from gpuclf.chapter.error_analysis import most_confused

    cm = np.array([[0, 1, 0], [0, 6, 2], [1, 0, 3]])
    errors, pairs = most_confused(cm, n=2)
    np.testing.assert_allclose(errors, [[0, 1, 0], [0, 0, 0.25], [0.25, 0, 0]])
    assert pairs[0] == {"true": 0, "predicted": 1, "rate": 1.0, "count": 1}
    assert {(p["true"], p["predicted"]) for p in pairs[1:]} <= {(1, 2), (2, 0)}


def test_error_pair():
    errors = np.zeros((10, 10))
    errors[5, 8] = 0.3
    errors[5, 5] = 0.9  # a diagonal value never counts
    assert error_pair(5, errors) == (3, 5)  # the book's pair on digits
    assert error_pair(5, errors, digits=False) == (5, 8)
    errors[2, 7] = errors[2, 4] = 0.2
    errors[2, 2] = 0.5
    assert error_pair(2, errors) == (2, 4)  # ties: the lowest label
    small = np.zeros((5, 5))
    small[4, 1] = 0.1
    assert error_pair(4, small) == (4, 1)
    five = np.zeros((6, 6))
    five[5, 2] = 0.1
    assert error_pair(5, five) == (3, 5)
    five_only = np.zeros((5, 5))
    assert error_pair(0, five_only) == (0, 1)  # nothing confused: the first other class


def test_step_multilabel(data):
    small = data.subsample(300, 50)
    ctx = _ctx(small)
    got = step_multilabel(ctx)
    X, y = small.X_train, small.y_train
    y_multi = np.c_[y >= 7, y % 2 == 1]
    knn = KNeighborsClassifier().fit(X, y_multi)
    assert got["some_digit_prediction"] == knn.predict(X[:1])[0].astype(bool).tolist()
    pred = cross_val_predict(KNeighborsClassifier(), X, y_multi, cv=3)
    assert got["f1_macro"] == pytest.approx(f1_score(y_multi, pred, average="macro"), rel=1e-12)
    assert got["f1_weighted"] == pytest.approx(f1_score(y_multi, pred, average="weighted"), rel=1e-12)
    assert got["f1_macro"] != pytest.approx(got["f1_weighted"])
    assert ctx.stages == ["KNN, 3-fold CV"]


@pytest.mark.parametrize("backend_name", backend_params())
def test_step_denoise(data, backend_name):
    small = data.subsample(200, 20)
    ctx = _ctx(small, backend_name, random_state=3)
    got = step_denoise(ctx)
    rng = np.random.RandomState(3)
    X_tr, X_te = small.X_train, small.X_test
    noisy_tr = X_tr + rng.randint(0, 100, X_tr.shape)
    noisy_te = X_te + rng.randint(0, 100, X_te.shape)
    clean = KNeighborsClassifier().fit(noisy_tr, X_tr).predict(noisy_te)
    assert got["rmse_noisy"] == pytest.approx(np.sqrt(np.mean((noisy_te - X_te.astype(float)) ** 2)), rel=1e-6)
    assert got["rmse_denoised"] == pytest.approx(np.sqrt(np.mean((clean - X_te.astype(float)) ** 2)), rel=1e-6)
    np.testing.assert_array_equal(ctx.arrays["noisy"], noisy_te[:5])
    np.testing.assert_array_equal(ctx.arrays["clean"], X_te[:5])
    np.testing.assert_array_equal(ctx.arrays["denoised"], clean[:5])
    assert ctx.stages == ["KNN predicting 20 x 784 pixels"]


def test_step_best_accuracy(data):
    ctx = _ctx(data, grid_train_size=300, grid_cv=3)
    got = step_best_accuracy(ctx)
    X, y = data.X_train, data.y_train
    search = GridSearchCV(KNeighborsClassifier(), PARAM_GRID, cv=3).fit(X[:300], y[:300])
    assert got["best_params"] == search.best_params_
    assert got["best_cv_score"] == pytest.approx(search.best_score_)
    assert got["grid"] == [{"params": p, "mean_cv_accuracy": pytest.approx(s)}
                           for p, s in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"])]
    best = KNeighborsClassifier(**search.best_params_).fit(X, y)  # refit on all training rows
    assert got["test_accuracy"] == pytest.approx(accuracy_score(data.y_test, best.predict(data.X_test)))
    assert ctx.stages == ["grid search, 6 settings x 3 folds on 300 rows", "best KNN on the test set"]


def _book_augmented(X, y):
    """The book's exercise: shift(image, [dy, dx], cval=0) for each of the four one-pixel moves."""
    moved = [np.array([nd_shift(im.reshape(28, 28), [dy, dx], cval=0, mode="constant").ravel() for im in X])
             for dx, dy in ((-1, 0), (1, 0), (0, 1), (0, -1))]
    return np.concatenate([X, *moved]), np.concatenate([y] * 5)


@pytest.mark.parametrize("before, params", [(None, None), (0.8, {"n_neighbors": 3, "weights": "uniform"}),
                                            (1.0, {"n_neighbors": 5, "weights": "distance"})])
def test_step_augmentation(data, before, params):
    small = data.subsample(150, 40)
    ctx = _ctx(small)
    if before is not None:
        ctx.results["best_accuracy"] = {"best_params": params, "test_accuracy": before}
    got = step_augmentation(ctx)
    used = params or BOOK_BEST_PARAMS
    X_aug, y_aug = _book_augmented(small.X_train, small.y_train)
    accuracy = accuracy_score(small.y_test, KNeighborsClassifier(**used).fit(X_aug, y_aug).predict(small.X_test))
    assert got["params"] == used and got["n_train_augmented"] == 750
    assert got["test_accuracy"] == pytest.approx(accuracy)
    if before is None or before == 1.0:
        assert "error_rate_drop" not in got
    else:
        assert got["error_rate_drop"] == pytest.approx((accuracy - before) / (1 - before))
    assert ctx.arrays["shifted"].shape == (5, 3, 784)
    np.testing.assert_array_equal(ctx.arrays["shifted"], X_aug.reshape(5, 150, 784)[:, :3])
    assert ctx.stages == ["KNN on 750 shifted and original images"]


def test_augmentation_of_fewer_than_three_images(data):
    tiny = data.subsample(2, 10)
    ctx = _ctx(tiny)
    got = step_augmentation(ctx)
    assert got["n_train_augmented"] == 10 and ctx.arrays["shifted"].shape == (5, 2, 784)


def test_select_steps():
    assert select_steps(None) == [s for s in STEPS if s not in OPTIONAL_STEPS] == select_steps([])
    assert select_steps(["knn_plus"]) == ["knn_plus"]
    assert select_steps(["denoise", "data", "binary_cv"]) == ["data", "binary_cv", "denoise"]
    with pytest.raises(GpuclfError) as err:
        select_steps(["data", "nope", "nor_this"])
    assert str(err.value) == f"unknown step(s) nope, nor_this; choose from {', '.join(STEPS)}"


def test_run_config_to_dict_is_json_lists():
    d = RunConfig(thresholds=(1.0, -2.0)).to_dict()
    assert d["thresholds"] == [1.0, -2.0] and d["precision_targets"] == [0.8, 0.9, 0.95]
    assert d["score_quantiles"] == [0.8, 0.9, 0.95] and d["positive_class"] == 5 and d["steps"] is None
    assert RunConfig().grid_cv == 5 and RunConfig().cv == 3 and RunConfig().n_estimators == 100


def test_memo_computes_once(data):
    ctx = _ctx(data)
    calls = []
    assert ctx.memo("k", lambda: calls.append(1) or 41) == 41
    assert ctx.memo("k", lambda: calls.append(1) or 42) == 41
    assert calls == [1]


@pytest.mark.parametrize("backend_name, dtype", [("cpu", np.float64), ("numpy", np.float32)])
def test_scaled_pixels_are_standard_scaled_in_the_backend_s_float_type(data, backend_name, dtype):
    from gpuclf.chapter.multiclass import _scaled_train

    if backend_name not in backend_params():
        pytest.skip(f"{backend_name} backend not available")
    ctx = _ctx(data, backend_name)
    got = ctx.host(_scaled_train(ctx))
    assert got.dtype == dtype
    np.testing.assert_allclose(got, StandardScaler().fit_transform(data.X_train.astype(dtype)),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5 if dtype == np.float32 else 0)
    assert _scaled_train(ctx) is _scaled_train(ctx)


@pytest.mark.parametrize("backend_name", backend_params())
def test_data_moves_to_the_backend_once_in_its_feature_type(data, backend_name):
    ctx = _ctx(data, backend_name)
    expected = ctx.backend.feature_dtype or data.X_train.dtype
    assert ctx.X_train.dtype == expected and ctx.X_test.dtype == expected
    np.testing.assert_array_equal(ctx.host(ctx.X_test), data.X_test)
    np.testing.assert_array_equal(ctx.host(ctx.y_test), data.y_test)
    np.testing.assert_array_equal(ctx.host(ctx.y_train), data.y_train)
    assert ctx.X_train is ctx.X_train and ctx.y_test is ctx.y_test


@pytest.mark.parametrize("params", [{"n_neighbors": 3, "weights": "uniform"}, None])
def test_augmentation_trains_the_best_params(data, params):
    ctx = _ctx(data.subsample(60, 10))
    if params:
        ctx.results["best_accuracy"] = {"best_params": params, "test_accuracy": 0.5}
    made = []
    real = ctx.backend.estimator
    ctx.backend.estimator = lambda role, **kw: made.append(real(role, **kw)) or made[-1]
    step_augmentation(ctx)
    expected = params or BOOK_BEST_PARAMS
    assert {k: made[-1].get_params()[k] for k in expected} == expected


def test_cv_folds_are_the_configured_number(data):
    """cv=4 everywhere the chapter cross-validates: the 5-detector and the scaled multiclass SGD."""
    ctx = _ctx(data, cv=4)
    got = step_binary_cv(ctx)
    y5 = data.y_train == 5
    np.testing.assert_allclose(got["sgd_cv_accuracy"], cross_val_score(_sgd(), data.X_train, y5, cv=4), rtol=0)
    assert len(got["dummy_cv_accuracy"]) == 4
    from gpuclf.chapter.multiclass import scaled_sgd_predictions as _scaled_sgd_pred

    X_scaled = StandardScaler().fit_transform(data.X_train.astype(np.float64))
    np.testing.assert_array_equal(_scaled_sgd_pred(ctx), cross_val_predict(_sgd(), X_scaled, data.y_train, cv=4))
    assert ctx.stages == ["SGD 5-detector, 4-fold CV", "SGD on scaled pixels, 4-fold CV"]


def test_each_long_stage_is_announced_once(data):
    """Steps share the scaled SGD's predictions: the second step neither retrains nor announces it again."""
    ctx = _ctx(data.subsample(300, 50), svc_train_size=100, ovr_train_size=100)
    step_multiclass(ctx)
    step_error_analysis(ctx)
    assert ctx.stages.count("SGD on scaled pixels, 3-fold CV") == 1
    ctx._memo["sgd5_scores"] = _scores(data.subsample(300, 50))
    step_binary_metrics(ctx)
    step_binary_tradeoff(ctx)
    assert not any("5-detector" in s for s in ctx.stages)


def test_error_images_come_from_data_left_on_the_device(data):
    """Data read by cuDF stays on the GPU: the error analysis gathers its images there, then copies them."""
    from gpuclf.chapter.error_analysis import _image_rows

    with fake_cupy.installed() as cp:
        on_device = dataclasses.replace(data, X_train=cp.asarray(data.X_train))
        ctx = Context(gpuclf.get_backend("numpy"), on_device, RunConfig())
        ctx.host = lambda a: a.get() if isinstance(a, cp.ndarray) else np.asarray(a)
        got = _image_rows(ctx, np.array([3, 1, 4]))
    np.testing.assert_array_equal(got, data.X_train[[3, 1, 4]])


def test_a_run_whose_sgd_library_is_not_recorded_is_held_to_the_parity_tolerances():
    """``book_tolerance(h, None)``: a results.json that does not say which library ran its SGD (older runs) is
    held to each family's parity tolerance, the SGD rates included, not shown as differing by design."""
    from gpuclf.chapter.published import FIGURE_FAMILIES, HEADLINES, TOLERANCES, book_tolerance

    rates = [h for h in HEADLINES if FIGURE_FAMILIES[h.key] == "sgd_rate"]
    assert rates
    for h in rates:
        assert book_tolerance(h, None) is TOLERANCES["sgd_rate"]
        assert not book_tolerance(h, "gpuclf").comparable


def test_figures_default_to_one_sgd_and_one_missing_value_is_not_compared():
    """``applied_tolerance``'s default is one SGD library (the family's own tolerance, not "differs by
    design"); ``verdict`` compares nothing where either value is missing."""
    from gpuclf.chapter.published import BY_DESIGN, TOLERANCES, applied_tolerance, verdict

    assert applied_tolerance("sgd_rate", full_mnist=True) is TOLERANCES["sgd_rate"]
    same = TOLERANCES["identical"]
    assert verdict(None, 0.5, same) == verdict(0.5, None, same) == "not compared"
    assert verdict(0.5, 0.5, same) == "identical"
    assert verdict(None, 0.5, TOLERANCES["sgd_rate"]) == BY_DESIGN  # a missing rate: its reason shown


def test_scale_factor_is_how_many_times_larger_and_none_where_it_cannot_be():
    """``scale_factor(ours, reference, key)``: ``ours[key] / reference[key]``; None where either is missing
    (or None) or the reference is 0."""
    from gpuclf.chapter.sgd_sweep import scale_factor

    assert scale_factor({"s": 6}, {"s": 2}, "s") == 3.0 and isinstance(scale_factor({"s": 6}, {"s": 2}, "s"), float)
    assert scale_factor({"s": 6}, {"s": 1}, "s") == 6.0
    assert scale_factor({"s": -1.5}, {"s": 0.5}, "s") == -3.0
    for ours, reference in [({}, {"s": 2}), ({"s": 6}, {}), ({"s": None}, {"s": 2}), ({"s": 6}, {"s": None}),
                            ({"s": 6}, {"s": 0}), ({None: 6}, {"s": 2}), ({"s": 6}, {None: 2})]:
        assert scale_factor(ours, reference, "s") is None, (ours, reference)


def test_verdict_leaves_a_hair_of_slack_and_listings_read_as_english():
    """A difference exactly at the tolerance, or a float hair above it (0.1 + 0.2 - 0.2), is within it; a
    listing joins two items with "and", three with commas and "and"."""
    from gpuclf.chapter.published import Tolerance, _listing, verdict

    assert verdict(0.75, 0.5, Tolerance("0.25", abs=0.25)) == "within tolerance"
    assert verdict(0.1 + 0.2, 0.2, Tolerance("0.1", abs=0.1)) == "within tolerance"
    assert verdict(0.3001, 0.2, Tolerance("0.1", abs=0.1)) == "outside tolerance"
    assert [_listing(items) for items in (["a"], ["a", "b"], ["a", "b", "c"])] == ["a", "a and b", "a, b and c"]


def test_the_books_setup_is_full_mnists_split_and_not_the_sample():
    """``is_book_setup``: 60,000 training and 10,000 test images of the book's task, read from anything but
    the bundled sample (a record without a source counts as the book's data); either size off, or the
    sample at those sizes, is not the book's setup."""
    from gpuclf.chapter.published import BOOK_N_TEST, BOOK_N_TRAIN, is_book_setup

    book = {"n_train": BOOK_N_TRAIN, "n_test": BOOK_N_TEST, "data_source": "openml:mnist_784", "positive_class": 5}
    assert is_book_setup(book)
    assert is_book_setup({k: v for k, v in book.items() if k != "data_source"})
    assert not is_book_setup({**book, "n_test": BOOK_N_TEST - 1})
    assert not is_book_setup({**book, "n_train": BOOK_N_TRAIN - 1})
    assert not is_book_setup({**book, "n_train": BOOK_N_TRAIN - 1, "n_test": BOOK_N_TEST - 1})
    assert not is_book_setup({**book, "data_source": "sample (bundled)"})
    assert is_book_setup({**book, "data_source": "npz:SAMPLE.npz"})  # only the bundled sample's name counts


def test_a_missing_or_empty_figure_has_no_difference():
    """``difference`` is None where either figure is missing or has no values (never NaN), and the
    difference of the means otherwise."""
    from gpuclf.chapter.published import difference

    for a, b in [(0.5, None), (None, 0.5), (None, None), ([], [0.5]), ([0.5], [])]:
        assert difference(a, b) is None, (a, b)
    assert difference([0.5, 0.7], [0.5]) == pytest.approx(0.1)


# -- the SGD sweep's point ------------------------------------------------------------------------------------
def _folds_of(y):
    """Test-fold id per sample under the chapter's ``StratifiedKFold(3)``."""
    from sklearn.model_selection import StratifiedKFold

    folds = np.empty(len(y), dtype=int)
    for k, (_, test) in enumerate(StratifiedKFold(3).split(np.zeros((len(y), 1)), y)):
        folds[test] = k
    return folds


def _sweep_reference(y5, scores):
    """The 5-detector's figures as the book computes them from out-of-fold ``scores``."""
    from sklearn.metrics import roc_auc_score

    pred, folds = scores > 0, _folds_of(y5)  # scikit-learn's predict: positive where the score is above 0
    precisions, _, thresholds = precision_recall_curve(y5, scores)
    reached = precisions[:-1] >= 0.90
    return {"n_train": len(y5), "cv_accuracy": [float(np.mean(pred[folds == k] == y5[folds == k])) for k in range(3)],
            "accuracy": float(np.mean(pred == y5)), "predicted_classes": len(np.unique(pred)),
            "median_abs_score": float(np.median(np.abs(scores))), "auc": float(roc_auc_score(y5, scores)),
            "threshold_90_precision": float(thresholds[reached.argmax()]) if reached.any() else None}


def _assert_same_figures(figures, expected):
    assert set(figures) == set(expected)
    for key, value in expected.items():
        assert figures[key] == (value if value is None else pytest.approx(value, rel=1e-12)), key


def test_sweep_point_is_the_books_5_detector_on_the_cpu_backend(data):
    """``sweep_point(cpu, ..., "5-detector")``: exactly the figures of scikit-learn's
    ``SGDClassifier(random_state=42)`` cross-validated on ``y == 5`` by ``StratifiedKFold(3)``, the threshold
    of 90% precision included, and no other keys."""
    from gpuclf.chapter.sgd_sweep import TASKS, sweep_point

    X, y = data.X_train[:300].astype(np.float64), data.y_train[:300]
    y5 = y == 5
    scores = cross_val_predict(SGDClassifier(random_state=42), X, y5, cv=3, method="decision_function")
    figures = sweep_point(gpuclf.get_backend("cpu"), X, y, TASKS[0])
    expected = _sweep_reference(y5, scores)
    assert expected["threshold_90_precision"] is not None  # these data reach 90% precision
    _assert_same_figures(figures, expected)


@pytest.mark.parametrize("reaches", [True, False])
def test_sweep_point_reads_scores_as_scikit_learns_predict(monkeypatch, reaches):
    """Out-of-fold scores of exactly 0 predict "not 5" and scores in (0, 1] predict "5", as
    ``LinearClassifierMixin.predict``'s ``scores > 0``; the threshold of 90% precision is the book's
    ``thresholds[(precisions >= 0.90).argmax()]``, or None when a "not 5" scores highest and no threshold
    reaches 90%."""
    from gpuclf.chapter.sgd_sweep import TASKS, sweep_point

    y = np.array([5, 1, 5, 2, 5, 3, 5, 4, 5, 6, 7, 8, 9, 0, 1, 2, 5, 3])
    y5 = y == 5
    # 5s at 0.5, 1.0 and 0.7 (above 0, not above 1); "not 5"s at exactly 0.0
    scores = np.array([0.5, 0.0, 1.0, 0.0, 0.7, -1.0, 4.0, -2.0, 3.5, -0.5, 0.0, -3.0, 2.0, -4.0, -1.5, 1.5,
                       3.0, -2.5])
    if not reaches:
        scores[11] = 9.0  # a "not 5" on top: precision never reaches 90%
    backend = gpuclf.get_backend("cpu")
    monkeypatch.setattr(backend, "cross_val_predict", lambda *args, **kwargs: scores.copy())
    figures = sweep_point(backend, np.zeros((len(y), 4)), y, TASKS[0])
    _assert_same_figures(figures, _sweep_reference(y5, scores))
    assert (figures["threshold_90_precision"] is None) is not reaches


def test_sweep_point_names_the_tasks_on_an_unknown_one():
    """An unknown task is refused with the tasks' names."""
    from gpuclf.chapter.sgd_sweep import sweep_point

    with pytest.raises(GpuclfError, match=r"^unknown sweep task '5-detektor'; choose one of 5-detector, "
                                          r"10-class scaled$"):
        sweep_point(gpuclf.get_backend("cpu"), np.zeros((6, 2)), np.zeros(6), "5-detektor")
