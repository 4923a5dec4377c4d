"""pytest-benchmark setup: sizes, backends, data moved once, rounds interleaved across backends.

Options
-------
``--bench-size small|medium|full|ROWS``
    6,000 / 20,000 / 60,000 training rows and 1,000 / 2,000 / 10,000 test
    rows (fewer when the data has fewer: the offline sample has 4,000 / 1,000),
    or a sweep point: ROWS training rows and a sixth as many test rows
    (``gpuclf.benchmarks.sizes``).
``--bench-backends cpu,gpu``
    Keep only these of ``gpuclf.available_backends()`` (default: all of them).
``--bench-data openml|sample|PATH.npz``
    Default ``$GPUCLF_MNIST`` when set, else the offline sample.
``--bench-rounds N`` or ``--bench-rounds cpu=3,numpy=1``
    Timed rounds per benchmark, for every backend or per backend (default 3).

Rounds: every benchmark is one test per backend and round
(``test_denoise[cpu-round2]``), and the tests run round by round: round 1
of every benchmark on each backend in turn, then round 2, ... So A and B
alternate (A B A B), and load on a shared machine hits them alike. Each
round's figures must equal the first round's (seeds are fixed), or the test
fails. The JSON then holds one entry per benchmark and backend with all its
rounds (``gpuclf.benchmarks.stats.merge_rounds``). The machine's limits
(``test_bench_peak.py``) are measured at the start of every round, before
its steps, so that their best round and the steps' rounds see the same
spells of load.

Warm-up policy: on a device backend (``backend.xp`` is not NumPy, i.e. the
GPU) one untimed warm-up round runs before the first timed one, because the
first call pays for the CUDA context, cuBLAS handles and kernel
compilation, which a user pays once per process, not once per step. On the
CPU backends there is no such cost, so no warm-up round is run.
"""
from __future__ import annotations

import gc
import itertools
import os
import shlex

import numpy as np
import pytest

from gpuclf.backends import available_backends, backend_names, get_backend
from gpuclf.benchmarks import COMMAND_ENV_VAR, DEFAULT_ROUNDS, bench_size, registry
from gpuclf.benchmarks.machine import fingerprint
from gpuclf.benchmarks.peaks import array_library, compute_dtype
from gpuclf.benchmarks.sizes import config_notes
from gpuclf.benchmarks.stats import check_same_figures, merge_rounds, round_id
from gpuclf.data import ENV_VAR as DATA_ENV_VAR
from gpuclf.data import load_mnist
from gpuclf.run.environment import library_versions
from gpuclf.errors import GpuclfError
from gpuclf.run.memory import peak_rss_bytes, reset_peak_rss
from gpuclf.run.runner import describe_cluster
from gpuclf.chapter import Context, STEP_ROLES

# Estimator parameters shown beside the library, where backends' estimators differ in how long they train.
ESTIMATOR_PARAMS = ("max_iter", "tol", "batch_size")
_SESSION = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("gpuclf benchmarks")
    group.addoption("--bench-size", default="small",
                    help="training/test rows: small 6k/1k, medium 20k/2k, full 60k/10k, or a number of training rows")
    group.addoption("--bench-backends", default=None,
                    help="comma-separated backends to time (default: every available one)")
    group.addoption("--bench-data", default=None,
                    help=f"openml, sample or PATH.npz (default: ${DATA_ENV_VAR}, else sample)")
    group.addoption("--bench-rounds", default=None,
                    help=f"timed rounds per benchmark: N, or per backend cpu=3,numpy=1 (default {DEFAULT_ROUNDS})")


def _rounds(text: str | None, names: list) -> dict:
    """``{backend: rounds}`` from ``--bench-rounds``."""
    if text is None:
        return dict.fromkeys(names, DEFAULT_ROUNDS)
    try:
        if "=" not in text:
            out = dict.fromkeys(names, int(text))
        else:
            out = {k.strip(): int(v) for k, v in (part.split("=") for part in text.split(",") if part.strip())}
    except ValueError:
        raise pytest.UsageError(f"--bench-rounds must be N or backend=N,..., got {text!r}") from None
    bad = {k: v for k, v in out.items() if v < 1 or k not in names}
    if bad:
        raise pytest.UsageError(f"--bench-rounds: each of {', '.join(names)} needs at least 1 round, got {text!r}")
    return {n: out.get(n, DEFAULT_ROUNDS) for n in names}


def pytest_configure(config):
    text = config.getoption("--bench-backends")
    names = [n.strip() for n in text.split(",") if n.strip()] if text else available_backends()
    unknown = [n for n in names if n not in backend_names()]
    if unknown:
        raise pytest.UsageError(f"--bench-backends: unknown backend(s) {', '.join(unknown)}; "
                                f"choose from {', '.join(backend_names())}")
    try:
        bench_size(config.getoption("--bench-size"))
    except GpuclfError as exc:
        raise pytest.UsageError(f"--bench-size: {exc}") from None
    names = list(dict.fromkeys(names))
    config.stash[_SESSION] = {"backends": {}, "requested": names,
                              "rounds": _rounds(config.getoption("--bench-rounds"), names),
                              "load_average_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
                              "figures": {}, "sequence": itertools.count(1)}


