"""What the steps share: :class:`Context` (the backend, the data on its device, cached results).

Steps ask the backend for estimators, cross-validation and metrics; they
never import scikit-learn, CuPy or cuML. Arrays live where the backend put
them (on the GPU for ``gpu``) from the first step to the last; only figures
and the few arrays the plots need come back to the host.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from gpuclf.backends import Backend
from gpuclf.chapter.config import FULL_SGD_ROWS, RunConfig
from gpuclf.data import MnistData


@dataclass
class Context:
    """What steps share: the backend, the data on its device, cached results.

    Attributes
    ----------
    results : dict
        Figures of steps already finished (also those loaded on resume).
    arrays : dict
        Host arrays of the current step, saved for the report's plots.
    on_progress : callable, optional
        Called with a short text at each stage of a long step (the runner's
        progress display).
    """

    backend: Backend
    data: MnistData
    config: RunConfig
    results: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    on_progress: Callable[[str], None] | None = None
    _memo: dict = field(default_factory=dict)

    #: What a run moves to the device once; everything else memoised is a step's work.
    DATA_KEYS = ("X_train", "X_test", "y_train", "y_test", "y_train_positive")

    def move_data(self) -> None:
        """Move the data to the backend's device now (it stays there), so no step's time includes it."""
        for key in self.DATA_KEYS:
            getattr(self, key)
        self.backend.synchronize()

    def forget_work(self) -> None:
        """Drop what steps memoised (CV scores, scaled data), their results and arrays; keep the data.

        A step timed again (``gpuclf bench``'s rounds) then does its full work.
        """
        for key in [k for k in self._memo if k not in self.DATA_KEYS]:
            del self._memo[key]
        self.arrays, self.results = {}, {}

    def progress(self, stage: str) -> None:
        """Say what a long step is doing now (``"random forest, 3-fold CV"``); shown live on a terminal."""
        if self.on_progress is not None:
            self.on_progress(stage)

    def memo(self, key: str, compute):
        """Compute ``key`` once per run; later steps reuse it (stays on device)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # Data moves to the backend's device once and stays there.
    @property
    def X_train(self):
        return self.memo("X_train", lambda: self.backend.asarray(self.data.X_train, self.backend.feature_dtype))

    @property
    def X_test(self):
        return self.memo("X_test", lambda: self.backend.asarray(self.data.X_test, self.backend.feature_dtype))

    @property
    def y_train(self):
        return self.memo("y_train", lambda: self.backend.asarray(self.data.y_train))

    @property
    def y_test(self):
        return self.memo("y_test", lambda: self.backend.asarray(self.data.y_test))

    @property
    def y_train_positive(self):
        """The detector's target: ``y_train == positive_class`` (the book's ``y_train_5``)."""
        return self.memo("y_train_positive", lambda: self.y_train == self.config.positive_class)

    @property
    def detector(self) -> str:
        """``5-detector``, ``Sandal-detector``: what progress lines call the binary classifier."""
        return f"{self.data.class_name(self.config.positive_class)}-detector"

    def host(self, a) -> np.ndarray:
        return self.backend.to_host(a)

    def sgd(self):
        params = {"random_state": self.config.random_state}
        if self.backend.placement("sgd").library == "scikit-learn":
            cap = self.config.sklearn_sgd_max_iter
            params["max_iter"] = cap or (1000 if len(self.data.y_train) >= FULL_SGD_ROWS else 100)
        return self.backend.estimator("sgd", **params)


def floats(a) -> list:
    return [float(v) for v in np.ravel(a)]
