"""The output folder: ``results.json`` and the plot arrays, written atomically after every step.

A run killed at any moment leaves the last finished step's results intact:
each file is written to a temporary name in the same folder and renamed
over the old one (a killed run's ``.tmp-*`` leftovers are removed by the
next). One run at a time writes to a folder (:func:`lock_output`). A new
run refuses a folder holding an earlier run unless told to ``--resume`` it
or ``--force`` (replace) it, so two runs' files never mix. ``--resume``
checks ``results.json``'s structure (:func:`check_record`) and refuses a
run made with another backend, sizes, configuration, or other data (by
content fingerprint, not file name).
"""
from __future__ import annotations

import glob
import json
import os
import shlex
import shutil
import tempfile
from contextlib import contextmanager

import numpy as np

from .errors import GpuclfError, file_errors

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; runs are not guarded there
    fcntl = None

RESULTS = "results.json"
ARRAYS_DIR = "arrays"
LOCK = ".gpuclf.lock"
#: What a run writes into --out, and whether each is a folder (report.py's FIGURES_DIR and REPORT).
OUTPUTS = {RESULTS: False, ARRAYS_DIR: True, "figures": True, "report.html": False}
#: Keys of the run's identity that a resumed run must share (data by content, not by name; the
#: classes by their names too: the labels alone do not say which class a figure is about).
IDENTITY = ("backend", "data_fingerprint", "class_names", "n_train", "n_test", "config")
#: Per-step records next to "steps", and the JSON type of each step's entry.
PARTS = {"steps": dict, "seconds": (int, float), "memory": dict, "placement": dict, "warnings": list}
#: What the report and compare read besides: key -> the JSON types it may have (absent is fine),
#: and the type of each item of the lists and objects among them.
OPTIONAL = {"data_source": str, "data_reader": (str, type(None)), "class_names": (list, type(None)),
            "environment": dict, "cluster": (dict, type(None)), "warmup": (dict, type(None))}
