"""``report.html``: the run read as the chapter, one self-contained file, and the PNGs beside it.

Everything is read back from the output folder (``results.json`` and
``arrays/<step>.npz``), so a report can be rebuilt without re-running
anything, and a run of a few steps gets a report of those steps. The words
are in :mod:`gpuclf.report.words`, the figures in :mod:`gpuclf.report.figures`.
"""
from __future__ import annotations

import base64
import json
import os

from gpuclf.backends.probes import cuda_version
from gpuclf.chapter import STEPS
from gpuclf.chapter.published import sgd_claim
from gpuclf.data.classes import class_names, detector, is_book_task
from gpuclf.errors import GpuclfError, file_errors
from gpuclf.report.deviations import deviations, warnings_by_step
from gpuclf.report.figures import render_png
from gpuclf.report.headlines import headline_rows, sgd_library
from gpuclf.report.html_page import esc, page, table
from gpuclf.report.sections import PLOTS, step_html
from gpuclf.report.words import title
from gpuclf.run.files import atomic_write
from gpuclf.run.record import RESULTS, check_record
from gpuclf.run.store import load_arrays

FIGURES_DIR = "figures"
REPORT = "report.html"


def load_results(out_dir: str, what: str = "build a report") -> dict:
    """The ``results.json`` of a run folder.

    Raises
    ------
    GpuclfError
        When ``out_dir`` holds no readable ``results.json``, or one not
        shaped like gpuclf's (:func:`gpuclf.run.record.check_record`).
    """
    path = os.path.join(out_dir, RESULTS)
    with file_errors(f"cannot {what}: {path}", reads=path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    return check_record(doc, path)


def run_label(doc: dict) -> str:
    """Backend, device and data in a few words: the stamp on every figure."""
    return (f"backend {doc.get('backend')} · {doc.get('environment', {}).get('device', '?')} · "
            f"{doc.get('data_source')} ({doc.get('n_train', 0):,} train)")


def _mib(n) -> str:
    return "–" if n is None else f"{n / 2**20:,.1f}"


def _placement_html(roles: dict) -> str:
    parts = []
    for role, p in roles.items():
        text = f"{role}: {p.get('device', '?')} ({p.get('library', '?')})"
        note = f"<br><small>{esc(p['note'])}</small>" if p.get("note") else ""
        parts.append(esc(text) + note)
    return "<br>".join(parts) or "–"


def _facts_html(doc: dict) -> str:
    env = doc.get("environment", {})
    versions = ", ".join(f"{k} {v}" for k, v in env.get("versions", {}).items() if v and k != "platform")
    facts = [("Backend", doc.get("backend")), ("Device", env.get("device")),
             ("Data", f"{doc.get('data_source')}: {doc.get('n_train', 0):,} train, {doc.get('n_test', 0):,} test"
                      + (f" (read by {doc['data_reader']})" if doc.get("data_reader") else "")),
             ("Classes", ", ".join(class_names(doc))), ("Binary detector", f"the {detector(doc)}"),
             ("Platform", env.get("versions", {}).get("platform")), ("Libraries", versions),
             ("Total time", f"{sum(doc.get('seconds', {}).values()):,.2f} s")]
    if "cuda_runtime" in env:
        facts.insert(2, ("CUDA driver / runtime",
                         f"{cuda_version(env.get('cuda_driver'))} / {cuda_version(env['cuda_runtime'])}"))
    return "<table class='facts'>" + "".join(
        f"<tr><th>{k}</th><td>{esc(v)}</td></tr>" for k, v in facts) + "</table>"


def _steps_html(doc: dict, order: list) -> str:
    rows = []
    for step in order:
        mem = doc.get("memory", {}).get(step, {})
        rows.append([f"<a href='#{esc(step)}'>{esc(title(step, doc))}</a><br><code>{esc(step)}</code>",
                     f"{doc.get('seconds', {}).get(step, 0):,.2f}", _mib(mem.get("host_peak_rss_bytes")),
                     _mib(mem.get("device_peak_bytes")), _placement_html(doc.get("placement", {}).get(step, {}))])
    return table(["Step", "Seconds", "Host peak (MiB)", "Device peak (MiB)", "Where it ran"], rows,
                 left=(0, 4), raw=True)


def _deviations_html(doc: dict) -> str:
    items = [f"<li>{esc(d)}</li>" for d in deviations(doc)]
    items += [f"<li><b>{esc(name)}</b>: {esc(w)}</li>" for name, w in warnings_by_step(doc)]
    if not items:
        return "<p>None: this run used the book's data and settings, and no library warned.</p>"
    return "<ul>" + "".join(items) + "</ul>"


def _headline_html(doc: dict) -> str:
    if not is_book_task(doc):
        return (f"<p>Not shown: this run's task is not the book's ({esc(doc.get('data_source'))}, the "
                f"{esc(detector(doc))}), so the book's MNIST figures say nothing about it.</p>")
    rows = headline_rows(doc)
    if not rows:
        return "<p>No step of the headline figures ran.</p>"
    sgd = "" if sgd_library(doc) in (None, "scikit-learn") else (
        f" On this run, {sgd_claim()}; those figures show their difference without a verdict, and its "
        "thresholds are in its own units.")
    return ("<p>The chapter's key figures, as published in the book, against this run. When the SGD is "
            "scikit-learn's (the cpu backend), the 5-detector's figures must equal the book's: scikit-learn "
            "reproduces them to the last digit. Other figures are judged against the parity tolerance of the "
            f"figure (docs/parity.md).{esc(sgd)} On other data than the book's full MNIST, nothing is judged.</p>"
            + table(["Figure", "Book", "This run", "Difference", "Tolerance", "Verdict"], rows, left=(0, 4, 5),
                    raw=True))


def _figure_html(name: str, caption: str, alt: str, png: bytes) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{b64}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption)} <span class=note>({esc(name)})</span></figcaption></figure>")


