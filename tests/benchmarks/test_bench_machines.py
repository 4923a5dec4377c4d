"""Machine against machine (``gpuclf bench --compare``), the sweep's report, and the bench options.

Bench results are synthetic pytest-benchmark JSON in the suite's format: two "machines" that differ in
their BLAS threads, as two runs under OMP_NUM_THREADS=1 and =2 do.
"""
from __future__ import annotations

import json

import pytest

from gpuclf.benchmarks import compare_machines, write_report
from gpuclf.cli import main
from gpuclf.errors import GpuclfError

CONFIG = {"n_estimators": 20, "grid_train_size": 2000, "cv": 3}


def _machine(threads):
    blas = {"user_api": "blas", "internal_api": "openblas", "version": "0.3.30", "num_threads": threads,
            "threading_layer": "pthreads", "architecture": "SkylakeX", "prefix": "libscipy_openblas",
            "owner": "numpy"}
    return {"cpu_model": "AMD EPYC", "logical_cpus": 2, "usable_cpus": 2, "host_memory_bytes": 24 * 2**30,
            "blas": [blas], "thread_variables": {"OMP_NUM_THREADS": str(threads)}, "gpu": {},
            "versions": {"numpy": "2.4.6", "scikit-learn": "1.9.1"}}


def _step(step, backend, median, size, n_train, flops=None, dtype="float32"):
    return {"group": step, "name": f"test_{step}[{backend}]", "fullname": f"bench/x.py::test_{step}[{backend}]",
            "params": {"backend_name": backend}, "param": backend, "options": {},
            "stats": {"median": median, "min": median * 0.9, "max": median * 1.2, "q1": median * 0.95,
                      "q3": median * 1.1, "rounds": 3, "iterations": 1},
            "extra_info": {"step": step, "backend": backend, "size": size, "n_train": n_train, "n_test": n_train // 6,
                           "data_source": "npz:mnist_784.npz", "warmup_rounds": 0, "figures": {}, "notes": [],
                           "host_peak_rss_bytes": None, "device_peak_bytes": None, "estimators": {},
                           "gemm_flops": flops, "gemm_dtype": dtype, "array_library": "numpy"}}


def _peak(dtype, seconds, n=2048):
    return {"group": "peak", "name": f"test_gemm_peak[numpy-{dtype}]", "fullname": f"p::{dtype}", "params": {},
            "param": dtype, "options": {},
            "stats": {"median": seconds, "min": seconds, "max": seconds, "rounds": 3, "iterations": 1},
            "extra_info": {"peak": "gemm", "library": "numpy", "dtype": dtype, "n": n, "flops": 2 * n ** 3,
                           "blas": _machine(1)["blas"]}}


