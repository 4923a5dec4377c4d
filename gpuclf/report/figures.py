"""What every figure of the report shares: digit mosaics, heatmaps, the :class:`Plot` record, PNG output.

Each plot is ``draw(arrays, steps, doc) -> Figure`` with an ``alt(...)``
text that says what the image shows. Plots are drawn on
``matplotlib.figure.Figure`` with the Agg canvas, never through pyplot, so
building a report changes no global matplotlib state of the caller. Sizes
are chosen for a page about 1,300 px wide at 100 dpi, so text is drawn at
about its nominal size in a 1,400-px browser window.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gpuclf.data.classes import class_name, detector, has_names

DPI = 100


def things(doc) -> str:
    return "images" if has_names(doc) else "digits"


CELL_FONT = 10


def digits(ax, images, per_row: int, labels=None, n_cells: int = 0) -> None:
    """Draw 28x28 digits as one mosaic image (fast, and the book's ``plot_digits``).

    ``n_cells`` pads the mosaic with blank cells, so grids holding fewer
    digits keep the same size and stay aligned with their neighbours.
    """
    images = np.asarray(images, dtype=float).reshape(-1, 28, 28)
    n_rows = max(1, -(-max(len(images), n_cells) // per_row))
    # Blank cells pad the last row; a one-pixel gap keeps neighbouring digits apart.
    mosaic = np.zeros((n_rows * 29 - 1, per_row * 29 - 1))
    for i, img in enumerate(images):
        r, c = divmod(i, per_row)
        mosaic[r * 29:r * 29 + 28, c * 29:c * 29 + 28] = img
    ax.imshow(mosaic, cmap="binary", interpolation="nearest")
    ax.set_axis_off()
    for i, label in enumerate([] if labels is None else labels):
        r, c = divmod(i, per_row)
        ax.text(c * 29 + 1, r * 29 + 1, str(label), color="tab:red", fontsize=9, va="top", ha="left")


def plain(v, _=None) -> str:
    """Tick labels as plain numbers with thousands separators (no ``1e6`` offset to miss)."""
    return f"{v:,.0f}" if abs(v) >= 10 or v == 0 else f"{v:,.2g}"


def percent(v: float) -> str:
    return f"{v:.0%}" if v >= 0.1 or v == 0 else f"{v:.1%}"


def heatmap(fig, ax, values, texts, row_labels, col_labels, title: str, colorbar_format=None,
             xlabel="Predicted label", ylabel="True label", font=CELL_FONT) -> None:
    """A labelled heatmap; white text on dark cells, dark text elsewhere, so every cell stays readable."""
    values = np.asarray(values, dtype=float)
    im = ax.imshow(values, cmap="Blues", interpolation="nearest", aspect="auto")
    fig.colorbar(im, ax=ax, fraction=0.046, format=colorbar_format)
    lo, hi = np.nanmin(values), np.nanmax(values)
    for (i, j), text in np.ndenumerate(np.asarray(texts, dtype=object)):
        if text:
            # The colour scale runs from lo to hi: cells in its darker 40% get white text.
            dark = hi > lo and (values[i, j] - lo) / (hi - lo) > 0.6
            ax.text(j, i, text, ha="center", va="center", fontsize=font, color="white" if dark else "black")
    ax.set(xticks=range(len(col_labels)), yticks=range(len(row_labels)), xlabel=xlabel, ylabel=ylabel, title=title)
    ax.set_xticklabels(col_labels)
    ax.set_yticklabels(row_labels)


def rates_panel(fig, ax, rates, title: str, skip_diagonal: bool, names) -> None:
    texts = [["" if (skip_diagonal and i == j) or v == 0 else percent(v) for j, v in enumerate(row)]
             for i, row in enumerate(rates)]
    heatmap(fig, ax, rates, texts, names, names, title, lambda v, _: percent(v), font=9)


def tick_names(doc, n: int) -> list[str]:
    """Tick labels of an n-class heatmap: the class names (long ones cut), else the digits."""
    return [name if len(name) <= 11 else name[:10] + "…" for name in (class_name(doc, i) for i in range(n))]


def rotate_x(ax, doc) -> None:
    if has_names(doc):  # names do not fit side by side under a 10-column heatmap
        for label in ax.get_xticklabels():
            label.set(rotation=40, ha="right")


def counts(steps, step):
    return np.asarray(steps[step]["confusion_matrix"], dtype=np.int64)


def confusion_figure(cm, doc, title: str, errors_only: bool = False) -> Figure:
    """Counts beside the share of each true class (errors only: the diagonal left out)."""
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    if errors_only:
        rates = rates.copy()
        np.fill_diagonal(rates, 0)
    names = tick_names(doc, len(cm))
    fig = Figure(figsize=(13, 5.8), layout="constrained")
    texts = [[f"{v:,}" for v in row] for row in cm]
    heatmap(fig, fig.add_subplot(1, 2, 1), cm, texts, names, names, "Counts",
             FuncFormatter(plain), font=9)
    rates_panel(fig, fig.add_subplot(1, 2, 2), rates, "Errors as % of each true class (rows)" if errors_only
                 else "% of each true class (rows sum to 100%)", errors_only, names)
    for ax in fig.axes[::2]:
        rotate_x(ax, doc)
    fig.suptitle(title)
    return fig


def error_pair_names(steps, doc) -> tuple[str, str]:
    """Names of the two classes the error analysis shows (the book's 3 and 5 by default)."""
    a, b = steps.get("error_analysis", {}).get("pair", (3, 5))
    return class_name(doc, a), class_name(doc, b)


@dataclass(frozen=True)
class Plot:
    """One figure of the report: the step it belongs to and what it needs."""

    name: str
    step: str
    needs: tuple
    draw: Callable
    alt: Callable
    caption: str

    def caption_for(self, steps: dict, doc: dict) -> str:
        """The caption with this run's class names (``{detector}``, ``{a}``, ``{b}``) filled in."""
        a, b = error_pair_names(steps, doc)
        return self.caption.format(detector=detector(doc), a=a, b=b)


def render_png(fig: Figure, label: str) -> bytes:
    """The figure as PNG bytes, with ``label`` (backend and data) in its bottom-right corner."""
    # Room below the constrained layout, so the stamp never overlaps an axis label.
    height = fig.get_figheight() + 0.22
    fig.set_figheight(height)
    fig.get_layout_engine().set(rect=(0, 0.22 / height, 1, 1 - 0.22 / height))
    fig.text(0.995, 0.004, label, ha="right", va="bottom", fontsize=8, color="0.35")
    buf = io.BytesIO()
    FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()
