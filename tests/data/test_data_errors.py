"""Family 2: every bad data file is one line through one boundary; nothing is unpickled or over-allocated."""
from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

from cli_errors import assert_one_line_error, run_main
from gpuclf.data import load_mnist
from gpuclf.errors import GpuclfError

N = 70


def _good_arrays():
    rng = np.random.default_rng(0)
    return {"X": rng.integers(0, 256, (N, 784), dtype=np.uint8), "y": np.arange(N) % 10}


def _npy_bytes(array=None, header=None, data=b""):
    buf = io.BytesIO()
    if array is not None:
        np.save(buf, array, allow_pickle=True)
        return buf.getvalue()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


def _zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, payload in members.items():
            zf.writestr(name, payload)
    return path


def corrupt_deflate(tmp):
    """A valid zip directory over a deflate stream whose first block has the reserved type: zlib.error."""
    path = tmp / "deflate.npz"
    np.savez_compressed(path, **_good_arrays())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("X.npy")
    raw = bytearray(path.read_bytes())
    # The local header's own name and extra lengths (its extra may differ from the directory's).
    name_len, extra_len = np.frombuffer(bytes(raw[info.header_offset + 26:info.header_offset + 30]), "<u2")
    start = info.header_offset + 30 + int(name_len) + int(extra_len)
    raw[start] = 0xFF  # BTYPE 11: "invalid block type"
    path.write_bytes(bytes(raw))
    return path


def huge_header(tmp):
    return _zip(tmp / "huge.npz", {"X.npy": _npy_bytes(header={"descr": "|u1", "fortran_order": False,
                                                                "shape": (10**12, 784)}, data=b"\0" * 64),
                                   "y.npy": _npy_bytes(np.arange(N) % 10)})


def short_data(tmp):
    """A header that declares more rows than the member stores (a file cut inside the zip)."""
    return _zip(tmp / "short.npz", {"X.npy": _npy_bytes(header={"descr": "|u1", "fortran_order": False,
                                                                 "shape": (N, 784)}, data=b"\0" * 784),
                                    "y.npy": _npy_bytes(np.arange(N) % 10)})


def object_array(tmp):
    path = tmp / "objects.npz"
    _zip(path, {"X.npy": _npy_bytes(np.array([{"evil": 1}] * N, dtype=object)),
                "y.npy": _npy_bytes(np.arange(N) % 10)})
    return path


def plain_npy(tmp):
    path = tmp / "images.npy"
    np.save(path, _good_arrays()["X"])
    return path


def labels(tmp, y, name="labels.npz"):
    path = tmp / name
    np.savez(path, X=_good_arrays()["X"], y=y)
    return path


def directory(tmp):
    path = tmp / "a_folder.npz"
    path.mkdir()
    return path


def text_file(tmp):
    path = tmp / "notes.npz"
    path.write_text("X,y\n1,2\n")
    return path


def truncated(tmp):
    path = tmp / "cut.npz"
    np.savez(path, **_good_arrays())
    path.write_bytes(path.read_bytes()[:3000])
    return path


def not_npy_member(tmp):
    return _zip(tmp / "text_member.npz", {"X.npy": b"hello, not an array", "y.npy": _npy_bytes(np.arange(N) % 10)})


def one_row(tmp):
    path = tmp / "one.npz"
    np.savez(path, X=np.zeros((1, 784), np.uint8), y=np.array([5]))
    return path


def scalar_X(tmp):
    path = tmp / "scalar.npz"
    np.savez(path, X=np.array(7), y=np.arange(N) % 10)
    return path


CASES = [
    (corrupt_deflate, ["array 'X'", "deflate.npz", "truncated or corrupt (error:"]),
    (huge_header, ["array 'X'", "declares shape (1000000000000, 784)", "stores 64 bytes"]),
    (short_data, ["declares shape (70, 784)", "stores 784 bytes"]),
    (object_array, ["holds Python objects", "never unpickles"]),
    (plain_npy, ["images.npy' is a single .npy array", "numpy.savez"]),
    (lambda t: labels(t, np.array(["²"] * N)), ["label '²'", "digits '0'-'9'"]),
    (lambda t: labels(t, np.array([b"\xff\xfe"] * N)), ["label b'\\xff\\xfe'"]),
    (lambda t: labels(t, np.array(["٣"] * N)), ["label '٣'"]),  # Arabic-Indic three: isdigit, int() takes it
    (lambda t: labels(t, np.array(["5 "] * N)), ["label '5 '"]),
    (directory, ["a_folder.npz' is a folder, not a file"]),
    (lambda t: t / "missing.npz", ["missing.npz' does not exist"]),
    (text_file, ["notes.npz' is not a readable .npz file"]),
    (truncated, ["cut.npz' is not a readable .npz file"]),
    (not_npy_member, ["array 'X'", "is not valid"]),
    (one_row, ["has 1 sample(s), too few to split", "at least 2"]),
    (scalar_X, ["X has 0 dimension(s)"]),
]


@pytest.mark.parametrize("make, expected", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_file_is_one_line_and_nothing_written(tmp_path, capsys, make, expected):
    out = tmp_path / "out"
    code, err = run_main(capsys, "run", "--backend", "cpu", "--data", make(tmp_path), "--out", out)
    assert_one_line_error(code, err, *expected)
    assert not out.exists()


def test_deflate_damage_is_a_zlib_error_underneath(tmp_path):
    """The case above really exercises zlib (not the CRC check) and is mapped to GpuclfError."""
    import zlib

    path = corrupt_deflate(tmp_path)
    with pytest.raises(zlib.error):
        with np.load(path) as npz:
            npz["X"]
    with pytest.raises(GpuclfError, match="truncated or corrupt"):
        load_mnist(str(path))


def test_huge_header_is_refused_before_allocating(tmp_path, monkeypatch):
    """The header is checked first: NumPy's reader is never asked to allocate 784 TB."""
    def forbidden(*args, **kwargs):
        raise AssertionError("read_array called on a header that should have been refused")

    monkeypatch.setattr(np.lib.format, "read_array", forbidden)
    with pytest.raises(GpuclfError, match="declares shape"):
        load_mnist(str(huge_header(tmp_path)))


def test_object_array_is_never_unpickled(tmp_path, monkeypatch):
    import pickle

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickled")

    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    with pytest.raises(GpuclfError, match="Python objects"):
        load_mnist(str(object_array(tmp_path)))


def test_unreadable_file_says_permission(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = labels(tmp_path, np.arange(N) % 10)
    path.chmod(0)
    with pytest.raises(GpuclfError, match="permission denied"):
        load_mnist(str(path))


def test_byte_and_digit_string_labels_still_load(tmp_path):
    data = load_mnist(str(labels(tmp_path, np.array([str(d).encode() for d in np.arange(N) % 10]), "b.npz")))
    np.testing.assert_array_equal(np.concatenate([data.y_train, data.y_test]), np.arange(N) % 10)


def test_fingerprint_follows_content_not_name(tmp_path):
    a = load_mnist(str(labels(tmp_path, np.arange(N) % 10, "a.npz")))
    b = load_mnist(str(labels(tmp_path, np.arange(N) % 10, "b.npz")))
    c = load_mnist(str(labels(tmp_path, (np.arange(N) + 1) % 10, "a.npz")))
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.subsample(10).fingerprint() != a.fingerprint()
