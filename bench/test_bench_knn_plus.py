"""Beyond the book: deskewing, PCA and shifted copies chosen by CV, then the test set (``knn_plus``).

Not in the default run of ``gpuclf run`` (``--steps ...,knn_plus``), but timed here with the other
steps at a named size (not at a sweep point: its cross-validation covers the first
``knn_plus_cv_rows`` (10,000) training rows at every size).
"""
from gpuclf.chapter import STEPS


def test_knn_plus(bench):
    bench.run("knn_plus", STEPS["knn_plus"],
              lambda r: {"test_accuracy": r["test_accuracy"], "best_cv_score": r["best_cv_score"],
                         "n_train_augmented": r["n_train_augmented"], "n_neighbors": r["chosen"]["n_neighbors"],
                         "shifts": r["chosen"]["shifts"]})
