"""The exercises' section of the report: the KNN grid search and the shifted training set."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gpuclf.data.classes import is_book_task
from gpuclf.report.figures import Plot, heatmap
from gpuclf.report.html_page import esc, table
from gpuclf.report.words import change, count, paragraph, pct


def _step_best_accuracy(f, doc) -> str:
    cfg = doc.get("config", {})
    n = min(cfg.get("grid_train_size", 10_000), doc.get("n_train", 0))
    best = f.get("best_params", {})
    rows = [[str(g["params"]["n_neighbors"]), g["params"]["weights"], pct(g["mean_cv_accuracy"]),
             "best" if g["params"] == best else ""] for g in f.get("grid", [])]
    return paragraph(f"A grid search tries every n_neighbors × weights on the first {n:,} training images with "
              f"{cfg.get('grid_cv', 5)}-fold cross-validation, keeps the best (n_neighbors="
              f"{best.get('n_neighbors')}, weights={esc(best.get('weights'))}, {pct(f.get('best_cv_score'))}), "
              f"retrains it on the whole training set and scores it on the test set: "
              f"<b>{pct(f.get('test_accuracy'))}</b>{' (the book: 97.14%)' if is_book_task(doc) else ''}.") \
        + table(["n_neighbors", "weights", "Mean CV accuracy", ""], rows, left=2)


def _step_augmentation(f, doc) -> str:
    before = doc.get("steps", {}).get("best_accuracy", {}).get("test_accuracy")
    after = f.get("test_accuracy")
    drop_text = "" if before is None or after is None else \
        f" Against the KNN trained without them, the test error rate {change(100 * (1 - before), 100 * (1 - after), lambda v: f'{v:.2f}%')}."
    return paragraph(f"Every training image is shifted by one pixel left, right, up and down, giving "
              f"{count(f.get('n_train_augmented'))} training images; the best KNN "
              f"({esc(', '.join(f'{k}={v}' for k, v in f.get('params', {}).items()))}) trained on them scores "
              f"<b>{pct(f.get('test_accuracy'))}</b> on the test set"
              f"{' (the book: 97.63%)' if is_book_task(doc) else ''}.{drop_text}")


def _grid(steps):
    grid = steps["best_accuracy"]["grid"]
    ks = sorted({g["params"]["n_neighbors"] for g in grid})
    weights = list(dict.fromkeys(g["params"]["weights"] for g in grid))
    scores = np.full((len(ks), len(weights)), np.nan)
    for g in grid:
        scores[ks.index(g["params"]["n_neighbors"]), weights.index(g["params"]["weights"])] = g["mean_cv_accuracy"]
    return ks, weights, scores


def plot_grid_search(arrays, steps, doc) -> Figure:
    ks, weights, scores = _grid(steps)
    best = steps["best_accuracy"].get("best_params", {})
    texts = [[f"{v:.2%}" + (" (best)" if best == {"n_neighbors": k, "weights": w} else "")
              for w, v in zip(weights, row)] for k, row in zip(ks, scores)]
    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.add_subplot()
    heatmap(fig, ax, scores, texts, ks, weights, "KNN grid search: mean CV accuracy",
             lambda v, _: f"{v:.1%}", xlabel="weights", ylabel="n_neighbors", font=11)
    return fig


def alt_grid_search(arrays, steps, doc) -> str:
    ks, weights, scores = _grid(steps)
    cells = "; ".join(f"{k} neighbours, {w}: {scores[i, j]:.2%}" for i, k in enumerate(ks)
                      for j, w in enumerate(weights))
    return f"Heatmap of the grid search's mean cross-validated accuracy, n_neighbors in rows, weights in columns: {cells}."


SHIFT_NAMES = ("original", "left", "right", "down", "up")


def plot_shifted(arrays, steps, doc) -> Figure:
    shifted = np.asarray(arrays["shifted"], dtype=float)  # (5 versions, k digits, 784)
    versions, k = shifted.shape[:2]
    fig = Figure(figsize=(1.6 * versions + 1, 1.7 * k + 0.6), layout="constrained")
    for d in range(k):
        for v in range(versions):
            ax = fig.add_subplot(k, versions, d * versions + v + 1)
            ax.imshow(shifted[v, d].reshape(28, 28), cmap="binary", interpolation="nearest")
            ax.set(xticks=[], yticks=[])
            if d == 0:
                ax.set_title(SHIFT_NAMES[v] if v < len(SHIFT_NAMES) else f"shift {v}")
    fig.suptitle("Data augmentation: each training digit shifted by one pixel four ways")
    return fig


def alt_shifted(arrays, steps, doc) -> str:
    k = np.asarray(arrays["shifted"]).shape[1]
    return (f"The first {k} training digits, each as the original and shifted one pixel left, right, down and "
            "up: the four copies the augmented training set adds.")


HTML = {"best_accuracy": _step_best_accuracy, "augmentation": _step_augmentation}
PLOTS = (
    Plot("grid_search.png", "best_accuracy", (), plot_grid_search, alt_grid_search,
         "Mean cross-validated accuracy of each KNN setting."),
    Plot("shifted.png", "augmentation", ("shifted",), plot_shifted, alt_shifted,
         "Training digits and their one-pixel shifts."),
)
