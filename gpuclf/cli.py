"""gpuclf's command line: run, compare, bench, info, warmup, demo.

User mistakes (bad data, unknown step, missing GPU) print one line
``gpuclf: error: ...`` and exit with code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import os
import sys

from .errors import GpuclfError, command_line, resume_command
from gpuclf.benchmarks.options import (BENCH_BUDGET, BENCH_OPTIONAL_STEPS, BENCH_ROUNDS, BENCH_SIZES,
                                       DEFAULT_BENCH_BUDGET, DEFAULT_BENCH_ROUNDS)
from gpuclf.run.options import (BACKEND, BACKEND_LIST, CLASS_NAMES, CLUSTER, DEVICE, KNN_SEARCH, KNN_SEARCH_LIST,
                                Floats, JOBS, POSITIVE_CLASS, ROWS, SEED, STEP_LIST, Parser, Size, Text,
                                cluster_option)

KNN_SEARCH_HELP = ("numpy and gpu backends: how KNN finds the neighbours: auto (default: pruned where the cost model "
                   "says it pays, as on full MNIST), pruned (a PCA filter, then exact distances for the few rows it "
                   "keeps) or brute; the neighbours and every figure are the same")
CLUSTER_HELP = ("run on Dask: local (this machine's cores; one worker per GPU with the gpu backend) or a scheduler "
                "address tcp://host:8786 (default: $GPUCLF_CLUSTER, else no cluster)")

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: Set to let an unexpected exception's traceback through (see :func:`main`).
DEBUG_ENV_VAR = "GPUCLF_DEBUG"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="gpuclf", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"gpuclf {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    run = sub.add_parser("run", help="run the chapter's workflow and write results + report")
    run.add_argument("--backend", type=BACKEND, default=None, help="auto (default, or $GPUCLF_BACKEND), cpu, gpu, numpy")
    run.add_argument("--data", type=Text(), default=None,
                     help="openml (mnist_784: the default, or $GPUCLF_MNIST), openml:NAME_OR_ID (e.g. "
                          "openml:Fashion-MNIST), sample (5,000 digits, offline), PATH.npz, or a table PATH.csv / "
                          ".csv.gz / .parquet (label column + 784 pixel columns; read by cuDF on the gpu backend)")
    run.add_argument("--data-home", type=Text(), default=None, help="scikit-learn's cache folder for OpenML")
    run.add_argument("--test-data", type=Text(), default=None,
                     help="test images in --data's format (default: the data's own split, else its last 1/7)")
    run.add_argument("--label-column", type=Text(), default=None,
                     help="tables: the label column's name (default: label, class or y, else the first column)")
    run.add_argument("--class-names", type=CLASS_NAMES, default=None,
                     help="comma-separated name of each label 0, 1, ... for the report (default: the dataset's, "
                          "else the digits); the data's own names in another order set the labels' order")
    run.add_argument("--positive-class", type=POSITIVE_CLASS, default=None,
                     help="the binary detector's class: a label or a class name (default 5, the book's 5-detector)")
    run.add_argument("--steps", type=STEP_LIST, default=None, help="comma-separated step ids (default: the chapter's; add knn_plus to go beyond the book)")
    run.add_argument("--train-size", type=ROWS, default=None, help="use the first N training rows")
    run.add_argument("--test-size", type=ROWS, default=None, help="use the first N test rows")
    run.add_argument("--out", type=Text(), default="results", help="output folder (default: ./results)")
    again = run.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the run recorded in --out (its data, backend, sizes, seed): skip the steps "
                            "it finished, run the rest, and any --steps added")
    again.add_argument("--force", action="store_true",
                       help="replace the results, arrays, figures and report of an earlier run in --out")
    run.add_argument("--seed", type=SEED, default=None, help="random_state of every estimator (default 42)")
    run.add_argument("--thresholds", type=Floats(), default=None,
                     help="also report the 5-detector at these decision scores, in the SGD's own units "
                          "(e.g. 0,3000,8000 for scikit-learn's on full MNIST; default: precision targets "
                          "80/90/95%% and score quantiles only)")
    run.add_argument("--n-estimators", type=ROWS, default=None, help="random-forest trees (default 100)")
    run.add_argument("--sgd-max-iter", type=ROWS, default=None,
                     help="cpu backend: scikit-learn SGD epoch cap (default 1000 from 20k rows, else 100)")
    run.add_argument("--jobs", type=JOBS, default=None, help="CPU backend: parallel jobs for CV (-1: all cores)")
    run.add_argument("--max-gpu-memory", type=Size(), default=None,
                     help="GPU backend: cap on device memory, e.g. 4GB (kernels chunk to fit)")
    run.add_argument("--device", type=DEVICE, default=0,
                     help="GPU backend: CUDA device number (default 0, within $CUDA_VISIBLE_DEVICES)")
    run.add_argument("--knn-search", type=KNN_SEARCH, default=None, help=KNN_SEARCH_HELP)
    run.add_argument("--cluster", type=CLUSTER, default=None, help=CLUSTER_HELP)
    run.add_argument("--no-report", action="store_true", help="write results.json only")
    run.add_argument("--quiet", action="store_true", help="no progress lines")

    bench = sub.add_parser("bench", help="time the workflow's steps on several backends")
    bench.add_argument("--backends", type=BACKEND_LIST, default=None, help="comma-separated (default: all available)")
    bench.add_argument("--size", choices=("small", "medium", "full"), default=None,
                       help="training rows: small up to 6,000 (the offline sample has 4,000), medium 20,000, "
                            "full 60,000 (default small, unless --sizes is given)")
    bench.add_argument("--sizes", type=BENCH_SIZES, default=None,
                       help="a cost-vs-size sweep: training rows such as 1000,3000,10000, or a named sweep: "
                            "standard (1,000 to 60,000) or quick (500 to 4,000, within the offline sample)")
    bench.add_argument("--add-steps", type=BENCH_OPTIONAL_STEPS, default=(),
                       help="optional steps to time too at a named --size, as gpuclf run --steps adds them: knn_plus")
    bench.add_argument("--rounds", type=BENCH_ROUNDS, default=DEFAULT_BENCH_ROUNDS,
                       help=f"timed rounds per step and backend, interleaved (default {DEFAULT_BENCH_ROUNDS}; "
                            "fewer where they would not fit in --budget)")
    bench.add_argument("--budget", type=BENCH_BUDGET, default=DEFAULT_BENCH_BUDGET,
                       help=f"minutes the rounds of one backend at one size may take, estimated from the sizes "
                            f"already timed (default {DEFAULT_BENCH_BUDGET:g})")
    bench.add_argument("--compare", nargs="+", type=Text(), default=None, metavar="RESULTS_DIR",
                       help="time nothing: put the bench results of two or more machines (their --out folders) "
                            "side by side in machines.html and machines.md in --out")
    bench.add_argument("--data", type=Text(), default=None, help="as for run (default $GPUCLF_MNIST, else sample)")
    bench.add_argument("--out", type=Text(), default="bench-results", help="output folder")
    bench.add_argument("--cuml-accel", action="store_true", help="add a column for python -m cuml.accel")
    bench.add_argument("--knn-search", type=KNN_SEARCH_LIST, default=None,
                       help="time the KNN steps under each of these searches side by side, e.g. pruned,brute "
                            "(numpy and gpu backends; their figures must be identical), instead of the whole suite")
    bench.add_argument("--cluster", type=CLUSTER, default=None,
                       help="time the backends on this Dask cluster too: a column per backend, "
                            "e.g. cpu@dask:2 (local, or tcp://host:8786)")

    compare = sub.add_parser("compare", help="put two or more run folders side by side: seconds, speedups, "
                             "memory, every figure judged against the parity tolerances")
    compare.add_argument("runs", nargs="+", metavar="RUN_DIR", help="output folders of gpuclf run (first: reference)")
    compare.add_argument("--out", type=Text(), default="compare",
                         help="folder for compare.html and compare.md (default: ./compare)")

    info = sub.add_parser("info", help="backends, devices and library versions found here")
    info.add_argument("--device", type=DEVICE, default=0, help="CUDA device to check (default 0)")
    info.add_argument("--cluster", type=CLUSTER, default=None, help="also show this Dask cluster's workers")
    warm = sub.add_parser("warmup", help="compile the GPU kernels into CuPy's kernel cache (cold start)")
    warm.add_argument("--device", type=DEVICE, default=0, help="CUDA device (default 0)")
    demo = sub.add_parser("demo", help="info, then the whole workflow on the offline sample")
    demo.add_argument("--out", type=Text(), default="demo", help="output folder (default: ./demo)")
    again = demo.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true", help="continue an earlier demo run in --out")
    again.add_argument("--force", action="store_true", help="replace an earlier run in --out")
    parser.commands = dict(sub.choices)
    return parser


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("gpuclf")
    except metadata.PackageNotFoundError:  # imported from a checkout that pip did not install
        return "(not installed: run pip install -e . in the checkout)"


def cmd_run(args) -> int:
    from .backends import get_backend
    from gpuclf.run.options import config_kwargs
    from gpuclf.run.cluster import connect, joblib_on
    from gpuclf.run.folder import check_output
    from gpuclf.run.record import read_record
    from gpuclf.chapter import RunConfig, check_preconditions, select_steps

    # Everything is checked before --out is touched: options (by the parser), the
    # recorded run when resuming, the backend, the data and each step's needs.
    record = read_record(args.out) if args.resume else None
    cluster = cluster_option(args.cluster)  # changes no figure: free on --resume
    backend = get_backend(_backend_name(args, record), n_jobs=args.jobs, max_gpu_memory=args.max_gpu_memory,
                          device=args.device, knn_search=args.knn_search)
    data = _load_data(args, record, backend.name)
    # After the data: --positive-class is the label it denotes there.
    config = RunConfig(**config_kwargs(args, record and record["config"], data))
    data = data.subsample(config.train_size, config.test_size)
    check_preconditions(select_steps(config.steps), data, config)
    check_output(args.out, args.resume, args.force)  # again under the lock; here, before the lock file is made
    with connect(cluster, backend.name) as client, joblib_on(client):
        backend.use_cluster(client)
        return _run_locked(args, backend, data, config, cluster)


def _run_locked(args, backend, data, config, cluster: str | None = None) -> int:
    from .backends.probes import LAPTOP_ADVICE
    from gpuclf.run.folder import lock_output
    from gpuclf.run.runner import run_workflow
    from gpuclf.chapter import FULL_SGD_ROWS

    def banner():
        if args.quiet:
            return
        print(f"gpuclf: backend {backend.name} on {backend.describe()['device']}; data {data.source} "
              f"({len(data.y_train)} train, {len(data.y_test)} test)", file=sys.stderr)
        if backend.name == "cpu" and len(data.y_train) >= FULL_SGD_ROWS:
            print(f"gpuclf: note: {LAPTOP_ADVICE}", file=sys.stderr)
        if cluster is not None:
            from gpuclf.run.cluster import describe, summary

            print(f"gpuclf: on the Dask cluster {summary(cluster, describe(backend.dispatcher.client))}",
                  file=sys.stderr)

    with lock_output(args.out):
        try:
            store = run_workflow(backend, data, config, args.out, resume=args.resume, force=args.force,
                                 progress=not args.quiet, on_start=banner)
        except KeyboardInterrupt:
            return _interrupted(args)
        if not args.quiet:
            _print_deviations(store.doc, args.positive_class)
        _write_report(args)
    if not args.quiet:
        print(store.path)
    return 0


def _write_report(args) -> None:
    if args.no_report:
        return
    from gpuclf.report import build_report

    page = build_report(args.out)
    if not args.quiet:
        print(f"gpuclf: report written to {page}", file=sys.stderr)


def _interrupted(args) -> int:
    """Ctrl-C during a run: the finished steps are saved; write their report, as a finished run does."""
    import os

    from gpuclf.run.record import RESULTS

    if not os.path.exists(os.path.join(args.out, RESULTS)):
        print("gpuclf: interrupted before any step finished; nothing was saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    _write_report(args)
    print(f"gpuclf: interrupted; the finished steps are saved in {args.out}; to continue: "
          f"{resume_command(args.out)}", file=sys.stderr)
    return EXIT_INTERRUPTED


def _print_deviations(doc: dict, positive_given: str | None = None) -> None:
    """How the run differs from the book's setup, and the warnings it recorded: on the console too."""
    from gpuclf.report.deviations import deviations, warnings_by_step

    for line in deviations(doc, positive_given):
        print(f"gpuclf: note: {line}", file=sys.stderr)
    for title, warning in warnings_by_step(doc):
        print(f"gpuclf: warning in {title!r}: {warning}", file=sys.stderr)


