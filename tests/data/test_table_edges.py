"""Table edges a user reads: the sentences about a test file's classes, column descriptions, header rules.

Each expected message is written from the contract in ``gpuclf/data/tables.py``:
a test file labelled otherwise than the training file is refused in one
sentence that says how each labels its classes (``by number``, or ``by name``
with the first three names and ``…`` after them), or which of its classes the
training file has no images of; a refused column is described by what it holds,
with ``(dtype …)`` unless its dtype is a text/object one; a first CSV line is a
header when a field after the first is not a number, when it names the label,
or when its fields are column positions k, k+1, …; an unnamed first column of
more than 10 distinct integers is the row index pandas writes; column names
compare with their numbers blanked (``pixel#``, ``#x#``).
"""
from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest

from gpuclf.data import load_mnist
from gpuclf.data.tables import _pattern, _pixel_dtype, csv_layout, read_table
from gpuclf.errors import GpuclfError

PIXELS = [f"pixel{i}" for i in range(784)]


def _images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=(n, 784), dtype=np.uint8)


def _csv(path, labels, seed=0):
    """A 784-pixel table with a ``label`` column first; returns (path, pixels)."""
    X = _images(len(labels), seed)
    df = pd.DataFrame(X, columns=PIXELS)
    df.insert(0, "label", labels)
    df.to_csv(path, index=False)
    return str(path), X


def _load_pair(tmp_path, train_labels, test_labels):
    train, _ = _csv(tmp_path / "train.csv", train_labels)
    test, _ = _csv(tmp_path / "test.csv", test_labels, seed=1)
    return train, test


def _message(train, test):
    with pytest.raises(GpuclfError) as info:
        load_mnist(train, test_source=test)
    return str(info.value)


# -- a test file's classes against the training file's --------------------------

def test_test_file_by_name_against_training_by_number_shows_three_names_then_ellipsis(tmp_path):
    """Four class names: the first three (sorted) are shown, then ``…``; the training file is ``by number``."""
    train, test = _load_pair(tmp_path, [0, 1, 2, 3] * 3, ["dog", "cat", "bee", "ant"] * 2)
    assert _message(train, test) == (
        f"--test-data file {test!r} labels its classes by name (ant, bee, cat, …), but --data file {train!r} "
        "by number; label both files the same way")


def test_training_file_by_name_with_three_classes_has_no_ellipsis(tmp_path):
    """Exactly three names are all shown, with no ``…``; the test file labelled by number says so."""
    train, test = _load_pair(tmp_path, ["cat", "ant", "bee"] * 4, [0, 1, 2, 1])
    assert _message(train, test) == (
        f"--test-data file {test!r} labels its classes by number, but --data file {train!r} by name "
        "(ant, bee, cat); label both files the same way")


def test_test_classes_the_training_file_lacks_are_named(tmp_path):
    """Only the unknown test classes are listed (quoted), then every training class."""
    train, test = _load_pair(tmp_path, ["cat", "ant", "bee"] * 4, ["emu", "bee", "dog", "bee"])
    assert _message(train, test) == (
        f"--test-data file {test!r} has the class(es) 'dog', 'emu', which --data file {train!r} has no images "
        "of (its classes: ant, bee, cat); test only classes the model trains on")


def test_test_names_are_coded_as_the_training_files_classes(tmp_path):
    """A test file holding a subset of the classes gets the training file's codes (sorted names: ant=0 … dog=3)."""
    train, test = _load_pair(tmp_path, ["ant", "bee", "cat", "dog"] * 3, ["dog", "bee", "bee", "dog", "dog"])
    data = load_mnist(train, test_source=test)
    assert data.class_names == ("ant", "bee", "cat", "dog")
    np.testing.assert_array_equal(data.y_train, [0, 1, 2, 3] * 3)
    np.testing.assert_array_equal(data.y_test, [3, 1, 1, 3, 3])
    assert data.y_test.dtype == np.uint8


# -- a refused column, in words -------------------------------------------------

