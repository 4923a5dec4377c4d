"""Every way a run differs from the book's setup, and the library warnings it recorded, one sentence each.

The report and the console read them alike.
"""
from __future__ import annotations

from gpuclf.chapter import FULL_SGD_ROWS, RunConfig
from gpuclf.chapter.published import BOOK_N_TEST, BOOK_N_TRAIN, sgd_claim
from gpuclf.data.classes import (BOOK_POSITIVE, class_names, detector, has_names, is_book_task, positive_class,
                                 positive_name)
from gpuclf.report.words import title

_BOOK_SETUP = RunConfig()


def deviations(doc: dict, positive_given: str | None = None) -> list[str]:
    """Every way this run differs from the book's setup, one sentence each.

    Parameters
    ----------
    doc : dict
        The run's ``results.json``.
    positive_given : str, optional
        ``--positive-class`` as the user typed it (the console echoes it; the
        report, which does not know it, names the class it denotes).
    """
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
    if positive_class(doc) != BOOK_POSITIVE or has_names(doc):
        out.append(_detector_note(doc, positive_given))
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
        out.append(f"SGD: {sgd_claim()}; its decision scores and thresholds are in its own units.")
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


def _detector_note(doc: dict, given: str | None) -> str:
    """Which class the detector asks about: as the user gave it, or picked by default among named classes."""
    label, name = positive_class(doc), positive_name(doc)
    named = has_names(doc)
    if given is None and label == BOOK_POSITIVE:  # the default label, which names make another class
        labels = ", ".join(f"{i} ({n})" for i, n in enumerate(class_names(doc)))
        return (f"Detector: the {detector(doc)}: label {BOOK_POSITIVE} (the default --positive-class, the book's) is "
                f"the class {name!r} in this data; give --positive-class NAME for another class (its labels: "
                f"{labels}).")
    what = f"the class {name!r}, label {label}" if named else f"label {label}"
    chosen = f"--positive-class {given}: {what}" if given is not None else f"{what}, chosen with --positive-class"
    return (f"Detector: the {detector(doc)} ({chosen}), not the book's 5-detector: its figures are not "
            "compared with the book's.")


def warnings_by_step(doc: dict) -> list[tuple[str, str]]:
    """The library warnings ``results.json`` recorded, as (step title, warning)."""
    return [(title(step, doc), w) for step, ws in doc.get("warnings", {}).items() for w in ws]