def _backend_name(args, record: dict | None) -> str | None:
    """``--backend``, else (resuming) the recorded run's, else None (``$GPUCLF_BACKEND`` or auto)."""
    from .backends import resolve_backend_name

    if record is None:
        return args.backend
    if args.backend is None:
        return record["backend"]
    if resolve_backend_name(args.backend)[0] != record["backend"]:
        raise GpuclfError(f"--backend {args.backend} contradicts the run recorded in {args.out} "
                          f"(--backend {record['backend']}); leave it out to continue that run, or use another --out")
    return args.backend


def _load_data(args, record: dict | None, backend_name: str | None = None):
    """``--data``, else (resuming) the recorded run's data, else ``$GPUCLF_MNIST`` or OpenML.

    Data given with ``--resume`` may be a copy elsewhere: the results store
    compares its content fingerprint with the record's. How the data is read
    (``--label-column``, ``--class-names``) is the recorded run's: left out,
    it is taken from the record; given otherwise, it is refused. Tables are
    read by cuDF on the gpu backend where it imports, else by pandas.
    """
    from gpuclf.data import load_mnist
    from gpuclf.run.options import contradiction
    from gpuclf.data.tables import reader_for

    given = {"test_source": args.test_data, "label_column": args.label_column, "class_names": args.class_names}
    reader = reader_for(backend_name)
    if record is None:
        return load_mnist(args.data, data_home=args.data_home, reader=reader, **given)
    origin = record.get("data_origin")
    origin = origin if isinstance(origin, dict) else {}
    if args.data is None and (not isinstance(origin.get("data"), str) or not origin["data"]):
        raise GpuclfError(f"--resume: {args.out} does not record where its data came from (an older gpuclf "
                          "wrote it); give --data with the run's data")

    def recorded(key):
        value = origin.get(key)
        return value if isinstance(value, (str, list)) and value else None

    for key, recorded_key, flag in (("test_source", "test_data", None), ("label_column", "label_column",
                                    "--label-column"), ("class_names", "class_names", "--class-names")):
        kept = recorded(recorded_key)
        if given[key] is None:
            given[key] = kept
        elif flag and (kept is not None or key == "class_names") and _as_list(given[key]) != _as_list(kept):
            # Names the recorded run did not have would re-code or rename its classes.
            raise contradiction(flag, given[key], kept, args.out)
    run = f"of the run recorded in {args.out}"
    test_subject = None if args.test_data else f"the test data file {given['test_source']!r} {run}"
    if args.data is not None:
        return load_mnist(args.data, data_home=args.data_home, reader=reader, test_subject=test_subject, **given)
    return load_mnist(origin["data"], data_home=args.data_home or recorded("data_home"), reader=reader,
                      subject=f"the data file {origin['data']!r} {run}", test_subject=test_subject, **given)


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else value


