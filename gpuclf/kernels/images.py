"""Batched image geometry for KNN preprocessing: deskewing by moments and a Gaussian blur.

Both work on a whole batch of flattened square images at once, with no
Python loop over images, and are checked against :mod:`scipy.ndimage`
applied image by image.

Deskewing (LeCun et al.'s preprocessing of MNIST) shears each image so that
its principal axis is vertical and moves its centre of mass to the centre.
From the intensity moments of an image (mean row ``mr``, mean column ``mc``,
row variance ``vr``, row-column covariance ``crc``) the skew is
``alpha = crc / vr``, and output pixel ``(r, c)`` reads the input at

    row ``mr + (r - side/2)``, column ``mc + (c - side/2) + alpha (r - side/2)``,

which is ``scipy.ndimage.affine_transform(image, [[1, 0], [alpha, 1]],
offset=(mr, mc) - A @ (side/2, side/2))``. Values between pixels are
interpolated bilinearly (``order=1``) with zeros outside the image
(``mode="grid-constant"``): the row read is the same for a whole output
row and the column shift is the same along it, so the interpolation is two
1-D passes of gathers (rows, then columns within rows).

The blur is ``scipy.ndimage.gaussian_filter(image, sigma, mode="constant")``
written as two products with a banded ``side x side`` matrix: ``G I G^T``
for every image ``I``, one batched GEMM each way.
"""
from __future__ import annotations

import math

import numpy as np

from gpuclf.errors import GpuclfError
from gpuclf.kernels.chunking import rows_per_chunk
from gpuclf.xp import get_namespace

#: Side of MNIST's square images.
SIDE = 28


def _float_dtype(X):
    """float32 and float64 keep their precision; integers become float64."""
    return X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _images(X, side: int, what: str):
    if X.ndim != 2 or X.shape[1] != side * side:
        raise GpuclfError(f"{what} needs flattened {side}x{side} images, shape (n, {side * side}), got {X.shape}")
    return X.reshape(-1, side, side)


def image_moments(X, side: int = SIDE):
    """Centre of mass and skew of each image.

    Parameters
    ----------
    X : array of shape (n, side * side)
        Non-negative intensities.
    side : int, default=28

    Returns
    -------
    mean_row, mean_col, alpha : arrays of shape (n,), X's float dtype
        ``alpha`` is the row-column covariance over the row variance (0 for
        a blank image or one whose ink is all on one row).
    """
    xp = get_namespace(X)
    dtype = _float_dtype(X)
    images = _images(X, side, "image_moments").astype(dtype, copy=False)
    coords = xp.arange(side, dtype=dtype)
    rows = images.sum(axis=2)  # ink per row
    cols = images.sum(axis=1)
    total = rows.sum(axis=1)
    blank = total == 0
    total = xp.where(blank, 1, total)
    # Ink on one row (or none) has no skew. Tested on the ink, not on var_row == 0: a row mean that
    # rounds one ulp off leaves var_row ~1e-30, and cov / var_row would be rounding noise.
    flat = (rows > 0).sum(axis=1) <= 1
    mean_row = rows @ coords / total
    mean_col = cols @ coords / total
    dr = coords - mean_row[:, None]  # (n, side)
    dc = coords - mean_col[:, None]
    var_row = (rows * dr * dr).sum(axis=1) / total
    # sum_rc I[r, c] dr[r] dc[c], as one batched product per image.
    cov = xp.matmul(dr[:, None, :], xp.matmul(images, dc[:, :, None]))[:, 0, 0] / total
    alpha = cov / xp.where(flat, 1, var_row)
    return mean_row, mean_col, xp.where(flat, 0, alpha)


def _interpolate(images, index, frac, axis_len: int):
    """Bilinear reads along the last axis: ``(1 - frac) v[index] + frac v[index + 1]``, zero outside.

    ``images`` is (m, L, side) with L the gathered axis folded in by the
    caller; ``index`` and ``frac`` broadcast against the gathered values.
    """
    xp = get_namespace(images)
    out = None
    for offset, weight in ((0, 1 - frac), (1, frac)):
        at = index + offset
        inside = (at >= 0) & (at < axis_len)
        values = xp.take_along_axis(images, xp.clip(at, 0, axis_len - 1), axis=-1)
        term = xp.where(inside, values, 0) * weight
        out = term if out is None else out + term
    return out


