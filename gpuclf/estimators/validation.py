"""Input validation shared by gpuclf's estimators: every error they raise for bad input comes from here.

The checks and messages follow scikit-learn's ``check_X_y`` /
``check_classification_targets`` / ``check_is_fitted`` so that its tools
(``GridSearchCV(error_score=...)``, ``check_estimator``) see the exception
types they expect: :class:`~gpuclf.errors.InputError` (a ``ValueError``) for
bad data, :class:`~gpuclf.errors.ParameterError` (also a ``TypeError``, as
scikit-learn's ``InvalidParameterError``) for bad hyper-parameters, and
scikit-learn's ``NotFittedError`` before ``fit``. The arrays stay in their
namespace (NumPy or CuPy); only labels visit the host, to be checked.
"""
from __future__ import annotations

import numbers
import os
import sys
import warnings

import numpy as np
from scipy import sparse
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from gpuclf.errors import InputError, ParameterError
from gpuclf.kernels.distance_bounds import Projection
from gpuclf.kernels.neighbors import WEIGHTS
from gpuclf.kernels.pruned_neighbors import ALGORITHMS
from gpuclf.xp import get_namespace, is_cupy_array, to_host, to_namespace

__all__ = ["PARAMETERS", "check_fitted", "check_n_neighbors", "check_params", "encode_labels", "num_samples",
           "validate_X", "validate_X_y", "validate_y"]


# -- hyper-parameters ----------------------------------------------------------
def _integer(low: int, high: int | None = None, *, none: bool = False):
    what = f"an integer >= {low}" if high is None else f"an integer in [{low}, {high}]"

    def ok(v):
        if v is None:
            return none
        return (isinstance(v, numbers.Integral) and not isinstance(v, bool)
                and v >= low and (high is None or v <= high))

    return ok, f"None or {what}" if none else what


def _finite_above(low: float):
    def ok(v):
        return (isinstance(v, numbers.Real) and not isinstance(v, bool)
                and bool(np.isfinite(v)) and v > low)

    return ok, f"a finite number > {low}"


def _finite_at_least_or_none(low: float):
    def ok(v):
        return v is None or (isinstance(v, numbers.Real) and not isinstance(v, bool)
                             and bool(np.isfinite(v)) and v >= low)

    return ok, f"None or a finite number >= {low}"


def _one_of(*options: str):
    return (lambda v: isinstance(v, str) and v in options), "one of " + ", ".join(map(repr, options))


def _instance_or_none(cls):
    return (lambda v: v is None or isinstance(v, cls)), f"None or a {cls.__name__}"


def _binary_classifier():
    def ok(v):
        has = lambda name: callable(getattr(v, name, None))  # noqa: E731
        return has("fit") and (has("decision_function") or has("predict_proba"))

    return ok, "an estimator with fit, and decision_function or predict_proba"


#: What each hyper-parameter of gpuclf's estimators accepts, by name (a name
#: means the same thing in every estimator). ``fit`` checks them all through
#: :func:`validate_X`, before touching the data.
PARAMETERS = {
    "algorithm": _one_of(*ALGORITHMS),
    "alpha": _finite_above(0),
    "average_after": _integer(0, none=True),
    "batch_size": _integer(1),
    "budget_bytes": _integer(1, none=True),
    "estimator": _binary_classifier(),
    "loss": _one_of("hinge"),
    "max_iter": _integer(1),
    "n_iter_no_change": _integer(1),
    "n_neighbors": _integer(1),
    "penalty": _one_of("l2"),
    "projection": _instance_or_none(Projection),
    "random_state": _integer(0, 2**32 - 1, none=True),
    "strategy": _one_of("prior", "most_frequent"),
    "tol": _finite_at_least_or_none(0),
    "weights": _one_of(*WEIGHTS),
    "with_mean": (lambda v: isinstance(v, (bool, np.bool_)), "a bool"),
    "with_std": (lambda v: isinstance(v, (bool, np.bool_)), "a bool"),
    "copy": (lambda v: isinstance(v, (bool, np.bool_)), "a bool"),
}


def check_params(estimator) -> None:
    """Check the estimator's hyper-parameters against :data:`PARAMETERS`.

    Raises
    ------
    ParameterError
        Naming the first parameter out of range, what it accepts and its value.
    """
    for name, value in estimator.get_params(deep=False).items():
        if name in PARAMETERS:
            ok, what = PARAMETERS[name]
            if not ok(value):
                raise ParameterError(
                    f"The {name!r} parameter of {type(estimator).__name__} must be {what}, got {value!r}"
                )


def check_fitted(estimator) -> None:
    """scikit-learn's ``check_is_fitted``: ``NotFittedError`` (a ``ValueError``) before ``fit``."""
    check_is_fitted(estimator)


def _empty(what: str, shape: tuple, name: str) -> InputError:
    """scikit-learn's refusal of an array with no samples or no features (``check_array``'s minimum of 1)."""
    return InputError(f"Found array with 0 {what} (shape={shape}) while a minimum of 1 is required by {name}")


