"""The chapter as named steps: ``step(ctx) -> dict`` of JSON-able figures.

Steps ask the backend for estimators, cross-validation and metrics; they
never import scikit-learn, CuPy or cuML. Arrays live where the backend put
them (on the GPU for ``gpu``) from the first step to the last; only figures
and the few arrays the plots need come back to the host.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np

from .backends import Backend
from .data import MnistData
from .errors import GpuclfError
from .kernels.scoring import fold_accuracy
from .knn_plus import step_knn_plus
from .xp import get_namespace
from .preconditions import (KNN_NEIGHBORS, applies, check_needs, digit_classes, digits_per_fold, fives_and_others, needs,
                            neighbors, two_digits)


FULL_SGD_ROWS = 20_000


@dataclass
class RunConfig:
    """Options of one run; everything that changes a figure is here.

    Attributes
    ----------
    steps : list of str, optional
        Step ids to run (default: all, in chapter order).
    train_size, test_size : int, optional
        Use only the first rows (quick runs); default all.
    random_state : int
        Seed of every stochastic estimator and of the denoising noise.
    cv : int
        Folds of the chapter's cross-validations.
    thresholds : tuple of float
        Decision thresholds, in the SGD's own score units, at which the
        5-detector's precision/recall/F1 are also reported (default none:
        scores are on another scale per backend and per data size).
    precision_targets : tuple of float
        Precisions at which the 5-detector's tradeoff is reported: the
        lowest threshold reaching each, as the book finds its 90% point.
    score_quantiles : tuple of float
        Quantiles of the 5-detector's own scores used as thresholds (0.9:
        the top 10% of digits are called 5s), meaningful on every backend.
    n_estimators : int
        Trees in the random forest.
    svc_train_size, ovr_train_size, grid_train_size : int
        Training rows of the SVC, the one-vs-rest SVC and the KNN grid search (the book's slices).
    grid_cv : int
        Folds of the KNN grid search (the book's 5).
    positive_class : int
        The binary detector's label (the book's 5-detector: 5); ``--positive-class``
        may name a class, which the command line resolves to its label first.
    knn_plus_cv_rows, knn_plus_cv : int
        Training rows and folds of the ``knn_plus`` step's cross-validation
        (beyond the book; see :mod:`gpuclf.knn_plus`).
    sklearn_sgd_max_iter : int, optional
        Epoch cap of scikit-learn's SGD (the cpu backend). Default: its own
        1000 from ``FULL_SGD_ROWS`` training rows up, 100 below: on small sets
        raw-pixel SGD never meets scikit-learn's tolerance and would run all
        1000 epochs for the same accuracy.
    """

    steps: list[str] | None = None
    train_size: int | None = None
    test_size: int | None = None
    random_state: int = 42
    cv: int = 3
    thresholds: tuple[float, ...] = ()
    precision_targets: tuple[float, ...] = (0.80, 0.90, 0.95)
    score_quantiles: tuple[float, ...] = (0.80, 0.90, 0.95)
    n_estimators: int = 100
    svc_train_size: int = 2000
    ovr_train_size: int = 1000
    grid_train_size: int = 10_000
    grid_cv: int = 5
    sklearn_sgd_max_iter: int | None = None
    positive_class: int = 5
    knn_plus_cv_rows: int = 10_000
    knn_plus_cv: int = 3

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("thresholds", "precision_targets", "score_quantiles"):
            d[key] = list(d[key])
        return d


@dataclass
class Context:
    """What steps share: the backend, the data on its device, cached results.

    Attributes
    ----------
    results : dict
        Figures of steps already finished (also those loaded on resume).
    arrays : dict
        Host arrays of the current step, saved for the report's plots.
    on_progress : callable, optional
        Called with a short text at each stage of a long step (the runner's
        progress display).
    """

    backend: Backend
    data: MnistData
    config: RunConfig
    results: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    on_progress: Callable[[str], None] | None = None
    _memo: dict = field(default_factory=dict)

    def progress(self, stage: str) -> None:
        """Say what a long step is doing now (``"random forest, 3-fold CV"``); shown live on a terminal."""
        if self.on_progress is not None:
            self.on_progress(stage)

    def memo(self, key: str, compute):
        """Compute ``key`` once per run; later steps reuse it (stays on device)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # Data moves to the backend's device once and stays there.
    @property
    def X_train(self):
        return self.memo("X_train", lambda: self.backend.asarray(self.data.X_train, self.backend.feature_dtype))

    @property
    def X_test(self):
        return self.memo("X_test", lambda: self.backend.asarray(self.data.X_test, self.backend.feature_dtype))

    @property
    def y_train(self):
        return self.memo("y_train", lambda: self.backend.asarray(self.data.y_train))

    @property
    def y_test(self):
        return self.memo("y_test", lambda: self.backend.asarray(self.data.y_test))

    @property
    def y_train_positive(self):
        """The detector's target: ``y_train == positive_class`` (the book's ``y_train_5``)."""
        return self.memo("y_train_positive", lambda: self.y_train == self.config.positive_class)

    @property
    def detector(self) -> str:
        """``5-detector``, ``Sandal-detector``: what progress lines call the binary classifier."""
        return f"{self.data.class_name(self.config.positive_class)}-detector"

    def host(self, a) -> np.ndarray:
        return self.backend.to_host(a)

    def sgd(self):
        params = {"random_state": self.config.random_state}
        if self.backend.placement("sgd").library == "scikit-learn":
            cap = self.config.sklearn_sgd_max_iter
            params["max_iter"] = cap or (1000 if len(self.data.y_train) >= FULL_SGD_ROWS else 100)
        return self.backend.estimator("sgd", **params)


def _floats(a) -> list:
    return [float(v) for v in np.ravel(a)]


def step_data(ctx: Context) -> dict:
    """Sizes, class counts and the first digits."""
    ctx.arrays["digits"] = ctx.host(ctx.data.X_train[:100])
    ctx.arrays["digit_labels"] = ctx.data.y_train[:100]
    return ctx.data.summary()


@needs(fives_and_others(folds=False))
def step_binary_sgd(ctx: Context) -> dict:
    """Train the SGD 5-detector on the whole training set."""
    sgd = ctx.sgd().fit(ctx.X_train, ctx.y_train_positive)
    first = ctx.X_train[:10]
    return {
        "some_digit_label": int(ctx.data.y_train[0]),
        "some_digit_is_5": bool(ctx.host(sgd.predict(first[:1]))[0]),
        "first_labels": ctx.data.y_train[:10].tolist(),
        "first_predictions": [bool(v) for v in ctx.host(sgd.predict(first))],
        "first_scores": _floats(ctx.host(sgd.decision_function(first))),
    }


def _sgd5_scores(ctx: Context):
    """Out-of-fold decision scores of the 5-detector, shared by four steps.

    ``predict`` of a linear binary classifier is ``decision_function > 0``,
    so accuracy, confusion matrix and curves all come from these one set of
    fold models (what separate ``cross_val_score`` / ``cross_val_predict``
    calls with the same seed would train again).
    """
    if "sgd5_scores" not in ctx._memo:
        ctx.progress(f"SGD {ctx.detector}, {ctx.config.cv}-fold CV")
    return ctx.memo("sgd5_scores", lambda: ctx.backend.cross_val_predict(
        ctx.sgd(), ctx.X_train, ctx.y_train_positive, cv=ctx.config.cv, method="decision_function"))


def _sgd5_pr_curve(ctx: Context):
    """Precision, recall and thresholds of the 5-detector's scores (tradeoff and ROC steps share it)."""
    return ctx.memo("sgd5_pr_curve", lambda: ctx.backend.metrics.precision_recall_curve(
        ctx.y_train_positive, _sgd5_scores(ctx)))


def _binary_folds(ctx: Context):
    return ctx.memo("binary_folds", lambda: ctx.backend.test_folds(ctx.y_train_positive, ctx.config.cv))


@needs(fives_and_others(folds=True))
def step_binary_cv(ctx: Context) -> dict:
    """3-fold CV accuracy of the 5-detector and of the most-frequent baseline."""
    b, cv = ctx.backend, ctx.config.cv
    pred = _sgd5_scores(ctx) > 0
    dummy = b.estimator("dummy").fit(ctx.X_train, ctx.y_train_positive)
    return {
        "sgd_cv_accuracy": _floats(fold_accuracy(pred, ctx.y_train_positive, _binary_folds(ctx), cv)),
        "dummy_cv_accuracy": _floats(b.cross_val_score(b.estimator("dummy"), ctx.X_train, ctx.y_train_positive, cv=cv)),
        "dummy_predicts_any_5": bool(ctx.host(dummy.predict(ctx.X_train)).any()),
    }


def _prf(m, y_true, y_pred) -> dict:
    return {"precision": float(m.precision_score(y_true, y_pred)),
            "recall": float(m.recall_score(y_true, y_pred)),
            "f1": float(m.f1_score(y_true, y_pred))}


@needs(fives_and_others(folds=True))
def step_binary_metrics(ctx: Context) -> dict:
    """Confusion matrix, precision, recall and F1 of out-of-fold predictions."""
    m = ctx.backend.metrics
    pred = _sgd5_scores(ctx) > 0
    cm = ctx.host(m.confusion_matrix(ctx.y_train_positive, pred))
    return {"confusion_matrix": cm.astype(int).tolist(), **_prf(m, ctx.y_train_positive, pred)}


def _at_threshold(ctx: Context, scores, threshold: float, **label) -> dict:
    """Precision, recall and F1 of ``scores >= threshold``, after ``label``."""
    threshold = float(threshold)
    return {**label, "threshold": threshold, **_prf(ctx.backend.metrics, ctx.y_train_positive, scores >= threshold)}


def _at_precision(ctx: Context, scores, precisions, thresholds, target: float) -> dict:
    """The book's ``thresholds[(precisions >= target).argmax()]``, or why there is none.

    ``argmax`` of an all-False mask is 0, the lowest threshold, whose
    precision is the share of 5s; a target no threshold reaches is reported
    as such, with the best precision there is.
    """
    reached = precisions[:-1] >= target
    if not reached.any():
        return {"target": target, "reached": False, "best_precision": float(precisions[:-1].max())}
    return _at_threshold(ctx, scores, thresholds[int(np.argmax(reached))], target=target, reached=True)


@needs(fives_and_others(folds=True))
def step_binary_tradeoff(ctx: Context) -> dict:
    """Precision and recall at precision targets, at score quantiles and at asked thresholds.

    Targets and quantiles mean the same on every backend; absolute
    thresholds are in each SGD's own score units.
    """
    cfg = ctx.config
    scores = _sgd5_scores(ctx)
    precisions, recalls, thresholds = (ctx.host(a) for a in _sgd5_pr_curve(ctx))
    host_scores = ctx.host(scores)
    targets = [_at_precision(ctx, scores, precisions, thresholds, t) for t in cfg.precision_targets]
    at90 = _at_precision(ctx, scores, precisions, thresholds, 0.90)
    ctx.arrays.update(precisions=precisions, recalls=recalls, thresholds=thresholds)
    out = {
        "threshold_90_precision": at90.get("threshold"),
        "precision_at_90": at90.get("precision"),
        "recall_at_90": at90.get("recall"),
        "at_precision_targets": targets,
        "at_score_quantiles": [_at_threshold(ctx, scores, np.quantile(host_scores, q), quantile=q)
                               for q in cfg.score_quantiles],
        "score_range": [float(host_scores.min()), float(host_scores.max())],
    }
    if cfg.thresholds:
        out["at_thresholds"] = {f"{t:g}": _prf(ctx.backend.metrics, ctx.y_train_positive, scores >= t)
                                for t in cfg.thresholds}
    return out


@needs(fives_and_others(folds=True))
def step_binary_roc(ctx: Context) -> dict:
    """ROC curve and AUC of the SGD, and the random forest's from ``predict_proba``."""
    b, m, y5, cfg = ctx.backend, ctx.backend.metrics, ctx.y_train_positive, ctx.config
    scores = _sgd5_scores(ctx)
    fpr, tpr, _ = m.roc_curve(y5, scores)
    ctx.progress(f"random forest ({cfg.n_estimators} trees), {cfg.cv}-fold CV")
    forest = b.estimator("forest", n_estimators=cfg.n_estimators, random_state=cfg.random_state)
    proba = b.cross_val_predict(forest, ctx.X_train, y5, cv=cfg.cv, method="predict_proba")[:, 1]
    f_fpr, f_tpr, _ = m.roc_curve(y5, proba)
    f_prec, f_rec, _ = m.precision_recall_curve(y5, proba)
    s_prec, s_rec, s_thr = _sgd5_pr_curve(ctx)
    at90 = _at_precision(ctx, scores, ctx.host(s_prec), ctx.host(s_thr), 0.90)
    ctx.arrays.update(fpr=ctx.host(fpr), tpr=ctx.host(tpr), forest_fpr=ctx.host(f_fpr),
                      forest_tpr=ctx.host(f_tpr), forest_precisions=ctx.host(f_prec),
                      forest_recalls=ctx.host(f_rec), sgd_precisions=ctx.host(s_prec),
                      sgd_recalls=ctx.host(s_rec))
    forest_prf = _prf(m, y5, proba >= 0.5)
    if at90["reached"]:
        # The book's point on the ROC curve: false and true positive rates at 90% precision.
        negatives = ~y5
        at90["fpr"] = float(((scores >= at90["threshold"]) & negatives).sum()) / float(negatives.sum())
    return {
        "sgd_at_90_precision": {k: at90.get(k) for k in ("reached", "threshold", "fpr", "precision", "recall")},
        "sgd_auc": float(m.roc_auc_score(y5, scores)),
        "forest_auc": float(m.roc_auc_score(y5, proba)),
        "forest_precision": forest_prf["precision"],
        "forest_recall": forest_prf["recall"],
        "forest_f1": forest_prf["f1"],
        "placement_forest": b.placement("forest").to_dict(),
    }


def _scaled_train(ctx: Context):
    return ctx.memo("X_train_scaled", lambda: ctx.backend.estimator("scaler").fit_transform(
        ctx.X_train.astype(ctx.backend.xp.float64 if ctx.backend.feature_dtype is None else ctx.backend.feature_dtype)))


def _scaled_sgd_pred(ctx: Context):
    if "sgd_scaled_pred" not in ctx._memo:
        ctx.progress(f"SGD on scaled pixels, {ctx.config.cv}-fold CV")
    return ctx.memo("sgd_scaled_pred", lambda: ctx.backend.cross_val_predict(
        ctx.sgd(), _scaled_train(ctx), ctx.y_train, cv=ctx.config.cv))


@needs(two_digits("svc_train_size"), two_digits("ovr_train_size"), digits_per_fold("cv"))
def step_multiclass(ctx: Context) -> dict:
    """SVC (one-vs-one), one-vs-rest SVC, and SGD raw and scaled."""
    b, m, cfg = ctx.backend, ctx.backend.metrics, ctx.config
    X, y, X_test, y_test = ctx.X_train, ctx.y_train, ctx.X_test, ctx.y_test
    n_svc, n_ovr = min(cfg.svc_train_size, len(y)), min(cfg.ovr_train_size, len(y))
    ctx.progress(f"SVC (one-vs-one) on {n_svc:,} rows")
    svc = b.estimator("svc", random_state=cfg.random_state).fit(X[:n_svc], y[:n_svc])
    ctx.progress(f"one-vs-rest SVC on {n_ovr:,} rows")
    ovr = b.estimator("ovr_svc", random_state=cfg.random_state).fit(X[:n_ovr], y[:n_ovr])
    ctx.progress("SGD, 10 classes")
    sgd = ctx.sgd().fit(X, y)
    folds = ctx.memo("multiclass_folds", lambda: b.test_folds(y, cfg.cv))
    ctx.progress(f"SGD on raw pixels, {cfg.cv}-fold CV")
    raw_cv = _floats(b.cross_val_score(ctx.sgd(), X, y, cv=cfg.cv))
    return {
        "svc_some_digit": int(ctx.host(svc.predict(X[:1]))[0]),
        "svc_some_digit_scores": [round(v, 2) for v in _floats(ctx.host(svc.decision_function(X[:1])))],
        "svc_test_accuracy": float(m.accuracy_score(y_test, svc.predict(X_test))),
        "ovr_n_estimators": len(ovr.estimators_),
        "ovr_some_digit": int(ctx.host(ovr.predict(X[:1]))[0]),
        "ovr_test_accuracy": float(m.accuracy_score(y_test, ovr.predict(X_test))),
        "sgd_some_digit": int(ctx.host(sgd.predict(X[:1]))[0]),
        "sgd_cv_accuracy": raw_cv,
        "sgd_scaled_cv_accuracy": _floats(fold_accuracy(_scaled_sgd_pred(ctx), y, folds, cfg.cv)),
        "placement_svc": b.placement("svc").to_dict(),
        "placement_ovr_svc": b.placement("ovr_svc").to_dict(),
    }


@needs(two_digits(), digits_per_fold("cv"))
def step_error_analysis(ctx: Context) -> dict:
    """Confusion matrix of the scaled SGD, row-normalised errors, most confused pairs."""
    m, y = ctx.backend.metrics, ctx.y_train
    pred = _scaled_sgd_pred(ctx)
    cm = ctx.host(m.confusion_matrix(y, pred)).astype(np.int64)
    errors, pairs = most_confused(cm)
    a, b = error_pair(ctx.config.positive_class, errors, digits=ctx.data.class_names is None)
    y_host, p_host = ctx.data.y_train, ctx.host(pred)
    for (t, p), key in zip(((a, a), (a, b), (b, a), (b, b)), ERROR_PAIR_KEYS):
        ctx.arrays[key] = _image_rows(ctx, np.flatnonzero((y_host == t) & (p_host == p))[:25])
    ctx.arrays.update(confusion_matrix=cm, error_rates=errors)
    return {"confusion_matrix": cm.tolist(), "error_rates": np.round(errors, 4).tolist(),
            "most_confused": pairs, "pair": [a, b]}


def most_confused(cm: np.ndarray, n: int = 5) -> tuple[np.ndarray, list]:
    """Row-normalised error rates (diagonal zeroed) of a confusion matrix and its ``n`` largest, as dicts."""
    errors = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    np.fill_diagonal(errors, 0.0)
    order = np.argsort(errors, axis=None, kind="stable")[::-1][:n]
    pairs = [{"true": int(i), "predicted": int(j), "rate": float(errors[i, j]), "count": int(cm[i, j])}
             for i, j in zip(*np.unravel_index(order, errors.shape))]
    return errors, pairs


def _image_rows(ctx: Context, rows: np.ndarray) -> np.ndarray:
    """Training images ``rows`` (host indices) on the host, wherever the data was read to."""
    X = ctx.data.X_train
    return ctx.host(X[get_namespace(X).asarray(rows)])


#: Arrays of the error-analysis images: a as a, a as b, b as a, b as b.
ERROR_PAIR_KEYS = ("images_aa", "images_ab", "images_ba", "images_bb")


def error_pair(positive_class: int, errors: np.ndarray, digits: bool = True) -> tuple[int, int]:
    """The two classes whose mix-ups the error analysis shows.

    The book's 3 and 5 for the 5-detector on digits; otherwise the positive
    class and the class it is most often taken for (the largest off-diagonal
    rate of its row; the lowest label on ties).
    """
    if digits and positive_class == 5 and errors.shape[0] > 5:
        return 3, 5
    row = errors[positive_class].copy()
    row[positive_class] = -1.0
    return int(positive_class), int(np.argmax(row))


@applies(digit_classes("its two labels, 'large' (7, 8 or 9) and 'odd',"))
@needs(neighbors(KNN_NEIGHBORS, folds_of="cv"))
def step_multilabel(ctx: Context) -> dict:
    """KNN on two labels (>= 7, odd); F1 from 3-fold CV predictions."""
    b, m, xp, y = ctx.backend, ctx.backend.metrics, ctx.backend.xp, ctx.y_train
    y_multi = xp.stack([y >= 7, y % 2 == 1], axis=1)
    knn = b.estimator("knn").fit(ctx.X_train, y_multi)
    ctx.progress(f"KNN, {ctx.config.cv}-fold CV")
    pred = b.cross_val_predict(b.estimator("knn"), ctx.X_train, y_multi, cv=ctx.config.cv)
    return {
        "some_digit_prediction": [bool(v) for v in ctx.host(knn.predict(ctx.X_train[:1]))[0]],
        "f1_macro": float(m.f1_score(y_multi, pred, average="macro")),
        "f1_weighted": float(m.f1_score(y_multi, pred, average="weighted")),
    }


@needs(neighbors(KNN_NEIGHBORS))
def step_denoise(ctx: Context) -> dict:
    """Add noise ``randint(0, 100)``; KNN predicts the 784 clean pixels.

    The noise is the book's: NumPy's legacy ``RandomState(42).randint`` on
    the host, for every backend, so cpu, numpy and gpu denoise the very same
    images. It crosses to the device as uint8 (values 0-99) beside the uint8
    images and the sum is formed there, in the feature dtype (exact: at most 354).
    """
    b = ctx.backend
    rng = np.random.RandomState(ctx.config.random_state)  # the book's np.random.seed(42)
    X_tr, X_te = ctx.data.X_train, ctx.data.X_test
    noise_tr = rng.randint(0, 100, X_tr.shape).astype(np.uint8)
    noise_te = rng.randint(0, 100, X_te.shape).astype(np.uint8)
    dtype = b.feature_dtype or np.int64  # the CPU backend keeps the book's integer images

    def noisy(X, noise):
        return b.asarray(X, dtype) + b.asarray(noise, dtype)

    # Targets are the 784 clean pixel values: KNN predicts each as its neighbours' mode.
    ctx.progress(f"KNN predicting {len(X_te):,} x 784 pixels")
    knn = b.estimator("knn").fit(noisy(X_tr, noise_tr), b.asarray(X_tr))
    noisy_te = noisy(X_te, noise_te)
    clean = knn.predict(noisy_te)
    X_te_dev = b.asarray(X_te, np.float64 if b.feature_dtype is None else b.feature_dtype)

    def rmse(a):
        return float(b.xp.sqrt(b.xp.mean((a.astype(X_te_dev.dtype) - X_te_dev) ** 2)))

    ctx.arrays.update(noisy=ctx.host(noisy_te[:5]), clean=ctx.host(X_te[:5]), denoised=ctx.host(clean[:5]))
    return {"rmse_noisy": rmse(noisy_te), "rmse_denoised": rmse(clean)}


PARAM_GRID = {"weights": ["uniform", "distance"], "n_neighbors": [3, 4, 5]}
BOOK_BEST_PARAMS = {"n_neighbors": 4, "weights": "distance"}


@needs(digits_per_fold("grid_cv", rows_of="grid_train_size"),
       neighbors(max(PARAM_GRID["n_neighbors"]), folds_of="grid_cv", rows_of="grid_train_size"))
def step_best_accuracy(ctx: Context) -> dict:
    """Grid search KNN (n_neighbors x weights), then test accuracy of the best."""
    b, m, cfg = ctx.backend, ctx.backend.metrics, ctx.config
    n = min(cfg.grid_train_size, len(ctx.data.y_train))
    ctx.progress(f"grid search, {len(PARAM_GRID['n_neighbors']) * len(PARAM_GRID['weights'])} settings x "
                 f"{cfg.grid_cv} folds on {n:,} rows")
    search = b.grid_search(b.estimator("knn"), PARAM_GRID, ctx.X_train[:n], ctx.y_train[:n], cv=cfg.grid_cv)
    ctx.progress("best KNN on the test set")
    best = search["best_estimator"].fit(ctx.X_train, ctx.y_train)
    return {
        "best_params": search["best_params"],
        "best_cv_score": search["best_score"],
        "grid": [{"params": p, "mean_cv_accuracy": s} for p, s in zip(search["params"], search["mean_test_score"])],
        "test_accuracy": float(m.accuracy_score(ctx.y_test, best.predict(ctx.X_test))),
    }


def step_augmentation(ctx: Context) -> dict:
    """Shift every training image one pixel four ways (x5 data), retrain the best KNN."""
    from .kernels.preprocessing import BOOK_SHIFTS, augment_with_shifts

    b, m = ctx.backend, ctx.backend.metrics
    params = ctx.results.get("best_accuracy", {}).get("best_params") or BOOK_BEST_PARAMS
    X_aug, y_aug = augment_with_shifts(ctx.X_train, ctx.y_train)
    n, k = len(ctx.data.y_train), min(3, len(ctx.data.y_train))
    # The first digits and their four shifts (blocks of n rows), for the report's figure.
    ctx.arrays["shifted"] = np.stack([ctx.host(X_aug[i * n:i * n + k]) for i in range(len(BOOK_SHIFTS) + 1)])
    ctx.progress(f"KNN on {len(y_aug):,} shifted and original images")
    knn = b.estimator("knn", **params).fit(X_aug, y_aug)
    accuracy = float(m.accuracy_score(ctx.y_test, knn.predict(ctx.X_test)))
    before = ctx.results.get("best_accuracy", {}).get("test_accuracy")
    out = {"params": params, "n_train_augmented": int(len(y_aug)), "test_accuracy": accuracy}
    if before is not None and before < 1:
        out["error_rate_drop"] = float((accuracy - before) / (1 - before))
    return out


STEPS = {
    "data": step_data,
    "binary_sgd": step_binary_sgd,
    "binary_cv": step_binary_cv,
    "binary_metrics": step_binary_metrics,
    "binary_tradeoff": step_binary_tradeoff,
    "binary_roc": step_binary_roc,
    "multiclass": step_multiclass,
    "error_analysis": step_error_analysis,
    "multilabel": step_multilabel,
    "denoise": step_denoise,
    "best_accuracy": step_best_accuracy,
    "augmentation": step_augmentation,
    "knn_plus": step_knn_plus,
}
#: Steps beyond the chapter: run only when ``--steps`` names them.
OPTIONAL_STEPS = ("knn_plus",)


def select_steps(names) -> list[str]:
    """Validate step names and return them in chapter order (none: every step but :data:`OPTIONAL_STEPS`).

    Raises
    ------
    GpuclfError
        For a name that is not a step.
    """
    if not names:
        return [s for s in STEPS if s not in OPTIONAL_STEPS]
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        raise GpuclfError(f"unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    return [s for s in STEPS if s in set(names)]


def check_preconditions(steps: list[str], data: MnistData, config: RunConfig) -> None:
    """Check, before any step runs, that ``data`` has what each of ``steps`` needs.

    Each step declares its needs beside it (``@needs(...)``, see
    :mod:`gpuclf.preconditions`); the check is on the host labels, the same on
    every backend.

    Raises
    ------
    GpuclfError
        Naming the first step the data falls short for, and what it lacks.
    """
    check_needs({s: STEPS[s] for s in steps}, data, config)


#: Estimator roles each step uses, for the per-step placement in the report.
STEP_ROLES = {
    "binary_sgd": ("sgd",), "binary_cv": ("sgd", "dummy"), "binary_metrics": ("sgd",),
    "binary_tradeoff": ("sgd",), "binary_roc": ("sgd", "forest"),
    "multiclass": ("svc", "ovr_svc", "sgd", "scaler"), "error_analysis": ("sgd", "scaler"),
    "multilabel": ("knn",), "denoise": ("knn",), "best_accuracy": ("knn",), "augmentation": ("knn",),
    "knn_plus": ("knn",),
}