@pytest.mark.parametrize("spoil, described", [
    (lambda n: [[v] for v in range(n)], "lists or other objects"),       # object dtype: no "(dtype object)"
    (lambda n: pd.array([f"v{v}" for v in range(n)], dtype="string"), "text"),  # "string" dtype: not repeated
    (lambda n: np.arange(n) % 2 == 0, "true/false values (dtype bool)"),  # a dtype that says more
])
def test_a_refused_pixel_column_is_described_with_its_dtype_only_where_it_says_more(tmp_path, spoil, described):
    """Parquet keeps lists (object) and nullable strings (``string``): their dtype is left out of the words."""
    pytest.importorskip("pyarrow")
    X = _images(12)
    df = pd.DataFrame(X, columns=PIXELS)
    df.insert(0, "label", np.arange(12) % 10)
    df["pixel1"] = spoil(12)
    path = str(tmp_path / "t.parquet")
    df.to_parquet(path)
    with pytest.raises(GpuclfError) as info:
        load_mnist(path)
    assert str(info.value) == (f"--data file {path!r} has {described} in pixel column 'pixel1'; pixel values "
                               "must be numbers from 0 to 255")


# -- which first lines are headers ----------------------------------------------

def _read(path, text, **kwargs):
    path.write_text(text)
    return read_table(str(path), "t.csv", **kwargs)


def _refusal(tmp_path, text, **kwargs) -> str:
    """The one-sentence refusal of a ``t.csv`` holding ``text`` (``kwargs``: ``read_table``'s options)."""
    with pytest.raises(GpuclfError) as info:
        _read(tmp_path / "t.csv", text, **kwargs)
    return str(info.value)


def test_a_first_field_naming_the_label_makes_a_header_in_any_case(tmp_path):
    """``Label`` names the label column even when the other names are numbers that are not positions."""
    table = _read(tmp_path / "t.csv", "Label,1,3,5\n4,10,20,30\n7,40,50,60\n")
    assert table.label == "Label"
    np.testing.assert_array_equal(table.y, [4, 7])
    np.testing.assert_array_equal(table.X, [[10, 20, 30], [40, 50, 60]])


def test_a_word_in_the_second_field_makes_a_header(tmp_path):
    """``target,value``: a field after the first is not a number, so the line names columns."""
    table = _read(tmp_path / "t.csv", "target,value\n4,200\n7,13\n")
    assert table.label == "target"
    np.testing.assert_array_equal(table.y, [4, 7])
    np.testing.assert_array_equal(table.X, [[200], [13]])


def test_a_row_of_a_label_and_one_pixel_is_data(tmp_path):
    """``3,200``: numbers after the first field, but a single one is no run of column positions."""
    table = _read(tmp_path / "t.csv", "3,200\n5,17\n")
    assert table.label is None
    np.testing.assert_array_equal(table.y, [3, 5])
    np.testing.assert_array_equal(table.X, [[200], [17]])


def test_a_row_of_numbers_not_counting_up_by_one_is_data(tmp_path):
    """``5,1,0``: the numbers after the label fall, so they are pixel values, not column positions."""
    table = _read(tmp_path / "t.csv", "5,1,0\n6,9,9\n")
    assert table.label is None
    np.testing.assert_array_equal(table.y, [5, 6])
    np.testing.assert_array_equal(table.X, [[1, 0], [9, 9]])


def test_integer_column_names_pandas_writes_are_a_header(tmp_path):
    """``0,1,2`` (``DataFrame.to_csv`` of integer names): column positions, so a header; the label is first."""
    path = tmp_path / "t.csv"
    pd.DataFrame({0: [4, 7, 1], 1: [10, 20, 30], 2: [40, 50, 60]}).to_csv(path, index=False)
    assert path.read_text().splitlines()[0] == "0,1,2"
    table = read_table(str(path), "t.csv")
    assert table.label == "0"
    np.testing.assert_array_equal(table.y, [4, 7, 1])
    np.testing.assert_array_equal(table.X, [[10, 40], [20, 50], [30, 60]])


# -- the row index pandas writes ------------------------------------------------

@pytest.mark.parametrize("n", [11, 30])
def test_an_unnamed_first_column_of_more_than_10_distinct_integers_is_the_row_index(tmp_path, n):
    """``DataFrame.to_csv`` with its index: the unnamed column 0 … n-1 (n > 10) is dropped, not read as pixels."""
    path = tmp_path / "t.csv"
    labels, pixels = np.arange(n) % 3, (np.arange(2 * n) % 256).reshape(n, 2)
    pd.DataFrame({"label": labels, "pixel0": pixels[:, 0], "pixel1": pixels[:, 1]}).to_csv(path)
    assert path.read_text().startswith(",label,pixel0,pixel1\n")
    table = read_table(str(path), "t.csv")
    assert table.label == "label"
    np.testing.assert_array_equal(table.y, labels)
    np.testing.assert_array_equal(table.X, pixels)


