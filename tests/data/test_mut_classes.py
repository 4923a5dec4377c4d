"""``name_classes`` on the edges of its contract (``gpuclf/data/classes.py``): a one-class set, an empty
test split, and the lists its messages spell out. Written against survivors of
``tools/mutation.py --module data``."""
from __future__ import annotations

import numpy as np
import pytest

from gpuclf.data.classes import name_classes
from gpuclf.data.dataset import MnistData
from gpuclf.errors import GpuclfError


def _data(y_train, y_test, **kw):
    return MnistData(np.zeros((len(y_train), 784), np.uint8), np.asarray(y_train, np.uint8),
                     np.zeros((len(y_test), 784), np.uint8), np.asarray(y_test, np.uint8), "csv:pets.csv", **kw)


def test_a_set_whose_labels_are_all_0_has_one_class_to_name():
    """Labels all 0 in both splits: one class (label 0), so exactly one name is asked for."""
    named = name_classes(_data([0, 0, 0], [0, 0]), ("only",))
    assert named.class_names == ("only",)
    np.testing.assert_array_equal(named.y_train, [0, 0, 0])
    with pytest.raises(GpuclfError, match=r"lists 2 names, but csv:pets.csv has 1 classes \(labels 0-0\)"):
        name_classes(_data([0, 0, 0], [0, 0]), ("a", "b"))


@pytest.mark.parametrize("empty", ["train", "test"])
def test_an_empty_split_adds_no_classes(empty):
    """The classes are counted over the labels there are: an empty split holds none (and raises nothing)."""
    labels, none = [0, 1, 2, 1], []
    data = _data(none, labels) if empty == "train" else _data(labels, none)
    named = name_classes(data, ("cat", "dog", "emu"))
    assert named.class_names == ("cat", "dog", "emu")
    assert len(named.y_train if empty == "train" else named.y_test) == 0


def test_a_labels_as_names_file_lists_each_foreign_and_missing_name_comma_separated():
    """The refusal names every given name that is not the file's and every name of the file left out."""
    data = _data([0, 1, 2], [2, 1], class_names=("cat", "dog", "emu"), named_labels=True)
    with pytest.raises(GpuclfError) as exc:
        name_classes(data, ("cat", "ox", "yak"))
    message = str(exc.value)
    assert "(cat, dog, emu)" in message
    assert message.endswith("; not among them: 'ox', 'yak'; missing: 'dog', 'emu'")


def test_a_moved_name_lists_all_the_data_s_names_comma_separated():
    """Giving one of the data's own names to another label: the message lists its names ``a, b, c``."""
    data = _data([0, 1, 2], [2, 1], class_names=("cat", "dog", "emu"))
    with pytest.raises(GpuclfError) as exc:
        name_classes(data, ("dog", "x", "y"))
    assert str(exc.value) == ("--class-names gives label 0 the name 'dog', the name of label 1 in csv:pets.csv; a "
                              "class keeps its own name: list new names in label order, or all of its names "
                              "(cat, dog, emu) in the order their labels should get")