# -- X -------------------------------------------------------------------------
def validate_X(estimator, X, *, reset: bool, xp=None, float_dtype=np.float64, allow_nan: bool = False):
    """Check ``X`` and return it as a float array in namespace ``xp``.

    Parameters
    ----------
    estimator : BaseEstimator
        Receives ``n_features_in_`` (and ``feature_names_in_`` for a
        DataFrame) when ``reset``; otherwise X must match them.
    X : array-like of shape (n_samples, n_features)
        NumPy, CuPy, or anything ``numpy.asarray`` accepts (lists, DataFrames).
    reset : bool
        True in ``fit``, which also checks the hyper-parameters
        (:func:`check_params`); False afterwards, which checks the
        estimator is fitted.
    xp : module, optional
        Namespace of the result (where the model lives); default that of ``X``.
    float_dtype : dtype, default=numpy.float64
        What non-float input becomes (float32 for the SGD, the GPU's fast type).
    allow_nan : bool, default=False
        Let NaN and infinity through (meta-estimators leave them to their
        base estimator, as scikit-learn's do).

    Returns
    -------
    array of shape (n_samples, n_features)
        float32 and float64 keep their type, other dtypes become ``float_dtype``.

    Raises
    ------
    NotFittedError
        When not ``reset`` and the estimator is not fitted.
    ParameterError
        When ``reset`` and a hyper-parameter is out of range.
    InputError
        For sparse, complex, string, non-2-D or empty input, NaN or infinity, and a
        number of features other than at fit time.
    """
    if reset:
        check_params(estimator)
    else:
        check_fitted(estimator)
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
            raise _empty(what, Xa.shape, name)
    if not allow_nan and not bool(xp.isfinite(Xa).all()):
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


def num_samples(estimator, X, *, reset: bool) -> int:
    """The number of rows of an ``X`` whose values the estimator ignores (``DummyClassifier``).

    As scikit-learn's dummy estimators: any array-like with a length is
    accepted (NaN, strings, sparse), and ``fit`` records ``n_features_in_``
    when X has columns. ``reset=False`` checks the estimator is fitted.

    Raises
    ------
    InputError
        For ``X=None`` or an object without a length.
    """
    if reset:
        check_params(estimator)
    else:
        check_fitted(estimator)
    name = type(estimator).__name__
    if not hasattr(X, "shape") and not hasattr(X, "__len__") and hasattr(X, "__array__"):
        X = np.asarray(X)
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        n = int(shape[0])
    elif X is not None and hasattr(X, "__len__") and not isinstance(X, (str, bytes)):
        n = len(X)
    else:
        raise InputError(f"{name} needs an array-like X of shape (n_samples, n_features), got {type(X).__name__}")
    if reset:
        validate_data(estimator, X, reset=True, skip_check_array=True)
    return n


# -- y -------------------------------------------------------------------------
# Not mutated: mutmut calls each function through a trampoline in its own module, which this walk would
# take for the user's frame; tests/estimators/test_mut_estimators.py checks it (marked ``call_stack``).
# pragma: no mutate start
def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside gpuclf: a warning names the user's line, however deep
    the estimator's call chain (``fit`` -> ``validate_X_y`` -> ``validate_y``, or ``score`` -> ``validate_y``)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 1  # the caller of this helper is level 1 for warnings.warn there
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level
# pragma: no mutate end


