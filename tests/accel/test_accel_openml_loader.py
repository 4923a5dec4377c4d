"""tools/handson/mnist_openml.py gives what scikit-learn's fetch_openml gives for mnist_784, from $GPUCLF_MNIST."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools" / "handson"))
import mnist_openml  # noqa: E402


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """A stand-in with MNIST's shape (the loader checks it) and known labels."""
    path = tmp_path / "mnist.npz"
    rng = np.random.default_rng(0)
    np.savez(path, X=rng.integers(0, 256, (70000, 784), dtype=np.uint8), y=rng.integers(0, 10, 70000).astype(np.uint8))
    monkeypatch.setenv("GPUCLF_MNIST", str(path))
    return np.load(path)


def test_as_frame_false_gives_int64_pixels_and_string_labels(tiny):
    mnist = mnist_openml.fetch_openml("mnist_784", as_frame=False)
    X, y = mnist.data, mnist.target
    assert X.dtype == np.int64 and X.shape == (70000, 784) and (X == tiny["X"]).all()
    assert y.dtype == object and set(y) == set("0123456789") and (y.astype(int) == tiny["y"]).all()
    assert mnist.frame is None and mnist.categories == {"class": list("0123456789")}
    assert {"data", "target", "DESCR", "feature_names", "target_names"} <= set(mnist.keys())
    assert (y == "5").sum() == (tiny["y"] == 5).sum()  # the book's y_train == '5'


def test_as_frame_gives_a_dataframe_and_a_categorical_target(tiny):
    X, y = mnist_openml.fetch_openml("mnist_784", version=1, return_X_y=True)
    assert list(X.columns[:2]) == ["pixel1", "pixel2"] and (X.dtypes == np.int64).all()
    assert str(y.dtype) == "category" and y.name == "class" and list(y.cat.categories) == list("0123456789")


def test_patch_replaces_only_fetch_openml(tiny):
    import sklearn.datasets

    real = sklearn.datasets.fetch_openml
    try:
        mnist_openml.patch()
        from sklearn.datasets import fetch_openml

        assert fetch_openml is mnist_openml.fetch_openml
        assert sklearn.datasets.load_digits.__module__ == "sklearn.datasets._base"
    finally:
        sklearn.datasets.fetch_openml = real
