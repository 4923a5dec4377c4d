""".npz edges (``gpuclf/data/npz.py``): a header whose size overflows 64 bits, the memory refusal's figures,
a test file that is not a regular file or lacks its labels, and the hint on a damaged array. Written against
survivors of ``tools/mutation.py --module data``."""
from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

from gpuclf.data import npz
from gpuclf.data.npz import load_npz, read_npz
from gpuclf.errors import GpuclfError

SUBJECTS = ("--data file 'd.npz'", "--test-data file 't.npz'")


def _header(shape, descr="|u1"):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _zip(path, members: dict):
    with zipfile.ZipFile(path, "w") as zf:
        for name, raw in members.items():
            zf.writestr(name, raw)
    return str(path)


def _npy(a):
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def test_a_shape_whose_size_overflows_int64_is_still_counted_exactly(tmp_path):
    """(2**32, 2**32) bytes is 2**64, which wraps to 0 in int64: the header still declares 2**64 bytes, not 0."""
    path = _zip(tmp_path / "d.npz", {"X.npy": _header((2**32, 2**32)), "y.npy": _npy(np.zeros(3, np.uint8))})
    with pytest.raises(GpuclfError) as exc:
        read_npz(path, "--data file 'd.npz'", npz.NPZ_LAYOUTS)
    assert str(exc.value) == ("array 'X' in --data file 'd.npz' declares shape (4294967296, 4294967296) of uint8 "
                              "(18,446,744,073,709,551,616 bytes) but stores 0 bytes: the file is truncated or "
                              "corrupt; re-create it with numpy.savez")


def test_more_than_memory_is_refused_in_gib_of_2_to_the_30_bytes(monkeypatch):
    """3 GiB declared (and stored) on a 1 GiB machine: both figures in GiB (2**30 bytes)."""
    header = _header((3 * 2**30,))
    monkeypatch.setattr(npz, "_physical_memory", lambda: 2**30)
    with pytest.raises(GpuclfError) as exc:
        npz._check_npy_header(io.BytesIO(header), len(header) + 3 * 2**30, "array 'X' in f")
    assert str(exc.value) == "array 'X' in f declares 3.0 GiB, more than this machine's 1.0 GiB of memory"


def test_a_test_file_that_is_a_device_is_refused_unopened(tmp_path):
    """``--test-data /dev/null``: named as a character device before anything is read from it."""
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    np.savez(tmp_path / "d.npz", X=np.zeros((7, 784), np.uint8), y=np.arange(7) % 10)
    with pytest.raises(GpuclfError) as exc:
        load_npz(str(tmp_path / "d.npz"), SUBJECTS, "/dev/null")
    assert str(exc.value).startswith("--test-data file 't.npz' is a character device, not a file; give --data")


def test_a_test_file_is_read_for_x_and_y_only(tmp_path):
    """The test file's arrays are looked up by layout: X without y is refused by name, other arrays unread."""
    np.savez(tmp_path / "d.npz", X=np.zeros((7, 784), np.uint8), y=np.arange(7) % 10)
    np.savez(tmp_path / "t.npz", X=np.zeros((3, 784), np.uint8))
    with pytest.raises(GpuclfError, match=r"holds arrays \['X'\]; it needs 'X' and 'y'"):
        load_npz(str(tmp_path / "d.npz"), SUBJECTS, str(tmp_path / "t.npz"))
    # An extra array is never read (here one that could not be: Python objects).
    _zip(tmp_path / "t.npz", {"X.npy": _npy(np.zeros((3, 784), np.uint8)), "y.npy": _npy(np.arange(3)),
                              "notes.npy": _header((2,), "|O")})
    data = load_npz(str(tmp_path / "d.npz"), SUBJECTS, str(tmp_path / "t.npz"))
    assert data.y_test.tolist() == [0, 1, 2]


def test_a_damaged_array_says_to_re_create_the_file(tmp_path):
    """A member that is no .npy at all: named, with numpy.savez as the remedy."""
    path = _zip(tmp_path / "d.npz", {"X.npy": b"not an npy array", "y.npy": _npy(np.zeros(3, np.uint8))})
    with pytest.raises(GpuclfError) as exc:
        read_npz(path, "--data file 'd.npz'", npz.NPZ_LAYOUTS)
    message = str(exc.value)
    assert message.startswith("array 'X' in --data file 'd.npz' is not valid (ValueError")
    assert message.endswith("; re-create the file with numpy.savez")
