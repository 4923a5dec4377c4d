"""Reading the bench JSON: one record per (size, step, backend), the machine's limits, the runs.

Several files merge (sizes, backend lists, the points of a sweep); for a
repeated (size, step, backend) the newest file wins. At each size only the
runs made on the same data and options as the newest run there count: an
older run on other data is left out, with a note, so that no speedup
divides times of two workloads. Nothing here computes a time: every number
comes from the files.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

from ..errors import GpuclfError, file_errors
from .sizes import is_sweep_point
from .stats import Spread

ACCEL = "cuml.accel"
RUN_GLOB, ACCEL_GLOB, PLAN_FILE = "benchmark-*.json", "cuml-accel-*.json", "bench-plan.json"
BACKEND_ORDER = ("cpu", "gpu", "numpy")


@dataclass
class Results:
    """What a set of bench JSON files holds.

    Attributes
    ----------
    rows : list of dict
        Per (size, step, backend): the step's ``extra_info`` plus ``spread``
        (:class:`~.stats.Spread`), ``median``, ``rounds`` and ``file``.
    peaks : list of dict
        Per run, array library and measurement: ``kind`` (``gemm`` or
        ``copy``), ``dtype``, ``rate`` (GFLOP/s or GB/s of the best round),
        ``spread``, ``blas`` and ``file``.
    runs : list of dict
        ``{"file", "doc"}`` per pytest-benchmark file, ``{"file", "accel"}``
        per cuml.accel file, oldest first.
    notes : list of str
        Why a cuml.accel column is missing, and which files were left out.
    plan : dict
        The rounds each backend got at each sweep size, and why (``bench-plan.json``).
    """

    rows: list = field(default_factory=list)
    peaks: list = field(default_factory=list)
    runs: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    plan: dict = field(default_factory=dict)

    def named(self) -> list:
        """Rows of named sizes (small, medium, full), without the SGD sweep's."""
        from .registry import SWEEP_PREFIX

        return [r for r in self.rows if not is_sweep_point(r["size"]) and not r["step"].startswith(SWEEP_PREFIX)]

    def sweep(self) -> list:
        """Rows of cost-vs-size sweep points."""
        return [r for r in self.rows if is_sweep_point(r["size"])]

    def peak(self, row: dict, kind: str = "gemm") -> dict | None:
        """The limit measured in the same run as ``row``, for its array library and dtype."""
        for p in self.peaks:
            if (p["file"] == row.get("file") and p["library"] == row.get("array_library") and p["kind"] == kind
                    and (kind != "gemm" or p["dtype"] == row.get("gemm_dtype"))):
                return p
        return None

    def efficiency(self, row: dict) -> tuple[float, float] | None:
        """``(GFLOP/s, % of the GEMM peak)`` of a GEMM-bound row at its median time, else None."""
        flops, peak = row.get("gemm_flops"), self.peak(row)
        if not flops or peak is None:
            return None
        rate = flops / row["median"] / 1e9
        return rate, 100 * rate / peak["rate"]


def _read(path) -> dict:
    with file_errors(f"the bench results {path}"):
        with open(path) as f:
            text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise GpuclfError(f"{path} is not valid JSON ({exc}); delete it or run gpuclf bench again") from None


def _accel_rows(doc: dict, name: str) -> list:
    from pytest_benchmark.stats import Stats

    rows = []
    for step, rec in doc.get("steps", {}).items():
        stats = Stats()
        for t in rec["times"]:
            stats.update(t)
        rows.append({"size": doc["size"], "step": step, "backend": ACCEL, "median": rec["median"],
                     "spread": Spread.of({**stats.as_dict(), "median": rec["median"]}),
                     "rounds": len(rec["times"]), "warmup_rounds": doc.get("warmup_rounds", 0),
                     "figures": rec.get("figures", {}), "n_train": doc.get("n_train"), "n_test": doc.get("n_test"),
                     "notes": [], "host_peak_rss_bytes": None, "device_peak_bytes": None,
                     "data_source": doc.get("data_source"), "file": name})
    return rows


def _peak(info: dict, stats: dict, name: str) -> dict:
    spread = Spread.of(stats)
    work = info["flops"] / 1e9 if info["peak"] == "gemm" else info["bytes"] / 1e9
    return {**info, "kind": info["peak"], "rate": work / spread.min, "spread": spread, "file": name}


