"""Multioutput classification: a KNN removes noise from images, predicting all 784 clean pixels."""
from __future__ import annotations

import numpy as np

from gpuclf.chapter.context import Context
from gpuclf.chapter.preconditions import KNN_NEIGHBORS, needs, neighbors


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
