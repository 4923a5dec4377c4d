"""gpuclf's command line: run, compare, bench, info, demo.

User mistakes (bad data, unknown step, missing GPU) print one line
``gpuclf: error: ...`` and exit with code 2, never a traceback.
"""
from __future__ import annotations

import argparse
import sys

from .errors import GpuclfError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _size(text: str) -> int:
    """Parse ``4GB``, ``512MiB``, ``1e9`` into bytes."""
    units = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    try:
        if t and t[-1] in units:
            return int(float(t[:-1]) * units[t[-1]])
        return int(float(t))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 4GB or 512MiB") from None


def _floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gpuclf", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the chapter's workflow and write results + report")
    run.add_argument("--backend", default=None, help="auto (default, or $GPUCLF_BACKEND), cpu, gpu, numpy")
    run.add_argument("--data", default=None,
                     help="openml (default, or $GPUCLF_MNIST), sample (5,000 digits, offline), or PATH.npz")
    run.add_argument("--data-home", default=None, help="scikit-learn's cache folder for OpenML")
    run.add_argument("--steps", type=_names, default=None, help="comma-separated step ids (default: all)")
    run.add_argument("--train-size", type=int, default=None, help="use the first N training rows")
    run.add_argument("--test-size", type=int, default=None, help="use the first N test rows")
    run.add_argument("--out", default="results", help="output folder (default: ./results)")
    run.add_argument("--resume", action="store_true", help="skip the steps an earlier run in --out finished")
    run.add_argument("--seed", type=int, default=42, help="random_state of every estimator (default 42)")
    run.add_argument("--thresholds", type=_floats, default=(),
                     help="also report the 5-detector at these decision scores, in the SGD's own units "
                          "(e.g. 0,3000,8000 for scikit-learn's on full MNIST; default: precision targets "
                          "80/90/95%% and score quantiles only)")
    run.add_argument("--n-estimators", type=int, default=100, help="random-forest trees (default 100)")
    run.add_argument("--sgd-max-iter", type=int, default=None,
                     help="cpu backend: scikit-learn SGD epoch cap (default 1000 from 20k rows, else 100)")
    run.add_argument("--jobs", type=int, default=None, help="CPU backend: parallel jobs for CV (-1: all cores)")
    run.add_argument("--max-gpu-memory", type=_size, default=None,
                     help="GPU backend: cap on device memory, e.g. 4GB (kernels chunk to fit)")
    run.add_argument("--no-report", action="store_true", help="write results.json only")
    run.add_argument("--quiet", action="store_true", help="no progress lines")

    bench = sub.add_parser("bench", help="time the workflow's steps on several backends")
    bench.add_argument("--backends", type=_names, default=None, help="comma-separated (default: all available)")
    bench.add_argument("--size", choices=("small", "medium", "full"), default="small",
                       help="training rows: small up to 6,000 (the offline sample has 4,000), medium 20,000, "
                            "full 60,000")
    bench.add_argument("--data", default=None, help="as for run (default $GPUCLF_MNIST, else sample)")
    bench.add_argument("--out", default="bench-results", help="output folder")
    bench.add_argument("--cuml-accel", action="store_true", help="add a column for python -m cuml.accel")

    compare = sub.add_parser("compare", help="put two or more run folders side by side: seconds, speedups, "
                             "memory, every figure judged against the parity tolerances")
    compare.add_argument("runs", nargs="+", metavar="RUN_DIR", help="output folders of gpuclf run (first: reference)")
    compare.add_argument("--out", default="compare",
                         help="folder for compare.html and compare.md (default: ./compare)")

    sub.add_parser("info", help="backends, devices and library versions found here")
    demo = sub.add_parser("demo", help="info, then the whole workflow on the offline sample")
    demo.add_argument("--out", default="results", help="output folder (default: ./results)")
    return parser


