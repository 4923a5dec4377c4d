"""pytest-benchmark setup: sizes, backends, data moved once, one step timed per test.

Options
-------
``--bench-size small|medium|full``
    6,000 / 20,000 / 60,000 training rows and 1,000 / 2,000 / 10,000 test
    rows (fewer when the data has fewer: the offline sample has 4,000 / 1,000);
    the rows, rounds and forest/grid sizes are ``gpuclf.benchmarks.SIZES``.
``--bench-backends cpu,gpu``
    Keep only these of ``gpuclf.available_backends()`` (default: all of them).
``--bench-data openml|sample|PATH.npz``
    Default ``$GPUCLF_MNIST`` when set, else the offline sample.
``--bench-rounds N``
    Timed rounds per benchmark (default: 1 at small and full, 3 at medium).

Warm-up policy: on a device backend (``backend.xp`` is not NumPy, i.e. the
GPU) one untimed warm-up round runs first, because the first call pays for
the CUDA context, cuBLAS handles and kernel compilation, which a user pays
once per process, not once per step. On the CPU backends there is no such
cost, so no warm-up round is run and every round is timed.
"""
from __future__ import annotations

import gc
import os
import shlex
from dataclasses import replace

import numpy as np
import pytest

from gpuclf.backends import available_backends, backend_names, get_backend
from gpuclf.benchmarks import COMMAND_ENV_VAR, SIZES, BenchSize
from gpuclf.data import ENV_VAR as DATA_ENV_VAR
from gpuclf.data import load_mnist
from gpuclf.environment import library_versions
from gpuclf.errors import GpuclfError
from gpuclf.memory import peak_rss_bytes, reset_peak_rss
from gpuclf.runner import describe_cluster
from gpuclf.workflow import STEP_ROLES, Context, RunConfig

BOOK = RunConfig()
# What a run moves to the device once; everything else in ctx._memo is a step's work.
DATA_KEYS = ("X_train", "X_test", "y_train", "y_test", "y_train_positive")
# Estimator parameters shown beside the library, where backends' estimators differ in how long they train.
ESTIMATOR_PARAMS = ("max_iter", "tol", "batch_size")
_SESSION = pytest.StashKey[dict]()


def pytest_addoption(parser):
    group = parser.getgroup("gpuclf benchmarks")
    group.addoption("--bench-size", choices=tuple(SIZES), default="small",
                    help="training/test rows: small 6k/1k, medium 20k/2k, full 60k/10k")
    group.addoption("--bench-backends", default=None,
                    help="comma-separated backends to time (default: every available one)")
    group.addoption("--bench-data", default=None,
                    help=f"openml, sample or PATH.npz (default: ${DATA_ENV_VAR}, else sample)")
    group.addoption("--bench-rounds", type=int, default=None, help="timed rounds per benchmark")


def pytest_configure(config):
    rounds = config.getoption("--bench-rounds")
    if rounds is not None and rounds < 1:
        raise pytest.UsageError(f"--bench-rounds must be at least 1, got {rounds}")
    text = config.getoption("--bench-backends")
    names = [n.strip() for n in text.split(",") if n.strip()] if text else available_backends()
    unknown = [n for n in names if n not in backend_names()]
    if unknown:
        raise pytest.UsageError(f"--bench-backends: unknown backend(s) {', '.join(unknown)}; "
                                f"choose from {', '.join(backend_names())}")
    config.stash[_SESSION] = {"backends": {}, "requested": list(dict.fromkeys(names))}


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        available = available_backends()
        params = [name if name in available else
                  pytest.param(name, marks=pytest.mark.skip(reason=f"backend {name} is not available here"))
                  for name in metafunc.config.stash[_SESSION]["requested"]]
        metafunc.parametrize("backend", params, indirect=True, scope="session")


@pytest.fixture(scope="session")
def bench_size(request) -> tuple[str, BenchSize]:
    name = request.config.getoption("--bench-size")
    size = SIZES[name]
    rounds = request.config.getoption("--bench-rounds")
    return name, (size if rounds is None else replace(size, rounds=rounds))


@pytest.fixture(scope="session")
def bench_data(request, bench_size):
    """MNIST loaded once per session and cut to the size's rows (host, uint8)."""
    name, size = bench_size
    source = request.config.getoption("--bench-data") or os.environ.get(DATA_ENV_VAR) or "sample"
    try:
        data = load_mnist(source).subsample(size.n_train, size.n_test)
    except GpuclfError as exc:
        pytest.exit(f"gpuclf: error: {exc}", returncode=4)
    request.config.stash[_SESSION].update(size=name, data_source=data.source, n_train=int(len(data.y_train)),
                                          n_test=int(len(data.y_test)), rounds=size.rounds)
    return data


