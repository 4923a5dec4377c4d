"""Files a run writes: atomically (old or new, never half), into a folder checked writable first."""
from __future__ import annotations

import os
import tempfile

import numpy as np

from gpuclf.errors import GpuclfError, file_errors


def to_jsonable(obj):
    """Turn NumPy scalars/arrays (and nested containers of them) into plain Python."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def atomic_write(path: str, write) -> None:
    """Write ``path`` so that readers see the old file or the new one, never half of it.

    Parameters
    ----------
    path : str
        File to (re)write; its folder must exist.
    write : callable
        ``write(f)`` writes the content to the binary file object ``f``.
    """
    # A temporary file in the same folder, so that os.replace is a rename on one filesystem.
    folder = os.path.dirname(path) or "."
    with file_errors(path):
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            # mkstemp creates 0600; give the file the permissions a plain open() would.
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


def check_writable(out_dir: str, option: str = "--out") -> None:
    """Fail early, before any work, when ``out_dir`` cannot be written.

    Parameters
    ----------
    out_dir : str
        The folder (created if missing).
    option : str
        The option that named it, for the message.

    Raises
    ------
    GpuclfError
        Naming the option, the folder and what to do.
    """
    blocker = _file_on_path(out_dir)
    if blocker is not None:
        where = "" if blocker == out_dir else f": {blocker!r}"
        raise GpuclfError(f"{option} {out_dir!r}{where} is a file, not a folder; choose a folder (gpuclf creates "
                          "it if it does not exist)")
    try:
        os.makedirs(out_dir, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out_dir, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise GpuclfError(f"cannot write to {option} {out_dir!r} ({exc.strerror or exc}); "
                          "choose a folder you can write to") from None


def _file_on_path(path: str) -> str | None:
    """The first of ``path`` and its parents that exists and is not a folder, or None."""
    while path:
        if os.path.lexists(path) and not os.path.isdir(path):
            return path
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent
    return None
