"""A Dask cluster that goes away mid-run: one line that says so, and the command that continues (issue 34, item 6).

The boundary is :func:`gpuclf.dispatch.cluster_failure`: an exception is the
cluster's when Dask raised it, whatever its type. A scheduler gone makes
Dask's ``connect`` raise a plain ``OSError("Timed out trying to connect to
...")``, which a check by type alone took for a bug ("unexpected OSError");
a task's own error, which Dask re-raises with the task's traceback, is not
the cluster's. The runner adds what is saved and how the caller continues.
"""
from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys

import pytest

distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the [test] extra")

from cli_errors import assert_one_line_error, run_main  # noqa: E402
from gpuclf.dispatch import ClusterError, Dispatcher, cluster_errors, cluster_failure  # noqa: E402
from gpuclf.run import store as store_module  # noqa: E402

CLUSTER = """
import time
from distributed import LocalCluster
cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None,
                       protocol="tcp", host="127.0.0.1")
print(cluster.scheduler_address, flush=True)
time.sleep(600)
"""


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nobody listens there once the socket is closed


def test_a_scheduler_that_does_not_answer_is_the_cluster_going_away():
    async def connect():
        await distributed.comm.connect(f"tcp://127.0.0.1:{_closed_port()}", timeout=0.5)

    with pytest.raises(OSError) as info:
        asyncio.run(connect())
    assert type(info.value) is OSError and "Timed out trying to connect" in str(info.value)  # Dask's own words
    lost = cluster_failure(info.value)
    assert isinstance(lost, ClusterError) and str(lost).startswith(
        "the Dask cluster went away: its scheduler stopped answering (OSError: Timed out trying to connect to tcp://")
    with pytest.raises(ClusterError, match="went away"), cluster_errors():
        asyncio.run(connect())


def _fails_with_oserror(unit):
    raise OSError(f"unit {unit}: a task's own error")


def test_a_tasks_own_error_is_not_the_clusters():
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        with pytest.raises(OSError, match="a task's own error") as info:
            Dispatcher(client).map(_fails_with_oserror, [1])
    assert not isinstance(info.value, ClusterError) and cluster_failure(info.value) is None


@pytest.fixture
def doomed_cluster():
    """A scheduler and its worker in one process that the test kills with SIGKILL."""
    proc = subprocess.Popen([sys.executable, "-c", CLUSTER], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        yield proc, proc.stdout.readline().strip()
    finally:
        proc.kill()
        proc.wait()


def test_a_cluster_killed_mid_run_is_one_line_with_the_command_that_continues(doomed_cluster, tmp_path, capsys,
                                                                               monkeypatch):
    proc, address = doomed_cluster
    save = store_module.ResultsStore.save_step

    def save_then_kill(self, step, *args, **kwargs):
        save(self, step, *args, **kwargs)
        if step == "data":  # the scheduler dies between two steps; the next one's work cannot be sent
            proc.send_signal(signal.SIGKILL)
            proc.wait()

    monkeypatch.setattr(store_module.ResultsStore, "save_step", save_then_kill)
    out = tmp_path / "out"
    code, err = run_main(capsys, "run", "--backend", "numpy", "--data", "sample", "--train-size", 600,
                         "--test-size", 100, "--steps", "data,binary_cv", "--cluster", address, "--quiet",
                         "--no-report", "--out", out)
    line = assert_one_line_error(code, err, "step binary_cv: the Dask cluster went away: its scheduler stopped "
                                            "answering (")
    assert line.endswith(f"; the 1 finished step(s) are saved in {out}: continue with gpuclf run --resume --out "
                         f"{out} (on a cluster that works, or without one)"), line
    monkeypatch.undo()
    # The advice runs: without the cluster, the run continues from its saved step.
    command = line.split("continue with ")[1].split(" (on a")[0].split()
    assert run_main(capsys, *command[1:], "--quiet", "--no-report")[0] == 0
    assert list(json.loads((out / "results.json").read_text())["steps"]) == ["data", "binary_cv"]
