"""What each workflow step needs from the data, declared beside the step.

A step is decorated with the checks it needs (``@needs(fives_and_others(folds=True))``);
:func:`check_needs` runs them all before the first step, on the host labels,
so every backend refuses the same data with the same line, naming the step
and what the data lacks, instead of scikit-learn's traceback on one backend
and a fold error on another.

A step that only means something on some data (the multilabel step's
"large" and "odd" are properties of digits) declares it with
``@applies(check)``: elsewhere the run skips it and records why
(:func:`skip_reason`), instead of computing a figure that means nothing.

Each check is ``check(data, config) -> str | None``: None when the step can
run, else what it needs and what the data has.
"""
from __future__ import annotations

import math

import numpy as np

from gpuclf.data.classes import BOOK_POSITIVE
from gpuclf.errors import GpuclfError, option

#: scikit-learn's KNeighborsClassifier default, which the chapter uses.
KNN_NEIGHBORS = 5


def needs(*checks):
    """Decorator: declare the checks a step's data must pass (see :func:`check_needs`)."""
    def mark(step):
        step.needs = checks
        return step
    return mark


def applies(check):
    """Decorator: the step applies only to data that pass ``check``; elsewhere it is skipped, saying why."""
    def mark(step):
        step.applies = check
        return step
    return mark


def skip_reason(step, data, config) -> str | None:
    """Why ``step`` does not apply to ``data`` (see :func:`applies`), or None when it does."""
    check = getattr(step, "applies", None)
    return None if check is None else check(data, config)


def digit_classes(what: str):
    """The step asks questions of digits (``what``); classes with names of their own have no answer."""
    def check(data, config):
        if data.digits:
            return None
        names = data.class_names or ()
        names = f"named {', '.join(names[:3])} and {len(names) - 3} more" if len(names) > 3 else \
            f"named {', '.join(names)}" if names else "not digits"
        return f"{what} are properties of digits, and the classes of {data.source} are {names}"
    return check


def _rows(data, config, rows_of: str | None) -> int:
    """Training rows a step uses: all, or the first ``config.<rows_of>`` (the book's slices)."""
    n = len(data.y_train)
    return n if rows_of is None else min(getattr(config, rows_of), n)


def _where(n: int, data) -> str:
    return "the training set" if n == len(data.y_train) else f"the first {n} training rows"


def _gives(n: int, data) -> str:
    """``_where`` with its verb: "the training set gives", "the first 12 training rows give"."""
    return f"{_where(n, data)} {'gives' if n == len(data.y_train) else 'give'}"


def _class(data, label: int) -> str:
    """One class as the data names it: ``digit 4``, or ``class 'Sandal'`` where the classes have names."""
    return f"digit {label}" if data.class_names is None else f"class {data.class_name(label)!r}"


def _positive(data, config) -> int:
    """``config.positive_class`` as a label of ``data``; the default (the book's 5) on data without a 5, or a
    given class that is not one of its labels, refused (the binary steps and the error analysis use it)."""
    if config.positive_class == BOOK_POSITIVE and data.n_classes <= BOOK_POSITIVE:  # not given: the default
        raise GpuclfError(f"{data.source} has no label {BOOK_POSITIVE} for the book's {BOOK_POSITIVE}-detector "
                          f"(the default {option('--positive-class')}): its labels are {data.labels_text()}; "
                          f"give {option('--positive-class')}, or leave the binary steps and error_analysis out of "
                          f"{option('--steps')}")
    return data.label_of(config.positive_class)


def positive_class():
    """The error analysis shows the positive class's mix-ups: it must be a label of the data."""
    def check(data, config):
        _positive(data, config)
        return None
    return check


def fives_and_others(folds: bool):
    """The detector's two classes (the book's 5s and other digits), each at least ``cv`` times for CV.

    The positive class is ``config.positive_class``; one that is not a label
    of the data is refused here, before any step runs.
    """
    def check(data, config):
        positive = _positive(data, config)
        name = data.class_name(positive)
        n5 = int(np.count_nonzero(data.y_train == positive))
        others = len(data.y_train) - n5
        k = config.cv if folds else 1
        if min(n5, others) >= k:
            return None
        what = "digits" if data.class_names is None else "classes"
        purpose = f"for its {k}-fold cross-validation" if folds else f"to train a {name}-detector"
        return f"at least {k} image(s) of {name}s and {k} of other {what} {purpose}; the training set has " \
               f"{n5} {name}s and {others} others"
    return check


def two_digits(rows_of: str | None = None):
    """A multiclass model needs at least two digits among the rows it trains on."""
    def check(data, config):
        n = _rows(data, config, rows_of)
        found = np.unique(data.y_train[:n])
        if found.size >= 2:
            return None
        return f"at least 2 different digits in {_where(n, data)}; they are all {int(found[0])}s"
    return check


def digits_per_fold(folds_of: str = "cv", rows_of: str | None = None):
    """Stratified folds need every class present (digits 0-9, or each named class) at least once per fold."""
    def check(data, config):
        k, n = getattr(config, folds_of), _rows(data, config, rows_of)
        counts = np.bincount(data.y_train[:n])
        rare = [d for d in range(len(counts)) if 0 < counts[d] < k]
        if not rare:
            return None
        d = rare[0]
        kind = "digit" if data.class_names is None else "class"
        return f"at least {k} images of each {kind} in {_where(n, data)} for its {k}-fold cross-validation; " \
               f"{_class(data, d)} has {counts[d]}"
    return check


def neighbors(n_neighbors: int, folds_of: str | None = None, rows_of: str | None = None):
    """KNN needs ``n_neighbors`` rows to fit on: in the data, or in each CV training fold."""
    def check(data, config):
        n = _rows(data, config, rows_of)
        k = getattr(config, folds_of) if folds_of else None
        fit_rows = n - math.ceil(n / k) if k else n  # the smallest training fold
        if fit_rows >= n_neighbors:
            return None
        where = f" in each training fold of its {k}-fold cross-validation" if k else ""
        return f"at least {n_neighbors} rows to fit KNN with n_neighbors={n_neighbors}{where}; " \
               f"{_gives(n, data)} {fit_rows}"
    return check


def check_needs(steps: dict, data, config) -> None:
    """Run the declared checks of ``steps`` (name -> step function) on ``data``.

    Raises
    ------
    GpuclfError
        For the first step whose data falls short, naming the step and what it lacks.
    """
    for name, step in steps.items():
        for check in getattr(step, "needs", ()):
            lack = check(data, config)
            if lack:
                raise GpuclfError(f"step {name} cannot run on this data: it needs {lack}; use more rows "
                                  f"({option('--train-size')}), other data, or leave the step out of "
                                  f"{option('--steps')}")
