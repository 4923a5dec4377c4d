"""One measure of working memory for the tests: tracemalloc's peak during a call, beyond what it returns."""
from __future__ import annotations

import tracemalloc


def extra_peak(call):
    """Bytes of temporaries alive at once during ``call()`` beyond what it returns, and its result.

    NumPy reports its buffers to tracemalloc, so this is the call's working memory on the host. What the
    call returns (an array, or a tuple of them) is left out: it is the caller's.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        out = call()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    kept = sum(a.nbytes for a in (out if isinstance(out, tuple) else (out,)) if hasattr(a, "nbytes"))
    return peak - base - kept, out