def test_integer_named_frame_with_its_index_keeps_the_label_first(tmp_path):
    """``,0,1`` and 12 rows: the index is dropped and column ``0`` is the label."""
    path = tmp_path / "t.csv"
    labels, pixels = np.arange(12) % 4, np.arange(12) * 20
    pd.DataFrame({0: labels, 1: pixels}).to_csv(path)
    table = read_table(str(path), "t.csv")
    assert table.label == "0"
    np.testing.assert_array_equal(table.y, labels)
    np.testing.assert_array_equal(table.X, pixels[:, None])


def test_ten_distinct_integers_in_an_unnamed_first_column_are_labels(tmp_path):
    """10 rows labelled 0 … 9 once each: not more than 10 distinct integers, so the column stays, as the label."""
    path = tmp_path / "t.csv"
    pixels = (np.arange(20) * 7 % 256).reshape(10, 2)
    path.write_text(",pixel0,pixel1\n" + "".join(f"{i},{a},{b}\n" for i, (a, b) in enumerate(pixels)))
    table = read_table(str(path), "t.csv")
    assert table.label == ""
    np.testing.assert_array_equal(table.y, np.arange(10))
    np.testing.assert_array_equal(table.X, pixels)


def test_repeated_integers_in_an_unnamed_first_column_are_labels(tmp_path):
    """An unnamed first column whose integers repeat (30 rows, classes 0 … 2) is a label column, not an index."""
    path = tmp_path / "t.csv"
    labels = np.arange(30) % 3
    path.write_text(",pixel0,pixel1\n" + "".join(f"{v},{i},{2 * i}\n" for i, v in enumerate(labels)))
    table = read_table(str(path), "t.csv")
    assert table.label == ""
    np.testing.assert_array_equal(table.y, labels)
    np.testing.assert_array_equal(table.X, np.column_stack([np.arange(30), 2 * np.arange(30)]))


# -- column names with their numbers blanked ------------------------------------

@pytest.mark.parametrize("name, pattern", [("pixel0", "pixel#"), ("pixel783", "pixel#"), ("1x1", "#x#"),
                                           ("28x28", "#x#"), (" Pixel12 ", "pixel#")])
def test_pattern_blanks_the_numbers_of_a_name(name, pattern):
    """The docstring's examples: ``pixel#`` for pixel0 … pixel783, ``#x#`` for 1x1 … 28x28."""
    assert _pattern(name) == pattern


def test_a_first_column_named_like_the_pixels_is_refused_with_the_other_names(tmp_path):
    """No label name, and the first of ``Pixel0 … pixel2, digit`` is named like most columns: refused."""
    message = _refusal(tmp_path, "Pixel0,pixel1,PIXEL2,digit\n1,2,3,4\n5,6,7,8\n")
    assert message == ("t.csv has no column named label, class or y, and its first column 'Pixel0' is "
                       "named like its pixel columns; give the label column with --label-column "
                       "(columns named otherwise: digit)")


# -- a CSV's first line: separator and names ------------------------------------

@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_the_separator_is_the_one_that_splits_the_first_line_most(tmp_path, sep):
    """Each of the four separators is found from the header line, with the names it splits off."""
    path = tmp_path / "t.csv"
    path.write_text(sep.join(["label", "pixel0", "pixel1"]) + "\n" + sep.join(["1", "2", "3"]) + "\n")
    assert csv_layout(str(path), "t.csv") == (sep, ["label", "pixel0", "pixel1"])
    table = read_table(str(path), "t.csv")  # pandas reads with the separator found
    assert table.label == "label"
    np.testing.assert_array_equal(table.y, [1])
    np.testing.assert_array_equal(table.X, [[2, 3]])


