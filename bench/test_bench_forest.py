"""ROC curves: the SGD's out-of-fold scores and a random forest's 3-fold ``predict_proba``.

Each round recomputes the SGD scores too (the memo is cleared), as a run
that starts at this step would.
"""
from gpuclf.chapter import STEPS


def test_binary_roc(bench):
    bench.run("binary_roc", STEPS["binary_roc"],
              lambda r: {"sgd_auc": r["sgd_auc"], "forest_auc": r["forest_auc"], "forest_f1": r["forest_f1"]},
              notes=bench.config_notes("n_estimators"), figure_roles={"forest_auc": "forest", "forest_f1": "forest"})
