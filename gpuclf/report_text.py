"""What the report says: step titles, the sentences under them, tables, deviations and headlines.

Each ``_step_*`` function turns one step's figures from ``results.json`` into
HTML (paragraphs and tables with units); :func:`deviations` lists every way
a run differs from the book's setup plus the library warnings it recorded,
for the report and the console alike.
"""
from __future__ import annotations

import numpy as np

from .html_page import esc, table
from .published import BOOK, BOOK_N_TEST, BOOK_N_TRAIN, HEADLINES, book_tolerance, is_book_setup, lookup, verdict
from .classes import (BOOK_POSITIVE, class_name, class_names, detector, has_names, is_book_task, positive_class,
                      positive_name)
from .kernels.shifted_neighbors import SHIFT_SETS, roofline_seconds
from .knn_plus import Preprocessing
from .workflow import FULL_SGD_ROWS, RunConfig

#: Human titles of the steps, in the chapter's words.
TITLES = {
    "data": "The MNIST data",
    "binary_sgd": "A first binary classifier: the 5-detector",
    "binary_cv": "Cross-validated accuracy of the 5-detector",
    "binary_metrics": "Confusion matrix, precision and recall of the 5-detector",
    "binary_tradeoff": "The precision/recall tradeoff",
    "binary_roc": "ROC curves: SGD against a random forest",
    "multiclass": "Multiclass classification: SVC, one-vs-rest, SGD",
    "error_analysis": "Error analysis of the scaled SGD",
    "multilabel": "Multilabel classification with a KNN",
    "denoise": "Multioutput classification: removing noise",
    "best_accuracy": "Exercise 1: a KNN tuned by grid search",
    "augmentation": "Exercise 2: data augmentation by shifting images",
    "knn_plus": "Beyond the book: a KNN on deskewed, shifted digits",
}


def title(step: str, doc: dict) -> str:
    """A step's title for this run: the book's :data:`TITLES`, with the run's detector ("the Sandal-detector")."""
    if step == "data" and not is_book_task(doc):
        return f"The data: {doc.get('data_source', 'images')}"
    return TITLES.get(step, step).replace("5-detector", detector(doc))


def pct(v, digits: int = 2) -> str:
    """A fraction as a percentage, e.g. ``95.04%``; dashes for missing values."""
    return "–" if v is None else f"{100 * v:.{digits}f}%"


def count(v) -> str:
    return "–" if v is None else f"{int(v):,}"


def change(before: float, after: float, show=lambda v: f"{v:,.1f}") -> str:
    """How a figure moved, worded the right way round whichever way it went.

    ``falls from 57.3 to 30.1 (47% lower)``, ``rises from 57.3 to 60.7 (6%
    higher)``, or ``stays at 57.3`` when the two print alike. Every sentence
    of the report built from a comparison words it through here.
    """
    if show(before) == show(after):
        return f"stays at {show(after)}"
    verb, word = ("falls", "lower") if after < before else ("rises", "higher")
    share = f" ({abs(after - before) / abs(before):.0%} {word})" if before else ""
    return f"{verb} from {show(before)} to {show(after)}{share}"


def better(a: float, b: float) -> bool | None:
    """Whether ``a`` beats ``b`` (higher is better): True, False, or None when they tie."""
    return None if a == b else a > b


def _p(*sentences: str) -> str:
    return "<p>" + " ".join(sentences) + "</p>"


def _folds_row(name: str, values) -> list:
    return [name, *(pct(v) for v in values), pct(float(np.mean(values)))]


