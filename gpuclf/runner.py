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
from .results import ResultsStore, lock_output
from .warmup import warm_up
from .preconditions import skip_reason
from .workflow import STEP_ROLES, STEPS, Context, RunConfig, check_preconditions, select_steps


class Progress:
    """Where a run is: one line per finished step, and live sub-step progress on a terminal.

    On a terminal (``live``), rich draws a bar of the steps *finished*, the
    running step with its current stage (``binary_roc: random forest, 3-fold
    CV``) and its elapsed time; finished steps stay as lines above it.
    Elsewhere (a log file, CI) only the per-step lines are printed, so logs
    stay short.

    Parameters
    ----------
    total : int
        Steps in the run.
    stream : file, optional
        Where to write (default ``sys.stderr``).
    enabled : bool
        False prints nothing (``--quiet``).
    live : bool, optional
        Draw the live display; default: when ``stream`` is a terminal.
    """

    def __init__(self, total: int, stream=None, enabled: bool = True, live: bool | None = None):
        self.total, self.done, self.enabled = total, 0, enabled
        self.stream = stream or sys.stderr
        is_tty = getattr(self.stream, "isatty", lambda: False)()
        self.live = enabled and (is_tty if live is None else live)
        self.step, self._bar, self._task = None, None, None
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, SpinnerColumn, \
                TextColumn, TimeElapsedColumn

            console = Console(file=self.stream, force_terminal=True)
            self._bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("steps done"), TimeElapsedColumn(), console=console, transient=True)

    def _print(self, text: str, end: str = "\n") -> None:
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, markup=False)
        elif self.enabled:
            print(text, end=end, file=self.stream, flush=True)

    def start(self, step: str, skipped: bool = False) -> None:
        """A step begins (or is skipped: finished by the run being resumed)."""
        number = f"step {self.done + 1}/{self.total}: {step}"
        if skipped:
            self.done += 1
            self._print(f"{number} done earlier, skipped")
            return
        self.step = step
        if self._bar is None:
            self._print(f"{number} ...", end="")
            return
        if not self._bar.live.is_started:
            self._bar.start()
        # The bar counts finished steps only: the running one is not done.
        self._task = self._bar.add_task(step, total=self.total, completed=self.done)

    def stage(self, text: str) -> None:
        """What the running step does now; shown live, quiet elsewhere."""
        if self._task is not None:
            self._bar.update(self._task, description=f"{self.step}: {text}")
            self._bar.refresh()

    def _end(self, outcome: str) -> None:
        if self._task is None:
            self._print(f" {outcome}")
            return
        self._bar.remove_task(self._task)
        self._task = None
        self._print(f"step {self.done}/{self.total}: {self.step} {outcome}")

    def fail(self, outcome: str = "failed") -> None:
        """The running step ended without results (``failed``, or ``interrupted`` by Ctrl-C)."""
        self.done += 1
        self._end(outcome)
        self.close()

    def finish(self, seconds: float, skipped: str | None = None) -> None:
        """The running step is done (or ``skipped``, not applying to the data, with why)."""
        self.done += 1
        self._end(f"skipped: {skipped}" if skipped else f"{seconds:.2f} s")

    def close(self) -> None:
        """Take the live display off the terminal (the per-step lines stay)."""
        if self._bar is not None and self._bar.live.is_started:
            self._bar.stop()


def describe_cluster(client):
    from .cluster import describe

    return describe(client)


def run_header(backend: Backend, data: MnistData, config: RunConfig) -> dict:
    """What identifies a run (for --resume) and where it ran."""
    return {
        "gpuclf_results": 1,
        "backend": backend.name,
        "data_source": data.source,
        "data_fingerprint": data.fingerprint(),
        "data_origin": data.origin,
        "data_reader": data.reader,
        "class_names": list(data.class_names) if data.class_names is not None else None,
        "n_train": int(len(data.y_train)),
        "n_test": int(len(data.y_test)),
        "config": config.to_dict(),
        "environment": {**backend.describe(), "versions": library_versions()},
        "cluster": describe_cluster(backend.dispatcher.client),
    }


def run_workflow(backend: Backend, data: MnistData, config: RunConfig, out_dir: str,
                 resume: bool = False, progress: bool = True, force: bool = False,
                 on_start=None) -> ResultsStore:
    """Run the chapter's steps on ``backend`` and write ``out_dir/results.json``.

    Parameters
    ----------
    backend : Backend
    data : MnistData
        Already validated and subsampled.
    config : RunConfig
    out_dir : str
    resume : bool
        Skip steps finished by an earlier run in ``out_dir`` (same backend, data and
        config; the steps may differ, and both sets end up recorded).
    progress : bool
        Print a line per step on stderr and, when stderr is a terminal, the
        running step's stage and elapsed time (:class:`Progress`).
    force : bool
        Replace an earlier run in ``out_dir``; without it (or ``resume``) a
        folder holding one is refused, so two runs' files never mix.
    on_start : callable, optional
        Called with no arguments once every check has passed and the folder is
        ready, before any work (the command line prints its banner then, so a
        refused run prints only its one error line).

    Returns
    -------
    ResultsStore

    Raises
    ------
    GpuclfError
        Bad options, data a step cannot run on (before anything is written),
        another run writing to ``out_dir``, a file that cannot be written, or
        a step that ran out of device memory (naming the step and the option to lower).
    """
    steps = select_steps(config.steps)
    check_preconditions(steps, data, config)
    with lock_output(out_dir):
        store = ResultsStore(out_dir, run_header(backend, data, config), resume=resume, force=force)
        if on_start is not None:
            on_start()
        # Kernel compilation is the user's time too, but not the step's: recorded apart.
        to_run = [s for s in steps if s not in store.finished and not skip_reason(STEPS[s], data, config)]
        warm = warm_up(backend, to_run, config, data)
        if warm is not None:
            store.doc["warmup"] = warm
        return _run_steps(backend, data, config, steps, store, progress)


def _run_steps(backend: Backend, data: MnistData, config: RunConfig, steps: list, store: ResultsStore,
               progress: bool) -> ResultsStore:
    bar = Progress(len(steps), enabled=progress)
    ctx = Context(backend, data, config, results=dict(store.finished), on_progress=bar.stage)
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
                skipped = skip_reason(STEPS[step], data, config)
                figures = {"skipped": skipped} if skipped else STEPS[step](ctx)
                backend.synchronize()
        except BaseException as exc:
            bar.fail("interrupted" if isinstance(exc, KeyboardInterrupt) else "failed")
            if backend.out_of_memory(exc):  # CuPy's pool and RMM report it differently
                raise GpuclfError(f"step {step} ran out of GPU memory ({str(exc).splitlines()[0]}); lower "
                                  "--max-gpu-memory so kernels work in smaller chunks, or use --train-size") from None
            raise
        seconds = time.perf_counter() - t0
        bar.finish(seconds, skipped)
        memory = {"host_peak_rss_bytes": peak_rss_bytes(), "device_peak_bytes": backend.peak_memory_bytes()}
        placement = {role: backend.placement(role).to_dict() for role in STEP_ROLES.get(step, ())}
        notes = {f"{w.category.__name__}: {w.message}" for w in caught}
        if backend.dispatcher.client is not None:  # and those raised in the Dask workers' processes
            from .worker_warnings import worker_warnings

            notes.update(worker_warnings(backend.dispatcher.client))
        notes = sorted(notes)
        store.save_step(step, figures, seconds, memory, placement, ctx.arrays, notes)
        ctx.results[step] = store.finished[step]
    bar.close()
    return store