@pytest.fixture(scope="session")
def dask_client():
    """The Dask cluster of ``gpuclf bench --cluster`` ($GPUCLF_CLUSTER), or None; closed at the end."""
    from gpuclf.options import cluster_option

    spec = cluster_option(None)
    if spec is None:
        yield None
        return
    from gpuclf.cluster import connect, joblib_on

    with connect(spec, "cpu") as client, joblib_on(client):
        yield client


@pytest.fixture(scope="session")
def backend(request, dask_client):
    """The backend named by the parameter, built once per session (on the cluster with ``--cluster``).

    On a cluster its column is labelled ``<name>@dask:<workers>`` (``cpu@dask:2``), beside the
    single-process columns of earlier runs into the same folder.
    """
    b = get_backend(request.param)
    b.bench_label = b.name
    if dask_client is not None:
        b.use_cluster(dask_client)
        b.bench_label = f"{b.name}@dask:{len(dask_client.scheduler_info()['workers'])}"
    request.config.stash[_SESSION]["backends"][b.bench_label] = {
        **b.describe(), "warmup_rounds": _warmup_rounds(b),
        **({"cluster": describe_cluster(dask_client)} if dask_client is not None else {})}
    return b


def _warmup_rounds(backend) -> int:
    return 0 if backend.xp is np else 1


@pytest.fixture(scope="session")
def prepared(backend, bench_data, bench_size):
    """A Context whose data is already on the backend's device (moved once per session)."""
    ctx = Context(backend, bench_data, bench_size[1].config)
    for key in DATA_KEYS:
        getattr(ctx, key)
    backend.synchronize()
    return ctx


class Bench:
    """Times one step on a prepared Context the way ``gpuclf run`` runs it."""

    def __init__(self, benchmark, ctx: Context, size_name: str, size: BenchSize):
        self.benchmark, self.ctx, self.size_name, self.size = benchmark, ctx, size_name, size
        self.backend = ctx.backend

    def _fresh(self) -> None:
        # Clear what earlier rounds or steps memoised (CV scores, scaled data) so
        # every round does the step's full work; keep the data already on the device.
        ctx = self.ctx
        for key in [k for k in ctx._memo if k not in DATA_KEYS]:
            del ctx._memo[key]
        ctx.arrays, ctx.results = {}, {}
        gc.collect()
        self.backend.reset_peak_memory()
        reset_peak_rss()

    def run(self, step: str, fn, figures, notes=(), roles=None) -> dict:
        """Time ``fn(ctx)`` (synchronised) and record ``figures(result)`` in extra_info.

        Parameters
        ----------
        step : str
            The label in the tables (a step id, or ``step:part``).
        fn : callable
            ``fn(ctx) -> dict``, a step from ``gpuclf.workflow.STEPS`` or a part of one.
        figures : callable
            ``figures(result) -> dict`` of the few scalar figures shown side by side.
        notes : sequence of str
            How this benchmark differs from the book (smaller forest, grid...).
        roles : sequence of str, optional
            Estimator roles the step uses (default ``STEP_ROLES[step]``); which
            library runs each, and its epochs/tolerance, go into extra_info.
        """
        ctx, backend = self.ctx, self.backend

        def target():
            out = fn(ctx)
            backend.synchronize()
            return out

        warmup = _warmup_rounds(backend)
        roles = STEP_ROLES.get(step, ()) if roles is None else roles
        self.benchmark.group = step
        result = self.benchmark.pedantic(target, setup=self._fresh, rounds=self.size.rounds,
                                         warmup_rounds=warmup, iterations=1)
        self.benchmark.extra_info.update(
            step=step, backend=backend.bench_label, size=self.size_name, n_train=int(len(ctx.data.y_train)),
            n_test=int(len(ctx.data.y_test)), data_source=ctx.data.source, warmup_rounds=warmup,
            figures={k: _scalar(v) for k, v in figures(result).items()}, notes=list(notes),
            host_peak_rss_bytes=peak_rss_bytes(), device_peak_bytes=backend.peak_memory_bytes(),
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
        cfg = self.ctx.config
        return [f"{f}={getattr(cfg, f)} (book: {getattr(BOOK, f)})" for f in fields
                if getattr(cfg, f) != getattr(BOOK, f)]


def _scalar(v):
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    return float(v)


@pytest.fixture
def bench(benchmark, prepared, bench_size) -> Bench:
    return Bench(benchmark, prepared, *bench_size)


def pytest_benchmark_update_json(config, benchmarks, output_json):
    """Add what the Markdown needs: size, data, devices, versions, commands, machine load."""
    session = config.stash[_SESSION]
    pytest_command = shlex.join(["python", "-m", "pytest", *config.invocation_params.args])
    # Other work on the machine slows every backend; the load average says how much there was.
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    output_json["gpuclf"] = {**session, "versions": library_versions(), "pytest_command": pytest_command,
                             "command": os.environ.get(COMMAND_ENV_VAR) or pytest_command, "load_average": load}
