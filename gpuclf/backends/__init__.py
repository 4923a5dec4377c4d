"""Backend registry: ``get_backend("auto" | "cpu" | "gpu" | "numpy")``.

The choice comes from an explicit argument, else ``$GPUCLF_BACKEND``, else
``auto`` (the GPU when CuPy sees a CUDA device, else the CPU), and is
reported with the reason. Adding a backend is one class and one
``register_backend`` line.
"""
from __future__ import annotations

import os

from ..errors import GpuclfError
from .base import ROLES, Backend, Placement
from .cpu import CpuBackend
from .gpu import GpuBackend
from .kernel import NumpyBackend
from .probes import CPU_INSTEAD

ENV_VAR = "GPUCLF_BACKEND"
_REGISTRY: dict[str, type[Backend]] = {}


def register_backend(name: str, cls: type[Backend]) -> None:
    """Make ``cls`` selectable as ``name``."""
    _REGISTRY[name] = cls


register_backend("cpu", CpuBackend)
register_backend("gpu", GpuBackend)
register_backend("numpy", NumpyBackend)


def backend_names() -> list[str]:
    """Every registered name, usable or not."""
    return list(_REGISTRY)


def available_backends() -> list[str]:
    """Names of the backends usable on this machine."""
    return [name for name, cls in _REGISTRY.items() if cls.availability()[0]]


def resolve_backend_name(name: str | None = None) -> tuple[str, str]:
    """Turn ``name`` (or the environment, or ``auto``) into a concrete backend name.

    Returns
    -------
    name, why : str, str
        The backend to use and the reason it was chosen.
    """
    if name is None:
        env = os.environ.get(ENV_VAR)
        name, origin = (env, f"${ENV_VAR}") if env else ("auto", "default")
    else:
        origin = "requested"
    name = {n.lower(): n for n in ("auto", *_REGISTRY)}.get(name.strip().lower(), name)  # any case: CPU is cpu
    if name == "auto":
        ok, reason = GpuBackend.availability()
        return ("gpu", f"auto ({origin}): {reason}") if ok else ("cpu", f"auto ({origin}): {reason}")
    if name not in _REGISTRY:
        given = f"${ENV_VAR}={name}" if origin != "requested" else repr(name)
        raise GpuclfError(f"unknown backend {given}; choose one of auto, {', '.join(_REGISTRY)}")
    return name, origin


def get_backend(name: str | None = None, purpose: str | None = None, instead: str | None = None,
                **options) -> Backend:
    """Build the backend called ``name`` (see :func:`resolve_backend_name`).

    Parameters
    ----------
    name : {"auto", "cpu", "gpu", "numpy"}, optional
    purpose : str, optional
        What needs this backend when no option or variable chose it (``gpuclf warmup``),
        named in the message when it is not available.
    instead : str, optional
        With ``purpose``: what the user can do without this backend. Chosen by
        an option or a variable, the advice is to choose another backend.
    **options
        Passed to the backend's constructor (``n_jobs`` for cpu,
        ``max_gpu_memory`` for gpu); options another backend takes are ignored.

    Raises
    ------
    GpuclfError
        When the name is unknown or the backend cannot run here (with what to install).
    """
    name, origin = resolve_backend_name(name)
    cls = _REGISTRY[name]
    ok, reason = cls.availability()
    if not ok:
        # Name what chose the backend: the option, the variable (set perhaps long ago), or the command.
        if purpose is not None:
            raise GpuclfError(f"{purpose} needs the {name} backend, which is not available: {reason}"
                              f"{f'; {instead}' if instead else ''}")
        given = f"${ENV_VAR}={name}" if origin == f"${ENV_VAR}" else f"--backend {name}"
        raise GpuclfError(f"{given} is not available: {reason}; {CPU_INSTEAD}")
    import inspect

    accepted = inspect.signature(cls.__init__).parameters
    return cls(**{k: v for k, v in options.items() if k in accepted and v is not None})


__all__ = ["ROLES", "Backend", "Placement", "available_backends", "backend_names", "get_backend",
           "register_backend", "resolve_backend_name"]
