"""Input validation shared by gpuclf's estimators."""
from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.utils.validation import validate_data

from gpuclf.errors import InputError
from gpuclf.xp import get_namespace, to_namespace


def validate_X(estimator, X, *, reset: bool, xp=None, float_dtype=np.float64):
    """Check ``X`` and return it as a float array in namespace ``xp``.

    Parameters
    ----------
    estimator : BaseEstimator
        Receives ``n_features_in_`` (and ``feature_names_in_`` for a
        DataFrame) when ``reset``; otherwise X must match them.
    X : array-like of shape (n_samples, n_features)
        NumPy, CuPy, or anything ``numpy.asarray`` accepts.
    reset : bool
        True in ``fit``, False afterwards.
    xp : module, optional
        Namespace of the result (where the model lives); default that of ``X``.
    float_dtype : dtype, default=numpy.float64
        What non-float input becomes (float32 for the SGD, the GPU's fast type).

    Returns
    -------
    array of shape (n_samples, n_features)
        float32 and float64 keep their type, other dtypes become ``float_dtype``.

    Raises
    ------
    InputError
        For sparse, complex, string, non-2-D or empty input, NaN or infinity, and a
        number of features other than at fit time.
    """
    name = type(estimator).__name__
    if X is None or sparse.issparse(X):
        what = "None" if X is None else "sparse input"
        raise InputError(f"{name} got {what} for X; it needs a dense 2-D array (sparse is not supported)")
    xp = get_namespace(X) if xp is None else xp
    Xa = to_namespace(X, xp)
    if Xa.dtype.kind == "c":
        raise InputError(f"Complex data not supported by {name}; pass real-valued X")
    if Xa.dtype.kind in "USV":
        raise InputError(f"{name} needs numeric X, got dtype {Xa.dtype}; convert the strings to numbers first")
    try:
        Xa = Xa.astype(Xa.dtype if Xa.dtype in (np.float32, np.float64) else float_dtype, copy=False)
    except ValueError as exc:  # object arrays holding non-numeric strings; TypeError (other objects) stays one
        raise InputError(f"{name} needs numeric X, got dtype {Xa.dtype} ({exc})") from None
    if Xa.ndim != 2:
        raise InputError(
            f"Expected a 2D array for X, got {Xa.ndim}D with shape {Xa.shape}. Reshape your data "
            "with X.reshape(-1, 1) if it has a single feature or X.reshape(1, -1) if it is a single sample"
        )
    for axis, what in ((0, "sample(s)"), (1, "feature(s)")):
        if Xa.shape[axis] == 0:
            raise InputError(
                f"Found array with 0 {what} (shape={Xa.shape}) while a minimum of 1 is required by {name}"
            )
    if not bool(xp.isfinite(Xa).all()):
        raise InputError(f"X contains NaN or infinity; {name} needs finite values (impute or drop them)")
    if not reset and Xa.shape[1] != estimator.n_features_in_:
        raise InputError(
            f"X has {Xa.shape[1]} features, but {name} is expecting {estimator.n_features_in_} "
            "features as input"
        )
    # scikit-learn's bookkeeping of n_features_in_ and DataFrame column names,
    # without its array conversion (which would move CuPy data to the host).
    validate_data(estimator, X, reset=reset, skip_check_array=True)
    return Xa
