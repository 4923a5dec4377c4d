"""Library versions and platform facts for ``gpuclf info`` and the report."""
from __future__ import annotations

import platform
import sys
from importlib import metadata

CUPY_DISTRIBUTIONS = ("cupy", "cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x")
CUML_DISTRIBUTIONS = ("cuml", "cuml-cu12", "cuml-cu13")
CUDF_DISTRIBUTIONS = ("cudf", "cudf-cu12", "cudf-cu13")
RMM_DISTRIBUTIONS = ("rmm", "rmm-cu12", "rmm-cu13")


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
        "rmm": _version(*RMM_DISTRIBUTIONS),
        "pandas": _version("pandas"),
        "pyarrow": _version("pyarrow"),
        "dask": _version("dask"),
        "distributed": _version("distributed"),
        "dask-cuda": _version("dask-cuda"),
        "pytest": _version("pytest"),
        "pytest-benchmark": _version("pytest-benchmark"),
        "gpuclf": _version("gpuclf"),
    }
