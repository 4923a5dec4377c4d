"""The bench suite's real JSON (timing on, not ``--benchmark-disable``) has what ``gpuclf bench`` renders.

One quick step and the machine's limits run on two backends at the smallest size, three rounds each, with
pytest-benchmark actually timing and writing ``--benchmark-json``; the test then checks the keys the
renderer reads, that the rounds ran interleaved (A B A B) and merged into one pytest-benchmark entry per
step and backend, and that the Markdown a reader gets shows the measured medians, spreads, speedup, % of
peak, figures, rows and estimators. A key renamed on either side (bench/conftest.py writes,
gpuclf/benchmarks reads) fails here.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from gpuclf.benchmarks import render_markdown
from gpuclf.run.children import child_env

REPO = Path(__file__).resolve().parents[2]
ROUNDS = 3

# What gpuclf.benchmarks reads from each step's extra_info, and from the run.
EXTRA_INFO = {"step": str, "backend": str, "size": str, "n_train": int, "n_test": int, "data_source": str,
              "warmup_rounds": int, "figures": dict, "notes": list, "host_peak_rss_bytes": int,
              "device_peak_bytes": (int, type(None)), "estimators": dict, "round_seconds": list,
              "round_sequence": list, "gemm_flops": (int, type(None)), "gemm_dtype": str, "array_library": str}
RUN_INFO = {"size": str, "command": str, "pytest_command": str, "backends": dict, "versions": dict, "machine": dict,
            "data_fingerprint": str, "config": dict, "rounds": dict}


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "benchmark-small-cpu-numpy.json"
    # Started as gpuclf bench starts it: not as an xdist worker, should this test run in one.
    env = {k: v for k, v in child_env().items() if k != "GPUCLF_MNIST"}  # the offline sample
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "bench/test_bench_peak.py", "bench/test_bench_binary.py",
         "-k", "test_binary_sgd or float32", "-p", "no:cacheprovider", "-o", "addopts=", "-q", "--bench-size", "small",
         "--bench-backends", "cpu,numpy", "--bench-rounds", str(ROUNDS), "--benchmark-json", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # Per round: the fp32 GEMM peak, then the step on each backend.
    assert f"{3 * ROUNDS} passed" in proc.stdout
    return out


def _steps(doc):
    return [b for b in doc["benchmarks"] if "step" in b["extra_info"]]


def _row(md: str, first: str, after: str = "") -> list:
    part = md.split(after, 1)[1] if after else md
    line = next(li for li in part.splitlines() if li.startswith(f"| {first} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_json_has_every_key_the_renderer_reads(bench_json):
    doc = json.loads(bench_json.read_text())
    assert isinstance(doc["datetime"], str) and isinstance(doc["machine_info"], dict)
    for key, kind in RUN_INFO.items():
        assert isinstance(doc["gpuclf"][key], kind), key
    assert {b["extra_info"]["backend"] for b in _steps(doc)} == {"cpu", "numpy"}
    for b in _steps(doc):
        info = b["extra_info"]
        for key, kind in EXTRA_INFO.items():
            assert isinstance(info[key], kind), f"extra_info[{key!r}] is {info.get(key)!r}"
        assert info["step"] == "binary_sgd" and info["size"] == "small"
        assert (info["n_train"], info["n_test"]) == (4000, 1000)  # the offline sample at --bench-size small
        sgd = info["estimators"]["sgd"]
        assert {"library", "class", "params", "device"} <= set(sgd)
        assert isinstance(info["figures"]["some_digit_is_5"], bool)
    # FLOPs where gpuclf's kernels multiply (numpy, float32); scikit-learn's per-sample SGD has none.
    flops = {b["extra_info"]["backend"]: b["extra_info"]["gemm_flops"] for b in _steps(doc)}
    assert flops["cpu"] is None and flops["numpy"] > 0
    peak = next(b for b in doc["benchmarks"] if b["extra_info"].get("peak") == "gemm")
    assert peak["extra_info"]["dtype"] == "float32" and peak["extra_info"]["flops"] == 2 * peak["extra_info"]["n"] ** 3
    assert any(lib["user_api"] == "blas" and lib["num_threads"] >= 1 for lib in doc["gpuclf"]["machine"]["blas"])


def test_rounds_interleave_and_merge_into_one_entry_each(bench_json):
    doc = json.loads(bench_json.read_text())
    entries = {b["extra_info"]["backend"]: b for b in _steps(doc)}
    assert {b["name"] for b in entries.values()} == {"test_binary_sgd[cpu]", "test_binary_sgd[numpy]"}
    cpu, numpy = (entries[k]["extra_info"]["round_sequence"] for k in ("cpu", "numpy"))
    # A B A B A B: each numpy round right after the cpu round of the same number, before the next cpu round.
    order = sorted([(s, "cpu") for s in cpu] + [(s, "numpy") for s in numpy])
    assert [b for _, b in order] == ["cpu", "numpy"] * ROUNDS
    for b in entries.values():
        stats, seconds = b["stats"], b["extra_info"]["round_seconds"]
        assert stats["rounds"] == ROUNDS and stats["data"] == seconds and all(t > 0 for t in seconds)
        assert stats["median"] == pytest.approx(statistics.median(seconds))
        assert (stats["min"], stats["max"]) == (min(seconds), max(seconds))
        # pytest-benchmark's quartiles of three rounds: a quarter of the way between neighbours.
        low, mid, high = sorted(seconds)
        assert stats["iqr"] == pytest.approx((0.25 * mid + 0.75 * high) - (0.75 * low + 0.25 * mid))


def test_markdown_shows_the_measured_run(bench_json):
    doc = json.loads(bench_json.read_text())
    stats = {b["extra_info"]["backend"]: b["stats"] for b in _steps(doc)}
    md = render_markdown([str(bench_json)])
    assert "## small: 4,000 training rows, 1,000 test rows" in md
    assert "Data `sample:" in md and f"Rounds: cpu {ROUNDS}, numpy {ROUNDS}." in md
    step, cpu, cpu_spread, numpy, numpy_spread, speedup = _row(md, "binary_sgd")
    assert step == "binary_sgd"
    # Three significant digits of each median, and the cpu / numpy ratio of medians with two decimals.
    assert float(cpu) == pytest.approx(stats["cpu"]["median"], rel=5e-3)
    assert float(numpy) == pytest.approx(stats["numpy"]["median"], rel=5e-3)
    low, high = (float(v) for v in cpu_spread.split(" (IQR")[0].split("–"))
    assert low == pytest.approx(stats["cpu"]["min"], rel=5e-3) and high == pytest.approx(stats["cpu"]["max"], rel=5e-3)
    ratio = stats["cpu"]["median"] / stats["numpy"]["median"]
    assert float(speedup.split("×")[0]) == pytest.approx(ratio, rel=5e-3, abs=5e-3)
    figures = {b["extra_info"]["backend"]: b["extra_info"]["figures"]["some_digit_is_5"] for b in _steps(doc)}
    assert _row(md, "binary_sgd", "### Result figures") == [
        "binary_sgd", "some_digit_is_5", str(figures["cpu"]), str(figures["numpy"])]
    eff = _row(md, "binary_sgd", "### GEMM efficiency")
    assert eff[2:4] == ["–", "–"] and eff[5].endswith("% of fp32")
    assert "binary_sgd: " in md and "of this machine's fp32 GEMM peak on numpy" in md
    assert "## This machine's limits" in md
    role = _row(md, "sgd", "### Estimators")
    assert role[1].startswith("scikit-learn SGDClassifier (") and role[2].startswith("gpuclf SGDClassifier (")
    assert f"- Command: `{doc['gpuclf']['command']}`" in md


def test_pytest_benchmark_compare_reads_the_merged_json(bench_json, tmp_path):
    """The results stay pytest-benchmark's: its own ``compare`` command tabulates them."""
    proc = subprocess.run([sys.executable, "-m", "pytest_benchmark", "compare", str(bench_json),
                           "--columns", "median,rounds"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "test_binary_sgd[cpu]" in proc.stdout and "test_binary_sgd[numpy]" in proc.stdout
