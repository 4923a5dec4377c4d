"""The interface every backend implements.

A backend decides where arrays live (``xp``, ``asarray``, ``to_host``) and
which library trains each model (``estimator``); it also owns
cross-validation, grid search and metrics so that workflow steps never
import scikit-learn, CuPy or cuML themselves.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass

import numpy as np

ROLES = ("sgd", "forest", "svc", "ovr_svc", "knn", "dummy", "scaler")


@dataclass(frozen=True)
class Placement:
    """Where one estimator role runs, for the report.

    Attributes
    ----------
    device : {"cpu", "gpu"}
    library : str
        ``"scikit-learn"``, ``"gpuclf"`` (our kernels) or ``"cuml"``.
    note : str
        Why, when it is not where the user asked (e.g. cuML missing).
    """

    device: str
    library: str
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


class Backend(ABC):
    """Base class: a handful of methods a backend must provide."""

    #: registry name, e.g. ``"cpu"``
    name: str = ""
    #: array namespace, ``numpy`` or ``cupy``
    xp = np
    #: dtype images are moved to the backend in (None: keep uint8)
    feature_dtype = None

    @classmethod
    @abstractmethod
    def availability(cls) -> tuple[bool, str]:
        """Return ``(usable, reason)``; ``reason`` says what to install when not."""

    @abstractmethod
    def describe(self) -> dict:
        """Device and library versions, JSON-ready."""

    @abstractmethod
    def asarray(self, a, dtype=None):
        """Move a host array to where this backend computes."""

    def to_host(self, a) -> np.ndarray:
        """Bring an array back to the host as NumPy."""
        from ..xp import to_host

        return to_host(a)

    def synchronize(self) -> None:
        """Wait for queued device work (a no-op on the CPU)."""

    @abstractmethod
    def estimator(self, role: str, **params):
        """Build the estimator for ``role`` (one of ``ROLES``) with sklearn-style params."""

    def reproducible(self, role: str) -> bool:
        """Whether ``role``'s estimator gives bit-identical results run to run with a fixed seed."""
        self.check_role(role)
        return True

    @abstractmethod
    def placement(self, role: str) -> Placement:
        """Where ``role`` runs on this backend, and why."""

    @abstractmethod
    def test_folds(self, y, n_splits: int = 3):
        """Test-fold id per sample, as scikit-learn's ``check_cv(n_splits, y, classifier=True)``."""

    @abstractmethod
    def cross_val_predict(self, estimator, X, y, cv: int = 3, method: str = "predict"):
        """Out-of-fold ``predict`` / ``decision_function`` / ``predict_proba``."""

    @abstractmethod
    def cross_val_score(self, estimator, X, y, cv: int = 3) -> np.ndarray:
        """Accuracy of each fold, as a host array."""

    @abstractmethod
    def grid_search(self, estimator, param_grid: dict, X, y, cv: int = 5) -> dict:
        """Exhaustive search; returns ``best_params``, ``best_score``, ``mean_test_score``, ``params``."""

    #: a module-like object with scikit-learn's metric names
    metrics = None
    _dispatcher = None

    @property
    def dispatcher(self):
        """Where independent units of work run: here, or on the Dask cluster of :meth:`use_cluster`."""
        if self._dispatcher is None:
            from ..dispatch import Dispatcher

            self._dispatcher = Dispatcher()
        return self._dispatcher

    def use_cluster(self, client) -> None:
        """Send this backend's independent units to a ``distributed.Client`` (None: run them here)."""
        from ..dispatch import Dispatcher

        self._dispatcher = Dispatcher(client)

    def memory_budget(self) -> int | None:
        """Bytes a chunked kernel may use now (None: the kernel's default, as on the CPU)."""
        return None

    def reset_peak_memory(self) -> None:
        """Start a new high-water mark for device memory (no-op on the CPU)."""

    def peak_memory_bytes(self) -> int | None:
        """Device memory high-water mark since the last reset, or None on the CPU."""
        return None

    def out_of_memory(self, exc: BaseException) -> bool:
        """Whether ``exc`` means the device ran out of memory: CuPy's ``OutOfMemoryError`` here.

        The gpu backend adds RMM's ``MemoryError`` (see ``backends/allocator.py``);
        a host ``MemoryError`` on the CPU backends is not a device's.
        """
        return type(exc).__name__ == "OutOfMemoryError"

    def check_role(self, role: str) -> None:
        from ..errors import GpuclfError

        if role not in ROLES:
            raise GpuclfError(f"unknown estimator role {role!r}; choose one of {', '.join(ROLES)}")
