"""The report's headline table: the book's key figures beside this run's, with the parity verdicts."""
from __future__ import annotations

import numpy as np

from gpuclf.chapter.published import BOOK, BY_DESIGN, HEADLINES, book_tolerance, is_book_setup, lookup, verdict
from gpuclf.report.html_page import esc
from gpuclf.report.words import pct


def _show(value, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "matrix":
        return " / ".join(", ".join(f"{int(v):,}" for v in row) for row in value)
    if unit == "params":
        return ", ".join(f"{k}={v}" for k, v in value.items())
    value = float(np.mean(value))
    return {"fraction": pct, "score": lambda v: f"{v:,.2f}", "number": lambda v: f"{v:.4f}"}[unit](value)


def _diff(book, run, unit: str) -> str:
    from gpuclf.chapter.published import difference

    d = difference(run, book)
    if d is None:
        return "–"
    if unit == "matrix":
        return f"largest cell {100 * d:.2f} pp of samples"
    if unit == "fraction":
        return f"{100 * d:+.2f} pp"
    return f"{d:+,.4f}" if unit == "number" else f"{d:+,.2f}"


def sgd_library(doc: dict) -> str | None:
    """The library the run's SGD came from (``scikit-learn``, ``gpuclf``), None before an SGD step ran."""
    return next((roles["sgd"]["library"] for roles in doc.get("placement", {}).values() if "sgd" in roles), None)


def headline_rows(doc: dict) -> list[list[str]]:
    """Rows of the headline table: figure, book, this run, difference, tolerance, verdict (HTML)."""
    steps, comparable, library = doc.get("steps", {}), is_book_setup(doc), sgd_library(doc)
    rows = []
    for h in HEADLINES:
        run = lookup(steps, h.key)
        if h.key.split(".")[0] not in steps:
            continue
        tol = book_tolerance(h, library)
        if run is None:
            v = "<span class=bad>not reached</span>"
        elif not comparable:
            v = "<span class=note>not compared: other data</span>"
        else:
            v = verdict(run, BOOK[h.key], tol)
            v = {"outside tolerance": f"<span class=bad>{v}</span>", "not compared": f"<span class=note>{v}</span>",
                 BY_DESIGN: f"<span class=note>{v}</span>"}.get(v, f"<span class=ok>{v}</span>")
        # A figure that differs by design shows by how much; one in a model's own units shows no difference.
        diff = _diff(BOOK[h.key], run, h.unit) if tol.comparable or tol.by_design else "–"
        # A tolerance is shown only where it was applied: on other data the difference stands alone.
        rows.append([esc(h.label), esc(_show(BOOK[h.key], h.unit)), esc(_show(run, h.unit)), esc(diff),
                     esc(tol.text) if comparable or not tol.comparable else "–", v])
    return rows
