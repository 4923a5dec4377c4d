"""``--class-names`` never renames a class: each image keeps the name its data gives it (issue 34, item 1).

The data's own names are the file's (``Sandal``), the names gpuclf knows for a
set of codes (OpenML's Fashion-MNIST), else the labels as written (``5``, read
from an int column, a column of digit strings or an .npz). ``--class-names``
listing those names in another order sets the codes' order; one of those names
given to another class is refused in one line. Every source is checked the
same way: the name each image ends up with is the name its source gave it, and
the detector of ``--positive-class Sandal`` trains on the file's Sandals.

The rows: 70 sample digits, picked so that every class has a different number
of images (a detector trained on the wrong class is then seen in the counts).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import fake_cudf
import fake_cupy
from cli_errors import assert_one_line_error, run_main
from gpuclf.data import load_mnist
from gpuclf.data.openml import FASHION_NAMES

PIXELS = [f"pixel{i}" for i in range(784)]
DIGIT_NAMES = tuple(str(d) for d in range(10))


@pytest.fixture(scope="module")
def rows(sample_mnist):
    """Class k has k + 3 images (3 to 12, 75 rows): no two classes the same size, in train or in all."""
    X = np.concatenate([sample_mnist.X_train, sample_mnist.X_test])
    y = np.concatenate([sample_mnist.y_train, sample_mnist.y_test])
    pick = np.sort(np.concatenate([np.flatnonzero(y == k)[:k + 3] for k in range(10)]))
    return X[pick], y[pick]


def _table(X, labels, path):
    df = pd.DataFrame(X, columns=PIXELS)
    df.insert(0, "label", labels)
    (df.to_csv(path, index=False) if path.suffix == ".csv" else df.to_parquet(path))
    return str(path)


def _fake_openml(monkeypatch, X, y):
    from sklearn.utils import Bunch

    def fetch(*args, **kw):  # OpenML stores Fashion-MNIST's codes as the strings '0'-'9'
        return Bunch(data=X.astype(np.float64), target=y.astype(str).astype(object),
                     details={"name": "Fashion-MNIST"})

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fetch)
    return "openml:Fashion-MNIST"


#: Each source: how it is written, and the name its data gives the images of digit k.
SOURCES = {
    "csv words": (lambda X, y, d, mp: _table(X, np.array(FASHION_NAMES)[y], d / "f.csv"), FASHION_NAMES),
    "parquet words": (lambda X, y, d, mp: _table(X, np.array(FASHION_NAMES)[y], d / "f.parquet"), FASHION_NAMES),
    "csv digits": (lambda X, y, d, mp: _table(X, y, d / "d.csv"), DIGIT_NAMES),
    "parquet digit strings": (lambda X, y, d, mp: _table(X, y.astype(str), d / "d.parquet"), DIGIT_NAMES),
    "npz": (lambda X, y, d, mp: (np.savez(d / "d.npz", X=X, y=y), str(d / "d.npz"))[1], DIGIT_NAMES),
    "openml codes with known names": (lambda X, y, d, mp: _fake_openml(mp, X, y), FASHION_NAMES),
}


@pytest.fixture(params=list(SOURCES))
def source(request, rows, tmp_path, monkeypatch):
    X, y = rows
    write, names = SOURCES[request.param]
    if "parquet" in request.param:
        pytest.importorskip("pyarrow")
    return write(X, y, tmp_path, monkeypatch), np.array(names)[y], names


def _own_names(data):
    """The name each image (train, then test) ends up with."""
    names = np.array(data.class_names or DIGIT_NAMES)
    return np.concatenate([names[data.y_train], names[data.y_test]])


@pytest.mark.parametrize("order", [lambda n: n[::-1], lambda n: n[3:] + n[:3], sorted],
                         ids=["reversed", "rotated", "sorted"])
def test_the_data_own_names_in_any_order_set_the_codes_each_image_keeps_its_name(source, order):
    path, truth, names = source
    given = tuple(order(list(names)))
    data = load_mnist(path, class_names=given)
    assert data.class_names == given
    np.testing.assert_array_equal(_own_names(data), truth[:len(data.y_train) + len(data.y_test)])


def test_the_cudf_reader_keeps_each_image_its_name(rows, tmp_path):
    X, y = rows
    path = _table(X, np.array(FASHION_NAMES)[y], tmp_path / "f.csv")
    with fake_cupy.installed(), fake_cudf.installed():
        data = load_mnist(path, class_names=FASHION_NAMES[::-1], reader="cudf")
    np.testing.assert_array_equal(_own_names(data), np.array(FASHION_NAMES)[y])


def test_one_of_the_data_own_names_given_to_another_class_is_refused(source, tmp_path, capsys):
    path, _, names = source
    swapped = (names[5], *names[1:5], names[0], *names[6:])  # label 0 named as label 5, and back
    code, err = run_main(capsys, "run", "--data", path, "--class-names", ",".join(swapped[:9] + ("Hat",)),
                         "--backend", "numpy", "--steps", "data", "--quiet", "--out", tmp_path / "o")
    line = assert_one_line_error(code, err)
    assert (f"gives label 0 the name '{names[5]}', the name of label 5 in" in line
            or "not among them: 'Hat'" in line), line
    assert not (tmp_path / "o").exists()


def test_the_sandal_detector_trains_on_the_file_sandals(source, rows, tmp_path, capsys):
    """Through the CLI, as the issue did it: reversed names, ``--positive-class Sandal`` (``name:5``)."""
    path, truth, names = source
    out = tmp_path / "o"
    code, err = run_main(capsys, "run", "--data", path, "--class-names", ",".join(names[::-1]),
                         "--positive-class", f"name:{names[5]}", "--backend", "numpy", "--steps", "data",
                         "--quiet", "--no-report", "--out", out)
    assert code == 0, err
    doc = json.loads((out / "results.json").read_text())
    positive = doc["config"]["positive_class"]
    assert doc["class_names"][positive] == names[5] and positive == 4
    n_train = doc["steps"]["data"]["n_train"]
    assert doc["steps"]["data"]["train_class_counts"][positive] == (truth[:n_train] == names[5]).sum() == 8


def test_names_added_on_resume_are_refused_as_a_contradiction(rows, tmp_path, capsys):
    X, y = rows
    path, out = _table(X, np.array(FASHION_NAMES)[y], tmp_path / "f.csv"), tmp_path / "o"
    quiet = ["--backend", "numpy", "--quiet", "--no-report", "--out", out]
    assert run_main(capsys, "run", "--data", path, "--steps", "data", *quiet)[0] == 0
    code, err = run_main(capsys, "run", "--resume", "--class-names", ",".join(FASHION_NAMES), *quiet)
    assert assert_one_line_error(code, err) == (
        f"gpuclf: error: --class-names {','.join(FASHION_NAMES)} contradicts the run recorded in {out} (without "
        "--class-names); leave it out to continue that run, or use another --out")
