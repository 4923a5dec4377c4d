"""Run unchanged scikit-learn code of the chapter on gpuclf's kernels: ``%load_ext gpuclf.accel`` or ``install()``.

After :func:`install`, ``SGDClassifier``, ``KNeighborsClassifier``,
``StandardScaler``, ``DummyClassifier``, ``OneVsOneClassifier`` and
``OneVsRestClassifier`` (and, on a GPU with cuML, ``RandomForestClassifier``
and ``SVC``) resolve to gpuclf's classes, however they are imported. Each
instance runs gpuclf's estimator where its parameters and input allow, and
scikit-learn's own everywhere else; :func:`summary` says which ran where.

- ``%load_ext gpuclf.accel`` in IPython or Jupyter (backend from
  ``$GPUCLF_BACKEND``, else ``auto``);
- ``python -m gpuclf.accel [--backend B] script.py|notebook.ipynb [args...]``.

See docs/accel.md.
"""
from .calls import summary
from .core import install, installed, uninstall
from .magics import load_ipython_extension, unload_ipython_extension

__all__ = ["install", "installed", "load_ipython_extension", "summary", "uninstall", "unload_ipython_extension"]
