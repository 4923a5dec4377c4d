"""How many rounds each backend gets at each size, within the time budget, and why.

Every backend is timed in ``rounds`` rounds (3 by default) at every size
where that fits in the budget: the most minutes its rounds at one size may
take. Before a size, one round of each backend is estimated from what is
already measured (earlier sizes of the sweep, and results already in the
output folder): each step's time at the largest size measured, grown to the
new size with the step's fitted growth exponent (at least 1; 2 while only
one size is known: the KNN steps grow with rows squared). A backend whose
rounds do not fit gets fewer; one whose single round does not fit stops
there, and at every larger size. With nothing measured yet, the rounds run
as asked, and the plan says so.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .stats import fit_power_law, rounds_text

#: Growth exponent assumed where only one size is measured, and the floor of a fitted one.
DEFAULT_EXPONENT, MIN_EXPONENT = 2.0, 1.0


@dataclass(frozen=True)
class Decision:
    """Rounds of one backend at one size, and the reason in words."""

    size: str
    backend: str
    rounds: int
    why: str

    def to_dict(self) -> dict:
        return asdict(self)


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def estimate_round(rows: list, backend: str, n_train: int) -> float | None:
    """Seconds of one round of ``backend`` at ``n_train`` rows, from measured rows; None if none.

    Parameters
    ----------
    rows : list of dict
        Measured records with ``step``, ``backend``, ``n_train`` and ``median``.
    backend : str
    n_train : int
        Training rows of the size to estimate.
    """
    by_step: dict[str, dict[int, float]] = {}
    for r in rows:
        if r["backend"] == backend and r.get("n_train"):
            by_step.setdefault(r["step"], {})[r["n_train"]] = r["median"]
    if not by_step:
        return None
    total = 0.0
    for points in by_step.values():
        n0 = max(points)
        exponent = DEFAULT_EXPONENT
        if len(points) > 1:
            exponent = max(MIN_EXPONENT, fit_power_law(list(points), list(points.values()))[0])
        total += points[n0] * (n_train / n0) ** exponent
    return total


def decide(size: str, backend: str, estimate: float | None, rounds: int, budget_s: float,
           stopped: bool = False) -> Decision:
    """Rounds of ``backend`` at ``size``: ``rounds`` where they fit in ``budget_s``, fewer, or none."""
    if stopped:
        return Decision(size, backend, 0, "stopped at this size or a smaller one")
    if estimate is None:
        return Decision(size, backend, rounds, f"{rounds_text(rounds)} as asked: no earlier timing to estimate from")
    if estimate * rounds <= budget_s:
        return Decision(size, backend, rounds, f"{rounds_text(rounds)}, estimated at {minutes(estimate * rounds)} "
                                               f"(budget {minutes(budget_s)})")
    fit = int(budget_s // estimate)
    if fit >= 1:
        return Decision(size, backend, fit, f"{fit} of {rounds} rounds: {rounds} were estimated at "
                                            f"{minutes(estimate * rounds)}, over the budget of {minutes(budget_s)}")
    return Decision(size, backend, 0, f"stopped: one round was estimated at {minutes(estimate)}, over the budget "
                                      f"of {minutes(budget_s)}")
