"""The binary classifier's section of the report: the 5-detector's words, tables and curves."""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gpuclf.data.classes import class_name, detector, is_book_task, positive_name
from gpuclf.report.figures import Plot, counts, heatmap, plain
from gpuclf.report.html_page import esc, table
from gpuclf.report.words import count, folds_row, paragraph, pct


def _step_binary_sgd(f, doc) -> str:
    label, is5 = f.get("some_digit_label"), f.get("some_digit_is_5")
    name = positive_name(doc)  # table cells are escaped by table(); paragraphs use pos
    pos = esc(name)
    verdict_text = f"a {pos}" if is5 else f"not a {pos}"
    if is_book_task(doc):
        book = ("In MNIST it is a 5, and the book's detector says so." if label == 5 else
                f"In the book it is a 5; in this data it is a <b>{label}</b>, so the book's 'True' is not "
                "expected here.")
    else:
        book = f"In this data it is a <b>{esc(class_name(doc, label))}</b>." if label is not None else ""
    rows = [[str(i + 1), class_name(doc, lab), name if pred else f"not {name}", f"{score:,.2f}"]
            for i, (lab, pred, score) in enumerate(zip(f.get("first_labels", []), f.get("first_predictions", []),
                                                        f.get("first_scores", [])))]
    return paragraph("A stochastic gradient descent (SGD) linear classifier learns to answer one question: "
              f"is this image a {pos}? It is trained on every training image, labelled '{pos}' or 'not {pos}'.",
              f"The book first asks about 'some digit', the first training image. {book}",
              f"Here the detector calls it {verdict_text}.") \
        + table(["Image", "True label", "Detector says", "Decision score (backend's units)"], rows, left=3)


def _step_binary_cv(f, doc) -> str:
    sgd, dummy = f.get("sgd_cv_accuracy", []), f.get("dummy_cv_accuracy", [])
    k, name = len(sgd), positive_name(doc)
    pos = esc(name)
    share = 1 - float(np.mean(dummy))  # the baseline is right on every image that is not the positive class
    rarity = (f"only about one image in {round(1 / share):,} is a {pos}, which is why accuracy is a poor measure "
              "for skewed classes" if 0 < share <= 0.25 else f"{pct(share, 0)} of the images are {pos}s")
    return paragraph(f"{k}-fold cross-validation: each {'third' if k == 3 else 'fold'} of the training set is scored "
              f"by a model trained on the rest. The SGD is right on {pct(np.mean(sgd))} of images on average.",
              f"A baseline that always answers 'not {pos}' scores {pct(np.mean(dummy))}: {rarity}.") \
        + table(["Model", *(f"Fold {i + 1}" for i in range(k)), "Mean"],
                [folds_row(f"SGD {detector(doc)}", sgd), folds_row(f"Always 'not {name}'", dummy)])


def _step_binary_metrics(f, doc) -> str:
    (tn, fp), (fn, tp) = f["confusion_matrix"]
    name = positive_name(doc)
    pos = esc(name)
    rows = [[f"True: not {name}", count(tn), pct(tn / max(tn + fp, 1), 1), count(fp), pct(fp / max(tn + fp, 1), 1)],
            [f"True: {name}", count(fn), pct(fn / max(fn + tp, 1), 1), count(tp), pct(tp / max(fn + tp, 1), 1)]]
    return paragraph(f"The same out-of-fold predictions, counted by outcome. Of the {fn + tp:,} real {pos}s the "
              f"detector finds {tp:,}: a <b>recall</b> of {pct(f['recall'])}. Of the {tp + fp:,} images it calls "
              f"{pos}, {tp:,} are: a <b>precision</b> of {pct(f['precision'])}.",
              f"F1, their harmonic mean, is {pct(f['f1'])}.") \
        + table(["", f"Predicted: not {name}", "% of row", f"Predicted: {name}", "% of row"], rows)


def _prf_cells(r: dict) -> list:
    return [pct(r.get("precision")), pct(r.get("recall")), pct(r.get("f1"))]


def _step_binary_tradeoff(f, doc) -> str:
    lo, hi = f.get("score_range", [None, None])
    scale = f" Here they run from {lo:,.0f} to {hi:,.0f}." if lo is not None else ""
    parts = [paragraph("Precision and recall depend on the decision threshold: the detector calls an image a "
                f"{esc(positive_name(doc))} when its score is at least the threshold. Raising it makes the "
                "detector pickier: precision goes up, recall goes down.",
                "Scores are in each SGD's own units: scikit-learn's on full MNIST are in the thousands (the book's "
                "90%-precision threshold is 3,370), other SGD implementations and other data sizes give other "
                f"scales.{scale} So the tradeoff is reported by what a threshold achieves (a precision target) "
                "and by the share of digits it flags (a quantile of the scores), which read the same on every "
                "backend.")]
    rows = []
    for r in f.get("at_precision_targets", []):
        if r.get("reached"):
            rows.append([pct(r["target"], 0), f"{r['threshold']:,.2f}", *_prf_cells(r)])
        else:
            rows.append([pct(r["target"], 0), "never reached", f"best {pct(r.get('best_precision'))}", "–", "–"])
    parts.append("<h3>At precision targets</h3>" + table(
        ["Precision target", "Lowest threshold reaching it", "Precision", "Recall", "F1"], rows))
    missed = [pct(r["target"], 0) for r in f.get("at_precision_targets", []) if not r.get("reached")]
    if missed:
        parts.append(f"<p class='warn'>No threshold reaches {', '.join(missed)} precision on this run; the best "
                     "precision any threshold gives is shown instead.</p>")
    rows = [[f"top {pct(1 - r['quantile'], 0)} of scores (quantile {r['quantile']:g})", f"{r['threshold']:,.2f}",
             *_prf_cells(r)] for r in f.get("at_score_quantiles", [])]
    parts.append("<h3>At quantiles of the scores</h3>"
                 + table([f"Images called {positive_name(doc)}", "Threshold", "Precision", "Recall", "F1"], rows))
    if f.get("at_thresholds"):
        rows = [[f"{float(t):,.2f}", *_prf_cells(r)] for t, r in f["at_thresholds"].items()]
        parts.append("<h3>At the thresholds asked for (--thresholds)</h3>"
                     + table(["Threshold (backend's units)", "Precision", "Recall", "F1"], rows))
    return "".join(parts)