def _draw_plots(out_dir: str, doc: dict, order: list) -> dict:
    """Write every plot whose step (and arrays) exist; returns {step: [figure HTML]}."""
    steps, label = doc.get("steps", {}), run_label(doc)
    fig_dir = os.path.join(out_dir, FIGURES_DIR)
    with file_errors(fig_dir):
        os.makedirs(fig_dir, exist_ok=True)
    shown, damaged = {}, set()
    for plot in PLOTS:
        if plot.step == "run":
            ok, arrays = bool(order), {}
        else:
            try:
                arrays = load_arrays(out_dir, plot.step)
            except GpuclfError as exc:  # a damaged arrays/<step>.npz: skip its plots, say why once
                if plot.step not in damaged:
                    damaged.add(plot.step)
                    shown.setdefault(plot.step, []).append(f"<p class=note>Plots skipped: {esc(str(exc))}</p>")
                continue
            ok = plot.step in steps and all(k in arrays for k in plot.needs)
        if not ok:
            continue
        scope = {s: steps[s] for s in order} if plot.step == "run" else steps
        png = render_png(plot.draw(arrays, scope, doc), label)
        atomic_write(os.path.join(fig_dir, plot.name), lambda f, png=png: f.write(png))
        shown.setdefault(plot.step, []).append(
            _figure_html(plot.name, plot.caption_for(steps, doc), plot.alt(arrays, scope, doc), png))
    return shown


def build_report(out_dir: str) -> str:
    """Draw the chapter's plots and write ``out_dir/report.html``.

    Parameters
    ----------
    out_dir : str
        A run's output folder, holding ``results.json`` and ``arrays/``.

    Returns
    -------
    str
        Path of the HTML report. PNGs are written to ``out_dir/figures/``,
        one per plot whose step's results exist, and embedded in the page.

    Raises
    ------
    GpuclfError
        When ``out_dir`` holds no readable ``results.json``.
    """
    doc = load_results(out_dir)
    steps = doc.get("steps", {})
    order = [s for s in STEPS if s in steps] + [s for s in steps if s not in STEPS]
    figures = _draw_plots(out_dir, doc, order)
    what = "MNIST" if is_book_task(doc) else str(doc.get("data_source", "data")).split(":")[-1]
    heading = f"{what} classification (Hands-On ML, chapter 3) on the {doc.get('backend')} backend"
    sections = [("setup", "This run"), ("deviations", "Differences from the book's setup, and warnings"),
                ("headline", "The book's figures against this run")]
    sections += [(s, title(s, doc)) for s in order] + [("timing", "Time and memory per step")]
    toc = "<nav><h2>Contents</h2><ol>" + "".join(f"<li><a href='#{esc(a)}'>{esc(t)}</a></li>"
                                                  for a, t in sections) + "</ol></nav>"
    body = [f"<h1>{esc(heading)}</h1>",
            "<p>The steps of Géron's chapter 3 (MNIST classification) as run by gpuclf: what each step does, "
            "its figures with units, and the chapter's plots. Every plot names the backend it ran on.</p>",
            toc, "<h2 id='setup'>This run</h2>", _facts_html(doc),
            "<h2 id='deviations'>Differences from the book's setup, and warnings</h2>", _deviations_html(doc),
            "<h2 id='headline'>The book's figures against this run</h2>", _headline_html(doc)]
    for step in order:
        body += [f"<h2 id='{esc(step)}'>{esc(title(step, doc))}</h2>", step_html(step, steps[step], doc),
                 *figures.get(step, [])]
    body += ["<h2 id='timing'>Time and memory per step</h2>", _steps_html(doc, order), *figures.get("run", [])]
    path = os.path.join(out_dir, REPORT)
    text = page(heading, body)
    atomic_write(path, lambda f: f.write(text))
    return path
