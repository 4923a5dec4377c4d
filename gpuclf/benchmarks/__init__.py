"""``gpuclf bench``: time the chapter's steps per backend; tabulate, chart and compare the timings.

The timing is the pytest-benchmark suite in the checkout's ``bench/``
folder; this package plans and launches it and reads its JSON. One module
per job:

``sizes``      what ``--size`` / ``--sizes`` mean (rows, options, named sweeps)
``registry``   the bench entries: the test that times each step, its FLOP count
``flops``      useful GEMM FLOPs of the GEMM-bound steps, counted by hand
``peaks``      the machine's limits: GEMM throughput, memory bandwidth, BLAS threads
``machine``    the machine's fingerprint, and what differs between two
``stats``      rounds merged into pytest-benchmark entries; spread, speedup ranges,
               growth exponents, crossovers
``plan``       each backend's rounds per size within the time budget, and why
``records``    the JSON read back into records
``tables``     the report's content (``sweep``: its cost-vs-size part); ``pages`` lays it
               out as Markdown and HTML
``charts``     the PNG charts
``run``        plans, runs the suite per size, writes the report
``report``     the report's Markdown and charts from the JSON files alone
``machines``   machine against machine (``gpuclf bench --compare``)

Files written into the output folder
------------------------------------
``benchmark-<size>-<backends>.json``
    pytest-benchmark's JSON of each run, one entry per step and backend with
    every round (``benchmark.json``: the latest); runs at other sizes or
    with other backend lists merge with them into one report.
``bench-plan.json``
    The rounds each backend got at each size, and why.
``cuml-accel-<size>.json``
    With ``--cuml-accel``: the book's scikit-learn code timed under
    ``python -m cuml.accel``, or why it could not run.
``benchmarks.md``, ``benchmarks.html``, ``speedup-<size>.png``, ``cost-vs-size.png``
    The report (the page embeds the charts), the speedups per named size,
    and time against training rows for a sweep.
"""
from .._lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {
    "compare_machines": ".machines", "markdown": ".pages", "load": ".records", "document": ".tables",
    **dict.fromkeys(("ENTRIES", "LOAD_STEPS", "STEP_ORDER", "SWEEP_PREFIX", "Entry"), ".registry"),
    **dict.fromkeys(("COMMAND_ENV_VAR", "DEFAULT_BUDGET_MINUTES", "DEFAULT_ROUNDS", "bench_dir",
                     "check_bench_installed", "run_benchmarks", "write_report"), ".run"),
    **dict.fromkeys(("SIZES", "SWEEPS", "BenchSize", "bench_size", "size_label"), ".sizes"),
    **dict.fromkeys(("render_charts", "render_markdown"), ".report")})

__all__ = ["COMMAND_ENV_VAR", "DEFAULT_BUDGET_MINUTES", "DEFAULT_ROUNDS", "ENTRIES", "LOAD_STEPS", "SIZES",
           "STEP_ORDER", "SWEEPS", "SWEEP_PREFIX", "BenchSize", "Entry", "bench_dir", "bench_size",
           "check_bench_installed", "compare_machines", "render_charts", "render_markdown", "run_benchmarks",
           "size_label", "write_report"]
