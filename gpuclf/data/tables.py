"""Read image tables (CSV, gzipped CSV, Parquet) with cuDF onto the GPU, or with pandas.

The layout most MNIST tutorials and competitions ship: one row per image,
a label column and 784 pixel columns, with a header (``label, pixel0 …
pixel783``) or without one (the label first). The label column is found
by name (``--label-column``, else ``label``, ``class``, ``y``, any case),
else it is the first column.

A CSV's layout is read from its first line that is not blank
(:func:`csv_layout`): the separator (``,``, ``;``, tab or ``|``: the one
that splits it into the most fields) and whether it is a header. A header
names columns: some field after the first is not a number, or its fields
are column positions (``label,0,1,…,783`` and ``0,1,…,784`` are what
``pandas.DataFrame.to_csv`` writes for integer column names), which no row
of 0-255 pixel values can be. A label column that cannot be told apart
from the pixels (a first column named like the pixels while another column
is not, or two columns of the label's name) is refused with the column to
give to ``--label-column``, never guessed.

The reader follows the backend: ``cudf`` reads straight onto the GPU and
hands the pixels over as one CuPy matrix (``DataFrame.to_cupy``), with no
host copy of the images; ``pandas`` reads on the host. Labels are small and
always come to the host, where :func:`gpuclf.data.validation.validate_labels` and the
class names need them.
"""
from __future__ import annotations

import csv
import gzip
import os
import re
import warnings
from dataclasses import dataclass

import numpy as np

from gpuclf.backends.probes import extra_install
from gpuclf.data.dataset import MnistData
from gpuclf.data.split import split
from gpuclf.data.validation import encode_named_labels, validate_images, validate_labels
from gpuclf.errors import GpuclfError, file_errors

#: Suffixes read as tables, and the format each means.
FORMATS = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: Label column names looked for (case-insensitive) when --label-column is not given.
LABEL_NAMES = ("label", "class", "y")
#: Field separators a CSV may use, in the order ties are broken.
SEPARATORS = (",", ";", "\t", "|")
TABLE_HINT = ("give a table with one row per image: a label column (named label, class or y, or the first "
              "column) and 784 pixel columns")
#: What a column holds, in words, by pandas' ``infer_dtype`` of its values.
_HOLDS = {"string": "text", "bytes": "bytes", "boolean": "true/false values", "datetime64": "dates",
          "datetime": "dates", "date": "dates", "timedelta64": "durations", "timedelta": "durations",
          "time": "times", "period": "periods", "interval": "intervals", "decimal": "decimals",
          "complex": "complex numbers"}
#: The values a label column may hold: class numbers, or class names.
_LABEL_KINDS = {"integer", "floating", "mixed-integer-float", "string"}


def table_format(path: str) -> str | None:
    """``"csv"`` or ``"parquet"`` for a path gpuclf reads as a table, else None."""
    lower = path.lower()
    return next((fmt for suffix, fmt in FORMATS.items() if lower.endswith(suffix)), None)


def cudf_module():
    """cuDF when it imports (the gpu backend's reader), else None."""
    try:
        import cudf
    except Exception:  # ImportError, or a CUDA error raised while cuDF initialises
        return None
    return cudf


@dataclass
class Table:
    """One table read: pixels, labels, and the label column's name (for messages and ``--resume``)."""

    X: object
    y: object
    label: str | None
    """The label column's name; None for a CSV without a header (its label is the first column)."""


