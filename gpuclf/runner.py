"""Run the selected steps: timing, memory, progress, results saved after each."""
from __future__ import annotations

import sys
import time
import warnings

from .backends import Backend
from .data import MnistData
from .environment import library_versions
from .errors import GpuclfError
from .memory import peak_rss_bytes, reset_peak_rss
from .results import ResultsStore, check_writable
from .workflow import STEP_ROLES, STEPS, Context, RunConfig, select_steps


class Progress:
    """One line per step on stderr: ``[3/12] binary_metrics ... 1.2 s``."""

    def __init__(self, total: int, stream=None, enabled: bool = True):
        self.total, self.done, self.enabled = total, 0, enabled
        self.stream = stream or sys.stderr

    def start(self, step: str, skipped: bool = False) -> None:
        self.done += 1
        if self.enabled:
            bar = "#" * self.done + "." * (self.total - self.done)
            state = "done earlier, skipped" if skipped else "..."
            print(f"[{bar}] {self.done}/{self.total} {step} {state}", end="" if not skipped else "\n",
                  file=self.stream, flush=True)

    def fail(self) -> None:
        if self.enabled:
            print(" failed", file=self.stream, flush=True)

    def finish(self, seconds: float) -> None:
        if self.enabled:
            print(f" {seconds:.2f} s", file=self.stream, flush=True)


def run_header(backend: Backend, data: MnistData, config: RunConfig) -> dict:
    """What identifies a run (for --resume) and where it ran."""
    return {
        "gpuclf_results": 1,
        "backend": backend.name,
        "data_source": data.source,
        "n_train": int(len(data.y_train)),
        "n_test": int(len(data.y_test)),
        "config": config.to_dict(),
        "environment": {**backend.describe(), "versions": library_versions()},
    }


def run_workflow(backend: Backend, data: MnistData, config: RunConfig, out_dir: str,
                 resume: bool = False, progress: bool = True) -> ResultsStore:
    """Run the chapter's steps on ``backend`` and write ``out_dir/results.json``.

    Parameters
    ----------
    backend : Backend
    data : MnistData
        Already validated and subsampled.
    config : RunConfig
    out_dir : str
    resume : bool
        Skip steps finished by an earlier run in ``out_dir`` (same backend, data and config).
    progress : bool
        Print a progress line per step on stderr.

    Returns
    -------
    ResultsStore

    Raises
    ------
    GpuclfError
        Bad options, or a step that ran out of device memory (naming the step
        and the option to lower).
    """
    steps = select_steps(config.steps)
    check_writable(out_dir)
    store = ResultsStore(out_dir, run_header(backend, data, config), resume=resume)
    ctx = Context(backend, data, config, results=dict(store.finished))
    bar = Progress(len(steps), enabled=progress)
    for step in steps:
        if step in store.finished:
            bar.start(step, skipped=True)
            continue
        bar.start(step)
        ctx.arrays = {}
        reset_peak_rss()
        backend.reset_peak_memory()
        t0 = time.perf_counter()
        try:
            # Library warnings (e.g. scikit-learn's ConvergenceWarning on capped
            # SGD) go into results.json instead of breaking the progress lines.
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                figures = STEPS[step](ctx)
                backend.synchronize()
        except BaseException as exc:
            bar.fail()
            if type(exc).__name__ == "OutOfMemoryError":
                raise GpuclfError(f"step {step} ran out of GPU memory ({exc}); lower --max-gpu-memory so "
                                  "kernels work in smaller chunks, or use --train-size") from None
            raise
        seconds = time.perf_counter() - t0
        bar.finish(seconds)
        memory = {"host_peak_rss_bytes": peak_rss_bytes(), "device_peak_bytes": backend.peak_memory_bytes()}
        placement = {role: backend.placement(role).to_dict() for role in STEP_ROLES.get(step, ())}
        notes = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
        store.save_step(step, figures, seconds, memory, placement, ctx.arrays, notes)
        ctx.results[step] = store.finished[step]
    return store