def _step_data(f, doc) -> str:
    train, test = f.get("train_class_counts", []), f.get("test_class_counts", [])
    rows = [[class_name(doc, d), count(a), pct(a / max(sum(train), 1), 1), count(b),
             pct(b / max(sum(test), 1), 1)] for d, (a, b) in enumerate(zip(train, test))]
    return _p(f"Each image is a 28 × 28 grey-scale {'picture' if has_names(doc) else 'digit'}, flattened to {f.get('n_features', 784)} pixel "
              "intensities from 0 (white) to 255 (black).",
              f"This run uses <b>{esc(f.get('source'))}</b>: {count(f.get('n_train'))} training and "
              f"{count(f.get('n_test'))} test images (the book: {60_000:,} and {10_000:,}).") \
        + table(["Class" if has_names(doc) else "Digit", "Training images", "share", "Test images", "share"], rows)


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
    return _p("A stochastic gradient descent (SGD) linear classifier learns to answer one question: "
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
    return _p(f"{k}-fold cross-validation: each {'third' if k == 3 else 'fold'} of the training set is scored "
              f"by a model trained on the rest. The SGD is right on {pct(np.mean(sgd))} of images on average.",
              f"A baseline that always answers 'not {pos}' scores {pct(np.mean(dummy))}: {rarity}.") \
        + table(["Model", *(f"Fold {i + 1}" for i in range(k)), "Mean"],
                [_folds_row(f"SGD {detector(doc)}", sgd), _folds_row(f"Always 'not {name}'", dummy)])


def _step_binary_metrics(f, doc) -> str:
    (tn, fp), (fn, tp) = f["confusion_matrix"]
    name = positive_name(doc)
    pos = esc(name)
    rows = [[f"True: not {name}", count(tn), pct(tn / max(tn + fp, 1), 1), count(fp), pct(fp / max(tn + fp, 1), 1)],
            [f"True: {name}", count(fn), pct(fn / max(fn + tp, 1), 1), count(tp), pct(tp / max(fn + tp, 1), 1)]]
    return _p(f"The same out-of-fold predictions, counted by outcome. Of the {fn + tp:,} real {pos}s the "
              f"detector finds {tp:,}: a <b>recall</b> of {pct(f['recall'])}. Of the {tp + fp:,} images it calls "
              f"{pos}, {tp:,} are: a <b>precision</b> of {pct(f['precision'])}.",
              f"F1, their harmonic mean, is {pct(f['f1'])}.") \
        + table(["", f"Predicted: not {name}", "% of row", f"Predicted: {name}", "% of row"], rows)


def _prf_cells(r: dict) -> list:
    return [pct(r.get("precision")), pct(r.get("recall")), pct(r.get("f1"))]


def _step_binary_tradeoff(f, doc) -> str:
    lo, hi = f.get("score_range", [None, None])
    scale = f" Here they run from {lo:,.0f} to {hi:,.0f}." if lo is not None else ""
    parts = [_p("Precision and recall depend on the decision threshold: the detector calls an image a "
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
    return _p("The ROC curve plots the true positive rate (recall) against the false positive rate over all "
              "thresholds; the area under it (AUC) is 1 for a perfect detector and 0.5 for a coin toss.",
              f"The SGD's AUC is {f['sgd_auc']:.4f}; a random forest, scored by its predicted probability of "
              f"'{esc(positive_name(doc))}', reaches {f['forest_auc']:.4f}.{point}") \
        + table(["Model", "ROC AUC", "Precision", "Recall", "F1"],
                [["SGD", f"{f['sgd_auc']:.4f}", "–", "–", "–"],
                 ["Random forest (probability ≥ 0.5)", f"{f['forest_auc']:.4f}", pct(f.get("forest_precision")),
                  pct(f.get("forest_recall")), pct(f.get("forest_f1"))]])


def _step_multiclass(f, doc) -> str:
    cfg = doc.get("config", {})
    n_svc = min(cfg.get("svc_train_size", 2000), doc.get("n_train", 0))
    n_ovr = min(cfg.get("ovr_train_size", 1000), doc.get("n_train", 0))
    def named(label):
        return "–" if label is None else class_name(doc, label)

    rows = [[f"SVC, one-vs-one (first {n_svc:,} training images)", "test set", pct(f.get("svc_test_accuracy")),
             named(f.get("svc_some_digit"))],
            [f"SVC, one-vs-rest: {f.get('ovr_n_estimators')} binary SVCs (first {n_ovr:,})", "test set",
             pct(f.get("ovr_test_accuracy")), named(f.get("ovr_some_digit"))],
            ["SGD, raw pixels", "3-fold CV, mean", pct(np.mean(f["sgd_cv_accuracy"])), named(f.get("sgd_some_digit"))],
            ["SGD, standardised pixels", "3-fold CV, mean", pct(np.mean(f["sgd_scaled_cv_accuracy"])), "–"]]
    n = len(doc.get("steps", {}).get("data", {}).get("train_class_counts") or class_names(doc))
    what = "class" if has_names(doc) else "digit"
    raw, scaled = float(np.mean(f["sgd_cv_accuracy"])), float(np.mean(f["sgd_scaled_cv_accuracy"]))
    effect = {True: "helps the SGD, as in the book", False: "does not help the SGD here, unlike in the book",
              None: "leaves the SGD's accuracy unchanged here (in the book it helps)"}[better(scaled, raw)]
    return _p(f"{n} classes now. The SVC trains one classifier per pair of {what}s ({n * (n - 1) // 2} of them) "
              f"and lets them vote; one-vs-rest trains one per {what}; the SGD is one-vs-rest internally.",
              f"Standardising the pixels (zero mean, unit variance) {effect}: its cross-validated accuracy "
              f"{change(100 * raw, 100 * scaled, lambda v: f'{v:.2f}%')}.") \
        + table(["Model", "Measured on", "Accuracy", "'Some digit' predicted as"], rows, left=2)


def _step_error_analysis(f, doc) -> str:
    rows = [[class_name(doc, p["true"]), class_name(doc, p["predicted"]), count(p["count"]), pct(p["rate"])]
            for p in f.get("most_confused", [])]
    return _p("The scaled SGD's cross-validated predictions, class by class. The counts show where the model is "
              "right (the diagonal); dividing each row by its class size shows error rates that classes of "
              "different sizes can share; blanking the diagonal and normalising by row or by column shows "
              "which confusions dominate.") \
        + table(["True class", "Predicted as", "Images", "% of the true class"], rows, left=2)


def _step_multilabel(f, doc) -> str:
    large, odd = (f.get("some_digit_prediction") or [None, None])[:2]
    return _p("A KNN predicts two labels per image at once: 'large' (7, 8 or 9) and 'odd'.",
              f"For 'some digit' it says large = {large}, odd = {odd}.",
              f"Averaging the two labels' F1 scores gives {pct(f.get('f1_macro'))} (macro, both labels weigh "
              f"the same) and {pct(f.get('f1_weighted'))} (weighted by how many images carry each label).") \
        + table(["Average", "F1"], [["macro", pct(f.get("f1_macro"))], ["weighted", pct(f.get("f1_weighted"))]])


def _step_denoise(f, doc) -> str:
    noisy, clean = f.get("rmse_noisy"), f.get("rmse_denoised")
    worse = " The KNN's images are further from the clean ones than the noisy images were." \
        if better(noisy, clean) is False else ""
    return _p("Noise (random integers 0-99) is added to every pixel; a KNN predicts all 784 clean pixel "
              "values of each test image at once (multioutput classification).",
              f"The root-mean-square error against the clean images, in intensity levels of 255, "
              f"{change(noisy, clean)}.{worse}") \
        + table(["Images", "RMSE (pixel intensity, 0-255)"],
                [["noisy", f"{noisy:,.2f}"], ["KNN denoised", f"{clean:,.2f}"]])


def _step_best_accuracy(f, doc) -> str:
    cfg = doc.get("config", {})
    n = min(cfg.get("grid_train_size", 10_000), doc.get("n_train", 0))
    best = f.get("best_params", {})
    rows = [[str(g["params"]["n_neighbors"]), g["params"]["weights"], pct(g["mean_cv_accuracy"]),
             "best" if g["params"] == best else ""] for g in f.get("grid", [])]
    return _p(f"A grid search tries every n_neighbors × weights on the first {n:,} training images with "
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
    return _p(f"Every training image is shifted by one pixel left, right, up and down, giving "
              f"{count(f.get('n_train_augmented'))} training images; the best KNN "
              f"({esc(', '.join(f'{k}={v}' for k, v in f.get('params', {}).items()))}) trained on them scores "
              f"<b>{pct(f.get('test_accuracy'))}</b> on the test set"
              f"{' (the book: 97.63%)' if is_book_task(doc) else ''}.{drop_text}")


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
    parts = [_p(
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
    parts.append(_p(f"Test accuracy <b>{pct(acc)}</b> ({count(f['n_test_errors'])} errors in "
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
    parts.append("<h3>Cost</h3>" + _p(
        f"Distances are computed for every (query, augmented training image) pair: a GEMM of 2 × d FLOPs per pair "
        "and 16 + 4 × n_neighbors bytes of memory traffic (distance written, norms added, one read per "
        "neighbour picked, one to check the next). The last column is what one H200 would need at its peak memory "
        f"bandwidth (4.8 TB/s) or float32 rate, whichever binds: a lower bound, before launch overheads and the PCA's "
        f"small eigensolves on the host. Measured here on the {esc(doc.get('backend'))} backend.")
        + table(["Part", "Pairs", "TFLOP", "GB moved", f"Seconds ({doc.get('backend')})", "One H200 (model)"],
                rows))
    return "".join(parts)


STEP_HTML = {
    "data": _step_data, "binary_sgd": _step_binary_sgd, "binary_cv": _step_binary_cv,
    "binary_metrics": _step_binary_metrics, "binary_tradeoff": _step_binary_tradeoff,
    "binary_roc": _step_binary_roc, "multiclass": _step_multiclass, "error_analysis": _step_error_analysis,
    "multilabel": _step_multilabel, "denoise": _step_denoise, "best_accuracy": _step_best_accuracy,
    "augmentation": _step_augmentation, "knn_plus": _step_knn_plus,
}


def step_html(step: str, figures: dict, doc: dict) -> str:
    """The paragraphs and tables of one step; a step this version does not know gets its raw figures."""
    if isinstance(figures.get("skipped"), str):
        return f"<p class=note>Skipped: {esc(figures['skipped'])}.</p>"
    try:
        return STEP_HTML[step](figures, doc)
    except (KeyError, TypeError, ValueError):
        # Results from another gpuclf version: show what is there rather than fail.
        return table(["Figure", "Value"], [[k, str(v)] for k, v in figures.items()])


# -- deviations and warnings ---------------------------------------------------

_BOOK_SETUP = RunConfig()


def deviations(doc: dict) -> list[str]:
    """Every way this run differs from the book's setup, one sentence each."""
    out = []
    source, n_train, n_test = str(doc.get("data_source", "")), doc.get("n_train"), doc.get("n_test")
    if source.startswith("sample"):
        out.append("Data: the offline 5,000-digit sample, not full MNIST: every figure differs from the book's.")
    if (n_train, n_test) != (BOOK_N_TRAIN, BOOK_N_TEST):
        out.append(f"Data size: {n_train:,} training and {n_test:,} test images (the book: "
                   f"{BOOK_N_TRAIN:,} / {BOOK_N_TEST:,}).")
    asked = doc.get("config") or {}
    for option, key, have, what in (("--train-size", "train_size", n_train, "training"),
                                    ("--test-size", "test_size", n_test, "test")):
        if isinstance(asked.get(key), int) and isinstance(have, int) and asked[key] > have:
            out.append(f"{option} {asked[key]:,} asks for more {what} images than the data has: all {have:,} "
                       "were used.")
    if source.startswith("openml:") and source != "openml:mnist_784":
        out.append(f"Data: {source}, not MNIST: the book's figures do not apply and are not shown.")
    elif has_names(doc):
        out.append(f"Classes: named {', '.join(class_names(doc))}, not the digits: the book's figures are not shown.")
    if positive_class(doc) != BOOK_POSITIVE:
        out.append(f"Detector: the {detector(doc)} (--positive-class {positive_class(doc)}), not the book's "
                   "5-detector: its figures are not compared with the book's.")
    label = doc.get("steps", {}).get("binary_sgd", {}).get("some_digit_label")
    if label is not None and label != 5 and is_book_task(doc):
        out.append(f"'Some digit' (the first training image) is a {label} in this data, not the book's 5.")
    cfg, placement = doc.get("config", {}), doc.get("placement", {})
    sgd_libraries = {roles["sgd"]["library"] for roles in placement.values() if "sgd" in roles}
    if "scikit-learn" in sgd_libraries:
        cap = cfg.get("sklearn_sgd_max_iter") or (1000 if (n_train or 0) >= FULL_SGD_ROWS else 100)
        if cap != 1000:
            out.append(f"SGD: scikit-learn's epochs capped at max_iter={cap} (the book: its default 1000).")
    if sgd_libraries - {"scikit-learn"}:
        out.append("SGD: gpuclf's batched, averaged SGD rather than scikit-learn's per-sample one: its decision "
                   "scores and thresholds differ from scikit-learn's; accuracy, confusion matrix and AUC are held "
                   "to the parity tolerances.")
    names = {"cv": "cross-validation folds", "n_estimators": "random-forest trees",
             "svc_train_size": "SVC training images", "ovr_train_size": "one-vs-rest SVC training images",
             "grid_train_size": "grid-search training images", "grid_cv": "grid-search folds",
             "random_state": "random_state"}
    for key, name in names.items():
        book = getattr(_BOOK_SETUP, key)
        if key in cfg and cfg[key] != book:
            out.append(f"{name[0].upper() + name[1:]}: {cfg[key]:,} (the book: {book:,}).")
    for step, figures in doc.get("steps", {}).items():
        if isinstance(figures, dict) and isinstance(figures.get("skipped"), str):
            out.append(f"Skipped: {title(step, doc)}: {figures['skipped']}.")
    notes = sorted({p["note"] for roles in placement.values() for p in roles.values() if p.get("note")})
    out += [f"Placement: {note}." for note in notes]
    for step, why in (doc.get("warmup") or {}).get("skipped", {}).items():
        out.append(f"Warm-up: {title(step, doc)} could not run on the warm-up sample ({why}); "
                   "its kernels compiled inside its timed step.")
    return out


def warnings_by_step(doc: dict) -> list[tuple[str, str]]:
    """The library warnings ``results.json`` recorded, as (step title, warning)."""
    return [(title(step, doc), w) for step, ws in doc.get("warnings", {}).items() for w in ws]


# -- the headline table --------------------------------------------------------

def _show(value, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "matrix":
        return " / ".join(", ".join(f"{int(v):,}" for v in row) for row in value)
    if unit == "params":
        return ", ".join(f"{k}={v}" for k, v in value.items())
    value = float(np.mean(value))
    return {"fraction": pct, "score": lambda v: f"{v:,.2f}", "number": lambda v: f"{v:.4f}"}[unit](value)


def _diff(book, run, unit: str) -> str:
    from .published import difference

    d = difference(run, book)
    if d is None:
        return "–"
    if unit == "matrix":
        return f"largest cell {100 * d:.2f} pp of samples"
    if unit == "fraction":
        return f"{100 * d:+.2f} pp"
    return f"{d:+,.4f}" if unit == "number" else f"{d:+,.2f}"


def headline_rows(doc: dict) -> list[list[str]]:
    """Rows of the headline table: figure, book, this run, difference, tolerance, verdict (HTML)."""
    steps, comparable = doc.get("steps", {}), is_book_setup(doc)
    sgd_library = next((roles["sgd"]["library"] for roles in doc.get("placement", {}).values() if "sgd" in roles),
                       None)
    rows = []
    for h in HEADLINES:
        run = lookup(steps, h.key)
        if h.key.split(".")[0] not in steps:
            continue
        tol = book_tolerance(h, sgd_library)
        if run is None:
            v = "<span class=bad>not reached</span>"
        elif not comparable:
            v = "<span class=note>not compared: other data</span>"
        else:
            v = verdict(run, BOOK[h.key], tol)
            v = {"outside tolerance": f"<span class=bad>{v}</span>", "not compared": f"<span class=note>{v}</span>"
                 }.get(v, f"<span class=ok>{v}</span>")
        diff = _diff(BOOK[h.key], run, h.unit) if tol.comparable else "–"
        # A tolerance is shown only where it was applied: on other data the difference stands alone.
        rows.append([esc(h.label), esc(_show(BOOK[h.key], h.unit)), esc(_show(run, h.unit)), esc(diff),
                     esc(tol.text) if comparable or not tol.comparable else "–", v])
    return rows
