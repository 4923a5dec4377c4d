"""The book's published figures and the parity tolerances, in one place.

The report's headline table (book vs this run), ``gpuclf compare`` (run vs
run) and the tests (``tests/chapter/test_published_figures.py``,
``tests/chapter/test_parity.py``) all read them from here, so a tolerance is changed
once for all of them.

Figures are Géron, *Hands-On Machine Learning* (3rd ed.), chapter 3 and its
notebook, on the OpenML ``mnist_784`` file: the first 60,000 rows train, the
last 10,000 test. scikit-learn 1.9.1 reproduces the 5-detector's figures to
the last digit (``tests/chapter/test_published_figures.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

BOOK_N_TRAIN, BOOK_N_TEST = 60_000, 10_000
#: The thresholds the book tries on its 5-detector, in scikit-learn's score units on full MNIST.
BOOK_THRESHOLDS = (0.0, 3000.0, 8000.0)

#: The chapter's figures, by ``step.key`` of ``results.json``.
BOOK = {
    "binary_cv.sgd_cv_accuracy": [0.95035, 0.96035, 0.9604],
    "binary_cv.dummy_cv_accuracy": [0.90965, 0.90965, 0.90965],
    "binary_metrics.confusion_matrix": [[53892, 687], [1891, 3530]],
    "binary_metrics.precision": 0.8370879772350012,
    "binary_metrics.recall": 0.6511713705958311,
    "binary_metrics.f1": 0.7325171197343846,
    "binary_tradeoff.threshold_90_precision": 3370.0194991439557,
    "binary_tradeoff.recall_at_90": 0.4799852425751706,
    "binary_roc.sgd_auc": 0.9604938554008616,
    "binary_roc.forest_auc": 0.9983436731328145,
    "multiclass.sgd_scaled_cv_accuracy": [0.8983, 0.891, 0.9018],
    "multilabel.f1_macro": 0.976410265560605,
    "best_accuracy.best_params": {"n_neighbors": 4, "weights": "distance"},
    "best_accuracy.test_accuracy": 0.9714,
    "augmentation.test_accuracy": 0.9763,
}


@dataclass(frozen=True)
class Tolerance:
    """How far two values of one figure may lie apart and still agree.

    Attributes
    ----------
    text : str
        The rule in words, as the parity table of docs/parity.md states it.
    abs : float
        Largest absolute difference (of the mean, for per-fold lists; of any
        cell as a share of all samples, for confusion matrices).
    rel : float
        Largest relative difference (used instead of ``abs`` when set).
    comparable : bool
        False for figures in each model's own units (SGD decision
        thresholds): shown, never judged.
    what : str
        The figures held to it, in words (the parity table's first column).
    by_design : str
        Why gpuclf's SGD and scikit-learn's differ on these figures by
        design; set, the rule judges only two SGDs of one library, and two
        different SGDs are shown side by side, not judged
        (:func:`applied_tolerance`).
    """

    text: str
    abs: float = 0.0
    rel: float = 0.0
    comparable: bool = True
    what: str = ""
    by_design: str = ""


#: Why gpuclf's SGD gives other precision and recall than scikit-learn's (docs/parity.md explains it).
SGD_BY_DESIGN = ("it is another model than scikit-learn's per-sample SGD (which keeps its last iterate), with "
                 "scores on another scale, so its precision and recall at a threshold are its own")

#: The parity table of docs/parity.md (generated: :func:`tolerance_table`). The ``sgd_`` families judge
#: an SGD against another (gpuclf's against scikit-learn's, on the numpy and gpu backends); their
#: ``what`` names the SGD's figures.
TOLERANCES = {
    "identical": Tolerance("identical", what="data, fold assignment, dummy baseline, 'some digit' predictions, "
                                             "best KNN parameters"),
    "sgd_binary_accuracy": Tolerance("mean within 1.5 pp (stochastic SGD)", abs=0.015,
                                     what="detector CV accuracy"),
    "sgd_multiclass_accuracy": Tolerance("mean within 2 pp (stochastic SGD)", abs=0.02,
                                         what="multiclass CV accuracy"),
    "sgd_confusion": Tolerance("each cell, as a share of samples, within 2 pp", abs=0.02,
                               what="confusion matrices"),
    "sgd_auc": Tolerance("within 0.01", abs=0.01, what="ROC AUC"),
    "sgd_target": Tolerance("within 5 pp (each SGD's threshold is set to reach 90%)", abs=0.05,
                            what="precision at its 90%-precision threshold"),
    "sgd_rate": Tolerance("within 5 pp between two runs of one SGD", abs=0.05,
                          what="precision, recall and F1 at its threshold, and recall at 90% precision",
                          by_design=SGD_BY_DESIGN),
    "sgd_threshold": Tolerance("not compared: in each SGD's own score units", comparable=False,
                               what="decision thresholds"),
    "shown": Tolerance("shown, not judged", comparable=False, what="scores, per-sample values, derived tables"),
    "model": Tolerance("within 0.5 pp (forest, SVC)", abs=0.005,
                       what="random forest and SVC: AUC, accuracy, precision, recall"),
    "knn_accuracy": Tolerance("within 0.1 pp", abs=0.001, what="KNN grid-search and test accuracies"),
    "knn_f1": Tolerance("within 0.2 pp (>= 99.9% identical predictions)", abs=0.002, what="multilabel KNN F1"),
    "rmse": Tolerance("within 1%", rel=0.01, what="denoising RMSE"),
}


#: What stands in for a statistical tolerance on data other than full MNIST: the tolerances were
#: set from runs on full MNIST (the spread of SGD seeds, cuML against scikit-learn), and a smaller or
#: other set moves every figure by more, so there the difference is shown without a verdict.
UNCALIBRATED = Tolerance("none: the tolerances are set for full MNIST", comparable=False)
#: The verdict of a figure that two different SGDs give differently by design.
BY_DESIGN = "differs by design"


def applied_tolerance(family: str, full_mnist: bool, same_sgd: bool = True) -> Tolerance:
    """The tolerance a figure of ``family`` is judged by, on full MNIST or on other data.

    Parameters
    ----------
    family : str
        A key of :data:`TOLERANCES`.
    full_mnist : bool
        Whether the figures come from the book's setup (:func:`is_book_setup`).
    same_sgd : bool
        Whether both figures come from SGDs of one library; a family that
        differs by design between gpuclf's SGD and scikit-learn's is then
        shown, not judged (its ``by_design`` reason says why).

    Returns
    -------
    Tolerance
        On full MNIST every family's own tolerance; on other data only
        ``identical`` (what is deterministic is identical on any data) and
        the families never judged; the rest get :data:`UNCALIBRATED`.
    """
    tol = TOLERANCES[family]
    if tol.by_design and not same_sgd:
        return replace(tol, text="none: the two SGDs differ by design", comparable=False)
    return tol if full_mnist or family == "identical" or not tol.comparable else UNCALIBRATED


@dataclass(frozen=True)
class Headline:
    """One key figure of the chapter, as the report's headline table shows it."""

    key: str
    label: str
    unit: str = "fraction"

    @property
    def tolerance(self) -> Tolerance:
        return TOLERANCES[FIGURE_FAMILIES[self.key]]


#: The headline figures, in chapter order; ``unit`` is how they are printed.
HEADLINES = (
    Headline("binary_cv.sgd_cv_accuracy", "5-detector (SGD): 3-fold CV accuracy, mean"),
    Headline("binary_cv.dummy_cv_accuracy", "Always 'not 5' baseline: CV accuracy, mean"),
    Headline("binary_metrics.confusion_matrix", "5-detector confusion matrix", "matrix"),
    Headline("binary_metrics.precision", "5-detector precision"),
    Headline("binary_metrics.recall", "5-detector recall"),
    Headline("binary_metrics.f1", "5-detector F1"),
    Headline("binary_tradeoff.threshold_90_precision", "Threshold for 90% precision", "score"),
    Headline("binary_tradeoff.recall_at_90", "Recall at 90% precision"),
    Headline("binary_roc.sgd_auc", "SGD ROC AUC", "number"),
    Headline("binary_roc.forest_auc", "Random forest ROC AUC", "number"),
    Headline("multiclass.sgd_scaled_cv_accuracy", "10 classes, scaled SGD: CV accuracy, mean"),
    Headline("multilabel.f1_macro", "Multilabel KNN: macro F1", "number"),
    Headline("best_accuracy.best_params", "Best KNN (grid search)", "params"),
    Headline("best_accuracy.test_accuracy", "Best KNN: test accuracy"),
    Headline("augmentation.test_accuracy", "KNN on shifted images: test accuracy"),
)


#: Figures scikit-learn reproduces to the last digit on the book's data
#: (``tests/chapter/test_published_figures.py``): a run whose SGD is scikit-learn's is
#: held to them exactly, whatever the stochastic tolerance for other SGDs.
SKLEARN_REPRODUCES = ("binary_cv.sgd_cv_accuracy", "binary_cv.dummy_cv_accuracy", "binary_metrics.confusion_matrix",
                      "binary_metrics.precision", "binary_metrics.recall", "binary_metrics.f1",
                      "binary_tradeoff.threshold_90_precision", "binary_tradeoff.recall_at_90", "binary_roc.sgd_auc")
REPRODUCED = Tolerance("scikit-learn reproduces the book (relative 1e-9)", rel=1e-9)


def book_tolerance(headline: "Headline", sgd_library: str | None) -> Tolerance:
    """The tolerance a run's figure is held to against the book's, given the library its SGD ran on.

    The book's SGD is scikit-learn's: a run whose SGD is too is held to the
    book exactly where scikit-learn reproduces it; another SGD is held to
    the parity tolerances, except where it differs by design.
    """
    if sgd_library == "scikit-learn" and headline.key in SKLEARN_REPRODUCES:
        return REPRODUCED
    return applied_tolerance(FIGURE_FAMILIES[headline.key], True, same_sgd=sgd_library in (None, "scikit-learn"))


def lookup(steps: dict, key: str):
    """The value of ``step.key`` in a ``results.json`` ``steps`` mapping, or None."""
    step, _, name = key.partition(".")
    return steps.get(step, {}).get(name)


def difference(a, b) -> float | None:
    """The number a tolerance is checked against; None when there is none.

    Per-fold lists compare by their means; confusion matrices by their
    largest cell difference, each cell as a share of its matrix's samples;
    anything else that is not made of numbers (parameters, a figure of
    another kind in one of the runs) has no difference.
    """
    if a is None or b is None or isinstance(a, (dict, str, bool)):
        return None
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):  # not numbers, or ragged: a figure of another shape has no difference
        return None
    if not (a.size and b.size):
        return None
    if a.ndim == 2:
        if a.shape != b.shape:
            return None
        return float(np.max(np.abs(a / a.sum() - b / b.sum())))
    return float(np.mean(a) - np.mean(b))


