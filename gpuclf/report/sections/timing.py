"""The run's timing section: seconds per step."""
from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from gpuclf.report.figures import Plot, plain


def plot_step_times(arrays, steps, doc) -> Figure:
    seconds = [(s, doc.get("seconds", {}).get(s, 0.0)) for s in steps]
    fig = Figure(figsize=(10, 0.38 * len(seconds) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    names = [s for s, _ in seconds][::-1]
    values = [v for _, v in seconds][::-1]
    bars = ax.barh(names, values, color="tab:blue")
    ax.bar_label(bars, labels=[f"{v:,.2f} s" for v in values], padding=3, fontsize=9)
    ax.set(xlabel="Seconds", title=f"Time per step (total {sum(values):,.1f} s)")
    ax.set_xlim(0, max(values + [1e-3]) * 1.15)
    ax.xaxis.set_major_formatter(FuncFormatter(plain))
    ax.grid(axis="x", alpha=0.3)
    return fig


def alt_step_times(arrays, steps, doc) -> str:
    seconds = doc.get("seconds", {})
    slow = sorted(((v, s) for s, v in seconds.items() if s in steps), reverse=True)[:3]
    return ("Horizontal bar chart of the seconds each step took; the slowest are "
            + ", ".join(f"{s} ({v:,.1f} s)" for v, s in slow) + ".")


PLOTS = (
    Plot("step_times.png", "run", (), plot_step_times, alt_step_times, "Seconds per step on this run."),
)
