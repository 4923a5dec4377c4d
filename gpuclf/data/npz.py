"""``.npz`` files of images and labels, each ``.npy`` header checked before anything is read."""
from __future__ import annotations

import os
import zipfile

import numpy as np

from gpuclf.data.dataset import MnistData
from gpuclf.data.split import split
from gpuclf.data.validation import validate_images, validate_labels
from gpuclf.errors import GpuclfError, file_errors

NPZ_LAYOUTS = (("X_train", "y_train", "X_test", "y_test"), ("X", "y"))
NPZ_HINT = ("give --data openml, openml:NAME, sample, a CSV or Parquet table (.csv, .csv.gz, .parquet: a label column "
            "and 784 pixel columns) or an .npz made with numpy.savez(PATH, X=images, y=labels)")
NPY_MAGIC = b"\x93NUMPY"


def load_npz(path: str, subjects: tuple, test_path: str | None = None) -> MnistData:
    subject, test_subject = subjects
    with file_errors(subject, NPZ_HINT, reads=path):
        arrays = read_npz(path, subject, NPZ_LAYOUTS)
    origin = {"data": os.path.abspath(path)}
    if test_path is not None:
        if "X" not in arrays:
            raise GpuclfError(f"{subject} already holds a test split (X_test, y_test); leave out --test-data")
        with file_errors(test_subject, NPZ_HINT, reads=test_path):
            test = read_npz(test_path, test_subject, NPZ_LAYOUTS)
        if "X" not in test:
            raise GpuclfError(f"{test_subject} must hold X and y (the test images and labels)")
        origin["test_data"] = os.path.abspath(test_path)
        X = validate_images(arrays["X"])
        X_test = validate_images(test["X"], f"array 'X' of {test_subject}")
        return MnistData(X, validate_labels(arrays["y"], len(X)), X_test,
                         validate_labels(test["y"], len(X_test), f"array 'y' of {test_subject}"),
                         f"npz:{os.path.basename(path)}", origin)
    if "X" not in arrays:
        X_train = validate_images(arrays["X_train"], "X_train")
        X_test = validate_images(arrays["X_test"], "X_test")
        return MnistData(X_train, validate_labels(arrays["y_train"], len(X_train), "y_train"),
                         X_test, validate_labels(arrays["y_test"], len(X_test), "y_test"),
                         f"npz:{os.path.basename(path)}", origin)
    return split(arrays["X"], arrays["y"], f"npz:{os.path.basename(path)}", origin)


def read_npz(path: str, subject: str, layouts=None, hint: str = NPZ_HINT) -> dict:
    """Read the arrays of an ``.npz``, checking each ``.npy`` header first.

    Each array's ``.npy`` header (shape, dtype) is read and checked before
    any data: object arrays are refused (they would need unpickling, which
    gpuclf never does), and a header whose shape does not match the bytes
    stored, or does not fit in memory, is refused before anything is allocated.
    Call it inside :func:`gpuclf.errors.file_errors`: OS, zip, zlib and
    format errors are left to that boundary.

    Parameters
    ----------
    path : str
    subject : str
        How messages name the file.
    layouts : sequence of tuple of str, optional
        Sets of array names to look for, in order (e.g. :data:`NPZ_LAYOUTS`);
        the first set the file holds is read. Default: every array.
    hint : str
        What to do about a file that is no ``.npz`` at all (default: the data
        sources to give instead; the report's plot arrays say what is spared).

    Returns
    -------
    dict of str to ndarray
    """
    with open(path, "rb") as f:
        magic = f.read(len(NPY_MAGIC))
    if magic == NPY_MAGIC:
        raise GpuclfError(f"{subject} is a single .npy array, not an .npz archive of named arrays (gpuclf needs "
                          "images and labels together); save them with numpy.savez(PATH, X=images, y=labels)")
    if not zipfile.is_zipfile(path):
        raise GpuclfError(f"{subject} is not a readable .npz file (no zip archive: truncated, corrupt or "
                          f"another format); {hint}")
    with zipfile.ZipFile(path) as zf:
        members = {info.filename.removesuffix(".npy"): info for info in zf.infolist()}
        names = tuple(members) if layouts is None else \
            next((layout for layout in layouts if set(layout) <= members.keys()), None)
        if names is None:
            raise GpuclfError(f"{subject} holds arrays {sorted(members)}; it needs 'X' and 'y' "
                              "(or X_train, y_train, X_test, y_test)")
        arrays = {}
        for name in names:
            with file_errors(f"array {name!r} in {subject}", "re-create the file with numpy.savez"):
                with zf.open(members[name]) as member:
                    _check_npy_header(member, members[name].file_size, f"array {name!r} in {subject}")
                with zf.open(members[name]) as member:
                    arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


def _check_npy_header(f, stored_bytes: int, subject: str) -> None:
    """Refuse an ``.npy`` whose header declares Python objects or more data than it stores."""
    version = np.lib.format.read_magic(f)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise GpuclfError(f"{subject} uses .npy format version {version}, which gpuclf does not read; "
                          "re-save it with numpy.savez")
    shape, _, dtype = readers[version](f)
    if dtype.hasobject:
        raise GpuclfError(f"{subject} holds Python objects (dtype {dtype}), which gpuclf never unpickles; "
                          "save numeric arrays (images as uint8, labels as integers)")
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared != stored_bytes - f.tell():
        raise GpuclfError(f"{subject} declares shape {shape} of {dtype} ({declared:,} bytes) but stores "
                          f"{stored_bytes - f.tell():,} bytes: the file is truncated or corrupt; "
                          "re-create it with numpy.savez")
    memory = _physical_memory()
    if memory and declared > memory:
        raise GpuclfError(f"{subject} declares {declared / 2**30:,.1f} GiB, more than this machine's "
                          f"{memory / 2**30:,.1f} GiB of memory")


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
