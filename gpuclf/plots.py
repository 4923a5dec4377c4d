"""The chapter's figures, drawn from a run's ``results.json`` and plot arrays.

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

from .classes import class_name, detector, has_names, positive_name
from .workflow import ERROR_PAIR_KEYS

DPI = 100


def _things(doc) -> str:
    return "images" if has_names(doc) else "digits"

CELL_FONT = 10


def _digits(ax, images, per_row: int, labels=None, n_cells: int = 0) -> None:
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


def _plain(v, _=None) -> str:
    """Tick labels as plain numbers with thousands separators (no ``1e6`` offset to miss)."""
    return f"{v:,.0f}" if abs(v) >= 10 or v == 0 else f"{v:,.2g}"


def _percent(v: float) -> str:
    return f"{v:.0%}" if v >= 0.1 or v == 0 else f"{v:.1%}"


def _heatmap(fig, ax, values, texts, row_labels, col_labels, title: str, colorbar_format=None,
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


def _rates_panel(fig, ax, rates, title: str, skip_diagonal: bool, names) -> None:
    texts = [["" if (skip_diagonal and i == j) or v == 0 else _percent(v) for j, v in enumerate(row)]
             for i, row in enumerate(rates)]
    _heatmap(fig, ax, rates, texts, names, names, title, lambda v, _: _percent(v), font=9)


def _tick_names(doc, n: int) -> list[str]:
    """Tick labels of an n-class heatmap: the class names (long ones cut), else the digits."""
    return [name if len(name) <= 11 else name[:10] + "…" for name in (class_name(doc, i) for i in range(n))]


def _rotate_x(ax, doc) -> None:
    if has_names(doc):  # names do not fit side by side under a 10-column heatmap
        for label in ax.get_xticklabels():
            label.set(rotation=40, ha="right")


def _counts(steps, step):
    return np.asarray(steps[step]["confusion_matrix"], dtype=np.int64)


# -- the plots -----------------------------------------------------------------

def plot_digit_grid(arrays, steps, doc) -> Figure:
    fig = Figure(figsize=(8, 8.4), layout="constrained")
    ax = fig.add_subplot()
    _digits(ax, arrays["digits"], 10, arrays.get("digit_labels") if not has_names(doc) else None)
    ax.set_title(f"The first {len(arrays['digits'])} training {_things(doc)}"
                 + ("" if has_names(doc) else " (label in red)"))
    return fig


def alt_digit_grid(arrays, steps, doc) -> str:
    labels = ", ".join(class_name(doc, v) for v in np.asarray(arrays.get("digit_labels", []))[:10])
    return (f"A grid of the first {len(arrays['digits'])} training {_things(doc)}"
            + ("" if has_names(doc) else ", each with its label in red") + f"; the first row's labels are {labels}.")


def plot_binary_confusion(arrays, steps, doc) -> Figure:
    cm = _counts(steps, "binary_metrics")
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    texts = [[f"{cm[i, j]:,}\n({rates[i, j]:.1%} of row)" for j in range(2)] for i in range(2)]
    fig = Figure(figsize=(6.5, 4.6), layout="constrained")
    ax = fig.add_subplot()
    pos = positive_name(doc)
    _heatmap(fig, ax, cm, texts, [f"not {pos}", pos], [f"not {pos}", pos],
             f"{detector(doc)}: out-of-fold predictions", FuncFormatter(_plain), font=12)
    return fig


def alt_binary_confusion(arrays, steps, doc) -> str:
    (tn, fp), (fn, tp) = _counts(steps, "binary_metrics").tolist()
    pos = positive_name(doc)
    return (f"A two-by-two heatmap, true class in rows and prediction in columns: {tn:,} non-{pos}s correctly "
            f"rejected, {fp:,} non-{pos}s taken for {pos}s, {fn:,} {pos}s missed and {tp:,} {pos}s found.")


def _target_points(steps):
    """The reached precision targets of the tradeoff step: (target, threshold, precision, recall)."""
    rows = steps.get("binary_tradeoff", {}).get("at_precision_targets", [])
    return [(r["target"], r["threshold"], r["precision"], r["recall"]) for r in rows if r.get("reached")]


def plot_precision_recall_vs_threshold(arrays, steps, doc) -> Figure:
    fig = Figure(figsize=(10, 5), layout="constrained")
    ax = fig.add_subplot()
    t, p, r = arrays["thresholds"], arrays["precisions"][:-1], arrays["recalls"][:-1]
    ax.plot(t, p, "b--", lw=2, label="Precision")
    ax.plot(t, r, "g-", lw=2, label="Recall")
    for (target, thr, prec, rec), style in zip(_target_points(steps), (":", "-.", (0, (1, 4)))):
        ax.axvline(thr, color="k", ls=style, lw=1.2,
                   label=f"{target:.0%} precision: threshold {thr:,.0f}, recall {rec:.1%}")
        ax.plot([thr, thr], [prec, rec], "ko", ms=5)
    ax.xaxis.set_major_formatter(FuncFormatter(_plain))
    ax.set(xlabel="Decision threshold (SGD score, in this backend's units)", ylabel="Precision or recall",
           ylim=(0, 1.02), title=f"{detector(doc)}: precision and recall against the decision threshold")
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", fontsize=9)
    return fig


def alt_precision_recall_vs_threshold(arrays, steps, doc) -> str:
    t = arrays["thresholds"]
    points = "; ".join(f"{target:.0%} precision at threshold {thr:,.0f} with recall {rec:.1%}"
                       for target, thr, _, rec in _target_points(steps)) or "no precision target is reached"
    return (f"Line chart: precision (dashed) rises and recall (solid) falls as the threshold goes from "
            f"{t.min():,.0f} to {t.max():,.0f}; dotted lines mark {points}.")


def plot_precision_vs_recall(arrays, steps, doc) -> Figure:
    fig = Figure(figsize=(6.5, 5.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(arrays["sgd_recalls"], arrays["sgd_precisions"], "b-", lw=2, label="SGD")
    ax.plot(arrays["forest_recalls"], arrays["forest_precisions"], "g-", lw=2, label="Random forest")
    at90 = steps.get("binary_roc", {}).get("sgd_at_90_precision") or {}
    if at90.get("reached"):
        ax.plot(at90["recall"], at90["precision"], "ko", label=f"SGD at 90% precision (recall {at90['recall']:.1%})")
    ax.set(xlabel="Recall", ylabel="Precision", xlim=(0, 1.01), ylim=(0, 1.02), title="Precision against recall")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return fig


def _area(recall, precision) -> float:
    """Area under a precision-recall curve (the trapezoids, whichever way recall runs)."""
    r, p = np.asarray(recall, float), np.asarray(precision, float)
    return float(abs(np.sum(np.diff(r) * (p[1:] + p[:-1]) / 2)))


def alt_precision_vs_recall(arrays, steps, doc) -> str:
    sgd = _area(arrays["sgd_recalls"], arrays["sgd_precisions"])
    forest = _area(arrays["forest_recalls"], arrays["forest_precisions"])
    if round(sgd, 3) == round(forest, 3):
        verdict = "the two curves enclose the same area (%.3f)" % sgd
    else:
        lead, other = ("random forest", "SGD") if forest > sgd else ("SGD", "random forest")
        verdict = (f"the {lead}'s curve stays closer to the top-right corner (area {max(sgd, forest):.3f} against "
                   f"the {other}'s {min(sgd, forest):.3f}), so it loses less precision as recall rises")
    return f"Precision against recall for the SGD (blue) and the random forest (green); {verdict}."


def plot_roc(arrays, steps, doc) -> Figure:
    roc = steps.get("binary_roc", {})
    auc = {k: f" (AUC {roc[k]:.4f})" if k in roc else "" for k in ("sgd_auc", "forest_auc")}
    fig = Figure(figsize=(6.5, 5.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(arrays["fpr"], arrays["tpr"], "b-", lw=2, label="SGD" + auc["sgd_auc"])
    ax.plot(arrays["forest_fpr"], arrays["forest_tpr"], "g-", lw=2, label="Random forest" + auc["forest_auc"])
    ax.plot([0, 1], [0, 1], "k:", label="Chance")
    at90 = roc.get("sgd_at_90_precision") or {}
    if at90.get("reached"):
        ax.plot(at90["fpr"], at90["recall"], "ko", label=f"SGD at 90% precision (FPR {at90['fpr']:.2%})")
    ax.set(xlabel="False positive rate", ylabel="True positive rate (recall)", xlim=(0, 1), ylim=(0, 1.01),
           title=f"ROC curve of the {detector(doc)}")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def alt_roc(arrays, steps, doc) -> str:
    roc = steps.get("binary_roc", {})
    return (f"ROC curves: true positive rate against false positive rate; SGD AUC {roc.get('sgd_auc', 0):.4f}, "
            f"random forest AUC {roc.get('forest_auc', 0):.4f}, the dotted diagonal is a random classifier; "
            "a black dot marks the SGD's 90%-precision point.")


def _confusion_figure(cm, doc, title: str, errors_only: bool = False) -> Figure:
    """Counts beside the share of each true class (errors only: the diagonal left out)."""
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    if errors_only:
        rates = rates.copy()
        np.fill_diagonal(rates, 0)
    names = _tick_names(doc, len(cm))
    fig = Figure(figsize=(13, 5.8), layout="constrained")
    texts = [[f"{v:,}" for v in row] for row in cm]
    _heatmap(fig, fig.add_subplot(1, 2, 1), cm, texts, names, names, "Counts",
             FuncFormatter(_plain), font=9)
    _rates_panel(fig, fig.add_subplot(1, 2, 2), rates, "Errors as % of each true class (rows)" if errors_only
                 else "% of each true class (rows sum to 100%)", errors_only, names)
    for ax in fig.axes[::2]:
        _rotate_x(ax, doc)
    fig.suptitle(title)
    return fig


def plot_confusion(arrays, steps, doc) -> Figure:
    cm = _counts(steps, "error_analysis")
    return _confusion_figure(cm, doc, f"Scaled SGD, {len(cm)} classes: cross-validated predictions on the training set")


def alt_confusion(arrays, steps, doc) -> str:
    cm = _counts(steps, "error_analysis")
    return (f"Two {len(cm)}-by-{len(cm)} heatmaps of the multiclass confusion matrix, true class in rows, "
            f"predicted in columns: "
            f"raw counts (diagonal from {cm.diagonal().min():,} to {cm.diagonal().max():,}) and the same as a "
            f"share of each true class.")


def plot_errors(arrays, steps, doc) -> Figure:
    cm = _counts(steps, "error_analysis").astype(float)
    by_row = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    by_col = cm / np.maximum(cm.sum(axis=0, keepdims=True), 1)
    np.fill_diagonal(by_row, 0)
    np.fill_diagonal(by_col, 0)
    names = _tick_names(doc, len(cm))
    fig = Figure(figsize=(13, 5.8), layout="constrained")
    _rates_panel(fig, fig.add_subplot(1, 2, 1), by_row, "Errors as % of each true class (rows)", True, names)
    _rates_panel(fig, fig.add_subplot(1, 2, 2), by_col, "Errors as % of each predicted class (columns)", True, names)
    for ax in fig.axes[::2]:
        _rotate_x(ax, doc)
    fig.suptitle("Errors only (diagonal left out), as in the book's error analysis")
    return fig


def alt_errors(arrays, steps, doc) -> str:
    pairs = steps["error_analysis"].get("most_confused", [])[:3]
    worst = "; ".join(f"{class_name(doc, p['true'])}s predicted as {class_name(doc, p['predicted'])} "
                      f"({p['rate']:.1%})" for p in pairs)
    return (f"Two 10-by-10 heatmaps of the errors only, normalised by true class (rows) and by predicted class "
            f"(columns); the most frequent errors are {worst}.")


def _error_pair(steps, doc) -> tuple[str, str]:
    """Names of the two classes the error analysis shows (the book's 3 and 5 by default)."""
    a, b = steps.get("error_analysis", {}).get("pair", (3, 5))
    return class_name(doc, a), class_name(doc, b)


def plot_errors_pair(arrays, steps, doc) -> Figure:
    a, b = _error_pair(steps, doc)
    fig = Figure(figsize=(8, 8.4), layout="constrained")
    for k, ((t, p), key) in enumerate(zip(((a, a), (a, b), (b, a), (b, b)), ERROR_PAIR_KEYS)):
        ax = fig.add_subplot(2, 2, k + 1)
        images = arrays[key]
        _digits(ax, images, 5, n_cells=25)
        if not len(images):
            ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"{t} classified as {p} ({len(images)} shown)", fontsize=11)
    fig.suptitle(f"{a} vs {b} errors: rows true class, columns predicted class")
    return fig