def read_table(path: str, subject: str, *, label_column: str | None = None, reader: str = "pandas") -> Table:
    """Read one table into pixels and labels.

    Parameters
    ----------
    path : str
        A ``.csv``, ``.csv.gz`` or ``.parquet`` file.
    subject : str
        How messages name the file (``--data file 'digits.csv'``).
    label_column : str, optional
        Name of the label column; default the column named one of
        :data:`LABEL_NAMES`, else the first column.
    reader : {"pandas", "cudf"}
        ``cudf`` returns the pixels as a CuPy array on the current device.

    Returns
    -------
    Table
        ``X``: the pixel columns as read (not yet validated), an ndarray, or a
        cupy.ndarray with cuDF; ``y``: the label column on the host, numbers or
        strings; ``label``: its name.

    Raises
    ------
    GpuclfError
        A label column that is missing or ambiguous, a file with no rows,
        missing values, or a column holding values of the wrong kind, each
        naming the column.
    """
    fmt = table_format(path)
    sep, names = csv_layout(path, subject) if fmt == "csv" else (None, None)
    header = fmt != "csv" or names is not None
    try:
        frame = _read(path, fmt, sep, header, reader)
    except _WiderThanHeader:
        raise GpuclfError(f"{subject} has more fields in its rows than its header names ({len(names)}); "
                          "give every row as many fields as the header") from None
    # The names as written: pandas renames a repeated one ("label.1"), hiding it.
    columns = names if names is not None and len(names) == len(frame.columns) else [str(c) for c in frame.columns]
    if not len(frame) or not columns:
        raise GpuclfError(f"{subject} has no rows of data; {TABLE_HINT}")
    frame.columns = [f"c{i}" for i in range(len(columns))]  # unique keys, whatever the names
    keys = [f"c{i}" for i in range(len(columns))]
    if header and columns[0] == "" and _row_numbers(frame["c0"], reader):
        keys, columns = keys[1:], columns[1:]  # the index pandas.DataFrame.to_csv writes, unnamed: not an image's
    label = _label_column(columns, label_column, header, subject)
    at = columns.index(label)
    pixels = [k for i, k in enumerate(keys) if i != at]
    frame = frame[keys]
    _refuse_missing(frame, columns, reader, subject)
    y = frame[keys[at]]
    y = y.to_numpy() if reader == "pandas" else y.to_pandas().to_numpy()
    kind = _kind(y)
    by_position = label_column is None and (not header or label.lower() not in LABEL_NAMES)
    if by_position and len(y) > 1 and (y == y[0]).all():  # no classes to tell apart: the label is elsewhere
        raise GpuclfError(f"{subject}: its first column, taken as the labels (no column is named label, class or "
                          f"y{'' if header else ': the file has no header'}), holds {y[0]} in every row; give "
                          f"the label column {'with --label-column' if header else 'first'}")
    if kind not in _LABEL_KINDS:
        raise GpuclfError(f"{subject} has {_describe(y, frame[keys[at]].dtype)} in its label column {label!r}; "
                          "labels must be class numbers (0, 1, …) or class names")
    if not pixels:
        raise GpuclfError(f"{subject} has only the label column {label!r}; {TABLE_HINT}")
    X = frame[pixels]
    as_numbers = [_pixel_dtype(dtype) for dtype in X.dtypes]
    bad = next((key for key, dtype in zip(pixels, as_numbers) if dtype is None), None)  # np.dtype(None) == float64
    if bad is not None:
        key = bad
        column = X[key].to_numpy() if reader == "pandas" else X[key].to_pandas().to_numpy()
        raise GpuclfError(f"{subject} has {_describe(column, X[key].dtype)} in pixel column "
                          f"{columns[keys.index(key)]!r}; pixel values must be numbers from 0 to 255")
    if reader == "cudf":
        return Table(X.to_cupy(), y, label if header else None)
    # One NumPy type for all: a nullable column (Int64, from Parquet) would make the matrix one of objects.
    return Table(X.to_numpy(dtype=np.result_type(*as_numbers)), y, label if header else None)


def _row_numbers(column, reader: str) -> bool:
    """Whether a column holds more than 10 distinct integers: a row index; labels of at most 10 classes repeat."""
    values = column.to_numpy() if reader == "pandas" else column.to_pandas().to_numpy()
    return values.dtype.kind in "iu" and len(set(values.tolist())) == len(values) > 10


def _pixel_dtype(dtype) -> np.dtype | None:
    """The NumPy type of a column of pixel numbers (integers or reals, nullable or categorical); else None.

    True/false values are not pixels, although pandas counts ``bool`` among
    its numeric types; neither are complex numbers.
    """
    categories = getattr(dtype, "categories", None)
    dtype = categories.dtype if categories is not None else dtype
    try:
        dtype = np.dtype(getattr(dtype, "numpy_dtype", dtype))  # Int64, Float64: their NumPy type
    except TypeError:  # strings, dates with a time zone, and other types NumPy has no number for
        return None
    return dtype if dtype.kind in "iuf" else None


