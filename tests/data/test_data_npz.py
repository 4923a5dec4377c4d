""".npz files: both layouts, a separate test file, and every header check before a byte of data is read
(``gpuclf/data/npz.py``). Written against the survivors of ``tools/mutation.py --module data``."""
from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

from gpuclf.data import npz
from gpuclf.data.npz import load_npz, read_npz
from gpuclf.errors import GpuclfError, file_errors

SUBJECTS = ("--data file 'd.npz'", "--test-data file 't.npz'")


def _images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 784), dtype=np.uint8)


def _labels(n):
    return (np.arange(n) % 10).astype(np.uint8)


def _load(path, test=None):
    return load_npz(str(path), SUBJECTS, None if test is None else str(test))


def test_one_file_of_x_and_y_is_split_six_to_one(tmp_path):
    X, y = _images(70), _labels(70)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    data = _load(tmp_path / "d.npz")
    np.testing.assert_array_equal(data.X_train, X[:60])
    np.testing.assert_array_equal(data.y_test, y[60:])
    assert data.source == "npz:d.npz" and data.origin == {"data": str(tmp_path / "d.npz")}


def test_a_file_with_its_own_split_keeps_it_and_names_each_array(tmp_path):
    X, y = _images(30), _labels(30)
    np.savez(tmp_path / "d.npz", X_train=X[:20], y_train=y[:20], X_test=X[20:], y_test=y[20:])
    data = _load(tmp_path / "d.npz")
    np.testing.assert_array_equal(data.X_train, X[:20])
    np.testing.assert_array_equal(data.y_train, y[:20])
    np.testing.assert_array_equal(data.X_test, X[20:])
    np.testing.assert_array_equal(data.y_test, y[20:])
    assert data.source == "npz:d.npz" and data.origin == {"data": str(tmp_path / "d.npz")}
    # Each array's own name in the messages about it.
    for bad, message in [("X_train", "X_train"), ("X_test", "X_test")]:
        arrays = dict(X_train=X[:20], y_train=y[:20], X_test=X[20:], y_test=y[20:])
        arrays[bad] = arrays[bad][:, :10]
        np.savez(tmp_path / "bad.npz", **arrays)
        with pytest.raises(GpuclfError, match=f"^{message} has 10 columns; MNIST images need 784"):
            _load(tmp_path / "bad.npz")
    for bad, n in [("y_train", 20), ("y_test", 10)]:
        arrays = dict(X_train=X[:20], y_train=y[:20], X_test=X[20:], y_test=y[20:])
        arrays[bad] = arrays[bad][:-1]
        np.savez(tmp_path / "bad.npz", **arrays)
        with pytest.raises(GpuclfError, match=f"^{bad} has {n - 1} labels but there are {n} images"):
            _load(tmp_path / "bad.npz")


def test_a_separate_test_file_is_the_test_split(tmp_path):
    X, y = _images(30), _labels(30)
    np.savez(tmp_path / "d.npz", X=X[:20], y=y[:20])
    np.savez(tmp_path / "t.npz", X=X[20:], y=y[20:])
    data = _load(tmp_path / "d.npz", tmp_path / "t.npz")
    np.testing.assert_array_equal(data.X_train, X[:20])
    np.testing.assert_array_equal(data.y_train, y[:20])
    np.testing.assert_array_equal(data.X_test, X[20:])
    np.testing.assert_array_equal(data.y_test, y[20:])
    assert data.source == "npz:d.npz"
    assert data.origin == {"data": str(tmp_path / "d.npz"), "test_data": str(tmp_path / "t.npz")}


def test_a_separate_test_file_is_refused_in_words_that_name_it(tmp_path):
    X, y = _images(30), _labels(30)
    np.savez(tmp_path / "split.npz", X_train=X, y_train=y, X_test=X, y_test=y)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    with pytest.raises(GpuclfError) as exc:
        _load(tmp_path / "split.npz", tmp_path / "d.npz")
    assert str(exc.value) == ("--data file 'd.npz' already holds a test split (X_test, y_test); leave out "
                              "--test-data")
    with pytest.raises(GpuclfError) as exc:
        _load(tmp_path / "d.npz", tmp_path / "split.npz")
    assert str(exc.value) == "--test-data file 't.npz' must hold X and y (the test images and labels)"
    np.savez(tmp_path / "t.npz", X=X[:, :5], y=y)
    with pytest.raises(GpuclfError, match=r"^array 'X' of --test-data file 't.npz' has 5 columns"):
        _load(tmp_path / "d.npz", tmp_path / "t.npz")
    np.savez(tmp_path / "t.npz", X=X, y=y[:-1])
    with pytest.raises(GpuclfError, match=r"^array 'y' of --test-data file 't.npz' has 29 labels"):
        _load(tmp_path / "d.npz", tmp_path / "t.npz")
    # The training file's own arrays keep their plain names.
    np.savez(tmp_path / "d.npz", X=X[:, :7], y=y)
    np.savez(tmp_path / "t.npz", X=X, y=y)
    with pytest.raises(GpuclfError, match=r"^X has 7 columns"):
        _load(tmp_path / "d.npz", tmp_path / "t.npz")
    np.savez(tmp_path / "d.npz", X=X, y=y[:-1])
    with pytest.raises(GpuclfError, match=r"^y has 29 labels"):
        _load(tmp_path / "d.npz", tmp_path / "t.npz")
    # A test file that is missing or no .npz: its own subject and the data hint.
    with pytest.raises(GpuclfError) as exc:
        _load(tmp_path / "d.npz", tmp_path / "missing.npz")
    assert str(exc.value) == f"--test-data file 't.npz' does not exist; {npz.NPZ_HINT}"
    (tmp_path / "t.npz").write_bytes(b"not a zip at all")
    with pytest.raises(GpuclfError) as exc:
        _load(tmp_path / "d.npz", tmp_path / "t.npz")
    assert str(exc.value).startswith("--test-data file 't.npz' is not a readable .npz file") and \
        str(exc.value).endswith(npz.NPZ_HINT)


