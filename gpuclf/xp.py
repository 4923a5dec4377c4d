"""Array-namespace helpers: numerical code is written once against ``xp``.

``xp`` is :mod:`numpy` or :mod:`cupy`; which one is decided by where the
arrays live, never by importing CuPy at package import time.
"""
from __future__ import annotations

import numpy as np


def is_cupy_array(a) -> bool:
    """True when ``a`` is a CuPy array (checked without importing CuPy)."""
    return type(a).__module__.split(".")[0] == "cupy"


def get_namespace(*arrays):
    """Return the array module (``numpy`` or ``cupy``) of ``arrays``.

    Parameters
    ----------
    *arrays : array-like
        Arrays to inspect; ``None`` entries are ignored.

    Returns
    -------
    module
        :mod:`cupy` if any array is a CuPy array, else :mod:`numpy`.
    """
    for a in arrays:
        if a is not None and is_cupy_array(a):
            import cupy

            return cupy
    return np


def to_host(a) -> np.ndarray:
    """Copy ``a`` to a NumPy array on the host (no copy for NumPy input)."""
    if is_cupy_array(a):
        return a.get()
    return np.asarray(a)


def to_namespace(a, xp):
    """``a`` as an array of namespace ``xp``: to the device for CuPy, to the host for NumPy."""
    if xp is np:
        return to_host(a)
    return xp.asarray(a)