def _describe(values, dtype) -> str:
    """A bad column in words, with its type where that says more: ``true/false values (dtype bool)``."""
    holds = _HOLDS.get(_kind(values), "lists or other objects")
    return holds if str(dtype) in ("object", "str", "string") else f"{holds} (dtype {dtype})"


def _kind(values) -> str:
    """pandas' name for what a column's values are: ``integer``, ``string``, ``mixed`` (lists, objects)…"""
    from pandas.api.types import infer_dtype

    return infer_dtype(values, skipna=False)


def _refuse_missing(frame, columns: list[str], reader: str, subject: str) -> None:
    """Empty cells, named by their first column."""
    per_column = frame.isnull().any()
    per_column = per_column.to_numpy() if reader == "pandas" else per_column.to_pandas().to_numpy()
    if per_column.any():
        name = columns[int(per_column.argmax())]
        raise GpuclfError(f"{subject} has empty cells (missing values), the first in column {name!r}; every "
                          "image needs a label and 784 pixel values")


def csv_layout(path: str, subject: str) -> tuple[str, list[str] | None]:
    """The separator of a CSV and its header's names (None: no header), from its first non-blank line.

    Raises
    ------
    GpuclfError
        When the file holds no line that is not blank.
    """
    opener = gzip.open if path.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", errors="replace", newline="") as f:
        first = next((line for line in f if line.strip()), "")  # blank lines are skipped, as the readers do
    if not first:
        raise GpuclfError(f"{subject} is empty; {TABLE_HINT}")
    splits = {sep: next(csv.reader([first.rstrip("\r\n")], delimiter=sep)) for sep in SEPARATORS}
    sep = max(SEPARATORS, key=lambda s: len(splits[s]))  # max keeps the first of equals: ',' before ';'
    fields = [v.strip() for v in splits[sep]]
    return sep, fields if _is_header(fields) else None


def _is_header(fields: list[str]) -> bool:
    """A first line names columns, unless it is a row of numbers (the label, maybe a name, first)."""
    if fields[0].lower() in LABEL_NAMES:
        return True
    numbers = []
    for v in fields[1:]:
        try:
            numbers.append(float(v))
        except ValueError:
            return True
    # Column positions k, k+1, …: a header pandas writes for integer names, not 0-255 pixel values.
    return len(numbers) > 1 and all(b - a == 1 for a, b in zip(numbers, numbers[1:]))


def _read(path: str, fmt: str, sep: str | None, header: bool, reader: str):
    if reader == "cudf":
        import cudf

        if fmt == "parquet":
            return cudf.read_parquet(path)
        return cudf.read_csv(path, sep=sep, header=0 if header else None, compression="infer")
    import pandas as pd

    if fmt == "parquet":
        try:
            return pd.read_parquet(path)
        except ImportError:
            raise GpuclfError(f"reading Parquet with pandas needs pyarrow: pip install pyarrow, or "
                              f"{extra_install('parquet')}") from None
    # index_col=False: rows wider than the header would otherwise make their first field an index, which pandas 3
    # stores as a RangeIndex where it counts up evenly (row numbers), indistinguishable from none; pandas warns.
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return pd.read_csv(path, sep=sep, header=0 if header else None, index_col=False, compression="infer",
                               low_memory=False)
        except pd.errors.ParserWarning:
            raise _WiderThanHeader from None


class _WiderThanHeader(Exception):
    """pandas read data rows with more fields than the header names."""


def _pattern(name: str) -> str:
    """A column name with its numbers blanked: ``pixel#`` for pixel0 … pixel783, ``#x#`` for 1x1 … 28x28."""
    return re.sub(r"\d+", "#", name.strip().lower())


