"""Data beyond mnist_784: tables (CSV, gzipped CSV, Parquet) and other OpenML sets.

Every fixture file is written by the test from the offline sample, so the
expected arrays are known exactly; OpenML is faked at scikit-learn's
``fetch_openml`` boundary (no network).
"""
from __future__ import annotations

import json
import urllib.error

import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from cli_errors import assert_one_line_error, run_main
from gpuclf.data import load_mnist
from gpuclf.data.openml import FASHION_NAMES
from gpuclf.errors import GpuclfError

PIXELS = [f"pixel{i}" for i in range(784)]
N = 700  # rows written to the tables: 600 train / 100 test by the 6/7 rule


@pytest.fixture(scope="module")
def rows(sample_mnist):
    X = np.concatenate([sample_mnist.X_train, sample_mnist.X_test])[:N]
    y = np.concatenate([sample_mnist.y_train, sample_mnist.y_test])[:N]
    return X, y


def frame(X, y, label="label", labels=None, position=0):
    df = pd.DataFrame(X, columns=PIXELS)
    df.insert(position, label, y if labels is None else labels)
    return df


def assert_split(data, X, y, n_train=600):
    assert data.X_train.dtype == np.uint8 and data.y_train.dtype == np.uint8
    np.testing.assert_array_equal(data.X_train, X[:n_train])
    np.testing.assert_array_equal(data.X_test, X[n_train:])
    np.testing.assert_array_equal(data.y_train, y[:n_train])
    np.testing.assert_array_equal(data.y_test, y[n_train:])


# -- layouts -------------------------------------------------------------------

@pytest.mark.parametrize("label, position", [("label", 0), ("class", 300), ("Y", 784), ("LABEL", 5)])
def test_csv_label_column_found_by_name_anywhere(tmp_path, rows, label, position):
    X, y = rows
    path = tmp_path / "digits.csv"
    frame(X, y, label, position=position).to_csv(path, index=False)
    data = load_mnist(str(path))
    assert_split(data, X, y)
    assert data.reader == "pandas" and data.source == "csv:digits.csv"


def test_csv_without_header_has_its_label_first(tmp_path, rows):
    X, y = rows
    path = tmp_path / "kaggle.csv.gz"
    pd.DataFrame(np.column_stack([y, X])).to_csv(path, index=False, header=False)
    assert_split(load_mnist(str(path)), X, y)


def test_label_column_option_picks_another_name(tmp_path, rows):
    X, y = rows
    path = tmp_path / "t.csv"
    df = frame(X, y, "digit")
    df.insert(0, "label", 9 - y)  # a decoy the default rule would take
    df.to_csv(path, index=False)
    with pytest.raises(GpuclfError, match="has 785 columns"):
        load_mnist(str(path))  # takes "label", leaves "digit" among the pixels
    df.drop(columns="label").to_csv(path, index=False)
    assert_split(load_mnist(str(path), label_column="digit"), X, y)


def test_parquet_and_separate_test_file(tmp_path, rows):
    pytest.importorskip("pyarrow")
    X, y = rows
    train, test = tmp_path / "train.parquet", tmp_path / "test.parquet"
    frame(X[:500], y[:500]).to_parquet(train)
    frame(X[500:], y[500:]).to_parquet(test)
    data = load_mnist(str(train), test_source=str(test))
    assert_split(data, X, y, n_train=500)
    assert data.origin["test_data"] == str(test)


def test_named_classes_are_encoded_in_sorted_order(tmp_path, rows):
    X, y = rows
    path = tmp_path / "fashion.csv"
    frame(X, y, labels=np.array(FASHION_NAMES)[y]).to_csv(path, index=False)
    data = load_mnist(str(path))
    names = tuple(sorted(FASHION_NAMES))
    assert data.class_names == names
    np.testing.assert_array_equal(np.array(names)[data.y_train], np.array(FASHION_NAMES)[y[:600]])
    assert data.summary()["class_names"] == list(names)


def test_digit_strings_stay_digits(tmp_path, rows):
    X, y = rows
    path = tmp_path / "s.csv"
    frame(X, y, labels=[f" {v}" for v in y]).to_csv(path, index=False)
    data = load_mnist(str(path))
    assert data.class_names is None
    assert_split(data, X, y)


def test_class_names_option_names_the_labels(tmp_path, rows):
    X, y = rows
    path = tmp_path / "d.csv"
    frame(X, y).to_csv(path, index=False)
    data = load_mnist(str(path), class_names=FASHION_NAMES)
    assert data.class_name(5) == "Sandal" and data.label_of("sandal") == 5 and data.label_of(7) == 7
    with pytest.raises(GpuclfError, match=r"--class-names lists 4 names, but csv:d.csv has 10 classes \(labels 0-9\)"):
        load_mnist(str(path), class_names=FASHION_NAMES[:4])


