"""Read image tables (CSV, gzipped CSV, Parquet) with cuDF onto the GPU, or with pandas.

The layout most MNIST tutorials and competitions ship: one row per image,
a label column and 784 pixel columns, with a header (``label, pixel0 …
pixel783``) or without one (the label first). The label column is found
by name (``--label-column``, else ``label``, ``class``, ``y``, any case),
else it is the first column.

The reader follows the backend: ``cudf`` reads straight onto the GPU and
hands the pixels over as one CuPy matrix (``DataFrame.to_cupy``), with no
host copy of the images; ``pandas`` reads on the host. Labels are small and
always come to the host, where :func:`gpuclf.data.validate_labels` and the
class names need them.
"""
from __future__ import annotations

import gzip

from .backends.probes import extra_install
from .errors import GpuclfError

#: Suffixes read as tables, and the format each means.
FORMATS = {".csv": "csv", ".csv.gz": "csv", ".parquet": "parquet", ".pq": "parquet"}
#: Label column names looked for (case-insensitive) when --label-column is not given.
LABEL_NAMES = ("label", "class", "y")
TABLE_HINT = ("give a table with one row per image: a label column (named label, class or y, or the first "
              "column) and 784 pixel columns")


def table_format(path: str) -> str | None:
    """``"csv"`` or ``"parquet"`` for a path gpuclf reads as a table, else None."""
    lower = path.lower()
    return next((fmt for suffix, fmt in FORMATS.items() if lower.endswith(suffix)), None)


def cudf_module():
    """cuDF when it imports (the gpu backend's reader), else None."""
    try:
        import cudf
    except Exception:  # ImportError, or a CUDA error raised while cuDF initialises
        return None
    return cudf


def read_table(path: str, subject: str, *, label_column: str | None = None, reader: str = "pandas"):
    """Read one table into pixels and labels.

    Parameters
    ----------
    path : str
        A ``.csv``, ``.csv.gz`` or ``.parquet`` file.
    subject : str
        How messages name the file (``--data file 'digits.csv'``).
    label_column : str, optional
        Name of the label column; default the first of :data:`LABEL_NAMES`
        present, else the first column.
    reader : {"pandas", "cudf"}
        ``cudf`` returns the pixels as a CuPy array on the current device.

    Returns
    -------
    X : ndarray or cupy.ndarray of shape (n, n_pixel_columns)
        Pixel columns as read (not yet validated).
    y : ndarray of shape (n,)
        The label column on the host, as read (numbers or strings).

    Raises
    ------
    GpuclfError
        A missing label column, a file with no rows, missing values.
    """
    fmt = table_format(path)
    header = _has_header(path, subject) if fmt == "csv" else True
    frame = _read(path, fmt, header, reader)
    columns = [str(c) for c in frame.columns]
    if not len(frame) or not columns:
        raise GpuclfError(f"{subject} has no rows of data; {TABLE_HINT}")
    label = _label_column(columns, label_column, header, subject)
    frame.columns = columns
    pixels = [c for c in columns if c != label]
    y = frame[label]
    if bool(frame.isnull().values.any() if reader == "pandas" else frame.isnull().any().any()):
        raise GpuclfError(f"{subject} has empty cells (missing values); every image needs a label and "
                          "784 pixel values")
    y = y.to_numpy() if reader == "pandas" else y.to_pandas().to_numpy()
    if not pixels:
        raise GpuclfError(f"{subject} has only the label column {label!r}; {TABLE_HINT}")
    X = frame[pixels]
    from pandas.api.types import is_numeric_dtype

    non_numeric = [c for c, t in zip(pixels, X.dtypes) if not is_numeric_dtype(t)]
    if non_numeric:
        raise GpuclfError(f"{subject} has text in pixel column {non_numeric[0]!r}; pixel values must be numbers "
                          "from 0 to 255")
    return (X.to_numpy() if reader == "pandas" else X.to_cupy()), y


def _has_header(path: str, subject: str) -> bool:
    """Whether the first line names columns: a header-less file starts with a row of numbers."""
    opener = gzip.open if path.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
        first = f.readline()
    fields = [v.strip().strip('"') for v in first.rstrip("\r\n").split(",")]
    if not first.strip():
        raise GpuclfError(f"{subject} is empty; {TABLE_HINT}")
    try:
        [float(v) for v in fields[1:]]
    except ValueError:
        return True
    return False


def _read(path: str, fmt: str, header: bool, reader: str):
    if reader == "cudf":
        import cudf

        if fmt == "parquet":
            return cudf.read_parquet(path)
        return cudf.read_csv(path, header=0 if header else None, compression="infer")
    import pandas as pd

    if fmt == "parquet":
        try:
            return pd.read_parquet(path)
        except ImportError:
            raise GpuclfError(f"reading Parquet with pandas needs pyarrow: pip install pyarrow, or "
                                  f"{extra_install('parquet')}") from None
    return pd.read_csv(path, header=0 if header else None, compression="infer", low_memory=False)


def _label_column(columns: list[str], wanted: str | None, header: bool, subject: str) -> str:
    if wanted is not None:
        if wanted not in columns:
            shown = ", ".join(columns[:5]) + (", …" if len(columns) > 5 else "")
            raise GpuclfError(f"--label-column {wanted!r} is not a column of {subject} (it has {shown})"
                              if header else f"--label-column {wanted!r}: {subject} has no header row to "
                              "name it; its label is the first column")
        return wanted
    lower = {c.lower(): c for c in columns}
    return next((lower[n] for n in LABEL_NAMES if header and n in lower), columns[0])


def reader_for(backend_name: str | None) -> str:
    """The reader a backend uses: cuDF on ``gpu`` where it imports, else pandas."""
    if backend_name == "gpu" and cudf_module() is not None:
        return "cudf"
    return "pandas"