def _label_column(columns: list[str], wanted: str | None, header: bool, subject: str) -> str:
    """The label column's name: ``--label-column``, else one named like a label, else the first column.

    Raises
    ------
    GpuclfError
        A ``--label-column`` that is not there (or is there twice), two columns
        of a label's name, or no column named like a label while the first
        column is named like the pixels: each naming the columns to choose from.
    """
    def twice(names):
        spelled = " and ".join(map(repr, dict.fromkeys(names)))
        at = " and ".join(str(i + 1) for i, c in enumerate(columns) if c in names)
        return f"{subject} has {len(names)} columns named {spelled} (columns {at})"

    if wanted is not None:
        if not header:
            raise GpuclfError(f"--label-column {wanted!r}: {subject} has no header row to name it; its label is "
                              "the first column")
        if wanted not in columns:
            shown = ", ".join(columns[:5]) + (", …" if len(columns) > 5 else "")
            raise GpuclfError(f"--label-column {wanted!r} is not a column of {subject} (it has {shown})")
        if columns.count(wanted) > 1:
            raise GpuclfError(f"{twice([wanted] * columns.count(wanted))}; rename all but one, or give "
                              "--label-column another column")
        return wanted
    if not header:
        return columns[0]
    for name in LABEL_NAMES:
        found = [c for c in columns if c.lower() == name]
        if len(found) > 1:
            raise GpuclfError(f"{twice(found)}: which is the label? Keep one, or give --label-column with a "
                              "name that is there once")
        if found:
            return found[0]
    first = _pattern(columns[0])
    if sum(_pattern(c) == first for c in columns) * 2 > len(columns):
        others = [c for c in columns if _pattern(c) != first]
        if others:
            raise GpuclfError(f"{subject} has no column named label, class or y, and its first column "
                              f"{columns[0]!r} is named like its pixel columns; give the label column with "
                              f"--label-column (columns named otherwise: {', '.join(others[:5])})")
    return columns[0]


def reader_for(backend_name: str | None) -> str:
    """The reader a backend uses: cuDF on ``gpu`` where it imports, else pandas."""
    if backend_name == "gpu" and cudf_module() is not None:
        return "cudf"
    return "pandas"


def load_table(path: str, test_path: str | None, subjects: tuple, label_column: str | None,
                reader: str) -> MnistData:
    subject, test_subject = subjects

    def read(p, what):
        with file_errors(what, TABLE_HINT, reads=p):
            return read_table(p, what, label_column=label_column, reader=reader)

    def labels_of(table, what):
        return f"the label column {table.label!r} of {what}" if table.label else f"the labels (first column) of {what}"

    train = read(path, subject)
    origin = {"data": os.path.abspath(path), "label_column": train.label}
    source = f"{table_format(path)}:{os.path.basename(path)}"
    y, names = encode_named_labels(train.y, subject)
    if test_path is None:
        return split(train.X, y, source, origin, subject=subject, labels=labels_of(train, subject),
                      class_names=names, named_labels=names is not None, reader=reader)
    test = read(test_path, test_subject)
    y_test, test_names = encode_named_labels(test.y, test_subject)
    y_test = _same_classes(y_test, test_names, names, test_subject, subject)
    origin["test_data"] = os.path.abspath(test_path)
    X, X_test = validate_images(train.X, subject), validate_images(test.X, test_subject)
    return MnistData(X, validate_labels(y, len(X), labels_of(train, subject)), X_test,
                     validate_labels(y_test, len(X_test), labels_of(test, test_subject)), source, origin,
                     class_names=names, named_labels=names is not None, reader=reader)


def _same_classes(y_test, test_names, names, test_subject: str, subject: str):
    """The test labels coded as the training file's classes; a test file labelled otherwise is named and refused."""
    def how(found):
        return f"by name ({', '.join(found[:3])}{', …' if len(found) > 3 else ''})" if found else "by number"

    if (names is None) != (test_names is None):
        raise GpuclfError(f"{test_subject} labels its classes {how(test_names)}, but {subject} {how(names)}; "
                          "label both files the same way")
    if names is None:
        return y_test
    unknown = [n for n in test_names if n not in names]
    if unknown:
        raise GpuclfError(f"{test_subject} has the class(es) {', '.join(map(repr, unknown))}, which {subject} has "
                          f"no images of (its classes: {', '.join(names)}); test only classes the model trains on")
    return np.array([names.index(n) for n in test_names], dtype=np.uint8)[y_test]
