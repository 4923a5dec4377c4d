"""The chapter's figures as PNGs and one self-contained ``report.html``.

Everything is read back from the output folder (``results.json`` and
``arrays/<step>.npz``), so a report can be rebuilt without re-running
anything, and a run of a few steps gets a report of those steps. Plots are
drawn on ``matplotlib.figure.Figure`` with the Agg canvas, never through
pyplot, so building a report changes no global matplotlib state of the caller.
"""
from __future__ import annotations

import base64
import html
import io
import json
import os

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .errors import GpuclfError
from .results import RESULTS, atomic_write, load_arrays
from .workflow import STEPS

FIGURES_DIR = "figures"
REPORT = "report.html"
DPI = 100


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
        ax.text(c * 29 + 1, r * 29 + 1, str(label), color="tab:red", fontsize=8, va="top", ha="left")


def _plot_digit_grid(arrays, steps) -> Figure:
    fig = Figure(figsize=(8, 8.4), layout="constrained")
    ax = fig.add_subplot()
    _digits(ax, arrays["digits"], 10, arrays.get("digit_labels"))
    ax.set_title(f"The first {len(arrays['digits'])} training digits (label in red)")
    return fig


def _threshold_90(steps, arrays) -> float:
    found = steps.get("binary_tradeoff", {}).get("threshold_90_precision")
    if found is not None:
        return found
    return float(arrays["thresholds"][np.argmax(arrays["precisions"][:-1] >= 0.90)])


def _plot_precision_recall_vs_threshold(arrays, steps) -> Figure:
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    t, p, r = arrays["thresholds"], arrays["precisions"][:-1], arrays["recalls"][:-1]
    ax.plot(t, p, "b--", lw=2, label="Precision")
    ax.plot(t, r, "g-", lw=2, label="Recall")
    t90 = _threshold_90(steps, arrays)
    i90 = min(int(np.searchsorted(t, t90)), len(t) - 1)
    ax.axvline(t90, color="k", ls=":", label=f"90% precision: threshold {t90:,.0f}")
    ax.plot([t90, t90], [p[i90], r[i90]], "ko")
    ax.set(xlabel="Threshold", ylabel="Score", ylim=(0, 1.02),
           title="SGD 5-detector: precision and recall vs threshold")
    ax.grid(alpha=0.3)
    ax.legend(loc="center left")
    return fig


def _plot_precision_vs_recall(arrays, steps) -> Figure:
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(arrays["sgd_recalls"], arrays["sgd_precisions"], "b-", lw=2, label="SGD")
    ax.plot(arrays["forest_recalls"], arrays["forest_precisions"], "g-", lw=2, label="Random forest")
    p, r = arrays["sgd_precisions"][:-1], arrays["sgd_recalls"][:-1]
    # The first curve point at >= 90% precision is the lowest such threshold (curves run by rising threshold).
    i90 = int(np.argmax(p >= 0.90))
    ax.plot(r[i90], p[i90], "ko", label=f"SGD at 90% precision (recall {r[i90]:.1%})")
    ax.set(xlabel="Recall", ylabel="Precision", xlim=(0, 1.01), ylim=(0, 1.02), title="Precision vs recall")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    return fig


def _plot_roc(arrays, steps) -> Figure:
    roc = steps.get("binary_roc", {})
    auc = {k: f" (AUC {roc[k]:.4f})" if k in roc else "" for k in ("sgd_auc", "forest_auc")}
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(arrays["fpr"], arrays["tpr"], "b-", lw=2, label="SGD" + auc["sgd_auc"])
    ax.plot(arrays["forest_fpr"], arrays["forest_tpr"], "g-", lw=2, label="Random forest" + auc["forest_auc"])
    ax.plot([0, 1], [0, 1], "k:", label="Chance")
    ax.set(xlabel="False positive rate", ylabel="True positive rate (recall)", xlim=(0, 1), ylim=(0, 1.01),
           title="ROC curve of the 5-detector")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def _matrix(fig, ax, values, title: str, skip_diagonal: bool) -> None:
    im = ax.imshow(values, cmap="Blues", interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.046, format=lambda v, _: f"{v:.0%}")
    # White text on dark cells, dark text elsewhere, so every percentage stays readable.
    dark = values.max() * 0.6
    for (i, j), v in np.ndenumerate(values):
        if (skip_diagonal and i == j) or v == 0:
            continue
        ax.text(j, i, f"{v:.0%}" if v >= 0.1 else f"{v:.1%}", ha="center", va="center", fontsize=6.5,
                color="white" if v > dark else "black")
    ax.set(xticks=range(10), yticks=range(10), xlabel="Predicted label", ylabel="True label", title=title)


