"""The multiclass section of the report: SVC, one-vs-rest and SGD, raw and scaled."""
from __future__ import annotations

import numpy as np

from gpuclf.data.classes import class_name, class_names, has_names
from gpuclf.report.html_page import table
from gpuclf.report.words import better, change, paragraph, pct


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
    return paragraph(f"{n} classes now. The SVC trains one classifier per pair of {what}s ({n * (n - 1) // 2} of them) "
              f"and lets them vote; one-vs-rest trains one per {what}; the SGD is one-vs-rest internally.",
              f"Standardising the pixels (zero mean, unit variance) {effect}: its cross-validated accuracy "
              f"{change(100 * raw, 100 * scaled, lambda v: f'{v:.2f}%')}.") \
        + table(["Model", "Measured on", "Accuracy", "'Some digit' predicted as"], rows, left=2)


HTML = {"multiclass": _step_multiclass}
PLOTS = ()
