"""``gpuclf bench``: plan the rounds, run the ``bench/`` suite per size, write the report.

The timing itself is the pytest-benchmark suite in the source checkout's
``bench/`` folder, run in a child process per size (:func:`gpuclf.run.children.run_child`:
it never outlives gpuclf); this module decides each backend's rounds there
(:mod:`.plan`), launches the suite with its output in a log file, keeps its
JSON, turns every JSON in the output folder into ``benchmarks.md``,
``benchmarks.html`` and the PNG charts, and prints a short digest (:mod:`.digest`).
"""
from __future__ import annotations

import datetime
import glob
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from ..errors import GpuclfError
from ..run.children import run_child
from gpuclf.benchmarks.options import DEFAULT_BENCH_BUDGET as DEFAULT_BUDGET_MINUTES
from gpuclf.benchmarks.options import DEFAULT_BENCH_ROUNDS as DEFAULT_ROUNDS
from . import plan as planning
from .digest import digest, log_path, log_tail, pytest_summary
from .records import ACCEL_GLOB, PLAN_FILE, RUN_GLOB, load
from .registry import suite_args, timed_at
from .sizes import bench_size, is_sweep_point, size_label
from .stats import rounds_text

COMMAND_ENV_VAR = "GPUCLF_BENCH_COMMAND"  # read by bench/conftest.py
ACCEL_SCRIPT = "sklearn_book.py"


def bench_dir() -> Path:
    """The ``bench/`` folder of the source checkout gpuclf was imported from.

    Raises
    ------
    GpuclfError
        When gpuclf is installed without it (e.g. from a wheel).
    """
    folder = Path(__file__).resolve().parent.parent.parent / "bench"
    if not (folder / "conftest.py").is_file():
        raise GpuclfError(f"the benchmark suite is not installed with gpuclf (no {folder}); "
                          "run gpuclf bench from a source checkout: git clone the project, pip install -e '.[bench]'")
    return folder


def check_bench_installed() -> None:
    """Fail in one line when the timing tools are missing.

    Raises
    ------
    GpuclfError
        Naming the missing packages and the install command that works from a checkout.
    """
    missing = [name for name, module in (("pytest", "pytest"), ("pytest-benchmark", "pytest_benchmark"))
               if importlib.util.find_spec(module) is None]
    if missing:
        raise GpuclfError(f"gpuclf bench needs {' and '.join(missing)}, not installed here: "
                          "pip install -e '.[bench]' in the gpuclf checkout")


def _check_backends(backends) -> list:
    from ..backends import _REGISTRY, available_backends

    if not backends:
        return available_backends()
    unknown = [b for b in backends if b not in _REGISTRY]
    if unknown:
        raise GpuclfError(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(_REGISTRY)}")
    for name in backends:
        ok, reason = _REGISTRY[name].availability()
        if not ok:
            raise GpuclfError(f"--backends {name} is not available: {reason}")
    return list(dict.fromkeys(backends))


def _user_command(backends, size, sizes, data, out_dir, cuml_accel, cluster, rounds, budget, added) -> str:
    parts = ["gpuclf", "bench"]
    if backends:
        parts += ["--backends", ",".join(backends)]
    if size:
        parts += ["--size", size]
    if sizes:
        parts += ["--sizes", ",".join(map(str, sizes))]
    if added:
        parts += ["--add-steps", ",".join(added)]
    if rounds != DEFAULT_ROUNDS:
        parts += ["--rounds", str(rounds)]
    if budget != DEFAULT_BUDGET_MINUTES:
        parts += ["--budget", f"{budget:g}"]
    if data:
        parts += ["--data", data]
    if out_dir != "bench-results":
        parts += ["--out", out_dir]
    if cuml_accel:
        parts.append("--cuml-accel")
    if cluster:
        parts += ["--cluster", cluster]
    return shlex.join(parts)


