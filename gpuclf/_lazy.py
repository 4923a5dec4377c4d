"""Public names imported on first use, so that ``gpuclf --help`` starts at once.

A Ctrl-C while NumPy and scikit-learn load then reaches the command line's
handler, not a traceback. The packages' ``__init__`` modules list their
public names with :func:`lazy_exports` (PEP 562's module ``__getattr__``).
"""
import importlib


def lazy_exports(package: str, names: dict):
    """A module ``__getattr__`` that imports ``names[attr]``, a module relative to ``package``, on first use."""
    def __getattr__(name: str):
        if name in names:
            return getattr(importlib.import_module(names[name], package), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return __getattr__
