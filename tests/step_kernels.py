"""The kernels each chapter step compiles first in its timed call, on the emulated CuPy (``fake_cupy``)."""
from __future__ import annotations

import contextlib

import fake_cupy


@contextlib.contextmanager
def kernels_per_step():
    """While the block runs, each step of ``gpuclf.chapter.STEPS`` records in the yielded dict the emulated
    kernels first launched in its last call: the timed one, after the warm-up's."""
    import gpuclf.chapter as chapter

    originals, new = dict(chapter.STEPS), {}

    def counting(name):
        def step(ctx):
            before = set(fake_cupy.stats["kernels"])
            out = originals[name](ctx)
            new[name] = fake_cupy.stats["kernels"] - before  # the last call is the timed one
            return out
        return step

    chapter.STEPS.update({s: counting(s) for s in originals})
    try:
        yield new
    finally:
        chapter.STEPS.update(originals)
