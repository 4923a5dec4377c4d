"""Standard scaling and the book's one-pixel image shifts (data augmentation)."""
from __future__ import annotations

import numbers

import numpy as np

from gpuclf.errors import GpuclfError
from gpuclf.xp import get_namespace

#: (dx, dy) of the book's augmentation loop, in its order: left, right, down, up
#: (dy > 0 moves the image down, as ``scipy.ndimage.shift(image, [dy, dx])``).
BOOK_SHIFTS = ((-1, 0), (1, 0), (0, 1), (0, -1))


def _float_dtype(X):
    """float32 and float64 keep their precision; integers and the rest become float64."""
    return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def standard_scaler_fit(X):
    """Per-feature mean and scale with ``StandardScaler``'s definitions.

    :func:`standard_scaler_stats` without the variance.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)

    Returns
    -------
    mean, scale : arrays of shape (n_features,), float64
        ``scale`` is the population standard deviation, 1 for features that
        are constant up to rounding (scikit-learn's ``_is_constant_feature``).

    Notes
    -----
    Sums accumulate in float64 on every device, as scikit-learn does, so CPU
    and GPU agree to the last bits; on the GPU this costs one float64
    temporary the size of ``X``.
    """
    mean, _, scale = standard_scaler_stats(X)
    return mean, scale


def standard_scaler_stats(X):
    """Per-feature mean, variance and scale with ``StandardScaler``'s definitions.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)

    Returns
    -------
    mean, var, scale : arrays of shape (n_features,), float64
        ``var`` is the population variance (``StandardScaler.var_``), ``scale``
        its square root, 1 for features that are constant up to rounding
        (scikit-learn's ``_is_constant_feature``).
    """
    xp = get_namespace(X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise GpuclfError(f"standard scaling needs a non-empty 2-D X, got shape {X.shape}")
    n = X.shape[0]
    mean = xp.sum(X, axis=0, dtype=xp.float64) / n
    # scikit-learn's two-pass variance: the correction term removes the
    # rounding error left in the mean.
    centered = X - mean
    correction = xp.sum(centered, axis=0)
    var = (xp.sum(centered * centered, axis=0) - correction * correction / n) / n
    eps = np.finfo(np.float64).eps
    constant = var <= n * eps * var + (n * mean * eps) ** 2
    return mean, var, xp.where(constant, 1.0, xp.sqrt(xp.maximum(var, 0.0)))


def standard_scale(X, mean, scale):
    """``(X - mean) / scale`` in X's float dtype (float32 stays float32).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    mean, scale : arrays of shape (n_features,)
        From :func:`standard_scaler_fit`.

    Returns
    -------
    array of shape (n_samples, n_features)
        A new array; integer input gives float64.
    """
    out = X.astype(_float_dtype(X))
    # mean and scale are cast to X's dtype first, as scikit-learn's transform
    # does, so float32 results match it bit for bit.
    out -= mean.astype(out.dtype)
    out /= scale.astype(out.dtype)
    return out


def shift_images(X, dx: int, dy: int, side: int = 28):
    """Shift flattened square images by whole pixels, filling with zeros.

    Equals ``scipy.ndimage.shift(image, [dy, dx], cval=0, mode="constant")``
    on each image for integer shifts, on all images at once.

    Parameters
    ----------
    X : array of shape (n_images, side * side) or (side * side,)
    dx, dy : int
        Pixels right (``dx > 0``) and down (``dy > 0``).
    side : int, default=28

    Returns
    -------
    array of X's shape and dtype
    """
    xp = get_namespace(X)
    for name, value in (("dx", dx), ("dy", dy)):
        if not isinstance(value, numbers.Integral):
            raise GpuclfError(f"{name} must be a whole number of pixels, got {value!r}")
    if X.ndim not in (1, 2) or X.shape[-1] != side * side:
        raise GpuclfError(
            f"shift_images needs flattened {side}x{side} images, shape (n, {side * side}), got {X.shape}"
        )
    out = xp.empty_like(X)
    _shift_into(X.reshape(-1, side, side), out.reshape(-1, side, side), dx, dy, side)
    return out


def _shift_into(images, out, dx: int, dy: int, side: int) -> None:
    """Write ``images`` (n, side, side) shifted by (dx, dy) into ``out``: one copy, zeros only where nothing lands."""

    def spans(shift):
        # Shifts of a whole side or more leave nothing: both spans become empty.
        shift = max(-side, min(side, int(shift)))
        return slice(max(shift, 0), side + min(shift, 0)), slice(max(-shift, 0), side - max(shift, 0))

    (rows_to, rows_from), (cols_to, cols_from) = spans(dy), spans(dx)
    out[:, :rows_to.start] = 0
    out[:, rows_to.stop:] = 0
    out[:, :, :cols_to.start] = 0
    out[:, :, cols_to.stop:] = 0
    out[:, rows_to, cols_to] = images[:, rows_from, cols_from]


def augment_with_shifts(X, y):
    """The book's augmented training set: the originals, then each one-pixel shift.

    Parameters
    ----------
    X : array of shape (n, 784)
        Flattened 28x28 images.
    y : array of shape (n,)

    Returns
    -------
    X_augmented : array of shape (5 * n, 784)
        ``X``, then ``X`` shifted by each (dx, dy) of :data:`BOOK_SHIFTS`.
    y_augmented : array of shape (5 * n,)
        ``y`` repeated in the same blocks.
    """
    xp = get_namespace(X, y)
    if X.ndim != 2 or y.shape[:1] != X.shape[:1]:
        raise GpuclfError(
            f"augment_with_shifts needs X of shape (n, 784) and y of shape (n,), got {X.shape} and {y.shape}"
        )
    if X.shape[1] != 784:
        raise GpuclfError(f"augment_with_shifts needs flattened 28x28 images, shape (n, 784), got {X.shape}")
    n = X.shape[0]
    # One array written block by block: no shifted copy and no concatenation (a third of the step's
    # time on full MNIST, and twice the augmented set's memory at its peak).
    out = xp.empty((n * (1 + len(BOOK_SHIFTS)), X.shape[1]), dtype=X.dtype)
    out[:n] = X
    images = X.reshape(-1, 28, 28)
    for block, (dx, dy) in enumerate(BOOK_SHIFTS, start=1):
        _shift_into(images, out[block * n:(block + 1) * n].reshape(-1, 28, 28), dx, dy, 28)
    return out, xp.concatenate([y] * (1 + len(BOOK_SHIFTS)))
