"""The scikit-learn-compatible :class:`StandardScaler` on gpuclf's kernels."""
from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin

from gpuclf.estimators.validation import validate_X
from gpuclf.kernels.preprocessing import standard_scaler_stats


class StandardScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Standardise features to zero mean and unit variance, as scikit-learn's.

    Works on NumPy or CuPy arrays and returns arrays of the input's
    namespace; float32 input stays float32. Dense input only: sparse input
    (which scikit-learn scales with ``with_mean=False``) is refused with a
    ``ValueError`` that says so.

    Parameters
    ----------
    copy : bool, default=True
        scikit-learn's parameter, kept for its API: this scaler always
        returns a new array.
    with_mean : bool, default=True
        Centre the data before scaling.
    with_std : bool, default=True
        Scale the data to unit variance; False leaves ``var_`` and
        ``scale_`` None.

    Attributes
    ----------
    mean_ : array of shape (n_features,), float64, or None
        None only when ``with_mean`` and ``with_std`` are both False, as
        scikit-learn's.
    var_ : array of shape (n_features,), float64, or None
        Population variance.
    scale_ : array of shape (n_features,), float64, or None
        Population standard deviation; 1 for (near-)constant features.
    n_samples_seen_ : numpy.float64, or numpy.int64 when nothing was computed
        scikit-learn's types.
    n_features_in_ : int
    """

    def __init__(self, *, copy=True, with_mean=True, with_std=True):
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std

    def fit(self, X, y=None):
        """Learn ``mean_``, ``var_`` and ``scale_`` from X; ``y`` is ignored."""
        X = validate_X(self, X, reset=True)
        # scikit-learn's bookkeeping: the mean whenever either step is on, the variance for scaling.
        computed = self.with_mean or self.with_std
        mean, var, scale = standard_scaler_stats(X) if computed else (None, None, None)
        self.mean_ = mean
        self.var_ = var if self.with_std else None
        self.scale_ = scale if self.with_std else None
        self.n_samples_seen_ = (np.float64 if computed else np.int64)(X.shape[0])
        return self

    def transform(self, X):
        """Return ``(X - mean_) / scale_``, leaving out the step that ``with_mean`` / ``with_std`` turned off."""
        X = validate_X(self, X, reset=False)
        out = X.astype(X.dtype if X.dtype in (np.float32, np.float64) else np.float64)  # a copy
        # mean and scale are cast to X's dtype first, as scikit-learn's transform
        # does, so float32 results match it bit for bit.
        if self.with_mean:
            out -= self.mean_.astype(out.dtype)
        if self.with_std:
            out /= self.scale_.astype(out.dtype)
        return out

    def inverse_transform(self, X):
        """Return ``X * scale_ + mean_``, undoing :meth:`transform`."""
        X = validate_X(self, X, reset=False)
        X = X.astype(X.dtype if X.dtype in (np.float32, np.float64) else np.float64)  # a copy
        if self.with_std:
            X *= self.scale_.astype(X.dtype)
        if self.with_mean:
            X += self.mean_.astype(X.dtype)
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
