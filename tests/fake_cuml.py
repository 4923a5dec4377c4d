"""A stand-in for cuML: what its import does to CuPy, and estimators that record their inputs.

From cuML's sources (``python/cuml/cuml/__init__.py``, ``svm/svc.py``):

- ``import cuml`` runs ``_setup_cupy``, which calls
  ``cupy.cuda.set_allocator(rmm_cupy_allocator)``: from then on CuPy
  allocates from RMM's current device resource;
- ``SVC.fit`` and ``decision_function`` take features in F order
  (``check_inputs(..., order="F")``) and copy any other layout.

The estimators compute with scikit-learn on host copies of the emulated
device arrays; each records the calls and how many inputs it had to copy
to F order (:data:`calls`). Use :func:`installed` inside
``fake_cupy.installed()`` and ``fake_rmm.installed()``.
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import sys
import types


calls: list = []
imports = [0]


def _host(X, record: str):
    """Host copy of a device array, noting whether cuML would have copied it to F order."""
    import cupy

    f_order = X.flags.f_contiguous or X.ndim == 1
    calls.append((record, bool(f_order)))
    return cupy.asnumpy(X)


class _Wrapped:
    """A cuML estimator over scikit-learn: scikit-learn's parameters, output_type ignored."""

    _sklearn = None
    _f_order = False

    def __init__(self, output_type=None, **params):
        self.output_type = output_type
        self._params = params

    def get_params(self, deep=True):
        defaults = self._sklearn().get_params() if isinstance(self._sklearn, type) else {}
        return {**defaults, "output_type": self.output_type, **self._params}

    def __getattr__(self, name):
        # Fitted attributes (support_vectors_, dual_coef_, intercept_ ...) as device arrays, as cuML's.
        if name.endswith("_") and not name.startswith("_") and "_model" in self.__dict__:
            import cupy

            return cupy.asarray(getattr(self._model, name))
        raise AttributeError(name)

    def set_params(self, **params):
        self.output_type = params.pop("output_type", self.output_type)
        self._params.update(params)
        return self

    def _input(self, X, what):
        import cupy

        return _host(X, f"{type(self).__name__}.{what}") if self._f_order else cupy.asnumpy(X)

    def fit(self, X, y):
        import cupy

        self._model = self._sklearn(**self._params).fit(self._input(X, "fit"), cupy.asnumpy(y))
        return self

    def _answer(self, method, X):
        import cupy

        return cupy.asarray(getattr(self._model, method)(self._input(X, method)))

    def predict(self, X):
        return self._answer("predict", X)

    def predict_proba(self, X):
        return self._answer("predict_proba", X)

    def decision_function(self, X):
        return self._answer("decision_function", X)


def _svc():
    from sklearn.svm import SVC

    return type("SVC", (_Wrapped,), {"_sklearn": SVC, "_f_order": True})


def _forest():
    from sklearn.ensemble import RandomForestClassifier

    def sklearn_forest(split_criterion="gini", max_leaves=-1, n_bins=128, n_streams=4, **kw):
        return RandomForestClassifier(criterion=split_criterion,
                                      max_leaf_nodes=None if max_leaves == -1 else max_leaves, **kw)

    return type("RandomForestClassifier", (_Wrapped,), {"_sklearn": staticmethod(sklearn_forest)})


def _knn():
    from sklearn.neighbors import KNeighborsClassifier

    return type("KNeighborsClassifier", (_Wrapped,), {"_sklearn": KNeighborsClassifier})


def _build() -> dict:
    """The modules ``import cuml`` creates, after cuML's CuPy setup has run."""
    import cupy
    from rmm.allocators.cupy import rmm_cupy_allocator

    imports[0] += 1
    cupy.cuda.set_allocator(rmm_cupy_allocator)  # cuML's _setup_cupy
    cuml = types.ModuleType("cuml")
    cuml.__version__ = "26.10.0+fake"
    svm, ensemble, neighbors = (types.ModuleType(f"cuml.{n}") for n in ("svm", "ensemble", "neighbors"))
    svm.SVC, ensemble.RandomForestClassifier, neighbors.KNeighborsClassifier = _svc(), _forest(), _knn()
    cuml.svm, cuml.ensemble, cuml.neighbors = svm, ensemble, neighbors
    return {"cuml": cuml, "cuml.svm": svm, "cuml.ensemble": ensemble, "cuml.neighbors": neighbors}


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes ``cuml`` findable without importing it, and builds it on first import, as Python would."""

    def find_spec(self, name, path=None, target=None):
        if name == "cuml" or name.startswith("cuml."):
            return importlib.machinery.ModuleSpec(name, self, is_package=name == "cuml")
        return None

    def create_module(self, spec):
        if spec.name == "cuml":
            modules = _build()
            sys.modules.update({k: v for k, v in modules.items() if k != "cuml"})
            return modules["cuml"]
        return sys.modules[spec.name]

    def exec_module(self, module):
        pass


@contextlib.contextmanager
def installed():
    """``import cuml`` finds this stand-in inside the block (not imported until asked)."""
    finder = _Finder()
    sys.meta_path.insert(0, finder)
    calls.clear()
    imports[0] = 0
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == "cuml" or n.startswith("cuml.")]:
            del sys.modules[name]
