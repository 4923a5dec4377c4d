"""``fetch_openml("mnist_784")`` answered from a local copy of MNIST (``$GPUCLF_MNIST``), for machines without a network.

The arrays and types are those scikit-learn's ``fetch_openml`` returns for
OpenML's mnist_784 (scikit-learn >= 1.4, whose default parser reads dense
ARFF with pandas):

- ``as_frame=False``: ``data`` an int64 array (70000, 784), ``target`` an
  object array of the strings ``'0'`` ... ``'9'``;
- ``as_frame=True`` or ``"auto"``: ``data`` a DataFrame of int64 columns
  ``pixel1`` ... ``pixel784``, ``target`` a categorical Series ``class`` of
  those strings, ``frame`` both.

Any other data set goes to scikit-learn's own ``fetch_openml``, which fails
offline as it would. :func:`patch` puts the loader in place of
``sklearn.datasets.fetch_openml``; nothing else in a notebook changes.
"""
from __future__ import annotations

import os

import numpy as np

CLASSES = [str(d) for d in range(10)]


def _load(path: str):
    with np.load(path) as f:
        X, y = f["X"], f["y"]
    if X.shape != (70000, 784):
        raise ValueError(f"{path}: expected X of shape (70000, 784) in OpenML's order, got {X.shape}")
    return X, y


def fetch_openml(name=None, *, version="active", data_id=None, as_frame="auto", return_X_y=False, **kwargs):
    """scikit-learn's ``fetch_openml`` for ``mnist_784`` (or data id 554), from ``$GPUCLF_MNIST``."""
    from sklearn.utils import Bunch

    if not (name == "mnist_784" or data_id == 554) or version not in ("active", 1):
        from sklearn.datasets._openml import fetch_openml as real

        return real(name, version=version, data_id=data_id, as_frame=as_frame, return_X_y=return_X_y, **kwargs)
    X, y = _load(os.environ["GPUCLF_MNIST"])
    labels = np.array(CLASSES, dtype=object)[y.astype(np.intp)]
    feature_names = [f"pixel{i}" for i in range(1, 785)]
    if as_frame is False:
        data, target, frame, categories = X.astype(np.int64), labels, None, {"class": list(CLASSES)}
    else:
        import pandas as pd

        data = pd.DataFrame(X.astype(np.int64), columns=feature_names)
        target = pd.Series(pd.Categorical(labels, categories=CLASSES), name="class")
        frame, categories = pd.concat([data, target], axis=1), None
    if return_X_y:
        return data, target
    return Bunch(data=data, target=target, frame=frame, categories=categories, feature_names=feature_names,
                 target_names=["class"], DESCR="mnist_784 (a local copy of OpenML data set 554, read from "
                 "$GPUCLF_MNIST for a machine without a network)",
                 details={"id": "554", "name": "mnist_784", "version": "1", "format": "ARFF"},
                 url="https://www.openml.org/d/554")


def patch() -> None:
    """Make ``sklearn.datasets.fetch_openml`` (and so ``from sklearn.datasets import fetch_openml``) this loader."""
    import sklearn.datasets

    sklearn.datasets.fetch_openml = fetch_openml