def _plot_confusion(arrays, steps) -> Figure:
    cm = np.asarray(arrays["confusion_matrix"], dtype=float)
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig = Figure(figsize=(13, 5.6), layout="constrained")
    _matrix(fig, fig.add_subplot(1, 2, 1), rates, "Confusion matrix (% of each true class)", False)
    _matrix(fig, fig.add_subplot(1, 2, 2), np.asarray(arrays["error_rates"], dtype=float),
            "Errors only (% of each true class, diagonal zeroed)", True)
    fig.suptitle("Scaled SGD, cross-validated predictions on the training set")
    return fig


def _plot_errors_3_5(arrays, steps) -> Figure:
    fig = Figure(figsize=(8, 8.4), layout="constrained")
    for k, (a, b) in enumerate(((3, 3), (3, 5), (5, 3), (5, 5))):
        ax = fig.add_subplot(2, 2, k + 1)
        images = arrays[f"images_{a}{b}"]
        _digits(ax, images, 5, n_cells=25)
        if not len(images):
            ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(f"{a} classified as {b} ({len(images)} shown)", fontsize=11)
    fig.suptitle("3 vs 5 errors: rows true class, columns predicted class")
    return fig


def _plot_denoise(arrays, steps) -> Figure:
    rows = (("noisy", "Noisy"), ("clean", "Clean"), ("denoised", "KNN denoised"))
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


#: (file name, step, array keys needed, plotting function, caption)
PLOTS = (
    ("digits.png", "data", ("digits",), _plot_digit_grid, "The first training digits."),
    ("precision_recall_vs_threshold.png", "binary_tradeoff", ("thresholds", "precisions", "recalls"),
     _plot_precision_recall_vs_threshold, "Raising the threshold trades recall for precision."),
    ("precision_vs_recall.png", "binary_roc", ("sgd_precisions", "forest_precisions"),
     _plot_precision_vs_recall, "Precision against recall for the SGD and the random forest."),
    ("roc.png", "binary_roc", ("fpr", "forest_fpr"), _plot_roc, "ROC curves; the diagonal is a random classifier."),
    ("confusion_matrix.png", "error_analysis", ("confusion_matrix", "error_rates"), _plot_confusion,
     "Where the multiclass SGD goes wrong."),
    ("errors_3_5.png", "error_analysis", tuple(f"images_{ab}" for ab in ("33", "35", "53", "55")),
     _plot_errors_3_5, "3s and 5s, correctly and wrongly classified."),
    ("denoise.png", "denoise", ("noisy", "clean", "denoised"), _plot_denoise, "Noisy, clean and denoised digits."),
)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf, metadata={"Software": None})
    return buf.getvalue()


