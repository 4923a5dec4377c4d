"""How the bench report writes its numbers (seconds, ratios, shares of peak), against which backend,
and which chart files a set of results gives: shared by the tables, the sweep and the charts."""
from __future__ import annotations

import numpy as np

from .records import Results, sizes
from .stats import MIN_ROUNDS, Spread, rounds_text, speedup

REFERENCE = "cpu"
#: The cost-vs-size chart of a sweep.
COST_CHART = "cost-vs-size.png"


def seconds(x: float) -> str:
    return np.format_float_positional(x, precision=3, fractional=False, trim="-")


def ratio(s: float) -> str:
    return f"{s:.0f}×" if s >= 100 else f"{s:.1f}×" if s >= 10 else f"{s:.2f}×"


def figure(v) -> str:
    if isinstance(v, (bool, str)):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if v is None:
        return "–"
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"


def mib(b) -> str:
    return "–" if b is None else f"{b / 2**20:,.0f}"


def spread_cell(s: Spread) -> str:
    """``min–max (IQR x)`` of the rounds; one round has no spread."""
    if s.rounds < 2:
        return "1 round"
    return f"{seconds(s.min)}–{seconds(s.max)} (IQR {seconds(s.iqr)})"


def speedup_cell(ref: Spread, other: Spread, same: str = "") -> str:
    """``ref`` over ``other``: the ratio of medians and its range over the rounds.

    Where both ran the same estimator (``same``, see :func:`~.records.shared_estimator`)
    the cell ranks nothing and says so; below :data:`~.stats.MIN_ROUNDS` rounds it gives
    the ratio and says that it is no verdict.
    """
    if same:
        return f"not ranked: both ran {same}"
    r, lo, hi = speedup(ref, other)
    fewest = min(ref.rounds, other.rounds)
    spread = f"{ratio(lo)}–{ratio(hi)}, " if fewest > 1 else ""
    if fewest < MIN_ROUNDS:
        return f"{ratio(r)} ({spread}{rounds_text(fewest)}: no verdict)"
    return f"{ratio(r)} ({ratio(lo)}–{ratio(hi)})"


def percent(x: float) -> str:
    """A share of peak: whole percents from 10%, two significant digits below."""
    return f"{x:.0f}%" if x >= 10 else f"{x:.2g}%"


def dtype_label(dtype: str | None) -> str:
    return {"float32": "fp32", "float64": "fp64"}.get(dtype or "", str(dtype))


def chart_names(results: Results) -> list:
    """The charts the results give: a speedup chart per named size with a reference and another backend,
    and the cost-vs-size chart for a sweep of two or more sizes."""
    rows = results.named()
    names = [f"speedup-{s}.png" for s in sizes(rows)
             if any(r["backend"] == REFERENCE and r["size"] == s for r in rows)
             and any(r["backend"] != REFERENCE and r["size"] == s for r in rows)]
    return names + ([COST_CHART] if len({r["n_train"] for r in results.sweep()}) > 1 else [])
