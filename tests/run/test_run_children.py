"""No child outlives gpuclf, whatever the signal and whenever it lands (issue 34, item 2).

The race is tested on purpose, not by luck: a driver process traces ``run_child`` line by line
(``sys.settrace``) and raises the signal at the k-th traced event, for every k from the call to
well into the wait, through ``subprocess.Popen``'s own lines (the fork, the wait for the exec)
and the handlers being swapped in and out. After each, no process carrying that run's tag may be
left, the signal must have reached the caller, and the handlers and signal mask must be as before.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from gpuclf.run import children

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; PR_SET_PDEATHSIG")

TAG_VAR = "GPUCLF_ORPHAN_TAG"


def tagged_processes(tag: str) -> list:
    """``(pid, ppid, pgid, state, value)`` of every live process whose environment's ``TAG_VAR`` starts with
    ``tag``.

    A tag in the environment follows a child wherever it goes: into its own session, under pid 1
    once its parent is gone, through ``exec``. Zombies are dead and left out.
    """
    found, want = [], f"{TAG_VAR}={tag}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                value = next((v for v in f.read().split(b"\0") if v.startswith(want)), None)
            if value is None:
                continue
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if fields[0] != "Z":
            found.append((int(entry), int(fields[1]), int(fields[2]), fields[0], value.decode().split("=", 1)[1]))
    return found


def wait_gone(tag: str, timeout: float = 30.0) -> list:
    """The tagged processes still alive after up to ``timeout`` s (a SIGKILLed child takes a moment to go)."""
    deadline = time.monotonic() + timeout
    while (left := tagged_processes(tag)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


DRIVER = r'''
import json, os, shutil, signal, sys
from gpuclf.run import children

sig, tag, extra = getattr(signal, sys.argv[1]), sys.argv[2], int(sys.argv[3])
signal.signal(signal.SIGINT, signal.default_int_handler)  # a terminal's, even where a background job ignores it
sys.path.insert(0, sys.argv[4])
from test_run_children import TAG_VAR, tagged_processes


class Stop(Exception):  # what an application's own SIGTERM handler raises
    pass


if sig != signal.SIGINT:
    def stop(signum, frame):
        raise Stop(signum)
    signal.signal(sig, stop)
handlers = {s: signal.getsignal(s) for s in children.ENDING}
main_pid, wait_code = os.getpid(), children._wait_exited.__code__
SLEEP = shutil.which("sleep")  # a full path: Popen's search along $PATH would be most of the lines traced
k, after_wait, runs = 0, 0, []
while after_wait <= extra:
    state = {"events": 0, "in_wait": False, "fired": False, "fired_in_wait": False}

    def tracer(frame, event, arg):
        if os.getpid() != main_pid:  # the forked child, before exec: not the one under test
            return None
        if event == "call" and frame.f_code is wait_code:
            state["in_wait"] = True
        if state["events"] == k and not state["fired"]:
            state.update(fired=True, fired_in_wait=state["in_wait"])
            signal.raise_signal(sig)
        state["events"] += 1
        return tracer

    os.environ[TAG_VAR] = f"{tag}-{k}"  # inherited: no env= to convert, line by line, in Popen
    sys.settrace(tracer)
    try:
        children.run_child([SLEEP, "600"])
        outcome = "returned"
    except (KeyboardInterrupt, Stop) as exc:
        outcome = type(exc).__name__
    finally:
        sys.settrace(None)
    after_wait += state["fired_in_wait"]
    runs.append({"k": k, "outcome": outcome, "fired": state["fired"], "in_wait": state["fired_in_wait"],
                 "handlers_kept": all(signal.getsignal(s) == h for s, h in handlers.items()),
                 "mask_kept": signal.pthread_sigmask(signal.SIG_BLOCK, ()) == set()})
    k += 1
del os.environ[TAG_VAR]
# An orphan would sleep for 600 s: one look at the end finds every one, each named by its run's tag.
left = tagged_processes(tag + "-")
for run in runs:
    run["left"] = [p for p in left if p[4] == f"{tag}-{run['k']}"]
    print(json.dumps(run))
'''


@pytest.fixture(autouse=True)
def terminal_sigint():
    """SIGINT as a terminal's Python has it: these tests play a Ctrl-C.

    A job started in the background (``cmd &`` in a script, as CI runners and nohup do) inherits SIGINT
    ignored, and Python then keeps it ignored: ``raise_signal(SIGINT)`` would do nothing.
    """
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_at_every_instant_of_the_start_leaves_no_child(signame):
    tag = uuid.uuid4().hex
    # Without xdist's variables (under -n): with them run_child would pass Popen an env= to convert, traced.
    proc = subprocess.run([sys.executable, "-c", DRIVER, signame, tag, "5", os.path.dirname(__file__)],
                          capture_output=True, text=True, timeout=600, env=children.child_env())
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = [json.loads(line) for line in proc.stdout.splitlines()]
    # Every instant from the call through Popen into the wait was tried (Popen alone traces ~100 lines).
    assert len(runs) > 100 and all(r["fired"] for r in runs) and runs[-1]["in_wait"]
    expected = "KeyboardInterrupt" if signame == "SIGINT" else "Stop"
    bad = [r for r in runs if r["left"] or r["outcome"] != expected or not r["handlers_kept"] or not r["mask_kept"]]
    assert not bad, bad[:5]
    assert not tagged_processes(tag)


def test_the_child_ends_on_its_own_and_its_code_comes_back(tmp_path):
    out = tmp_path / "out.txt"
    with open(out, "w") as f:
        code = children.run_child([sys.executable, "-c", "print('hello'); raise SystemExit(3)"], stdout=f)
    assert code == 3 and out.read_text() == "hello\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_the_child_is_not_taken_for_a_pytest_worker(tmp_path, monkeypatch):
    """gpuclf run by an xdist worker: its child (the bench suite) must not think it is one (it would not time)."""
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-n 2")
    monkeypatch.setenv("GPUCLF_KEPT", "yes")
    script = "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.startswith(('PYTEST', 'GPUCLF'))}))"
    for env in (None, {**os.environ, "GPUCLF_GIVEN": "1"}):
        out = tmp_path / "env.json"
        with open(out, "w") as f:
            assert children.run_child([sys.executable, "-c", script], stdout=f, env=env) == 0
        seen = json.loads(out.read_text())
        assert not set(seen) & set(children.PYTEST_OWN) and seen["GPUCLF_KEPT"] == "yes"
        assert ("GPUCLF_GIVEN" in seen) == (env is not None)


def test_what_the_child_leaves_in_its_group_is_ended_too():
    """The child exits, its own child (same process group) would run on: it is killed before the reap."""
    tag = uuid.uuid4().hex
    code = children.run_child(["sh", "-c", "sleep 600 & exit 0"], env={**os.environ, TAG_VAR: tag})
    assert code == 0 and not wait_gone(tag, 10)


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace(monkeypatch):
    monkeypatch.setattr(children, "STOP_GRACE_S", 0.2)
    tag = uuid.uuid4().hex
    script = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); "
              "time.sleep(600)")
    env = {**os.environ, TAG_VAR: tag}
    with pytest.raises(KeyboardInterrupt):
        # The child says it is ready (its SIGTERM ignored) before the Ctrl-C lands, through its stdout.
        read, write = os.pipe()
        try:
            def ready_then_interrupt(frame, event, arg):
                if event == "call" and frame.f_code is children._wait_exited.__code__:
                    os.read(read, 2)
                    sys.settrace(None)
                    signal.raise_signal(signal.SIGINT)
                return None

            sys.settrace(ready_then_interrupt)
            children.run_child([sys.executable, "-c", script], env=env, stdout=write)
        finally:
            sys.settrace(None)
            os.close(read)
            os.close(write)
    assert not wait_gone(tag, 10)


def test_sigkill_of_the_parent_takes_the_child_with_it():
    """SIGKILL cannot be caught: the kernel ends the child (PR_SET_PDEATHSIG)."""
    tag = uuid.uuid4().hex
    parent = subprocess.Popen([sys.executable, "-c", "from gpuclf.run.children import run_child; "
                               "print('go', flush=True); run_child(['sleep', '600'])"],
                              env={**os.environ, TAG_VAR: tag}, stdout=subprocess.PIPE, text=True)
    assert parent.stdout.readline() == "go\n"
    deadline = time.monotonic() + 60
    while len(tagged_processes(tag)) < 2 and time.monotonic() < deadline:  # the parent and its sleep
        time.sleep(0.05)
    parent.kill()
    parent.wait()
    assert not wait_gone(tag)
