"""Run the selected steps: timing, memory, progress, results saved after each."""
from __future__ import annotations

import time
import warnings

from gpuclf.backends import Backend
from gpuclf.chapter import STEP_ROLES, STEPS, Context, RunConfig, check_preconditions, select_steps
from gpuclf.chapter.preconditions import skip_reason
from gpuclf.data import MnistData
from gpuclf.dispatch import ClusterError, cluster_failure
from gpuclf.errors import GpuclfError, option, resume_command
from gpuclf.run.environment import library_versions
from gpuclf.run.folder import lock_output
from gpuclf.run.memory import peak_rss_bytes, reset_peak_rss
from gpuclf.run.progress import Progress
from gpuclf.run.store import ResultsStore
from gpuclf.run.warmup import warm_up


def describe_cluster(client):
    from gpuclf.run.cluster import describe

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
                                  f"{option('--max-gpu-memory')} so kernels work in smaller chunks, or use "
                                  f"{option('--train-size')}") from None
            lost = cluster_failure(exc) if backend.dispatcher.client is not None else None
            if lost is not None:  # Dispatcher's tasks, or scikit-learn's through joblib's Dask backend
                raise GpuclfError(f"step {step}: {lost}; {_saved(store)}") from None
            raise
        seconds = time.perf_counter() - t0
        bar.finish(seconds, skipped)
        memory = {"host_peak_rss_bytes": peak_rss_bytes(), "device_peak_bytes": backend.peak_memory_bytes()}
        placement = {role: backend.placement(role).to_dict() for role in STEP_ROLES.get(step, ())}
        notes = {f"{w.category.__name__}: {w.message}" for w in caught}
        if backend.dispatcher.client is not None:  # and those raised in the Dask workers' processes
            from gpuclf.run.worker_warnings import worker_warnings

            try:
                notes.update(worker_warnings(backend.dispatcher.client))
            except ClusterError:  # gone with the cluster; the step's figures stand, the next step says it is gone
                pass
        notes = sorted(notes)
        store.save_step(step, figures, seconds, memory, placement, ctx.arrays, notes)
        ctx.results[step] = store.finished[step]
    bar.close()
    return store


def _saved(store: ResultsStore) -> str:
    """What is kept of a run that stopped, and how the caller continues it."""
    done = list(store.finished)
    if not done:
        return "no step had finished: run again on a cluster that works, or without one"
    return (f"the {len(done)} finished step(s) are saved in {store.out_dir}: continue with "
            f"{resume_command(store.out_dir)} (on a cluster that works, or without one)")
