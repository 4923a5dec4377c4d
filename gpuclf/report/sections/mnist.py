"""The MNIST section of the report: the data's sizes and class counts, and the first digits."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gpuclf.data.classes import class_name, has_names
from gpuclf.report.figures import Plot, digits, things
from gpuclf.report.html_page import esc, table
from gpuclf.report.words import count, paragraph, pct


def _step_data(f, doc) -> str:
    train, test = f.get("train_class_counts", []), f.get("test_class_counts", [])
    rows = [[class_name(doc, d), count(a), pct(a / max(sum(train), 1), 1), count(b),
             pct(b / max(sum(test), 1), 1)] for d, (a, b) in enumerate(zip(train, test))]
    return paragraph(f"Each image is a 28 × 28 grey-scale {'picture' if has_names(doc) else 'digit'}, flattened to {f.get('n_features', 784)} pixel "
              "intensities from 0 (white) to 255 (black).",
              f"This run uses <b>{esc(f.get('source'))}</b>: {count(f.get('n_train'))} training and "
              f"{count(f.get('n_test'))} test images (the book: {60_000:,} and {10_000:,}).") \
        + table(["Class" if has_names(doc) else "Digit", "Training images", "share", "Test images", "share"], rows)


def plot_digit_grid(arrays, steps, doc) -> Figure:
    fig = Figure(figsize=(8, 8.4), layout="constrained")
    ax = fig.add_subplot()
    digits(ax, arrays["digits"], 10, arrays.get("digit_labels") if not has_names(doc) else None)
    ax.set_title(f"The first {len(arrays['digits'])} training {things(doc)}"
                 + ("" if has_names(doc) else " (label in red)"))
    return fig


def alt_digit_grid(arrays, steps, doc) -> str:
    labels = ", ".join(class_name(doc, v) for v in np.asarray(arrays.get("digit_labels", []))[:10])
    return (f"A grid of the first {len(arrays['digits'])} training {things(doc)}"
            + ("" if has_names(doc) else ", each with its label in red") + f"; the first row's labels are {labels}.")


HTML = {"data": _step_data}
PLOTS = (
    Plot("digits.png", "data", ("digits",), plot_digit_grid, alt_digit_grid, "The first training digits."),
)
