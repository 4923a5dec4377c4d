"""What every swapped class shares: gpuclf's estimator where it can, scikit-learn's own where it cannot.

A swapped class subclasses scikit-learn's (``class SGDClassifier(Accelerated,
sklearn.linear_model.SGDClassifier)``), so its parameters, defaults,
``get_params``/``set_params``, ``clone``, tags, repr and ``isinstance``
checks are scikit-learn's own. Each instance decides at ``fit``:

- its parameter values, the call's extra arguments (``sample_weight``, ...)
  and its input (sparse, ...) are all within what gpuclf's estimator does:
  gpuclf's estimator is fitted on the chosen backend and kept in the
  instance; the small public fitted attributes (``classes_``, ``coef_``,
  ``n_features_in_``, ...) are set as scikit-learn sets them;
- otherwise (or when gpuclf's estimator refuses the data) scikit-learn's
  own ``fit`` runs on the instance, which then is a plain scikit-learn
  estimator, with the reason kept for :func:`gpuclf.accel.summary`.

Later calls (``predict``, ``transform``, ...) run on gpuclf's model when
there is one and the input is supported; otherwise scikit-learn's method
runs, after the instance's scikit-learn state has been completed from the
gpuclf model (:meth:`Accelerated._to_sklearn`: for KNN, scikit-learn's own
``fit`` on the kept training data). Setting a fitted attribute by hand, or a
hyper-parameter that gpuclf's model cannot follow, hands the instance over
to scikit-learn for good; a pickle holds scikit-learn's state only.

Inputs on the host (NumPy, lists, pandas) are checked by scikit-learn's own
``validate_data`` with the arguments its estimator uses, so bad input fails
with scikit-learn's exception and message, and then moved to the backend once
per call. CuPy inputs are checked by gpuclf's validation and stay on the
device, and so do the results; every other result is NumPy.
"""
from __future__ import annotations

import numbers
from abc import ABCMeta

import numpy as np
from scipy import sparse
from sklearn.utils.validation import validate_data

from ..xp import is_cupy_array, to_host
from . import calls

__all__ = ["Accelerated", "Unsupported"]

_MODEL = "_gpuclf_model"    # the fitted gpuclf estimator, or None
_DATA = "_gpuclf_data"      # what _to_sklearn needs (the training data for KNN)
_SYNCED = "_gpuclf_synced"  # scikit-learn's state is complete
_WHY = "_gpuclf_why"        # why scikit-learn fitted this instance
_INSIDE = "_gpuclf_inside"  # scikit-learn's own code is running on the instance: no second record


class Unsupported(Exception):
    """A parameter value, argument or input that gpuclf's estimator does not handle; the message says which."""


class SwapMeta(ABCMeta):
    """``isinstance(plain_sklearn_sgd, SwappedSGD)`` is True too: code that checks against the name it imported
    (which install() changed) still recognises estimators made before install()."""

    def __instancecheck__(cls, obj):
        # Through the MRO, not isinstance(obj, original): scikit-learn's ABCs would ask their subclasses,
        # this class among them, again.
        original = cls.__dict__.get("_sklearn_class")
        return super().__instancecheck__(obj) or (original is not None and original in type(obj).__mro__)


def gpuclf_call(call, *args, **kwargs):
    """``call(*args, **kwargs)``; any error it raises becomes :class:`Unsupported` (scikit-learn takes over)."""
    try:
        return call(*args, **kwargs)
    except Unsupported:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever gpuclf refuses, scikit-learn gets to answer
        raise Unsupported(f"gpuclf refused it: {type(exc).__name__}: {exc}") from exc


def require(params: dict, name: str, allowed, what: str) -> None:
    """:class:`Unsupported` unless ``params[name]`` is one of ``allowed``."""
    value = params[name]
    if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
        raise Unsupported(f"{name}={value!r}: {what}")


def seed(params: dict, what: str):
    """``params["random_state"]`` where gpuclf takes it (None or a 32-bit integer), else :class:`Unsupported`."""
    value = params["random_state"]
    if value is None or (isinstance(value, numbers.Integral) and 0 <= value < 2**32):
        return value
    raise Unsupported(f"random_state={value!r}: {what} takes an integer seed")


