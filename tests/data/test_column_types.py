"""A table's columns by their type: pixels are numbers; a column of another type is named, with its type.

One rule (``tables._pixel_dtype``): a pixel column is integers or reals,
nullable (``Int64``, from Parquet) or categorical, whatever the file format;
true/false values are not, although pandas counts ``bool`` among its numeric
types. A refused column is described by one function (``tables._describe``):
what it holds and its dtype, in one line (issue 34, item 6).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cli_errors import assert_one_line_error, run_main
from gpuclf.data import load_mnist

PIXELS = [f"pixel{i}" for i in range(784)]


@pytest.fixture(scope="module")
def rows(sample_mnist):
    return sample_mnist.X_train[:70], sample_mnist.y_train[:70]


def _frame(X, y):
    df = pd.DataFrame(X, columns=PIXELS)
    df.insert(0, "label", y)
    return df


def _write(df, path):
    if path.suffix == ".parquet":
        pytest.importorskip("pyarrow")
        df.to_parquet(path)
    else:
        df.to_csv(path, index=False)
    return path


BAD = {  # how a column is spoilt, the formats that keep it so, and how the message describes it
    "bool": (lambda c: c > 0, (".csv", ".parquet"), "true/false values (dtype bool)"),
    "nullable boolean": (lambda c: (c > 0).astype("boolean"), (".parquet",), "true/false values (dtype boolean)"),
    "dates": (lambda c: pd.to_datetime(c, unit="D"), (".parquet",), "dates (dtype datetime64["),
    "text": (lambda c: c.astype(str) + "px", (".csv", ".parquet"), "text"),
}


@pytest.mark.parametrize("kind, suffix", [(kind, suffix) for kind, (_, formats, _) in BAD.items()
                                          for suffix in formats])
@pytest.mark.parametrize("column", ["pixel5", "label"])
def test_a_column_of_another_type_is_named_with_its_type(rows, tmp_path, capsys, suffix, kind, column):
    spoil, _, described = BAD[kind]
    X, y = rows
    df = _frame(X, y)
    df[column] = spoil(df[column])
    path = _write(df, tmp_path / f"t{suffix}")
    code, err = run_main(capsys, "run", "--data", path, "--backend", "numpy", "--steps", "data", "--quiet",
                         "--out", tmp_path / "o")
    where = ("its label column 'label'; labels must be class numbers" if column == "label"
             else "pixel column 'pixel5'; pixel values must be numbers from 0 to 255")
    if kind == "text" and column == "label":
        assert code == 0, err  # class names: the labels of a table may be words
        return
    line = assert_one_line_error(code, err, f"--data file {str(path)!r} has {described}")
    assert line.endswith(f" in {where}" if column != "label" else f" in {where} (0, 1, …) or class names"), line
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("convert", [lambda c: c.astype("Int64"), lambda c: c.astype("UInt8"),
                                     lambda c: c.astype("float16"), lambda c: c.astype("category"),
                                     lambda c: c.astype("Float64")],
                         ids=["Int64", "UInt8", "float16", "category", "Float64"])
def test_pixel_numbers_of_every_numeric_type_read_as_the_plain_table(rows, tmp_path, convert):
    X, y = rows
    plain = load_mnist(str(_write(_frame(X, y), tmp_path / "plain.parquet")))
    df = _frame(X, y)
    df["pixel5"] = convert(df["pixel5"])
    typed = _write(df, tmp_path / "typed.parquet")
    if pd.read_parquet(typed)["pixel5"].dtype != df["pixel5"].dtype:  # else the case would test plain integers
        pytest.skip(f"this pandas and pyarrow read a {df['pixel5'].dtype} Parquet column back as "
                    f"{pd.read_parquet(typed)['pixel5'].dtype} (tables._pixel_dtype is tested on it directly)")
    assert load_mnist(str(typed)).fingerprint() == plain.fingerprint()
    np.testing.assert_array_equal(plain.X_train, X[:60])
