"""Child processes that never outlive gpuclf, whatever signal ends it and whenever it lands.

gpuclf starts children (``gpuclf bench``'s timing suite, ``python -m cuml.accel``) in a session of
their own, so that a Ctrl-C at the terminal reaches gpuclf only: gpuclf then ends the child quietly
(no second traceback from pytest) and prints its one line. That is safe only if gpuclf holds its
child at every instant. Issue 34 found the instant it did not: a Ctrl-C between the fork and the
``try`` that stops the child left the timing suite running, orphaned, after gpuclf exited with 130.
:func:`run_child` is the one way gpuclf starts a child, and closes every such gap:

- **While the child starts**, the signals that end a process (SIGINT, SIGTERM, SIGHUP, SIGQUIT) are
  only noted, so none can raise between the fork and the moment the child is held. Swapping the
  handlers in and out happens with those signals blocked, so that no handler is left half-swapped.
- **While it runs**, gpuclf waits in short polls; a noted signal ends the child's whole process
  group (SIGTERM, then SIGKILL after :data:`STOP_GRACE_S`), and only then is the signal delivered
  again to the handler that was in place before: Ctrl-C raises ``KeyboardInterrupt`` as usual, and
  SIGTERM at its default ends gpuclf by that signal, as a shell or a job scheduler expects.
- **When the child is gone**, anything left in its process group (its own children) is killed
  before the child is reaped, while the group's id cannot yet be reused.
- **A signal that cannot be caught** (SIGKILL), or one whose default action ends gpuclf at once:
  on Linux the child asks the kernel to kill it when gpuclf dies (``PR_SET_PDEATHSIG``).

A child does not inherit the variables that would make its pytest part of another run (:data:`PYTEST_OWN`):
gpuclf run from a pytest-xdist worker (its tests, ``pytest -n 2``) would otherwise hand ``PYTEST_XDIST_WORKER``
to the timing suite, whose pytest-benchmark then believes it is a worker too, disables timing and writes
no JSON, and still passes.

gpuclf's other children, the workers of ``--cluster local`` (:mod:`gpuclf.run.cluster`), are
started by Dask, whose ``AsyncProcess`` ends each one when the pipe from its parent closes.
"""
from __future__ import annotations

import ctypes
import math
import os
import signal
import subprocess
import sys
import threading
import time

#: Signals that end a process and that gpuclf turns into stopping its child first.
ENDING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT") if hasattr(signal, name))
#: Seconds between two looks at a running child (how late a noted signal may be acted on).
POLL_S = 0.05
#: Seconds a child may take to end after SIGTERM before it gets SIGKILL.
STOP_GRACE_S = 10.0
_PR_SET_PDEATHSIG = 1
#: Variables that would make a child's pytest run as another's part: pytest-xdist's worker id, worker
#: count and run id, and ``PYTEST_ADDOPTS`` (``-n 2`` there makes the child distribute its tests; gpuclf's
#: pytest commands leave out the ini file's options by ``-o addopts=`` for the same reason).
PYTEST_OWN = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID", "PYTEST_ADDOPTS")


def child_env(env=None) -> dict:
    """``env`` (default: this process's environment) without the variables of :data:`PYTEST_OWN`."""
    return {k: v for k, v in (os.environ if env is None else env).items() if k not in PYTEST_OWN}