def _step_binary_roc(f, doc) -> str:
    at90 = f.get("sgd_at_90_precision") or {}
    point = (f" At 90% precision the SGD has a false positive rate of {pct(at90['fpr'])} and a recall of "
             f"{pct(at90['recall'])} (the black dot)." if at90.get("reached") else
             " The SGD never reaches 90% precision on this run.")
    return paragraph("The ROC curve plots the true positive rate (recall) against the false positive rate over all "
              "thresholds; the area under it (AUC) is 1 for a perfect detector and 0.5 for a coin toss.",
              f"The SGD's AUC is {f['sgd_auc']:.4f}; a random forest, scored by its predicted probability of "
              f"'{esc(positive_name(doc))}', reaches {f['forest_auc']:.4f}.{point}") \
        + table(["Model", "ROC AUC", "Precision", "Recall", "F1"],
                [["SGD", f"{f['sgd_auc']:.4f}", "–", "–", "–"],
                 ["Random forest (probability ≥ 0.5)", f"{f['forest_auc']:.4f}", pct(f.get("forest_precision")),
                  pct(f.get("forest_recall")), pct(f.get("forest_f1"))]])


def plot_binary_confusion(arrays, steps, doc) -> Figure:
    cm = counts(steps, "binary_metrics")
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    texts = [[f"{cm[i, j]:,}\n({rates[i, j]:.1%} of row)" for j in range(2)] for i in range(2)]
    fig = Figure(figsize=(6.5, 4.6), layout="constrained")
    ax = fig.add_subplot()
    pos = positive_name(doc)
    heatmap(fig, ax, cm, texts, [f"not {pos}", pos], [f"not {pos}", pos],
             f"{detector(doc)}: out-of-fold predictions", FuncFormatter(plain), font=12)
    return fig


def alt_binary_confusion(arrays, steps, doc) -> str:
    (tn, fp), (fn, tp) = counts(steps, "binary_metrics").tolist()
    pos = positive_name(doc)
    return (f"A two-by-two heatmap, true class in rows and prediction in columns: {tn:,} non-{pos}s correctly "
            f"rejected, {fp:,} non-{pos}s taken for {pos}s, {fn:,} {pos}s missed and {tp:,} {pos}s found.")


def _target_points(steps):
    """The reached precision targets of the tradeoff step: (target, threshold, precision, recall)."""
    rows = steps.get("binary_tradeoff", {}).get("at_precision_targets", [])
    return [(r["target"], r["threshold"], r["precision"], r["recall"]) for r in rows if r.get("reached")]


#: The precision targets' vertical lines (80, 90, 95%): each its own pattern and colour, told apart in
#: grey print as in colour; none blue or green, the curves' colours.
TARGET_LINES = ((":", "tab:orange"), ("-.", "black"), ("--", "tab:purple"))


def plot_precision_recall_vs_threshold(arrays, steps, doc) -> Figure:
    fig = Figure(figsize=(10, 5), layout="constrained")
    ax = fig.add_subplot()
    t, p, r = arrays["thresholds"], arrays["precisions"][:-1], arrays["recalls"][:-1]
    ax.plot(t, p, "b--", lw=2, label="Precision")
    ax.plot(t, r, "g-", lw=2, label="Recall")
    for (target, thr, prec, rec), (style, color) in zip(_target_points(steps), TARGET_LINES):
        ax.axvline(thr, color=color, ls=style, lw=1.6,
                   label=f"{target:.0%} precision: threshold {thr:,.0f}, recall {rec:.1%}")
        ax.plot([thr, thr], [prec, rec], "o", color=color, ms=5)
    ax.xaxis.set_major_formatter(FuncFormatter(plain))
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
            f"{t.min():,.0f} to {t.max():,.0f}; vertical lines (dotted orange, dash-dot black, dashed purple) mark "
            f"{points}.")


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


HTML = {"binary_sgd": _step_binary_sgd, "binary_cv": _step_binary_cv, "binary_metrics": _step_binary_metrics,
        "binary_tradeoff": _step_binary_tradeoff, "binary_roc": _step_binary_roc}
PLOTS = (
    Plot("binary_confusion.png", "binary_metrics", (), plot_binary_confusion, alt_binary_confusion,
         "The {detector}'s confusion matrix."),
    Plot("precision_recall_vs_threshold.png", "binary_tradeoff", ("thresholds", "precisions", "recalls"),
         plot_precision_recall_vs_threshold, alt_precision_recall_vs_threshold,
         "Raising the threshold trades recall for precision (thresholds in this backend's score units)."),
    Plot("precision_vs_recall.png", "binary_roc", ("sgd_precisions", "forest_precisions"),
         plot_precision_vs_recall, alt_precision_vs_recall, "Precision against recall for the SGD and the forest."),
    Plot("roc.png", "binary_roc", ("fpr", "forest_fpr"), plot_roc, alt_roc,
         "ROC curves; the diagonal is a random classifier."),
)