def test_read_npz_reads_the_first_layout_held_or_every_array(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, X=np.ones((2, 3)), y=np.arange(2), extra=np.zeros(1))
    assert sorted(read_npz(str(path), "it")) == ["X", "extra", "y"]
    assert sorted(read_npz(str(path), "it", npz.NPZ_LAYOUTS)) == ["X", "y"]
    np.savez(path, X_train=np.ones(1), y_train=np.ones(1), X_test=np.ones(1), y_test=np.ones(1), X=np.ones(1),
             y=np.ones(1))
    assert sorted(read_npz(str(path), "it", npz.NPZ_LAYOUTS)) == ["X_test", "X_train", "y_test", "y_train"]
    np.savez(path, images=np.ones(1), labels=np.ones(1))
    with pytest.raises(GpuclfError) as exc:
        read_npz(str(path), "it", npz.NPZ_LAYOUTS)
    assert str(exc.value) == ("it holds arrays ['images', 'labels']; it needs 'X' and 'y' (or X_train, y_train, "
                              "X_test, y_test)")


def test_a_single_npy_or_another_format_is_named_for_what_it_is(tmp_path):
    np.save(tmp_path / "one.npy", np.ones(3))
    with pytest.raises(GpuclfError) as exc:
        read_npz(str(tmp_path / "one.npy"), "it")
    assert str(exc.value) == ("it is a single .npy array, not an .npz archive of named arrays (gpuclf needs images "
                              "and labels together); save them with numpy.savez(PATH, X=images, y=labels)")
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(GpuclfError) as exc:
        read_npz(str(tmp_path / "x.txt"), "it", hint="the figures are spared")
    assert str(exc.value) == ("it is not a readable .npz file (no zip archive: truncated, corrupt or another "
                              "format); the figures are spared")


def _npz_with(path, name: str, member: bytes) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}.npy", member)


def _npy(array, version=(1, 0), shape=None, dtype=None) -> bytes:
    """An .npy member, its header saying ``shape`` and ``dtype`` if given (whatever the bytes)."""
    buf = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype or array.dtype)), "fortran_order": False,
              "shape": shape if shape is not None else array.shape}
    np.lib.format.write_array_header_1_0(buf, header) if version == (1, 0) else \
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue() + array.tobytes()


def test_both_npy_header_versions_are_read(tmp_path):
    for version in ((1, 0), (2, 0)):
        _npz_with(tmp_path / "v.npz", "X", _npy(np.arange(6, dtype=np.uint8), version))
        np.testing.assert_array_equal(read_npz(str(tmp_path / "v.npz"), "it")["X"], np.arange(6))


def test_a_header_is_checked_before_any_data_is_read(tmp_path, monkeypatch):
    path = str(tmp_path / "h.npz")

    def refused(member: bytes) -> str:
        _npz_with(path, "X", member)
        with pytest.raises(GpuclfError) as exc, file_errors("it", "hint", reads=path):
            read_npz(path, "it")
        return str(exc.value)

    v3 = _npy(np.arange(3, dtype=np.uint8)).replace(b"\x01\x00", b"\x03\x00", 1)
    assert refused(v3) == ("array 'X' in it uses .npy format version (3, 0), which gpuclf does not read; re-save "
                           "it with numpy.savez")
    objects = _npy(np.zeros(8, np.uint8), shape=(1,), dtype=object)
    assert refused(objects) == ("array 'X' in it holds Python objects (dtype object), which gpuclf never unpickles; "
                                "save numeric arrays (images as uint8, labels as integers)")
    short = _npy(np.arange(10, dtype=np.uint16), shape=(12,))
    assert refused(short) == ("array 'X' in it declares shape (12,) of uint16 (24 bytes) but stores 20 bytes: the "
                              "file is truncated or corrupt; re-create it with numpy.savez")
    long = _npy(np.arange(10, dtype=np.uint16), shape=(2, 4))
    assert "declares shape (2, 4) of uint16 (16 bytes) but stores 20 bytes" in refused(long)
    # A header that fits its bytes but not this machine's memory (2 GiB said here) is refused before reading.
    monkeypatch.setattr(npz, "_physical_memory", lambda: 10)
    assert refused(_npy(np.arange(12, dtype=np.uint8))) == ("array 'X' in it declares 0.0 GiB, more than this "
                                                           "machine's 0.0 GiB of memory")
    monkeypatch.setattr(npz, "_physical_memory", lambda: 12)  # exactly as much: read
    _npz_with(path, "X", _npy(np.arange(12, dtype=np.uint8)))
    assert len(read_npz(path, "it")["X"]) == 12
    monkeypatch.setattr(npz, "_physical_memory", lambda: None)  # unknown: read
    assert len(read_npz(path, "it")["X"]) == 12


def test_physical_memory_is_this_machines(monkeypatch):
    expected = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert npz._physical_memory() == expected > 2**28
    monkeypatch.setattr(npz.os, "sysconf", lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert npz._physical_memory() is None
