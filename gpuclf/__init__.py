"""gpuclf: the MNIST classification chapter (Hands-On ML, ch. 3) on any backend.

>>> from gpuclf import load_mnist, get_backend, run_workflow, RunConfig
>>> data = load_mnist("sample")
>>> store = run_workflow(get_backend("cpu"), data, RunConfig(steps=["binary_cv"]), "out")

The package's rooms, lowest first (each imports only from the rooms before it):
``errors``, ``xp``, ``dispatch`` (where errors, arrays and work go) <- ``kernels`` <- ``estimators``
<- ``backends`` <- ``data`` <- ``chapter`` <- ``run`` <- ``report`` <- ``benchmarks`` <- ``cli``.
"""
from ._lazy import lazy_exports
from .errors import GpuclfError

__version__ = "0.1.0"

# The rest is imported on first use (see gpuclf._lazy).
__getattr__ = lazy_exports(__name__, {
    "available_backends": ".backends", "get_backend": ".backends", "register_backend": ".backends",
    "MnistData": ".data", "load_mnist": ".data", "run_workflow": ".run.runner", "STEPS": ".chapter",
    "RunConfig": ".chapter"})

__all__ = ["GpuclfError", "MnistData", "RunConfig", "STEPS", "available_backends", "get_backend",
           "load_mnist", "register_backend", "run_workflow", "__version__"]