class _NotedSignals:
    """While entered, the :data:`ENDING` signals only append to :attr:`noted`; on exit, each noted
    signal is delivered again to the handler in place before (which may raise, or end the process).

    Outside the main thread (where Python cannot set handlers) it notes nothing and changes nothing.
    """

    def __init__(self):
        self.noted: list = []
        self._previous: dict = {}

    def _note(self, signum, frame):
        self.noted.append(signum)

    def __enter__(self) -> "_NotedSignals":
        if threading.current_thread() is not threading.main_thread():
            return self
        # Reading the mask first (a no-op block) lets the finally restore it even if the block below
        # raises: pthread_sigmask runs pending Python handlers before it returns.
        before = signal.pthread_sigmask(signal.SIG_BLOCK, ())
        try:
            # A signal that arrived before this line is handled by the old handler right here, before
            # anything is swapped; from here on none arrives until the mask is restored.
            signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)
            for signum in ENDING:
                handler = signal.getsignal(signum)
                if handler is None or handler == signal.SIG_IGN:  # set outside Python, or ignored: left so
                    continue
                self._previous[signum] = handler
                signal.signal(signum, self._note)
        except BaseException:
            self._restore()
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)
        return self

    def _restore(self) -> None:
        while self._previous:
            signum, handler = self._previous.popitem()
            signal.signal(signum, handler)

    def __exit__(self, *exc) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        before = signal.pthread_sigmask(signal.SIG_BLOCK, ())
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, ENDING)  # one arriving just before is noted here
            self._restore()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, before)  # later ones reach the restored handlers
        for signum in dict.fromkeys(self.noted):
            signal.raise_signal(signum)


def _die_with_parent():
    """A ``preexec_fn`` asking Linux to SIGKILL the child when gpuclf dies, or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the child only calls it
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec():
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != parent:  # gpuclf died before the request took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def _exited(pid: int) -> bool:
    """Whether the child ``pid`` has exited, without reaping it (its id stays reserved for its group)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    """``signum`` to the child's process group (its id is the child's: the child leads its session)."""
    try:
        os.killpg(child.pid, signum)
    except (ProcessLookupError, PermissionError):  # the group is already empty
        pass


def _wait_exited(child: subprocess.Popen, timeout: float = math.inf, stop=lambda: False) -> bool:
    """Whether ``child`` exits within ``timeout`` seconds, giving up early once ``stop()`` is true.

    It looks often at first (most stops take milliseconds), then every :data:`POLL_S`.
    """
    deadline, delay = time.monotonic() + timeout, 0.001
    while True:
        if hasattr(os, "waitid"):
            if _exited(child.pid):
                return True
        elif child.poll() is not None:  # not on macOS: there, looking reaps
            return True
        left = deadline - time.monotonic()
        if stop() or left <= 0:
            return False
        time.sleep(min(delay, left))
        delay = min(2 * delay, POLL_S)


def _end(child: subprocess.Popen, stop: bool) -> int:
    """End ``child``'s process group (politely first when ``stop``), reap the child, return its exit code."""
    if child.returncode is None:
        if stop:
            _signal_group(child, signal.SIGTERM)
            _wait_exited(child, STOP_GRACE_S)
        # The child has exited but is not reaped: its group id cannot be reused, so this reaches only
        # what it left behind (and the child itself, if it ignored SIGTERM).
        _signal_group(child, signal.SIGKILL)
    return child.wait()


def run_child(cmd, **popen_kwargs) -> int:
    """Run ``cmd`` in a session of its own to the end and return its exit code; it never outlives gpuclf.

    Parameters
    ----------
    cmd : list of str
        The command line.
    **popen_kwargs
        Passed to :class:`subprocess.Popen` (``cwd``, ``env``, ``stdout``, ...); ``env`` (default:
        this process's) less :data:`PYTEST_OWN`.

    Returns
    -------
    int
        The child's exit code (negative: the signal that ended it).

    Raises
    ------
    KeyboardInterrupt
        On Ctrl-C (SIGINT at its default handler), after the child and its process group are gone;
        any other ending signal acts as its handler says, also after they are gone.
    """
    env = popen_kwargs.get("env")
    if any(k in (os.environ if env is None else env) for k in PYTEST_OWN):  # else inherited as it is
        popen_kwargs["env"] = child_env(env)
    with _NotedSignals() as signals:
        child = subprocess.Popen(cmd, start_new_session=True, preexec_fn=_die_with_parent(), **popen_kwargs)
        stop = True
        try:
            stop = not _wait_exited(child, stop=lambda: bool(signals.noted))
        finally:
            code = _end(child, stop)
    return code