def validate_y(estimator, y, n_samples: int, *, xp, multi_output: bool = False):
    """Check class labels ``y`` for ``n_samples`` rows and return them in namespace ``xp``.

    Parameters
    ----------
    estimator : BaseEstimator
        Named in the messages.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        A column vector is raveled with a ``DataConversionWarning``, as
        scikit-learn does.
    n_samples : int
        Rows of X.
    xp : module
        Namespace of the result.
    multi_output : bool, default=False
        Accept 2-D ``y`` (one column per output).

    Raises
    ------
    InputError
        ``y`` None, sparse, of the wrong shape or length, with NaN or infinity,
        continuous or of mixed types (scikit-learn's "Unknown label type"; a
        list mixing strings and numbers, as scikit-learn's ``unique_labels``), or
        strings bound for a CuPy model (CuPy has no string arrays).
    """
    name = type(estimator).__name__
    if y is None:
        raise InputError(f"This {name} estimator requires y to be passed, but the target y is None")
    if sparse.issparse(y):
        raise InputError(f"{name} needs a dense y; sparse labels are not supported")
    if isinstance(y, (list, tuple)) and len({isinstance(v, str) for v in np.asarray(y, dtype=object).flat}) > 1:
        # NumPy would make every label a string, so predictions would change type.
        raise InputError(f"Mix of label input types (string and number) in y; {name} needs one type of label")
    # Integer or boolean labels already on the device are classification targets whatever their values
    # (scikit-learn's type_of_target), so only their shape needs checking: no copy to the host (the denoising
    # KNN's 60,000 x 784 pixel targets would be 47 MB per fit).
    device_ints = is_cupy_array(y) and y.dtype.kind in "biu"
    y_host = y if device_ints else to_host(y)
    if y_host.ndim == 2 and y_host.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the shape of y "
            "to (n_samples,), for example using ravel().",
            DataConversionWarning,
            stacklevel=_caller_stacklevel(),
        )
        y_host = y_host.ravel()
    if y_host.ndim not in ((1, 2) if multi_output else (1,)):
        raise InputError(f"y should be a 1d array, got an array of shape {y_host.shape} instead")
    if y_host.shape[0] != n_samples:
        raise InputError(
            f"Found input variables with inconsistent numbers of samples: [{n_samples}, {y_host.shape[0]}]"
        )
    if n_samples == 0:
        raise _empty("sample(s)", y_host.shape, name)
    if y_host.ndim == 2 and y_host.shape[1] == 0:  # scikit-learn checks a 2-D y as it checks X
        raise _empty("feature(s)", y_host.shape, name)
    if device_ints:
        return y_host if xp is not np else to_host(y_host)
    if y_host.dtype.kind in "fc" and not np.isfinite(y_host).all():
        raise InputError(f"Input y contains NaN or infinity; {name} needs finite class labels")
    # Integer and boolean labels on the host are classification targets too: scikit-learn's check would only
    # sort them (np.unique of 47 million pixel targets: half a second). Empty columns are its "unknown".
    if not (y_host.dtype.kind in "biu" and y_host.shape[-1] > 0):
        try:
            check_classification_targets(y_host)
        except ValueError as exc:
            raise InputError(str(exc)) from None
    if xp is not np and y_host.dtype.kind not in "biuf":
        raise InputError(
            f"{name} keeps its model on the GPU, where labels must be numbers or booleans "
            f"(CuPy has no {y_host.dtype} arrays); encode the labels as integers first"
        )
    if is_cupy_array(y) and xp is not np and y.ndim == y_host.ndim:
        return y  # already where the model lives: no round trip
    return to_namespace(y_host, xp)


def validate_X_y(estimator, X, y, *, xp=None, float_dtype=np.float64, allow_nan: bool = False,
                 multi_output: bool = False):
    """``fit``'s checks: hyper-parameters, then ``X`` (:func:`validate_X`), then ``y`` (:func:`validate_y`).

    Returns
    -------
    X, y
        In namespace ``xp``, default that of ``X`` and ``y`` (CuPy if either is).
    """
    if y is None:  # before X, as scikit-learn: the message names the real mistake
        validate_y(estimator, y, 0, xp=np)
    xp = get_namespace(X, y) if xp is None else xp
    X = validate_X(estimator, X, reset=True, xp=xp, float_dtype=float_dtype, allow_nan=allow_nan)
    return X, validate_y(estimator, y, X.shape[0], xp=xp, multi_output=multi_output)


def encode_labels(estimator, y, *, min_classes: int = 1):
    """Sorted classes of 1-D ``y`` and each label's index among them, in ``y``'s namespace.

    Raises
    ------
    InputError
        Fewer than ``min_classes`` distinct labels (scikit-learn's wording,
        "only one class", for one).
    """
    xp = get_namespace(y)
    classes, codes = xp.unique(y, return_inverse=True)
    if classes.shape[0] < min_classes:
        raise InputError(f"y has only one class ({to_host(classes).tolist()[0]!r}); {type(estimator).__name__} "
                         f"needs samples of at least {min_classes} classes")
    return classes, xp.reshape(codes, (-1,))


# -- neighbours ----------------------------------------------------------------
def check_n_neighbors(n_neighbors, n_samples_fit: int, n_queries: int, *, leave_one_out: bool) -> int:
    """``kneighbors``'s bound on ``n_neighbors``, with scikit-learn's messages.

    Parameters
    ----------
    n_neighbors : int
    n_samples_fit : int
        Training rows.
    n_queries : int
    leave_one_out : bool
        The queries are the training rows, each left out of its own
        neighbours, so one fewer is available.

    Raises
    ------
    ParameterError
        Not an integer (also a ``TypeError``, as scikit-learn raises).
    InputError
        Below 1, or more than the training rows available.
    """
    if not isinstance(n_neighbors, numbers.Integral) or isinstance(n_neighbors, bool):
        raise ParameterError(f"n_neighbors does not take {type(n_neighbors)} value, enter integer value")
    if n_neighbors <= 0:
        raise InputError(f"Expected n_neighbors > 0. Got {n_neighbors}")
    if n_neighbors > n_samples_fit - leave_one_out:
        relation = "<" if leave_one_out else "<="
        raise InputError(
            f"Expected n_neighbors {relation} n_samples_fit, but n_neighbors = {n_neighbors}, "
            f"n_samples_fit = {n_samples_fit}, n_samples = {n_queries}"
        )
    return int(n_neighbors)