# -- every error family: one line ----------------------------------------------

def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("make, expected", [
    (lambda d, X, y: pd.DataFrame(np.column_stack([y, X[:, :783]]), columns=["label", *PIXELS[:783]])
     .to_csv(d / "c.csv", index=False), "has 783 columns; MNIST images need 784"),
    (lambda d, X, y: frame(X.astype(float), y).assign(pixel3=lambda f: f.pixel3.where(f.index != 7))
     .to_csv(d / "c.csv", index=False), "empty cells"),
    (lambda d, X, y: frame(X.astype(np.int64) + (np.arange(784) == 9) * 300, y).to_csv(d / "c.csv", index=False),
     "values from 0 to"),
    (lambda d, X, y: frame(X / 2, y).to_csv(d / "c.csv", index=False), "fractional pixel values"),
    (lambda d, X, y: frame(X, y).assign(pixel0="dark").to_csv(d / "c.csv", index=False), "text in pixel column"),
    (lambda d, X, y: frame(X, y)[["label"]].to_csv(d / "c.csv", index=False), "only the label column"),
    (lambda d, X, y: frame(X, y).iloc[:0].to_csv(d / "c.csv", index=False), "no rows of data"),
    (lambda d, X, y: (d / "c.csv").write_text(""), "is empty"),
    (lambda d, X, y: frame(X, y, labels=np.where(np.arange(N) == 3, 12, y)).to_csv(d / "c.csv", index=False),
     "contains the label 12"),
    (lambda d, X, y: frame(X, y, labels=[f"class{i % 12}" for i in range(N)]).to_csv(d / "c.csv", index=False),
     "12 classes"),
])
def test_bad_tables_fail_with_one_sentence(tmp_path, rows, make, expected):
    X, y = rows
    make(tmp_path, X, y)
    with pytest.raises(GpuclfError, match=expected) as info:
        load_mnist(str(tmp_path / "c.csv"))
    assert "\n" not in str(info.value)


def test_unreadable_table_files_are_one_line(tmp_path, capsys):
    code, err = run_main(capsys, "run", "--data", str(tmp_path / "missing.csv"), "--out", tmp_path / "o")
    assert_one_line_error(code, err, "missing.csv")
    (tmp_path / "dir.csv").mkdir()
    code, err = run_main(capsys, "run", "--data", str(tmp_path / "dir.csv"), "--out", tmp_path / "o")
    assert_one_line_error(code, err, "dir.csv")
    garbage = tmp_path / "bad.csv.gz"
    garbage.write_bytes(b"not gzip at all")
    code, err = run_main(capsys, "run", "--data", str(garbage), "--out", tmp_path / "o")
    assert_one_line_error(code, err, "bad.csv.gz")
    assert not (tmp_path / "o").exists()


def test_label_column_that_is_not_there(tmp_path, rows, capsys):
    X, y = rows
    path = tmp_path / "d.csv"
    frame(X, y).to_csv(path, index=False)
    code, err = run_main(capsys, "run", "--data", path, "--label-column", "target", "--out", tmp_path / "o")
    assert_one_line_error(code, err, "--label-column 'target' is not a column of", "label, pixel0")


# -- OpenML sets, faked at fetch_openml ------------------------------------------

@pytest.fixture
def fake_openml(monkeypatch, rows):
    X, y = rows
    calls = []

    def fetch(*args, **kw):
        calls.append((args, kw))
        ident = kw.get("data_id") or kw.get("name") or args[0]
        if ident in ("nope", 999999):
            raise ValueError(f"No active dataset {ident} found.")
        if ident == "iris":
            return Bunch(data=np.ones((150, 4)), target=np.array(["a"] * 150), details={"name": "iris"})
        big_X = np.concatenate([X] * 100)[:70_000].astype(np.float64)
        big_y = np.concatenate([y] * 100)[:70_000].astype(str).astype(object)
        return Bunch(data=big_X, target=big_y, details={"name": "Fashion-MNIST" if ident == 40996 else str(ident)})

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fetch)
    return calls


def test_openml_fashion_by_name_or_id(fake_openml, rows):
    for name in ("Fashion-MNIST", "fashion-mnist", "40996"):
        data = load_mnist(f"openml:{name}", data_home="/cache")
        assert fake_openml[-1][1]["data_id"] == 40996 and fake_openml[-1][1]["data_home"] == "/cache"
        assert data.class_names == FASHION_NAMES and data.source == "openml:Fashion-MNIST"
        assert len(data.y_train) == 60_000 and len(data.y_test) == 10_000  # the documented split
        assert data.origin["data"] == f"openml:{name}" and data.reader == "fetch_openml"


