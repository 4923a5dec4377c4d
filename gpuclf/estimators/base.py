"""What gpuclf's classifiers share beyond validation: accuracy computed where the predictions live."""
from __future__ import annotations

from sklearn import base

from gpuclf.estimators.validation import validate_y
from gpuclf.xp import get_namespace, to_namespace


class ClassifierMixin(base.ClassifierMixin):
    """scikit-learn's ``ClassifierMixin`` whose ``score`` works on CuPy arrays too.

    scikit-learn's ``score`` calls ``accuracy_score``, which converts its
    inputs to NumPy implicitly; CuPy refuses that, so the mean is taken in
    the predictions' namespace instead, with the same result.
    """

    def score(self, X, y, sample_weight=None):
        """Mean accuracy of ``predict(X)`` on ``y`` (subset accuracy for several outputs), as a float.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
        y : array of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array of shape (n_samples,), optional

        Returns
        -------
        float
        """
        pred = self.predict(X)
        xp = get_namespace(pred)
        y = validate_y(self, y, pred.shape[0], xp=xp, multi_output=pred.ndim == 2)
        correct = pred == y.reshape(pred.shape)
        if correct.ndim == 2:
            correct = correct.all(axis=1)
        weights = None if sample_weight is None else to_namespace(sample_weight, xp)
        return float(xp.average(correct.astype(xp.float64), weights=weights))
