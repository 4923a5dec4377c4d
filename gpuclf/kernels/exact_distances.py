"""The squared distance every KNN search ranks by and reports, with one definition for every path.

Why one definition
------------------
A float32 GEMM rounds ``q . x`` in an order that depends on the matrix
shapes (BLAS blocking, small-matrix kernels, threads, cuBLAS's choice of
algorithm), so two searches that multiply different shapes (a brute chunk
against the whole training set, a pruned search against a few candidates,
a shard of it) can round one pair's distance differently and swap two
near-tied neighbours. gpuclf's searches therefore never rank by a GEMM's
result: a GEMM only *filters* (with a proven error bound, see
:mod:`gpuclf.kernels.distance_bounds`), and the survivors' distances are
computed by this module, whose value for a pair depends on that pair alone.

The definition
--------------
``c(q, x)`` is the float64 sum, in feature order, of ``(q_j - x_j) ** 2``
with ``q_j`` and ``x_j`` widened to float64 and every operation rounded to
nearest: ``acc = d_0 * d_0; acc = acc + d_1 * d_1; ...`` with ``d_j = q_j - x_j``.
:func:`pair_sq_distances` and :func:`full_sq_distances` evaluate it literally
("sequential") with element-wise operations only: no reduction whose order a
library chooses, so it is the same on NumPy and CuPy and for any batch.

Exact data, and a fast evaluation
---------------------------------
When every entry is an integer and ``2 n (M_q + M_x)^2 < 2^53`` (``M``: the
largest magnitude, ``n`` features), every step above is exact: ``c`` is the
exact ``||q - x||^2``, and so is any other exact evaluation. The fast path
then computes ``||q||^2 + ||x||^2 - 2 q . x`` with the dot product in float32
GEMMs that cannot round: the query is split into base-``B`` digits
(``q = sum_r B^r q_r``, ``|q_r| < B``), and ``B`` is chosen so that
``n M_x (B - 1) < 2^24``; every partial sum of ``x . q_r`` is then an integer
below ``2^24``, exact in float32 whatever the order, blocking or FMA. MNIST's
pixels (``M = 255``, 784 features) take two digits of base 64. The digits
are combined, and the norms summed, in float64, where every value is an
integer below ``2^53``. Both evaluations give the same bits on exact data
(``tests/kernels/test_exact_distances.py``); the fast one is a third of the
bytes and runs at GEMM speed.

TF32: CuPy multiplies float32 matrices in TF32 when ``CUPY_TF32`` is set
(``get_compute_type`` in ``cupy/_core/_routines_linalg.pyx``, fixed at its first
use), which keeps 11 significant bits of each input. The digit path is then
used only where the inputs and digits are below ``2^11`` (exact in TF32 as
well); a half-precision compute type (set by ``cupy._core.set_compute_type``)
turns it off, and the filters' bound with it (:func:`gemm_input_bits`).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from gpuclf.kernels import chunk_runs
from gpuclf.kernels.chunking import rows_per_chunk, stream_rows
from gpuclf.xp import get_namespace

#: Candidates per block of the digit path: one query, ``BLOCK`` training rows, one small GEMM.
BLOCK = 16
#: Working set of one batch of blocks: about a core's share of cache.
CACHE_BYTES = 4 * 2**20
_FLOAT32_EXACT = 2 ** 24
_FLOAT64_EXACT = 2 ** 53


def gemm_input_bits(xp) -> int:
    """Significant bits of each float32 input that ``xp``'s float32 matrix products keep.

    24 (float32 arithmetic: NumPy, and CuPy's default); 11 where CuPy multiplies
    in TF32; 0 where the inputs may be rounded to half precision (no bound holds).
    CuPy's own choice is read where it exposes it, else ``CUPY_TF32``, as CuPy reads it.
    """
    if xp is np:
        return 24
    linalg = getattr(getattr(xp, "_core", None), "_routines_linalg", None)
    get = getattr(linalg, "get_compute_type", None)
    if get is not None:
        kind = int(get(np.float32))
        full = (linalg.COMPUTE_TYPE_DEFAULT, linalg.COMPUTE_TYPE_PEDANTIC, linalg.COMPUTE_TYPE_FP32)
        if kind in {int(k) for k in full}:
            return 24
        return 11 if kind == int(linalg.COMPUTE_TYPE_TF32) else 0
    try:
        return 11 if int(os.environ.get("CUPY_TF32", "0") or 0) > 0 else 24
    except ValueError:
        return 11


def integer_bound(X, budget_bytes: int | None = None) -> int | None:
    """``max |x|`` when every entry of ``X`` is an integer, else None.

    Parameters
    ----------
    X : float array of shape (n, n_features)
    budget_bytes : int, optional
        Memory for one chunk of rows (the check makes two temporaries per chunk).

    Returns
    -------
    int or None
    """
    xp = get_namespace(X)
    n = X.shape[0]
    if n == 0 or X.size == 0:
        return 0
    rows = stream_rows(2 * X.shape[1] * X.dtype.itemsize, budget_bytes, n)
    bound = 0
    for start in range(0, n, rows):
        chunk = X[start:start + rows]
        largest = float(xp.max(xp.abs(chunk)))
        if not largest < float("inf"):  # NaN or inf: not integers
            return None
        if float(xp.max(xp.abs(chunk - xp.rint(chunk)))) != 0:
            return None
        bound = max(bound, largest)
    return int(bound)


@dataclass(frozen=True)
class DigitPlan:
    """How the fast path splits the queries: ``count`` float32 digits of base ``base``.

    Attributes
    ----------
    base : int
        A power of two; every digit but the last lies in ``[0, base - 1]``,
        the last in ``[-(base - 1), base - 1]``.
    count : int
    """

    base: int
    count: int


def digit_plan(n_features: int, train_bound: int | None, query_bound: int | None, input_bits: int = 24):
    """The digit split that makes ``q . x`` exact in float32 GEMMs, or None where none does.

    Parameters
    ----------
    n_features : int
    train_bound, query_bound : int or None
        :func:`integer_bound` of the training rows and of the queries.
    input_bits : int
        :func:`gemm_input_bits`: 24, or 11 where float32 GEMMs round their inputs to TF32.

    Returns
    -------
    DigitPlan or None
        None: evaluate the definition sequentially.
    """
    if train_bound is None or query_bound is None or input_bits < 11:
        return None
    mx, mq, n = int(train_bound), int(query_bound), max(1, int(n_features))
    if 2 * n * (mx + mq) ** 2 >= _FLOAT64_EXACT:
        return None
    exact_input = 2 ** min(int(input_bits), 24)
    if mx >= exact_input or mq >= _FLOAT32_EXACT:
        return None
    # The largest power-of-two base whose digits keep every partial sum of x . q_r below 2^24.
    base = 2
    while base < 4096 and n * mx * (2 * base - 1) < _FLOAT32_EXACT and 2 * base <= exact_input:
        base *= 2
    if n * mx * (base - 1) >= _FLOAT32_EXACT:
        return None
    if base < 4 and mq > 0:  # base 2 leaves the last digit no room: |floor(q / 2^(count-1))| < 1 never holds
        return None
    # Enough digits that the last, floor(q / base^(count-1)), stays within (-(base - 1), base - 1).
    count = 1
    while mq > (base - 2) * base ** (count - 1):
        count += 1
    return DigitPlan(base, count)


def query_digits(Q, plan: DigitPlan):
    """``Q`` as ``plan.count`` float32 digits: array of shape (m, n_features, count), ``Q = sum_r base^r d_r``.

    Every operation is exact on integers below ``2^24``: ``x / base`` by a power
    of two, its floor, and the remainder ``x - base * floor(x / base)``.
    """
    xp = get_namespace(Q)
    rest = Q.astype(xp.float32)
    digits = []
    for _ in range(plan.count - 1):
        high = xp.floor(rest * (1.0 / plan.base))
        digits.append(rest - high * plan.base)
        rest = high
    digits.append(rest)
    return xp.stack(digits, axis=-1)


def _combine(parts, base: int):
    """``sum_r base^r parts[..., r]`` in float64 (Horner; every value an integer below 2^53)."""
    xp = get_namespace(parts)
    total = parts[..., -1].astype(xp.float64)
    for r in range(parts.shape[-1] - 2, -1, -1):
        total = total * base + parts[..., r]
    return total


def compact_rows(X, bound: int | None, budget_bytes: int | None = None):
    """``X`` as uint8 or uint16 where its values are integers that fit (pixels: uint8), else None.

    The exact path gathers each candidate's row: a quarter of the bytes from uint8
    (MNIST's 784 pixels: 784 bytes instead of 3,136), converted to float32 in cache.
    """
    if bound is None or bound > 65535:
        return None
    xp = get_namespace(X)
    n = X.shape[0]
    out = xp.empty(X.shape, dtype=xp.uint8 if bound <= 255 else xp.uint16)
    rows = stream_rows(X.shape[1] * X.dtype.itemsize, budget_bytes, n)
    n_workers = chunk_runs.workers(xp, -(-n // rows), X.size)

    def block(start, _):  # the sign check and the copy in one read of each block (on NumPy, blocks on threads)
        part = X[start:start + rows]
        if float(xp.min(part)) < 0:
            return False
        out[start:start + rows] = part
        return True

    return out if all(chunk_runs.map_in_order(block, range(0, n, rows), n_workers, lambda: None)) else None


def sqrt_distances(sq, dtype):
    """Euclidean distances from the searches' squared distances: ``sqrt`` in float64, then ``dtype``."""
    xp = get_namespace(sq)
    return xp.sqrt(sq).astype(dtype, copy=False)


def sq_norms(X, budget_bytes: int | None = None):
    """``sum_j x_j^2`` per row in float64, in row chunks (exact on exact data)."""
    xp = get_namespace(X)
    n = X.shape[0]
    out = xp.empty(n, dtype=xp.float64)
    rows = stream_rows(16 * max(1, X.shape[1]), budget_bytes, n)
    for start in range(0, n, rows):
        chunk = X[start:start + rows].astype(xp.float64)
        chunk *= chunk
        out[start:start + rows] = xp.sum(chunk, axis=1)
    return out


class PairEvaluator:
    """Squared distances :math:`c(q, x)` between one set of queries and a training set.

    Parameters
    ----------
    X : float array of shape (n, n_features)
        The training rows.
    x_sq : float64 array of shape (n,)
        :func:`sq_norms` of ``X``.
    Q : float array of shape (m, n_features)
        The queries.
    q_sq : float64 array of shape (m,)
    plan : DigitPlan or None
        :func:`digit_plan` for these two arrays; None evaluates the definition.
    budget_bytes : int, optional
        Working memory of one batch of pairs.
    compact : array of shape (n, n_features), optional
        :func:`compact_rows` of ``X`` (the same values in fewer bytes), gathered instead of ``X``.

    Attributes
    ----------
    flops : int
        Floating-point operations done so far (multiply-adds count 2).
    """

    def __init__(self, X, x_sq, Q, q_sq, plan: DigitPlan | None, budget_bytes: int | None = None, compact=None):
        self.X, self.x_sq, self.Q, self.q_sq, self.plan = X, x_sq, Q, q_sq, plan
        self.budget_bytes = budget_bytes
        self.compact = compact if plan is not None else None
        self.flops = 0
        self._digits = None if plan is None else query_digits(Q, plan)

    @property
    def exact(self) -> bool:
        """Whether the fast, exact digit path serves these arrays."""
        return self.plan is not None

    def pairs(self, queries, rows):
        """``c`` of the pairs ``(Q[queries[p]], X[rows[p]])``.

        Parameters
        ----------
        queries, rows : int64 arrays of shape (P,)
            ``queries`` ascending (each query's pairs contiguous).

        Returns
        -------
        float64 array of shape (P,)
        """
        xp = get_namespace(self.X)
        if queries.shape[0] == 0:
            return xp.empty(0, dtype=xp.float64)
        if self.plan is None:
            return self._sequential_pairs(queries, rows)
        return self._digit_pairs(queries, rows)

    def full(self, start: int, stop: int):
        """``c`` of queries ``start:stop`` against every training row: float64 array (stop - start, n)."""
        if self.plan is None:
            return self._sequential_full(start, stop)
        xp = get_namespace(self.X)
        digits = self._digits[start:stop]                      # (m, f, r)
        m, f, r = digits.shape
        lhs = xp.ascontiguousarray(xp.moveaxis(digits, 2, 0)).reshape(r * m, f)
        parts = lhs @ self.X.astype(xp.float32, copy=False).T  # exact: see the module docstring
        self.flops += 2 * r * m * f * self.X.shape[0]
        dot = _combine(xp.moveaxis(parts.reshape(r, m, -1), 0, 2), self.plan.base)
        return (self.q_sq[start:stop, None] + self.x_sq[None, :]) - 2.0 * dot

    # -- the fast path: one query per block of BLOCK candidates, one batched GEMM ---------------
    def _digit_pairs(self, queries, rows):
        xp = get_namespace(self.X)
        m = self.Q.shape[0]
        n_pairs = queries.shape[0]
        counts = xp.bincount(queries, minlength=m)
        blocks = (counts + BLOCK - 1) // BLOCK
        block_start = xp.cumsum(blocks) - blocks
        pair_start = xp.cumsum(counts) - counts
        rank = xp.arange(n_pairs, dtype=xp.int64) - pair_start[queries]
        block = block_start[queries] + rank // BLOCK
        slot = rank % BLOCK
        n_blocks = int(blocks.sum())
        # Empty slots read row 0; their values are never gathered back.
        layout = xp.zeros((n_blocks, BLOCK), dtype=xp.int64)
        layout[block, slot] = rows
        owner = xp.searchsorted(xp.cumsum(blocks), xp.arange(n_blocks), side="right")
        f = self.X.shape[1]
        # Batches of a cache's size: each block's rows are gathered and multiplied while still in cache
        # (full MNIST, 57,000 candidates: 136 ms in one batch, 72 ms in 32-block batches; 41 ms from uint8).
        source = self.X if self.compact is None else self.compact
        per_block = BLOCK * f * (4 + source.dtype.itemsize) + f * self.plan.count * 4 * 2
        step = stream_rows(per_block, self.budget_bytes, n_blocks, cap=CACHE_BYTES)
        values = xp.empty((n_blocks, BLOCK), dtype=xp.float64)
        for s in range(0, n_blocks, step):
            cand = source[layout[s:s + step]].astype(xp.float32, copy=False)   # (b, BLOCK, f)
            who = owner[s:s + step]
            parts = xp.matmul(cand, self._digits[who])                      # (b, BLOCK, r), exact
            dot = _combine(parts, self.plan.base)
            values[s:s + step] = (self.q_sq[who][:, None] + self.x_sq[layout[s:s + step]]) - 2.0 * dot
            del cand, parts, dot  # before the next batch's gather: one batch's arrays alive at a time
        self.flops += 2 * n_blocks * BLOCK * f * self.plan.count
        return values[block, slot]

    # -- the definition itself: element-wise float64, features in order ----------------------
    def _sequential_pairs(self, queries, rows):
        xp = get_namespace(self.X)
        n_pairs, f = queries.shape[0], self.X.shape[1]
        out = xp.empty(n_pairs, dtype=xp.float64)
        step = rows_per_chunk(8 * 3 * max(1, f), self.budget_bytes, n_pairs)
        for s in range(0, n_pairs, step):
            diff = self.Q[queries[s:s + step]].astype(xp.float64) - self.X[rows[s:s + step]].astype(xp.float64)
            diff = xp.ascontiguousarray(diff.T)  # (f, pairs): each feature's terms contiguous
            out[s:s + step] = _ordered_sum_of_squares(diff)
        self.flops += 3 * n_pairs * f
        return out

    def _sequential_full(self, start: int, stop: int):
        xp = get_namespace(self.X)
        Q = self.Q[start:stop].astype(xp.float64)
        n, f = self.X.shape
        acc = xp.zeros((Q.shape[0], n), dtype=xp.float64)
        for j in range(f):
            d = Q[:, j:j + 1] - self.X[:, j].astype(xp.float64)[None, :]
            d *= d
            acc += d
        self.flops += 3 * Q.shape[0] * n * f
        return acc


def _ordered_sum_of_squares(diff):
    """``sum_j diff[j] ** 2`` over axis 0, term by term in order (the definition's order)."""
    acc = diff[0] * diff[0]
    for j in range(1, diff.shape[0]):
        acc += diff[j] * diff[j]
    return acc
