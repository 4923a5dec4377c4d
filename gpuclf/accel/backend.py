"""Where the swapped classes run: the backend accel chose (the GPU when usable, else numpy), and why."""
from __future__ import annotations

import os

from ..errors import GpuclfError


class _Chosen:
    backend = None  # the Backend the swapped classes run on
    why = ""        # why that backend


def choose_backend(name: str | None = None):
    """The backend for accel: ``name``, else ``$GPUCLF_BACKEND``, else ``auto`` (the GPU if usable, else numpy).

    Raises
    ------
    GpuclfError
        An unknown name, ``cpu`` (scikit-learn itself: nothing to accelerate), or a GPU that is not usable.
    """
    from ..backends import get_backend
    from ..backends.gpu import GpuBackend

    origin = "install(backend=...)" if name is not None else "$GPUCLF_BACKEND"
    given = name if name is not None else os.environ.get("GPUCLF_BACKEND") or "auto"
    if not isinstance(given, str):
        raise GpuclfError(f"gpuclf.accel needs a backend name (auto, gpu or numpy), got {given!r}")
    chosen = given.strip().lower()
    if chosen == "auto":
        ok, reason = GpuBackend.availability()
        # The probe's advice names CLI options; the notice keeps its first clause.
        chosen, why = ("gpu", reason) if ok else ("numpy", f"no usable GPU: {reason.split(';')[0]}")
    elif chosen in ("gpu", "numpy"):
        why = "asked for" if name is not None else "$GPUCLF_BACKEND"
        ok, reason = GpuBackend.availability() if chosen == "gpu" else (True, "")
        if not ok:  # the probe's own advice names CLI options; accel's alternative is numpy
            raise GpuclfError(f"{origin}='gpu' is not usable here: {reason.split(';')[0]}; choose numpy "
                              "(gpuclf's kernels on the CPU) or auto")
    elif chosen == "cpu":
        raise GpuclfError(f"{origin}='cpu' is scikit-learn itself: run without gpuclf.accel, or choose gpu or numpy")
    else:
        raise GpuclfError(f"unknown backend {given!r} for gpuclf.accel; choose one of auto, gpu, numpy")
    return get_backend(chosen, purpose="gpuclf.accel"), why


def current_backend():
    """The backend the swapped classes run on (chosen by :func:`install`, else ``auto`` the first time it is asked)."""
    if _Chosen.backend is None:
        use_backend(*choose_backend(None))
    return _Chosen.backend


def use_backend(backend, why: str) -> None:
    """Run the swapped classes on ``backend`` from now on (:func:`gpuclf.accel.install` chose it for ``why``)."""
    _Chosen.backend, _Chosen.why = backend, why


def forget_backend() -> None:
    """Choose again at the next call (after a test changed what is installed)."""
    _Chosen.backend, _Chosen.why = None, ""
