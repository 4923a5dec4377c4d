"""``gpuclf compare RUN_DIR RUN_DIR [...]``: runs side by side, judged against the parity tolerances.

The first run is the reference: every other run's seconds are shown as a
speedup over it, and every figure gets a verdict against it (identical,
within tolerance, outside tolerance) from :data:`gpuclf.chapter.published.TOLERANCES`.
Runs must share their data and options (the steps may differ: only the
steps all runs finished are compared). Writes ``compare.html`` (the
report's style) and ``compare.md``.
"""
from __future__ import annotations

import os

from gpuclf.chapter import STEPS
from gpuclf.chapter.published import (
    BY_DESIGN,
    FIGURE_FAMILIES,
    UNCALIBRATED,
    applied_tolerance,
    difference,
    is_book_setup,
    sgd_claim,
    verdict,
)
from gpuclf.errors import GpuclfError
from gpuclf.report.document import load_results
from gpuclf.report.headlines import sgd_library
from gpuclf.report.html_page import esc, page, table
from gpuclf.report.words import title as step_title
from gpuclf.run.files import atomic_write, check_writable

COMPARE_HTML, COMPARE_MD = "compare.html", "compare.md"
#: What must be equal for two runs to be comparable (``steps`` aside); the
#: data's content fingerprint too, where both runs recorded one.
SAME = ("data_source", "n_train", "n_test")
FINGERPRINT = "data_fingerprint"


