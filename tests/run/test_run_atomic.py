"""results.json and the step arrays are replaced atomically: a fault between write and rename keeps the old file.

Faults are injected where a crash or a full disk would strike: in ``os.replace`` (the file is
written, the rename fails) and inside the write itself (half the bytes are out). Either way a
reader, and a later ``--resume``, must find the previous complete file, and no temporary is left.
"""
from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest

from gpuclf.errors import GpuclfError
from gpuclf.run.files import atomic_write
from gpuclf.run.record import read_record
from gpuclf.run.store import ResultsStore, load_arrays

HEADER = {"gpuclf_results": 1, "backend": "numpy", "n_train": 40, "n_test": 10, "config": {"cv": 3},
          "data_fingerprint": "sample"}


def _save(store, step, value, arrays=None):
    store.save_step(step, {"value": value}, seconds=1.5, memory={"host_peak_rss_bytes": 1},
                    placement={}, arrays=arrays or {})


def _leftovers(folder):
    return [name for root, _, files in os.walk(folder) for name in files if name.startswith(".tmp-")]


def _fail_rename(monkeypatch, only=None):
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        if only is None or os.path.basename(dst) == only:
            raise OSError(errno.ENOSPC, "No space left on device (injected)")
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)


def test_failed_rename_keeps_the_previous_results(tmp_path, monkeypatch):
    store = ResultsStore(str(tmp_path), HEADER)
    _save(store, "first", 1)
    before = (tmp_path / "results.json").read_bytes()
    _fail_rename(monkeypatch, only="results.json")
    with pytest.raises(GpuclfError, match="step second was not saved.*first.*kept"):
        _save(store, "second", 2)
    assert (tmp_path / "results.json").read_bytes() == before
    doc = read_record(str(tmp_path))  # parseable and shaped as gpuclf's results
    assert doc["steps"] == {"first": {"value": 1}} and doc["seconds"] == {"first": 1.5}
    assert _leftovers(tmp_path) == []
    # The store forgot the failed step too: once the disk has room, the next save writes a consistent file.
    monkeypatch.undo()
    assert store.finished == {"first": {"value": 1}}
    _save(store, "third", 3)
    assert list(read_record(str(tmp_path))["steps"]) == ["first", "third"]


def test_failed_rename_of_arrays_keeps_results_and_old_arrays(tmp_path, monkeypatch):
    store = ResultsStore(str(tmp_path), HEADER)
    _save(store, "first", 1, arrays={"curve": np.arange(5.0)})
    before = (tmp_path / "results.json").read_bytes()
    _fail_rename(monkeypatch)
    with pytest.raises(GpuclfError):
        _save(store, "first", 99, arrays={"curve": np.zeros(5)})
    monkeypatch.undo()
    assert (tmp_path / "results.json").read_bytes() == before
    np.testing.assert_array_equal(load_arrays(str(tmp_path), "first")["curve"], np.arange(5.0))
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("fault", [OSError(errno.EIO, "I/O error (injected)"), KeyboardInterrupt()])
def test_write_that_dies_halfway_leaves_the_old_file(tmp_path, fault):
    """A crash mid-write (disk error, Ctrl-C) never exposes a truncated file under the real name."""
    path = tmp_path / "results.json"
    atomic_write(str(path), lambda f: f.write(json.dumps({"old": True}).encode()))

    def half_then_fault(f):
        f.write(b'{"new": tr')
        raise fault

    with pytest.raises((GpuclfError, KeyboardInterrupt)):
        atomic_write(str(path), half_then_fault)
    assert json.loads(path.read_text()) == {"old": True}
    assert _leftovers(tmp_path) == []


def test_readers_never_see_a_partial_file(tmp_path, monkeypatch):
    """At the moment of the rename the new content is complete and flushed under its temporary name."""
    path = tmp_path / "results.json"
    seen = []
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        seen.append((os.path.dirname(src) == os.path.dirname(dst), open(src, "rb").read(),
                     path.read_bytes() if path.exists() else None))
        return real(src, dst, *args, **kwargs)

    atomic_write(str(path), lambda f: f.write(b'{"v": 1}'))
    monkeypatch.setattr(os, "replace", replace)
    atomic_write(str(path), lambda f: f.write(b'{"v": 2}'))
    assert seen == [(True, b'{"v": 2}', b'{"v": 1}')]
    assert path.read_bytes() == b'{"v": 2}'
    assert oct(path.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
