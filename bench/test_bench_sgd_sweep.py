"""The SGD size sweep: the 5-detector and the scaled 10-class model by 3-fold CV, at growing training rows.

One benchmark per (model, rows) up to the bench size's training rows, so the
cost of gpuclf's small-set schedule (more epochs and smaller batches below
6,000 rows) and its figures show beside scikit-learn's. scikit-learn's
10-class CV is left out above 3,000 rows: it takes minutes there (77 s at
6,000 rows on 2 cores), which would dwarf the rest of the suite.
"""
import pytest

from gpuclf.benchmarks import SWEEP_PREFIX
from gpuclf.chapter.sgd_sweep import SWEEP_SIZES, TASKS, sweep_point

CPU_10_CLASS_MAX_ROWS = 3_000


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("n", SWEEP_SIZES)
def test_sgd_sweep(bench, n, task):
    ctx = bench.ctx
    if n > len(ctx.data.y_train):
        pytest.skip(f"the bench size has {len(ctx.data.y_train):,} training rows, fewer than {n:,}")
    if task == TASKS[1] and bench.backend.name == "cpu" and n > CPU_10_CLASS_MAX_ROWS:
        pytest.skip(f"scikit-learn's 10-class SGD CV on {n:,} rows takes minutes")
    bench.run(f"{SWEEP_PREFIX}{task}:{n}", lambda c: sweep_point(c.backend, c.X_train[:n], c.y_train[:n], task),
              lambda r: {k: r[k] for k in ("n_train", "accuracy", "auc", "median_abs_score",
                                           "threshold_90_precision") if k in r},
              roles=("sgd",) if task == TASKS[0] else ("sgd", "scaler"))
