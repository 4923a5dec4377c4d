"""gpuclf: the MNIST classification chapter (Hands-On ML, ch. 3) on any backend.

>>> from gpuclf import load_mnist, get_backend, run_workflow, RunConfig
>>> data = load_mnist("sample")
>>> store = run_workflow(get_backend("cpu"), data, RunConfig(steps=["binary_cv"]), "out")
"""
from .backends import available_backends, get_backend, register_backend
from .data import MnistData, load_mnist
from .errors import GpuclfError
from .runner import run_workflow
from .workflow import STEPS, RunConfig

__version__ = "0.1.0"

__all__ = ["GpuclfError", "MnistData", "RunConfig", "STEPS", "available_backends", "get_backend",
           "load_mnist", "register_backend", "run_workflow", "__version__"]
