"""Multiclass classification: SVC (one-vs-one), one-vs-rest SVC, and SGD on raw and scaled pixels."""
from __future__ import annotations

from gpuclf.chapter.context import Context, floats
from gpuclf.chapter.preconditions import digits_per_fold, needs, two_digits
from gpuclf.kernels.scoring import fold_accuracy


def _scaled_train(ctx: Context):
    return ctx.memo("X_train_scaled", lambda: ctx.backend.estimator("scaler").fit_transform(
        ctx.X_train.astype(ctx.backend.xp.float64 if ctx.backend.feature_dtype is None else ctx.backend.feature_dtype)))


def scaled_sgd_predictions(ctx: Context):
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
    raw_cv = floats(b.cross_val_score(ctx.sgd(), X, y, cv=cfg.cv))
    return {
        "svc_some_digit": int(ctx.host(svc.predict(X[:1]))[0]),
        "svc_some_digit_scores": [round(v, 2) for v in floats(ctx.host(svc.decision_function(X[:1])))],
        "svc_test_accuracy": float(m.accuracy_score(y_test, svc.predict(X_test))),
        "ovr_n_estimators": len(ovr.estimators_),
        "ovr_some_digit": int(ctx.host(ovr.predict(X[:1]))[0]),
        "ovr_test_accuracy": float(m.accuracy_score(y_test, ovr.predict(X_test))),
        "sgd_some_digit": int(ctx.host(sgd.predict(X[:1]))[0]),
        "sgd_cv_accuracy": raw_cv,
        "sgd_scaled_cv_accuracy": floats(fold_accuracy(scaled_sgd_predictions(ctx), y, folds, cfg.cv)),
        "placement_svc": b.placement("svc").to_dict(),
        "placement_ovr_svc": b.placement("ovr_svc").to_dict(),
    }
