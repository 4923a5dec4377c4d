"""``results.json`` and the plot arrays, written atomically after every step.

A run killed at any moment leaves the last finished step's results intact:
each file is written to a temporary name in the same folder and renamed
over the old one. ``--resume`` reloads them, refusing a folder produced
with another backend, dataset or seed.
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from .errors import GpuclfError

RESULTS = "results.json"
ARRAYS_DIR = "arrays"
# Keys of the run's identity that a resumed run must share.
IDENTITY = ("backend", "data_source", "n_train", "n_test", "config")


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


def check_writable(out_dir: str) -> None:
    """Fail early, before any work, when ``out_dir`` cannot be written.

    Raises
    ------
    GpuclfError
        Naming the folder and what to do.
    """
    try:
        os.makedirs(out_dir, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out_dir, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise GpuclfError(f"cannot write to --out {out_dir!r} ({exc.strerror or exc}); "
                          "choose a folder you can write to") from None


class ResultsStore:
    """The run's output folder: ``results.json`` plus ``arrays/<step>.npz``.

    Parameters
    ----------
    out_dir : str
        Folder to write to (created if missing).
    header : dict
        The run's identity and environment (backend, device, versions, config).
    resume : bool
        Load finished steps from an earlier run in ``out_dir``.
    """

    def __init__(self, out_dir: str, header: dict, resume: bool = False):
        self.out_dir = out_dir
        self.path = os.path.join(out_dir, RESULTS)
        self.doc = {**to_jsonable(header), "steps": {}, "seconds": {}, "memory": {}, "placement": {},
                    "warnings": {}}
        if resume:
            self._load_previous()

    def _load_previous(self) -> None:
        if not os.path.exists(self.path):
            raise GpuclfError(f"--resume: {self.path} does not exist; run without --resume first")
        try:
            with open(self.path) as f:
                old = json.load(f)
        except (OSError, ValueError) as exc:
            raise GpuclfError(f"--resume: {self.path} is unreadable ({exc}); delete it to start afresh") from None
        for key in IDENTITY:
            if old.get(key) != self.doc.get(key):
                raise GpuclfError(f"--resume: {self.out_dir} holds results with a different {key} "
                                  f"({old.get(key)!r} vs {self.doc.get(key)!r}); use another --out "
                                  "or run without --resume")
        for part in ("steps", "seconds", "memory", "placement", "warnings"):
            self.doc[part] = old.get(part, {})

    @property
    def finished(self) -> dict:
        """Figures of the steps already done, by step id."""
        return self.doc["steps"]

    def save_step(self, step: str, figures: dict, seconds: float, memory: dict,
                  placement: dict, arrays: dict, warnings: list | None = None) -> None:
        """Record one finished step: its arrays first, then ``results.json``."""
        if arrays:
            folder = os.path.join(self.out_dir, ARRAYS_DIR)
            os.makedirs(folder, exist_ok=True)
            atomic_write(os.path.join(folder, f"{step}.npz"), lambda f: np.savez_compressed(f, **arrays))
        self.doc["steps"][step] = to_jsonable(figures)
        self.doc["seconds"][step] = round(float(seconds), 4)
        self.doc["memory"][step] = to_jsonable(memory)
        self.doc["placement"][step] = to_jsonable(placement)
        self.doc["warnings"][step] = list(warnings or [])
        self.write()

    def write(self) -> None:
        text = json.dumps(self.doc, indent=2).encode()
        atomic_write(self.path, lambda f: f.write(text))


def load_arrays(out_dir: str, step: str) -> dict:
    """The plot arrays a step saved, or ``{}``."""
    path = os.path.join(out_dir, ARRAYS_DIR, f"{step}.npz")
    if not os.path.exists(path):
        return {}
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}
