"""Training a binary classifier, and its performance measures: the 5-detector.

The SGD detector, its cross-validated accuracy beside the dummy baseline,
the confusion matrix, precision, recall and F1, the precision/recall
tradeoff, and the ROC curves against a random forest. Every figure of the
section comes from one set of out-of-fold decision scores.
"""
from __future__ import annotations

import numpy as np

from gpuclf.chapter.context import Context, floats
from gpuclf.chapter.preconditions import fives_and_others, needs
from gpuclf.kernels.scoring import fold_accuracy


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
        "first_scores": floats(ctx.host(sgd.decision_function(first))),
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
        "sgd_cv_accuracy": floats(fold_accuracy(pred, ctx.y_train_positive, _binary_folds(ctx), cv)),
        "dummy_cv_accuracy": floats(b.cross_val_score(b.estimator("dummy"), ctx.X_train, ctx.y_train_positive, cv=cv)),
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
