"""What reading a table tells the user: the sentences naming each file, and what the loaded data records.

Each expected message is written from the contract in ``gpuclf/data/tables.py``
and the validators it hands the columns to: every problem names the file it is
in (``--data file '…'`` or ``--test-data file '…'``) and, for labels, the label
column by name (``the label column 'label' of …``) or, in a file without a
header, by place (``the labels (first column) of …``); a file that cannot be read
as a file ends with what a table should hold; a first column taken as the labels
only by its place (no column named label, class or y, and no ``--label-column``)
that holds one value in every row is refused, saying how to give the label
column. The data records where it came from (``origin``, ``source``), which
reader read it and whether its labels were class names.

cuDF's ``Series.to_numpy`` is stricter than ``Series.to_pandas().to_numpy()``
(cuDF 26.10, ``cudf/core/frame.py`` ``_to_array``): a column whose type NumPy has
no array of (lists) raises ``NotImplementedError``, and true/false values with a
missing one raise ``ValueError`` (``NumericalColumn.values``); the emulated cuDF
refuses them too.
"""
from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from gpuclf.data import load_mnist
from gpuclf.data.tables import read_table
from gpuclf.errors import GpuclfError

PIXELS = [f"pixel{i}" for i in range(784)]
HINT = ("give a table with one row per image: a label column (named label, class or y, or the first column) and "
        "784 pixel columns")


def _table(path, labels, *, pixels=784, header=True, seed=0) -> str:
    """A CSV of ``labels`` (first column, ``label``) and ``pixels`` random pixel columns; returns its path."""
    X = np.random.default_rng(seed).integers(0, 256, size=(len(labels), pixels), dtype=np.uint8)
    df = pd.DataFrame(X, columns=PIXELS[:pixels])
    df.insert(0, "label", labels)
    df.to_csv(path, index=False, header=header)
    return str(path)


def _refused(train, test=None) -> str:
    with pytest.raises(GpuclfError) as info:
        load_mnist(train, test_source=test)
    return str(info.value)


def _text(tmp_path, text, **kwargs):
    path = tmp_path / "t.csv"
    path.write_text(text)
    return read_table(str(path), "t.csv", **kwargs)


# -- what the loaded data records -------------------------------------------------

def test_a_table_alone_records_its_file_label_column_and_reader(tmp_path):
    """One table, split 6/7: ``origin`` holds the absolute path and the label column, for ``--resume``."""
    train = _table(tmp_path / "train.csv", [0, 1, 2, 3, 4, 5, 6] * 2)
    data = load_mnist(train)
    assert data.origin == {"data": os.path.abspath(train), "label_column": "label"}
    assert data.source == "csv:train.csv"
    assert data.reader == "pandas"
    assert data.named_labels is False
    assert (len(data.y_train), len(data.y_test)) == (12, 2)


def test_a_table_alone_labelled_by_name_says_so(tmp_path):
    """Labels written as names are coded in sorted order, and the data says its labels were names."""
    train = _table(tmp_path / "train.csv", ["dog", "cat"] * 7)
    data = load_mnist(train)
    assert data.class_names == ("cat", "dog")
    assert data.named_labels is True


def test_a_pair_of_tables_labelled_by_number_records_both_files(tmp_path):
    """With ``--test-data`` every training row trains; both paths, the reader and numbered labels are recorded."""
    train = _table(tmp_path / "train.csv", [0, 1, 2] * 3)
    test = _table(tmp_path / "test.csv", [2, 1], seed=1)
    data = load_mnist(train, test_source=test)
    assert data.origin == {"data": os.path.abspath(train), "label_column": "label",
                           "test_data": os.path.abspath(test)}
    assert data.source == "csv:train.csv"
    assert data.reader == "pandas"
    assert data.named_labels is False
    np.testing.assert_array_equal(data.y_test, [2, 1])


def test_a_pair_of_tables_labelled_by_name_says_so(tmp_path):
    """Both files name their classes: the data's labels are names, whatever reader read them."""
    train = _table(tmp_path / "train.csv", ["dog", "cat", "emu"] * 3)
    test = _table(tmp_path / "test.csv", ["emu", "cat"], seed=1)
    data = load_mnist(train, test_source=test)
    assert data.named_labels is True
    assert data.reader == "pandas"
    np.testing.assert_array_equal(data.y_test, [2, 0])


# -- labels out of range: the column named, or its place --------------------------

