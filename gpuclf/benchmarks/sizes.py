"""What ``--size`` and ``--sizes`` mean: training and test rows, the workflow options, the named sweeps.

A named size (``small``, ``medium``, ``full``) is one table of its own, with
forest and grid sizes chosen so that it stays quick. A number is a point of
a cost-vs-size sweep: every point of a sweep runs with the same options
(:data:`SWEEP_CONFIG`), so that time against rows is a curve of one
workload, whose growth exponent and crossovers mean something.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import GpuclfError
from gpuclf.chapter import RunConfig


@dataclass(frozen=True)
class BenchSize:
    """Rows and workflow options of one bench size.

    Attributes
    ----------
    n_train, n_test : int
        Rows kept (fewer when the data has fewer: the offline sample has 4,000 / 1,000).
    config : RunConfig
        The workflow options; forest and grid are smaller than the book's at
        small and medium, and in a sweep, so that those stay quick.
    """

    n_train: int
    n_test: int
    config: RunConfig


SIZES = {
    "small": BenchSize(6_000, 1_000, RunConfig(n_estimators=20, grid_train_size=2_000)),
    "medium": BenchSize(20_000, 2_000, RunConfig(n_estimators=50, grid_train_size=10_000)),
    "full": BenchSize(60_000, 10_000, RunConfig()),
}
#: One workload at every point of a sweep: small's forest and grid, and scikit-learn's SGD capped at
#: 100 epochs everywhere (the workflow's own cap jumps to 1000 at 20,000 rows, which would bend the curve).
SWEEP_CONFIG = RunConfig(n_estimators=20, grid_train_size=2_000, sklearn_sgd_max_iter=100)
#: The book's value of the options that are None in RunConfig (the workflow then picks one).
BOOK_DEFAULTS = {"sklearn_sgd_max_iter": "1000 from 20,000 rows, else 100"}
#: Named sweeps for ``--sizes``: training rows of each point.
SWEEPS = {
    "standard": (1_000, 3_000, 10_000, 30_000, 60_000),
    "quick": (500, 1_000, 2_000, 4_000),  # fits the offline sample's 4,000 training rows
}
#: Test rows per training row at a sweep point: MNIST's own 10,000 : 60,000.
TEST_PER_TRAIN = 6
#: Fewest training rows of a sweep point: a 5-fold grid search on it still has 5 digits of every class per fold.
MIN_SWEEP_ROWS = 300


def is_sweep_point(size: str) -> bool:
    """Whether a size label is a sweep point (a number of rows), not a named size."""
    return str(size).isdigit()


def bench_size(size: str) -> BenchSize:
    """The rows and options of a named size or of a sweep point (``"3000"``).

    Raises
    ------
    GpuclfError
        For a name that is neither.
    """
    if size in SIZES:
        return SIZES[size]
    if is_sweep_point(size) and int(size) >= MIN_SWEEP_ROWS:
        n = int(size)
        return BenchSize(n, max(1, n // TEST_PER_TRAIN), SWEEP_CONFIG)
    raise GpuclfError(f"unknown size {size!r}; choose one of {', '.join(SIZES)} or a number of training rows "
                      f">= {MIN_SWEEP_ROWS}")


def sweep_sizes(text: str) -> tuple[int, ...]:
    """Training rows of ``--sizes``: a named sweep or comma-separated numbers, ascending, each once.

    Raises
    ------
    ValueError
        With what is wrong, for the option checker to show.
    """
    if text.strip() in SWEEPS:
        return SWEEPS[text.strip()]
    parts = [p.strip().replace("_", "") for p in text.split(",") if p.strip()]
    if not parts:
        raise ValueError(f"must be a named sweep ({', '.join(SWEEPS)}) or training rows such as 1000,3000,10000")
    try:
        rows = sorted({int(p) for p in parts})
    except ValueError:
        raise ValueError(f"{text!r} is neither a named sweep ({', '.join(SWEEPS)}) nor comma-separated "
                         "numbers of training rows") from None
    small = [r for r in rows if r < MIN_SWEEP_ROWS]
    if small:
        raise ValueError(f"each size must be at least {MIN_SWEEP_ROWS} training rows, got {small[0]}")
    return tuple(rows)


def size_label(size: str, data) -> str:
    """What a size will really run on ``data``: its rows, capped by the data's own.

    The offline sample holds 4,000 training and 1,000 test images, so ``small``
    (6,000 / 1,000) runs 4,000 / 1,000 on it, and says so.
    """
    bench = bench_size(size)
    n_train, n_test = min(bench.n_train, len(data.y_train)), min(bench.n_test, len(data.y_test))
    name = f"{int(size):,} rows" if is_sweep_point(size) else f"--size {size}"
    label = f"{name}: {n_train:,} training and {n_test:,} test rows of {data.source}"
    if (n_train, n_test) != (bench.n_train, bench.n_test):
        label += (f" (the data holds fewer than the size's {bench.n_train:,} / {bench.n_test:,}; "
                  "set GPUCLF_MNIST or --data for full MNIST)")
    return label


def config_notes(config: RunConfig, fields) -> list:
    """``name=value (book: value)`` for each of ``fields`` where ``config`` differs from the book's options."""
    book = RunConfig()
    notes = []
    for f in fields:
        value, book_value = getattr(config, f), getattr(book, f)
        if value != book_value:
            notes.append(f"{f}={value} (book: {BOOK_DEFAULTS.get(f) if book_value is None else book_value})")
    return notes
