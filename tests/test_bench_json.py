"""The bench suite's real JSON (timing on, not ``--benchmark-disable``) has what ``gpuclf bench`` renders.

One quick step runs on two backends at the smallest size with pytest-benchmark actually timing
and writing ``--benchmark-json``; the test then checks the keys the renderer reads and that the
Markdown a reader gets shows the measured medians, speedup, figures, rows and estimators. A key
renamed on either side (bench/conftest.py writes, gpuclf/benchmarks.py reads) fails here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpuclf.benchmarks import render_markdown

REPO = Path(__file__).resolve().parent.parent

# What gpuclf.benchmarks reads from each benchmark's extra_info, and from the run.
EXTRA_INFO = {"step": str, "backend": str, "size": str, "n_train": int, "n_test": int, "data_source": str,
              "warmup_rounds": int, "figures": dict, "notes": list, "host_peak_rss_bytes": int,
              "device_peak_bytes": (int, type(None)), "estimators": dict}
RUN_INFO = {"size": str, "command": str, "pytest_command": str, "backends": dict, "versions": dict}


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "benchmark-small-cpu-numpy.json"
    env = {k: v for k, v in os.environ.items() if k != "GPUCLF_MNIST"}  # the offline sample
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "bench/test_bench_binary.py", "-k", "test_binary_sgd",
         "-p", "no:cacheprovider", "-o", "addopts=", "-q", "--bench-size", "small",
         "--bench-backends", "cpu,numpy", "--bench-rounds", "1", "--benchmark-json", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 passed" in proc.stdout
    return out


def _row(md: str, first: str, after: str = "") -> list:
    part = md.split(after, 1)[1] if after else md
    line = next(li for li in part.splitlines() if li.startswith(f"| {first} |"))
    return [c.strip() for c in line.strip("|").split("|")]


def test_json_has_every_key_the_renderer_reads(bench_json):
    doc = json.loads(bench_json.read_text())
    assert isinstance(doc["datetime"], str) and isinstance(doc["machine_info"], dict)
    for key, kind in RUN_INFO.items():
        assert isinstance(doc["gpuclf"][key], kind), key
    assert {b["extra_info"]["backend"] for b in doc["benchmarks"]} == {"cpu", "numpy"}
    for b in doc["benchmarks"]:
        info = b["extra_info"]
        for key, kind in EXTRA_INFO.items():
            assert isinstance(info[key], kind), f"extra_info[{key!r}] is {info.get(key)!r}"
        assert info["step"] == "binary_sgd" and info["size"] == "small"
        assert (info["n_train"], info["n_test"]) == (4000, 1000)  # the offline sample at --bench-size small
        assert b["stats"]["rounds"] == 1 and b["stats"]["median"] > 0  # really timed
        sgd = info["estimators"]["sgd"]
        assert {"library", "class", "params", "device"} <= set(sgd)
        assert isinstance(info["figures"]["some_digit_is_5"], bool)


def test_markdown_shows_the_measured_run(bench_json):
    doc = json.loads(bench_json.read_text())
    median = {b["extra_info"]["backend"]: b["stats"]["median"] for b in doc["benchmarks"]}
    md = render_markdown([str(bench_json)])
    assert "## small: 4,000 training rows, 1,000 test rows" in md
    assert "Data `sample:" in md and "Rounds: cpu 1, numpy 1." in md
    step, cpu, numpy, speedup = _row(md, "binary_sgd")
    assert step == "binary_sgd"
    # Three significant digits of each median, and the cpu / numpy ratio with two decimals.
    assert float(cpu) == pytest.approx(median["cpu"], rel=5e-3)
    assert float(numpy) == pytest.approx(median["numpy"], rel=5e-3)
    ratio = median["cpu"] / median["numpy"]
    assert speedup.endswith("×") and float(speedup[:-1]) == pytest.approx(ratio, rel=5e-3, abs=5e-3)
    figures = {b["extra_info"]["backend"]: b["extra_info"]["figures"]["some_digit_is_5"] for b in doc["benchmarks"]}
    assert _row(md, "binary_sgd", "### Result figures") == [
        "binary_sgd", "some_digit_is_5", str(figures["cpu"]), str(figures["numpy"])]
    peak = {b["extra_info"]["backend"]: b["extra_info"]["host_peak_rss_bytes"] for b in doc["benchmarks"]}
    assert _row(md, "binary_sgd", "### Peak memory (MiB)") == [
        "binary_sgd", f"{peak['cpu'] / 2**20:,.0f}", f"{peak['numpy'] / 2**20:,.0f}"]
    role = _row(md, "sgd", "### Estimators")
    assert role[1].startswith("scikit-learn SGDClassifier (") and role[2].startswith("gpuclf SGDClassifier (")
    assert f"- Command: `{doc['gpuclf']['command']}`" in md
