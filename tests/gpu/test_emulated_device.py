"""The emulated device behaves as CuPy 14.2 does where tools/gpu-check and the full-size tests rely on it.

Read from CuPy's sources (tag v14.2.0):

- ``cupy/cuda/_compiler_cache.py``: ``_DiskKernelCacheBackend()`` reads
  ``$CUPY_CACHE_DIR`` when ``cupy.cuda.compiler`` is imported (by ``import
  cupy``), creates the folder, and never reads the variable again;
- ``cupy/_core/core.pyx``: an array CuPy allocates is 32-bit-indexed while
  ``size * itemsize <= 1 << 31``; a view keeps its base's width
  (``_view``); ``_carray.pyx``: a kernel's ``CIndexer`` while the loop has at
  most ``1 << 31`` elements; ``internal._broadcast_core``: a broadcast input
  whose view spans more than ``1 << 31`` bytes is 64-bit;
- ``cudaMemGetInfo``: the device's free memory is its total less what was
  allocated (a pool's cached blocks included) and the context's.

Also here: virtual arrays give NumPy's shapes and dtypes, the device of a
thread is its own, gathered Dask results come back on the backend's device,
and two CuPy wheels side by side are refused in one line.
"""
from __future__ import annotations

import importlib.metadata

import numpy as np
import pytest

import fake_cupy
from gpuclf.backends import probes
from gpuclf.dispatch import on_this_device


def test_the_kernel_cache_folder_is_read_once_when_cupy_is_imported(tmp_path, monkeypatch):
    first, later = tmp_path / "first", tmp_path / "later"
    monkeypatch.setenv("CUPY_CACHE_DIR", str(first))
    with fake_cupy.installed() as cp:
        assert first.is_dir() and cp.cuda.compiler._kernel_cache_backend._cache_dir == str(first)
        monkeypatch.setenv("CUPY_CACHE_DIR", str(later))  # too late: CuPy has read it
        cp.asarray(np.arange(3.0)) + 1
        assert len(list(first.iterdir())) == 1 and not later.exists()
    with fake_cupy.installed() as cp:  # the next process (import) reads the new value
        cp.asarray(np.arange(3.0)) + 1
        assert len(list(later.iterdir())) == 1