def _fmt(v) -> str:
    """One number or value as short readable text."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        # Scores and thresholds are in the thousands; rates and accuracies are below one.
        return f"{v:.1f}" if abs(v) >= 100 else f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    return str(v)


def _table(rows, header=None, row_names=None) -> str:
    e = html.escape
    head = "" if header is None else "<tr>" + "".join(f"<th>{e(str(h))}</th>" for h in header) + "</tr>"
    body = "".join("<tr>" + ("" if row_names is None else f"<th>{e(str(row_names[i]))}</th>")
                   + "".join(f"<td>{e(_fmt(v))}</td>" for v in row) + "</tr>" for i, row in enumerate(rows))
    return f"<table>{head}{body}</table>"


def _value_html(v) -> str:
    """Matrices and lists of records as tables; everything else as one line."""
    if isinstance(v, list) and v and all(isinstance(r, list) and len(r) == len(v) for r in v):
        return _table(v, header=[""] + list(range(len(v))), row_names=list(range(len(v))))
    if isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
        keys = list(v[0])
        return _table([[r.get(k) for k in keys] for r in v], header=keys)
    if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
        keys = list(next(iter(v.values())))
        return _table([list(x.values()) for x in v.values()], header=[""] + keys, row_names=list(v))
    return html.escape(_fmt(v))


def _figures_html(figures: dict) -> str:
    # Placements are shown once, in the steps table.
    items = [(k, v) for k, v in figures.items() if not k.startswith("placement_")]
    return "<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{_value_html(v)}</dd>" for k, v in items) + "</dl>"


def _mib(n) -> str:
    return "–" if n is None else f"{n / 2**20:,.1f}"


def _placement_html(roles: dict) -> str:
    parts = []
    for role, p in roles.items():
        text = f"{role}: {p.get('device', '?')} ({p.get('library', '?')})"
        note = f"<br><small>{html.escape(p['note'])}</small>" if p.get("note") else ""
        parts.append(html.escape(text) + note)
    return "<br>".join(parts) or "–"


def _header_html(doc: dict) -> str:
    env = doc.get("environment", {})
    versions = ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items() if v and k != "platform")
    facts = [("Backend", doc.get("backend")), ("Device", env.get("device")),
             ("Data", f"{doc.get('data_source')}: {doc.get('n_train')} train, {doc.get('n_test')} test"),
             ("Platform", env.get("versions", {}).get("platform")), ("Libraries", versions),
             ("Total time", f"{sum(doc.get('seconds', {}).values()):.2f} s")]
    if "cuda_runtime" in env:
        facts.insert(2, ("CUDA driver / runtime", f"{env.get('cuda_driver')} / {env['cuda_runtime']}"))
    return "<table class='facts'>" + "".join(
        f"<tr><th>{k}</th><td>{html.escape(str(v))}</td></tr>" for k, v in facts) + "</table>"


def _steps_html(doc: dict, order: list) -> str:
    head = ["Step", "Seconds", "Host peak (MiB)", "Device peak (MiB)", "Where it ran"]
    rows = []
    for step in order:
        mem = doc.get("memory", {}).get(step, {})
        cells = [html.escape(step), f"{doc.get('seconds', {}).get(step, 0):.2f}",
                 _mib(mem.get("host_peak_rss_bytes")), _mib(mem.get("device_peak_bytes")),
                 _placement_html(doc.get("placement", {}).get(step, {}))]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>"


CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right;
vertical-align:top}th{background:#f3f3f3}.facts td,.facts th{text-align:left}dt{font-weight:bold;margin-top:.5em}
dd{margin-left:1.5em}figure{margin:1em 0}img{max-width:100%}small{color:#a33}"""


def build_report(out_dir: str) -> str:
    """Draw the chapter's plots and write ``out_dir/report.html``.

    Parameters
    ----------
    out_dir : str
        A run's output folder, holding ``results.json`` and ``arrays/``.

    Returns
    -------
    str
        Path of the HTML report. PNGs are written to ``out_dir/figures/``,
        one per plot whose step's arrays exist, and embedded in the page.

    Raises
    ------
    GpuclfError
        When ``out_dir`` holds no readable ``results.json``.
    """
    path = os.path.join(out_dir, RESULTS)
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        raise GpuclfError(f"cannot build a report: {path} is missing or unreadable ({exc})") from None
    steps = doc.get("steps", {})
    order = [s for s in STEPS if s in steps] + [s for s in steps if s not in STEPS]
    fig_dir = os.path.join(out_dir, FIGURES_DIR)
    os.makedirs(fig_dir, exist_ok=True)
    plots = {}
    for name, step, needs, draw, caption in PLOTS:
        arrays = load_arrays(out_dir, step)
        if not all(k in arrays for k in needs):
            continue
        png = _png(draw(arrays, steps))
        atomic_write(os.path.join(fig_dir, name), lambda f, png=png: f.write(png))
        plots.setdefault(step, []).append((name, caption, base64.b64encode(png).decode("ascii")))

    title = f"gpuclf report: MNIST classification on {doc.get('backend')}"
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>",
             _header_html(doc), "<h2>Steps</h2>", _steps_html(doc, order)]
    for step in order:
        parts.append(f"<h2 id='{html.escape(step)}'>{html.escape(step)}</h2>")
        parts.append(_figures_html(steps[step]))
        for name, caption, b64 in plots.get(step, []):
            parts.append(f'<figure><img src="data:image/png;base64,{b64}" alt="{html.escape(name)}">'
                         f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    parts.append("</body></html>\n")
    page = os.path.join(out_dir, REPORT)
    text = "\n".join(parts).encode("utf-8")
    atomic_write(page, lambda f: f.write(text))
    return page
