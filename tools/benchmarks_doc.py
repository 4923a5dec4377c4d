"""Regenerate docs/benchmarks.md: time the published benchmarks on this machine and render them there.

Usage (from the repository root, after ``pip install -e '.[bench]'``, with real MNIST)::

    GPUCLF_MNIST=/path/mnist_784.npz python tools/benchmarks_doc.py     # time everything (about 1-2 h on 2 cores)
    python tools/benchmarks_doc.py --render-only                         # re-render bench-results, no timing

It runs, into ``--out`` (default ``bench-results``):

1. ``gpuclf bench --backends cpu,numpy --size small --sizes standard --add-steps knn_plus --budget 25``: the
   small size (with the optional knn_plus) and the sweep from 1,000 to 60,000 training rows, 3 interleaved
   rounds where they fit in 25 minutes per backend and size (scikit-learn stops where one round would not);
2. the 70,000-row CSV reader at ``--size full`` (``bench/test_bench_load.py``, 3 rounds, pandas);

then writes ``docs/benchmarks.md`` (a note on how and where it was measured, the load average of the
runs, then the report ``gpuclf bench`` wrote) and copies the charts into ``docs/benchmarks/``. The GPU
section says it is empty until the same runs include ``gpu``.
"""
from __future__ import annotations

import argparse
import glob
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC, CHARTS = ROOT / "docs" / "benchmarks.md", ROOT / "docs" / "benchmarks"
BACKENDS = "cpu,numpy"


def bench_command(out: str, budget: float) -> list:
    return ["gpuclf", "bench", "--backends", BACKENDS, "--size", "small", "--sizes", "standard",
            "--add-steps", "knn_plus", "--budget", f"{budget:g}", "--out", out]


def load_csv_command(out: str) -> list:
    return [sys.executable, "-m", "pytest", "bench/test_bench_peak.py", "bench/test_bench_load.py",
            "-p", "no:cacheprovider", "-o", "addopts=", "-q", "--bench-size", "full", "--bench-backends", "cpu",
            "--bench-rounds", "3", "--benchmark-json", os.path.join(out, "benchmark-full-cpu.json")]


def _run(cmd: list) -> None:
    print("+", shlex.join(cmd), file=sys.stderr, flush=True)
    subprocess.run(["nice", *cmd], cwd=ROOT, check=True)


def _note(out: str, budget: float, results) -> str:
    loads = [x for r in results.runs if "doc" in r
             for x in (r["doc"]["gpuclf"].get("load_average_start"), r["doc"]["gpuclf"].get("load_average"))
             if x is not None]
    machine = next(r["doc"]["gpuclf"].get("machine", {}) for r in results.runs if "doc" in r)
    where = (f"{machine.get('cpu_model')}, {machine.get('usable_cpus')} cores, "
             f"{(machine.get('host_memory_bytes') or 0) / 2**30:.0f} GiB, no GPU")
    lines = [
        "**Regenerated, not hand-edited.** Written by `GPUCLF_MNIST=/path/mnist_784.npz python "
        "tools/benchmarks_doc.py` from a source checkout, which runs",
        f"`{shlex.join(bench_command(out, budget))}` and times the CSV reader at `--size full` "
        f"(`{shlex.join(['python', *load_csv_command(out)[1:]])}`), then renders the results here "
        "with the charts in `docs/benchmarks/` (`--render-only` re-renders without timing).",
        f"Measured on {where}, shared with other developers' work: the 1-minute load average was "
        f"{min(loads):.1f} to {max(loads):.1f} at the starts and ends of the runs (2.0 is both cores busy), so "
        "the times carry more noise than one quiet machine shows; the rounds interleave the backends, so "
        "that load fell on both alike, and the spreads show how much there was.",
        "The numpy backend is the GPU code path run on NumPy: its speedups come from gpuclf's algorithms (see "
        "the Estimators tables: e.g. 5 mini-batch SGD epochs against scikit-learn's per-sample epochs, one "
        "neighbour search per fold for the whole grid), not from faster hardware.",
        "How to read and rerun these numbers: [benchmarking.md](benchmarking.md). Scaling out on Dask (an "
        "earlier, one-round measurement): [benchmarks-dask.md](benchmarks-dask.md).",
    ]
    return "\n".join("> " + line if line else ">" for line in lines)


def render(out: str, budget: float) -> None:
    from gpuclf.benchmarks import document, load, markdown
    from gpuclf.benchmarks.charts import render_charts
    from gpuclf.benchmarks.records import ACCEL_GLOB, PLAN_FILE, RUN_GLOB
    from gpuclf.benchmarks.pages import Heading

    paths = [*sorted(glob.glob(os.path.join(out, RUN_GLOB))), *sorted(glob.glob(os.path.join(out, ACCEL_GLOB))),
             *glob.glob(os.path.join(out, PLAN_FILE))]
    paths = [p for p in paths if os.path.basename(p) != "benchmark.json"]  # a copy of the latest run
    results = load(paths)
    CHARTS.mkdir(exist_ok=True)
    for old in CHARTS.glob("*.png"):
        old.unlink()
    for chart in render_charts(results, str(CHARTS)):
        print(f"chart {os.path.relpath(chart, ROOT)}", file=sys.stderr)
    blocks = document(results)
    assert isinstance(blocks[0], Heading) and blocks[0].level == 1
    DOC.write_text(f"# gpuclf benchmarks\n\n{_note(out, budget, results)}\n\n"
                   + markdown(blocks[1:], image_prefix="benchmarks/"))
    print(DOC)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench-results", help="gpuclf bench's output folder (default bench-results)")
    parser.add_argument("--budget", type=float, default=25, help="minutes per backend and size (default 25)")
    parser.add_argument("--render-only", action="store_true", help="render --out into the doc, time nothing")
    args = parser.parse_args(argv)
    if not args.render_only:
        if not os.environ.get("GPUCLF_MNIST"):
            parser.error("set GPUCLF_MNIST to real MNIST (mnist_784.npz): the published numbers are on full MNIST")
        _run(bench_command(args.out, args.budget))
        _run(load_csv_command(args.out))
    render(args.out, args.budget)
    return 0


if __name__ == "__main__":
    sys.exit(main())