def test_a_word_deep_in_a_pixel_column_is_text_however_long_the_file(tmp_path):
    """A word in the last of 1,100 rows makes the whole pixel column ``text``, not "lists or other objects".

    1,100 rows is past pandas' first parsing chunk (about 1,000 rows at 785
    columns): a chunk-by-chunk type guess would make the column a mix of
    numbers and words.
    """
    n = 1100
    df = pd.DataFrame(np.zeros((n, 784), dtype=np.uint8), columns=PIXELS)
    df.insert(0, "label", np.arange(n) % 10)
    df = df.astype({"pixel1": object})
    df.loc[n - 1, "pixel1"] = "dark"
    path = str(tmp_path / "t.csv")
    df.to_csv(path, index=False)
    with pytest.raises(GpuclfError) as info:
        load_mnist(path)
    assert str(info.value) == (f"--data file {path!r} has text in pixel column 'pixel1'; pixel values must be "
                               "numbers from 0 to 255")


def test_a_gzipped_csv_is_read_through_gzip_whatever_the_case_of_its_suffix(tmp_path):
    """``.CSV.GZ`` is a gzipped CSV too: its first line is read decompressed."""
    path = tmp_path / "T.CSV.GZ"
    with gzip.open(path, "wt") as f:
        f.write("\n\nlabel;pixel0;pixel1\n1;2;3\n")
    assert csv_layout(str(path), "T.CSV.GZ") == (";", ["label", "pixel0", "pixel1"])


def test_a_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    """Excel's "CSV UTF-8" starts with a BOM; the first column is still named ``label``."""
    path = tmp_path / "t.csv"
    path.write_bytes("label,pixel0,pixel1\n1,2,3\n".encode("utf-8-sig"))
    assert csv_layout(str(path), "t.csv") == (",", ["label", "pixel0", "pixel1"])
    assert read_table(str(path), "t.csv").label == "label"


def test_bytes_that_are_not_utf8_do_not_stop_the_layout(tmp_path):
    """csv_layout raises only for a file with no non-blank line: other bytes are the reader's to judge (cuDF reads
    them)."""
    path = tmp_path / "t.csv"
    path.write_bytes(b"label;caf\xe9;pixel1\n1;2;3\n")
    sep, names = csv_layout(str(path), "t.csv")
    assert sep == ";" and len(names) == 3 and names[0] == "label" and names[2] == "pixel1"


def test_every_field_of_the_header_is_a_name_even_an_empty_last_one(tmp_path):
    """A trailing tab ends the header with an empty name; names ending in capital letters keep them (``INDEX``)."""
    path = tmp_path / "t.tsv.csv"
    path.write_text("label\tpixel0\tINDEX\t\n1\t2\t3\t\n")
    assert csv_layout(str(path), "t.csv") == ("\t", ["label", "pixel0", "INDEX", ""])


def test_a_label_column_named_with_capital_letters_at_the_end(tmp_path):
    """``--label-column INDEX`` finds the last column, named as written."""
    path = tmp_path / "t.csv"
    path.write_text("pixel0,pixel1,INDEX\n10,20,3\n30,40,5\n")
    table = read_table(str(path), "t.csv", label_column="INDEX")
    assert table.label == "INDEX"
    np.testing.assert_array_equal(table.y, [3, 5])
    np.testing.assert_array_equal(table.X, [[10, 20], [30, 40]])


# -- the label column's name: ambiguous, or not there to name --------------------

def test_two_columns_of_a_labels_name_are_refused_with_their_positions(tmp_path):
    """``label`` and ``Label`` (columns 1 and 3): both named, with their 1-based positions."""
    message = _refusal(tmp_path, "label,pixel0,Label,pixel1\n1,2,3,4\n5,6,7,8\n")
    assert message == ("t.csv has 2 columns named 'label' and 'Label' (columns 1 and 3): which is the "
                       "label? Keep one, or give --label-column with a name that is there once")


def test_a_label_column_option_naming_two_columns_is_refused(tmp_path):
    """``--label-column digit`` with ``digit`` twice (columns 2 and 4): the name once, both positions."""
    message = _refusal(tmp_path, "pixel0,digit,pixel1,digit\n1,2,3,4\n5,6,7,8\n", label_column="digit")
    assert message == ("t.csv has 2 columns named 'digit' (columns 2 and 4); rename all but one, or give "
                       "--label-column another column")


