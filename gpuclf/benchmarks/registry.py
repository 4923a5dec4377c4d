"""The bench entries: which ``bench/`` test times each table row, and what it knows about the step.

Adding a benchmark is a test in ``bench/`` that calls ``bench.run(label, ...)``
and one :class:`Entry` line here (``tests/benchmarks/test_benchmarks.py`` checks that
every bench test is registered and every entry has its test). The order of
:data:`ENTRIES` is the order of the tables.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import flops

#: Step labels of the SGD size sweep (``bench/test_bench_sgd_sweep.py``): ``sgd_sweep:<task>:<rows>``.
SWEEP_PREFIX = "sgd_sweep:"


@dataclass(frozen=True)
class Entry:
    """One benchmark of the suite.

    Attributes
    ----------
    step : str
        The label in the tables (a label prefix for a parametrized test, ending in ``:``).
    test : str
        The pytest node that times it, relative to ``bench/``.
    flops : callable, optional
        ``flops(ctx) -> int | None``: the GEMM FLOPs of one round (:mod:`.flops`),
        for the %-of-peak columns; None for steps that are not GEMM-bound.
    sweep : bool
        Timed at every point of a cost-vs-size sweep (``--sizes``).
    book : bool
        ``bench/sklearn_book.py`` times the book's own code of it (the cuml.accel column).
    optional : bool
        An optional step of ``gpuclf run`` (:data:`gpuclf.chapter.OPTIONAL_STEPS`): timed only when
        ``gpuclf bench --add-steps`` names it, as ``gpuclf run`` runs it only when ``--steps`` does.
    """

    step: str
    test: str
    flops: Callable | None = None
    sweep: bool = True
    book: bool = True
    optional: bool = False


ENTRIES = (
    Entry("load_csv", "test_bench_load.py::test_load_csv", sweep=False, book=False),
    Entry("binary_sgd", "test_bench_binary.py::test_binary_sgd", flops.binary_sgd),
    Entry("binary_cv+metrics+tradeoff", "test_bench_binary.py::test_binary_cv_metrics_tradeoff", flops.binary_cv),
    Entry("binary_roc", "test_bench_forest.py::test_binary_roc"),
    Entry("multiclass:svc", "test_bench_svc.py::test_svc_fit_predict"),
    Entry("multiclass:ovr_svc", "test_bench_svc.py::test_ovr_svc_fit_predict"),
    Entry("multiclass:sgd_cv", "test_bench_multiclass_sgd.py::test_sgd_cv", flops.multiclass_sgd_cv),
    Entry("multiclass:sgd_scaled_cv", "test_bench_multiclass_sgd.py::test_sgd_scaled_cv", flops.scaled_sgd_cv),
    Entry("multilabel", "test_bench_knn.py::test_multilabel", flops.multilabel),
    Entry("denoise", "test_bench_denoise.py::test_denoise", flops.denoise),
    Entry("best_accuracy", "test_bench_knn.py::test_best_accuracy", flops.best_accuracy),
    Entry("augmentation", "test_bench_augmentation.py::test_augmentation", flops.augmentation),
    # Beyond the book: its CV covers 10,000 rows at every size, so a sweep would not show its growth.
    Entry("knn_plus", "test_bench_knn_plus.py::test_knn_plus", sweep=False, book=False, optional=True),
    Entry(SWEEP_PREFIX, "test_bench_sgd_sweep.py::test_sgd_sweep", sweep=False, book=False),
)
#: The machine's limits, measured at the start of every round (``bench/test_bench_peak.py``).
PEAK_TESTS = ("test_bench_peak.py::test_gemm_peak", "test_bench_peak.py::test_copy_bandwidth")

#: Table order; labels not listed come after, alphabetically.
STEP_ORDER = tuple(e.step for e in ENTRIES if not e.step.endswith(":"))
#: Steps that time gpuclf's data readers, not a step of the book.
LOAD_STEPS = tuple(e.step for e in ENTRIES if e.test.startswith("test_bench_load.py"))


def entry_for(step: str) -> Entry | None:
    """The entry of a step label (a sweep label ``sgd_sweep:...`` gives its prefix's entry)."""
    for e in ENTRIES:
        if step == e.step or (e.step.endswith(":") and step.startswith(e.step)):
            return e
    return None


#: Step ids that ``--add-steps`` accepts.
OPTIONAL = tuple(e.step for e in ENTRIES if e.optional)


def sweep_tests() -> list[str]:
    """The pytest nodes timed at a sweep point: the peaks, then the sweep's entries."""
    return [*PEAK_TESTS, *dict.fromkeys(e.test for e in ENTRIES if e.sweep)]


def suite_args(size: str, added=(), folder: str = "bench") -> list[str]:
    """What to pass pytest, from the suite ``folder``'s parent, to time ``size`` with the optional steps ``added``.

    A named size runs the whole folder, less the optional entries not added; a
    sweep point (a number of rows) lists the sweep's tests.
    """
    from .sizes import is_sweep_point

    if is_sweep_point(size):
        return [f"{folder}/{t}" for t in sweep_tests()]
    return [folder, *(arg for e in ENTRIES if e.optional and e.step not in added
                      for arg in ("--deselect", f"{folder}/{e.test}"))]


def timed_at(size: str, step: str, added=()) -> bool:
    """Whether a step label is timed at a size: at a sweep point (a number of rows) only the sweep's entries;
    an optional entry only when ``added`` names it."""
    from .sizes import is_sweep_point

    entry = entry_for(step)
    if entry is not None and entry.optional and entry.step not in added:
        return False
    return not is_sweep_point(size) or (entry is not None and entry.sweep)
