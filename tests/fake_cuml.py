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


#: cuML 26.10's constructor keywords and defaults (``inspect.signature``, checked against the real
#: classes by ``tests/test_rapids_contracts.py``): a keyword outside these is cuML's ``TypeError``.
SIGNATURES = {
    "SVC": dict(C=1.0, kernel="rbf", degree=3, gamma="scale", coef0=0.0, tol=0.001, cache_size=1024.0,
                max_iter=-1, nochange_steps=1000, verbose=False, output_type=None, random_state=None,
                class_weight=None, decision_function_shape="ovo"),
    "RandomForestClassifier": dict(n_estimators=100, split_criterion="gini", bootstrap=True, max_samples=1.0,
                                   max_depth=None, max_leaves=-1, max_features="sqrt", n_bins=128,
                                   min_samples_leaf=1, min_samples_split=2, min_impurity_decrease=0.0,
                                   max_batch_size=4096, random_state=None, n_streams=4, oob_score=False,
                                   class_weight=None, verbose=False, output_type=None),
    "KNeighborsClassifier": dict(n_neighbors=5, algorithm="auto", metric="euclidean", weights="uniform", p=2,
                                 algo_params=None, metric_params=None, n_jobs=None, verbose=False,
                                 output_type=None),
}


class _Wrapped:
    """A cuML estimator over scikit-learn: cuML's keywords and defaults, scikit-learn's arithmetic.

    Subclasses map cuML's parameters to scikit-learn's in ``_sklearn_params``.
    """

    _f_order = False

    def __init__(self, **params):
        name = type(self).__name__
        unknown = sorted(set(params) - set(SIGNATURES[name]))
        if unknown:
            raise TypeError(f"{name}.__init__() got an unexpected keyword argument {unknown[0]!r}")
        self._params = {**SIGNATURES[name], **params}

    def get_params(self, deep=True):
        return dict(self._params)

    def __getattr__(self, name):
        # Fitted attributes (support_vectors_, dual_coef_, intercept_ ...) as device arrays, as cuML's.
        if name.endswith("_") and not name.startswith("_") and "_model" in self.__dict__:
            import cupy

            return cupy.asarray(getattr(self._model, name))
        raise AttributeError(name)

    def set_params(self, **params):
        self.__init__(**{**self._params, **params})
        return self

    def _input(self, X, what):
        import cupy

        return _host(X, f"{type(self).__name__}.{what}") if self._f_order else cupy.asnumpy(X)

    def fit(self, X, y):
        import cupy

        self._model = self._sklearn_model().fit(self._input(X, "fit"), cupy.asnumpy(y))
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


def _without(params, *names):
    return {k: v for k, v in params.items() if k not in names + ("verbose", "output_type")}


class SVC(_Wrapped):
    _f_order = True

    def _sklearn_model(self):
        from sklearn.svm import SVC as SkSVC

        return SkSVC(**_without(self._params, "nochange_steps"))


class RandomForestClassifier(_Wrapped):
    def _sklearn_model(self):
        from sklearn.ensemble import RandomForestClassifier as SkForest

        kw = _without(self._params, "n_bins", "max_batch_size", "n_streams")
        leaves = kw.pop("max_leaves")
        return SkForest(criterion=kw.pop("split_criterion"), max_leaf_nodes=None if leaves == -1 else leaves,
                        **kw)


class KNeighborsClassifier(_Wrapped):
    def _sklearn_model(self):
        from sklearn.neighbors import KNeighborsClassifier as SkKNN

        kw = _without(self._params, "algo_params")
        if kw["algorithm"] in ("ivfflat", "ivfpq"):
            raise NotImplementedError("the fake has no approximate search")
        return SkKNN(**kw)


def _build() -> dict:
    """The modules ``import cuml`` creates, after cuML's CuPy setup has run."""
    import cupy
    from rmm.allocators.cupy import rmm_cupy_allocator

    imports[0] += 1
    cupy.cuda.set_allocator(rmm_cupy_allocator)  # cuML's _setup_cupy
    cuml = types.ModuleType("cuml")
    cuml.__version__ = "26.10.0+fake"
    svm, ensemble, neighbors = (types.ModuleType(f"cuml.{n}") for n in ("svm", "ensemble", "neighbors"))
    svm.SVC, ensemble.RandomForestClassifier, neighbors.KNeighborsClassifier = SVC, RandomForestClassifier, \
        KNeighborsClassifier
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
    # The real cuML (imported earlier), or fake_cupy's hiding None, steps aside until the block ends.
    saved = {n: sys.modules.pop(n) for n in [n for n in sys.modules if n == "cuml" or n.startswith("cuml.")]}
    calls.clear()
    imports[0] = 0
    try:
        yield finder
    finally:
        sys.meta_path.remove(finder)
        for name in [n for n in sys.modules if n == "cuml" or n.startswith("cuml.")]:
            del sys.modules[name]
        sys.modules.update(saved)