def alt_errors_pair(arrays, steps, doc) -> str:
    a, b = _error_pair(steps, doc)
    n = [len(arrays[key]) for key in ERROR_PAIR_KEYS]
    return (f"Four blocks of {a} and {b} images: {n[0]} {a} classified as {a}, {n[1]} {a} classified as {b}, "
            f"{n[2]} {b} classified as {a} and {n[3]} {b} classified as {b}.")


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
    _heatmap(fig, ax, scores, texts, ks, weights, "KNN grid search: mean CV accuracy",
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


def plot_plus_confusion(arrays, steps, doc) -> Figure:
    f = steps["knn_plus"]
    return _confusion_figure(_counts(steps, "knn_plus"), doc,
                             f"Beyond the book: KNN on deskewed, shifted {_things(doc)}, test set "
                             f"({f['test_accuracy']:.2%} accurate)", errors_only=True)


def alt_plus_confusion(arrays, steps, doc) -> str:
    cm = _counts(steps, "knn_plus")
    worst = "; ".join(f"{class_name(doc, p['true'])} taken for {class_name(doc, p['predicted'])} {p['count']} times"
                      for p in steps["knn_plus"].get("most_confused", [])[:3])
    return (f"Two {len(cm)}-by-{len(cm)} heatmaps of the test predictions, true class in rows: counts "
            f"({int(np.trace(cm)):,} of {int(cm.sum()):,} on the diagonal) and errors as a share of each true class; "
            f"the most frequent errors: {worst}.")


def plot_plus_digits(arrays, steps, doc) -> Figure:
    rows = [("originals", arrays["plus_originals"]), ("deskewed", arrays["plus_deskewed"])]
    c = steps["knn_plus"]["chosen"]
    if c["blur"] or not c["deskew"]:
        rows.append(("as the KNN sees them", arrays["plus_pixels"]))
    shifted = arrays["plus_shifted"]
    fig = Figure(figsize=(10, 1.35 * len(rows) + 1.35 * -(-len(shifted) // 13) + 0.8), layout="constrained")
    grid = fig.add_gridspec(2, 1, height_ratios=[len(rows), -(-len(shifted) // 13)])
    top = grid[0].subgridspec(len(rows), 1)
    for r, (name, images) in enumerate(rows):
        ax = fig.add_subplot(top[r])
        _digits(ax, images, 8)
        ax.set_title(name, fontsize=10)
    ax = fig.add_subplot(grid[1])
    _digits(ax, shifted, 13)
    ax.set_title(f"the first training {_things(doc)[:-1]} as the KNN sees it, and its shifted copies "
                 f"(shift set '{c['shifts']}': {len(shifted)} images)", fontsize=10)
    fig.suptitle("Preprocessing: deskewing by image moments, then shifted copies")
    return fig


def alt_plus_digits(arrays, steps, doc) -> str:
    n = len(arrays["plus_originals"])
    return (f"The first {n} training {_things(doc)} as stored and after deskewing (sheared upright and centred), "
            f"then the first one in each of its {len(arrays['plus_shifted'])} shifted copies.")


def plot_plus_errors(arrays, steps, doc) -> Figure:
    images = arrays["plus_errors"]
    labels = [f"{class_name(doc, t)}→{class_name(doc, p)}"
              for t, p in zip(arrays["plus_error_true"], arrays["plus_error_pred"])]
    fig = Figure(figsize=(10, 1.25 * max(1, -(-len(images) // 8)) + 0.8), layout="constrained")
    ax = fig.add_subplot()
    _digits(ax, images, 8, labels, n_cells=8)
    if not len(images):
        ax.text(0.5, 0.5, "no errors", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(f"Misclassified test {_things(doc)} (true→predicted), the first {len(images)} of "
                 f"{steps['knn_plus']['n_test_errors']:,}")
    return fig


def alt_plus_errors(arrays, steps, doc) -> str:
    pairs = ", ".join(f"{class_name(doc, t)} taken for {class_name(doc, p)}"
                      for t, p in list(zip(arrays["plus_error_true"], arrays["plus_error_pred"]))[:6])
    return f"A grid of the first {len(arrays['plus_errors'])} misclassified test images: {pairs or 'none'}."


def plot_step_times(arrays, steps, doc) -> Figure:
    seconds = [(s, doc.get("seconds", {}).get(s, 0.0)) for s in steps]
    fig = Figure(figsize=(10, 0.38 * len(seconds) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    names = [s for s, _ in seconds][::-1]
    values = [v for _, v in seconds][::-1]
    bars = ax.barh(names, values, color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:,.2f} s" for v in values], padding=3, fontsize=9)
    ax.set(xlabel="Seconds", title=f"Time per step (total {sum(values):,.1f} s)")
    ax.set_xlim(0, max(values + [1e-3]) * 1.15)
    ax.xaxis.set_major_formatter(FuncFormatter(_plain))
    ax.grid(axis="x", alpha=0.3)
    return fig


def alt_step_times(arrays, steps, doc) -> str:
    seconds = doc.get("seconds", {})
    slow = sorted(((v, s) for s, v in seconds.items() if s in steps), reverse=True)[:3]
    return ("Horizontal bar chart of the seconds each step took; the slowest are "
            + ", ".join(f"{s} ({v:,.1f} s)" for v, s in slow) + ".")


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
        a, b = _error_pair(steps, doc)
        return self.caption.format(detector=detector(doc), a=a, b=b)


#: Every figure, in the order the report shows them; ``step`` "run" is the timing section.
PLOTS = (
    Plot("digits.png", "data", ("digits",), plot_digit_grid, alt_digit_grid, "The first training digits."),
    Plot("binary_confusion.png", "binary_metrics", (), plot_binary_confusion, alt_binary_confusion,
         "The {detector}'s confusion matrix."),
    Plot("precision_recall_vs_threshold.png", "binary_tradeoff", ("thresholds", "precisions", "recalls"),
         plot_precision_recall_vs_threshold, alt_precision_recall_vs_threshold,
         "Raising the threshold trades recall for precision (thresholds in this backend's score units)."),
    Plot("precision_vs_recall.png", "binary_roc", ("sgd_precisions", "forest_precisions"),
         plot_precision_vs_recall, alt_precision_vs_recall, "Precision against recall for the SGD and the forest."),
    Plot("roc.png", "binary_roc", ("fpr", "forest_fpr"), plot_roc, alt_roc,
         "ROC curves; the diagonal is a random classifier."),
    Plot("confusion_matrix.png", "error_analysis", (), plot_confusion, alt_confusion,
         "The multiclass confusion matrix, as counts and as shares of each true class."),
    Plot("errors.png", "error_analysis", (), plot_errors, alt_errors,
         "Errors only, normalised by row (true class) and by column (predicted class)."),
    Plot("errors_pair.png", "error_analysis", ERROR_PAIR_KEYS, plot_errors_pair, alt_errors_pair,
         "{a} and {b} images, correctly and wrongly classified."),
    Plot("denoise.png", "denoise", ("noisy", "clean", "denoised"), plot_denoise, alt_denoise,
         "Noisy, denoised and clean test digits."),
    Plot("grid_search.png", "best_accuracy", (), plot_grid_search, alt_grid_search,
         "Mean cross-validated accuracy of each KNN setting."),
    Plot("shifted.png", "augmentation", ("shifted",), plot_shifted, alt_shifted,
         "Training digits and their one-pixel shifts."),
    Plot("knn_plus_confusion.png", "knn_plus", (), plot_plus_confusion, alt_plus_confusion,
         "Beyond the book: the test set's confusion matrix, and its errors by true class."),
    Plot("knn_plus_digits.png", "knn_plus", ("plus_originals", "plus_deskewed", "plus_pixels", "plus_shifted"),
         plot_plus_digits, alt_plus_digits, "Deskewed training images and shifted copies."),
    Plot("knn_plus_errors.png", "knn_plus", ("plus_errors", "plus_error_true", "plus_error_pred"), plot_plus_errors,
         alt_plus_errors, "Test images the KNN gets wrong."),
    Plot("step_times.png", "run", (), plot_step_times, alt_step_times, "Seconds per step on this run."),
)


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
