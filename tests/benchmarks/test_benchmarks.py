"""Benchmark report: medians, spreads and speedups from JSON, valid PNG charts, the registry, a smoke run of bench/."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from gpuclf import benchmarks
from gpuclf.benchmarks import registry, render_charts, render_markdown, run_benchmarks
from gpuclf.benchmarks import run as bench_run
from gpuclf.errors import GpuclfError
from gpuclf.chapter import OPTIONAL_STEPS

REPO = Path(__file__).resolve().parents[2]
REAL_JSON = Path(__file__).parent / "benchmark-small-cpu-numpy.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _bench(step, backend, median, size="small", n_train=6000, figures=None, rounds=3, estimators=None):
    return {"name": f"test_{step}[{backend}]", "group": step,
            "stats": {"median": median, "min": median * 0.9, "max": median * 1.1, "rounds": rounds,
                      "q1": median * 0.95, "q3": median * 1.05},
            "extra_info": {"step": step, "backend": backend, "size": size, "n_train": n_train, "n_test": 1000,
                           "data_source": "npz:test.npz", "warmup_rounds": 0, "figures": figures or {},
                           "notes": [], "host_peak_rss_bytes": 300 * 2**20, "device_peak_bytes": None,
                           "estimators": estimators or {}}}


def _write(path, benches, when="2026-01-01T00:00:00"):
    doc = {"datetime": when, "machine_info": {"python_version": "3.11"}, "benchmarks": benches,
           "gpuclf": {"size": benches[0]["extra_info"]["size"], "command": "gpuclf bench --size small",
                      "pytest_command": "python -m pytest bench", "backends": {}, "versions": {}}}
    path.write_text(json.dumps(doc))
    return str(path)


def _row(md: str, step: str, section: int = 0) -> list:
    """Cells of ``step``'s row in the timing table of the ``section``-th size."""
    table = md.split("\n## ")[1 + section].split("\n### ")[0]
    line = next(li for li in table.splitlines() if li.startswith(f"| {step} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_markdown_medians_spreads_and_speedups(tmp_path):
    sgd = {"device": "cpu", "note": "", "class": "SGDClassifier"}
    path = _write(tmp_path / "benchmark-small-cpu-numpy.json", [
        _bench("binary_sgd", "cpu", 2.0, figures={"accuracy": 0.95},
               estimators={"sgd": {**sgd, "library": "scikit-learn", "params": {"max_iter": 1000, "tol": 0.001}}}),
        _bench("binary_sgd", "numpy", 0.5, figures={"accuracy": 0.9501},
               estimators={"sgd": {**sgd, "library": "gpuclf", "params": {"max_iter": 5}}}),
        _bench("denoise", "cpu", 1.5),
        _bench("denoise", "numpy", 3.0),
    ])
    md = render_markdown([path])
    # Median, min–max and IQR per backend; the ratio of medians with the slowest and fastest pairings of rounds.
    assert _row(md, "binary_sgd") == ["binary_sgd", "2", "1.8–2.2 (IQR 0.2)", "0.5", "0.45–0.55 (IQR 0.05)",
                                      "4.00× (3.27×–4.89×)"]
    assert _row(md, "denoise") == ["denoise", "1.5", "1.35–1.65 (IQR 0.15)", "3", "2.7–3.3 (IQR 0.3)",
                                   "0.50× (0.41×–0.61×)"]
    assert "| binary_sgd | accuracy | 0.95 | 0.9501 |" in md
    assert ("| sgd | scikit-learn SGDClassifier (max_iter=1000, tol=0.001) | gpuclf SGDClassifier (max_iter=5) |"
            in md)
    assert "gpuclf bench --size small" in md
    assert "Every round gave these very figures" in md


def test_unchecked_figures_are_marked_and_explained(tmp_path):
    forest = {"forest_auc": 0.99, "sgd_auc": 0.96}
    gpu = _bench("binary_roc", "gpu", 0.5, figures=forest)
    gpu["extra_info"]["figures_unchecked"] = ["forest_auc"]
    md = render_markdown([_write(tmp_path / "benchmark-small-cpu-gpu.json",
                                 [_bench("binary_roc", "cpu", 2.0, figures=forest), gpu])])
    assert "| binary_roc | forest_auc | 0.99 | 0.99 † |" in md
    assert "| binary_roc | sgd_auc | 0.96 | 0.96 |" in md
    assert "† Round 1's figure, not checked" in md and "several CUDA streams" in md
    # Without such figures the note says nothing of them.
    plain = render_markdown([_write(tmp_path / "benchmark-small-cpu-numpy.json",
                                    [_bench("binary_roc", "cpu", 2.0, figures=forest),
                                     _bench("binary_roc", "numpy", 1.0, figures=forest)])])
    assert "†" not in plain


def test_markdown_from_a_real_run_matches_its_stats():
    doc = json.loads(REAL_JSON.read_text())
    md = render_markdown([str(REAL_JSON)])
    medians = {(b["extra_info"]["step"], b["extra_info"]["backend"]): b["stats"]["median"] for b in doc["benchmarks"]}
    # What ran, less the placement's note (why numpy hands the SVC over), which differs by backend.
    ran = {(b["extra_info"]["step"], b["extra_info"]["backend"]):
           {role: {k: v for k, v in info.items() if k != "note"}
            for role, info in b["extra_info"]["estimators"].items()}
           for b in doc["benchmarks"]}
    steps = {step for step, _ in medians}
    assert steps
    for step in steps:
        cells = _row(md, step)
        cpu, numpy_ = medians[step, "cpu"], medians[step, "numpy"]
        assert float(cells[1]) == pytest.approx(cpu, rel=5e-3)
        assert float(cells[3]) == pytest.approx(numpy_, rel=5e-3)
        assert cells[2] == cells[4] == "1 round"  # an older one-round file: no spread to show
        if step.startswith("multiclass:") and "svc" in step:  # scikit-learn's on both backends: not ranked
            assert ran[step, "cpu"] == ran[step, "numpy"] and cells[5].startswith("not ranked: both ran scikit-learn")
            continue
        assert cells[5].endswith(" (1 round: no verdict)")
        assert float(cells[5].split("×")[0]) == pytest.approx(cpu / numpy_, rel=1e-2)


def test_sizes_merge_and_newest_run_wins(tmp_path):
    old = _write(tmp_path / "benchmark-small-cpu.json", [_bench("binary_sgd", "cpu", 9.0)], when="2026-01-01")
    new = _write(tmp_path / "benchmark-small-cpu-numpy.json",
                 [_bench("binary_sgd", "cpu", 2.0), _bench("binary_sgd", "numpy", 1.0)], when="2026-02-01")
    medium = _write(tmp_path / "benchmark-medium-cpu-numpy.json",
                    [_bench("binary_sgd", "cpu", 8.0, "medium", 20000),
                     _bench("binary_sgd", "numpy", 2.0, "medium", 20000)], when="2026-02-02")
    md = render_markdown([medium, new, old])
    assert "## small: 6,000 training rows" in md and "## medium: 20,000 training rows" in md
    assert md.index("## small") < md.index("## medium")
    assert [_row(md, "binary_sgd", 0)[i] for i in (1, 3, 5)] == ["2", "1", "2.00× (1.64×–2.44×)"]
    assert [_row(md, "binary_sgd", 1)[i] for i in (1, 3, 5)] == ["8", "2", "4.00× (3.27×–4.89×)"]
    assert "![Speedup over cpu per step at medium" in md


def test_charts_are_valid_pngs(tmp_path):
    from matplotlib.image import imread

    paths = [_write(tmp_path / f"benchmark-{size}-cpu-numpy.json",
                    [_bench(step, backend, t * n / 6000, size, n) for step, t in (("binary_sgd", 2.0), ("denoise", 4.0))
                     for backend, t in (("cpu", t), ("numpy", t / 3))])
             for size, n in (("small", 6000), ("1000", 1000), ("3000", 3000), ("10000", 10000))]
    charts = render_charts(paths, str(tmp_path))
    assert sorted(os.path.basename(c) for c in charts) == ["cost-vs-size.png", "speedup-small.png"]
    for chart in charts:
        with open(chart, "rb") as f:
            assert f.read(8) == PNG_SIGNATURE
        image = imread(chart)
        assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 400
        assert np.ptp(image) > 0  # not blank


def test_cuml_accel_unavailable_is_one_line(tmp_path):
    path = _write(tmp_path / "benchmark-small-cpu.json", [_bench("binary_sgd", "cpu", 2.0)])
    accel = tmp_path / "cuml-accel-small.json"
    accel.write_text(json.dumps({"gpuclf_cuml_accel": 1, "available": False, "size": "small",
                                 "reason": "cuML is not installed: pip install cuml-cu12"}))
    md = render_markdown([path, str(accel)])
    lines = [li for li in md.splitlines() if "cuml.accel" in li and "skipped" in li]
    assert lines == ["cuml.accel column skipped at small: cuML is not installed: pip install cuml-cu12."]


def test_cuml_accel_column(tmp_path):
    path = _write(tmp_path / "benchmark-small-cpu.json", [_bench("binary_sgd", "cpu", 3.0)])
    accel = tmp_path / "cuml-accel-small.json"
    accel.write_text(json.dumps({"gpuclf_cuml_accel": 1, "available": True, "size": "small", "reason": "cuML 25.10",
                                 "n_train": 6000, "n_test": 1000, "datetime": "2026-01-02",
                                 "steps": {"binary_sgd": {"median": 1.0, "times": [1.0, 1.1, 0.9], "figures": {}}}}))
    md = render_markdown([path, str(accel)])
    cells = _row(md, "binary_sgd")
    # The accelerator's three rounds: 0.9–1.1 s, IQR 0.15 by pytest-benchmark's quartiles (0.925 to 1.075).
    assert cells == ["binary_sgd", "3", "2.7–3.3 (IQR 0.3)", "1", "0.9–1.1 (IQR 0.15)", "3.00× (2.45×–3.67×)"]


def test_cuml_accel_plumbing(tmp_path, monkeypatch, sample_mnist):
    """With cuML reported present, the book script runs (here without the accelerator) into a column."""
    import gpuclf.backends.cuml_adapters as adapters
    from gpuclf.chapter import RunConfig

    monkeypatch.setattr(adapters, "cuml_status", lambda: (True, "cuML (faked by the test)"))
    monkeypatch.setitem(benchmarks.SIZES, "small",
                        benchmarks.BenchSize(300, 100, RunConfig(n_estimators=5, grid_train_size=300)))
    real_popen = subprocess.Popen

    def run_without_accelerator(cmd, *args, **kwargs):
        if list(cmd[1:3]) == ["-m", "cuml.accel"]:
            cmd = [cmd[0], *cmd[3:]]
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", run_without_accelerator)
    accel = tmp_path / "cuml-accel-small.json"
    bench_run._run_cuml_accel(benchmarks.bench_dir(), sample_mnist, "small", 1, accel, "gpuclf bench --cuml-accel",
                              dict(_clean_env()))
    doc = json.loads(accel.read_text())
    assert doc["available"] and doc["n_train"] == 300 and "--sgd-max-iter 100" in doc["accel_command"]
    cpu = _write(tmp_path / "benchmark-small-cpu.json",
                 [_bench(step, "cpu", 1.0, n_train=300) for step in doc["steps"]])
    md = render_markdown([cpu, str(accel)])
    # The book script times the chapter's steps; loading a CSV (load_csv) is gpuclf's own reader, not the book's,
    # and the optional steps go beyond the book.
    assert set(doc["steps"]) == set(benchmarks.STEP_ORDER) - set(benchmarks.LOAD_STEPS) - set(OPTIONAL_STEPS)
    for step, rec in doc["steps"].items():
        assert _row(md, step)[3] == benchmarks.tables.seconds(rec["median"])


def test_user_mistakes_are_gpuclf_errors(tmp_path, monkeypatch):
    with pytest.raises(GpuclfError, match="unknown size"):
        run_benchmarks(size="huge", out_dir=str(tmp_path))
    with pytest.raises(GpuclfError, match="unknown backend"):
        run_benchmarks(backends=["tpu"], out_dir=str(tmp_path))
    monkeypatch.setattr(bench_run, "__file__", str(tmp_path / "site-packages" / "gpuclf" / "benchmarks" / "run.py"))
    with pytest.raises(GpuclfError, match="source checkout"):
        run_benchmarks(backends=["cpu"], out_dir=str(tmp_path))


def _clean_env():
    env = {k: v for k, v in os.environ.items() if k != "GPUCLF_MNIST"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def _pytest_bench(*args):
    return subprocess.run([sys.executable, "-m", "pytest", *args, "-p", "no:cacheprovider", "-o", "addopts=", "-q",
                           "--bench-size", "small", "--bench-backends", "cpu"],
                          cwd=REPO, env=_clean_env(), capture_output=True, text=True, timeout=300)


def test_bench_suite_smoke():
    """Every bench test is registered and every entry has its test; one quick group runs on cpu untimed."""
    collected = _pytest_bench("bench", "--collect-only", "--bench-rounds", "2")
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    ids = [line for line in collected.stdout.splitlines() if "::" in line]
    functions = {line.split("[")[0].removeprefix("bench/") for line in ids}
    assert functions == {e.test for e in registry.ENTRIES} | set(registry.PEAK_TESTS)
    # One test per benchmark, backend and round: rounds 1 and 2 of each.
    assert sum("-round1" in i for i in ids) == sum("-round2" in i for i in ids) == len(ids) // 2
    proc = _pytest_bench("bench/test_bench_binary.py", "--benchmark-disable", "--bench-rounds", "1")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 passed" in proc.stdout


def test_registry_labels_order_and_sweep():
    assert benchmarks.STEP_ORDER[0] == "load_csv" and benchmarks.LOAD_STEPS == ("load_csv",)
    assert registry.entry_for("sgd_sweep:5-detector:500").test == "test_bench_sgd_sweep.py::test_sgd_sweep"
    assert registry.entry_for("denoise").flops is not None and registry.entry_for("no_such_step") is None
    # knn_plus, like gpuclf run's optional step, is timed only when added, and then at a named size only
    # (its CV covers the same 10,000 rows at every sweep point).
    assert registry.OPTIONAL == OPTIONAL_STEPS == ("knn_plus",)
    assert not registry.timed_at("small", "knn_plus") and registry.timed_at("small", "knn_plus", ["knn_plus"])
    assert not registry.timed_at("3000", "knn_plus", ["knn_plus"])
    assert registry.suite_args("small") == ["bench", "--deselect", "bench/test_bench_knn_plus.py::test_knn_plus"]
    assert registry.suite_args("small", ["knn_plus"]) == ["bench"]
    sweep = registry.sweep_tests()
    assert registry.suite_args("3000", ["knn_plus"]) == [f"bench/{t}" for t in sweep]
    # A sweep point times the peaks and the chapter's steps, not the CSV reader (same file at every size)
    # nor the SGD sweep (its own rows).
    assert sweep[:2] == list(registry.PEAK_TESTS)
    assert not any("load" in t or "sgd_sweep" in t for t in sweep)


def test_book_script_smoke(tmp_path, sample_mnist):
    """bench/sklearn_book.py (the cuml.accel column) runs as plain scikit-learn."""
    d = sample_mnist.subsample(600, 100)
    npz, out = tmp_path / "data.npz", tmp_path / "out.json"
    np.savez(npz, X_train=d.X_train, y_train=d.y_train, X_test=d.X_test, y_test=d.y_test)
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "sklearn_book.py"), str(npz), "--out", str(out), "--rounds", "1",
         "--warmup-rounds", "0", "--steps", "binary_sgd,multiclass:svc,denoise,augmentation"],
        env=_clean_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert set(doc["steps"]) == {"binary_sgd", "multiclass:svc", "denoise", "augmentation"}
    assert doc["steps"]["augmentation"]["figures"]["n_train_augmented"] == 3000
    assert all(s["median"] > 0 for s in doc["steps"].values())


@pytest.mark.parametrize("add_steps, deselected", [((), True), (["knn_plus"], False)])
def test_optional_steps_are_timed_only_when_added(tmp_path, monkeypatch, add_steps, deselected):
    """`gpuclf bench` leaves knn_plus out, as `gpuclf run` does, unless --add-steps names it."""
    seen = {}

    def child(cmd, **kwargs):
        seen.update(cmd=cmd, command=kwargs["env"][bench_run.COMMAND_ENV_VAR])
        return 1

    monkeypatch.setattr(bench_run, "run_child", child)
    monkeypatch.delenv("GPUCLF_MNIST", raising=False)
    with pytest.raises(GpuclfError, match="benchmark suite failed"):
        run_benchmarks(backends=["cpu"], size="small", out_dir=str(tmp_path / "out"), add_steps=add_steps)
    knn_plus = "bench/test_bench_knn_plus.py::test_knn_plus"
    assert ("--deselect" in seen["cmd"] and knn_plus in seen["cmd"]) is deselected
    assert ("--add-steps knn_plus" in seen["command"]) is not deselected


def _suite_that_writes(lines: list, code: int = 0):
    """A stand-in for the timing suite's child: ``lines`` to its output, REAL_JSON as its JSON."""
    def child(cmd, stdout=None, **kwargs):
        stdout.write("".join(f"{line}\n" for line in lines))
        if code == 0:
            Path(cmd[cmd.index("--benchmark-json") + 1]).write_text(REAL_JSON.read_text())
        return code
    return child


def test_bench_console_shows_a_digest_and_keeps_the_suite_output_in_a_log(tmp_path, monkeypatch, capsys):
    """Issue 34: `gpuclf bench` printed ~290 lines of pytest-benchmark tables and a 63-warning summary."""
    from gpuclf.cli import main

    flood = [f"test_bench_x.py::test_{i} PASSED  | 0.8{i:03d} | 0.8{i:03d} | 1 |" for i in range(290)]
    summary = "=========== 26 passed, 63 warnings in 95.12s (0:01:35) ==========="
    monkeypatch.setattr(bench_run, "run_child", _suite_that_writes([*flood, summary]))
    monkeypatch.delenv("GPUCLF_MNIST", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "--backends", "cpu,numpy", "--data", "sample", "--out", "out", "--rounds", "1"]) == 0
    err = capsys.readouterr().err
    assert "PASSED" not in err and "1 rounds" not in err and len(err.splitlines()) < 25, err
    assert "gpuclf: timing small: cpu 1 round, numpy 1 round; the suite's output goes to out/bench-small.log" in err
    assert "gpuclf: small: 26 passed, 63 warnings in 95.12s (0:01:35)" in err
    log = (tmp_path / "out" / "bench-small.log").read_text().splitlines()
    assert log[0].startswith("$ ") and "-m pytest bench" in log[0] and log[1:] == [*flood, summary]
    # The digest: each step's medians and its speedup, with the verdict rules of the report.
    digest = err[err.index("gpuclf: small (6,000 training rows), median seconds (cpu 1 round, numpy 1 round):"):]
    rows = {line.split()[0]: line for line in digest.splitlines()[1:] if line.startswith("  ")}
    assert "not ranked: both ran scikit-learn SVC" in rows["multiclass:svc"]
    assert rows["binary_sgd"].endswith("(1 round: no verdict)")
    assert err.rstrip().endswith("gpuclf: the whole report: out/benchmarks.md (and benchmarks.html)")


