"""The multiclass step's SGD parts: raw pixels, then standardised.

``multiclass:sgd_cv`` is the step's SGD fit on the whole training set plus
its 3-fold ``cross_val_score``; ``multiclass:sgd_scaled_cv`` is the scaler
plus the 3-fold out-of-fold predictions that ``multiclass`` and
``error_analysis`` share (``ctx._memo["sgd_scaled_pred"]``, cleared each round).
``error_analysis`` itself adds only a confusion matrix and is not timed.
"""
from statistics import mean

from gpuclf.kernels.scoring import fold_accuracy
from gpuclf.chapter.multiclass import scaled_sgd_predictions as _scaled_sgd_pred


def _sgd_cv(ctx) -> dict:
    b, X, y = ctx.backend, ctx.X_train, ctx.y_train
    ctx.sgd().fit(X, y)
    return {"cv_accuracy": mean(float(s) for s in b.cross_val_score(ctx.sgd(), X, y, cv=ctx.config.cv))}


def _sgd_scaled_cv(ctx) -> dict:
    b, y, cv = ctx.backend, ctx.y_train, ctx.config.cv
    accuracy = fold_accuracy(_scaled_sgd_pred(ctx), y, b.test_folds(y, cv), cv)
    return {"cv_accuracy": mean(float(s) for s in accuracy)}


def test_sgd_cv(bench):
    bench.run("multiclass:sgd_cv", _sgd_cv, lambda r: r, roles=("sgd",))


def test_sgd_scaled_cv(bench):
    bench.run("multiclass:sgd_scaled_cv", _sgd_scaled_cv, lambda r: r, roles=("scaler", "sgd"))