def _run(folder, size, n_train, threads, speed, fingerprint="blake2b:aaa", config=CONFIG, when="2026-12-01"):
    """One bench run: denoise (GEMM-bound) and binary_roc on cpu and numpy; ``speed`` scales every time."""
    folder.mkdir(exist_ok=True)
    flops = 2 * (n_train // 6) * 784 * n_train
    benches = [_peak("float32", 0.2 / speed), _peak("float64", 0.4 / speed),
               _step("denoise", "cpu", 2.0 / speed, size, n_train, flops, "float64"),
               _step("denoise", "numpy", 0.5 / speed, size, n_train, flops),
               _step("binary_roc", "cpu", 3.0 / speed, size, n_train),
               _step("binary_roc", "numpy", 1.0 / speed, size, n_train)]
    doc = {"datetime": when, "version": "5.3.1", "commit_info": {}, "machine_info": {"python_version": "3.11"},
           "benchmarks": benches,
           "gpuclf": {"size": size, "data_source": "npz:mnist_784.npz", "n_train": n_train, "n_test": n_train // 6,
                      "data_fingerprint": fingerprint, "config": config, "machine": _machine(threads),
                      "command": "gpuclf bench", "pytest_command": "python -m pytest bench", "backends": {},
                      "versions": {}, "rounds": {"cpu": 3, "numpy": 3}, "load_average": 1.0}}
    (folder / f"benchmark-{size}-cpu-numpy.json").write_text(json.dumps(doc))
    return str(folder)


def _row(md, first, second):
    line = next(li for li in md.splitlines() if li.startswith(f"| {first} | {second} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_two_machines_side_by_side(tmp_path):
    one = _run(tmp_path / "omp1", "small", 6000, threads=1, speed=1.0)
    two = _run(tmp_path / "omp2", "small", 6000, threads=2, speed=2.0)
    html_path, md_path = compare_machines([one, two], str(tmp_path / "cmp"))
    md = open(md_path).read()
    assert md.startswith("# gpuclf bench: omp1 vs omp2")
    # Per step and backend: both medians with their range, the speedup of omp2, each machine's % of its peak.
    # denoise on numpy: 2 * 1,000 * 784 * 6,000 FLOPs = 9.408 GFLOP in 0.5 s = 18.8 GFLOP/s; omp1's fp32
    # peak is 2 * 2048^3 / 0.2 s = 85.9 GFLOP/s: 22%. omp2 is twice as fast on both: 22% too.
    assert _row(md, "denoise", "numpy") == ["denoise", "numpy", "0.5 (0.45–0.6)", "0.25 (0.225–0.3)",
                                            "2.00× (1.50×–2.67×)", "22% of fp32", "22% of fp32"]
    assert _row(md, "binary_roc", "cpu")[4:] == ["2.00× (1.50×–2.67×)", "–", "–"]
    # The fingerprints, with what differs listed: the thread variable and the BLAS threads.
    assert "| thread variables | OMP_NUM_THREADS=1 | OMP_NUM_THREADS=2 | ≠ |" in md
    assert "| CPU model | AMD EPYC | AMD EPYC |  |" in md
    differences = next(li for li in md.splitlines() if li.startswith("- omp2 vs omp1: "))
    assert differences == ("- omp2 vs omp1: thread variables: OMP_NUM_THREADS=1 vs OMP_NUM_THREADS=2; "
                           "blas (numpy): openblas 0.3.30, 1 thread, SkylakeX vs openblas 0.3.30, 2 threads, "
                           "SkylakeX")
    assert "| numpy | fp32 GEMM (GFLOP/s) | 85.9 | 171.8 |" in md
    page = open(html_path).read()
    assert "<table>" in page and "OMP_NUM_THREADS=2" in page and "22% of fp32" in page


@pytest.mark.parametrize("change, message", [
    (dict(n_train=4000), "they ran with a different n_train (6000 vs 4000)"),
    (dict(fingerprint="blake2b:bbb"), "they ran with a different data content ('blake2b:aaa' vs 'blake2b:bbb')"),
    (dict(config={**CONFIG, "n_estimators": 100}), "they ran with a different option n_estimators (20 vs 100)"),
])
def test_runs_on_other_data_or_options_are_refused_in_one_line(tmp_path, change, message):
    one = _run(tmp_path / "a", "small", 6000, threads=1, speed=1.0)
    two = _run(tmp_path / "b", "small", **{"n_train": 6000, "threads": 2, "speed": 2.0, **change})
    with pytest.raises(GpuclfError) as err:
        compare_machines([one, two], str(tmp_path / "cmp"))
    assert str(err.value) == f"cannot compare {one} and {two}: {message}; compare runs of the same data and options"
    assert not (tmp_path / "cmp").exists()


def test_machines_without_a_common_size_or_results_are_refused(tmp_path):
    one = _run(tmp_path / "a", "small", 6000, threads=1, speed=1.0)
    two = _run(tmp_path / "b", "3000", 3000, threads=2, speed=2.0)
    with pytest.raises(GpuclfError, match=r"no size was timed by all of them \(.*a: small; .*b: 3000\)"):
        compare_machines([one, two], str(tmp_path / "cmp"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(GpuclfError, match="empty holds no gpuclf bench results"):
        compare_machines([one, str(tmp_path / "empty")], str(tmp_path / "cmp"))
    with pytest.raises(GpuclfError, match="at least two machines"):
        compare_machines([one], str(tmp_path / "cmp"))


def test_compare_on_the_command_line(tmp_path, capsys):
    one = _run(tmp_path / "omp1", "small", 6000, threads=1, speed=1.0)
    two = _run(tmp_path / "omp2", "small", 6000, threads=2, speed=2.0)
    out = tmp_path / "cmp"
    assert main(["bench", "--compare", one, two, "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "machines.md")
    bad = _run(tmp_path / "other", "small", 4000, threads=2, speed=2.0)
    assert main(["bench", "--compare", one, bad, "--out", str(tmp_path / "cmp2")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("gpuclf: error: cannot compare ")
    assert not (tmp_path / "cmp2").exists()


@pytest.mark.parametrize("argv, message", [
    (["--sizes", "100,1000"], "argument --sizes: each size must be at least 300 training rows, got 100"),
    (["--sizes", "huge"], "argument --sizes: 'huge' is neither a named sweep (standard, quick) nor comma-separated"),
    (["--rounds", "0"], "argument --rounds: must be an integer from 1 to 1000, got 0"),
    (["--budget", "-5"], "argument --budget: must be a positive number of minutes, got '-5'"),
    (["--sizes", "quick", "--cuml-accel"], "--cuml-accel time at a named --size (small, medium, full), not over"),
    (["--sizes", "quick", "--add-steps", "knn_plus"], "--add-steps time at a named --size"),
    (["--add-steps", "denoise"], "argument --add-steps: unknown optional step(s) denoise; choose from knn_plus"),
    (["--compare", "a", "b", "--data", "sample"], "--compare reads results already timed; it takes no --data"),
    (["--compare", "a", "b", "--add-steps", "KNN_PLUS"], "--compare reads results already timed; it takes no "
                                                          "--add-steps"),
    (["--compare", "a", "b", "--sizes", "quick"], "--compare reads results already timed; it takes no --sizes"),
])
def test_bench_options_are_checked_before_any_work(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert main(["bench", *argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"gpuclf: error: {message}") and err.count("\n") == 1
    assert not out.exists()


def test_sweep_report_with_exponents_crossovers_plan_and_chart(tmp_path):
    folder = tmp_path / "sweep"
    # cpu grows like rows (linear), numpy like rows^0.5 from a higher start: they meet at 10,000 rows.
    for n in (1_000, 3_000, 30_000):
        _run(folder, str(n), n, threads=2, speed=1.0, when=f"2026-12-0{len(str(n))}")
        path = folder / f"benchmark-{n}-cpu-numpy.json"
        doc = json.loads(path.read_text())
        for b in doc["benchmarks"]:
            if b["extra_info"].get("step") == "binary_roc":
                t = 1e-4 * n if b["extra_info"]["backend"] == "cpu" else 0.01 * n ** 0.5
                b["stats"].update(median=t, min=t * 0.9, max=t * 1.2, q1=t, q3=t)
        path.write_text(json.dumps(doc))
    plan = {"gpuclf_bench_plan": 1, "sizes": {
        "1000": [{"size": "1000", "backend": b, "rounds": 3, "why": "3 rounds as asked"} for b in ("cpu", "numpy")],
        "60000": [{"size": "60000", "backend": "cpu", "rounds": 0, "why": "stopped: one round was estimated at 25 min"},
                  {"size": "60000", "backend": "numpy", "rounds": 0, "why": "the data holds 30,000 training rows"}]}}
    (folder / "bench-plan.json").write_text(json.dumps(plan))
    md = open(write_report(str(folder))).read()
    assert "## Cost vs size" in md and "Training rows from 1,000 to 60,000" in md
    # Columns 1,000, 3,000, 30,000 and 60,000 (planned, not timed), the exponent, the crossover.
    assert _row(md, "binary_roc", "cpu")[5:] == ["–", "1.00", "–"]  # the reference has no crossover
    assert _row(md, "binary_roc", "numpy")[2:] == ["0.316 (0.285–0.379)", "0.548 (0.493–0.657)",
                                                   "1.73 (1.56–2.08)", "–", "0.50", "≈ 10,000 rows"]
    assert "| 60,000 | 0: stopped: one round was estimated at 25 min | 0: the data holds 30,000 training rows |" in md
    # Thread counts in words: the peaks ran with one BLAS thread, the run's machine had two.
    assert "| numpy | openblas 0.3.30 (numpy), 1 thread |" in md and "1 threads" not in md
    assert "BLAS: openblas 0.3.30 of numpy (2 threads)" in md
    assert "![Median seconds against training rows" in md and (folder / "cost-vs-size.png").is_file()
    page = (folder / "benchmarks.html").read_text()
    assert "data:image/png;base64," in page and "≈ 10,000 rows" in page


SVC = {"svc": {"device": "cpu", "library": "scikit-learn", "note": "", "class": "SVC", "params": {}}}


def _sweep(folder, rounds, cpu_svc=SVC, numpy_svc=SVC):
    """A --sizes quick sweep of multiclass:svc where numpy's median is a hair below cpu's at every size."""
    for n in (500, 1_000, 2_000, 4_000):
        _run(folder, str(n), n, threads=2, speed=1.0)
        path = folder / f"benchmark-{n}-cpu-numpy.json"
        doc = json.loads(path.read_text())
        for b in doc["benchmarks"]:
            info = b["extra_info"]
            if info.get("step") == "binary_roc":  # renamed: the SVC step, as the suite records it
                t = 0.2 * n / 1_000 * (1.0 if info["backend"] == "cpu" else 0.995)
                b["stats"].update(median=t, min=t, max=t, q1=t, q3=t, rounds=rounds)
                info.update(step="multiclass:svc", estimators=cpu_svc if info["backend"] == "cpu" else numpy_svc)
        path.write_text(json.dumps(doc))
    return open(write_report(str(folder))).read()


def test_one_round_sweep_gives_no_verdict_and_says_so(tmp_path):
    """Issue 34: `--sizes quick --rounds 1` said "faster at every size (500–4,000)" for 0.815 s against 0.819 s."""
    ours = {"svc": {**SVC["svc"], "library": "gpuclf"}}  # a different estimator: only the rounds hold it back
    md = _sweep(tmp_path / "one", 1, numpy_svc=ours)
    assert _row(md, "multiclass:svc", "numpy")[-1] == "no verdict: 1 round at every size (a verdict needs 3 or more)"
    assert "fewer than 3 rounds" in md  # the method says why
    md = _sweep(tmp_path / "three", 3, numpy_svc=ours)
    assert _row(md, "multiclass:svc", "numpy")[-1] == "faster at every size (500–4,000)"


def test_two_runs_of_the_same_estimator_are_never_ranked(tmp_path):
    """cpu and numpy both hand the SVC to scikit-learn: however many rounds, their difference is noise."""
    md = _sweep(tmp_path / "sweep", 3)
    assert _row(md, "multiclass:svc", "numpy")[-1] == "not ranked: both ran the same estimator (scikit-learn SVC)"
    # At a named size, the speedup cell says so too; a step whose estimators differ keeps its ratio.
    folder = tmp_path / "small"
    _run(folder, "small", 6000, threads=2, speed=1.0)
    path = folder / "benchmark-small-cpu-numpy.json"
    doc = json.loads(path.read_text())
    sgd = {"sgd": {"device": "cpu", "library": "gpuclf", "class": "SGDClassifier", "params": {}}}
    for b in doc["benchmarks"]:
        info = b.get("extra_info", {})
        if info.get("step") == "binary_roc":
            info.update(step="multiclass:svc", estimators=SVC)
        elif info.get("step") == "denoise":
            info["estimators"] = sgd if info["backend"] == "numpy" else {"sgd": {**sgd["sgd"],
                                                                                  "library": "scikit-learn"}}
    path.write_text(json.dumps(doc))
    md = open(write_report(str(folder))).read()
    assert _row(md, "multiclass:svc", "3")[-1] == "not ranked: both ran scikit-learn SVC"
    assert _row(md, "denoise", "2")[-1] == "4.00× (3.00×–5.33×)"
    # The chart draws no bar for the pair, and writes why in its place.
    assert (folder / "speedup-small.png").is_file()


def test_speedup_of_fewer_than_three_rounds_is_no_verdict():
    from gpuclf.benchmarks.cells import speedup_cell
    from gpuclf.benchmarks.stats import Spread

    one, two = Spread(2.0, 2.0, 2.0, 2.0, 2.0, 1), Spread(1.0, 0.8, 1.25, 0.9, 1.1, 2)
    assert speedup_cell(one, Spread(1.0, 1.0, 1.0, 1.0, 1.0, 1)) == "2.00× (1 round: no verdict)"
    assert speedup_cell(Spread(2.0, 1.8, 2.2, 1.9, 2.1, 3), two) == "2.00× (1.44×–2.75×, 2 rounds: no verdict)"
    assert speedup_cell(one, two, same="scikit-learn SVC") == "not ranked: both ran scikit-learn SVC"


def test_cuda_versions_read_as_people_write_them():
    from gpuclf.backends.probes import cuda_version
    from gpuclf.benchmarks import machine

    assert [cuda_version(v) for v in (12040, 13000, 12080, None, "?")] == ["12.4", "13.0", "12.8", "None", "?"]
    fp = {"gpu": {"gpu": {"device": "NVIDIA H200", "cuda_driver": 13000, "cuda_runtime": 12080}}}
    assert machine.facts(fp)["driver / CUDA runtime (gpu)"] == "13.0 / 12.8"
    one = {"blas": [{"user_api": "blas", "internal_api": "openblas", "version": "0.3", "num_threads": 1,
                     "owner": "numpy"}]}
    assert machine.facts(one)["blas (numpy)"] == "openblas 0.3, 1 thread"


def test_an_older_run_on_other_data_is_left_out_with_a_note(tmp_path):
    """One folder, two runs at one size on different data: only the newest counts, and the report says so."""
    from gpuclf.benchmarks import load
    import glob

    folder = tmp_path / "mixed"
    _run(folder, "small", 4000, threads=2, speed=1.0, fingerprint="blake2b:sample", when="2026-12-01")
    (folder / "benchmark-small-cpu-numpy.json").rename(folder / "benchmark-small-cpu.json")
    _run(folder, "small", 6000, threads=2, speed=2.0, when="2026-12-02")
    results = load(sorted(glob.glob(str(folder / "benchmark-*.json"))))
    assert {r["file"] for r in results.rows} == {"benchmark-small-cpu-numpy.json"}
    assert [r["file"] for r in results.runs] == ["benchmark-small-cpu-numpy.json"]
    assert results.notes == ["benchmark-small-cpu.json left out: it timed small on other data or options than the "
                             "newest run there (its n train 4000 is not 6000); time it again or delete it"]
    md = open(write_report(str(folder))).read()
    assert "benchmark-small-cpu.json left out" in md and "| denoise | 1 |" in md


def test_a_stop_at_a_large_named_size_does_not_stop_the_smaller_sweep_points(tmp_path, monkeypatch):
    """--size full --sizes quick: cpu over budget at 60,000 rows still runs at 500 to 4,000."""
    from gpuclf.benchmarks import run as bench_run

    timed = []
    monkeypatch.setattr(bench_run, "_run_suite",
                        lambda suite, point, decisions, *a, **k: timed.append((point, [d.backend for d in decisions])))
    monkeypatch.setattr(bench_run, "write_report", lambda out: out)
    monkeypatch.setattr(bench_run.planning, "estimate_round",
                        lambda rows, b, n: 3600.0 if (b, n >= 4000) == ("cpu", True) else 1.0)
    monkeypatch.delenv("GPUCLF_MNIST", raising=False)
    bench_run.run_benchmarks(backends=["cpu", "numpy"], size="full", sizes=[500, 1000, 2000, 4000],
                             out_dir=str(tmp_path / "out"), budget_minutes=1)
    # The sample has 4,000 training rows: full is 4,000 there, where cpu does not fit; at 500-2,000 it does.
    assert timed == [("full", ["numpy"]), ("500", ["cpu", "numpy"]), ("1000", ["cpu", "numpy"]),
                     ("2000", ["cpu", "numpy"]), ("4000", ["numpy"])]
    plan = json.loads((tmp_path / "out" / "bench-plan.json").read_text())["sizes"]
    assert plan["4000"][0]["why"] == "stopped at this size or a smaller one"


def test_a_backend_given_no_round_says_why_and_one_sweep_size_draws_no_chart(tmp_path):
    folder = tmp_path / "one"
    _run(folder, "3000", 3000, threads=2, speed=1.0)
    plan = {"gpuclf_bench_plan": 1, "sizes": {
        "3000": [{"size": "3000", "backend": "cpu", "rounds": 3, "why": "3 rounds as asked"},
                 {"size": "3000", "backend": "numpy", "rounds": 3, "why": "3 rounds as asked"},
                 {"size": "3000", "backend": "gpu", "rounds": 0, "why": "stopped: one round was estimated at 2 h"}]}}
    (folder / "bench-plan.json").write_text(json.dumps(plan))
    md = open(write_report(str(folder))).read()
    assert "stopped: one round was estimated at 2 h" in md
    # One size: no exponent, no crossover, and no link to a cost chart that was not drawn.
    assert "cost-vs-size.png" not in md and not (folder / "cost-vs-size.png").exists()
