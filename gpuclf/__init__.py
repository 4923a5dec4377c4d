"""gpuclf: the MNIST classification chapter (Hands-On ML, ch. 3) on any backend.

>>> from gpuclf import load_mnist, get_backend, run_workflow, RunConfig
>>> data = load_mnist("sample")
>>> store = run_workflow(get_backend("cpu"), data, RunConfig(steps=["binary_cv"]), "out")
"""
import importlib

from .errors import GpuclfError

__version__ = "0.1.0"

# The rest is imported on first use, so that ``gpuclf --help`` starts at once and a
# Ctrl-C while NumPy and scikit-learn load reaches the CLI's handler, not a traceback.
_LAZY = {"available_backends": "backends", "get_backend": "backends", "register_backend": "backends",
         "MnistData": "data", "load_mnist": "data", "run_workflow": "runner", "STEPS": "workflow",
         "RunConfig": "workflow"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'gpuclf' has no attribute {name!r}")

__all__ = ["GpuclfError", "MnistData", "RunConfig", "STEPS", "available_backends", "get_backend",
           "load_mnist", "register_backend", "run_workflow", "__version__"]