def _libraries(names: list) -> list:
    """Array libraries of the backends: NumPy for cpu and numpy, CuPy for gpu (limits measured once each)."""
    return list(dict.fromkeys("cupy" if n == "gpu" else "numpy" for n in names))


def pytest_generate_tests(metafunc):
    session = metafunc.config.stash[_SESSION]
    rounds = session["rounds"]
    if "backend_name" in metafunc.fixturenames:
        available = available_backends()
        params = []
        for r in range(1, max(rounds.values()) + 1):
            for name in session["requested"]:
                if r > rounds[name]:
                    continue
                marks = () if name in available else pytest.mark.skip(reason=f"backend {name} is not available here")
                params.append(pytest.param(name, r, marks=marks, id=f"{name}-{round_id(r)}"))
        metafunc.parametrize(("backend_name", "bench_round"), params)
    elif "library" in metafunc.fixturenames:
        libs = _libraries(session["requested"])
        params = [pytest.param(lib, r, id=f"{lib}-{round_id(r)}") for r in range(1, max(rounds.values()) + 1)
                  for lib in libs]
        metafunc.parametrize(("library", "bench_round"), params)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Round by round: in each, the machine's limits, then every benchmark on each backend in turn."""
    def key(pair):
        i, item = pair
        params = getattr(item, "callspec", None)
        r = params.params.get("bench_round", 1) if params else 1
        return (r, "library" not in item.fixturenames, i)

    items[:] = [item for _, item in sorted(enumerate(items), key=key)]


@pytest.fixture(scope="session")
def bench_size_spec(request):
    name = request.config.getoption("--bench-size")
    return name, bench_size(name)


@pytest.fixture(scope="session")
def bench_data(request, bench_size_spec):
    """MNIST loaded once per session and cut to the size's rows (host, uint8)."""
    name, size = bench_size_spec
    source = request.config.getoption("--bench-data") or os.environ.get(DATA_ENV_VAR) or "sample"
    try:
        data = load_mnist(source).subsample(size.n_train, size.n_test)
    except GpuclfError as exc:
        pytest.exit(f"gpuclf: error: {exc}", returncode=4)
    config = {k: v for k, v in size.config.to_dict().items() if k != "steps"}
    request.config.stash[_SESSION].update(size=name, data_source=data.source, n_train=int(len(data.y_train)),
                                          n_test=int(len(data.y_test)), data_fingerprint=data.fingerprint(),
                                          config=config)
    return data


@pytest.fixture(scope="session")
def dask_client():
    """The Dask cluster of ``gpuclf bench --cluster`` ($GPUCLF_CLUSTER), or None; closed at the end."""
    from gpuclf.run.options import cluster_option

    spec = cluster_option(None)
    if spec is None:
        yield None
        return
    from gpuclf.run.cluster import connect, joblib_on

    with connect(spec, "cpu") as client, joblib_on(client):
        yield client


@pytest.fixture(scope="session")
def contexts(request, dask_client, bench_data, bench_size_spec):
    """Each backend built once per session, with a Context whose data is already on its device.

    Every backend stays alive for the whole session, so that the rounds can
    alternate between them. On a cluster a backend's column is labelled
    ``<name>@dask:<workers>`` (``cpu@dask:2``).
    """
    built = {}

    def get(name: str) -> Context:
        if name not in built:
            b = get_backend(name)
            b.bench_label = b.name
            if dask_client is not None:
                b.use_cluster(dask_client)
                b.bench_label = f"{b.name}@dask:{len(dask_client.scheduler_info()['workers'])}"
            request.config.stash[_SESSION]["backends"][b.bench_label] = {
                **b.describe(), "warmup_rounds": _warmup_rounds(b),
                **({"cluster": describe_cluster(dask_client)} if dask_client is not None else {})}
            ctx = Context(b, bench_data, bench_size_spec[1].config)
            ctx.move_data()
            built[name] = ctx
        return built[name]

    return get


def _warmup_rounds(backend) -> int:
    return 0 if backend.xp is np else 1


@pytest.fixture
def prepared(contexts, backend_name) -> Context:
    return contexts(backend_name)


@pytest.fixture
def backend(prepared):
    return prepared.backend


