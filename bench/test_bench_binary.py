"""The 5-detector: SGD fit, then 3-fold CV with its metrics and precision/recall trade-off.

``binary_cv``, ``binary_metrics`` and ``binary_tradeoff`` are timed together,
as a run executes them: the three share one set of out-of-fold SGD scores
(``ctx._memo["sgd5_scores"]``), computed once per round.
"""
from statistics import mean

from gpuclf.chapter import STEPS


def test_binary_sgd(bench):
    bench.run("binary_sgd", STEPS["binary_sgd"],
              lambda r: {"some_digit_is_5": r["some_digit_is_5"]})


def _cv_metrics_tradeoff(ctx) -> dict:
    return {step: STEPS[step](ctx) for step in ("binary_cv", "binary_metrics", "binary_tradeoff")}


def test_binary_cv_metrics_tradeoff(bench):
    bench.run("binary_cv+metrics+tradeoff", _cv_metrics_tradeoff, lambda r: {
        "cv_accuracy": mean(r["binary_cv"]["sgd_cv_accuracy"]),
        "precision": r["binary_metrics"]["precision"],
        "recall": r["binary_metrics"]["recall"],
        "threshold_90_precision": r["binary_tradeoff"]["threshold_90_precision"],
        "recall_at_90": r["binary_tradeoff"]["recall_at_90"],
    }, roles=("sgd", "dummy"))
