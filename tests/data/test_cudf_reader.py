"""The gpu backend reads tables through cuDF, straight onto the device (emulated CuPy + cuDF).

``fake_cudf`` parses on the host with pandas but hands columns over as
device arrays without a counted host-to-device copy, as real cuDF does
(it parses on the GPU); ``fake_cupy`` counts every copy that goes through
NumPy, so "no host round trip" is a number the test can check.
"""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest

import fake_cudf
import fake_cupy
from cli_errors import run_main
from gpuclf.data import load_mnist
from gpuclf.data.tables import reader_for

STEPS = "data,binary_sgd,binary_cv,binary_metrics,error_analysis"


@pytest.fixture(scope="module")
def table(sample_mnist, tmp_path_factory):
    X = np.concatenate([sample_mnist.X_train, sample_mnist.X_test])[:1400]
    y = np.concatenate([sample_mnist.y_train, sample_mnist.y_test])[:1400]
    df = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(784)])
    df.insert(0, "label", y)
    path = tmp_path_factory.mktemp("cudf") / "digits.csv"
    df.to_csv(path, index=False)
    return path, X, y


@pytest.fixture
def device():
    with fake_cupy.installed() as cp, fake_cudf.installed():
        yield cp


def test_gpu_backend_reads_csv_with_cudf_onto_the_device(device, table):
    path, X, y = table
    assert reader_for("gpu") == "cudf" and reader_for("numpy") == "pandas" and reader_for("cpu") == "pandas"
    fake_cupy.reset_stats()
    data = load_mnist(str(path), reader="cudf")
    assert fake_cudf.reads == [("read_csv", str(path))]
    assert isinstance(data.X_train, device.ndarray) and data.X_train.dtype == np.uint8
    # The images never passed through a NumPy array on their way to the device.
    assert fake_cupy.stats["h2d_bytes"] == 0
    np.testing.assert_array_equal(data.X_train.get(), X[:1200])
    np.testing.assert_array_equal(data.y_train, y[:1200])  # labels are small: on the host
    # The pandas reading of the same file has the same content fingerprint (resume across readers).
    assert data.fingerprint() == load_mnist(str(path)).fingerprint()


def test_bad_pixels_are_found_on_the_device(device, tmp_path, table):
    path, X, y = table
    bad = pd.read_csv(path)
    bad.loc[3, "pixel100"] = 300
    bad.to_csv(tmp_path / "bad.csv", index=False)
    from gpuclf.errors import GpuclfError

    with pytest.raises(GpuclfError, match="values from 0 to 300"):
        load_mnist(str(tmp_path / "bad.csv"), reader="cudf")


def test_whole_run_through_cudf_equals_the_pandas_run(device, table, tmp_path, capsys):
    """gpu backend + cuDF reader gives the numpy backend's figures on the pandas reading of the file."""
    path, _, _ = table
    docs = {}
    for backend in ("gpu", "numpy"):
        out = tmp_path / backend
        code, err = run_main(capsys, "run", "--data", path, "--backend", backend, "--steps", STEPS,
                             "--out", out, "--quiet", "--no-report")
        assert code == 0, err
        docs[backend] = json.loads((out / "results.json").read_text())
    assert docs["gpu"]["data_reader"] == "cudf" and docs["numpy"]["data_reader"] == "pandas"
    assert docs["gpu"]["data_fingerprint"] == docs["numpy"]["data_fingerprint"]
    for step in STEPS.split(","):
        gpu = {k: v for k, v in docs["gpu"]["steps"][step].items() if k != "reader"}
        numpy = {k: v for k, v in docs["numpy"]["steps"][step].items() if k != "reader"}
        assert gpu == numpy, step


def test_gpu_backend_falls_back_to_pandas_without_cudf(table, tmp_path, capsys, monkeypatch):
    path, _, _ = table
    with fake_cupy.installed():
        monkeypatch.setitem(sys.modules, "cudf", None)  # "import cudf" raises ImportError
        assert reader_for("gpu") == "pandas"
        code, err = run_main(capsys, "run", "--data", path, "--backend", "gpu", "--steps", "data",
                             "--out", tmp_path / "o", "--quiet", "--no-report")
    assert code == 0, err
    assert json.loads((tmp_path / "o" / "results.json").read_text())["data_reader"] == "pandas"
