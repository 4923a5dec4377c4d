"""The chapter's exercises 1 and 2: a KNN tuned by grid search past 97%, then data augmentation by shifts."""
from __future__ import annotations

import numpy as np

from gpuclf.chapter.context import Context
from gpuclf.chapter.preconditions import digits_per_fold, needs, neighbors

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
    from gpuclf.kernels.preprocessing import BOOK_SHIFTS, augment_with_shifts

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