def cmd_run(args) -> int:
    from .backends import get_backend
    from .data import load_mnist
    from .results import check_writable
    from .runner import run_workflow
    from .workflow import RunConfig, select_steps

    config = RunConfig(steps=select_steps(args.steps), train_size=args.train_size, test_size=args.test_size,
                       random_state=args.seed, thresholds=args.thresholds, n_estimators=args.n_estimators,
                       sklearn_sgd_max_iter=args.sgd_max_iter)
    backend = get_backend(args.backend, n_jobs=args.jobs, max_gpu_memory=args.max_gpu_memory)
    data = load_mnist(args.data, data_home=args.data_home).subsample(args.train_size, args.test_size)
    check_writable(args.out)
    if not args.quiet:
        print(f"gpuclf: backend {backend.name} on {backend.describe()['device']}; data {data.source} "
              f"({len(data.y_train)} train, {len(data.y_test)} test)", file=sys.stderr)
    try:
        store = run_workflow(backend, data, config, args.out, resume=args.resume, progress=not args.quiet)
    except KeyboardInterrupt:
        print(f"gpuclf: interrupted; finished steps are saved in {args.out}; "
              "run again with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    if not args.quiet:
        _print_deviations(store.doc)
    if not args.no_report:
        from .report import build_report

        page = build_report(args.out)
        print(f"gpuclf: report written to {page}", file=sys.stderr)
    print(store.path)
    return 0


def _print_deviations(doc: dict) -> None:
    """How the run differs from the book's setup, and the warnings it recorded: on the console too."""
    from .report_text import deviations, warnings_by_step

    for line in deviations(doc):
        print(f"gpuclf: note: {line}", file=sys.stderr)
    for title, warning in warnings_by_step(doc):
        print(f"gpuclf: warning in {title!r}: {warning}", file=sys.stderr)


def cmd_bench(args) -> int:
    from .benchmarks import run_benchmarks

    print(run_benchmarks(backends=args.backends, size=args.size, data=args.data, out_dir=args.out,
                         cuml_accel=args.cuml_accel))
    return 0


def cmd_info(args) -> int:
    from .backends import _REGISTRY, backend_names, get_backend, resolve_backend_name
    from .backends.cuml_adapters import cuml_status
    from .backends.gpu import INSTALL_HINT
    from .environment import library_versions

    for name, version in library_versions().items():
        print(f"{name:14s} {version or 'not installed'}")
    for name in backend_names():
        ok, reason = _REGISTRY[name].availability()
        print(f"backend {name:7s} {'available' if ok else 'unavailable'}: {reason}")
    ok, reason = cuml_status()
    print(f"cuML           {'available' if ok else 'unavailable'}: {reason}")
    chosen, why = resolve_backend_name(None)
    print(f"auto picks     {chosen} ({why})")
    try:
        device = get_backend(chosen).describe()
        print(f"device         {device['device']}")
        for key in ("cuda_driver", "cuda_runtime"):
            if key in device:
                print(f"{key:14s} {device[key]}")
    except GpuclfError as exc:
        print(f"device         {exc}")
    if chosen != "gpu":
        print(f"to use the GPU: {INSTALL_HINT}, on a machine with an NVIDIA GPU and driver")
    return 0


def cmd_demo(args) -> int:
    """What the Docker image runs by default."""
    cmd_info(args)
    return main(["run", "--data", "sample", "--out", args.out])


def cmd_compare(args) -> int:
    from .compare import compare_runs

    html_path, md_path = compare_runs(args.runs, args.out)
    print(f"gpuclf: comparison written to {html_path}", file=sys.stderr)
    print(md_path)
    return 0


COMMANDS = {"run": cmd_run, "compare": cmd_compare, "bench": cmd_bench, "info": cmd_info, "demo": cmd_demo}


def main(argv=None) -> int:
    """Entry point of the ``gpuclf`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except GpuclfError as exc:
        print(f"gpuclf: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("gpuclf: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