ITEMS = {"class_names": str, "memory": (int, float, type(None)), "placement": dict, "warnings": str}
#: Inside "environment": what the report and compare show.
ENVIRONMENT = {"device": str, "versions": dict}


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
    with file_errors(f"the lock file in --out {out_dir!r}", "choose a folder you can write to"):
        fd = os.open(os.path.join(out_dir, LOCK), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        locked = _try_flock(fd)
        if locked is None:  # a file system without locks (some NFS mounts): run unguarded
            yield
            return
        if not locked:
            pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()  # the holder wrote its pid
            raise GpuclfError(f"another gpuclf run{f' (process {pid})' if pid.isdigit() else ''} is writing "
                              f"to --out {out_dir}; wait for it to finish, or choose another --out")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        _HELD[key] = fd
        try:
            yield
        finally:
            del _HELD[key]
    finally:
        os.close(fd)


def _try_flock(fd: int) -> bool | None:
    """Take the exclusive lock without waiting: True, False when held elsewhere, None when unsupported."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def read_record(out_dir: str) -> dict:
    """The run recorded in ``out_dir/results.json``, its structure checked.

    Raises
    ------
    GpuclfError
        When the file is missing, unreadable, not JSON, or not shaped like
        gpuclf's results (:func:`check_record`).
    """
    path = os.path.join(out_dir, RESULTS)
    if not os.path.lexists(path):
        raise GpuclfError(f"--resume: {out_dir} holds no finished step to continue ({path} does not exist); "
                          "run without --resume")
    with file_errors(path, "delete it, or run with --force to start afresh", reads=path):
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    return check_record(doc, path)


def _json_type(value) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number")


def check_record(doc, path: str) -> dict:
    """Check that ``doc`` is shaped like the ``results.json`` gpuclf writes; return it.

    Only the structure that resuming, the report and compare rely on is
    checked: the identity keys, the per-step records (``steps``: figures by
    step, ``seconds``: numbers, ``memory``: objects of numbers or null,
    ``placement``: objects of objects, ``warnings``: lists of strings), and
    the keys of :data:`OPTIONAL` (``environment``'s ``device`` and ``versions``,
    the class names).

    Raises
    ------
    GpuclfError
        Naming the first key out of shape, e.g. ``'steps' is null, expected an object``.
    """
    def refuse(what):
        raise GpuclfError(f"{path} is not a gpuclf results file: {what}; delete it, or run with --force "
                          "to start afresh")

    if not isinstance(doc, dict):
        refuse(f"it holds {_json_type(doc)}, expected an object")
    if doc.get("gpuclf_results") != 1:
        refuse("'gpuclf_results' is not 1")
    expected = {"backend": str, "n_train": int, "n_test": int, "config": dict, **{part: dict for part in PARTS}}
    for key, kind in expected.items():
        if isinstance(doc.get(key), bool) or not isinstance(doc.get(key), kind):
            refuse(f"{key!r} is {'missing' if key not in doc else _json_type(doc[key])}, "
                   f"expected {_json_type(kind())}")
    def check(where: str, value, kind) -> None:
        if isinstance(value, bool) or not isinstance(value, kind):
            kinds = dict.fromkeys(_json_type(k()) for k in (kind if isinstance(kind, tuple) else (kind,)))
            refuse(f"{where} is {_json_type(value)}, expected {' or '.join(kinds)}")

    for part, kind in PARTS.items():
        for step, value in doc[part].items():
            check(f"{part}[{step!r}]", value, kind)
    for key, kind in OPTIONAL.items():
        if key in doc:
            check(repr(key), doc[key], kind)
    for key, value in doc.get("environment", {}).items():
        if key in ENVIRONMENT:
            check(f"environment[{key!r}]", value, ENVIRONMENT[key])
    for name, version in doc.get("environment", {}).get("versions", {}).items():
        check(f"environment['versions'][{name!r}]", version, (str, type(None)))
    for i, name in enumerate(doc.get("class_names") or ()):
        check(f"class_names[{i}]", name, ITEMS["class_names"])
    for part in ("memory", "placement", "warnings"):
        for step, entry in doc[part].items():
            for key, value in (entry.items() if isinstance(entry, dict) else enumerate(entry)):
                check(f"{part}[{step!r}][{key!r}]", value, ITEMS[part])
    return doc


def _present(out_dir: str) -> list[str]:
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
        Naming what is in the way and what to do.
    """
    if force:
        return False
    present = _present(out_dir)
    for name in present:
        path = os.path.join(out_dir, name)
        if os.path.isdir(path) != OUTPUTS[name]:
            found, wanted = ("a folder", "a file") if os.path.isdir(path) else ("not a folder", "a folder")
            raise GpuclfError(f"--out {out_dir}: {name!r} is {found}, but gpuclf writes {wanted} of that "
                              "name there; move it away, use --force to replace it, or choose another --out")
    if resume:
        read_record(out_dir)
        return False
    if RESULTS in present:
        steps = list(read_record(out_dir)["steps"])  # a damaged one is refused, saying so
        raise GpuclfError(f"--out {out_dir} already holds a run ({len(steps)} finished step(s): "
                          f"{', '.join(steps) or 'none'}); continue it with: gpuclf run --resume --out "
                          f"{shlex.quote(out_dir)}, replace it with --force, or choose another --out")
    if present and (present != [ARRAYS_DIR] or not _unsaved_arrays_only(out_dir)):
        raise GpuclfError(f"--out {out_dir} holds {', '.join(present)} but no {RESULTS}: no run to "
                          "continue; move them away, use --force to replace them, or choose another --out")
    return bool(present)


def _unsaved_arrays_only(out_dir: str) -> bool:
    """Whether ``arrays/`` holds only step arrays (and temporaries), as a killed run leaves it."""
    from .workflow import STEPS

    folder = os.path.join(out_dir, ARRAYS_DIR)
    with file_errors(folder, "move it away, or choose another --out"):
        names = os.listdir(folder)
    return all(n.startswith(".tmp-") or n.endswith(".npz") and n.removesuffix(".npz") in STEPS for n in names)


class ResultsStore:
    """The run's output folder: ``results.json`` plus ``arrays/<step>.npz``.

    Parameters
    ----------
    out_dir : str
        Folder to write to (created if missing); hold :func:`lock_output` on it.
    header : dict
        The run's identity and environment (backend, device, versions, config).
    resume : bool
        Load finished steps from an earlier run in ``out_dir``; its steps and
        the ``steps`` asked for now are both recorded (a resumed run may add steps).
    force : bool
        Replace an earlier run's outputs (:data:`OUTPUTS`) in ``out_dir``.
        Without ``resume`` or ``force``, a folder holding a run is refused
        (:func:`check_output`).

    Raises
    ------
    GpuclfError
        An earlier run in the way, an output of the wrong kind (a file named
        ``arrays``), or a recorded run that cannot be resumed.
    """

    def __init__(self, out_dir: str, header: dict, resume: bool = False, force: bool = False):
        self.out_dir = out_dir
        self.path = os.path.join(out_dir, RESULTS)
        self.doc = {**to_jsonable(header), **{part: {} for part in PARTS}}
        if check_output(out_dir, resume, force) or force:  # no run, or one to replace
            self._remove_outputs()
        if resume:
            self._load_previous()
        self._remove_temporaries()

    def _remove_outputs(self) -> None:
        for name in _present(self.out_dir):
            path = os.path.join(self.out_dir, name)
            with file_errors(f"--force: {path}", "remove it yourself"):
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.remove(path)

    def _remove_temporaries(self) -> None:
        """Delete ``.tmp-*`` files a killed run left (we hold the lock: nobody else is writing them)."""
        for folder in (self.out_dir, *(os.path.join(self.out_dir, n) for n, is_dir in OUTPUTS.items() if is_dir)):
            for tmp in glob.glob(os.path.join(glob.escape(folder), ".tmp-*")):
                with file_errors(tmp, "remove it yourself"):
                    os.remove(tmp)

    def _load_previous(self) -> None:
        old = read_record(self.out_dir)
        for key in IDENTITY:
            mine, theirs = self.doc.get(key), old.get(key)
            if key == "config":  # steps may differ: a resumed run may add steps
                mine, theirs = ({k: v for k, v in c.items() if k != "steps"} for c in (mine, theirs))
            if mine != theirs:
                raise GpuclfError(f"--resume: {self.out_dir} holds a run with {_difference(key, theirs, mine)}; "
                                  "use another --out, or --force to replace that run")
        self.doc["config"]["steps"] = _union_of_steps(old["config"].get("steps"), self.doc["config"].get("steps"))
        for part in PARTS:
            self.doc[part] = old[part]

    @property
    def finished(self) -> dict:
        """Figures of the steps already done, by step id."""
        return self.doc["steps"]

    def save_step(self, step: str, figures: dict, seconds: float, memory: dict,
                  placement: dict, arrays: dict, warnings: list | None = None) -> None:
        """Record one finished step: its arrays first, then ``results.json``.

        Raises
        ------
        GpuclfError
            When a file cannot be written (disk full...): the steps finished
            before this one stay recorded, and the message says so.
        """
        before = list(self.doc["steps"])
        try:
            if arrays:
                folder = os.path.join(self.out_dir, ARRAYS_DIR)
                with file_errors(folder):
                    os.makedirs(folder, exist_ok=True)
                atomic_write(os.path.join(folder, f"{step}.npz"), lambda f: np.savez_compressed(f, **arrays))
            entry = {"steps": to_jsonable(figures), "seconds": round(float(seconds), 4),
                     "memory": to_jsonable(memory), "placement": to_jsonable(placement),
                     "warnings": list(warnings or [])}
            for part, value in entry.items():
                self.doc[part][step] = value
            self.write()
        except GpuclfError as exc:
            for part in PARTS:
                self.doc[part].pop(step, None)
            if before:
                raise GpuclfError(f"{exc}; step {step} was not saved, the steps finished before it "
                                  f"({', '.join(before)}) are kept: fix that, then run again with --resume") from None
            raise GpuclfError(f"{exc}; step {step} was not saved, no step had finished: fix that, then run "
                              "again") from None

    def write(self) -> None:
        text = json.dumps(self.doc, indent=2).encode()
        atomic_write(self.path, lambda f: f.write(text))


def _union_of_steps(recorded, asked):
    """The steps of a resumed run and of the run resuming it, in chapter order.

    None stands for the default steps (every step but the optional ones), in the arguments and the result.
    """
    from .workflow import STEPS, select_steps

    default = select_steps(None)
    wanted = set(default if recorded is None else recorded) | set(default if asked is None else asked)
    steps = [s for s in STEPS if s in wanted]
    return None if steps == default else steps


def _difference(key: str, theirs, mine) -> str:
    """``"a different random_state (42 there, 7 here)"``: what differs between two run identities."""
    if key == "config":
        for name in sorted({*theirs, *mine}):
            if theirs.get(name) != mine.get(name):
                return f"a different {name} ({theirs.get(name)!r} there, {mine.get(name)!r} here)"
    if key == "data_fingerprint":
        return "other data (its content differs from this data's, whatever the file names)"
    if key == "class_names":
        def named(names):
            return "no names: the digits" if not names else ", ".join(map(str, names))
        if theirs and mine and len(theirs) == len(mine):
            pairs = [(i, a, b) for i, (a, b) in enumerate(zip(theirs, mine)) if a != b]
            return "other class names (" + "; ".join(f"label {i}: {a!r} there, {b!r} here"
                                                     for i, a, b in pairs[:3]) + ")"
        return f"other class names ({named(theirs)} there; {named(mine)} here)"
    return f"a different {key} ({theirs!r} there, {mine!r} here)"


def load_arrays(out_dir: str, step: str) -> dict:
    """The plot arrays a step saved, or ``{}`` when it saved none.

    Raises
    ------
    GpuclfError
        One line naming the file when it is damaged (the report skips that plot).
    """
    from .data import read_npz

    path = os.path.join(out_dir, ARRAYS_DIR, f"{step}.npz")
    if not os.path.lexists(path):
        return {}
    spared = f"step {step}'s figures in {RESULTS} are not affected"
    with file_errors(f"plot arrays {path}", spared, reads=path):
        return read_npz(path, f"plot arrays {path}", hint=spared)
