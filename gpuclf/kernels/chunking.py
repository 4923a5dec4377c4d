"""Chunk sizes for kernels whose work grows with n_query x n_train.

A chunk never holds more than :data:`MAX_CHUNK_BYTES`, whatever the budget.
CuPy compiles each kernel for the index width its arrays need: 32-bit
offsets while an array it allocates spans at most 2**31 bytes and a
kernel's loop at most 2**31 elements, 64-bit above (``_index_32_bits`` in
``cupy/_core/core.pyx``, ``Indexer.init`` in ``_carray.pyx``; the
``CArray<T, N, c, 1>`` / ``CIndexer<N, 1>`` template argument). A 64-bit
variant is another kernel source, compiled at its first use: on an 80 GB
device half the free memory holds the augmentation's 10,000 x 300,000
distances in one chunk (12 GB), so its kernels would compile inside the
timed step, where a warm-up on a few thousand rows never made them. Capped,
every chunked array stays a 32-bit one on any device, and one chunk of
2 GiB already keeps a GPU busy (a 1,789 x 784 x 300,000 product is 0.84
TFLOP): the cap costs a few more launches, not speed.
"""
from __future__ import annotations

DEFAULT_BUDGET_BYTES = 512 * 2**20
#: Most bytes one chunk may hold (all its arrays together): CuPy's 32-bit indexing limit.
MAX_CHUNK_BYTES = 2**31


def rows_per_chunk(bytes_per_row: int, budget_bytes: int | None = None, n_rows: int | None = None) -> int:
    """How many rows fit in ``budget_bytes`` (at most :data:`MAX_CHUNK_BYTES`) when each costs ``bytes_per_row``.

    Parameters
    ----------
    bytes_per_row : int
        Working memory one row of the chunk needs, every array of the chunk counted.
    budget_bytes : int, optional
        Memory the chunk may use; ``DEFAULT_BUDGET_BYTES`` when None.
    n_rows : int, optional
        Total number of rows; the result never exceeds it.

    Returns
    -------
    int
        At least 1, so work always progresses; at most ``n_rows``.
    """
    budget = DEFAULT_BUDGET_BYTES if budget_bytes is None else int(budget_bytes)
    rows = max(1, min(budget, MAX_CHUNK_BYTES) // max(1, int(bytes_per_row)))
    if n_rows is not None:
        rows = min(rows, max(1, int(n_rows)))
    return int(rows)
