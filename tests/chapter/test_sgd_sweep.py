"""gpuclf's SGD against scikit-learn's at every training size of the chapter's two SGD models.

The chapter's code with our estimator swapped in must work at any size: at
every size of :data:`gpuclf.chapter.sgd_sweep.SWEEP_SIZES` (the larger ones on real
MNIST only, which CI without ``../shared`` lacks), 3-fold CV accuracy no
worse than scikit-learn's by more than 1 pp, the 5-detector's AUC by more
than 0.01, and both classes predicted. scikit-learn is run in the test on
the same rows, except where it takes minutes: at 60,000 rows its published
figures stand in (the book's 5-detector; the scaled 10-class model as measured
with scikit-learn 1.9.1), and its 10-class CV at 6,000 and 20,000 rows (77 s
and more) is not run. The score scale (median |score| and the 90%-precision
threshold, ours / scikit-learn's) is recorded at every size, not bounded: see
docs/parity.md's SGD section for why it differs.
"""
import numpy as np
import pytest

from gpuclf.backends import get_backend
from gpuclf.chapter.sgd_sweep import SWEEP_SIZES, TASKS, scale_factor, sweep_point

from conftest import REAL_MNIST, REAL_REASON

SMALL = [n for n in SWEEP_SIZES if n <= 3_000]  # within the offline sample's 4,000 training rows
LARGE = [n for n in SWEEP_SIZES if n > 3_000]
# scikit-learn 1.9.1, SGDClassifier(random_state=42), StratifiedKFold(3), the first 60,000 rows of real MNIST.
PUBLISHED_60K = {
    TASKS[0]: {"cv_accuracy": [0.95035, 0.96035, 0.9604], "auc": 0.9604938554008616,
               "threshold_90_precision": 3370.0194991439557, "predicted_classes": 2},
    TASKS[1]: {"cv_accuracy": [0.89835, 0.8902, 0.90095], "predicted_classes": 10},
}
SKLEARN_TOO_SLOW = {(TASKS[1], 6_000), (TASKS[1], 20_000)}


@pytest.fixture(scope="module")
def sweep_data(request):
    """Real MNIST's training rows when ``GPUCLF_MNIST`` names it, else the offline sample's."""
    name = "real_mnist" if REAL_MNIST else "sample_mnist"
    data = request.getfixturevalue(name)
    return data.X_train, data.y_train


def _point(backend_name, data, n, task):
    backend = get_backend(backend_name)
    X, y = data
    return sweep_point(backend, backend.asarray(X[:n], backend.feature_dtype), backend.asarray(y[:n]), task)


def _check_against_sklearn(ours: dict, theirs: dict, task: str, record_property) -> None:
    assert ours["predicted_classes"] == theirs["predicted_classes"] == (2 if task == TASKS[0] else 10)
    assert np.mean(ours["cv_accuracy"]) >= np.mean(theirs["cv_accuracy"]) - 0.01
    if task == TASKS[0]:
        assert ours["auc"] >= theirs["auc"] - 0.01
        record_property("threshold_90_factor", scale_factor(ours, theirs, "threshold_90_precision"))
    record_property("median_abs_score_factor", scale_factor(ours, theirs, "median_abs_score"))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("n", SMALL)
def test_sgd_matches_sklearn_at_small_sizes(sweep_data, n, task, record_property):
    _check_against_sklearn(_point("numpy", sweep_data, n, task), _point("cpu", sweep_data, n, task),
                           task, record_property)


@pytest.mark.realdata
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("n", LARGE)
def test_sgd_matches_sklearn_on_real_mnist(n, task, record_property):
    if not REAL_MNIST:
        pytest.skip(REAL_REASON)
    if (task, n) in SKLEARN_TOO_SLOW:
        pytest.skip(f"scikit-learn's {task} CV on {n:,} rows takes minutes; covered at 60,000 by published figures")
    from gpuclf.data import load_mnist

    data = load_mnist(REAL_MNIST)
    data = (data.X_train, data.y_train)
    ours = _point("numpy", data, n, task)
    theirs = PUBLISHED_60K[task] if n == 60_000 else _point("cpu", data, n, task)
    _check_against_sklearn(ours, theirs, task, record_property)


def test_sweep_point_figures_are_sklearn_s_on_the_cpu_backend(sample_mnist):
    """The sweep's own bookkeeping, checked against scikit-learn called directly."""
    from sklearn.linear_model import SGDClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    X, y = sample_mnist.X_train[:600].astype(np.float64), sample_mnist.y_train[:600] == 5
    figures = _point("cpu", (sample_mnist.X_train, sample_mnist.y_train), 600, TASKS[0])
    scores = cross_val_predict(SGDClassifier(random_state=42), X, y, cv=StratifiedKFold(3),
                               method="decision_function")
    folds = np.empty(600, dtype=int)
    for k, (_, test) in enumerate(StratifiedKFold(3).split(X, y)):
        folds[test] = k
    assert figures["cv_accuracy"] == [np.mean((scores > 0)[folds == k] == y[folds == k]) for k in range(3)]
    assert figures["auc"] == pytest.approx(roc_auc_score(y, scores), rel=1e-12)
    assert figures["median_abs_score"] == pytest.approx(np.median(np.abs(scores)), rel=1e-12)
    assert figures["n_train"] == 600 and figures["predicted_classes"] == len(np.unique(scores > 0))