def verdict(a, b, tolerance: Tolerance) -> str:
    """``identical``, ``within tolerance``, ``outside tolerance``, ``differs by design`` or ``not compared``.

    Parameters
    ----------
    a, b
        Two values of one figure (numbers, per-fold lists, matrices or
        parameter dicts), as ``results.json`` holds them.
    tolerance : Tolerance
    """
    if a is None or b is None or not tolerance.comparable:
        return BY_DESIGN if tolerance.by_design else "not compared"
    if a == b:
        return "identical"
    diff = difference(a, b)
    if diff is None:
        return "outside tolerance"
    limit = tolerance.rel * abs(float(np.mean(b))) if tolerance.rel else tolerance.abs
    # A hair of slack so that values printed equal are not judged apart.
    return "within tolerance" if abs(diff) <= limit + 1e-12 else "outside tolerance"


def is_book_setup(doc: dict) -> bool:
    """Whether a run used the book's data and task: the 60,000 / 10,000 split of full MNIST, the 5-detector.

    Another OpenML set (Fashion-MNIST), named classes or another positive
    class are not the book's, whatever their sizes (:func:`gpuclf.data.classes.is_book_task`).
    """
    from gpuclf.data.classes import is_book_task

    return doc.get("n_train") == BOOK_N_TRAIN and doc.get("n_test") == BOOK_N_TEST \
        and not str(doc.get("data_source", "")).startswith("sample") and is_book_task(doc)