def test_without_the_variable_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.delenv("CUPY_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with fake_cupy.installed() as cp:
        cp.asarray(np.arange(3.0)) + 1
        assert cp.cuda.compiler._kernel_cache_backend._cache_dir.endswith(".cupy/kernel_cache")
    assert not list(tmp_path.iterdir())  # CuPy would write ~/.cupy/kernel_cache; the emulation never does


def signatures(cp, fn):
    fake_cupy.reset_stats()
    fn()
    return {k for k in fake_cupy.stats["kernels"] if k[0] != "gemm"}


def test_index_width_follows_cupys_rules():
    with fake_cupy.installed(virtual_bytes=2**30) as cp:
        big = cp.empty(2**29 + 1, dtype=np.float32)  # 2**31 + 4 bytes: 64-bit, though 2**29 elements
        small = cp.empty(2**29, dtype=np.float32)  # exactly 2**31 bytes: still 32-bit
        assert not big._index_32_bits and small._index_32_bits
        assert not big[:10]._index_32_bits  # a view keeps its base's width
        [(_, _, _, _, index)] = signatures(cp, lambda: big * 2)
        assert index == "CArray:0 CIndexer:1"  # 64-bit array, a loop under 2**31 elements
        [(_, _, _, _, index)] = signatures(cp, lambda: small * 2)
        assert index == "32"
        # A column broadcast over a 2**31-byte-plus loop is a 64-bit view of it: every argument is.
        column, row = cp.ones((2**15 + 1, 1), np.float32), cp.ones(2**14, np.float32)
        [(_, _, _, _, index)] = signatures(cp, lambda: column + row)
        assert index == "CArray:00 CIndexer:1"
        huge = cp.empty((2**31 + 1,), dtype=np.uint8)  # 64-bit array and loop
        [(_, _, _, _, index)] = signatures(cp, lambda: huge + 1)
        assert index == "CArray:0 CIndexer:0"
        # CUB's reductions take raw pointers: no index width.
        matrix = cp.empty((2**14 + 1) * 2**15, dtype=np.float32).reshape(2**14 + 1, 2**15)
        assert {k[4] for k in signatures(cp, lambda: matrix.argmin(axis=1))} == {"32"}


OPS = {
    "matmul": lambda xp, a, b: (a * -2) @ b.T,
    "reduce": lambda xp, a, b: xp.sum(a * a, axis=1)[:, None],
    "argmin": lambda xp, a, b: xp.argmin(a @ b.T, axis=1),
    "gather": lambda xp, a, b: (a @ b.T)[xp.arange(a.shape[0]), xp.zeros(a.shape[0], dtype=xp.int64)],
    "take_along_axis": lambda xp, a, b: xp.take_along_axis(a @ b.T, xp.zeros((a.shape[0], 3), dtype=xp.int64), 1),
    "argpartition": lambda xp, a, b: xp.argpartition(a @ b.T, 3, axis=1)[:, :4],
    "cumsum": lambda xp, a, b: xp.cumsum((a @ b.T) > 0, axis=1, dtype=xp.int64),
    "searchsorted": lambda xp, a, b: xp.searchsorted((a @ b.T).ravel(), xp.zeros(7, dtype=a.dtype)),
    "where": lambda xp, a, b: xp.where(a > 0, a, 0.5),
    "concatenate": lambda xp, a, b: xp.concatenate([a @ b.T, a @ b.T]),
    "transpose_astype": lambda xp, a, b: (a @ b.T).T.astype(xp.float64),
    "reshape": lambda xp, a, b: (a @ b.T).reshape(-1, 2),
    "ellipsis_gather": lambda xp, a, b: (a @ b.T)[..., xp.zeros(3, dtype=xp.int64)],
    "mask": lambda xp, a, b: (a @ b.T)[np.arange(6) % 2 == 0],  # a host mask: its count is known
}


@pytest.mark.parametrize("op", sorted(OPS))
def test_virtual_arrays_have_the_computed_arrays_shapes_dtypes_and_layouts(op, rng):
    """The same operations with elements (the emulation computing, as CuPy lays out results) and without."""
    a, b = rng.random((6, 5), dtype=np.float32), rng.random((8, 5), dtype=np.float32)
    with fake_cupy.installed() as cp:
        want = OPS[op](cp, cp.asarray(a), cp.asarray(b))
    assert (want.shape, want.dtype) == (OPS[op](np, a, b).shape, OPS[op](np, a, b).dtype)
    with fake_cupy.installed(virtual_bytes=1) as cp:  # every array an operation makes is virtual
        got = OPS[op](cp, cp.asarray(a), cp.asarray(b))
    assert got._v is not None and want._v is None
    assert (got.shape, got.dtype, got.flags.c_contiguous, got.flags.f_contiguous) == \
        (want.shape, want.dtype, want.flags.c_contiguous, want.flags.f_contiguous)


def test_an_operation_without_a_rule_fails_by_name():
    with fake_cupy.installed(virtual_bytes=1) as cp:
        with pytest.raises(NotImplementedError, match="no shape rule for unique"):
            cp.unique(cp.ones(10))
        with pytest.raises(NotImplementedError, match="a virtual mask selects an unknown count"):
            cp.ones((4, 3))[cp.ones(4) > 0]


def test_device_memory_is_settable_and_a_full_device_refuses():
    with fake_cupy.installed(profile="t4", virtual_bytes=2**29) as cp:  # no gigabytes allocated on the host
        cp.get_default_memory_pool().free_all_blocks()  # blocks other tests left cached in the pool
        free, total = cp.cuda.Device(0).mem_info
        held = fake_cupy.device_bytes_taken()  # arrays other tests keep alive, through any allocator
        assert total == 15360 * 2**20 and free == total - 512 * 2**20 - held
        assert cp.cuda.runtime.getDeviceProperties(0)["name"] == b"Tesla T4"
        assert cp.cuda.Device(0).compute_capability == "75"
        a = cp.empty(2**30, dtype=np.uint8)
        assert cp.cuda.Device(0).mem_info[0] == free - 2**30
        del a  # the pool keeps the block: still taken from the device until free_all_blocks
        assert cp.cuda.Device(0).mem_info[0] == free - 2**30
        cp.get_default_memory_pool().free_all_blocks()
        assert cp.cuda.Device(0).mem_info[0] == free
        with pytest.raises(cp.cuda.memory.OutOfMemoryError):
            cp.empty(free + 1, dtype=np.uint8)


def test_the_current_device_is_per_thread_and_gathered_results_come_back_on_it():
    """``--cluster local --device 1``: Dask's threads are on device 0; results must not stay there."""
    distributed = pytest.importorskip("distributed")
    from gpuclf.dispatch import Dispatcher

    def unit(i):
        import cupy

        return [cupy.full(3, float(i)), float(i)]

    with fake_cupy.installed(devices=2, peer_access=False) as cp:
        cp.cuda.Device(1).use()
        with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            results = Dispatcher(client).map(unit, range(2))
        assert [r[0].device.id for r in results] == [1, 1] and [r[1] for r in results] == [0.0, 1.0]
        assert float((results[1][0] + 1).sum()) == 6.0  # usable here: CuPy would refuse arrays of device 0
        stray = [cp.zeros(2)]
        cp.cuda.Device(0).use()
        with pytest.raises(ValueError, match="Peer access is unavailable"):
            cp.ones(2) + stray[0]
        assert on_this_device(stray)[0].device.id == 0


def test_two_cupy_wheels_side_by_side_are_refused_in_one_line(monkeypatch):
    real = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "14.2.0" if name in probes.CUPY_WHEELS else real(name))
    probes._CUPY_CACHE.clear()
    try:
        ok, reason = probes.cupy_status()
    finally:
        probes._CUPY_CACHE.clear()
    assert not ok and "\n" not in reason
    assert reason.startswith("two CuPy packages are installed (cupy-cuda12x, cupy-cuda13x)")