#: What must match for two runs at one size to be one workload (:func:`gpuclf.report.compare.check_comparable`'s terms).
SETTINGS = ("data_source", "n_train", "n_test", "data_fingerprint", "config")


def settings(doc: dict) -> dict:
    """The data and options a bench run timed (its ``gpuclf`` record), in :func:`check_comparable`'s terms."""
    info = doc.get("gpuclf", {})
    return {k: info[k] if k != "config" else info.get(k, {}) for k in SETTINGS if k in info or k == "config"}


def _other_workload(doc: dict, newest: dict) -> str | None:
    """What differs between a run and the newest run at its size, or None."""
    mine = settings(doc)
    for k in SETTINGS:
        if mine.get(k) != newest.get(k):
            return f"its {k.replace('_', ' ')} {mine.get(k)!r} is not {newest.get(k)!r}"
    return None


def load(paths) -> Results:
    """Read the bench suite's pytest-benchmark JSON, cuml.accel JSON and the plan into :class:`Results`.

    Raises
    ------
    GpuclfError
        For a file that is unreadable, not JSON, or neither kind.
    """
    docs = sorted(((_read(p), os.path.basename(p)) for p in paths), key=lambda d: d[0].get("datetime", ""))
    newest = {d.get("gpuclf", {}).get("size"): settings(d) for d, _ in docs if "benchmarks" in d}
    rows, out = {}, Results()
    for doc, name in docs:
        if doc.get("gpuclf_bench_plan"):
            out.plan.update(doc.get("sizes", {}))
            continue
        if doc.get("gpuclf_cuml_accel"):
            if not doc.get("available"):
                out.notes.append(f"cuml.accel column skipped at {doc.get('size')}: {doc.get('reason')}")
                continue
            out.runs.append({"file": name, "accel": doc})
            rows.update({(r["size"], r["step"], ACCEL): r for r in _accel_rows(doc, name)})
            continue
        if "benchmarks" not in doc:
            raise GpuclfError(f"{name} is neither pytest-benchmark JSON nor a cuml.accel result")
        size = doc.get("gpuclf", {}).get("size")
        why = _other_workload(doc, newest[size])
        if why:
            out.notes.append(f"{name} left out: it timed {size} on other data or options than the newest run "
                             f"there ({why}); time it again or delete it")
            continue
        out.runs.append({"file": name, "doc": doc})
        for b in doc["benchmarks"]:
            info = b.get("extra_info", {})
            if "peak" in info:
                out.peaks.append(_peak(info, b["stats"], name))
            elif "step" in info:
                rows[(info["size"], info["step"], info["backend"])] = {
                    **info, "median": b["stats"]["median"], "rounds": b["stats"]["rounds"],
                    "spread": Spread.of(b["stats"]), "file": name}
    out.rows = list(rows.values())
    return out


def shared_estimator(a: dict, b: dict) -> str:
    """The estimator two rows both ran, in words (``scikit-learn SVC``), or ``""`` where they differ.

    Two backends that run the same library's same class with the same
    parameters for every role of a step (the cpu and numpy backends both hand
    the SVC to scikit-learn, see ``Backend.placement``) time one computation
    twice: their difference is noise, never a ranking. A step with no
    estimator (the CSV reader) is not such a pair.
    """
    def ran(row):
        return {role: (info.get("device"), info.get("library"), info.get("class"), info.get("params"))
                for role, info in (row.get("estimators") or {}).items()}

    mine = ran(a)
    if not mine or mine != ran(b):
        return ""
    return ", ".join(dict.fromkeys(f"{library} {cls}" for _, library, cls, _ in mine.values()))


def _natural(text: str) -> list:
    """Sort key reading the numbers in a label as numbers (``sgd_sweep:...:500`` before ``...:1000``)."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text)]


def order(values, known) -> list:
    """``values`` in the order of ``known``, the others after, in natural order."""
    first = [v for v in known if v in values]
    return first + sorted((v for v in set(values) if v not in known), key=_natural)


def backends(rows) -> list:
    return order({r["backend"] for r in rows}, (*BACKEND_ORDER, ACCEL))


def sizes(rows) -> list:
    """Size labels by their training rows, smallest first."""
    n = {}
    for r in rows:
        n[r["size"]] = max(n.get(r["size"], 0), r.get("n_train") or 0)
    return sorted(n, key=lambda s: (n[s], s))