def cmd_bench(args) -> int:
    from gpuclf.benchmarks.options import check_bench_options

    check_bench_options(args)
    if args.compare:
        from .benchmarks import compare_machines

        html_path, md_path = compare_machines(args.compare, args.out)
        print(f"gpuclf: comparison written to {html_path}", file=sys.stderr)
        print(md_path)
        return 0
    if args.knn_search:
        from .benchmarks.knn_search import KNN_STEPS, compare_searches

        print(compare_searches(args.knn_search, backends=args.backends, size=args.size or "small", data=args.data,
                               out_dir=args.out, rounds=args.rounds, steps=KNN_STEPS + tuple(args.add_steps)))
        return 0
    from .benchmarks import run_benchmarks
    from gpuclf.run.cluster import check_reachable

    cluster = cluster_option(args.cluster)
    check_reachable(cluster)  # here, in one line: the suite's child process would fail in every test
    print(run_benchmarks(backends=args.backends, size=args.size, data=args.data, out_dir=args.out,
                         cuml_accel=args.cuml_accel, cluster=cluster, sizes=args.sizes,
                         rounds=args.rounds, budget_minutes=args.budget, add_steps=args.add_steps))
    return 0


def cmd_info(args) -> int:
    from .backends import _REGISTRY, backend_names, get_backend, resolve_backend_name
    from .backends.probes import CPU_INSTEAD, GPU_INSTALL, LAPTOP_ADVICE, cuda_version, cuml_summary, cupy_status
    from gpuclf.chapter.published import sgd_claim
    from gpuclf.run.environment import library_versions

    def line(label: str, text) -> None:
        print(f"{label:16s} {text}")

    device = getattr(args, "device", 0)
    for name, version in library_versions().items():
        line(name, version or "not installed")
    for name in backend_names():
        ok, reason = cupy_status(device) if name == "gpu" else _REGISTRY[name].availability()
        line(f"backend {name}", f"{'available' if ok else 'unavailable'}: {reason}")
    # Not imported here: importing cuML replaces CuPy's allocator (see backends/allocator.py).
    line("cuML", cuml_summary())
    chosen, why = resolve_backend_name(None)
    line("auto picks", f"{chosen} ({why})")
    try:
        described = get_backend(chosen, device=device).describe()
        line("device", described["device"])
        for key in ("cuda_driver", "cuda_runtime", "allocator"):
            if key in described:
                line(key, cuda_version(described[key]) if key.startswith("cuda") else described[key])
    except GpuclfError as exc:
        line("device", exc)
    line("numpy, gpu SGD", f"{sgd_claim()} (docs/parity.md)")
    if chosen != "gpu":
        line("advice", LAPTOP_ADVICE)
        line("to use the GPU", f"{GPU_INSTALL}, on a machine with an NVIDIA GPU and driver; until then {CPU_INSTEAD}")
    spec = cluster_option(getattr(args, "cluster", None))
    if spec is not None:
        from gpuclf.run.cluster import connect, describe, summary

        with connect(spec, chosen) as client:
            line("cluster", summary(spec, describe(client)))
    return 0


