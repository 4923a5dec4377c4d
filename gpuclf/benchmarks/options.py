"""``gpuclf bench``'s own options, checked by argparse before any work with the option types of
:mod:`gpuclf.run.options` (one mechanism for every option of the command line)."""
from __future__ import annotations

import argparse

from ..errors import GpuclfError
from ..run.options import Int, Minutes, Names


class SweepSizes:
    """``--sizes``: a named sweep (``standard``) or comma-separated training rows (``1000,3000,10000``)."""

    def __call__(self, text: str) -> tuple[int, ...]:
        from .sizes import sweep_sizes

        try:
            return sweep_sizes(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None


def _optional_step_names():
    from ..chapter import OPTIONAL_STEPS

    return OPTIONAL_STEPS


BENCH_ROUNDS = Int(1, 1000)
BENCH_OPTIONAL_STEPS = Names(_optional_step_names, "optional step")
BENCH_BUDGET = Minutes()
BENCH_SIZES = SweepSizes()
#: ``gpuclf bench``: timed rounds per step, and minutes the rounds of one backend at one size may take.
DEFAULT_BENCH_ROUNDS, DEFAULT_BENCH_BUDGET = 3, 20.0


def check_bench_options(args) -> None:
    """The ``gpuclf bench`` options that only mean something together.

    Raises
    ------
    GpuclfError
        ``--compare`` with timing options, ``--knn-search`` with a sweep, accel or a cluster, or
        ``--cuml-accel`` / ``--add-steps`` without a named ``--size``.
    """
    if args.compare:
        given = [f for f, v in (("--size", args.size), ("--sizes", args.sizes), ("--cuml-accel", args.cuml_accel),
                                ("--cluster", args.cluster), ("--add-steps", args.add_steps),
                                ("--backends", args.backends), ("--data", args.data),
                                ("--knn-search", args.knn_search)) if v]
        if given:
            raise GpuclfError(f"--compare reads results already timed; it takes no {', '.join(given)}")
    elif args.knn_search:
        given = [f for f, v in (("--sizes", args.sizes), ("--cuml-accel", args.cuml_accel), ("--cluster", args.cluster))
                 if v]
        if given:
            raise GpuclfError(f"--knn-search times the KNN steps (and --add-steps) at one named --size, in this "
                              f"process; it takes no {', '.join(given)}")
    elif args.sizes and not args.size:
        named_only = [f for f, v in (("--cuml-accel", args.cuml_accel), ("--add-steps", args.add_steps)) if v]
        if named_only:
            raise GpuclfError(f"{' and '.join(named_only)} time at a named --size (small, medium, full), "
                              "not over --sizes; add --size")
