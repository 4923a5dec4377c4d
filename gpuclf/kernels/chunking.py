"""Chunk sizes for kernels whose work grows with n_query x n_train."""
from __future__ import annotations

DEFAULT_BUDGET_BYTES = 512 * 2**20


def rows_per_chunk(bytes_per_row: int, budget_bytes: int | None = None, n_rows: int | None = None) -> int:
    """How many rows fit in ``budget_bytes`` when each costs ``bytes_per_row``.

    Parameters
    ----------
    bytes_per_row : int
        Working memory one row of the chunk needs.
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
    rows = max(1, budget // max(1, int(bytes_per_row)))
    if n_rows is not None:
        rows = min(rows, max(1, int(n_rows)))
    return int(rows)