def test_openml_other_set_by_name_uses_active_version(fake_openml):
    data = load_mnist("openml:Kuzushiji-MNIST")
    assert fake_openml[-1][1] == {**fake_openml[-1][1], "name": "Kuzushiji-MNIST", "version": "active"}
    assert data.class_names is None and len(data.y_train) == 60_000


def test_plain_openml_is_still_the_books_call(fake_openml):
    data = load_mnist("openml")
    assert fake_openml[-1][0] == ("mnist_784",) and fake_openml[-1][1]["version"] == 1
    assert data.origin["data"] == "openml" and data.source == "openml:mnist_784"


@pytest.mark.parametrize("source, expected", [
    ("openml:nope", "OpenML has no dataset 'nope'"),
    ("openml:999999", "OpenML has no dataset '999999'"),
    ("openml:iris", "openml:iris has 4 columns; MNIST images need 784"),
])
def test_openml_mistakes_are_one_line(fake_openml, source, expected):
    with pytest.raises(GpuclfError, match=expected) as info:
        load_mnist(source)
    assert "\n" not in str(info.value)


def test_openml_without_network_or_cache(monkeypatch, tmp_path):
    def offline(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", offline)
    with pytest.raises(GpuclfError, match="could not download the OpenML dataset 'Fashion-MNIST'.*connect"):
        load_mnist("openml:Fashion-MNIST", data_home=str(tmp_path))


def test_test_data_needs_a_file_source():
    with pytest.raises(GpuclfError, match="--test-data goes with a file"):
        load_mnist("sample", test_source="x.csv")


# -- the command line: a whole run on a CSV, and --resume ------------------------

def test_run_on_csv_records_reader_and_names_and_resumes(tmp_path, rows, capsys):
    X, y = rows
    path = tmp_path / "fashion.csv"
    frame(X, y).to_csv(path, index=False)
    out = tmp_path / "out"
    names = ",".join(FASHION_NAMES)
    code, err = run_main(capsys, "run", "--data", path, "--class-names", names, "--positive-class", "Sandal",
                         "--backend", "numpy", "--steps", "data,binary_sgd", "--out", out, "--quiet")
    assert code == 0, err
    doc = json.loads((out / "results.json").read_text())
    assert doc["data_reader"] == "pandas" and doc["class_names"] == list(FASHION_NAMES)
    assert doc["config"]["positive_class"] == 5 and doc["steps"]["data"]["class_names"] == list(FASHION_NAMES)
    html = (out / "report.html").read_text()
    assert "the Sandal-detector" in html and "5-detector" not in html
    # --resume reloads the same file with the same names, and adds a step.
    code, err = run_main(capsys, "run", "--resume", "--steps", "binary_cv", "--out", out, "--quiet")
    assert code == 0, err
    doc = json.loads((out / "results.json").read_text())
    assert {"data", "binary_sgd", "binary_cv"} <= set(doc["steps"]) and doc["class_names"] == list(FASHION_NAMES)


def test_what_counts_as_an_unknown_openml_dataset():
    from sklearn.datasets._openml import OpenMLError

    from gpuclf.data.openml import _is_missing_dataset

    # scikit-learn's own error (OpenML's HTTP 412), whatever its words, and its two messages as plain ValueErrors.
    assert _is_missing_dataset(OpenMLError("deactivated"))
    assert _is_missing_dataset(ValueError("No active dataset nope found."))
    assert _is_missing_dataset(ValueError("Dataset with data_id 5 not found."))
    # Any other ValueError, or those words in another error type, is not "no such dataset".
    assert not _is_missing_dataset(ValueError("could not convert string to float"))
    assert not _is_missing_dataset(OSError("cache file not found"))
    assert not _is_missing_dataset(KeyError("No active dataset"))


def test_an_openml_set_without_details_is_titled_by_the_name_given(monkeypatch, rows):
    X, y = rows
    big_X, big_y = np.concatenate([X] * 100)[:70_000], np.concatenate([y] * 100)[:70_000]
    monkeypatch.setattr("sklearn.datasets.fetch_openml", lambda *a, **k: Bunch(data=big_X, target=big_y))
    data = load_mnist("openml:Kuzushiji-MNIST")
    assert data.source == "openml:Kuzushiji-MNIST" and data.class_names is None


def test_labels_text_names_each_label_or_gives_the_range(sample_mnist):
    assert sample_mnist.labels_text() == "0-9"
    assert sample_mnist.subsample(40, 10).labels_text() == "0-9"
    named = load_mnist("sample")
    named.class_names = tuple("abcdefghij")
    assert named.labels_text() == ", ".join(f"{i} ({c})" for i, c in enumerate("abcdefghij"))
