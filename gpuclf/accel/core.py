"""install() / uninstall(): which scikit-learn names resolve to the swapped classes, and on which backend.

``install`` imports the scikit-learn modules that hold the swapped names and
sets each name to gpuclf's class, so every import form made afterwards
(``from sklearn.linear_model import SGDClassifier``, ``lm.SGDClassifier``,
``sklearn.neighbors.KNeighborsClassifier``) gets it, whether scikit-learn was
imported before or not. Names that a script (``__main__``) or an IPython
session already bound to scikit-learn's class are rebound too.
``uninstall`` puts every one back.
"""
from __future__ import annotations

import importlib
import os
import sys

from ..errors import GpuclfError
from .backend import choose_backend, current_backend, use_backend

__all__ = ["EXCLUDE_ENV", "SWAPS", "choose_backend", "current_backend", "install", "installed", "swapped_names",
           "uninstall"]

#: The names swapped everywhere: (scikit-learn module, class name).
SWAPS = (
    ("sklearn.linear_model", "SGDClassifier"),
    ("sklearn.neighbors", "KNeighborsClassifier"),
    ("sklearn.preprocessing", "StandardScaler"),
    ("sklearn.dummy", "DummyClassifier"),
    ("sklearn.multiclass", "OneVsOneClassifier"),
    ("sklearn.multiclass", "OneVsRestClassifier"),
)
#: Swapped only on the gpu backend with cuML: cuML's forest and SVC.
CUML_SWAPS = (
    ("sklearn.ensemble", "RandomForestClassifier"),
    ("sklearn.svm", "SVC"),
)
EXCLUDE_ENV = "GPUCLF_ACCEL_EXCLUDE"


class _State:
    installed = False
    modules: list = []    # (module, name, scikit-learn's class)
    namespaces: list = []  # (namespace dict, key, scikit-learn's class, swapped class)


def installed() -> bool:
    """Whether :func:`install` is in effect."""
    return _State.installed


def swapped_names() -> list[str]:
    """The class names that resolve to gpuclf's classes now (empty when not installed)."""
    return [name for _, name, _ in _State.modules]


def _excluded(exclude) -> set[str]:
    names = {n.strip() for n in os.environ.get(EXCLUDE_ENV, "").split(",") if n.strip()}
    if isinstance(exclude, str):
        exclude = [exclude]
    names |= {str(n).strip() for n in (exclude or ())}
    known = {name for _, name in SWAPS + CUML_SWAPS}
    unknown = sorted(names - known)
    if unknown:
        raise GpuclfError(f"cannot exclude {', '.join(unknown)} (from exclude= or ${EXCLUDE_ENV}): gpuclf.accel "
                          f"swaps only {', '.join(sorted(known))}")
    return names


def _user_namespaces() -> list[dict]:
    """Where a user's own names live: the running script, and IPython's user namespace."""
    spaces = []
    main = sys.modules.get("__main__")
    if main is not None:
        spaces.append(vars(main))
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None
    if shell is not None and all(shell.user_ns is not s for s in spaces):
        spaces.append(shell.user_ns)
    return spaces


def install(backend: str | None = None, exclude=(), quiet: bool = False) -> list[str]:
    """Swap scikit-learn's classifiers of the chapter for gpuclf's.

    Parameters
    ----------
    backend : {"auto", "gpu", "numpy"}, optional
        Where gpuclf's estimators run; default ``$GPUCLF_BACKEND``, else
        ``auto``: the GPU when CuPy sees one, else ``numpy`` (gpuclf's kernels
        on the CPU). Never plain scikit-learn: that is running without accel.
    exclude : iterable of str
        Class names to leave as scikit-learn's (``"SGDClassifier"`` keeps its
        per-sample SGD and the book's exact figures); ``$GPUCLF_ACCEL_EXCLUDE``
        adds a comma-separated list.
    quiet : bool
        Leave out the one-line notice.

    Returns
    -------
    list of str
        The swapped names: ``SGDClassifier``, ``KNeighborsClassifier``,
        ``StandardScaler``, ``DummyClassifier``, ``OneVsOneClassifier``,
        ``OneVsRestClassifier``, and on a GPU with cuML also
        ``RandomForestClassifier`` and ``SVC``, less the excluded ones.

    Raises
    ------
    GpuclfError
        An unknown backend or excluded name, ``backend="cpu"``, or ``"gpu"``
        without a usable GPU; nothing is changed then.
    """
    excluded = _excluded(exclude)
    chosen, why = choose_backend(backend)
    if _State.installed:
        uninstall()
    from . import estimators as swapped

    swaps = SWAPS
    if chosen.name == "gpu" and chosen.uses_cuml():
        swaps = swaps + CUML_SWAPS
    use_backend(chosen, why)
    replaced = {}
    for module_name, name in swaps:
        if name in excluded or not hasattr(swapped, name):
            continue
        module = importlib.import_module(module_name)
        original, new = getattr(module, name), getattr(swapped, name)
        setattr(module, name, new)
        _State.modules.append((module, name, original))
        replaced[id(original)] = new
    for space in _user_namespaces():
        for key, value in list(space.items()):
            new = replaced.get(id(value))
            if new is not None and isinstance(value, type):
                space[key] = new
                _State.namespaces.append((space, key, value, new))
    _State.installed = True
    names = swapped_names()
    if not quiet:
        kept = f"; {', '.join(sorted(excluded))} kept as scikit-learn's" if excluded else ""
        print(f"gpuclf.accel: {', '.join(names)} run on gpuclf's {chosen.name} backend ({why}){kept}; the rest is "
              "scikit-learn's; gpuclf.accel.summary() lists each call", file=sys.stderr)
    return names


def uninstall() -> None:
    """Give every swapped name back its scikit-learn class (estimators already made keep their class)."""
    for module, name, original in reversed(_State.modules):
        setattr(module, name, original)
    for space, key, original, new in reversed(_State.namespaces):
        if space.get(key) is new:
            space[key] = original
    _State.modules, _State.namespaces = [], []
    _State.installed = False
