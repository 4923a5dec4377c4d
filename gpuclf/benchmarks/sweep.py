"""Cost against size: each step's time over the sweep's training rows, its growth exponent and crossovers.

A sweep (``gpuclf bench --sizes``) times the steps at several training
sizes with the same options; :func:`curves` gathers each (step, backend)'s
medians, :func:`exponent` fits ``seconds = c * rows ** exponent``, and
:func:`step_crossover` finds from what size a backend is faster than
scikit-learn, where the rounds allow a verdict and the two backends ran
different estimators. :func:`sweep_section` is the report's section on it.
"""
from __future__ import annotations

from .cells import COST_CHART, REFERENCE, chart_names, percent, seconds
from .pages import Heading, Image, Table, Text
from .records import ACCEL, Results, backends, order, shared_estimator
from .registry import STEP_ORDER
from .sizes import TEST_PER_TRAIN, is_sweep_point
from .stats import MIN_ROUNDS, Crossover, crossover, fit_power_law


def curves(rows: list) -> dict:
    """``{(step, backend): [(n_train, Spread), ...]}`` of the sweep rows, ascending in rows."""
    out: dict = {}
    for r in rows:
        out.setdefault((r["step"], r["backend"]), []).append((r["n_train"], r["spread"]))
    return {k: sorted(v, key=lambda p: p[0]) for k, v in out.items()}


def exponent(points) -> float | None:
    """The fitted growth exponent of a curve, or None below two sizes."""
    if len({n for n, _ in points}) < 2:
        return None
    return fit_power_law([n for n, _ in points], [s.median for _, s in points])[0]


def step_crossover(rows: list, step: str, backend: str) -> Crossover | None:
    """Where ``backend`` overtakes the reference on ``step`` over the sweep ``rows``.

    None for the reference itself and below two sizes both measured. Where
    both ran the same estimator at every such size (:func:`~.records.shared_estimator`),
    the result is ``kind="same"``: not ranked, whatever the times.
    """
    if backend == REFERENCE:
        return None
    mine, ref = ({r["n_train"]: r for r in rows if (r["step"], r["backend"]) == (step, b)}
                 for b in (backend, REFERENCE))
    common = sorted(set(mine) & set(ref))
    if len(common) < 2:
        return None
    shared = {shared_estimator(mine[n], ref[n]) for n in common}
    if len(shared) == 1 and "" not in shared:
        return Crossover("same", None, common[0], common[-1], estimator=shared.pop())
    return crossover(common, [ref[n]["spread"] for n in common], [mine[n]["spread"] for n in common])


def _plan_table(plan: dict, names: list, points: list) -> list:
    if not plan:
        return []
    body = []
    for n in points:
        decided = {d["backend"]: d for d in plan.get(str(n), [])}
        body.append([f"{n:,}", *(f"{decided[b]['rounds']}: {decided[b]['why']}" if b in decided else "–"
                                 for b in names)])
    return [Heading("Rounds at each size", 3),
            Text("Each backend gets its rounds at a size where they fit in the time budget (`--budget`, minutes per "
                 "backend and size), estimated from the sizes already measured (`gpuclf/benchmarks/plan.py`); one "
                 "that does not fit even one round stops there."),
            Table(["Rows", *names], body)]


def sweep_section(results: Results, plan: dict) -> list:
    rows = results.sweep()
    if not rows:
        return []
    planned = {d["backend"] for s, ds in plan.items() if is_sweep_point(s) for d in ds}
    names = [b for b in backends([*rows, *({"backend": b} for b in planned)]) if b != ACCEL]
    points = sorted({r["n_train"] for r in rows} | {int(s) for s in plan if is_sweep_point(s)})
    lines = curves(rows)
    steps = order({r["step"] for r in rows}, STEP_ORDER)
    header = ["Step", "Backend", *(f"{n:,}" for n in points), "exponent", f"overtakes {REFERENCE}"]
    body, eff_body = [], []
    at = {(r["step"], r["backend"], r["n_train"]): r for r in rows}
    for step in steps:
        for b in names:
            pts = lines.get((step, b))
            if not pts:
                continue
            mine = dict(pts)
            cells = [step, b, *(f"{seconds(mine[n].median)} ({seconds(mine[n].min)}–{seconds(mine[n].max)})"
                                if n in mine and mine[n].rounds > 1 else seconds(mine[n].median) if n in mine
                                else "–" for n in points)]
            e = exponent(pts)
            cells.append("–" if e is None else f"{e:.2f}")
            c = step_crossover(rows, step, b)
            cells.append("–" if c is None else c.text())
            body.append(cells)
            effs = [results.efficiency(at[step, b, n]) if (step, b, n) in at else None for n in points]
            if any(effs):
                eff_body.append([step, b, *(percent(e[1]) if e else "–" for e in effs)])
    lo, hi = points[0], points[-1]
    out = [Heading("Cost vs size"),
           Text(f"Training rows from {lo:,} to {hi:,} (test rows: one per {TEST_PER_TRAIN}), with the same options at "
                "every size: small's forest (20 trees) and grid (2,000 rows), and scikit-learn's SGD capped at 100 "
                "epochs. Each cell is the median seconds (min–max of the rounds). The exponent is the slope of a "
                "least-squares line through the medians on log-log axes (1: cost grows like the rows, 2: like "
                f"their square); 'overtakes {REFERENCE}' is the size from which the backend is faster than "
                "scikit-learn at every larger size measured, interpolated on log-log axes between the two sizes "
                "around it, where faster means its slowest round beat scikit-learn's fastest: where the rounds "
                f"overlap it gives no verdict, nor at a size with fewer than {MIN_ROUNDS} rounds (too few to tell "
                "noise from a difference), nor where both backends ran the same estimator (the numpy backend "
                "hands the SVCs to scikit-learn, as cpu does). The SVC steps fit the book's fixed slices (2,000 "
                "rows for OvO, 1,000 for OvR) at every size: only their predictions on the growing test rows "
                "grow, so their curves are flatter."),
           *_plan_table(plan, names, points),
           Heading("Median seconds", 3), Table(header, body, 2)]
    if eff_body:
        out += [Heading("GEMM efficiency at each size (% of peak)", 3),
                Text("As in the tables per size: the step's GEMM FLOPs per median second over the run's own GEMM "
                     "peak, in the backend's dtype."),
                Table(["Step", "Backend", *(f"{n:,}" for n in points)], eff_body, 2)]
    if COST_CHART in chart_names(results):  # drawn from two sizes up
        out.append(Image(COST_CHART, "Median seconds against training rows, log-log, one panel per step; "
                                     "bars: min–max of the rounds; dashed: the fitted power law"))
    return out