#: Tolerance family of every figure ``gpuclf compare`` judges; figures not
#: listed (scores, per-sample lists, derived tables) are ``shown``, not judged.
FIGURE_FAMILIES = {
    "data.n_train": "identical", "data.n_test": "identical", "data.train_class_counts": "identical",
    "data.test_class_counts": "identical", "data.first_labels": "identical",
    "binary_sgd.some_digit_label": "identical",
    "binary_cv.sgd_cv_accuracy": "sgd_binary_accuracy", "binary_cv.dummy_cv_accuracy": "identical",
    "binary_cv.dummy_predicts_any_5": "identical",
    "binary_metrics.confusion_matrix": "sgd_confusion", "binary_metrics.precision": "sgd_rate",
    "binary_metrics.recall": "sgd_rate", "binary_metrics.f1": "sgd_rate",
    "binary_tradeoff.threshold_90_precision": "sgd_threshold", "binary_tradeoff.precision_at_90": "sgd_target",
    "binary_tradeoff.recall_at_90": "sgd_rate",
    "binary_roc.sgd_auc": "sgd_auc", "binary_roc.forest_auc": "model", "binary_roc.forest_precision": "model",
    "binary_roc.forest_recall": "model", "binary_roc.forest_f1": "model",
    "multiclass.svc_some_digit": "identical", "multiclass.svc_test_accuracy": "model",
    "multiclass.ovr_n_estimators": "identical", "multiclass.ovr_some_digit": "identical",
    "multiclass.ovr_test_accuracy": "model", "multiclass.sgd_cv_accuracy": "sgd_multiclass_accuracy",
    "multiclass.sgd_scaled_cv_accuracy": "sgd_multiclass_accuracy",
    "error_analysis.confusion_matrix": "sgd_confusion",
    "multilabel.some_digit_prediction": "identical", "multilabel.f1_macro": "knn_f1",
    "multilabel.f1_weighted": "knn_f1",
    "denoise.rmse_noisy": "rmse", "denoise.rmse_denoised": "rmse",
    "best_accuracy.best_params": "identical", "best_accuracy.best_cv_score": "knn_accuracy",
    "best_accuracy.test_accuracy": "knn_accuracy",
    "augmentation.params": "identical", "augmentation.n_train_augmented": "identical",
    "augmentation.test_accuracy": "knn_accuracy",
    "knn_plus.chosen": "identical", "knn_plus.best_cv_score": "knn_accuracy",
    "knn_plus.n_train_augmented": "identical", "knn_plus.test_accuracy": "knn_accuracy",
}


