"""Machine against machine: ``gpuclf bench --compare DIR DIR [...]`` puts bench results side by side.

Each folder (or JSON file) holds the results of ``gpuclf bench`` on one
machine. Per size both timed, per step and backend: each machine's median
and range, the speedup over the first machine (ratio of medians, with its
range), and each machine's own %-of-peak; above, the machines'
fingerprints with their differences listed, and their measured limits.
Runs on different data or options are refused in one line by
:func:`gpuclf.report.compare.check_comparable`, the rule of ``gpuclf compare``.
Writes ``machines.md`` and ``machines.html``; the JSON stays
pytest-benchmark's, so ``pytest-benchmark compare`` reads the same files.
"""
from __future__ import annotations

import glob
import os

from gpuclf.report.compare import check_comparable
from gpuclf.run.files import atomic_write

from ..errors import GpuclfError
from . import machine as fingerprints
from .cells import dtype_label, percent, seconds, speedup_cell
from .pages import Heading, Items, Table, Text, html_page, markdown
from .records import RUN_GLOB, Results, backends, load, order, sizes
from .records import settings as run_settings
from .registry import STEP_ORDER

MACHINES_HTML, MACHINES_MD = "machines.html", "machines.md"


def _paths(source: str) -> list:
    paths = sorted(glob.glob(os.path.join(source, RUN_GLOB))) if os.path.isdir(source) else [source]
    if not paths or not all(os.path.isfile(p) for p in paths):
        raise GpuclfError(f"{source} holds no gpuclf bench results (benchmark-*.json); "
                          "give the --out folder of a gpuclf bench run, or one of its JSON files")
    return paths


def _newest_run(results: Results, size: str) -> dict:
    docs = [r["doc"] for r in results.runs if "doc" in r and r["doc"].get("gpuclf", {}).get("size") == size]
    return max(docs, key=lambda d: d.get("datetime", ""))


def settings(results: Results, size: str) -> dict:
    """What must match for two machines' runs at ``size`` to compare, in :func:`check_comparable`'s terms."""
    return run_settings(_newest_run(results, size))


def _names(sources: list) -> list:
    names = [os.path.basename(os.path.normpath(s)) for s in sources]
    return names if len(set(names)) == len(names) else list(sources)


def comparison(all_results: list, names: list, common: list) -> list:
    """The comparison as blocks: fingerprints, limits, then per size one table of times, speedups and % of peak."""
    prints = [_newest_run(r, common[-1]).get("gpuclf", {}).get("machine", {}) for r in all_results]
    facts = [fingerprints.facts(fp) for fp in prints]
    keys = list(dict.fromkeys(k for f in facts for k in f))
    rows = [[k, *(f.get(k, "–") for f in facts), "≠" if len({f.get(k) for f in facts}) > 1 else ""] for k in keys]
    differ = [f"{names[i]} vs {names[0]}: " + "; ".join(fingerprints.differences(prints[0], fp) or ["nothing"])
              for i, fp in enumerate(prints) if i]
    out = [Heading(f"gpuclf bench: {' vs '.join(names)}", 1),
           Text(f"Bench results of {len(names)} machines side by side; speedups are over {names[0]} (ratio of "
                "medians, with the range from the slowest to the fastest pairing of rounds), and each "
                "machine's % of peak is against its own GEMM peak, measured in the same run."),
           Heading("Machines"), Table(["", *names, "differs"], rows, len(names) + 2),
           Text("Differences:"), Items(differ)]
    out += _limits(all_results, names, common)
    for size in common:
        out += _size_table(all_results, names, size)
    return out