def run_benchmarks(backends=None, size: str | None = None, data: str | None = None, out_dir: str = "bench-results",
                   cuml_accel: bool = False, cluster: str | None = None, sizes=None, rounds: int = DEFAULT_ROUNDS,
                   budget_minutes: float = DEFAULT_BUDGET_MINUTES, add_steps=()) -> str:
    """Run the benchmark suite at a named size and/or over a sweep; write its JSON, report and charts.

    Parameters
    ----------
    backends : list of str, optional
        Backends to time (default: every one available here).
    size : {"small", "medium", "full"}, optional
        Up to 6,000 / 20,000 / 60,000 training rows (1,000 / 2,000 / 10,000
        test), fewer when the data holds fewer (:func:`~.sizes.size_label`).
        Default ``small`` unless ``sizes`` is given.
    data : str, optional
        ``openml``, ``sample`` or a path to an ``.npz``; default
        ``$GPUCLF_MNIST`` when set, else the offline sample.
    out_dir : str
        Folder for the results; JSON already there from other sizes or
        backend lists is merged into the report (and informs the plan).
    cuml_accel : bool
        Also time the book's plain scikit-learn code under
        ``python -m cuml.accel`` at the named size (when cuML imports; else one line says why).
    cluster : str, optional
        ``local`` or a scheduler address: time the backends on that Dask
        cluster, in columns ``<backend>@dask:<workers>``.
    sizes : sequence of int, optional
        Training rows of a cost-vs-size sweep, ascending (:data:`~.sizes.SWEEPS`).
    rounds : int, default=3
        Timed rounds per step and backend, where they fit in the budget.
    budget_minutes : float, default=20
        The most minutes the rounds of one backend at one size may take (see :mod:`.plan`).
    add_steps : sequence of str, default=()
        Optional steps to time too at a named size (:data:`.registry.OPTIONAL`: ``knn_plus``).

    Returns
    -------
    str
        Path of ``benchmarks.md``.

    Raises
    ------
    GpuclfError
        Unknown size or backend, unreadable data, no ``bench/`` folder, or a
        failing benchmark (a round whose figures differ from the first's fails).
    """
    from gpuclf.run.cluster import ENV_VAR as CLUSTER_ENV_VAR
    from gpuclf.data import ENV_VAR, load_mnist
    from gpuclf.run.files import check_writable

    if size is None and not sizes:
        size = "small"
    if size is not None:
        bench_size(size)  # an unknown name fails here, before anything else
    check_bench_installed()
    added = tuple(add_steps or ())
    user_command = _user_command(backends, size, sizes, data, out_dir, cuml_accel, cluster, rounds, budget_minutes,
                                 added)
    backends = _check_backends(backends)
    suite = bench_dir()
    source = data or os.environ.get(ENV_VAR) or "sample"
    full_data = load_mnist(source)  # fail here, with the loader's message, not inside pytest
    points = ([size] if size else []) + [str(n) for n in sizes or ()]
    print(f"gpuclf: bench {size_label(points[0], full_data)}", file=sys.stderr, flush=True)
    check_writable(out_dir)
    out = Path(out_dir).resolve()
    package_root = str(Path(__file__).resolve().parent.parent.parent)
    env = {**{k: v for k, v in os.environ.items() if k != CLUSTER_ENV_VAR}, COMMAND_ENV_VAR: user_command,
           **({CLUSTER_ENV_VAR: cluster} if cluster else {}),
           "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    stopped: dict = {}  # backend -> the training rows at which it stopped: it stops at as many or more
    for point in points:
        if point != points[0]:
            print(f"gpuclf: bench {size_label(point, full_data)}", file=sys.stderr, flush=True)
        decisions = _plan(point, backends, full_data, out, rounds, budget_minutes * 60, stopped, added)
        n_point = min(bench_size(point).n_train, len(full_data.y_train))
        for d in decisions:
            if d.rounds == 0:
                stopped[d.backend] = min(n_point, stopped.get(d.backend, n_point))
        timed = [d for d in decisions if d.rounds > 0]
        if timed:
            _run_suite(suite, point, timed, data, cluster, out, env, added)
    if cuml_accel and size:
        _run_cuml_accel(suite, full_data, size, rounds, out / f"cuml-accel-{size}.json", user_command, env)
    md = write_report(str(out))
    for line in digest(load(_report_files(out)), points):
        print(line, file=sys.stderr)
    print(f"gpuclf: the whole report: {_shown(Path(md))} (and benchmarks.html)", file=sys.stderr, flush=True)
    return md


def _plan(point: str, backends: list, data, out: Path, rounds: int, budget_s: float, stopped: dict,
          added=()) -> list:
    """Each backend's rounds at ``point``, printed and kept in ``bench-plan.json``."""
    # Estimate from the steps that run at this point: a sweep point leaves out the CSV reader and the SGD sweep,
    # and every point the optional steps not added.
    history = [r for r in load(sorted(glob.glob(str(out / RUN_GLOB)))).rows if timed_at(point, r["step"], added)]
    n_train = min(bench_size(point).n_train, len(data.y_train))
    decisions = []
    for b in backends:
        if is_sweep_point(point) and int(point) > len(data.y_train):
            d = planning.Decision(point, b, 0, f"the data holds {len(data.y_train):,} training rows")
        else:
            d = planning.decide(point, b, planning.estimate_round(history, b, n_train), rounds, budget_s,
                                stopped=n_train >= stopped.get(b, n_train + 1))
        print(f"gpuclf: {b}: {d.why}", file=sys.stderr, flush=True)
        decisions.append(d)
    path = out / PLAN_FILE
    doc = json.loads(path.read_text()) if path.is_file() else {"gpuclf_bench_plan": 1, "sizes": {}}
    doc["sizes"][point] = [d.to_dict() for d in decisions]
    path.write_text(json.dumps(doc, indent=1))
    return decisions


def _run_suite(suite: Path, point: str, decisions: list, data, cluster, out: Path, env: dict, added=()) -> None:
    names = [d.backend for d in decisions]
    run_json = out / f"benchmark-{point}-{'-'.join(names)}{'-dask' if cluster else ''}.json"
    tests = suite_args(point, added, suite.name)
    # Run from the checkout's root, so the recorded command reads as typed there.
    cmd = [sys.executable, "-m", "pytest", *tests, "-p", "no:cacheprovider", "-o", "addopts=",
           "--rootdir", ".", "--bench-size", point, "--bench-backends", ",".join(names),
           "--bench-rounds", ",".join(f"{d.backend}={d.rounds}" for d in decisions),
           *(["--bench-data", data] if data else []), "--benchmark-json", str(run_json),
           "--benchmark-columns", "median,min,max,rounds", "--benchmark-sort", "name"]
    log = log_path(out, point)
    print(f"gpuclf: timing {point}: {', '.join(f'{d.backend} {rounds_text(d.rounds)}' for d in decisions)}; the "
          f"suite's output goes to {_shown(log)}", file=sys.stderr, flush=True)
    code = _logged_child(cmd, log, cwd=suite.parent, env=env)
    if code != 0 or not run_json.is_file():
        raise GpuclfError(f"the benchmark suite failed (pytest exit code {code}); its output is in {_shown(log)}, "
                          "whose end is above")
    print(f"gpuclf: {point}: {pytest_summary(log) or 'done'}", file=sys.stderr, flush=True)
    shutil.copyfile(run_json, out / "benchmark.json")


def _shown(path: Path) -> str:
    """``path`` as the user can type it: relative to the working folder where it lies below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _logged_child(cmd: list, log: Path, **kwargs) -> int:
    """Run ``cmd`` with its output in ``log`` (the command first); on failure, print the log's end."""
    with open(log, "w") as f:
        f.write(f"$ {shlex.join(cmd)}\n")
        f.flush()
        code = run_child(cmd, stdout=f, stderr=subprocess.STDOUT, **kwargs)
    if code != 0:
        print(log_tail(log), file=sys.stderr, flush=True)
    return code


def _report_files(out: Path) -> list:
    """The bench JSON in ``out`` that the report reads: the runs, the cuml.accel columns and the plan."""
    return [*sorted(glob.glob(str(out / RUN_GLOB))), *sorted(glob.glob(str(out / ACCEL_GLOB))),
            *([str(out / PLAN_FILE)] if (out / PLAN_FILE).is_file() else [])]


def write_report(out_dir: str) -> str:
    """``benchmarks.md``, ``benchmarks.html`` and the charts from every bench JSON in ``out_dir``; the .md path."""
    from .charts import render_charts
    from .pages import html_page, markdown
    from gpuclf.benchmarks.tables import document

    out = Path(out_dir)
    results = load(_report_files(out))
    render_charts(results, str(out))
    blocks = document(results)
    (out / "benchmarks.html").write_bytes(html_page("gpuclf benchmarks", blocks, str(out)))
    md = out / "benchmarks.md"
    md.write_text(markdown(blocks))
    return str(md)


def _run_cuml_accel(suite: Path, data, size: str, rounds: int, path: Path, command: str, env: dict) -> None:
    """Time ``bench/sklearn_book.py`` under ``python -m cuml.accel`` into ``path``.

    Without cuML the file records why, and the Markdown says so in one line.
    """
    from ..backends.cuml_adapters import cuml_status
    from gpuclf.run.environment import library_versions

    ok, reason = cuml_status()
    bench = bench_size(size)
    doc = {"gpuclf_cuml_accel": 1, "available": ok, "reason": reason, "size": size, "command": command,
           "datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(), "versions": library_versions()}
    if ok:
        from ..backends import get_backend
        from gpuclf.chapter import Context

        part = data.subsample(bench.n_train, bench.n_test)
        # The same SGD epoch cap as the cpu column's scikit-learn SGD, so the columns compare like with like.
        sgd_max_iter = Context(get_backend("cpu"), part, bench.config).sgd().get_params()["max_iter"]
        with tempfile.TemporaryDirectory() as tmp:
            npz, result = os.path.join(tmp, "data.npz"), os.path.join(tmp, "result.json")
            np.savez(npz, X_train=part.X_train, y_train=part.y_train, X_test=part.X_test, y_test=part.y_test)
            options = ["--rounds", str(rounds), "--n-estimators", str(bench.config.n_estimators),
                       "--grid-train-size", str(bench.config.grid_train_size), "--sgd-max-iter", str(sgd_max_iter)]
            cmd = [sys.executable, "-m", "cuml.accel", str(suite / ACCEL_SCRIPT), npz, "--out", result, *options]
            log = path.with_suffix(".log")
            print(f"gpuclf: timing the book's code under cuml.accel at {size}; its output goes to {_shown(log)}",
                  file=sys.stderr, flush=True)
            code = _logged_child(cmd, log, env=env)
            if code != 0:
                raise GpuclfError(f"the cuml.accel benchmark failed (exit code {code}); its output is in "
                                  f"{_shown(log)}, whose end is above")
            with open(result) as f:
                doc.update(json.load(f), data_source=part.source,
                           accel_command=shlex.join(["python", "-m", "cuml.accel", f"bench/{ACCEL_SCRIPT}",
                                                     "DATA.npz", "--out", "RESULT.json", *options]))
    path.write_text(json.dumps(doc, indent=1))
