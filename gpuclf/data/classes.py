"""Class names: given to the data (``--class-names``), and read back from ``results.json`` for every text.

:func:`name_classes` attaches names to a data set's labels. The other
functions are what the reader sees: every text of the report, the figures and ``gpuclf compare`` names classes
through these functions, reading ``results.json`` (the run's
``config.positive_class`` and the data's ``class_names``), so "the
5-detector" of the book becomes "the Sandal-detector" on Fashion-MNIST.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from gpuclf.data.dataset import MnistData
from gpuclf.errors import GpuclfError

#: The book's detector: "is this digit a 5?"
BOOK_POSITIVE = 5
DIGITS = tuple(str(d) for d in range(10))


def class_names(doc: dict) -> tuple[str, ...]:
    """Name of each label: the data's class names, else the digits."""
    names = doc.get("class_names") or doc.get("steps", {}).get("data", {}).get("class_names")
    return tuple(names) if names else DIGITS


def class_name(doc: dict, label) -> str:
    names = class_names(doc)
    label = int(label)
    return names[label] if 0 <= label < len(names) else str(label)


def positive_class(doc: dict) -> int:
    """The detector's label (``--positive-class``; 5 in runs that predate it)."""
    value = (doc.get("config") or {}).get("positive_class", BOOK_POSITIVE)
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else BOOK_POSITIVE


def positive_name(doc: dict) -> str:
    """The detector's class as a reader knows it: ``5``, ``Sandal``."""
    return class_name(doc, positive_class(doc))


def detector(doc: dict) -> str:
    """``5-detector``, ``Sandal-detector``."""
    return f"{positive_name(doc)}-detector"


def has_names(doc: dict) -> bool:
    """Whether the classes have names of their own (not the ten digits)."""
    return class_names(doc) != DIGITS


def is_book_task(doc: dict) -> bool:
    """The book's question on the book's classes: digits, and the detector asks "is it a 5?"."""
    source = str(doc.get("data_source", ""))
    other_openml = source.startswith("openml:") and source != "openml:mnist_784"
    return positive_class(doc) == BOOK_POSITIVE and not has_names(doc) and not other_openml


def name_classes(data: MnistData, names: tuple) -> MnistData:
    """``data`` with ``names`` (``--class-names``) as its classes' names, label 0 the first.

    A class keeps the name its data gives it, never another's: the file's
    names (``Sandal``), the names gpuclf knows for a set of codes
    (OpenML's Fashion-MNIST), else the labels as written (``5``). So
    ``names`` either are new names, given to the labels in label order
    (Fashion-MNIST's codes 0-9 named ``T-shirt/top``, ...), or are the data's
    own names in another order: then the labels are re-coded to that order
    (label 0 the first name) and each image keeps its name. A source that
    writes its labels as names (``named_labels``) takes only its own names.

    Raises
    ------
    GpuclfError
        Another number of names than classes, names that are not a
        labels-as-names file's own, or one of the data's own names given to
        another class than the one it names.
    """
    n = int(max(data.y_train.max(initial=0), data.y_test.max(initial=0))) + 1
    own = data.class_names or tuple(str(label) for label in range(n))
    if data.named_labels and sorted(names) != sorted(own):
        foreign = ", ".join(repr(n) for n in names if n not in own)
        lacking = ", ".join(repr(n) for n in own if n not in names)
        what = "; ".join([*([f"not among them: {foreign}"] if foreign else []),
                          *([f"missing: {lacking}"] if lacking else [])])
        raise GpuclfError(f"--class-names must be the class names {data.source} labels its images with "
                          f"({', '.join(own)}), in the order of the labels 0, 1, … they should get; {what}")
    if len(names) != len(own):
        comma = " (a name holding a comma goes in double quotes: \"Shirt, long\")" if len(names) > len(own) else ""
        raise GpuclfError(f"--class-names lists {len(names)} names, but {data.source} has {len(own)} classes (labels "
                          f"0-{len(own) - 1}); give one name per label, in label order{comma}")
    if sorted(names) == sorted(own):
        code = np.array([names.index(n) for n in own], dtype=np.uint8)  # old label -> new label
        return dataclasses.replace(data, y_train=code[data.y_train], y_test=code[data.y_test], class_names=names)
    moved = next(((i, name) for i, name in enumerate(names) if name in own and own.index(name) != i), None)
    if moved is not None:
        at, name = moved
        raise GpuclfError(f"--class-names gives label {at} the name {name!r}, the name of label {own.index(name)} "
                          f"in {data.source}; a class keeps its own name: list new names in label order, or all "
                          f"of its names ({', '.join(own)}) in the order their labels should get")
    return dataclasses.replace(data, class_names=names)
