"""The one exception type for user mistakes, the boundary that maps file errors to it, and the caller's words.

A message's advice names what the caller can change. The command line says
``--resume``; Python code that called :func:`gpuclf.run_workflow` says
``resume=True``. Messages name an option through :func:`option` (and a run's
continuation through :func:`resume_command`), and :func:`command_line`
says, for the length of a command, that the caller is the command line.
"""
from __future__ import annotations

import errno
import os
import shlex
import stat
import zipfile
import zlib
from contextlib import contextmanager
from contextvars import ContextVar


class GpuclfError(Exception):
    """A problem the user can fix: bad input, missing dependency, bad option.

    The command line prints its message as one line and exits with code 2;
    the message says what is wrong and what to do.
    """


class InputError(GpuclfError, ValueError):
    """Bad data or parameter given to an estimator.

    A :class:`GpuclfError` for the command line, and a ``ValueError`` for
    scikit-learn's tools (grid search, ``check_estimator``), which expect one.
    """


class ParameterError(InputError, TypeError):
    """A hyper-parameter of the wrong type or outside its range.

    Also a ``TypeError``, as scikit-learn's ``InvalidParameterError`` is, so
    code written against scikit-learn's parameter errors catches it either way.
    """


#: The command the user typed (``gpuclf run``, ``gpuclf demo``) while the command line runs; None: Python.
_COMMAND: ContextVar[str | None] = ContextVar("gpuclf_command", default=None)

#: How Python code gives what an option gives on the command line (run_workflow's and RunConfig's
#: parameters); an option not listed is spelt as on the command line.
PYTHON_SPELLING = {
    "--resume": "resume=True", "--force": "force=True", "--out": "out_dir",
    "--steps": "RunConfig(steps=...)", "--positive-class": "RunConfig(positive_class=...)",
    "--train-size": "data.subsample(train_size)", "--max-gpu-memory": "get_backend('gpu', max_gpu_memory=...)",
    "--cluster": "backend.use_cluster(client)",
}


@contextmanager
def command_line(command: str):
    """Within the block, messages speak to a user of ``command`` (``gpuclf run``): in its options."""
    token = _COMMAND.set(command)
    try:
        yield
    finally:
        _COMMAND.reset(token)


def option(flag: str, value=None) -> str:
    """An option as the caller gives it: ``--force`` on the command line, ``force=True`` from Python.

    With ``value``: ``--out results`` on the command line, ``out_dir='results'`` from Python.
    """
    if _COMMAND.get() is not None:
        return flag if value is None else f"{flag} {value}"
    spelt = PYTHON_SPELLING.get(flag, flag)
    return spelt if value is None else f"{spelt}={value!r}"


def resume_command(out_dir: str) -> str:
    """How the caller continues the run in ``out_dir``: the command it ran with ``--resume``, or run_workflow's."""
    command = _COMMAND.get()
    if command is None:
        return f"run_workflow(backend, data, config, {out_dir!r}, resume=True)"
    return f"{command} --resume --out {shlex.quote(out_dir)}"


#: What reading or writing a file can raise besides our own errors: the OS,
#: zip containers, deflate streams, the .npy format (ValueError) and arrays
#: too large for memory (NumPy's ``_ArrayMemoryError`` is a MemoryError).
FILE_ERRORS = (OSError, EOFError, ValueError, MemoryError, NotImplementedError, RuntimeError,
               zipfile.BadZipFile, zlib.error)

_OS_REASONS = {
    errno.ENOENT: "does not exist",
    errno.EISDIR: "is a folder, not a file",
    errno.ENOTDIR: "is not in a folder (a part of its path is a file)",
    errno.EACCES: "is not accessible (permission denied)",
    errno.EPERM: "is not accessible (operation not permitted)",
    errno.ENOSPC: "could not be written: no space left on device",
    errno.EDQUOT: "could not be written: disk quota exceeded",
    errno.EROFS: "could not be written: read-only file system",
}


def describe_file_error(exc: BaseException) -> str:
    """The reason part of a one-line message for an exception from :data:`FILE_ERRORS`."""
    if isinstance(exc, OSError) and exc.errno in _OS_REASONS:
        return _OS_REASONS[exc.errno]
    if isinstance(exc, OSError) and exc.strerror:
        return f"could not be read or written ({exc.strerror})"
    if isinstance(exc, MemoryError):
        return "is too large to load into this machine's memory"
    if isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError, OSError)):
        # gzip.BadGzipFile is an OSError without errno: a damaged stream, like zlib.error.
        return f"is truncated or corrupt ({type(exc).__name__}: {exc})"
    return f"is not valid ({type(exc).__name__}: {exc})"


#: What a path may be instead of a regular file; reading any of them may block for ever (a pipe
#: with no writer, a terminal) or never end (``/dev/zero``).
_NOT_FILES = ((stat.S_ISDIR, "is a folder, not a file"), (stat.S_ISFIFO, "is a named pipe (FIFO), not a file"),
              (stat.S_ISSOCK, "is a socket, not a file"), (stat.S_ISCHR, "is a character device, not a file"),
              (stat.S_ISBLK, "is a block device, not a file"))


def not_a_file(path: str) -> str | None:
    """Why ``path`` is not a regular file gpuclf may open for reading, or None when it is one (or is missing).

    Checked before opening: opening a FIFO blocks until a writer comes. A
    missing or inaccessible path is left to the ``open`` that follows, whose
    error :func:`file_errors` turns into its own line.
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return next((reason for is_kind, reason in _NOT_FILES if is_kind(mode)), None)


@contextmanager
def file_errors(subject: str, hint: str = "", *, reads: str | None = None):
    """Turn every file error raised inside the block into one :class:`GpuclfError` line.

    The one boundary between gpuclf and the file system: data files, the
    results store and the report all read and write inside it, so a missing
    file, a folder where a file should be, a damaged zip or deflate stream,
    an invalid ``.npy`` header or a full disk each become
    ``"<subject> <reason>; <hint>"`` instead of a traceback.

    Parameters
    ----------
    subject : str
        What was being read or written, e.g. ``"data file 'mnist.npz'"``.
    hint : str, optional
        What the user can do about it.
    reads : str, optional
        A path the block opens for reading: refused first, without opening it,
        when it is not a regular file (:func:`not_a_file`), since reading a FIFO,
        a socket or a device can wait for ever.

    Raises
    ------
    GpuclfError
        In place of any exception in :data:`FILE_ERRORS`; GpuclfErrors pass unchanged.
    """
    reason = not_a_file(reads) if reads is not None else None
    if reason:
        raise GpuclfError(f"{subject} {reason}; {hint}" if hint else f"{subject} {reason}")
    try:
        yield
    except GpuclfError:
        raise
    except FILE_ERRORS as exc:
        message = f"{subject} {describe_file_error(exc)}"
        raise GpuclfError(f"{message}; {hint}" if hint else message) from None
