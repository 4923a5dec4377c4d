"""The chapter itself: one module per section of Géron's chapter 3, each a few steps ``step(ctx) -> dict``.

:mod:`.mnist`, :mod:`.binary` (the 5-detector and its measures),
:mod:`.multiclass`, :mod:`.error_analysis`, :mod:`.multilabel`,
:mod:`.denoise` (multioutput), :mod:`.exercises`, and beyond the book
:mod:`.knn_plus` and :mod:`.sgd_sweep`; :mod:`.steps` is the registry,
:mod:`.preconditions` what each step needs from the data, and
:mod:`.published` the book's figures and the parity tolerances. Steps ask the
backend for estimators, cross-validation and metrics; they never import
scikit-learn, CuPy or cuML.
"""
from gpuclf.chapter.config import FULL_SGD_ROWS, RunConfig
from gpuclf.chapter.context import Context
from gpuclf.chapter.steps import OPTIONAL_STEPS, STEP_ROLES, STEPS, check_preconditions, select_steps

__all__ = ["Context", "FULL_SGD_ROWS", "OPTIONAL_STEPS", "RunConfig", "STEPS", "STEP_ROLES", "check_preconditions",
           "select_steps"]
