"""Library versions and platform facts for ``gpuclf info`` and the report."""
from __future__ import annotations

import platform
import sys
from importlib import metadata

LIBRARIES = ("numpy", "scipy", "scikit-learn", "matplotlib", "mlxtend", "cupy", "cuml", "cudf")
CUPY_DISTRIBUTIONS = ("cupy", "cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x")
CUML_DISTRIBUTIONS = ("cuml", "cuml-cu12", "cuml-cu13")
CUDF_DISTRIBUTIONS = ("cudf", "cudf-cu12", "cudf-cu13")


def _version(*distributions: str) -> str | None:
    for name in distributions:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def library_versions() -> dict:
    """Installed versions (None when absent), read without importing the libraries."""
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "scikit-learn": _version("scikit-learn"),
        "matplotlib": _version("matplotlib"),
        "mlxtend": _version("mlxtend"),
        "cupy": _version(*CUPY_DISTRIBUTIONS),
        "cuml": _version(*CUML_DISTRIBUTIONS),
        "cudf": _version(*CUDF_DISTRIBUTIONS),
        "gpuclf": _version("gpuclf"),
    }