def deskew_bytes_per_pixel(dtype) -> int:
    """Working memory of :func:`deskew` per pixel of a chunk, for images computed in ``dtype``.

    The two gathers hold int64 read positions and about ten float temporaries a pixel at their peak
    (measured with tracemalloc: 66-78 bytes for float32, 98-116 for float64 and uint8 input).
    """
    return 48 + 10 * np.dtype(dtype).itemsize


def deskew(X, side: int = SIDE, budget_bytes: int | None = None):
    """Deskew and centre each image by its moments (see the module docstring).

    Parameters
    ----------
    X : array of shape (n, side * side)
        Non-negative intensities (uint8 or float).
    side : int, default=28
    budget_bytes : int, optional
        Working memory per chunk of images (see :func:`deskew_bytes_per_pixel`).

    Returns
    -------
    array of shape (n, side * side)
        float32 for float32 input, else float64.
    """
    xp = get_namespace(X)
    dtype = _float_dtype(X)
    _images(X, side, "deskew")
    n = X.shape[0]
    out = xp.empty((n, side * side), dtype=dtype)
    coords = xp.arange(side, dtype=dtype)
    centre = dtype.type(side / 2)
    rows = rows_per_chunk(side * side * deskew_bytes_per_pixel(dtype), budget_bytes, n)
    for start in range(0, n, rows):
        images = X[start:start + rows].astype(dtype, copy=False).reshape(-1, side, side)
        mean_row, mean_col, alpha = image_moments(images.reshape(-1, side * side), side)
        # Output row r reads input row mean_row + r - centre: one fractional shift per image.
        read_row = coords[None, :] + (mean_row - centre)[:, None]  # (m, side)
        row0 = xp.floor(read_row)
        by_rows = _interpolate(images.transpose(0, 2, 1), row0.astype(xp.int64)[:, None, :],
                               (read_row - row0)[:, None, :], side).transpose(0, 2, 1)
        # Output (r, c) reads column c + mean_col - centre + alpha (r - centre): one shift per row.
        shift = (mean_col - centre)[:, None] + alpha[:, None] * (coords - centre)[None, :]  # (m, side)
        read_col = coords[None, None, :] + shift[:, :, None]
        col0 = xp.floor(read_col)
        out[start:start + rows] = _interpolate(by_rows, col0.astype(xp.int64), read_col - col0,
                                               side).reshape(-1, side * side)
    return out


def gaussian_matrix(sigma: float, side: int = SIDE, truncate: float = 4.0) -> np.ndarray:
    """The ``side x side`` matrix of scipy's 1-D Gaussian filter with zero padding (host, float64).

    Row ``i`` holds the weights of pixels ``i - radius .. i + radius``
    (``radius = int(truncate * sigma + 0.5)``, scipy's), cut at the edges.
    """
    if not (isinstance(sigma, (int, float)) and math.isfinite(sigma) and sigma > 0):
        raise GpuclfError(f"blur sigma must be a positive number of pixels, got {sigma!r}")
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    weights = np.exp(-0.5 / float(sigma) ** 2 * x * x)
    weights /= weights.sum()
    offset = np.arange(side)[None, :] - np.arange(side)[:, None]  # column - row
    inside = np.abs(offset) <= radius
    return np.where(inside, weights[np.clip(offset + radius, 0, 2 * radius)], 0.0)


def gaussian_blur(X, sigma: float, side: int = SIDE):
    """Blur each image with a Gaussian of ``sigma`` pixels, zeros outside (scipy's ``mode="constant"``).

    Parameters
    ----------
    X : array of shape (n, side * side)
    sigma : float
        Standard deviation in pixels, > 0.
    side : int, default=28

    Returns
    -------
    array of shape (n, side * side)
        float32 for float32 input, else float64.
    """
    xp = get_namespace(X)
    dtype = _float_dtype(X)
    images = _images(X, side, "gaussian_blur").astype(dtype, copy=False)
    G = xp.asarray(gaussian_matrix(sigma, side), dtype=dtype)
    # G @ I blurs along the rows' axis, (.) @ G^T along the columns'.
    return xp.matmul(xp.matmul(G, images), G.T).reshape(X.shape[0], side * side)