def _limits(all_results, names, common) -> list:
    body = []
    for lib in ("numpy", "cupy"):
        for kind, dtype, unit in (("gemm", "float32", "GFLOP/s"), ("gemm", "float64", "GFLOP/s"),
                                  ("copy", None, "GB/s")):
            cells = []
            for res in all_results:
                files = {r["file"] for r in res.runs if "doc" in r and r["doc"].get("gpuclf", {}).get("size")
                         in common}
                rates = [p["rate"] for p in res.peaks if p["file"] in files and p["library"] == lib
                         and p["kind"] == kind and (dtype is None or p.get("dtype") == dtype)]
                cells.append(f"{max(rates):,.1f}" if rates else "–")
            if any(c != "–" for c in cells):
                what = f"{dtype_label(dtype)} GEMM" if kind == "gemm" else "copy"
                body.append([lib, f"{what} ({unit})", *cells])
    if not body:
        return []
    return [Heading("Limits"), Text("The best round of each run's own measurements (the highest over the sizes "
                                    "compared)."), Table(["Library", "Measurement", *names], body, 2)]


def _size_table(all_results, names, size) -> list:
    per = [{(r["step"], r["backend"]): r for r in res.rows if r["size"] == size} for res in all_results]
    keys = [k for k in per[0] if all(k in p for p in per[1:])]
    steps = order({s for s, _ in keys}, STEP_ORDER)
    names_b = backends([per[0][k] for k in keys])
    header = ["Step", "Backend", *(f"{n} (s)" for n in names), *(f"{n} vs {names[0]}" for n in names[1:]),
              *(f"{n} % of peak" for n in names)]
    body = []
    for step in steps:
        for b in names_b:
            if (step, b) not in per[0] or not all((step, b) in p for p in per[1:]):
                continue
            rows = [p[step, b] for p in per]
            cells = [step, b]
            for r in rows:
                s = r["spread"]
                cells.append(seconds(s.median) + (f" ({seconds(s.min)}–{seconds(s.max)})" if s.rounds > 1 else ""))
            cells += [speedup_cell(rows[0]["spread"], r["spread"]) for r in rows[1:]]
            for res, r in zip(all_results, rows):
                eff = res.efficiency(r)
                cells.append(f"{percent(eff[1])} of {dtype_label(r.get('gemm_dtype'))}" if eff else "–")
            body.append(cells)
    n_train = per[0][keys[0]].get("n_train") if keys else None
    title = f"{size}" + (f": {n_train:,} training rows" if n_train else "")
    return [Heading(title), Table(header, body, 2)]


def compare_machines(sources: list, out_dir: str) -> tuple[str, str]:
    """Compare the bench results of two or more machines; write ``machines.html`` and ``machines.md``.

    Parameters
    ----------
    sources : list of str
        ``--out`` folders of ``gpuclf bench`` (or single JSON files); the first is the reference.
    out_dir : str
        Folder for the two files (created if missing).

    Returns
    -------
    (str, str)
        Paths of ``machines.html`` and ``machines.md``.

    Raises
    ------
    GpuclfError
        Fewer than two sources, one without bench results, no size timed by
        all of them, or runs at a size on different data or options.
    """
    if len(sources) < 2:
        raise GpuclfError("--compare needs the bench results of at least two machines")
    all_results = [load(_paths(s)) for s in sources]
    timed = [set(sizes(r.rows)) for r in all_results]
    common = [s for s in sizes(all_results[0].rows) if all(s in t for t in timed[1:])]
    if not common:
        raise GpuclfError(f"cannot compare {' and '.join(sources)}: no size was timed by all of them ("
                          + "; ".join(f"{s}: {', '.join(sorted(t)) or 'none'}" for s, t in zip(sources, timed)) + ")")
    for size in common:
        check_comparable([settings(r, size) for r in all_results], list(sources))
    names = _names(sources)
    blocks = comparison(all_results, names, common)
    skipped = sorted(set().union(*timed) - set(common))
    if skipped:
        blocks.append(Text(f"Not compared (timed on some machines only): {', '.join(skipped)}."))
    os.makedirs(out_dir, exist_ok=True)
    html_path, md_path = os.path.join(out_dir, MACHINES_HTML), os.path.join(out_dir, MACHINES_MD)
    html_bytes = html_page(f"gpuclf bench: {' vs '.join(names)}", blocks, out_dir)
    md_bytes = markdown(blocks).encode("utf-8")
    atomic_write(html_path, lambda f: f.write(html_bytes))
    atomic_write(md_path, lambda f: f.write(md_bytes))
    return html_path, md_path