def test_a_failing_suite_shows_the_end_of_its_log(tmp_path, monkeypatch, capsys):
    from gpuclf.cli import main

    lines = [f"filler {i}" for i in range(100)] + ["E   ValueError: boom", "==== 1 failed in 3.0s ===="]
    monkeypatch.setattr(bench_run, "run_child", _suite_that_writes(lines, code=1))
    monkeypatch.delenv("GPUCLF_MNIST", raising=False)
    out = tmp_path / "out"
    assert main(["bench", "--backends", "cpu", "--data", "sample", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "E   ValueError: boom" in err and "filler 5\n" not in err
    assert err.rstrip().endswith(f"gpuclf: error: the benchmark suite failed (pytest exit code 1); its output is in "
                                 f"{out / 'bench-small.log'}, whose end is above")


def _sweep_row(step, backend, n_train, median, rounds=3, estimators=None):
    """One sweep row as ``Results.sweep()`` gives it: min/max ±10 % of ``median``."""
    from gpuclf.benchmarks.stats import Spread

    return {"step": step, "backend": backend, "n_train": n_train, "size": str(n_train),
            "spread": Spread(median, median * 0.9, median * 1.1, median, median, rounds),
            "estimators": estimators or {}}


def test_sweep_exponent_of_exactly_two_sizes():
    """Two sizes are enough for a growth exponent ("None below two sizes"): 1 s then 4 s at twice the rows is 2."""
    from gpuclf.benchmarks.sweep import exponent

    pts = [(r["n_train"], r["spread"]) for r in (_sweep_row("knn", "cpu", 1_000, 1.0),
                                                  _sweep_row("knn", "cpu", 2_000, 4.0))]
    assert exponent(pts) == pytest.approx(2.0, abs=1e-12)
    assert exponent(pts[:1]) is None


def test_sweep_crossover_judges_only_the_sizes_both_measured_and_two_are_enough():
    """numpy 10x faster (its slowest round beats cpu's fastest) at the two sizes both ran: faster at every size,
    judged over those two; a size numpy alone ran (4,000) is left out, and below two shared sizes there is none."""
    from gpuclf.benchmarks.sweep import step_crossover

    rows = [_sweep_row("knn", "cpu", n, n / 1_000) for n in (1_000, 2_000)]
    rows += [_sweep_row("knn", "numpy", n, n / 10_000) for n in (1_000, 2_000, 4_000)]
    c = step_crossover(rows, "knn", "numpy")
    assert (c.kind, c.lo, c.hi) == ("always", 1_000, 2_000)
    assert c.text() == "faster at every size (1,000–2,000)"
    assert step_crossover(rows, "knn", "cpu") is None  # the reference itself
    assert step_crossover([r for r in rows if r["n_train"] != 2_000], "knn", "numpy") is None


def test_sweep_crossover_of_one_estimator_spans_every_shared_size():
    """cpu and numpy ran scikit-learn's SVC at 1,000, 2,000 and 4,000 rows: "same", judged from the first
    shared size to the last (``lo``, ``hi``), whatever the times."""
    from gpuclf.benchmarks.sweep import step_crossover

    svc = {"svc": {"device": "cpu", "library": "scikit-learn", "class": "SVC", "params": {}}}
    rows = [_sweep_row("multiclass:svc", b, n, n / k, estimators=svc)
            for b, k in (("cpu", 1_000), ("numpy", 10_000)) for n in (1_000, 2_000, 4_000)]
    c = step_crossover(rows, "multiclass:svc", "numpy")
    assert (c.kind, c.rows, c.lo, c.hi, c.estimator) == ("same", None, 1_000, 4_000, "scikit-learn SVC")


def test_sweep_plan_table_is_the_published_rounds_section():
    """The "Rounds at each size" subsection (docs/benchmarking.md names it) renders as in the published report
    docs/benchmarks.md: a level-3 heading under "Cost vs size", the same paragraph, a "Rows" column, and "–"
    for a backend given no decision at a size."""
    from gpuclf.benchmarks.pages import markdown
    from gpuclf.benchmarks.sweep import _plan_table

    assert "(`Rounds at each size`)" in (REPO / "docs" / "benchmarking.md").read_text()
    published = (REPO / "docs" / "benchmarks.md").read_text()
    start = published.index("### Rounds at each size")
    expected = published[start:published.index("| --- |", start)]
    plan = {"1000": [{"backend": "cpu", "rounds": 3, "why": "3 rounds as asked"},
                     {"backend": "numpy", "rounds": 3, "why": "3 rounds as asked"}],
            "2000": [{"backend": "cpu", "rounds": 0, "why": "stopped: one round was estimated at 25 min"}]}
    md = markdown(_plan_table(plan, ["cpu", "numpy"], [1_000, 2_000]))
    assert md.startswith(expected) and expected.endswith("| Rows | cpu | numpy |\n")
    assert md[len(expected):].splitlines()[1:] == [
        "| 1,000 | 3: 3 rounds as asked | 3: 3 rounds as asked |",
        "| 2,000 | 0: stopped: one round was estimated at 25 min | – |"]
    assert _plan_table({}, ["cpu"], [1_000]) == []


def test_sweep_curves_ascend_in_rows_only():
    """Each (step, backend) curve ascends in training rows, whatever the input order, and orders by rows alone:
    two sweep points cut to the same rows (``pytest bench --bench-size 5000`` on the 4,000-row sample next to
    ``--bench-size 4000``) stay two points instead of failing to compare their Spreads."""
    from gpuclf.benchmarks.sweep import curves

    rows = [_sweep_row("knn", "cpu", 4_000, 2.0), _sweep_row("knn", "cpu", 1_000, 0.5),
            _sweep_row("knn", "numpy", 2_000, 0.1), _sweep_row("knn", "cpu", 4_000, 3.0)]
    rows[-1]["size"] = "5000"
    out = curves(rows)
    assert set(out) == {("knn", "cpu"), ("knn", "numpy")}
    assert [n for n, _ in out["knn", "cpu"]] == [1_000, 4_000, 4_000]
    assert sorted(s.median for _, s in out["knn", "cpu"]) == [0.5, 2.0, 3.0]
    assert out["knn", "numpy"] == [(2_000, rows[2]["spread"])]
