"""Run a chapter-3 notebook of handson-ml3 with and without gpuclf.accel, offline, and compare (docs/accel.md).

    GPUCLF_MNIST=/path/mnist_784.npz python tools/handson/run_handson.py run NOTEBOOK --out DIR [--accel] [--backend numpy]
    python tools/handson/run_handson.py compare DIR/plain.json DIR/accel.json > table.md

``run`` executes the notebook (nothing of it is stored in this repository:
pass your own copy of ``03_classification.ipynb``) with nbclient, every cell
even after an error, after one added cell that makes ``fetch_openml`` read
``$GPUCLF_MNIST`` (``mnist_openml.py``: the same arrays and types as OpenML
gives) and, with ``--accel``, a second one: ``%load_ext gpuclf.accel``. An
exercise whose data cannot be downloaded (Titanic, spam: no network) stops at
its first error: its later cells would otherwise run on the MNIST arrays left
in the same variable names. It writes the executed copy and, after every
cell, a JSON of each cell's seconds, outcome, text output, group (SGD,
forest, SVC, KNN, dummy, the exercises) and the load average around it.
``compare`` puts two such runs side by side.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL_CALL = re.compile(r"\.fit\(|cross_val_|\.predict\(|\.score\(|decision_function|fit_transform|GridSearchCV|"
                        r"\.kneighbors\(")
GROUPS = [("forest", re.compile(r"forest_clf|RandomForest")), ("SVC", re.compile(r"svm_clf|ovr_clf|chain_clf|SVC\(")),
          ("KNN", re.compile(r"knn_clf|KNeighbors|grid_search")), ("dummy", re.compile(r"dummy_clf")),
          ("SGD", re.compile(r"sgd_clf|SGDClassifier|y_scores\b|y_train_pred\b|scaler"))]


def _seconds(cell) -> float | None:
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def _text(cell) -> str:
    """A cell's text outputs (results and printed lines), as a reader sees them."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stdout":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data") and "text/plain" in out.get("data", {}):
            if "image/png" not in out.data:
                parts.append(out.data["text/plain"])
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "\n".join(parts).strip()


def _groups(cells):
    """Each code cell's group: the exercise it answers, else the model it uses."""
    exercise = None
    for cell in cells:
        if cell.cell_type == "markdown":
            head = cell.source.lstrip()
            if re.match(r"#\s*Exercise", head):
                exercise = "exercises"
            m = re.match(r"##\s*(\d+)\.", head)
            if exercise and m:
                exercise = f"exercise {m.group(1)}"
            continue
        if exercise:
            yield exercise
            continue
        yield next((name for name, rx in GROUPS if rx.search(cell.source)), "other")


def run(args) -> int:
    import nbformat
    from nbclient import NotebookClient

    if not os.environ.get("GPUCLF_MNIST"):
        sys.exit("run_handson: set GPUCLF_MNIST to mnist_784.npz (X 70000x784, y, in OpenML's order)")
    nb = nbformat.read(args.notebook, as_version=4)
    added = [nbformat.v4.new_code_cell(
        f"import sys; sys.path.insert(0, {str(HERE)!r})\nimport mnist_openml; mnist_openml.patch()")]
    if args.accel:
        added.append(nbformat.v4.new_code_cell("%load_ext gpuclf.accel"))
    for cell in added:
        cell.metadata["tags"] = ["run_handson"]
    nb.cells[:0] = added
    groups = list(_groups(nb.cells))
    mode = "accel" if args.accel else "plain"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = out / f"{mode}-work"
    work.mkdir(exist_ok=True)
    if args.accel:
        os.environ["GPUCLF_BACKEND"] = args.backend
    client = NotebookClient(nb, timeout=args.timeout, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(work)}})
    doc = {"mode": mode, "backend": args.backend if args.accel else "scikit-learn",
           "started": dt.datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(), "cells": []}
    code_groups = iter(groups)
    failed = set()  # exercises whose data could not be had: their later cells are not run
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            group = next(code_groups)
            added_cell = "run_handson" in cell.metadata.get("tags", [])
            record = {"index": index - len(added), "group": group, "model": bool(MODEL_CALL.search(cell.source)),
                      "first_line": cell.source.strip().splitlines()[0][:70] if cell.source.strip() else ""}
            if group in failed:
                record.update(seconds=0.0, error="not run (the exercise's data is unavailable)", text="", load=None)
            else:
                load = os.getloadavg()[0]
                client.execute_cell(cell, index)
                errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
                record.update(seconds=_seconds(cell), error=errors[0].ename if errors else None, text=_text(cell),
                              load=[load, os.getloadavg()[0]])
                if errors and group.startswith("exercise"):
                    failed.add(group)
                print(f"{mode}: cell {record['index']} ({group}) {record['seconds'] or 0:.1f} s"
                      f"{' ' + record['error'] if record['error'] else ''}", file=sys.stderr, flush=True)
            if not added_cell:
                doc["cells"].append(record)
            (out / f"{mode}.json").write_text(json.dumps(doc, indent=1))
    nbformat.write(nb, str(out / f"{mode}.ipynb"))
    print(f"run_handson: {out / (mode + '.json')}", file=sys.stderr)
    return 0


