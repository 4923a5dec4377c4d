"""Images and labels checked: every bad array becomes one sentence that says what to do.

:func:`validate_images` and :func:`validate_labels` are what every source's
arrays pass through; :func:`encode_named_labels` turns labels written as class
names (``cat``, ``dog``) into codes.
"""
from __future__ import annotations

import numpy as np

from gpuclf.errors import GpuclfError
from gpuclf.xp import get_namespace

N_PIXELS = 784
SIDE = 28

def validate_images(X, name: str = "X") -> np.ndarray:
    """Check pixel data and return it as a C-contiguous ``(n, 784)`` uint8 array.

    Accepts ``(n, 784)`` or ``(n, 28, 28)`` arrays of whole numbers in 0..255.
    A CuPy array (images cuDF read onto the GPU) is checked and converted
    where it lives: a few reductions, no copy to the host.

    Raises
    ------
    GpuclfError
        With one sentence naming the problem and what to do.
    """
    xp = get_namespace(X)
    try:
        X = xp.asarray(X)
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
        bad = ~xp.isfinite(X)
        if bool(bad.any()):
            row = int(xp.argmax(bad.any(axis=1)))
            raise GpuclfError(f"{name} contains NaN or infinite values (first at row {row}); clean or drop those rows")
        if bool((X != xp.round(X)).any()):
            raise GpuclfError(f"{name} has fractional pixel values; gpuclf expects raw 0-255 intensities "
                              "(multiply by 255 and round if you scaled them to 0-1)")
    lo, hi = X.min().item(), X.max().item()
    if lo < 0 or hi > 255:
        raise GpuclfError(f"{name} has values from {lo} to {hi}; pixel values must lie in 0..255")
    return xp.ascontiguousarray(X, dtype=xp.uint8)


DIGITS = [str(d) for d in range(10)]


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
        # Bytes in any encoding decode as latin-1 (one char per byte), so a bad label is
        # shown, not a UnicodeDecodeError; membership, not str.isdigit, since '²'.isdigit().
        text = np.char.decode(y, "latin-1") if y.dtype.kind == "S" else y.astype(str)
        is_digit = np.isin(text, DIGITS)
        if not is_digit.all():
            bad = y[~is_digit][0].item()
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


def encode_named_labels(y, subject: str):
    """Labels as given, or string class names encoded as 0, 1, ... in sorted order.

    Digit strings ('5') stay digits (:func:`validate_labels` reads them);
    other strings ("cat", "dog") become codes, and their names are returned.

    Returns
    -------
    y : ndarray
    names : tuple of str or None
    """
    y = np.asarray(y)
    if y.dtype.kind not in "USO" or y.ndim != 1:
        return y, None
    text = np.char.decode(y, "latin-1") if y.dtype.kind == "S" else y.astype(str)
    text = np.char.strip(text)
    if np.isin(text, DIGITS).all():
        return text, None
    names, codes = np.unique(text, return_inverse=True)
    if len(names) > 10:
        raise GpuclfError(f"{subject} has {len(names)} classes ({', '.join(names[:4])}, …); "
                          "gpuclf runs the chapter on at most 10 classes")
    return codes.astype(np.uint8), tuple(str(n) for n in names)
