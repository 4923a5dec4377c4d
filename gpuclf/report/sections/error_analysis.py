"""The error analysis section of the report: the confusion matrix, error rates and the confused pair."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gpuclf.chapter.error_analysis import ERROR_PAIR_KEYS
from gpuclf.data.classes import class_name
from gpuclf.report.figures import (
    Plot,
    confusion_figure,
    counts,
    digits,
    error_pair_names,
    rates_panel,
    rotate_x,
    tick_names,
)
from gpuclf.report.html_page import table
from gpuclf.report.words import count, paragraph, pct


def _step_error_analysis(f, doc) -> str:
    rows = [[class_name(doc, p["true"]), class_name(doc, p["predicted"]), count(p["count"]), pct(p["rate"])]
            for p in f.get("most_confused", [])]
    return paragraph("The scaled SGD's cross-validated predictions, class by class. The counts show where the model is "
              "right (the diagonal); dividing each row by its class size shows error rates that classes of "
              "different sizes can share; blanking the diagonal and normalising by row or by column shows "
              "which confusions dominate.") \
        + table(["True class", "Predicted as", "Images", "% of the true class"], rows, left=2)


def plot_confusion(arrays, steps, doc) -> Figure:
    cm = counts(steps, "error_analysis")
    return confusion_figure(cm, doc, f"Scaled SGD, {len(cm)} classes: cross-validated predictions on the training set")


def alt_confusion(arrays, steps, doc) -> str:
    cm = counts(steps, "error_analysis")
    return (f"Two {len(cm)}-by-{len(cm)} heatmaps of the multiclass confusion matrix, true class in rows, "
            f"predicted in columns: "
            f"raw counts (diagonal from {cm.diagonal().min():,} to {cm.diagonal().max():,}) and the same as a "
            f"share of each true class.")


def plot_errors(arrays, steps, doc) -> Figure:
    cm = counts(steps, "error_analysis").astype(float)
    by_row = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    by_col = cm / np.maximum(cm.sum(axis=0, keepdims=True), 1)
    np.fill_diagonal(by_row, 0)
    np.fill_diagonal(by_col, 0)
    names = tick_names(doc, len(cm))
    fig = Figure(figsize=(13, 5.8), layout="constrained")
    rates_panel(fig, fig.add_subplot(1, 2, 1), by_row, "Errors as % of each true class (rows)", True, names)
    rates_panel(fig, fig.add_subplot(1, 2, 2), by_col, "Errors as % of each predicted class (columns)", True, names)
    for ax in fig.axes[::2]:
        rotate_x(ax, doc)
    fig.suptitle("Errors only (diagonal left out), as in the book's error analysis")
    return fig


def alt_errors(arrays, steps, doc) -> str:
    pairs = steps["error_analysis"].get("most_confused", [])[:3]
    worst = "; ".join(f"{class_name(doc, p['true'])}s predicted as {class_name(doc, p['predicted'])} "
                      f"({p['rate']:.1%})" for p in pairs)
    return (f"Two 10-by-10 heatmaps of the errors only, normalised by true class (rows) and by predicted class "
            f"(columns); the most frequent errors are {worst}.")


def plot_errors_pair(arrays, steps, doc) -> Figure:
    a, b = error_pair_names(steps, doc)
    fig = Figure(figsize=(8, 8.4), layout="constrained")
    for k, ((t, p), key) in enumerate(zip(((a, a), (a, b), (b, a), (b, b)), ERROR_PAIR_KEYS)):
        ax = fig.add_subplot(2, 2, k + 1)
        images = arrays[key]
        digits(ax, images, 5, n_cells=25)
        if not len(images):
            ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"{t} classified as {p} ({len(images)} shown)", fontsize=11)
    fig.suptitle(f"{a} vs {b} errors: rows true class, columns predicted class")
    return fig


def alt_errors_pair(arrays, steps, doc) -> str:
    a, b = error_pair_names(steps, doc)
    n = [len(arrays[key]) for key in ERROR_PAIR_KEYS]
    return (f"Four blocks of {a} and {b} images: {n[0]} {a} classified as {a}, {n[1]} {a} classified as {b}, "
            f"{n[2]} {b} classified as {a} and {n[3]} {b} classified as {b}.")


HTML = {"error_analysis": _step_error_analysis}
PLOTS = (
    Plot("confusion_matrix.png", "error_analysis", (), plot_confusion, alt_confusion,
         "The multiclass confusion matrix, as counts and as shares of each true class."),
    Plot("errors.png", "error_analysis", (), plot_errors, alt_errors,
         "Errors only, normalised by row (true class) and by column (predicted class)."),
    Plot("errors_pair.png", "error_analysis", ERROR_PAIR_KEYS, plot_errors_pair, alt_errors_pair,
         "{a} and {b} images, correctly and wrongly classified."),
)
