"""KNN steps: multilabel 3-fold CV, and the grid search with the best model's test accuracy."""
from gpuclf.chapter import STEPS


def test_multilabel(bench):
    bench.run("multilabel", STEPS["multilabel"],
              lambda r: {"f1_macro": r["f1_macro"], "f1_weighted": r["f1_weighted"]})


def test_best_accuracy(bench):
    bench.run("best_accuracy", STEPS["best_accuracy"],
              lambda r: {"best_cv_score": r["best_cv_score"], "test_accuracy": r["test_accuracy"],
                         "best_n_neighbors": r["best_params"]["n_neighbors"],
                         "best_weights": r["best_params"]["weights"]},
              notes=bench.config_notes("grid_train_size"))
