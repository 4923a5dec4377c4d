"""Cold start: compile the device kernels before the timed steps, and say how long it took.

On a GPU, the first call of each CuPy kernel compiles it with NVRTC (about
0.1-0.4 s per distinct kernel signature) and stores it in CuPy's kernel
cache (``$CUPY_CACHE_DIR``, default ``~/.cupy/kernel_cache``). Without a
warm-up that cost lands inside whichever step first uses the kernel, so
step times measure the compiler. :func:`warm_up` runs the selected steps on
the run's first few thousand digits first: kernels are compiled for dtypes,
ranks and, for reductions, the class of the length reduced (see
:func:`warmup_rows`); for the index width, the one thing that still grows
with the data, no chunk ever needs 64-bit indices
(:data:`gpuclf.kernels.chunking.MAX_CHUNK_BYTES`). So the real steps then find them compiled, and
``results.json`` records the warm-up apart (``warmup``). A second run on
the same machine (or a container whose cache folder is a volume) loads
the kernels from the disk cache and its warm-up is short.
"""
from __future__ import annotations

import os
import time

#: CuPy (14.2, ``CUPY_ACCELERATORS=cub``) picks a reduction's kernel by the length it reduces: its own
#: kernel below 128 elements, else a CUB block kernel compiled per block size, ``clp2(ceil(n / 4))``
#: threads, which stops changing at 512 threads from 1,025 elements (``_cub_reduction.pyx``).
CUB_SATURATED = 1025


def warmup_rows(config, n_train: int, n_test: int) -> tuple[int, int]:
    """Training and test rows of the warm-up: few, yet every length reduced in the run's class.

    Each part of a k-fold split (held-out and training rows) and the test rows
    are at least :data:`CUB_SATURATED` long, or as long as the run's own (a run
    with fewer rows warms up on all of them), so the timed steps reduce over
    lengths that take the kernels the warm-up compiled.
    """
    folds = max(config.cv, config.grid_cv, 2)
    return min(n_train, CUB_SATURATED * folds), min(n_test, CUB_SATURATED)


def kernel_cache_dir() -> str:
    """Where CuPy keeps compiled kernels (its documented default unless ``CUPY_CACHE_DIR`` is set)."""
    return os.environ.get("CUPY_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cupy", "kernel_cache")


def warm_up(backend, steps, config, data=None) -> dict | None:
    """Run ``steps`` on a small sample so the device kernels are compiled before timing.

    Parameters
    ----------
    backend : Backend
        Only backends that compile kernels (``compiles_kernels``) warm up.
    steps : list of str
    config : RunConfig
        The run's options; sizes are shrunk to the warm-up rows (:func:`warmup_rows`).
    data : MnistData, optional
        The run's data (its first rows are the sample); default: the offline
        sample, whose training rows stand in for test rows too.

    Returns
    -------
    dict or None
        ``seconds``, the ``steps`` warmed and the steps ``skipped`` with why (their
        kernels then compile inside the timed step); None where nothing compiles.
    """
    if not getattr(backend, "compiles_kernels", False) or not steps:
        return None
    import dataclasses

    from gpuclf.chapter import STEPS, Context
    from gpuclf.data import load_mnist

    if data is None:
        sample = load_mnist("sample")
        data = dataclasses.replace(sample, X_test=sample.X_train, y_test=sample.y_train)
    n_train, n_test = warmup_rows(config, len(data.y_train), len(data.y_test))
    data = data.subsample(n_train, n_test)
    small = dataclasses.replace(config, steps=list(steps), n_estimators=2,
                                **{k: min(getattr(config, k), n_train)
                                   for k in ("svc_train_size", "ovr_train_size", "grid_train_size")})
    from gpuclf.kernels.pruned_neighbors import every_branch

    ctx = Context(backend, data, small)
    t0 = time.perf_counter()
    warmed, skipped = [], {}
    for step in steps:
        ctx.arrays = {}
        try:
            # A few thousand rows take other branches of the KNN search than the full data: compile them all.
            with every_branch():
                ctx.results[step] = STEPS[step](ctx)
            warmed.append(step)
        except Exception as exc:  # noqa: BLE001 - such a step only misses its warm-up: recorded, and said
            skipped[step] = f"{type(exc).__name__}: {exc}"
    backend.synchronize()
    return {"seconds": round(time.perf_counter() - t0, 3), "steps": warmed, "skipped": skipped,
            "rows": n_train, "kernel_cache": kernel_cache_dir()}
