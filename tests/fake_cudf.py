"""A stand-in for RAPIDS cuDF, for the emulated-GPU tests: pandas underneath, columns "on the device".

What gpuclf relies on, as real cuDF does it (cuDF 26.x API reference):

- ``cudf.read_csv(path, header=0 | None, compression="infer")`` and
  ``cudf.read_parquet(path)`` parse the file on the GPU: the columns are
  device memory from the start, no NumPy array is made on the host, so the
  emulated CuPy counts no host-to-device copy of them;
- ``DataFrame.to_cupy()`` is one device matrix (rows x columns) in the
  columns' common dtype, in F order (``cupy.empty(shape, dtype, order="F")``
  filled column by column, ``cudf/core/frame.py``); ``Series.to_pandas()`` / ``to_numpy()`` come to the host, ``to_numpy()`` refusing lists and
  booleans with a gap;
- ``DataFrame.isnull().any()`` is a Series of booleans; ``.any()`` of that a NumPy bool;
- header-less CSV columns are named "0", "1", "2", ... (strings; pandas names them with integers,
  and cuDF does too only under ``mode.pandas_compatible``, ``cudf/io/csv.py``).

Every read is logged in :data:`reads` so a test can prove the reader was cuDF.
"""
from __future__ import annotations

import contextlib
import sys
import types

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

import fake_cupy

__version__ = "26.10.00-fake"

#: (function, path) of every read, in order.
reads: list = []


class Series:
    """A device column."""

    def __init__(self, s: pd.Series):
        self._s = s

    def __len__(self):
        return len(self._s)

    @property
    def dtype(self):
        return self._s.dtype

    def any(self):
        return np.bool_(self._s.any())

    def to_pandas(self) -> pd.Series:
        return self._s.copy()

    def to_numpy(self, dtype=None, copy=True, na_value=None) -> np.ndarray:
        # Stricter than ``to_pandas().to_numpy()``, as cuDF 26.10 is: a list column has no NumPy dtype
        # (``cudf/core/frame.py`` ``_to_array``), and booleans with a missing value have no bool array
        # (``NumericalColumn.values``).
        kind = infer_dtype(self._s, skipna=True)
        if kind == "mixed":
            raise NotImplementedError("list cannot be exposed as an array")
        if kind == "boolean" and self._s.isna().any():
            raise ValueError("Column must have no nulls for dtype=bool")
        return self._s.to_numpy(dtype=dtype)

    def to_cupy(self, dtype=None, copy=True, na_value=None):
        return fake_cupy.ndarray(self._s.to_numpy(dtype=dtype, copy=True))

    def __array__(self, dtype=None, copy=None):
        # cuDF refuses implicit host conversion: "Implicit conversion to a host NumPy array via __array__
        # is not allowed, To explicitly construct a GPU matrix, consider using .to_cupy()".
        raise TypeError("Implicit conversion to a host NumPy array via __array__ is not allowed")


class DataFrame:
    """A device table."""

    def __init__(self, df: pd.DataFrame):
        self._df = df

    def __len__(self):
        return len(self._df)

    @property
    def columns(self):
        return self._df.columns

    @columns.setter
    def columns(self, names):
        self._df.columns = list(names)

    @property
    def dtypes(self):
        return self._df.dtypes

    def __getitem__(self, key):
        if isinstance(key, list):
            return DataFrame(self._df[key])
        return Series(self._df[key])

    def isnull(self) -> "DataFrame":
        return DataFrame(self._df.isnull())

    def any(self) -> Series:
        return Series(self._df.any())

    def to_cupy(self, dtype=None, copy=False, na_value=None):
        values = self._df.to_numpy(dtype=dtype)
        if values.dtype == object:
            raise ValueError("cuDF cannot convert a DataFrame with string columns to a CuPy array")
        return fake_cupy.ndarray(np.asfortranarray(values))

    def to_pandas(self) -> pd.DataFrame:
        return self._df.copy()

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a host NumPy array via __array__ is not allowed")


def read_csv(filepath_or_buffer, header="infer", compression="infer", **kwargs) -> DataFrame:
    reads.append(("read_csv", str(filepath_or_buffer)))
    frame = pd.read_csv(filepath_or_buffer, header=header, compression=compression, **kwargs)
    if header is None:
        frame.columns = [str(c) for c in frame.columns]
    return DataFrame(frame)


def read_parquet(path, **kwargs) -> DataFrame:
    reads.append(("read_parquet", str(path)))
    return DataFrame(pd.read_parquet(path, **kwargs))


_module = types.ModuleType("cudf")
_module.__dict__.update(__version__=__version__, DataFrame=DataFrame, Series=Series, read_csv=read_csv,
                        read_parquet=read_parquet)


_ABSENT = object()  # not in sys.modules (None there means "hidden": import raises ImportError)


@contextlib.contextmanager
def installed():
    """Make ``import cudf`` give this stand-in inside the block; :data:`reads` starts empty."""
    saved = sys.modules.get("cudf", _ABSENT)
    sys.modules["cudf"] = _module
    reads.clear()
    try:
        yield _module
    finally:
        if saved is _ABSENT:
            sys.modules.pop("cudf", None)
        else:
            sys.modules["cudf"] = saved