@pytest.mark.parametrize("header, column", [(True, "the label column 'label'"), (False, "the labels (first column)")])
@pytest.mark.parametrize("with_test", [False, True])
def test_a_training_label_out_of_range_names_its_column_and_file(tmp_path, header, column, with_test):
    """Label 12 in the training file: its column (by name, or by place without a header) and the file are named."""
    train = _table(tmp_path / "train.csv", [0, 1, 12, 3, 4, 5, 6], header=header)
    test = _table(tmp_path / "test.csv", [1, 2], header=header, seed=1) if with_test else None
    assert _refused(train, test) == (f"{column} of --data file {train!r} contains the label 12; labels must be "
                                     "digits 0-9")


@pytest.mark.parametrize("header, column", [(True, "the label column 'label'"), (False, "the labels (first column)")])
def test_a_test_label_out_of_range_names_the_test_file(tmp_path, header, column):
    """Label 11 in the ``--test-data`` file: the sentence names that file and its label column."""
    train = _table(tmp_path / "train.csv", [0, 1, 2, 3], header=header)
    test = _table(tmp_path / "test.csv", [1, 11], header=header, seed=1)
    assert _refused(train, test) == (f"{column} of --test-data file {test!r} contains the label 11; labels must "
                                     "be digits 0-9")


# -- too few pixel columns, too many class names -----------------------------------

@pytest.mark.parametrize("with_test", [False, True])
def test_a_training_table_of_two_pixel_columns_is_named(tmp_path, with_test):
    """A training table of two pixel columns: the sentence names the training file and the 784 it needs."""
    train = _table(tmp_path / "train.csv", [0, 1, 2, 3, 4, 5, 6], pixels=2)
    test = _table(tmp_path / "test.csv", [1, 2], seed=1) if with_test else None
    assert _refused(train, test) == f"--data file {train!r} has 2 columns; MNIST images need 784 (28 x 28 pixels)"


def test_a_test_table_of_two_pixel_columns_is_named(tmp_path):
    """A well-formed training table and a two-pixel test table: the test file is the one named."""
    train = _table(tmp_path / "train.csv", [0, 1, 2])
    test = _table(tmp_path / "test.csv", [1, 2], pixels=2, seed=1)
    assert _refused(train, test) == f"--test-data file {test!r} has 2 columns; MNIST images need 784 (28 x 28 pixels)"


def test_eleven_class_names_in_the_training_table_are_refused(tmp_path):
    """Eleven names (a … k): the training file is named with its count and its first four (sorted) names."""
    train = _table(tmp_path / "train.csv", list("kjihgfedcba"))
    assert _refused(train) == (f"--data file {train!r} has 11 classes (a, b, c, d, …); gpuclf runs the chapter on "
                               "at most 10 classes")


def test_eleven_class_names_in_the_test_table_are_refused(tmp_path):
    """A test file of eleven names is named as the test file, whatever the training file holds."""
    train = _table(tmp_path / "train.csv", [0, 1, 2])
    test = _table(tmp_path / "test.csv", list("abcdefghijk"), seed=1)
    assert _refused(train, test) == (f"--test-data file {test!r} has 11 classes (a, b, c, d, …); gpuclf runs the "
                                     "chapter on at most 10 classes")


# -- a path that is not a table file -----------------------------------------------

def test_a_table_path_that_is_a_device_is_refused_before_reading(tmp_path):
    """``train.csv`` linked to ``/dev/null``: refused as a character device without being opened, with the hint."""
    train = tmp_path / "train.csv"
    train.symlink_to(os.devnull)
    assert _refused(str(train)) == f"--data file {str(train)!r} is a character device, not a file; {HINT}"


def test_a_missing_test_table_names_the_test_file(tmp_path):
    """A ``--test-data`` path that is not there: the test file is named, then what a table holds."""
    train = _table(tmp_path / "train.csv", [0, 1, 2])
    test = str(tmp_path / "test.csv")
    assert _refused(train, test) == f"--test-data file {test!r} does not exist; {HINT}"


# -- a first column taken as the labels by its place, holding one value ------------

@pytest.mark.parametrize("text, value", [("3,5,2\n3,9,9\n", "3"), ("0.0,5,2\n-0.0,9,9\n", "0.0")])
def test_a_headerless_first_column_of_one_value_is_refused(tmp_path, text, value):
    """No header: two rows whose first field is the same (``0.0`` equals ``-0.0``); the first row's value is shown."""
    with pytest.raises(GpuclfError) as info:
        _text(tmp_path, text)
    assert str(info.value) == (f"t.csv: its first column, taken as the labels (no column is named label, class or "
                               f"y: the file has no header), holds {value} in every row; give the label column "
                               "first")


def test_a_first_column_of_one_value_not_named_like_a_label_is_refused(tmp_path):
    """A header without label, class or y: the first column ``digit`` holds 3 throughout; --label-column is asked."""
    with pytest.raises(GpuclfError) as info:
        _text(tmp_path, "digit,pixel0,pixel1\n3,1,2\n3,4,5\n")
    assert str(info.value) == ("t.csv: its first column, taken as the labels (no column is named label, class or "
                               "y), holds 3 in every row; give the label column with --label-column")


