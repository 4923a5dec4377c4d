"""The multioutput section of the report: noisy, denoised and clean digits."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gpuclf.report.figures import Plot
from gpuclf.report.html_page import table
from gpuclf.report.words import better, change, paragraph


def _step_denoise(f, doc) -> str:
    noisy, clean = f.get("rmse_noisy"), f.get("rmse_denoised")
    worse = " The KNN's images are further from the clean ones than the noisy images were." \
        if better(noisy, clean) is False else ""
    return paragraph("Noise (random integers 0-99) is added to every pixel; a KNN predicts all 784 clean pixel "
              "values of each test image at once (multioutput classification).",
              f"The root-mean-square error against the clean images, in intensity levels of 255, "
              f"{change(noisy, clean)}.{worse}") \
        + table(["Images", "RMSE (pixel intensity, 0-255)"],
                [["noisy", f"{noisy:,.2f}"], ["KNN denoised", f"{clean:,.2f}"]])


def plot_denoise(arrays, steps, doc) -> Figure:
    rows = (("noisy", "Noisy"), ("denoised", "KNN denoised"), ("clean", "Clean (target)"))
    n = len(arrays["clean"])
    fig = Figure(figsize=(1.6 * n + 1, 5.2), layout="constrained")
    for r, (key, name) in enumerate(rows):
        for c, img in enumerate(arrays[key]):
            ax = fig.add_subplot(len(rows), n, r * n + c + 1)
            ax.imshow(np.asarray(img, dtype=float).reshape(28, 28), cmap="binary", interpolation="nearest")
            ax.set(xticks=[], yticks=[])
            if c == 0:
                ax.set_ylabel(name)
    fig.suptitle("Denoising test digits with a KNN (first test images)")
    return fig


def alt_denoise(arrays, steps, doc) -> str:
    return (f"Three rows of the first {len(arrays['clean'])} test digits: with random noise added, as the KNN "
            "cleaned them, and the clean originals.")


HTML = {"denoise": _step_denoise}
PLOTS = (
    Plot("denoise.png", "denoise", ("noisy", "clean", "denoised"), plot_denoise, alt_denoise,
         "Noisy, denoised and clean test digits."),
)
