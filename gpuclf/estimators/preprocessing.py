"""Input validation shared by gpuclf's estimators, and :class:`StandardScaler`."""
from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from gpuclf.errors import GpuclfError
from gpuclf.kernels.preprocessing import standard_scale, standard_scaler_fit
from gpuclf.xp import get_namespace


class InputError(GpuclfError, ValueError):
    """Bad input to an estimator.

    A :class:`~gpuclf.errors.GpuclfError` for the command line, and a
    ``ValueError`` for scikit-learn's tools (grid search, estimator checks),
    which expect that type for invalid data.
    """


def validate_X(estimator, X, *, reset: bool):
    """Check ``X`` and return it as a float array in its own namespace.

    Parameters
    ----------
    estimator : BaseEstimator
        Receives ``n_features_in_`` (and ``feature_names_in_`` for a
        DataFrame) when ``reset``; otherwise X must match them.
    X : array-like of shape (n_samples, n_features)
        NumPy, CuPy, or anything ``numpy.asarray`` accepts.
    reset : bool
        True in ``fit``, False afterwards.

    Returns
    -------
    array of shape (n_samples, n_features)
        float32 stays float32, other dtypes become float64.

    Raises
    ------
    InputError
        For sparse, complex, non-2-D or empty input, NaN or infinity, and a
        number of features other than at fit time.
    """
    name = type(estimator).__name__
    if X is None or sparse.issparse(X):
        what = "None" if X is None else "sparse input"
        raise InputError(f"{name} got {what} for X; it needs a dense 2-D array (sparse is not supported)")
    xp = get_namespace(X)
    Xa = xp.asarray(X)
    if Xa.dtype.kind == "c":
        raise InputError(f"Complex data not supported by {name}; pass real-valued X")
    Xa = Xa.astype(Xa.dtype if Xa.dtype in (np.float32, np.float64) else np.float64, copy=False)
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


class StandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise features to zero mean and unit variance, as scikit-learn's.

    Works on NumPy or CuPy arrays and returns arrays of the input's
    namespace; float32 input stays float32.

    Attributes
    ----------
    mean_ : array of shape (n_features,), float64
    scale_ : array of shape (n_features,), float64
        Population standard deviation; 1 for (near-)constant features.
    n_features_in_ : int
    """

    def fit(self, X, y=None):
        """Learn ``mean_`` and ``scale_`` from X; ``y`` is ignored."""
        X = validate_X(self, X, reset=True)
        self.mean_, self.scale_ = standard_scaler_fit(X)
        return self

    def transform(self, X):
        """Return ``(X - mean_) / scale_``."""
        check_is_fitted(self)
        return standard_scale(validate_X(self, X, reset=False), self.mean_, self.scale_)

    def inverse_transform(self, X):
        """Return ``X * scale_ + mean_``, undoing :meth:`transform`."""
        check_is_fitted(self)
        X = validate_X(self, X, reset=False).copy()
        X *= self.scale_.astype(X.dtype)
        X += self.mean_.astype(X.dtype)
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
