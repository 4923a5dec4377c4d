"""The bench charts, drawn from the JSON: speedup per step at each named size, and cost against size.

``speedup-<size>.png``: per step, each backend's speedup over ``cpu`` (ratio
of medians) on a log axis, with the range over the rounds.
``cost-vs-size.png``: one log-log panel per step of a sweep: median seconds
against training rows per backend, min–max of the rounds as bars, the
fitted power law dashed (its exponent in the legend), and where a backend
overtakes scikit-learn, a dotted line.
"""
from __future__ import annotations

import math
import os

import numpy as np

from .cells import COST_CHART, REFERENCE, chart_names, ratio
from .records import Results, backends, order, shared_estimator
from .registry import STEP_ORDER
from .stats import fit_power_law, speedup
from .sweep import curves, step_crossover

#: One colour per backend, the same in every chart.
COLOURS = {"cpu": "C0", "numpy": "C1", "gpu": "C2", "cuml.accel": "C3"}


def _colour(backend: str, i: int) -> str:
    return COLOURS.get(backend.split("@")[0], f"C{4 + i % 6}")


def _canvas(width: float, height: float):
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


def render_charts(results: Results, out_dir: str) -> list:
    """Draw every chart the results give into ``out_dir``; return their paths."""
    paths = []
    for name in chart_names(results):
        path = os.path.join(out_dir, name)
        if name == COST_CHART:
            cost_chart(results.sweep(), path)
        else:
            size = name.removeprefix("speedup-").removesuffix(".png")
            speedup_chart([r for r in results.named() if r["size"] == size], size, path)
        paths.append(path)
    return paths


def speedup_chart(rows: list, size: str, path: str) -> None:
    at = {(r["step"], r["backend"]): r["spread"] for r in rows}
    # Two backends that ran the same estimator are not ranked: no bar (see records.shared_estimator).
    same = {(r["step"], r["backend"]) for r in rows for ref in rows
            if (ref["step"], ref["backend"]) == (r["step"], REFERENCE) and shared_estimator(ref, r)}
    steps = [s for s in order({r["step"] for r in rows}, STEP_ORDER) if (s, REFERENCE) in at]
    compared = [b for b in backends(rows) if b != REFERENCE]
    fig = _canvas(8.5, max(3.0, 1.3 + 0.4 * len(steps) * max(1, len(compared)) ** 0.5))
    ax = fig.add_subplot()
    height = 0.8 / len(compared)
    y = np.arange(len(steps))
    seen = [1.0]
    for i, b in enumerate(compared):
        ratios = [speedup(at[s, REFERENCE], at[s, b]) if (s, b) in at and (s, b) not in same else (np.nan,) * 3
                  for s in steps]
        mid = np.array([r[0] for r in ratios])
        err = np.array([[r[0] - r[1] for r in ratios], [r[2] - r[0] for r in ratios]])
        seen += [v for r in ratios for v in r if v == v]
        pos = y - 0.4 + height * (i + 0.5)
        bars = ax.barh(pos, mid, height=height * 0.92, label=b, color=_colour(b, i), xerr=err,
                       error_kw={"ecolor": "0.25", "capsize": 2, "lw": 1})
        ax.bar_label(bars, labels=["same estimator" if (s, b) in same else "" if v != v else ratio(v)
                                   for s, v in zip(steps, mid)], padding=3, fontsize=9,
                     bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})
    ax.set_xscale("log")
    lo, hi = min(seen) / 2, max(seen) * 3
    ax.set_xlim(lo, hi)
    _log_axis(ax.xaxis, "×", lo, hi)
    ax.axvline(1.0, color="0.3", lw=1, ls="--")
    ax.set_yticks(y, steps)
    ax.invert_yaxis()
    # Two lines: one is wider than the figure, and constrained layout does not wrap labels.
    ax.set_xlabel(f"speedup = {REFERENCE} median / backend median, log scale\n"
                  "dashed: same speed; bars: range over the rounds")
    n = max(r.get("n_train") or 0 for r in rows)
    ax.set_title(f"gpuclf bench, size {size} ({n:,} training rows)")
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.savefig(path)


def cost_chart(rows: list, path: str) -> None:
    lines = curves(rows)
    names = backends(rows)
    steps = [s for s in order({r["step"] for r in rows}, STEP_ORDER)]
    ncols = min(3, len(steps))
    nrows = -(-len(steps) // ncols)
    fig = _canvas(4.3 * ncols, 3.4 * nrows + 0.4)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    n_all = sorted({r["n_train"] for r in rows})
    for ax in axes[len(steps):]:
        ax.set_visible(False)
    for ax, step in zip(axes, steps):
        secs = []
        for i, b in enumerate(names):
            pts = lines.get((step, b))
            if not pts:
                continue
            n = np.array([p[0] for p in pts], dtype=float)
            med = np.array([p[1].median for p in pts])
            err = np.array([med - [p[1].min for p in pts], [p[1].max for p in pts] - med])
            secs += [p[1].min for p in pts] + [p[1].max for p in pts]
            label = b
            if len(set(n)) > 1:  # rows capped by the data can repeat a size
                e, c = fit_power_law(n, med)
                grid = np.geomspace(n[0], n[-1], 50)
                ax.plot(grid, c * grid ** e, color=_colour(b, i), ls="--", lw=1)
                label = f"{b} ∝ rows^{e:.2f}"
            ax.errorbar(n, med, yerr=err, color=_colour(b, i), marker="o", ms=4, lw=1.2, capsize=2, ls="-",
                        label=label)
            c = step_crossover(rows, step, b)
            if c is not None and c.rows is not None:  # a crossing within the measured sizes
                ax.axvline(c.rows, color=_colour(b, i), ls=":", lw=1.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _log_axis(ax.xaxis, "k", n_all[0], n_all[-1])
        ax.set_xticks(n_all)
        if secs:
            lo, hi = min(secs), max(secs)
            ax.set_ylim(lo / 1.5, hi * 1.5)
            _log_axis(ax.yaxis, " s", lo, max(hi, lo * math.e))
        ax.set_title(step, fontsize=10)
        ax.grid(which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
        ax.tick_params(labelsize=8)
    for ax in axes[-ncols:]:
        ax.set_xlabel("training rows", fontsize=9)
    for ax in axes[::ncols]:
        ax.set_ylabel("median seconds", fontsize=9)
    fig.suptitle("gpuclf bench: cost vs size (dotted: where a backend overtakes cpu)", fontsize=11)
    fig.savefig(path)