class Accelerated(metaclass=SwapMeta):
    """Mixin placed before the scikit-learn class it swaps; see the module docstring.

    A subclass sets ``_sklearn_class`` and implements ``_gpuclf_params``
    (gpuclf's parameters, or :class:`Unsupported`), its ``fit`` through
    :meth:`_run_fit`, its other methods through :meth:`_run`, and
    ``_to_sklearn_state`` where scikit-learn's private state is more than
    the public attributes set at fit.
    """

    _sklearn_class: type
    #: scikit-learn's private fitted attributes, made by _to_sklearn() when something reads them
    _lazy_attributes: frozenset = frozenset()

    @staticmethod
    def _labels(labels, X):
        """Predicted labels: NumPy, or CuPy for CuPy input where CuPy can hold them (numbers)."""
        if is_cupy_array(X) and labels.dtype.kind in "biuf":
            from ..xp import get_namespace

            return get_namespace(X).asarray(labels)
        return labels

    # -- where things run ------------------------------------------------------------------
    @staticmethod
    def _backend():
        from .backend import current_backend

        return current_backend()

    def _where(self) -> str:
        return f"gpuclf ({self._backend().name})"

    @property
    def _name(self) -> str:
        return self._sklearn_class.__name__

    def _gpuclf_params(self) -> dict:
        """gpuclf's estimator parameters for this instance's scikit-learn ones, or :class:`Unsupported`."""
        raise NotImplementedError

    # -- fit -----------------------------------------------------------------------------------
    def _run_fit(self, method: str, gpuclf_fit, *args, **extra):
        """``fit``-like ``method``: ``gpuclf_fit(*args)`` where supported, else scikit-learn's (recorded with why).

        ``extra`` holds the call's optional arguments (``sample_weight``, ...): any
        that is not None sends the call to scikit-learn.
        """
        sk_method = getattr(self._sklearn_class, method)
        if self.__dict__.get(_INSIDE):
            return sk_method(self, *args, **extra)
        self._forget()
        # scikit-learn's parameter validation first: a bad value fails exactly as without accel.
        self._validate_params()
        reason = next((f"{name} given" for name, value in extra.items() if value is not None), None)
        if reason is None and args and sparse.issparse(args[0]):
            reason = "sparse X"
        if reason is None and getattr(self, "_skl_callbacks", None):
            reason = "callbacks set (scikit-learn calls them from its own fit)"
        if reason is None:
            try:
                with calls.record(self._name, method, self._where):
                    gpuclf_fit(*args)
                return self
            except Unsupported as exc:
                self._forget()
                reason = str(exc)
        self.__dict__[_WHY] = reason
        return self._sklearn(method, reason, *args, **extra)

    def _forget(self) -> None:
        """Drop gpuclf's model, and scikit-learn's private state of an earlier fit (a new fit starts)."""
        for key in (_MODEL, _DATA, _SYNCED, _WHY, *type(self)._lazy_attributes):
            self.__dict__.pop(key, None)

    def _keep(self, model, data=None, **fitted) -> None:
        """Keep gpuclf's fitted ``model`` and set scikit-learn's public fitted attributes from ``fitted``."""
        self.__dict__.update(fitted)
        self.__dict__[_MODEL] = model
        self.__dict__[_DATA] = data
        self.__dict__[_SYNCED] = False

    # -- other methods -----------------------------------------------------------------------
    def _run(self, method: str, gpuclf_method, *args, **kwargs):
        """``gpuclf_method(model, *args, **kwargs)`` on gpuclf's model, else scikit-learn's ``method`` (recorded)."""
        if self.__dict__.get(_INSIDE):
            return getattr(self._sklearn_class, method)(self, *args, **kwargs)
        model = self.__dict__.get(_MODEL)
        if model is None:
            return self._sklearn(method, self.__dict__.get(_WHY) or "fitted by scikit-learn", *args, **kwargs)
        try:
            if args and sparse.issparse(args[0]):
                raise Unsupported("sparse X")
            with calls.record(self._name, method, self._where):
                return gpuclf_method(model, *args, **kwargs)
        except Unsupported as exc:
            self._to_sklearn()
            return self._sklearn(method, str(exc), *args, **kwargs)

    def _sklearn(self, method: str, reason: str, *args, **kwargs):
        """scikit-learn's own ``method`` on this instance, recorded as a fallback with ``reason``."""
        self.__dict__[_INSIDE] = True
        try:
            with calls.record(self._name, method, ("scikit-learn", reason)):
                out = getattr(self._sklearn_class, method)(self, *args, **kwargs)
        finally:
            self.__dict__.pop(_INSIDE, None)
        return out

    def _handover(self, method: str, *args, **kwargs):
        """scikit-learn's ``method`` from now on (``partial_fit``: it continues from the fitted state)."""
        if self.__dict__.get(_INSIDE):
            return getattr(self._sklearn_class, method)(self, *args, **kwargs)
        reason = f"{method} is scikit-learn's"
        if self.__dict__.get(_MODEL) is not None:
            self._to_sklearn()
            self.__dict__[_MODEL] = None
        self.__dict__[_WHY] = reason
        return self._sklearn(method, reason, *args, **kwargs)

    # -- scikit-learn's state ---------------------------------------------------------------
    def _to_sklearn(self) -> None:
        """Complete scikit-learn's fitted state from gpuclf's model, once, so that its methods can run."""
        d = self.__dict__
        if d.get(_MODEL) is None or d.get(_SYNCED):
            return
        d[_INSIDE] = True
        try:
            self._to_sklearn_state(d[_MODEL], d.get(_DATA))
        finally:
            d.pop(_INSIDE, None)
        d[_SYNCED] = True

    def _to_sklearn_state(self, model, data) -> None:
        """Set scikit-learn's private fitted state (the public attributes were set at fit)."""

    def __getattr__(self, name):
        d = self.__dict__
        if name in type(self)._lazy_attributes and d.get(_MODEL) is not None and not d.get(_SYNCED):
            self._to_sklearn()
            if name in d:
                return d[name]
        if hasattr(type(self), name):
            # A descriptor refused (scikit-learn's available_if): raise its own error again, cause and all.
            return object.__getattribute__(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name, value):
        d = self.__dict__
        if d.get(_MODEL) is None or d.get(_INSIDE) or self._bookkeeping(name):
            object.__setattr__(self, name, value)
            return
        if name in self._get_param_names():
            before = d.get(name)
            object.__setattr__(self, name, value)
            try:
                self._follow_params(d[_MODEL])
            except Unsupported as exc:
                # scikit-learn's state is made with the values the model was fitted with, as its fit made it.
                object.__setattr__(self, name, before)
                self._give_up(f"{name}={value!r} set after fit: {exc}")
                object.__setattr__(self, name, value)
            return
        # A fitted attribute set by hand (scikit-learn's tests do): scikit-learn's state is the truth from now on.
        self._give_up(f"{name} set by hand after fit")
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        if self.__dict__.get(_MODEL) is not None and not self.__dict__.get(_INSIDE) and not self._bookkeeping(name):
            self._give_up(f"{name} deleted after fit")
        object.__delattr__(self, name)

    def _bookkeeping(self, name: str) -> bool:
        """Private attributes that scikit-learn's machinery keeps on any estimator (callbacks, set_output, ...)
        and this class's own: changing them leaves the fitted model as it is."""
        return name.startswith("_") and name not in type(self)._lazy_attributes

    def _give_up(self, reason: str) -> None:
        self._to_sklearn()
        self.__dict__[_MODEL] = None
        self.__dict__[_WHY] = reason

    def _follow_params(self, model) -> None:
        """A hyper-parameter changed after fit: gpuclf's model follows it, or :class:`Unsupported`."""
        params = self._gpuclf_params()
        own = model.get_params(deep=False)
        model.set_params(**{k: v for k, v in params.items() if k in own})

    def __getstate__(self):
        self._to_sklearn()
        state = super().__getstate__()
        if state.get(_MODEL) is not None:
            state[_WHY] = "restored from a pickle: scikit-learn's fitted state"
        return {k: v for k, v in state.items() if k not in (_MODEL, _DATA, _SYNCED, _INSIDE)}

    # -- inputs and outputs ---------------------------------------------------------------
    def _fit_input(self, X, y, *, supervised: bool = True, **check):
        """X on the backend and y on the host, checked as scikit-learn's ``fit`` checks them (``check``).

        ``supervised``: y is required (scikit-learn's "requires y to be passed" when it is None).
        """
        if is_cupy_array(X) or is_cupy_array(y):
            from ..estimators.validation import validate_X, validate_y
            from ..xp import get_namespace

            if supervised and y is None:
                validate_y(self, y, 0, xp=np)  # scikit-learn's message, as a ValueError
            X = validate_X(self, X, reset=True, xp=get_namespace(X, y), allow_nan=True)
            return X, to_host(y) if y is not None else None
        if not supervised:
            X = validate_data(self, X, reset=True, **check)
        else:
            X, y = validate_data(self, X, y, reset=True, **check)
        return self._backend().asarray(X), y

    def _query_input(self, X, **check):
        """X for a fitted model's method: on the backend, checked as scikit-learn's method checks it."""
        if is_cupy_array(X):
            from ..estimators.validation import validate_X
            from ..xp import get_namespace

            return validate_X(self, X, reset=False, xp=get_namespace(X), allow_nan=True)
        return self._backend().asarray(validate_data(self, X, reset=False, **check))

    @staticmethod
    def _output(out, X):
        """NumPy, unless the input ``X`` was a CuPy array (then ``out`` stays where it is)."""
        if is_cupy_array(X):
            return out
        if isinstance(out, (list, tuple)):
            return type(out)(to_host(o) for o in out)
        return to_host(out) if out is not None else None

    def _device_codes(self, codes):
        """Integer class codes (host) in the backend's namespace."""
        return self._backend().asarray(np.asarray(codes))
