"""The run's results, saved after every step: ``results.json`` and the plot arrays, written atomically.

A run killed at any moment leaves the last finished step's results intact:
each file is written to a temporary name in the same folder and renamed
over the old one (a killed run's ``.tmp-*`` leftovers are removed by the
next). ``--resume`` checks ``results.json``'s structure
(:func:`~gpuclf.run.record.check_record`) and refuses a run made with
another backend, sizes, configuration, or other data (by content
fingerprint, not file name).
"""
from __future__ import annotations

import glob
import json
import os
import shutil

import numpy as np

from gpuclf.errors import GpuclfError, file_errors, option, resume_command
from gpuclf.run.files import atomic_write, to_jsonable
from gpuclf.run.folder import ARRAYS_DIR, OUTPUTS, check_output, present_outputs
from gpuclf.run.record import PARTS, RESULTS, read_record

#: Keys of the run's identity that a resumed run must share (data by content, not by name; the
#: classes by their names too: the labels alone do not say which class a figure is about).
IDENTITY = ("backend", "data_fingerprint", "class_names", "n_train", "n_test", "config")


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
        for name in present_outputs(self.out_dir):
            path = os.path.join(self.out_dir, name)
            with file_errors(f"{option('--force')}: {path}", "remove it yourself"):
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
                raise GpuclfError(f"{option('--resume')}: {self.out_dir} holds a run with "
                                  f"{_difference(key, theirs, mine)}; use another {option('--out')}, or "
                                  f"{option('--force')} to replace that run")
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
                                  f"({', '.join(before)}) are kept: fix that, then continue with "
                                  f"{resume_command(self.out_dir)}") from None
            raise GpuclfError(f"{exc}; step {step} was not saved, no step had finished: fix that, then run "
                              "again") from None

    def write(self) -> None:
        text = json.dumps(self.doc, indent=2).encode()
        atomic_write(self.path, lambda f: f.write(text))


def _union_of_steps(recorded, asked):
    """The steps of a resumed run and of the run resuming it, in chapter order.

    None stands for the default steps (every step but the optional ones), in the arguments and the result.
    """
    from gpuclf.chapter import STEPS, select_steps

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
    from gpuclf.data import read_npz

    path = os.path.join(out_dir, ARRAYS_DIR, f"{step}.npz")
    if not os.path.lexists(path):
        return {}
    spared = f"step {step}'s figures in {RESULTS} are not affected"
    with file_errors(f"plot arrays {path}", spared, reads=path):
        return read_npz(path, f"plot arrays {path}", hint=spared)
