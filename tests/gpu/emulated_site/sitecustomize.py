"""A process that starts with this folder on ``PYTHONPATH`` imports the emulated CuPy as ``cupy``.

What ``tests/test_gpu_check.py`` uses to run ``tools/gpu-check``'s phases as
the separate processes they are on a GPU machine, and what gives the test
phase's estimate in docs/gpu-checks.md. Set:

- ``GPUCLF_EMULATE_GPU``: ``1``, or a profile of ``fake_cupy.PROFILES``
  (``t4``, ``rtx4090``, ``h100``, ``h200``); unset, this file does nothing;
- ``GPUCLF_EMULATION_STATS`` (optional): a file where the process writes, at
  exit, its counts of kernel launches, host syncs, transfers and distinct
  kernel signatures, CUB block reductions apart (summed over every ``fake_cupy.installed`` block).

As ``import cupy`` does, the emulation reads ``$CUPY_CACHE_DIR`` once, now.
"""
import atexit
import json
import os
import sys

_profile = os.environ.get("GPUCLF_EMULATE_GPU")
if _profile:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    import fake_cupy

    fake_cupy.install(**({} if _profile == "1" else {"profile": _profile}))
    # This process counts; the processes it starts (Dask's workers, say) must not write over its counts.
    _path = os.environ.pop("GPUCLF_EMULATION_STATS", None)
    if _path:
        _total = {"launches": 0, "syncs": 0, "h2d": 0, "h2d_bytes": 0, "gemm_flops": 0}
        _kernels = set()
        _reset = fake_cupy.reset_stats

        def _add():
            for key in _total:
                _total[key] += fake_cupy.stats[key]
            _kernels.update(fake_cupy.stats["kernels"])

        def _counted_reset():
            _add()
            _reset()

        fake_cupy.reset_stats = _counted_reset

        @atexit.register
        def _write():
            _add()
            compiled = {k for k in _kernels if k[0] != "gemm" and k[3] != "cub-device"}
            # CUB block reductions compile CUB's headers: about 20 times an element-wise kernel's time.
            cub = {k for k in compiled if k[3].startswith("cub-block")}
            with open(_path, "w") as f:
                json.dump({**_total, "kernels": len(compiled), "kernels_cub_block": len(cub)}, f)
