"""How the report words things: step titles in the chapter's words, percentages, counts and changes."""
from __future__ import annotations

import numpy as np

from gpuclf.data.classes import detector, is_book_task

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


def paragraph(*sentences: str) -> str:
    return "<p>" + " ".join(sentences) + "</p>"


def folds_row(name: str, values) -> list:
    return [name, *(pct(v) for v in values), pct(float(np.mean(values)))]
