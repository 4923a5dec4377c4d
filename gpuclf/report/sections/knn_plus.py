"""The knn_plus section of the report (beyond the book): the setting chosen, accuracy, errors and cost."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from gpuclf.chapter.knn_plus import Preprocessing
from gpuclf.chapter.published import BOOK, BOOK_N_TEST, is_book_setup
from gpuclf.data.classes import class_name, is_book_task
from gpuclf.kernels.shifted_neighbors import SHIFT_SETS, roofline_seconds
from gpuclf.report.figures import Plot, confusion_figure, counts, digits, things
from gpuclf.report.html_page import esc, table
from gpuclf.report.words import count, paragraph, pct


def _seconds_text(v) -> str:
    return "–" if v is None else f"{v:,.1f} s" if v >= 0.1 else f"{1000 * v:,.1f} ms"


def _setting(c: dict) -> str:
    """A knn_plus setting in words: ``deskew, PCA 50, book shifts (5 copies), n_neighbors=4, distance``."""
    pre = Preprocessing(c["deskew"], c["blur"], c["n_components"]).label()
    return (f"{pre}, shifts '{c['shifts']}' ({SHIFT_SETS.get(c['shifts'], '?')} copies), "
            f"n_neighbors={c['n_neighbors']}, {c['weights']} weights")


def _step_knn_plus(f, doc) -> str:
    chosen, acc, cost = f["chosen"], f["test_accuracy"], f.get("cost", {})
    book = is_book_task(doc)
    parts = [paragraph(
        "The book's exercises stop at 97.14% (the KNN grid search) and 97.63% (one-pixel shifts). "
        "This step goes further with the preprocessing of LeCun's MNIST page: each digit is <b>deskewed</b> by "
        "its image moments (sheared upright and centred), optionally <b>blurred</b>, projected on a <b>PCA</b> "
        "fitted on the training images, and the training set is <b>augmented with shifted copies</b> of up to "
        "two pixels each way, searched one shift at a time.",
        f"Which of these helps, and n_neighbors and the weights, are chosen by {f['cv_folds']}-fold "
        f"cross-validation on the first {count(f['cv_rows'])} training images; the test set is used once, at "
        f"the end. Chosen: <b>{esc(_setting(chosen))}</b> (mean CV accuracy {pct(f['best_cv_score'])}), "
        f"trained on {count(f['n_train_augmented'])} original and shifted images.")]
    grid_acc, shift_acc = BOOK["best_accuracy.test_accuracy"], BOOK["augmentation.test_accuracy"]
    rows = []
    if book:
        rows += [[f"The book (full MNIST): {name}", pct(v), count(round(BOOK_N_TEST * (1 - v)))]
                 for name, v in (("KNN grid search", grid_acc), ("KNN on one-pixel shifts", shift_acc))]
    for step, name in (("best_accuracy", "This run: KNN grid search"), ("augmentation", "This run: one-pixel shifts")):
        other = doc.get("steps", {}).get(step, {}).get("test_accuracy")
        if other is not None:
            rows.append([name, pct(other), count(round(doc.get("n_test", 0) * (1 - other)))])
    rows.append(["<b>This step</b>", f"<b>{pct(acc)}</b>", count(f["n_test_errors"])])
    drop = (f" The error rate is {pct(1 - (1 - acc) / (1 - shift_acc), 0)} lower than the book's best."
            if is_book_setup(doc) and acc > shift_acc else "")
    parts.append(paragraph(f"Test accuracy <b>{pct(acc)}</b> ({count(f['n_test_errors'])} errors in "
                    f"{count(doc.get('n_test'))} test images).{drop}")
                 + table(["Model", "Test accuracy", "Errors"], rows, raw=True))
    # Best CV accuracy of each preprocessing x shift set (over n_neighbors and weights).
    best = {}
    for g in f.get("grid", []):
        key = (Preprocessing(**g["preprocessing"]).label(), g["shifts"])
        if key not in best or g["mean_cv_accuracy"] > best[key]:
            best[key] = g["mean_cv_accuracy"]
    labels = list(dict.fromkeys(k[0] for k in best))
    sets = [s for s in SHIFT_SETS if any(k[1] == s for k in best)]
    parts.append("<h3>Cross-validation: best mean accuracy of each preprocessing and shift set</h3>" + table(
        ["Preprocessing", *(f"{s} ({SHIFT_SETS[s]})" for s in sets)],
        [[label, *(pct(best.get((label, s))) for s in sets)] for label in labels]))
    rows = [[class_name(doc, p["true"]), class_name(doc, p["predicted"]), count(p["count"]), pct(p["rate"])]
            for p in f.get("most_confused", [])]
    parts.append("<h3>Most confused pairs on the test set</h3>"
                 + table(["True class", "Predicted as", "Images", "% of the true class"], rows, left=2))
    rows = []
    for part, name in (("cv", "Cross-validation"), ("test", "Final model: test predictions")):
        c = {k: cost.get(f"{part}_{k}") for k in ("pairs", "flops", "bytes")}
        seconds = cost.get(f"{part}_seconds")
        if None in c.values():
            continue
        h200 = roofline_seconds(c)
        rows.append([name, f"{c['pairs']:,}", f"{c['flops'] / 1e12:,.3g}", f"{c['bytes'] / 1e9:,.3g}",
                     _seconds_text(seconds), _seconds_text(h200)])
    parts.append("<h3>Cost</h3>" + paragraph(
        f"Distances are computed for every (query, augmented training image) pair: a GEMM of 2 × d FLOPs per pair "
        "and 16 + 4 × n_neighbors bytes of memory traffic (distance written, norms added, one read per "
        "neighbour picked, one to check the next). The last column is what one H200 would need at its peak memory "
        f"bandwidth (4.8 TB/s) or float32 rate, whichever binds: a lower bound, before launch overheads and the PCA's "
        f"small eigensolves on the host. Measured here on the {esc(doc.get('backend'))} backend.")
        + table(["Part", "Pairs", "TFLOP", "GB moved", f"Seconds ({doc.get('backend')})", "One H200 (model)"],
                rows))
    return "".join(parts)


def plot_plus_confusion(arrays, steps, doc) -> Figure:
    f = steps["knn_plus"]
    return confusion_figure(counts(steps, "knn_plus"), doc,
                             f"Beyond the book: KNN on deskewed, shifted {things(doc)}, test set "
                             f"({f['test_accuracy']:.2%} accurate)", errors_only=True)


def alt_plus_confusion(arrays, steps, doc) -> str:
    cm = counts(steps, "knn_plus")
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
        digits(ax, images, 8)
        ax.set_title(name, fontsize=10)
    ax = fig.add_subplot(grid[1])
    digits(ax, shifted, 13)
    ax.set_title(f"the first training {things(doc)[:-1]} as the KNN sees it, and its shifted copies "
                 f"(shift set '{c['shifts']}': {len(shifted)} images)", fontsize=10)
    fig.suptitle("Preprocessing: deskewing by image moments, then shifted copies")
    return fig


def alt_plus_digits(arrays, steps, doc) -> str:
    n = len(arrays["plus_originals"])
    return (f"The first {n} training {things(doc)} as stored and after deskewing (sheared upright and centred), "
            f"then the first one in each of its {len(arrays['plus_shifted'])} shifted copies.")


def plot_plus_errors(arrays, steps, doc) -> Figure:
    images = arrays["plus_errors"]
    labels = [f"{class_name(doc, t)}→{class_name(doc, p)}"
              for t, p in zip(arrays["plus_error_true"], arrays["plus_error_pred"])]
    fig = Figure(figsize=(10, 1.25 * max(1, -(-len(images) // 8)) + 0.8), layout="constrained")
    ax = fig.add_subplot()
    digits(ax, images, 8, labels, n_cells=8)
    if not len(images):
        ax.text(0.5, 0.5, "no errors", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(f"Misclassified test {things(doc)} (true→predicted), the first {len(images)} of "
                 f"{steps['knn_plus']['n_test_errors']:,}")
    return fig


def alt_plus_errors(arrays, steps, doc) -> str:
    pairs = ", ".join(f"{class_name(doc, t)} taken for {class_name(doc, p)}"
                      for t, p in list(zip(arrays["plus_error_true"], arrays["plus_error_pred"]))[:6])
    return f"A grid of the first {len(arrays['plus_errors'])} misclassified test images: {pairs or 'none'}."


HTML = {"knn_plus": _step_knn_plus}
PLOTS = (
    Plot("knn_plus_confusion.png", "knn_plus", (), plot_plus_confusion, alt_plus_confusion,
         "Beyond the book: the test set's confusion matrix, and its errors by true class."),
    Plot("knn_plus_digits.png", "knn_plus", ("plus_originals", "plus_deskewed", "plus_pixels", "plus_shifted"),
         plot_plus_digits, alt_plus_digits, "Deskewed training images and shifted copies."),
    Plot("knn_plus_errors.png", "knn_plus", ("plus_errors", "plus_error_true", "plus_error_pred"), plot_plus_errors,
         alt_plus_errors, "Test images the KNN gets wrong."),
)
