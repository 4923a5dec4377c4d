"""The IPython extension: ``%load_ext gpuclf.accel`` installs, ``%unload_ext gpuclf.accel`` uninstalls."""
from __future__ import annotations

import sys

from ..errors import GpuclfError
from .core import install, uninstall


def load_ipython_extension(ipython) -> None:
    """Install accel for the session (backend from ``$GPUCLF_BACKEND``, else ``auto``).

    A mistake (``GPUCLF_BACKEND=gpu`` without a GPU, an unknown name) is one
    ``gpuclf:`` line, and the session goes on with scikit-learn's classes.
    """
    try:
        install()
    except GpuclfError as exc:
        print(f"gpuclf: {exc}", file=sys.stderr)


def unload_ipython_extension(ipython) -> None:
    """Give the session scikit-learn's classes back."""
    uninstall()
