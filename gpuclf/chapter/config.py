"""The options of one run: :class:`RunConfig`, everything that changes a figure."""
from __future__ import annotations

from dataclasses import asdict, dataclass

FULL_SGD_ROWS = 20_000


@dataclass
class RunConfig:
    """Options of one run; everything that changes a figure is here.

    Attributes
    ----------
    steps : list of str, optional
        Step ids to run (default: all, in chapter order).
    train_size, test_size : int, optional
        Use only the first rows (quick runs); default all.
    random_state : int
        Seed of every stochastic estimator and of the denoising noise.
    cv : int
        Folds of the chapter's cross-validations.
    thresholds : tuple of float
        Decision thresholds, in the SGD's own score units, at which the
        5-detector's precision/recall/F1 are also reported (default none:
        scores are on another scale per backend and per data size).
    precision_targets : tuple of float
        Precisions at which the 5-detector's tradeoff is reported: the
        lowest threshold reaching each, as the book finds its 90% point.
    score_quantiles : tuple of float
        Quantiles of the 5-detector's own scores used as thresholds (0.9:
        the top 10% of digits are called 5s), meaningful on every backend.
    n_estimators : int
        Trees in the random forest.
    svc_train_size, ovr_train_size, grid_train_size : int
        Training rows of the SVC, the one-vs-rest SVC and the KNN grid search (the book's slices).
    grid_cv : int
        Folds of the KNN grid search (the book's 5).
    positive_class : int
        The binary detector's label (the book's 5-detector: 5); ``--positive-class``
        may name a class, which the command line resolves to its label first.
    knn_plus_cv_rows, knn_plus_cv : int
        Training rows and folds of the ``knn_plus`` step's cross-validation
        (beyond the book; see :mod:`gpuclf.chapter.knn_plus`).
    sklearn_sgd_max_iter : int, optional
        Epoch cap of scikit-learn's SGD (the cpu backend). Default: its own
        1000 from ``FULL_SGD_ROWS`` training rows up, 100 below: on small sets
        raw-pixel SGD never meets scikit-learn's tolerance and would run all
        1000 epochs for the same accuracy.
    """

    steps: list[str] | None = None
    train_size: int | None = None
    test_size: int | None = None
    random_state: int = 42
    cv: int = 3
    thresholds: tuple[float, ...] = ()
    precision_targets: tuple[float, ...] = (0.80, 0.90, 0.95)
    score_quantiles: tuple[float, ...] = (0.80, 0.90, 0.95)
    n_estimators: int = 100
    svc_train_size: int = 2000
    ovr_train_size: int = 1000
    grid_train_size: int = 10_000
    grid_cv: int = 5
    sklearn_sgd_max_iter: int | None = None
    positive_class: int = 5
    knn_plus_cv_rows: int = 10_000
    knn_plus_cv: int = 3

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("thresholds", "precision_targets", "score_quantiles"):
            d[key] = list(d[key])
        return d
