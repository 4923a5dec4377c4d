"""Multilabel classification: a KNN answers two questions per digit, 'large' (7, 8 or 9) and 'odd'."""
from __future__ import annotations

from gpuclf.chapter.context import Context
from gpuclf.chapter.preconditions import KNN_NEIGHBORS, applies, digit_classes, needs, neighbors


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