def _listing(items: list[str]) -> str:
    return ", ".join(items[:-1]) + f" and {items[-1]}" if len(items) > 1 else "".join(items)


def sgd_claim() -> str:
    """What gpuclf's SGD (numpy and gpu backends) matches of scikit-learn's, and what differs by design and why.

    Every claim about the numpy and gpu backends' figures (the README,
    ``gpuclf info``, the report, docs/parity.md) is this sentence, read from
    :data:`TOLERANCES`.
    """
    sgd = [t for key, t in TOLERANCES.items() if key.startswith("sgd_")]
    held = [t.what for t in sgd if t.comparable and not t.by_design]
    differs = [t.what for t in sgd if t.by_design]
    return (f"gpuclf's SGD, batched and averaged, matches scikit-learn's within the parity tolerances on "
            f"{_listing(held)}, and differs by design on {_listing(differs)}: {SGD_BY_DESIGN}")


def tolerance_table() -> str:
    """The parity table of docs/parity.md, as Markdown, from :data:`TOLERANCES`."""
    def judged(t: Tolerance) -> str:
        return f"not judged: {BY_DESIGN}" if t.by_design else "judged by it" if t.comparable else "not judged"

    rows = ["| figures | tolerance | numpy, gpu against cpu |", "| --- | --- | --- |"]
    rows += [f"| {'SGD ' if key.startswith('sgd_') else ''}{t.what} | {t.text} | {judged(t)} |"
             for key, t in TOLERANCES.items()]
    return "\n".join(rows) + "\n"
