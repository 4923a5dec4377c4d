"""The output folder: one writer at a time (:func:`lock_output`), and what a new run may write into.

A new run refuses a folder another run is writing (naming its process), and
a folder holding an earlier run unless told to ``--resume`` it or ``--force``
(replace) it, so two runs' files never mix (:func:`check_output`). The advice
names the caller's options (:func:`gpuclf.errors.option`).
"""
from __future__ import annotations

import os
from contextlib import contextmanager

from gpuclf.errors import GpuclfError, file_errors, option, resume_command
from gpuclf.run.files import check_writable
from gpuclf.run.record import RESULTS, read_record

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs are not guarded there
    fcntl = None

ARRAYS_DIR = "arrays"
LOCK = ".gpuclf.lock"
#: What a run writes into --out, and whether each is a folder (report.py's FIGURES_DIR and REPORT).
OUTPUTS = {RESULTS: False, ARRAYS_DIR: True, "figures": True, "report.html": False}
_HELD: dict[str, int] = {}


@contextmanager
def lock_output(out_dir: str):
    """Hold an exclusive lock on ``out_dir`` (created if missing) for the block.

    An advisory ``flock`` on ``out_dir/.gpuclf.lock``: the operating system
    drops it when the process ends, however it ends, so a killed run never
    leaves a stale lock. Re-entrant within one process (the command line
    holds it across the run and the report; :func:`~gpuclf.run_workflow`
    takes it too).

    Raises
    ------
    GpuclfError
        When another process holds the lock, or ``out_dir`` cannot be written.
    """
    key = os.path.realpath(out_dir)
    if key in _HELD or fcntl is None:
        yield
        return
    check_writable(out_dir)
    with file_errors(f"the lock file in {option('--out')} {out_dir!r}", "choose a folder you can write to"):
        fd = os.open(os.path.join(out_dir, LOCK), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        locked = _try_flock(fd)
        if locked is None:  # a file system without locks (some NFS mounts): run unguarded
            yield
            return
        if not locked:
            raise _busy(out_dir, os.pread(fd, 32, 0))
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD[key] = fd
        try:
            yield
        finally:
            del _HELD[key]
    finally:
        os.close(fd)


def _busy(out_dir: str, pid: bytes) -> GpuclfError:
    """The error for a folder another run is writing; ``pid``: what the holder wrote in the lock file."""
    pid = pid.decode("ascii", "replace").strip()
    return GpuclfError(f"another gpuclf run{f' (process {pid})' if pid.isdigit() else ''} is writing to "
                       f"{option('--out', out_dir)}; wait for it to finish, or choose another {option('--out')}")


def check_not_busy(out_dir: str) -> None:
    """Refuse ``out_dir`` while another process holds its lock (a run is writing there), naming that process.

    Raises
    ------
    GpuclfError
        Naming the process that writes there.
    """
    path = os.path.join(out_dir, LOCK)
    if fcntl is None or os.path.realpath(out_dir) in _HELD or not os.path.isfile(path):
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # unreadable: lock_output says why when it opens it
        return
    try:
        if _try_flock(fd) is False:
            raise _busy(out_dir, os.pread(fd, 32, 0))
    finally:
        os.close(fd)  # and with it the lock, if this took it


def _try_flock(fd: int) -> bool | None:
    """Take the exclusive lock without waiting: True, False when held elsewhere, None when unsupported."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def present_outputs(out_dir: str) -> list[str]:
    return [name for name in OUTPUTS if os.path.lexists(os.path.join(out_dir, name))]


def check_output(out_dir: str, resume: bool = False, force: bool = False) -> bool:
    """Refuse, writing nothing, an ``--out`` a run may not write into (call it before any work).

    A run is its ``results.json``: the steps it finished. A folder holding one
    is refused unless resumed or replaced (``--force``), with the command that
    continues it. A run killed before its first step was saved leaves at most
    ``arrays/`` with that step's arrays (written just before ``results.json``):
    that is no run, and the caller clears it. Other outputs without a
    ``results.json`` are not gpuclf's to remove; outputs of the wrong kind (a
    file named ``arrays``) are refused.

    Returns
    -------
    bool
        Whether ``out_dir`` holds only what a run that saved no step left.

    Raises
    ------
    GpuclfError
        Naming what is in the way and what to do: first, another run
        writing there (its process).
    """
    check_not_busy(out_dir)
    if force:
        return False
    present = present_outputs(out_dir)
    for name in present:
        path = os.path.join(out_dir, name)
        if os.path.isdir(path) != OUTPUTS[name]:
            found, wanted = ("a folder", "a file") if os.path.isdir(path) else ("not a folder", "a folder")
            raise GpuclfError(f"{option('--out', out_dir)}: {name!r} is {found}, but gpuclf writes {wanted} of that "
                              f"name there; move it away, use {option('--force')} to replace it, or choose another "
                              f"{option('--out')}")
    if resume:
        read_record(out_dir)
        return False
    if RESULTS in present:
        steps = list(read_record(out_dir)["steps"])  # a damaged one is refused, saying so
        raise GpuclfError(f"{option('--out', out_dir)} already holds a run ({len(steps)} finished step(s): "
                          f"{', '.join(steps) or 'none'}); continue it with: {resume_command(out_dir)}, replace it "
                          f"with {option('--force')}, or choose another {option('--out')}")
    if present and (present != [ARRAYS_DIR] or not _unsaved_arrays_only(out_dir)):
        raise GpuclfError(f"{option('--out', out_dir)} holds {', '.join(present)} but no {RESULTS}: no run to "
                          f"continue; move them away, use {option('--force')} to replace them, or choose another "
                          f"{option('--out')}")
    return bool(present)


def _unsaved_arrays_only(out_dir: str) -> bool:
    """Whether ``arrays/`` holds only step arrays (and temporaries), as a killed run leaves it."""
    from gpuclf.chapter import STEPS

    folder = os.path.join(out_dir, ARRAYS_DIR)
    with file_errors(folder, f"move it away, or choose another {option('--out')}"):
        names = os.listdir(folder)
    return all(n.startswith(".tmp-") or n.endswith(".npz") and n.removesuffix(".npz") in STEPS for n in names)