def check_comparable(docs: list[dict], dirs: list[str]) -> None:
    """Refuse, in one line, runs made on different data or with different options.

    Raises
    ------
    GpuclfError
        Naming the two folders and the first thing that differs.
    """
    ref = docs[0]
    for doc, folder in zip(docs[1:], dirs[1:]):
        differ = [(k, ref.get(k), doc.get(k)) for k in SAME if ref.get(k) != doc.get(k)]
        if FINGERPRINT in ref and FINGERPRINT in doc and ref[FINGERPRINT] != doc[FINGERPRINT]:
            differ.append(("data content", ref[FINGERPRINT], doc[FINGERPRINT]))
        a = {k: v for k, v in ref.get("config", {}).items() if k != "steps"}
        b = {k: v for k, v in doc.get("config", {}).items() if k != "steps"}
        differ += [(f"option {k}", a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
        if differ:
            what, x, y = differ[0]
            raise GpuclfError(f"cannot compare {dirs[0]} and {folder}: they ran with a different {what} "
                              f"({x!r} vs {y!r}); compare runs of the same data and options")


def _short(v) -> str:
    """A figure in a table cell: numbers to 4 decimals, matrices by their size."""
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) >= 100 else f"{v:.4f}"
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return f"{len(v)} rows (see the report)"
    if isinstance(v, list) and v and isinstance(v[0], list):
        return f"{len(v)}×{len(v[0])} matrix" if len(v) > 2 else " / ".join(", ".join(map(str, r)) for r in v)
    if isinstance(v, list):
        return ", ".join(_short(x) for x in v)
    if isinstance(v, dict):
        return ", ".join(f"{k}={_short(x)}" for k, x in v.items())
    return str(v)


def _difference(a, b, why: str = "not judged") -> str:
    """A verdict cell for a figure without a tolerance here: identical, or how far ``a`` lies from ``b``."""
    if a == b:
        return "identical"
    d = difference(a, b)
    if d is None:
        return why
    if isinstance(a, list) and a and isinstance(a[0], list):
        return f"{why}: largest cell {100 * d:.2f} pp of samples apart"
    return f"{why}: {d:+.4g}"


def _speedup(ref: float, other: float) -> str:
    return f"{ref / other:,.1f}×" if other > 0 else "–"


def _mib(n) -> str:
    return "–" if n is None else f"{n / 2**20:,.0f}"


def comparison(docs: list[dict], names: list[str]) -> list[tuple[str, list, list]]:
    """The comparison as (title, header, rows) sections, for HTML and Markdown alike."""
    common = [s for s in STEPS if all(s in d.get("steps", {}) for d in docs)]
    sections = [("Runs", ["", *names], [
        ["backend", *(d.get("backend") for d in docs)],
        ["device", *(d.get("environment", {}).get("device") for d in docs)],
        ["data", *(f"{d.get('data_source')} ({d.get('n_train', 0):,} train, {d.get('n_test', 0):,} test)"
                   for d in docs)],
        ["libraries", *(", ".join(f"{k} {v}" for k, v in d.get("environment", {}).get("versions", {}).items()
                                  if v and k in ("numpy", "scikit-learn", "cupy", "cuml")) for d in docs)],
        ["seconds, compared steps", *(f"{sum(d['seconds'].get(s, 0) for s in common):,.2f}" for d in docs)]])]
    rows = []
    for s in common:
        secs = [d["seconds"].get(s, 0.0) for d in docs]
        rows.append([s, *(f"{t:,.2f}" for t in secs), *(_speedup(secs[0], t) for t in secs[1:])])
    total = [sum(d["seconds"].get(s, 0) for s in common) for d in docs]
    rows.append(["all compared steps", *(f"{t:,.2f}" for t in total), *(_speedup(total[0], t) for t in total[1:])])
    sections.append(("Seconds per step, and speedup over the first run",
                     ["Step", *names, *(f"speedup of {n}" for n in names[1:])], rows))
    rows = [[s, *(f"{_mib(d['memory'].get(s, {}).get('host_peak_rss_bytes'))} / "
                  f"{_mib(d['memory'].get(s, {}).get('device_peak_bytes'))}" for d in docs)] for s in common]
    sections.append(("Memory peaks per step (MiB, host / device)", ["Step", *names], rows))
    rows = []
    full_mnist = is_book_setup(docs[0])
    same_sgd = len({sgd_library(d) for d in docs} - {None}) <= 1
    for s in common:
        names_in_step = dict.fromkeys(k for d in docs for k in d["steps"][s] if not k.startswith("placement_"))
        for name in names_in_step:
            values = [d["steps"][s].get(name) for d in docs]
            tol = applied_tolerance(FIGURE_FAMILIES.get(f"{s}.{name}", "shown"), full_mnist, same_sgd)
            if tol is UNCALIBRATED or tol.by_design:  # the difference, without a verdict
                verdicts = [_difference(v, values[0], BY_DESIGN if tol.by_design else "not judged")
                            for v in values[1:]]
            else:
                verdicts = [verdict(v, values[0], tol) for v in values[1:]]
            rows.append([f"{s}: {name}", *(_short(v) for v in values), "–" if tol is UNCALIBRATED else tol.text,
                         *verdicts])
    sections.append(("Figures, judged against the first run", ["Figure", *names, "Tolerance",
                                                                *(f"{n} vs {names[0]}" for n in names[1:])], rows))
    return sections


def _summary(sections, docs: list[dict]) -> str:
    figures = sections[-1][2]
    n_runs = (len(sections[-1][1]) - 2) // 2 + 1
    verdicts = [v for row in figures for v in row[-(n_runs - 1):]]
    counts = {k: verdicts.count(k) for k in ("identical", "within tolerance", "outside tolerance", "not compared")}
    unjudged = sum(v.startswith("not judged") for v in verdicts)
    by_design = sum(v.startswith(BY_DESIGN) for v in verdicts)
    text = (f"{len(verdicts)} figure comparisons: {counts['identical']} identical, {counts['within tolerance']} "
            f"within tolerance, {counts['outside tolerance']} outside tolerance, {by_design} that differ by design "
            f"(precision and recall of two different SGDs), {counts['not compared']} shown but not judged (scores in "
            "each model's own units, per-sample values, derived tables)")
    sgd = f" {sgd_claim()}." if len({sgd_library(d) for d in docs} - {None}) > 1 else ""
    if is_book_setup(docs[0]):
        return (text + ". Tolerances: the parity table (gpuclf/chapter/published.py), set for full MNIST, which these "
                f"runs use; SGD decision thresholds and scores are in each SGD's own units and are not judged.{sgd}")
    d = docs[0]
    return (text + f", {unjudged} shown with their difference but without a verdict. These runs use "
            f"{d.get('data_source')} ({d.get('n_train', 0):,} train, {d.get('n_test', 0):,} test), not full MNIST "
            "with the book's 5-detector: the parity tolerances are set for full MNIST, so on this data only the "
            f"figures that must be identical on any data are judged.{sgd}")


def _markdown(sections, title: str, summary: str) -> str:
    lines = [f"# {title}", "", summary, ""]
    for heading, header, rows in sections:
        lines += [f"## {heading}", "", "| " + " | ".join(header) + " |",
                  "|" + "|".join(" --- " for _ in header) + "|"]
        lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


def _mark(cell: str) -> str:
    css = {"outside tolerance": "bad", "within tolerance": "ok", "identical": "ok", "not compared": "note",
           BY_DESIGN: "note"}
    kind = "not compared" if cell.startswith("not judged") else BY_DESIGN if cell.startswith(BY_DESIGN) else cell
    return f"<span class={css[kind]}>{esc(cell)}</span>" if kind in css else esc(cell)


def compare_runs(run_dirs: list[str], out_dir: str) -> tuple[str, str]:
    """Compare run folders and write ``compare.html`` and ``compare.md`` into ``out_dir``.

    Parameters
    ----------
    run_dirs : list of str
        Two or more output folders of ``gpuclf run``; the first is the reference.
    out_dir : str
        Folder for the two files (created if missing).

    Returns
    -------
    (str, str)
        Paths of ``compare.html`` and ``compare.md``.

    Raises
    ------
    GpuclfError
        Fewer than two folders, a folder without ``results.json``, runs on
        different data or options, or no step that all runs finished.
    """
    if len(run_dirs) < 2:
        raise GpuclfError("compare needs at least two run folders")
    docs = [load_results(d, "compare runs") for d in run_dirs]
    check_comparable(docs, run_dirs)
    if not any(all(s in d.get("steps", {}) for d in docs) for s in STEPS):
        raise GpuclfError(f"cannot compare {', '.join(run_dirs)}: no step was finished by every run")
    names = [f"{d.get('backend')} ({os.path.basename(os.path.normpath(p))})" for d, p in zip(docs, run_dirs)]
    sections = comparison(docs, names)
    title = f"gpuclf compare: {' vs '.join(d.get('backend', '?') for d in docs)}"
    check_writable(out_dir)
    summary = _summary(sections, docs)
    body = [f"<h1>{esc(title)}</h1>", f"<p>{esc(summary)}</p>"]
    for heading, header, rows in sections:
        n_text = len(header) - (len(run_dirs) - 1) if heading.startswith("Figures") else len(header)
        cells = [[esc(c) for c in r[:n_text]] + [_mark(c) for c in r[n_text:]] for r in rows]
        labels = {"Runs": range(len(header))}.get(heading, (0,))
        if heading.startswith("Figures"):
            labels = (0, len(header) - len(run_dirs))
        body += [f"<h2>{esc(heading)}</h2>", table(header, cells, left=labels, raw=True)]
    steps_note = ", ".join(f"{s} ({step_title(s, docs[0])})" for s in STEPS
                           if all(s in d.get("steps", {}) for d in docs))
    body.append(f"<p class=note>Steps compared: {esc(steps_note)}.</p>")
    html_path, md_path = os.path.join(out_dir, COMPARE_HTML), os.path.join(out_dir, COMPARE_MD)
    html_bytes, md_bytes = page(title, body), _markdown(sections, title, summary).encode("utf-8")
    atomic_write(html_path, lambda f: f.write(html_bytes))
    atomic_write(md_path, lambda f: f.write(md_bytes))
    return html_path, md_path