def cmd_warmup(args) -> int:
    """Fill CuPy's kernel cache so the next runs start warm (what the Docker image can run once)."""
    from .backends import get_backend
    from gpuclf.run.warmup import warm_up
    from gpuclf.chapter import RunConfig, STEPS

    backend = get_backend("gpu", purpose="gpuclf warmup (it compiles the GPU kernels)", device=args.device,
                          instead="without a GPU there is nothing to warm up: the cpu and numpy backends compile "
                                  "no kernels, and gpuclf run needs no warmup")
    done = warm_up(backend, list(STEPS), RunConfig())
    print(f"gpuclf: compiled the GPU kernels of {len(done['steps'])} steps in {done['seconds']:.1f} s; "
          f"CuPy keeps them in {done['kernel_cache']}", file=sys.stderr)
    return 0


def cmd_demo(args) -> int:
    """What the Docker image runs by default: info, then ``gpuclf run --data sample`` into a folder of its own."""
    cmd_info(args)
    again = ["--force"] if args.force else ["--resume"] if args.resume else []
    # The run's messages still speak of gpuclf demo: its advice is a demo command.
    return cmd_run(build_parser().parse_args(["run", "--data", "sample", "--out", args.out, *again]))


def cmd_compare(args) -> int:
    from gpuclf.report.compare import compare_runs

    html_path, md_path = compare_runs(args.runs, args.out)
    print(f"gpuclf: comparison written to {html_path}", file=sys.stderr)
    print(md_path)
    return 0


COMMANDS = {"run": cmd_run, "compare": cmd_compare, "bench": cmd_bench, "info": cmd_info, "warmup": cmd_warmup,
            "demo": cmd_demo}


def main(argv=None) -> int:
    """Entry point of the ``gpuclf`` console script; returns the exit code."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:  # a bare gpuclf: what it can do
            parser.print_help()
            return 0
        with command_line(f"gpuclf {args.command}"):
            return COMMANDS[args.command](args)
    except GpuclfError as exc:
        message = " ".join(str(exc).splitlines())  # one line, whatever a name or a library's text held
        print(f"gpuclf: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("gpuclf: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # what no check foresaw: still one line, and how to report it
        if os.environ.get(DEBUG_ENV_VAR):
            raise
        text = " ".join(str(exc).split())[:300]
        print(f"gpuclf: error: unexpected {type(exc).__name__}{f': {text}' if text else ''}; this is a bug in "
              f"gpuclf: please report it with the command you ran ({DEBUG_ENV_VAR}=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