@pytest.mark.parametrize("name", ["label", "Class", "Y"])
def test_a_column_named_like_a_label_may_hold_one_value(tmp_path, name):
    """A column named label, class or y (any case) is the label by its name, even with one class."""
    table = _text(tmp_path, f"{name},pixel0,pixel1\n3,1,2\n3,4,5\n")
    assert table.label == name
    np.testing.assert_array_equal(table.y, [3, 3])


def test_a_label_column_option_may_name_a_column_of_one_value(tmp_path):
    """``--label-column digit``: the user chose the column, so one value throughout is not refused."""
    table = _text(tmp_path, "pixel0,digit,pixel1\n1,3,2\n4,3,5\n", label_column="digit")
    assert table.label == "digit"
    np.testing.assert_array_equal(table.y, [3, 3])
    np.testing.assert_array_equal(table.X, [[1, 2], [4, 5]])


def test_a_single_headerless_row_is_read(tmp_path):
    """One row has nothing to compare: its first field is its label (the check needs more than one row)."""
    table = _text(tmp_path, "3,5,2\n")
    assert table.label is None
    np.testing.assert_array_equal(table.y, [3])
    np.testing.assert_array_equal(table.X, [[5, 2]])


# -- pandas' warnings while reading -------------------------------------------------

def test_a_pandas_warning_other_than_a_parser_warning_does_not_refuse_the_file(tmp_path, monkeypatch):
    """Only rows wider than the header (pandas' ParserWarning) refuse a CSV: another warning pandas gives while
    reading (a FutureWarning of some version) is passed on, and the table is read."""
    read_csv = pd.read_csv

    def warning_read_csv(*args, **kwargs):
        warnings.warn("a future pandas will read this differently", FutureWarning, stacklevel=2)
        return read_csv(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", warning_read_csv)
    with pytest.warns(FutureWarning, match="a future pandas"):
        table = _text(tmp_path, "label,pixel0\n1,7\n2,8\n")
    np.testing.assert_array_equal(table.y, [1, 2])
    np.testing.assert_array_equal(table.X, [[7], [8]])


# -- cuDF (emulated, with cuDF's to_numpy rules) ------------------------------------

@pytest.fixture
def strict_cudf():
    """The emulated cuDF, whose ``Series.to_numpy`` refuses what cuDF 26.10's refuses (``tests/fake_cudf.py``)."""
    import fake_cudf
    import fake_cupy

    with fake_cupy.installed(), fake_cudf.installed():
        yield fake_cudf


def _parquet(tmp_path, columns: dict) -> str:
    pytest.importorskip("pyarrow")
    path = str(tmp_path / "t.parquet")
    pd.DataFrame(columns).to_parquet(path)
    return path


def test_cudf_an_unnamed_first_column_of_true_false_with_a_gap_is_an_empty_cell(strict_cudf, tmp_path):
    """An unnamed first column is checked for row numbers on the host without failing on its missing value; the
    file is then refused for its empty cell, in that column."""
    path = _parquet(tmp_path, {"": [True, None, False], "label": [1, 2, 1], "pixel0": [0, 9, 255]})
    with pytest.raises(GpuclfError) as info:
        read_table(path, "t.parquet", reader="cudf")
    assert str(info.value) == ("t.parquet has empty cells (missing values), the first in column ''; every image "
                               "needs a label and 784 pixel values")


def test_cudf_a_label_column_of_lists_is_described(strict_cudf, tmp_path):
    """Lists in the label column, read by cuDF: described in words, never cuDF's own error."""
    path = _parquet(tmp_path, {"label": [[1], [2, 3], [4]], "pixel0": [0, 9, 255]})
    with pytest.raises(GpuclfError) as info:
        read_table(path, "t.parquet", reader="cudf")
    message = str(info.value)
    assert message.startswith("t.parquet has lists or other objects")
    assert message.endswith(" in its label column 'label'; labels must be class numbers (0, 1, …) or class names")


def test_cudf_a_pixel_column_of_lists_is_described(strict_cudf, tmp_path):
    """Lists in a pixel column, read by cuDF: described in words and named, never cuDF's own error."""
    path = _parquet(tmp_path, {"label": [1, 2, 1], "pixel0": [[1], [2, 3], [4]], "pixel1": [0, 9, 255]})
    with pytest.raises(GpuclfError) as info:
        read_table(path, "t.parquet", reader="cudf")
    message = str(info.value)
    assert message.startswith("t.parquet has lists or other objects")
    assert message.endswith(" in pixel column 'pixel0'; pixel values must be numbers from 0 to 255")
