"""The classes a reader sees: their names, the binary detector's class, and what to call the detector.

Every text of the report, the figures and ``gpuclf compare`` names classes
through these functions, reading ``results.json`` (the run's
``config.positive_class`` and the data's ``class_names``), so "the
5-detector" of the book becomes "the Sandal-detector" on Fashion-MNIST.
"""
from __future__ import annotations

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
