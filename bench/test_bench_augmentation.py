"""Data augmentation: one-pixel shifts four ways (x5 rows), then KNN on the augmented set.

``ctx.results`` is emptied each round, so the step uses the book's best
parameters (``n_neighbors=4, weights="distance"``) on every backend instead
of whatever a grid search found.
"""
from gpuclf.chapter import STEPS


def test_augmentation(bench):
    bench.run("augmentation", STEPS["augmentation"],
              lambda r: {"test_accuracy": r["test_accuracy"], "n_train_augmented": r["n_train_augmented"]})