def _verdict(a: str, b: str) -> str:
    if a == b:
        return "same"
    na = [float(x) for x in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", a)]
    nb = [float(x) for x in re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", b)]
    if na and len(na) == len(nb) and all(abs(x - y) <= 1e-6 * max(1.0, abs(x)) for x, y in zip(na, nb)):
        return "close"
    return "different"


def compare(args) -> int:
    plain = json.loads(Path(args.plain).read_text())
    accel = json.loads(Path(args.accel).read_text())
    rows = list(zip(plain["cells"], accel["cells"]))
    groups: dict[str, list] = {}
    for p, a in rows:
        g = groups.setdefault(p["group"], [0.0, 0.0, 0.0, 0.0])
        g[0] += p["seconds"] or 0
        g[1] += a["seconds"] or 0
        if p["model"]:
            g[2] += p["seconds"] or 0
            g[3] += a["seconds"] or 0
    print("| group | all cells, plain s | all cells, accel s | model cells, plain s | model cells, accel s |")
    print("| --- | ---: | ---: | ---: | ---: |")
    tot = [0.0] * 4
    for name, g in groups.items():
        tot = [t + x for t, x in zip(tot, g)]
        print(f"| {name} | {g[0]:.1f} | {g[1]:.1f} | {g[2]:.1f} | {g[3]:.1f} |")
    print(f"| **total** | {tot[0]:.1f} | {tot[1]:.1f} | {tot[2]:.1f} | {tot[3]:.1f} |")
    ratio = tot[3] / tot[2] if tot[2] else float("nan")
    print(f"\nModel cells under accel: {ratio:.3f} of plain scikit-learn's time.\n")
    loads = [x for run in (plain, accel) for c in run["cells"] if c.get("load") for x in c["load"]]
    if loads:
        print(f"Load average (1 min) around the cells: {min(loads):.1f} to {max(loads):.1f} on "
              f"{plain.get('cpus')} cores; cells compared: {len(rows)} (plain started {plain['started']}, "
              f"accel {accel['started']}).\n")
    print("Cells that took over half a second, failed, or printed something else in one run than in the other:\n")
    print("| cell | group | first line | plain s | accel s | plain | accel | outputs |")
    print("| ---: | --- | --- | ---: | ---: | --- | --- | --- |")
    for p, a in rows:
        if max(p["seconds"] or 0, a["seconds"] or 0) < 0.5 and not (p["error"] or a["error"]) \
                and p["text"] == a["text"]:
            continue
        status = lambda r: r["error"] or "ok"  # noqa: E731
        line = p["first_line"].replace("|", "\\|")
        print(f"| {p['index']} | {p['group']} | `{line}` | {p['seconds'] or 0:.2f} | {a['seconds'] or 0:.2f} | "
              f"{status(p)} | {status(a)} | {_verdict(p['text'], a['text'])} |")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("notebook")
    r.add_argument("--out", required=True)
    r.add_argument("--accel", action="store_true")
    r.add_argument("--backend", default="numpy")
    r.add_argument("--timeout", type=int, default=None)
    c = sub.add_parser("compare")
    c.add_argument("plain")
    c.add_argument("accel")
    args = parser.parse_args(argv)
    return run(args) if args.command == "run" else compare(args)


if __name__ == "__main__":
    sys.exit(main())
