"""Principal component analysis by the covariance's eigenvectors, as scikit-learn's ``PCA``.

The ``d x d`` covariance is one GEMM over the samples on the device (chunked
under a memory budget); its eigendecomposition is small (784 x 784 for MNIST,
a fraction of a second) and is done on the host with NumPy's LAPACK on every
backend, so the numpy and gpu backends get the same components from the same
covariance. It runs on one BLAS thread: a matrix this small gains nothing from
more, and on a busy machine a threaded eigensolver waits for its threads (5 to
30 times slower, measured on 2 shared cores). Component signs follow scikit-learn's ``svd_flip``
(``u_based_decision=False``): each component's entry of largest magnitude
is positive.
"""
from __future__ import annotations

import numpy as np

from gpuclf.errors import GpuclfError
from gpuclf.kernels.chunk_runs import single_blas_thread
from gpuclf.kernels.chunking import DEFAULT_BUDGET_BYTES, rows_per_chunk
from gpuclf.xp import get_namespace, to_host, to_namespace


def pca_fit(X, n_components: int, budget_bytes: int | None = None):
    """Mean and leading principal axes of ``X``.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    n_components : int
        ``1 <= n_components <= n_features``.
    budget_bytes : int, optional
        Working memory of the fit: a chunk of centred rows, the covariance and a chunk's product.

    Returns
    -------
    mean : array of shape (n_features,)
    components : array of shape (n_components, n_features)
        Unit rows, by decreasing explained variance (``PCA.components_``).
    explained_variance : array of shape (n_components,)
        Variance along each component (``PCA.explained_variance_``, ``n - 1`` in the denominator).

    Arrays are in X's namespace and float dtype (float64 for integers).
    """
    xp = get_namespace(X)
    n, d = X.shape if X.ndim == 2 else (0, 0)
    if X.ndim != 2 or n < 2:
        raise GpuclfError(f"PCA needs a 2-D X with at least 2 rows, got shape {X.shape}")
    if not 1 <= int(n_components) <= d:
        raise GpuclfError(f"n_components must be between 1 and the {d} features, got {n_components}")
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    mean = xp.sum(X, axis=0, dtype=xp.float64) / n
    shift = mean.astype(dtype)
    cov = xp.zeros((d, d), dtype=dtype)
    # A chunk holds its centred rows (one temporary: rows already in ``dtype`` are not copied first),
    # beside two d x d arrays, the covariance and the chunk's product. Below three of those the
    # budget cannot hold the fit at all; chunks of d rows then keep it near.
    budget = DEFAULT_BUDGET_BYTES if budget_bytes is None else int(budget_bytes)
    square = d * d * dtype.itemsize
    rows = rows_per_chunk(d * dtype.itemsize, max(budget - 2 * square - 16 * d, square), n)
    for start in range(0, n, rows):
        centred = X[start:start + rows].astype(dtype, copy=False) - shift
        cov += centred.T @ centred
        del centred
    with single_blas_thread():
        values, vectors = np.linalg.eigh(to_host(cov).astype(np.float64) / (n - 1))
    top = np.argsort(values, kind="stable")[::-1][:int(n_components)]
    components = vectors[:, top].T
    biggest = np.argmax(np.abs(components), axis=1)
    components *= np.sign(components[np.arange(len(top)), biggest])[:, None]
    return (mean.astype(dtype), to_namespace(components, xp).astype(dtype),
            to_namespace(values[top], xp).astype(dtype))


def pca_transform(X, mean, components):
    """Coordinates of ``X`` on the components: ``(X - mean) @ components.T`` (``PCA.transform``).

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
    mean, components : from :func:`pca_fit`

    Returns
    -------
    array of shape (n_samples, n_components), the components' dtype
    """
    return (X.astype(components.dtype, copy=False) - mean) @ components.T
