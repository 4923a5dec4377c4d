"""What ``gpuclf bench`` prints on the console: a short digest of what it timed, not pytest's tables.

The timing suite's own output (pytest-benchmark's tables, one per benchmark group, and pytest's
warnings summary: some 290 lines at ``--size small``) goes to a log file in the output folder
(:func:`log_path`); the console gets, per size timed, each step's median seconds per backend and
the speedup with its verdict, and for a sweep where each backend overtakes scikit-learn. The whole
report is ``benchmarks.md`` beside the log.
"""
from __future__ import annotations

from pathlib import Path

from .cells import REFERENCE, seconds, speedup_cell
from .records import ACCEL, Results, backends, order, shared_estimator
from .registry import STEP_ORDER
from .sizes import is_sweep_point
from .stats import rounds_text
from .sweep import step_crossover


def log_path(out: Path, point: str) -> Path:
    """The file that keeps the timing suite's whole output at ``point`` (``bench-small.log``)."""
    return out / f"bench-{point}.log"


def pytest_summary(log: Path) -> str:
    """pytest's closing line in ``log`` without its rule (``26 passed, 63 warnings in 95.12s``), or ``""``."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    last = next((line for line in reversed(lines) if line.strip()), "")
    return last.strip("= ") if " in " in last else ""


def log_tail(log: Path, n: int = 30) -> str:
    """The last ``n`` lines of ``log`` (where a failing suite says why)."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return ""


def _table(rows: list) -> list:
    names = [b for b in backends(rows) if b != ACCEL]
    at = {(r["step"], r["backend"]): r for r in rows}
    compared = [b for b in names if b != REFERENCE] if REFERENCE in names else []
    header = ["step", *names, *(f"{b} vs {REFERENCE}" for b in compared)]
    body = []
    for step in order({r["step"] for r in rows}, STEP_ORDER):
        cells = [step, *(seconds(at[step, b]["median"]) if (step, b) in at else "–" for b in names)]
        for b in compared:
            ok = (step, b) in at and (step, REFERENCE) in at
            cells.append(speedup_cell(at[step, REFERENCE]["spread"], at[step, b]["spread"],
                                      shared_estimator(at[step, REFERENCE], at[step, b])) if ok else "–")
        body.append(cells)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    return ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *body]]


def digest(results: Results, points: list) -> list:
    """The console's lines on ``points`` (the sizes this command timed), from the report's own results."""
    lines = []
    named = [p for p in points if not is_sweep_point(p)]
    for size in named:
        rows = [r for r in results.named() if r["size"] == size]
        if not rows:
            continue
        rounds = ", ".join(f"{b} {rounds_text(max(r['rounds'] for r in rows if r['backend'] == b))}"
                           for b in backends(rows))
        n_train = max(r.get("n_train") or 0 for r in rows)
        lines += [f"gpuclf: {size} ({n_train:,} training rows), median seconds ({rounds}):", *_table(rows)]
    sweep = [r for r in results.sweep() if r["size"] in points]
    if sweep:
        lines.append(f"gpuclf: where each backend overtakes {REFERENCE} over the sweep:")
        for step in order({r["step"] for r in sweep}, STEP_ORDER):
            for b in backends(sweep):
                c = step_crossover(results.sweep(), step, b)
                if c is not None:
                    lines.append(f"  {step} on {b}: {c.text()}")
    return lines
