"""``MnistData`` on the edges of its contract (``gpuclf/data/dataset.py``): empty splits, the smallest
subsample, ``--positive-class`` text holding a colon and the class counts of the summary. Written against
survivors of ``tools/mutation.py --module data``."""
from __future__ import annotations

import numpy as np
import pytest

from gpuclf.data.dataset import MnistData
from gpuclf.errors import GpuclfError


def _data(y_train, y_test, **kw):
    return MnistData(np.zeros((len(y_train), 784), np.uint8), np.asarray(y_train, np.uint8),
                     np.zeros((len(y_test), 784), np.uint8), np.asarray(y_test, np.uint8), "csv:pets.csv", **kw)


@pytest.mark.parametrize("empty", ["train", "test"])
def test_names_are_checked_against_the_labels_there_are_an_empty_split_has_none(empty):
    """An empty split adds no label: the names need only cover the other split's labels."""
    data = _data([], [0, 1]) if empty == "train" else _data([0, 1], [])
    assert data.class_names is None
    named = _data([], [0, 1], class_names=["a", "b"]) if empty == "train" else \
        _data([0, 1], [], class_names=["a", "b"])
    assert named.class_names == ("a", "b")
    with pytest.raises(GpuclfError, match="1 class name"):
        _data([], [0, 1], class_names=["a"]) if empty == "train" else _data([0, 1], [], class_names=["a"])


def test_subsample_keeps_one_row_and_slices_both_splits():
    """``subsample(1, 1)``: one row is a positive number of rows; both splits are cut, labels with images."""
    data = _data([3, 1, 4, 1, 5], [9, 2, 6])
    small = data.subsample(1, 1)
    assert small.y_train.tolist() == [3] and small.y_test.tolist() == [9]
    assert small.X_train.shape == (1, 784) and small.X_test.shape == (1, 784)
    two = data.subsample(test_size=2)
    assert two.y_test.tolist() == [9, 2] and len(two.X_test) == 2 and len(two.y_train) == 5


@pytest.mark.parametrize("name, kw", [("train_size", {"train_size": 0}), ("test_size", {"test_size": 0}),
                                      ("test_size", {"test_size": -3})])
def test_a_size_below_one_is_refused_by_its_name(name, kw):
    """The message names the argument that is wrong."""
    with pytest.raises(GpuclfError) as exc:
        _data([0, 1], [0, 1]).subsample(**kw)
    assert str(exc.value) == f"{name} must be a positive number of rows, got {next(iter(kw.values()))}"


def test_name_prefix_takes_everything_after_the_first_colon():
    """``name:TEXT``: TEXT is the rest after ``name:``, colons and all."""
    data = _data([0, 1], [0, 1], class_names=("a:b", "b"))
    assert data.label_of("name:a:b") == 0
    assert data.label_of("name:b") == 1


def test_text_with_a_colon_that_is_no_prefix_is_a_class_name():
    """Only ``name:`` and ``label:`` are prefixes: ``t:1`` is the class named so, not label 1."""
    data = _data([0, 1], [0, 1], class_names=("t:1", "y"))
    assert data.label_of("t:1") == 0
    data = _data([0, 1], [0, 1], class_names=("name", "label"))
    assert data.label_of("name") == 0 and data.label_of("label") == 1


def test_summary_counts_every_class_in_both_splits_even_absent_ones():
    """Counts have one entry per class (ten digits without names), zeros for classes a split lacks."""
    summary = _data([0, 1, 1, 2], [3, 3]).summary()
    assert summary["train_class_counts"] == [1, 2, 1, 0, 0, 0, 0, 0, 0, 0]
    assert summary["test_class_counts"] == [0, 0, 0, 2, 0, 0, 0, 0, 0, 0]
    named = _data([0], [0], class_names=("a", "b", "c")).summary()
    assert named["train_class_counts"] == [1, 0, 0] and named["test_class_counts"] == [1, 0, 0]
