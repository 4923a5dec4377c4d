"""The step registry: the chapter as named steps, ``step(ctx) -> dict`` of JSON-able figures, in chapter order.

A new step is one function in its section's module and one line in
:data:`STEPS`; its needs are declared beside it (:mod:`.preconditions`).
"""
from __future__ import annotations

from gpuclf.chapter.binary import (
    step_binary_cv,
    step_binary_metrics,
    step_binary_roc,
    step_binary_sgd,
    step_binary_tradeoff,
)
from gpuclf.chapter.config import RunConfig
from gpuclf.chapter.denoise import step_denoise
from gpuclf.chapter.error_analysis import step_error_analysis
from gpuclf.chapter.exercises import step_augmentation, step_best_accuracy
from gpuclf.chapter.knn_plus import step_knn_plus
from gpuclf.chapter.mnist import step_data
from gpuclf.chapter.multiclass import step_multiclass
from gpuclf.chapter.multilabel import step_multilabel
from gpuclf.chapter.preconditions import check_needs
from gpuclf.data import MnistData
from gpuclf.errors import GpuclfError

STEPS = {
    "data": step_data,
    "binary_sgd": step_binary_sgd,
    "binary_cv": step_binary_cv,
    "binary_metrics": step_binary_metrics,
    "binary_tradeoff": step_binary_tradeoff,
    "binary_roc": step_binary_roc,
    "multiclass": step_multiclass,
    "error_analysis": step_error_analysis,
    "multilabel": step_multilabel,
    "denoise": step_denoise,
    "best_accuracy": step_best_accuracy,
    "augmentation": step_augmentation,
    "knn_plus": step_knn_plus,
}
#: Steps beyond the chapter: run only when ``--steps`` names them.
OPTIONAL_STEPS = ("knn_plus",)


def select_steps(names) -> list[str]:
    """Validate step names and return them in chapter order (none: every step but :data:`OPTIONAL_STEPS`).

    Raises
    ------
    GpuclfError
        For a name that is not a step.
    """
    if not names:
        return [s for s in STEPS if s not in OPTIONAL_STEPS]
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        raise GpuclfError(f"unknown step(s) {', '.join(unknown)}; choose from {', '.join(STEPS)}")
    return [s for s in STEPS if s in set(names)]


def check_preconditions(steps: list[str], data: MnistData, config: RunConfig) -> None:
    """Check, before any step runs, that ``data`` has what each of ``steps`` needs.

    Each step declares its needs beside it (``@needs(...)``, see
    :mod:`gpuclf.chapter.preconditions`); the check is on the host labels, the same on
    every backend.

    Raises
    ------
    GpuclfError
        Naming the first step the data falls short for, and what it lacks.
    """
    check_needs({s: STEPS[s] for s in steps}, data, config)


#: Estimator roles each step uses, for the per-step placement in the report.
STEP_ROLES = {
    "binary_sgd": ("sgd",), "binary_cv": ("sgd", "dummy"), "binary_metrics": ("sgd",),
    "binary_tradeoff": ("sgd",), "binary_roc": ("sgd", "forest"),
    "multiclass": ("svc", "ovr_svc", "sgd", "scaler"), "error_analysis": ("sgd", "scaler"),
    "multilabel": ("knn",), "denoise": ("knn",), "best_accuracy": ("knn",), "augmentation": ("knn",),
    "knn_plus": ("knn",),
}
