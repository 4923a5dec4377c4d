"""``gpuclf bench``: time the chapter's steps per backend, then tabulate and chart them.

The timing itself is the pytest-benchmark suite in the source checkout's
``bench/`` folder, run in a subprocess; this module launches it, keeps its
JSON, and turns every JSON in the output folder into ``benchmarks.md`` and
PNG charts. The Markdown is always regenerated from the JSON
(:func:`render_markdown`), never edited by hand, so runs at several sizes
(or with several backend lists) into one folder merge into one report.

Files written into ``out_dir``
------------------------------
``benchmark.json``
    pytest-benchmark's JSON of the latest run.
``benchmark-<size>-<backends>.json``
    The same, kept per size and backend list so that later runs merge with it.
``cuml-accel-<size>.json``
    With ``cuml_accel=True``: the book's scikit-learn code timed under
    ``python -m cuml.accel``, or why it could not run.
``benchmarks.md``, ``speedup-<size>.png``, ``scaling.png``
    The table, the speedup per step (log axis), and time against training
    size when the folder holds more than one size.
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import GpuclfError
from .workflow import RunConfig

#: Table order; labels not listed here come after, alphabetically.
STEP_ORDER = ("load_csv", "binary_sgd", "binary_cv+metrics+tradeoff", "binary_roc", "multiclass:svc", "multiclass:ovr_svc",
              "multiclass:sgd_cv", "multiclass:sgd_scaled_cv", "multilabel", "denoise", "best_accuracy",
              "augmentation", "knn_plus")
#: Steps that time gpuclf's data readers (``bench/test_bench_load.py``), not a step of the book.
LOAD_STEPS = ("load_csv",)
BACKEND_ORDER = ("cpu", "gpu", "numpy")
ACCEL = "cuml.accel"
REFERENCE = "cpu"
COMMAND_ENV_VAR = "GPUCLF_BENCH_COMMAND"  # read by bench/conftest.py
RUN_GLOB, ACCEL_GLOB = "benchmark-*.json", "cuml-accel-*.json"
ACCEL_SCRIPT = "sklearn_book.py"
#: Step labels of the SGD size sweep (``bench/test_bench_sgd_sweep.py``): ``sgd_sweep:<task>:<rows>``.
SWEEP_PREFIX = "sgd_sweep:"


@dataclass(frozen=True)
class BenchSize:
    """Rows and per-round work of one ``--size``.

    Attributes
    ----------
    n_train, n_test : int
        Rows kept (fewer when the data has fewer: the offline sample has 4,000 / 1,000).
    rounds : int
        Timed rounds per benchmark (the suite's ``--bench-rounds`` overrides).
        One at small, where one round of cpu + numpy already takes two to
        three minutes on a 2-core laptop.
    config : RunConfig
        The workflow options; forest and grid are smaller than the book's at
        small and medium so that those sizes stay quick.
    """

    n_train: int
    n_test: int
    rounds: int
    config: RunConfig


SIZES = {
    "small": BenchSize(6_000, 1_000, 1, RunConfig(n_estimators=20, grid_train_size=2_000)),
    "medium": BenchSize(20_000, 2_000, 3, RunConfig(n_estimators=50, grid_train_size=10_000)),
    "full": BenchSize(60_000, 10_000, 1, RunConfig()),
}


def bench_dir() -> Path:
    """The ``bench/`` folder of the source checkout gpuclf was imported from.

    Raises
    ------
    GpuclfError
        When gpuclf is installed without it (e.g. from a wheel).
    """
    folder = Path(__file__).resolve().parent.parent / "bench"
    if not (folder / "conftest.py").is_file():
        raise GpuclfError(f"the benchmark suite is not installed with gpuclf (no {folder}); "
                          "run gpuclf bench from a source checkout: git clone the project, pip install -e '.[bench]'")
    return folder


def _check_backends(backends) -> list:
    from .backends import _REGISTRY, available_backends

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


def _user_command(backends, size, data, out_dir, cuml_accel, cluster=None) -> str:
    parts = ["gpuclf", "bench"]
    if backends:
        parts += ["--backends", ",".join(backends)]
    parts += ["--size", size]
    if data:
        parts += ["--data", data]
    if out_dir != "bench-results":
        parts += ["--out", out_dir]
    if cuml_accel:
        parts.append("--cuml-accel")
    if cluster:
        parts += ["--cluster", cluster]
    return shlex.join(parts)


def run_benchmarks(backends=None, size: str = "small", data: str | None = None, out_dir: str = "bench-results",
                   cuml_accel: bool = False, cluster: str | None = None) -> str:
    """Run the benchmark suite and write its JSON, Markdown table and charts.

    Parameters
    ----------
    backends : list of str, optional
        Backends to time (default: every one available here).
    size : {"small", "medium", "full"}
        Up to 6,000 / 20,000 / 60,000 training rows (1,000 / 2,000 / 10,000
        test), fewer when the data holds fewer (:func:`size_label`).
    data : str, optional
        ``openml``, ``sample`` or a path to an ``.npz``; default
        ``$GPUCLF_MNIST`` when set, else the offline sample.
    out_dir : str
        Folder for the results; JSON already there from other sizes or
        backend lists is merged into the table.
    cuml_accel : bool
        Also time the book's plain scikit-learn code under
        ``python -m cuml.accel`` (when cuML imports; else one line says why).
    cluster : str, optional
        ``local`` or a scheduler address: time the backends on that Dask
        cluster, in columns ``<backend>@dask:<workers>`` beside the
        single-process runs already in ``out_dir``.

    Returns
    -------
    str
        Path of ``benchmarks.md``.

    Raises
    ------
    GpuclfError
        Unknown size or backend, unreadable data, no ``bench/`` folder, or a
        failing benchmark.
    """
    from .cluster import ENV_VAR as CLUSTER_ENV_VAR
    from .data import ENV_VAR, load_mnist
    from .results import check_writable

    if size not in SIZES:
        raise GpuclfError(f"unknown size {size!r}; choose one of {', '.join(SIZES)}")
    check_bench_installed()
    user_command = _user_command(backends, size, data, out_dir, cuml_accel, cluster)
    backends = _check_backends(backends)
    suite = bench_dir()
    source = data or os.environ.get(ENV_VAR) or "sample"
    full_data = load_mnist(source)  # fail here, with the loader's message, not inside pytest
    print(f"gpuclf: bench {size_label(size, full_data)}", file=sys.stderr, flush=True)
    check_writable(out_dir)
    out = Path(out_dir).resolve()
    run_json = out / f"benchmark-{size}-{'-'.join(backends)}{'-dask' if cluster else ''}.json"
    # Run from the checkout's root, so the recorded command reads as typed there.
    cmd = [sys.executable, "-m", "pytest", suite.name, "-p", "no:cacheprovider", "-o", "addopts=",
           "--rootdir", ".", "--bench-size", size, "--bench-backends", ",".join(backends),
           *(["--bench-data", data] if data else []), "--benchmark-json", str(run_json),
           "--benchmark-columns", "median,min,max,rounds", "--benchmark-sort", "name"]
    package_root = str(Path(__file__).resolve().parent.parent)
    env = {**{k: v for k, v in os.environ.items() if k != CLUSTER_ENV_VAR}, COMMAND_ENV_VAR: user_command,
           **({CLUSTER_ENV_VAR: cluster} if cluster else {}),
           "PYTHONPATH": os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)}
    print(f"gpuclf: {shlex.join(cmd)}", file=sys.stderr, flush=True)
    code = _run_child(cmd, cwd=suite.parent, env=env, stdout=_stderr_fd())
    if code != 0 or not run_json.is_file():
        raise GpuclfError(f"the benchmark suite failed (pytest exit code {code}); its output is above")
    shutil.copyfile(run_json, out / "benchmark.json")
    if cuml_accel:
        _run_cuml_accel(suite, full_data, size, out / f"cuml-accel-{size}.json", user_command, env)
    paths = sorted(glob.glob(str(out / RUN_GLOB))) + sorted(glob.glob(str(out / ACCEL_GLOB)))
    render_charts(paths, str(out))
    md = out / "benchmarks.md"
    md.write_text(render_markdown(paths))
    return str(md)


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


def size_label(size: str, data) -> str:
    """What ``--size`` will really run on ``data``: its rows, capped by the data's own.

    The offline sample holds 4,000 training and 1,000 test images, so ``small``
    (6,000 / 1,000) runs 4,000 / 1,000 on it, and says so.
    """
    bench = SIZES[size]
    n_train, n_test = min(bench.n_train, len(data.y_train)), min(bench.n_test, len(data.y_test))
    label = f"--size {size}: {n_train:,} training and {n_test:,} test rows of {data.source}"
    if (n_train, n_test) != (bench.n_train, bench.n_test):
        label += (f" (the data holds fewer than the size's {bench.n_train:,} / {bench.n_test:,}; "
                  "set GPUCLF_MNIST or --data for full MNIST)")
    return label


def _run_child(cmd, **kwargs) -> int:
    """Run ``cmd`` and return its exit code; Ctrl-C stops it quietly.

    The child runs in its own session, so a Ctrl-C at the terminal reaches
    only gpuclf, which ends the child (no second traceback from pytest) and
    lets the CLI print its one line.
    """
    child = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    try:
        return child.wait()
    except KeyboardInterrupt:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        raise


def _stderr_fd():
    """pytest's report goes to stderr: stdout carries only the returned path."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _run_cuml_accel(suite: Path, data, size: str, path: Path, command: str, env: dict) -> None:
    """Time ``bench/sklearn_book.py`` under ``python -m cuml.accel`` into ``path``.

    Without cuML the file records why, and the Markdown says so in one line.
    """
    from .backends.cuml_adapters import cuml_status
    from .environment import library_versions

    ok, reason = cuml_status()
    bench = SIZES[size]
    doc = {"gpuclf_cuml_accel": 1, "available": ok, "reason": reason, "size": size, "command": command,
           "datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(), "versions": library_versions()}
    if ok:
        from .backends import get_backend
        from .workflow import Context

        part = data.subsample(bench.n_train, bench.n_test)
        # The same SGD epoch cap as the cpu column's scikit-learn SGD, so the columns compare like with like.
        sgd_max_iter = Context(get_backend("cpu"), part, bench.config).sgd().get_params()["max_iter"]
        with tempfile.TemporaryDirectory() as tmp:
            npz, result = os.path.join(tmp, "data.npz"), os.path.join(tmp, "result.json")
            np.savez(npz, X_train=part.X_train, y_train=part.y_train, X_test=part.X_test, y_test=part.y_test)
            options = ["--rounds", str(bench.rounds), "--n-estimators", str(bench.config.n_estimators),
                       "--grid-train-size", str(bench.config.grid_train_size), "--sgd-max-iter", str(sgd_max_iter)]
            cmd = [sys.executable, "-m", "cuml.accel", str(suite / ACCEL_SCRIPT), npz, "--out", result, *options]
            print(f"gpuclf: {shlex.join(cmd)}", file=sys.stderr, flush=True)
            code = _run_child(cmd, env=env, stdout=_stderr_fd())
            if code != 0:
                raise GpuclfError(f"the cuml.accel benchmark failed (exit code {code}); its output is above")
            with open(result) as f:
                doc.update(json.load(f), data_source=part.source,
                           accel_command=shlex.join(["python", "-m", "cuml.accel", f"bench/{ACCEL_SCRIPT}",
                                                     "DATA.npz", "--out", "RESULT.json", *options]))
    path.write_text(json.dumps(doc, indent=1))


# -- reading the JSON ---------------------------------------------------------

def _load(paths) -> tuple[list, list, list]:
    """One record per (size, step, backend), the newest file winning; the runs; cuml.accel notes."""
    rows, runs, accel_notes = {}, [], []
    docs = []
    for p in paths:
        with open(p) as f:
            try:
                docs.append((json.load(f), os.path.basename(p)))
            except json.JSONDecodeError as exc:
                raise GpuclfError(f"{p} is not valid JSON ({exc}); delete it or run gpuclf bench again") from None
    docs.sort(key=lambda d: d[0].get("datetime", ""))
    for doc, name in docs:
        if doc.get("gpuclf_cuml_accel"):
            if not doc.get("available"):
                accel_notes.append(f"cuml.accel column skipped at {doc.get('size')}: {doc.get('reason')}")
                continue
            runs.append({"file": name, "accel": doc})
            for step, rec in doc.get("steps", {}).items():
                rows[(doc["size"], step, ACCEL)] = {
                    "size": doc["size"], "step": step, "backend": ACCEL, "median": rec["median"],
                    "rounds": len(rec["times"]), "warmup_rounds": doc.get("warmup_rounds", 0),
                    "figures": rec.get("figures", {}), "n_train": doc.get("n_train"),
                    "n_test": doc.get("n_test"), "notes": [], "host_peak_rss_bytes": None,
                    "device_peak_bytes": None, "data_source": doc.get("data_source")}
            continue
        if "benchmarks" not in doc:
            raise GpuclfError(f"{name} is neither pytest-benchmark JSON nor a cuml.accel result")
        runs.append({"file": name, "doc": doc})
        for b in doc["benchmarks"]:
            info = b.get("extra_info", {})
            if "step" not in info:
                continue
            rows[(info["size"], info["step"], info["backend"])] = {
                **info, "median": b["stats"]["median"], "rounds": b["stats"]["rounds"]}
    return list(rows.values()), runs, accel_notes


def _order(values, order) -> list:
    known = [v for v in order if v in values]
    return known + sorted(v for v in set(values) if v not in order)


def _sizes(rows) -> list:
    n = {}
    for r in rows:
        n[r["size"]] = max(n.get(r["size"], 0), r.get("n_train") or 0)
    return sorted(n, key=lambda s: (n[s], s))


def _backends(rows) -> list:
    return _order({r["backend"] for r in rows}, (*BACKEND_ORDER, ACCEL))


def _chart_names(rows) -> list:
    """File names of the charts the rows give: a speedup chart per size, scaling for 2+ sizes."""
    names = [f"speedup-{s}.png" for s in _sizes(rows)
             if any(r["backend"] == REFERENCE and r["size"] == s for r in rows)
             and any(r["backend"] != REFERENCE and r["size"] == s for r in rows)]
    return names + (["scaling.png"] if len(_sizes(rows)) > 1 else [])


# -- Markdown -----------------------------------------------------------------

def _seconds(x: float) -> str:
    return np.format_float_positional(x, precision=3, fractional=False, trim="-")


def _ratio(s: float) -> str:
    return f"{s:.0f}×" if s >= 100 else f"{s:.1f}×" if s >= 10 else f"{s:.2f}×"


def _figure(v) -> str:
    if isinstance(v, bool) or isinstance(v, str):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if v is None:
        return "–"
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"


def _mib(b) -> str:
    return "–" if b is None else f"{b / 2**20:,.0f}"


def _table(header: list, rows: list, right: int = 1) -> list:
    """Markdown table; columns from ``right`` on are right-aligned."""
    align = ["---" if i < right else "--:" for i in range(len(header))]
    return ["| " + " | ".join(line) + " |" for line in (header, align, *rows)]


def render_markdown(json_paths) -> str:
    """The benchmark report as Markdown, computed from JSON files only.

    Parameters
    ----------
    json_paths : sequence of str
        pytest-benchmark JSON written by the ``bench/`` suite and, optionally,
        ``cuml-accel-*.json`` from :func:`run_benchmarks`. Several sizes or
        backend lists merge; for a repeated (size, step, backend) the newest
        file wins.

    Returns
    -------
    str
        Per size: median seconds per step and backend, speedup against
        ``cpu``, the steps' result figures side by side and peak memory;
        then the devices, library versions and commands of each run.

    See Also
    --------
    run_benchmarks : runs the suite and writes this next to the JSON.
    """
    rows, runs, accel_notes = _load(json_paths)
    if not rows and not accel_notes:
        raise GpuclfError("no gpuclf benchmark results in " + ", ".join(map(str, json_paths)))
    out = ["# gpuclf benchmarks", "",
           "Generated by `gpuclf.benchmarks.render_markdown` from "
           + ", ".join(f"`{r['file']}`" for r in runs) + "; the numbers are not edited by hand.", "",
           "Each time is the median wall-clock seconds of one step run as `gpuclf run` runs it: data already "
           "on the backend's device, every cached intermediate cleared before each round, and the device "
           "synchronised before the clock stops. Device backends get one untimed warm-up round first (CUDA "
           "context and kernel compilation are paid once per process); CPU backends have no such cost and "
           f"none. Speedup = {REFERENCE} median / backend median (above 1: faster than scikit-learn on the CPU).",
           ""]
    sweep = [r for r in rows if r["step"].startswith(SWEEP_PREFIX)]
    rows = [r for r in rows if not r["step"].startswith(SWEEP_PREFIX)]
    for size in _sizes(rows):
        out += _size_section(size, [r for r in rows if r["size"] == size])
    out += _sweep_section(sweep)
    out += [*(f"{n}." for n in accel_notes), *([""] if accel_notes else [])]
    charts = _chart_names(rows)
    if charts:
        out += ["`gpuclf bench` draws these charts next to its `benchmarks.md`: "
                + ", ".join(f"`{c}`" for c in charts) + ".", ""]
    out += ["## Environment", ""]
    for run in runs:
        out += _environment(run)
    return "\n".join(out).rstrip() + "\n"


def _sweep_section(rows: list) -> list:
    """The SGD size sweep: per model and training rows, seconds, CV accuracy and score scale per backend."""
    if not rows:
        return []
    from .sgd_sweep import scale_factor

    backends = _backends(rows)
    at = {(r["step"], r["backend"]): r for r in rows}
    points = sorted({r["step"] for r in rows}, key=lambda st: (st.split(":")[1], int(st.split(":")[2])))
    scaled = [b for b in backends if b != REFERENCE] if REFERENCE in backends else []
    header = ["Model", "Rows", *(f"{b} (s)" for b in backends), *(f"{b} accuracy" for b in backends),
              *(f"{b} AUC" for b in backends), *(f"{b} score scale vs {REFERENCE}" for b in scaled)]
    body = []
    for step in points:
        _, task, n = step.split(":")
        cells = [task, f"{int(n):,}"]
        figures = {b: at[step, b]["figures"] if (step, b) in at else {} for b in backends}
        cells += [_seconds(at[step, b]["median"]) if (step, b) in at else "–" for b in backends]
        cells += [_figure(figures[b].get("accuracy")) for b in backends]
        cells += [_figure(figures[b].get("auc")) for b in backends]
        for b in scaled:
            factor = scale_factor(figures[b], figures[REFERENCE], "median_abs_score")
            cells.append("–" if not factor else _ratio(factor))
        body.append(cells)
    return ["## SGD size sweep", "",
            "3-fold CV of the chapter's two SGD models on the first rows: the 5-detector on raw pixels and the "
            "10-class model on standardised pixels. Accuracy is out of fold; score scale is the median "
            f"|decision score| over {REFERENCE}'s (scikit-learn's) at the same rows.", "",
            *_table(header, body, right=1), ""]


def _size_section(size: str, rows: list) -> list:
    steps = _order({r["step"] for r in rows}, STEP_ORDER)
    backends = _backends(rows)
    at = {(r["step"], r["backend"]): r for r in rows}
    first = rows[0]
    n_train = max(r.get("n_train") or 0 for r in rows)
    n_test = max(r.get("n_test") or 0 for r in rows)
    out = [f"## {size}: {n_train:,} training rows, {n_test:,} test rows", "",
           f"Data `{first.get('data_source')}`. Rounds: {', '.join(_rounds(rows, b) for b in backends)}.", ""]
    compared = [b for b in backends if b != REFERENCE] if REFERENCE in backends else []
    header = ["Step", *(f"{b} (s)" for b in backends), *(f"{b} vs {REFERENCE}" for b in compared)]
    body = []
    for step in steps:
        cells = [step]
        cells += [_seconds(at[step, b]["median"]) if (step, b) in at else "–" for b in backends]
        for b in compared:
            ok = (step, b) in at and (step, REFERENCE) in at
            cells.append(_ratio(at[step, REFERENCE]["median"] / at[step, b]["median"]) if ok else "–")
        body.append(cells)
    out += _table(header, body) + [""]

    out += ["### Result figures", ""]
    body = []
    for step in steps:
        names = list(dict.fromkeys(k for b in backends if (step, b) in at for k in at[step, b]["figures"]))
        for name in names:
            body.append([step, name, *(_figure(at[step, b]["figures"].get(name)) if (step, b) in at else "–"
                                       for b in backends)])
    out += _table(["Step", "Figure", *backends], body, right=2) + [""]

    measured = [b for b in backends if any(at.get((s, b), {}).get("host_peak_rss_bytes") for s in steps)]
    devices = [b for b in backends if any(at.get((s, b), {}).get("device_peak_bytes") for s in steps)]
    if measured or devices:
        out += ["### Peak memory (MiB)", "",
                "Host: the process's resident-set high-water mark during the last round (it includes the "
                "data and libraries loaded before). Device: the memory pool's high-water mark.", ""]
        header = ["Step", *(f"{b} host" for b in measured), *(f"{b} device" for b in devices)]
        body = [[s, *(_mib(at.get((s, b), {}).get("host_peak_rss_bytes")) for b in measured),
                 *(_mib(at.get((s, b), {}).get("device_peak_bytes")) for b in devices)] for s in steps]
        out += _table(header, body) + [""]
    out += _estimators_table(rows, backends)
    notes = sorted({f"{r['step']}: {n}" for r in rows for n in r.get("notes", [])})
    if notes:
        out += ["Differences from the book: " + "; ".join(notes) + ".", ""]
    return out


def _rounds(rows: list, backend: str) -> str:
    mine = [r for r in rows if r["backend"] == backend]
    warmup = max(r.get("warmup_rounds") or 0 for r in mine)
    return f"{backend} {max(r['rounds'] for r in mine)}" + (f" (+{warmup} warm-up)" if warmup else "")


def _estimators_table(rows: list, backends: list) -> list:
    """Which library and class ran each estimator role, per backend (with epochs / tolerance)."""
    from .backends import ROLES

    seen = {}
    for r in rows:
        for role, info in r.get("estimators", {}).items():
            seen.setdefault((role, r["backend"]), info)
    roles = _order({role for role, _ in seen}, ROLES)
    if not roles:
        return []

    def cell(info):
        if info is None:
            return "–"
        params = ", ".join(f"{k}={v}" for k, v in info.get("params", {}).items())
        return f"{info['library']} {info['class']}" + (f" ({params})" if params else "")

    body = [[role, *(cell(seen.get((role, b))) for b in backends)] for role in roles]
    return ["### Estimators", ""] + _table(["Role", *backends], body, right=len(backends) + 1) + [""]


def _environment(run: dict) -> list:
    if "accel" in run:
        doc = run["accel"]
        return [f"`{run['file']}` ({doc.get('datetime', '')[:19]}): the book's scikit-learn code under "
                f"`python -m cuml.accel` ({doc.get('reason')}).", "",
                f"- Command: `{doc.get('command')}`", f"- Script: `{doc.get('accel_command')}`",
                "- Versions: " + _versions(doc.get("versions", {})), ""]
    doc = run["doc"]
    info, machine = doc.get("gpuclf", {}), doc.get("machine_info", {})
    cpu = machine.get("cpu", {})
    lines = [f"`{run['file']}` ({doc.get('datetime', '')[:19]}, size {info.get('size')}):", "",
             f"- Command: `{info.get('command')}`"]
    if info.get("pytest_command") != info.get("command"):
        lines.append(f"- pytest: `{info.get('pytest_command')}`")
    load = info.get("load_average")
    lines.append(f"- Machine: {cpu.get('brand_raw') or machine.get('processor') or machine.get('machine')}, "
                 f"{cpu.get('count', '?')} logical CPUs; Python {machine.get('python_version')}"
                 + (f"; load average {load:.1f} at the end of the run" if load is not None else ""))
    for name, desc in info.get("backends", {}).items():
        extra = ", ".join(f"{k} {desc[k]}" for k in ("cuda_driver", "cuda_runtime", "cupy", "cuml", "n_jobs")
                          if desc.get(k) is not None)
        lines.append(f"- Backend {name}: {desc.get('device')}" + (f" ({extra})" if extra else ""))
    lines += ["- Versions: " + _versions(info.get("versions", {})), ""]
    return lines


def _versions(v: dict) -> str:
    keys = ("numpy", "scipy", "scikit-learn", "cupy", "cuml", "gpuclf", "platform")
    return ", ".join(f"{k} {v.get(k) or 'not installed'}" for k in keys if k in v)


# -- charts -------------------------------------------------------------------

def render_charts(json_paths, out_dir: str) -> list:
    """Draw the PNG charts into ``out_dir``; return their paths.

    ``speedup-<size>.png``: per step, each backend's speedup against ``cpu``
    on a log axis. ``scaling.png`` (two or more sizes): median seconds
    against training rows, one panel per backend, log-log.
    """
    rows, _, _ = _load(json_paths)
    rows = [r for r in rows if not r["step"].startswith(SWEEP_PREFIX)]  # the sweep is a table of its own
    paths = []
    for name in _chart_names(rows):
        path = os.path.join(out_dir, name)
        if name == "scaling.png":
            _scaling_chart(rows, path)
        else:
            size = name.removeprefix("speedup-").removesuffix(".png")
            _speedup_chart([r for r in rows if r["size"] == size], size, path)
        paths.append(path)
    return paths


def _figure_canvas(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _log_axis(axis, unit: str, lo: float, hi: float) -> None:
    """Log axis with plain labels (``0.5×``, ``20 s``, ``6k``), not powers of ten.

    Ticks at 1-2-5 steps over up to three decades, at powers of ten beyond,
    so that labels never overlap.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    def label(v, _):
        if unit == "k":
            return f"{v / 1000:g}k" if v >= 1000 else f"{v:g}"
        return f"{v:g}{unit}"

    subs = (1.0, 2.0, 5.0) if hi / lo <= 1e3 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_formatter(NullFormatter())


def _speedup_chart(rows: list, size: str, path: str) -> None:
    at = {(r["step"], r["backend"]): r["median"] for r in rows}
    steps = [s for s in _order({r["step"] for r in rows}, STEP_ORDER) if (s, REFERENCE) in at]
    compared = [b for b in _backends(rows) if b != REFERENCE]
    fig = _figure_canvas(8.5, max(3.0, 1.3 + 0.4 * len(steps) * max(1, len(compared)) ** 0.5))
    ax = fig.add_subplot()
    height = 0.8 / len(compared)
    y = np.arange(len(steps))
    ratios = []
    for i, b in enumerate(compared):
        vals = [at[s, REFERENCE] / at[s, b] if (s, b) in at else np.nan for s in steps]
        ratios += [v for v in vals if v == v]
        pos = y - 0.4 + height * (i + 0.5)
        bars = ax.barh(pos, vals, height=height * 0.92, label=b, color=f"C{i}")
        ax.bar_label(bars, labels=["" if v != v else _ratio(v) for v in vals], padding=3, fontsize=9,
                     bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    ax.set_xscale("log")
    lo, hi = min(ratios + [1.0]) / 2, max(ratios + [1.0]) * 3
    ax.set_xlim(lo, hi)
    _log_axis(ax.xaxis, "×", lo, hi)
    ax.axvline(1.0, color="0.3", lw=1, ls="--")
    ax.set_yticks(y, steps)
    ax.invert_yaxis()
    ax.set_xlabel(f"speedup = {REFERENCE} median time / backend median time (log scale; dashed: same speed)")
    n = max(r.get("n_train") or 0 for r in rows)
    ax.set_title(f"gpuclf bench, size {size} ({n:,} training rows)")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.savefig(path)


def _scaling_chart(rows: list, path: str) -> None:
    backends = _backends(rows)
    steps = _order({r["step"] for r in rows}, STEP_ORDER)
    ncols = min(2, len(backends))
    nrows = -(-len(backends) // ncols)
    fig = _figure_canvas(4.8 * ncols + 2.6, 4.2 * nrows)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    seconds = [r["median"] for r in rows]
    n_train = sorted({r["n_train"] for r in rows})
    for ax in axes[len(backends):]:
        ax.set_visible(False)
    for ax, b in zip(axes, backends):
        for i, s in enumerate(steps):
            pts = sorted((r["n_train"], r["median"]) for r in rows if r["backend"] == b and r["step"] == s)
            if pts:
                ax.plot(*zip(*pts), marker="o", color=f"C{i % 10}", ls="-" if i < 10 else "--", label=s)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _log_axis(ax.xaxis, "k", n_train[0], n_train[-1])
        ax.set_xticks(n_train)  # the measured sizes, e.g. 6k 20k 60k
        _log_axis(ax.yaxis, " s", min(seconds), max(seconds))
        ax.set_title(b)
        ax.grid(which="both", alpha=0.3)
    for ax in axes[-ncols:]:
        ax.set_xlabel("training rows")
    for ax in axes[::ncols]:
        ax.set_ylabel("median seconds")
    handles, labels = axes[0].get_legend_handles_labels()
    for ax in axes[1:len(backends)]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="outside right center", fontsize=8)
    fig.savefig(path)
