"""The bench report from pytest-benchmark's JSON files alone: its Markdown and its charts."""
from __future__ import annotations

from ..errors import GpuclfError
from .charts import render_charts as draw
from .pages import markdown
from .records import load
from .tables import document


def render_markdown(json_paths) -> str:
    """The bench report as Markdown, computed from JSON files only.

    Parameters
    ----------
    json_paths : sequence of str
        pytest-benchmark JSON written by the ``bench/`` suite and, optionally,
        ``cuml-accel-*.json`` and ``bench-plan.json`` from :func:`run_benchmarks`.
        Several sizes or backend lists merge; for a repeated (size, step,
        backend) the newest file wins.

    Returns
    -------
    str
        The machine's limits; per size the median seconds per step and
        backend with their spread, speedups over ``cpu`` with their range,
        the GEMM-bound steps' % of peak, the result figures, memory and
        estimators; the cost-vs-size sweep; the environment of each run.

    See Also
    --------
    run_benchmarks : runs the suite and writes this (and the HTML) next to the JSON.
    """
    results = load(json_paths)
    if not results.rows and not results.notes:
        raise GpuclfError("no gpuclf benchmark results in " + ", ".join(map(str, json_paths)))
    return markdown(document(results))


def render_charts(json_paths, out_dir: str) -> list:
    """Draw the PNG charts of the JSON files into ``out_dir``; return their paths."""
    return draw(load(json_paths), out_dir)
