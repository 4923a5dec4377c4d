"""What ran where: one record per call of a swapped estimator, and :func:`summary` over them.

Each call of a swapped estimator's public method (``fit``, ``predict``,
``transform``, ...) is recorded with where it ran (gpuclf's kernels on the
chosen backend, or scikit-learn's own estimator), its seconds, and, for a
fallback, why. Calls made inside another swapped estimator (the binary
estimators of a one-vs-rest) are recorded under it, so the table shows both.
"""
from __future__ import annotations

import contextvars
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Call", "Summary", "clear", "record", "summary"]

_LOCK = threading.Lock()
_CALLS: list["Call"] = []
_OUTER: contextvars.ContextVar[str] = contextvars.ContextVar("gpuclf_accel_outer", default="")


@dataclass(frozen=True)
class Call:
    """One call of a swapped estimator's method.

    Attributes
    ----------
    estimator : str
        Its class name, after its enclosing swapped estimator's (``OneVsRestClassifier > SGDClassifier``).
    method : str
    where : str
        ``"gpuclf (numpy)"``, ``"gpuclf (gpu)"``, ``"cuML (gpu)"`` or ``"scikit-learn"``.
    seconds : float
    reason : str
        Why scikit-learn ran it ("" where gpuclf did).
    """

    estimator: str
    method: str
    where: str
    seconds: float
    reason: str = ""


@contextmanager
def record(estimator: str, method: str, where):
    """Time the body and record it as one call.

    ``where`` is a string, a ``(where, reason)`` pair, or a callable giving either (asked after the body).

    Nested records name their enclosing estimator. A body that raises is not recorded (its error is the user's).
    """
    outer = _OUTER.get()
    name = f"{outer} > {estimator}" if outer else estimator
    token = _OUTER.set(name)
    start = time.perf_counter()
    try:
        yield
    finally:
        _OUTER.reset(token)
    seconds = time.perf_counter() - start
    place = where() if callable(where) else where
    place, reason = place if isinstance(place, tuple) else (place, "")
    with _LOCK:
        _CALLS.append(Call(name, method, place, seconds, reason))


def clear() -> None:
    """Forget every recorded call."""
    with _LOCK:
        _CALLS.clear()


class Summary(list):
    """Rows of :func:`summary` (dicts), shown as a table: ``print(summary())`` or a notebook cell's last line."""

    columns = ("estimator", "method", "where", "calls", "seconds", "reason")

    def __str__(self) -> str:
        if not self:
            return "gpuclf.accel: no call of a swapped estimator yet"
        cells = [[str(c) for c in self.columns]] + [
            [r["estimator"], r["method"], r["where"], str(r["calls"]), f"{r['seconds']:.3f}", r["reason"]]
            for r in self]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns) - 1)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row[:-1], widths)) + ("  " + row[-1] if row[-1] else "")
                 for row in cells]
        return "\n".join(line.rstrip() for line in lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from html import escape

        head = "".join(f"<th>{escape(c)}</th>" for c in self.columns)
        body = "".join("<tr>" + "".join(
            f"<td>{escape(f'{r[c]:.3f}' if c == 'seconds' else str(r[c]))}</td>" for c in self.columns) + "</tr>"
            for r in self)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def summary() -> Summary:
    """Each swapped estimator's calls, grouped by estimator, method, where they ran and why.

    Returns
    -------
    Summary
        A list of dicts with ``estimator``, ``method``, ``where``, ``calls``,
        ``seconds`` (their total) and ``reason`` (why scikit-learn ran them;
        empty where gpuclf did), in the order each group first ran. It prints
        as a table, and renders as one in a notebook.
    """
    groups: dict[tuple, dict] = {}
    with _LOCK:
        calls = list(_CALLS)
    for c in calls:
        key = (c.estimator, c.method, c.where, c.reason)
        row = groups.setdefault(key, {"estimator": c.estimator, "method": c.method, "where": c.where,
                                      "calls": 0, "seconds": 0.0, "reason": c.reason})
        row["calls"] += 1
        row["seconds"] += c.seconds
    return Summary(groups.values())
