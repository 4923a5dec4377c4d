"""Denoising: KNN with 784 outputs (one per pixel) predicts clean digits from noisy ones."""
from gpuclf.chapter import STEPS


def test_denoise(bench):
    bench.run("denoise", STEPS["denoise"],
              lambda r: {"rmse_noisy": r["rmse_noisy"], "rmse_denoised": r["rmse_denoised"]})
