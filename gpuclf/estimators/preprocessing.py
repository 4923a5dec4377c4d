"""The scikit-learn-compatible :class:`StandardScaler` on gpuclf's kernels."""
from __future__ import annotations

from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin

from gpuclf.estimators.validation import validate_X
from gpuclf.kernels.preprocessing import standard_scale, standard_scaler_fit


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
        return standard_scale(validate_X(self, X, reset=False), self.mean_, self.scale_)

    def inverse_transform(self, X):
        """Return ``X * scale_ + mean_``, undoing :meth:`transform`."""
        X = validate_X(self, X, reset=False).copy()
        X *= self.scale_.astype(X.dtype)
        X += self.mean_.astype(X.dtype)
        return X

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
