"""Cold start: compile the device kernels before the timed steps, and say how long it took.

On a GPU, the first call of each CuPy kernel compiles it with NVRTC (about
0.1-0.4 s per distinct kernel signature) and stores it in CuPy's kernel
cache (``$CUPY_CACHE_DIR``, default ``~/.cupy/kernel_cache``). Without a
warm-up that cost lands inside whichever step first uses the kernel, so
step times measure the compiler. :func:`warm_up` runs the selected steps on
a few hundred sample digits first: kernels are compiled for dtypes and
ranks, not sizes, so the real steps then find them compiled, and
``results.json`` records the warm-up apart (``warmup``). A second run on
the same machine (or a container whose cache folder is a volume) loads
the kernels from the disk cache and its warm-up is short.
"""
from __future__ import annotations

import os
import time

#: Rows of the warm-up data: enough for every step's folds and neighbours.
WARMUP_TRAIN, WARMUP_TEST = 400, 100


def kernel_cache_dir() -> str:
    """Where CuPy keeps compiled kernels (its documented default unless ``CUPY_CACHE_DIR`` is set)."""
    return os.environ.get("CUPY_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cupy", "kernel_cache")


def warm_up(backend, steps, config) -> dict | None:
    """Run ``steps`` on a small sample so the device kernels are compiled before timing.

    Parameters
    ----------
    backend : Backend
        Only backends that compile kernels (``compiles_kernels``) warm up.
    steps : list of str
    config : RunConfig
        The run's options; sizes are shrunk to the sample.

    Returns
    -------
    dict or None
        ``seconds``, the ``steps`` warmed and the steps ``skipped`` with why (their
        kernels then compile inside the timed step); None where nothing compiles.
    """
    if not getattr(backend, "compiles_kernels", False) or not steps:
        return None
    from dataclasses import replace

    from .data import load_mnist
    from .workflow import STEPS, Context

    data = load_mnist("sample").subsample(WARMUP_TRAIN, WARMUP_TEST)
    small = replace(config, steps=list(steps), n_estimators=2, svc_train_size=100, ovr_train_size=100,
                    grid_train_size=WARMUP_TRAIN)
    ctx = Context(backend, data, small)
    t0 = time.perf_counter()
    warmed, skipped = [], {}
    for step in steps:
        ctx.arrays = {}
        try:
            ctx.results[step] = STEPS[step](ctx)
            warmed.append(step)
        except Exception as exc:  # noqa: BLE001 - such a step only misses its warm-up: recorded, and said
            skipped[step] = f"{type(exc).__name__}: {exc}"
    backend.synchronize()
    return {"seconds": round(time.perf_counter() - t0, 3), "steps": warmed, "skipped": skipped,
            "rows": WARMUP_TRAIN, "kernel_cache": kernel_cache_dir()}