class Bench:
    """Times one round of one step on a prepared Context, the way ``gpuclf run`` runs it."""

    def __init__(self, benchmark, ctx: Context, size_name: str, bench_round: int, session: dict):
        self.benchmark, self.ctx, self.size_name, self.round, self.session = (
            benchmark, ctx, size_name, bench_round, session)
        self.backend = ctx.backend

    def _fresh(self) -> None:
        # Clear what earlier rounds or steps memoised (CV scores, scaled data) so
        # every round does the step's full work; keep the data already on the device.
        self.ctx.forget_work()
        gc.collect()
        self.backend.reset_peak_memory()
        reset_peak_rss()

    def run(self, step: str, fn, figures, notes=(), roles=None, figure_roles=None) -> dict:
        """Time one round of ``fn(ctx)`` (synchronised); record ``figures(result)`` and the GEMM FLOPs.

        Parameters
        ----------
        step : str
            The label in the tables (a step id, or ``step:part``), registered
            in ``gpuclf.benchmarks.registry``.
        fn : callable
            ``fn(ctx) -> dict``, a step from ``gpuclf.chapter.STEPS`` or a part of one.
        figures : callable
            ``figures(result) -> dict`` of the few scalar figures shown side by
            side; every round must give the same.
        notes : sequence of str
            How this benchmark differs from the book (smaller forest, grid...).
        roles : sequence of str, optional
            Estimator roles the step uses (default ``STEP_ROLES[step]``); which
            library runs each, and its epochs/tolerance, go into extra_info.
        figure_roles : dict, optional
            ``{figure: role}`` for figures that come from one estimator: where
            that estimator is not bit-reproducible on this backend
            (``Backend.reproducible``), the figure is round 1's and unchecked.
        """
        ctx, backend = self.ctx, self.backend

        def target():
            out = fn(ctx)
            backend.synchronize()
            return out

        warmup = _warmup_rounds(backend) if self.round == 1 else 0
        roles = STEP_ROLES.get(step, ()) if roles is None else roles
        if "sgd" in roles and backend.placement("sgd").library == "scikit-learn":
            notes = [*notes, *self.config_notes("sklearn_sgd_max_iter")]
        entry = registry.entry_for(step)
        self.benchmark.group = step
        sequence = next(self.session["sequence"])
        result = self.benchmark.pedantic(target, setup=self._fresh, rounds=1, warmup_rounds=warmup, iterations=1)
        shown = {k: _scalar(v) for k, v in figures(result).items()}
        label = f"{step} on {backend.bench_label}"
        first = self.session["figures"].setdefault(label, shown)
        unchecked = sorted(k for k, role in (figure_roles or {}).items() if not backend.reproducible(role))
        check_same_figures(label, first, shown, self.round, unchecked)
        gemm_flops = entry.flops(ctx) if entry is not None and entry.flops is not None else None
        self.benchmark.extra_info.update(
            step=step, backend=backend.bench_label, size=self.size_name, n_train=int(len(ctx.data.y_train)),
            n_test=int(len(ctx.data.y_test)), data_source=ctx.data.source, warmup_rounds=_warmup_rounds(backend),
            figures=shown, figures_unchecked=unchecked, notes=list(notes), host_peak_rss_bytes=peak_rss_bytes(),
            device_peak_bytes=backend.peak_memory_bytes(), round=self.round, sequence=sequence,
            gemm_flops=gemm_flops, gemm_dtype=compute_dtype(backend), array_library=array_library(backend),
            estimators={role: self._estimator_info(role) for role in roles})
        return result

    def _estimator_info(self, role: str) -> dict:
        # SGD differs most: scikit-learn's runs per-sample epochs until `tol`, gpuclf's a fixed few mini-batch
        # epochs; ctx.sgd() is the one the steps use (with the workflow's epoch cap on scikit-learn).
        est = self.ctx.sgd() if role == "sgd" else self.backend.estimator(role)
        params = {k: v for k, v in est.get_params().items() if k in ESTIMATOR_PARAMS}
        return {**self.backend.placement(role).to_dict(), "class": type(est).__name__, "params": params}

    def config_notes(self, *fields: str) -> list:
        """``name=value (book: value)`` for each of ``fields`` that differs from the book."""
        return config_notes(self.ctx.config, fields)


def _scalar(v):
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    return float(v)


@pytest.fixture
def bench(request, benchmark, prepared, bench_size_spec, bench_round) -> Bench:
    return Bench(benchmark, prepared, bench_size_spec[0], bench_round, request.config.stash[_SESSION])


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """One entry per benchmark with all its rounds, and what the report needs: size, data, machine, commands."""
    session = config.stash[_SESSION]
    output_json["benchmarks"] = merge_rounds(output_json["benchmarks"])
    pytest_command = shlex.join(["python", "-m", "pytest", *config.invocation_params.args])
    # Other work on the machine slows every backend; the load average says how much there was.
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    keep = ("backends", "requested", "rounds", "size", "data_source", "n_train", "n_test", "data_fingerprint",
            "config", "load_average_start")
    output_json["gpuclf"] = {**{k: session[k] for k in keep if k in session}, "versions": library_versions(),
                             "machine": fingerprint(session["backends"]), "pytest_command": pytest_command,
                             "command": os.environ.get(COMMAND_ENV_VAR) or pytest_command, "load_average": load}