@pytest.mark.parametrize("header, shown", [
    ("pixel0,pixel1,pixel2,pixel3,label", "pixel0, pixel1, pixel2, pixel3, label"),
    ("pixel0,pixel1,pixel2,pixel3,pixel4,label", "pixel0, pixel1, pixel2, pixel3, pixel4, …"),
])
def test_a_label_column_option_not_there_shows_five_columns_then_an_ellipsis(tmp_path, header, shown):
    """Up to five column names are shown; ``…`` follows only when there are more than five."""
    text = header + "\n" + ",".join(["1"] * (header.count(",") + 1)) + "\n"
    message = _refusal(tmp_path, text, label_column="target")
    assert message == f"--label-column 'target' is not a column of t.csv (it has {shown})"


def test_a_label_column_option_for_a_file_without_header(tmp_path):
    """A CSV of numbers has no names: ``--label-column`` is refused, saying the label is the first column."""
    message = _refusal(tmp_path, "3,200,7\n5,17,9\n", label_column="label")
    assert message == ("--label-column 'label': t.csv has no header row to name it; its label is the "
                       "first column")


# -- empty cells and categorical pixels -----------------------------------------

def test_empty_cells_are_named_by_their_first_column(tmp_path):
    """The first column (left to right) holding an empty cell is named in the sentence."""
    message = _refusal(tmp_path, "label,pixel0,pixel1,pixel2\n1,2,3,4\n5,6,,8\n9,10,11,\n")
    assert message == ("t.csv has empty cells (missing values), the first in column 'pixel1'; every "
                       "image needs a label and 784 pixel values")


@pytest.mark.parametrize("dtype, expected", [
    (pd.CategoricalDtype([0, 128, 255]), np.dtype(np.int64)),
    (pd.CategoricalDtype([0.0, 0.5, 1.0]), np.dtype(np.float64)),
    (pd.CategoricalDtype(["dark", "light"]), None),
    (pd.Int64Dtype(), np.dtype(np.int64)),
    (np.dtype(bool), None),
])
def test_a_categorical_column_of_numbers_is_pixels_of_its_categories_type(dtype, expected):
    """The docstring's rule: integers or reals, nullable or categorical (by the categories' type); else None.

    Parquet read by pandas gives numeric categories back as plain numbers, so
    the categorical case is pinned on the function itself.
    """
    assert _pixel_dtype(dtype) == expected


def test_the_names_unlike_the_pixels_are_listed_five_at_most(tmp_path):
    """Twelve ``pixel#`` columns first and six others: the refusal lists the first five others, comma-separated."""
    names = [f"pixel{i}" for i in range(12)] + ["a", "b", "c", "d", "e", "f"]
    message = _refusal(tmp_path, ",".join(names) + "\n" + ",".join(str(i) for i in range(18)) + "\n")
    assert message.endswith("give the label column with --label-column (columns named otherwise: a, b, c, d, e)")


# -- the readers: cuDF (emulated) with the layout found, pandas without pyarrow ---

@pytest.fixture
def cudf_reader():
    import fake_cudf
    import fake_cupy

    with fake_cupy.installed(), fake_cudf.installed():
        yield fake_cudf


def test_cudf_reads_parquet_with_its_parquet_reader(cudf_reader, tmp_path):
    """A Parquet file goes to ``cudf.read_parquet``; the pixels come back on the device."""
    pytest.importorskip("pyarrow")
    path = str(tmp_path / "t.parquet")
    pd.DataFrame({"label": [1, 2, 1], "pixel0": [0, 255, 0], "pixel1": [7, 8, 9]}).to_parquet(path)
    table = read_table(path, "t.parquet", reader="cudf")
    assert cudf_reader.reads == [("read_parquet", path)]
    assert table.label == "label"
    np.testing.assert_array_equal(table.y, [1, 2, 1])
    np.testing.assert_array_equal(table.X.get(), [[0, 7], [255, 8], [0, 9]])


@pytest.mark.parametrize("name, text, label, y, X", [
    ("t.csv", "label|pixel0|pixel1\n1|2|3\n4|5|6\n", "label", [1, 4], [[2, 3], [5, 6]]),  # the separator found
    ("t.csv", "3,200,17\n5,17,9\n", None, [3, 5], [[200, 17], [17, 9]]),                  # no header: row 1 is data
    ("t.csv.gz", "label;pixel0\n1;2\n4;5\n", "label", [1, 4], [[2], [5]]),                 # gzipped
])
def test_cudf_reads_a_csv_with_the_layout_found(cudf_reader, tmp_path, name, text, label, y, X):
    """``cudf.read_csv`` gets the separator, the header (or none) and the compression that the first line showed."""
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt") as f:
            f.write(text)
    else:
        path.write_text(text)
    table = read_table(str(path), name, reader="cudf")
    assert cudf_reader.reads == [("read_csv", str(path))]
    assert table.label == label
    np.testing.assert_array_equal(table.y, y)
    np.testing.assert_array_equal(table.X.get(), X)


def test_parquet_with_pandas_but_no_pyarrow_says_what_to_install(tmp_path, monkeypatch):
    """pandas' ImportError for a missing Parquet engine becomes one sentence with both install commands."""
    def no_engine(*args, **kwargs):
        raise ImportError("Unable to find a usable engine; tried using: 'pyarrow', 'fastparquet'.")

    monkeypatch.setattr(pd, "read_parquet", no_engine)
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1")
    with pytest.raises(GpuclfError) as info:
        read_table(str(path), "t.parquet")
    assert str(info.value) == ("reading Parquet with pandas needs pyarrow: pip install pyarrow, or "
                               "pip install -e '.[parquet]' in the gpuclf checkout")


def test_a_csv_of_blank_lines_is_empty(tmp_path):
    """A CSV with no line that is not blank is named as empty, with what a table should hold."""
    message = _refusal(tmp_path, "\n  \n\r\n")
    assert message == ("t.csv is empty; give a table with one row per image: a label column (named label, "
                       "class or y, or the first column) and 784 pixel columns")


def test_a_parquet_table_of_labels_only_names_its_column(tmp_path):
    """Parquet names its columns itself: a table of one ``label`` column is refused by that name."""
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    pd.DataFrame({"label": [1, 2, 3]}).to_parquet(path)
    with pytest.raises(GpuclfError) as info:
        read_table(str(path), "t.parquet")
    assert str(info.value) == ("t.parquet has only the label column 'label'; give a table with one row per image: "
                               "a label column (named label, class or y, or the first column) and 784 pixel columns")


def test_parquet_keeps_its_own_column_names_and_index(tmp_path):
    """A Parquet file is not a CSV: its names come from the file, and a saved non-range index is no extra field."""
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    df = pd.DataFrame({"label": [1, 2, 1, 0], "pixel0": [9, 8, 7, 6]}).iloc[[2, 0, 1]]  # index 2, 0, 1 is saved
    df.to_parquet(path)
    assert list(pd.read_parquet(path).index) == [2, 0, 1]
    table = read_table(str(path), "t.parquet")
    assert table.label == "label"
    np.testing.assert_array_equal(table.y, [1, 1, 2])
    np.testing.assert_array_equal(table.X, [[7], [9], [8]])


@pytest.mark.parametrize("first", [(1, 5, 2), (0, 1, 2), (7, 7, 7), (0, 2, 4)],
                         ids=["scattered", "row-numbers", "repeated", "evenly-spaced"])
def test_rows_with_more_fields_than_the_header_are_refused(tmp_path, first):
    """Rows one field wider than the header are refused, whatever the extra first fields hold. pandas would
    take them as an index, which pandas 3 stores as a RangeIndex where they count up evenly (0, 1, 2 as a file
    written with its row numbers has): that file was read shifted by one column, without a word."""
    rows = "".join(f"{a},{a + 1},3,4\n" for a in first)
    assert _refusal(tmp_path, "label,pixel0,pixel1\n" + rows) == (
        "t.csv has more fields in its rows than its header names (3); give every row as many fields as the header")


def test_a_two_column_parquet_table_is_named_by_the_file(tmp_path):
    """Parquet's names, never a CSV reading of its bytes (whose first "line" can split into as many fields)."""
    pytest.importorskip("pyarrow")
    path = tmp_path / "t.parquet"
    pd.DataFrame({"label": [3, 1, 2], "pixel0": [7, 200, 13]}).to_parquet(path)
    table = read_table(str(path), "t.parquet")
    assert table.label == "label"
    np.testing.assert_array_equal(table.y, [3, 1, 2])
    np.testing.assert_array_equal(table.X, [[7], [200], [13]])
