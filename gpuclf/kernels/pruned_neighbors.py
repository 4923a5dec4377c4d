"""Exact k-nearest neighbours by filter and refine: brute force and the pruned search share one routine.

For each chunk of queries (sizes from the memory budget, no per-query Python loop):

1. **Filter.** One GEMM gives each (query, row) pair a score ``g`` from a
   lower bound on its distance (:mod:`gpuclf.kernels.distance_bounds`): the
   rows themselves for ``"brute"`` (``2 x 784`` FLOPs a pair on MNIST), their
   projection on the top ``d`` principal axes for ``"pruned"`` (``2 d``).
2. **Seeds.** A few rows per query (:func:`~gpuclf.kernels.topk.seeds`), their
   exact squared distances ``c`` (:mod:`gpuclf.kernels.exact_distances`), and
   ``tau``, the ``k``-th smallest of those: ``k`` rows lie within it, so it
   bounds the query's ``k``-th nearest distance. Brute force seeds with its
   ``k`` smallest scores (``k`` argmin passes: nearly the ``k`` nearest); the
   pruned filter, whose bound is loose, with the row of smallest ``g`` in each
   of ``4 k`` blocks of rows (one pass; on MNIST a tighter ``tau`` than its ``k``
   smallest scores, for a fifth of the passes).
3. **Candidates.** Every row whose ``g`` does not exceed the threshold
   ``T(tau)`` (:meth:`~gpuclf.kernels.distance_bounds._Filter.threshold`),
   plus the seeds within ``tau``. A row left out has ``c > tau``, proven including every
   rounding of the filter: the candidates hold the ``k`` nearest by
   construction, so there is nothing to verify afterwards and no query is
   ever left unresolved.
4. **Refine.** ``c`` of every candidate pair, in fixed-size blocks, then the
   ``k`` smallest per query in (``c``, row) order: scikit-learn's order.

Brute force and the pruned search differ only in the filter's features, and
both return the ``k`` smallest ``c`` with ties by row: the same neighbours,
indices and distances, bit for bit, by construction (and checked on full
MNIST, ``docs/knn-search.md``). Two switches keep a search from costing more than brute force, neither of
which can change its result: a pruned chunk whose candidates would cost more
to refine than the brute filter costs more than the pruned one
(:data:`~gpuclf.kernels.knn_cost.REFINE_PAIRS_PER_CANDIDATE` brute pairs an exact
distance) is done again with the brute filter, and so is the rest of the
search (noisy data: the book's denoising, whose independent pixel noise no few
axes capture, lets ~1,000 of 60,000 rows through); a chunk whose candidates exceed
:data:`FALLBACK_FRACTION` of its pairs even so (ties by the thousand:
duplicated rows, constant images) is evaluated exhaustively: ``c`` of every
pair, the same values.

Cost per (query, row) pair, float32, ``f`` features: brute ``2 f`` FLOPs;
pruned ``2 (d + 1)``, then ``2 f x digits`` per exact distance. On full
MNIST (``f = 784``, ``d = 96``, 40 to 80 exact distances per query, seeds
included) that is 13% to 15% of brute force's arithmetic
(:func:`~gpuclf.kernels.knn_cost.estimate_flops`, which ``"auto"`` decides by).
"""
from __future__ import annotations

import contextlib
import contextvars
import threading

import numpy as np

from gpuclf.kernels import chunk_runs, topk
from gpuclf.kernels.chunk_runs import ChunkBuffers
from gpuclf.kernels.chunking import DEFAULT_BUDGET_BYTES, rows_per_chunk
from gpuclf.kernels.distance_bounds import IdentityFilter, Projection, ProjectionFilter, gamma
from gpuclf.kernels.exact_distances import (PairEvaluator, compact_rows, digit_plan, gemm_input_bits, integer_bound,
                                            sq_norms)
from gpuclf.kernels.knn_cost import (ALGORITHMS, PCA_ROWS, REFINE_PAIRS_PER_CANDIDATE, SearchStats,
                                     check_algorithm, choose, default_components, log_search, recording)
from gpuclf.xp import get_namespace, to_host

#: Queries in a pruned search's first chunk (see :meth:`NeighborIndex.search`).
PROBE_QUERIES = 256
#: On NumPy, a search this long runs as two chunks at least, one a core (:mod:`gpuclf.kernels.chunk_runs`).
MIN_SPLIT = 2 * PROBE_QUERIES
#: A chunk whose candidates exceed this fraction of its (query, row) pairs is evaluated exhaustively.
FALLBACK_FRACTION = 1 / 16
#: ... unless it has fewer candidates than this (small searches are never worth the switch), and than the
#: chunk's working memory holds at CANDIDATE_BYTES each (its list, their rows and queries, their distances).
FALLBACK_FLOOR, CANDIDATE_BYTES = 1 << 16, 48
_U64 = 2.0 ** -53
#: Set by :func:`every_branch`: each chunk also takes the branches its data did not choose.
_EVERY_BRANCH = contextvars.ContextVar("gpuclf_knn_every_branch", default=False)


#: Lengths of one whole-mask count in each of CuPy's reduction classes: its own kernel below 128
#: elements, then CUB block kernels of 32, 64, 128, 256 and 512 threads (``clp2(ceil(n / 4))``).
_REDUCED_LENGTHS = (64, 128, 256, 512, 1024, 2048)


def count_every_length_class(xp) -> None:
    """Count a candidate mask of each length class once, so that each class's kernel is compiled.

    How many queries of a chunk get a mask (and so the length of its count) is the data's choice, one
    of up to six kernels on CuPy; a warm-up on other data would not meet the same ones.
    """
    for n in _REDUCED_LENGTHS:
        xp.count_nonzero(xp.zeros((2, n // 2), dtype=bool))


@contextlib.contextmanager
def every_branch():
    """Within the block, every chunk of every search runs each of its branches (the refine, the early
    return of brute force, the exhaustive fallback, and the brute filter after a pruned one), keeping
    the result of the branch its data chose.

    The warm-up (``gpuclf warmup``, a run's first seconds on a GPU) runs the steps on a few thousand
    rows, where the searches' data choose other branches than at full size (fewer rows, more candidates
    a pair); so that a timed step compiles no kernel, it compiles them all, and the first search of the
    block counts a mask of every length class (:func:`count_every_length_class`). Results are unchanged.
    """
    token = _EVERY_BRANCH.set({"lengths_counted": False})
    try:
        yield
    finally:
        _EVERY_BRANCH.reset(token)


class NeighborIndex:
    """A training set prepared for exact searches (both filters share its norms and exactness).

    Parameters
    ----------
    X : float array of shape (n, n_features)
    budget_bytes : int, optional
        Memory a search may add to the training rows and the queries (a device's share, e.g.
        half its free memory): what the index keeps (norms, filters, the compact copy), the
        search's outputs, and its working memory (the PCA, one chunk of queries, the exact
        distances' batches), which gets what the rest leaves (:meth:`held_bytes`). None:
        chunks of the default size, nothing else counted (the host's memory, not a device's).

    Notes
    -----
    The pruned filter (a PCA and the projection of every row) is built at the first pruned search and kept;
    a :class:`~gpuclf.kernels.distance_bounds.Projection` passed in (e.g. fitted once on a whole data set and
    shared by its cross-validation folds) replaces the PCA.
    """

    def __init__(self, X, *, budget_bytes: int | None = None):
        self.X = X
        self.budget_bytes = budget_bytes
        self._norms = None
        self._compact_rows = None  # (copy or None,) once made
        self._filters = {}
        self.build_flops = {"projection": 0, "pca": 0}

    def _prepared(self, budget_bytes: int | None = None):
        """``(squared norms, integer bound)`` of the rows, computed at the first search (its passes within
        ``budget_bytes``, default the index's)."""
        if self._norms is None:
            budget_bytes = self.budget_bytes if budget_bytes is None else budget_bytes
            self._norms = (sq_norms(self.X, budget_bytes), integer_bound(self.X, budget_bytes))
        return self._norms

    def _compact(self):
        """The rows in uint8 or uint16 where they fit (:func:`~gpuclf.kernels.exact_distances.compact_rows`),
        made for the pruned search only: brute force computes about ``k`` exact distances a query."""
        if self._compact_rows is None:
            self._compact_rows = (compact_rows(self.X, self._prepared()[1], self.budget_bytes),)
        return self._compact_rows[0]

    def _projectable(self) -> bool:
        """Whether the rows have a PCA (two rows at least) that stays finite in their dtype."""
        if self.X.shape[0] < 2:
            return False
        largest = float(get_namespace(self.X).max(self._prepared()[0])) if self.X.shape[0] else 0.0
        return largest ** 0.5 * max(1, self.X.shape[0]) ** 0.5 < float(np.finfo(self.X.dtype).max) ** 0.5 / 8

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    def has_filter(self, algorithm: str) -> bool:
        return algorithm == "brute" or "pruned" in self._filters

    def filter(self, algorithm: str, projection: Projection | None = None, budget_bytes: int | None = None):
        """The brute or pruned filter of this training set (built once; its PCA and projection within
        ``budget_bytes``, default the index's)."""
        budget_bytes = self.budget_bytes if budget_bytes is None else budget_bytes
        if algorithm == "brute":
            if "brute" not in self._filters:
                self._filters["brute"] = IdentityFilter(self.X, self._prepared()[0])
            return self._filters["brute"]
        cached = self._filters.get("pruned")
        if cached is not None and (projection is None or cached.projection is projection):
            return cached
        del cached  # a new projection: the old filter's arrays go before the build
        self._filters.pop("pruned", None)
        n, f = self.X.shape
        if projection is None:
            d = default_components(f)
            projection = Projection.fit(self.X, d, budget_bytes)
            self.build_flops["pca"] += 2 * min(n, PCA_ROWS) * f * f
        self._filters["pruned"] = ProjectionFilter(self.X, projection, budget_bytes)
        self.build_flops["projection"] += 2 * n * f * projection.n_components
        return self._filters["pruned"]

    def held_bytes(self, algorithm: str, m: int, k: int, projection: Projection | None = None) -> int:
        """Bytes a search of ``m`` queries holds besides its working memory (a bound, not a measurement).

        What the index keeps: the rows' float64 norms and the brute filter's (a pruned search may switch
        to it); for the pruned search, or once built, its features ``[f(x), w]`` and their norms, the
        arrays its build holds at once (the features before that form, their error bounds and norms),
        and the compact copy (:meth:`_compact`). What the search holds: the queries' norms and candidate
        counts, and the outputs (float64 and int64, ``k`` a query).
        """
        n, f = self.X.shape
        itemsize = self.X.dtype.itemsize
        held = n * (8 + itemsize) + m * (16 + 16 * k)
        cached = self._filters.get("pruned")
        if algorithm == "pruned" or cached is not None:
            rebuilt = algorithm == "pruned" and (cached is None or (projection is not None
                                                                    and cached.projection is not projection))
            d = (projection.n_components if projection is not None and rebuilt
                 else cached.d if cached is not None else default_components(f))
            # The features and their norms, the map (float64 and in the rows' dtype), the build's temporaries.
            held += n * (d + 2) * itemsize + (d + 1) * f * (8 + itemsize) + (n * (d * itemsize + 40) if rebuilt else 0)
            if self._compact_rows is not None:
                held += 0 if self._compact_rows[0] is None else int(self._compact_rows[0].nbytes)
            else:
                bound = self._prepared()[1]
                held += 0 if bound is None or bound > 65535 else n * f * (1 if bound <= 255 else 2)
        return held

    def search(self, Q, k: int, *, exclude_self: bool = False, algorithm: str = "brute",
               projection: Projection | None = None):
        """The ``k`` nearest rows of each query: squared distances ``c`` and row indices.

        Parameters
        ----------
        Q : float array of shape (m, n_features), the training rows' dtype
            With ``exclude_self``, the training rows themselves.
        k : int
            ``1 <= k <= n`` (``n - 1`` with ``exclude_self``); checked by the caller.
        exclude_self : bool
            Leave query ``i`` out of its own neighbours.
        algorithm : {"auto", "pruned", "brute"}
        projection : Projection, optional
            The pruned filter's map (default: a PCA of these rows).

        Returns
        -------
        sq_distances : float64 array of shape (m, k)
            ``c`` (:mod:`gpuclf.kernels.exact_distances`), ascending.
        indices : int64 array of shape (m, k)
            Equal ``c`` in row order.
        """
        xp = get_namespace(self.X)
        m, (n, f) = Q.shape[0], self.X.shape
        chosen = choose(algorithm, m, n, f, k, built=self.has_filter("pruned") or projection is not None)
        # A given budget holds the index's arrays and the outputs too: the working memory (the rows' first
        # passes, the PCA, the chunks, the exact distances' batches) gets what they leave, and at least a
        # quarter of it. None: the default chunks, and the builds' own defaults.
        given = None if self.budget_bytes is None else int(self.budget_bytes)
        if given is not None:  # the norms' passes come before any filter's arrays
            self._prepared(max(given - self.held_bytes("brute", m, k), given // 4))
        every = _EVERY_BRANCH.get()
        if every and not every["lengths_counted"]:  # once a block: the mask counts' kernels, whatever the data
            count_every_length_class(xp)
            every["lengths_counted"] = True
        if every and algorithm == "auto":
            chosen = "pruned"  # the warm-up: "auto" may prune the full data's searches (same neighbours)
        if chosen == "pruned" and not self._projectable():
            chosen = "brute"
        budget, work = DEFAULT_BUDGET_BYTES, None
        if given is not None:
            budget = work = max(given - self.held_bytes(chosen, m, k, projection), given // 4)
        before = dict(self.build_flops)
        filt = self.filter(chosen, projection, work)
        x_sq, bound = self._prepared()
        compact = self._compact() if chosen == "pruned" else None
        plan = digit_plan(f, bound, integer_bound(Q, work), gemm_input_bits(xp))
        q_sq = sq_norms(Q, work)
        c_error = 0.0 if plan is not None else gamma(f + 2, _U64)
        stats = SearchStats(chosen, m, n, f, k, filt.d, exact=plan is not None)
        stats.flops["pca"] = self.build_flops["pca"] - before["pca"]
        stats.flops["projection"] = self.build_flops["projection"] - before["projection"]
        sq = xp.empty((m, k), dtype=xp.float64)
        idx = xp.empty((m, k), dtype=xp.int64)
        itemsize = filt.dtype.itemsize
        # A quarter of the working memory for the exact distances' batches, the rest for the chunk itself:
        # per pair its score, the candidate mask and list (4 bytes), the seeds' selection; per query its
        # digits and features, and its seeds' columns, scores and distances.
        # (A pruned search may hand its chunks to the brute filter: room for either's seeds.)
        blocks = (filt.seed_blocks_per_k, IdentityFilter.seed_blocks_per_k)
        per_pair = itemsize + 4 + max(topk.seed_bytes_per_pair(n, k, itemsize, b) for b in blocks)
        per_query = f * (16 + itemsize) + 32 * max(1, *blocks) * k
        rows = rows_per_chunk(n * per_pair + per_query, budget - budget // 4, m)
        # On NumPy, chunks run side by side (chunk_runs), each with its share of the working memory.
        n_chunks = -(-m // rows) if m > rows else 2 if m >= MIN_SPLIT else 1
        n_workers = 1 if every else chunk_runs.workers(xp, n_chunks, m * n)
        if n_workers > 1:
            budget //= n_workers
            rows = min(rows_per_chunk(n * per_pair + per_query, budget - budget // 4, m), -(-m // n_workers))
        chunk_budget = None if work is None else budget - budget // 4  # the exhaustive path's
        # A pruned search starts with a small chunk: if the filter bounds too little (it hands the search
        # to the brute filter), that probe is all it wasted.
        first = min(rows, PROBE_QUERIES) if filt.name == "pruned" else rows
        spans = [(start, min(m, start + (first if start == 0 else rows))) for start in [0, *range(first, m, rows)]]
        current = {"filter": filt}
        switch = threading.Lock()  # the filter's switch and the statistics, shared by the threads

        def one(span, buffers):
            start, stop = span
            part = SearchStats(chosen, stop - start, n, f, k, filt.d)
            # One evaluator per chunk: the queries' digits exist for one chunk at a time.
            evaluator = PairEvaluator(self.X, x_sq, Q[start:stop], q_sq[start:stop], plan, max(1, budget // 4),
                                      compact)
            used = current["filter"]
            got = self._chunk(used, evaluator, Q[start:stop], start, k, exclude_self, c_error, part, chunk_budget,
                              buffers)
            if every and used.name == "pruned" and got is not None:
                self._chunk(self.filter("brute"), evaluator, Q[start:stop], start, k, exclude_self, c_error,
                            SearchStats(chosen, m, n, f, k, filt.d), chunk_budget, buffers)
            if got is None:  # too many candidates to refine: this chunk and the rest with the brute filter
                with switch:
                    current["filter"] = used = self.filter("brute")
                got = self._chunk(used, evaluator, Q[start:stop], start, k, exclude_self, c_error, part,
                                  chunk_budget, buffers)
            if used.name != filt.name:
                part.switched_queries = stop - start
            part.flops["refine"] += evaluator.flops
            sq[start:stop], idx[start:stop] = got[0], got[1]
            with switch:
                stats.add(part)
            return to_host(got[2]).astype(np.int64)

        def new_buffers():
            return ChunkBuffers(xp, filt.dtype, min(rows, m), n)

        # A pruned search's probe first, alone: it decides the filter of every other chunk. Its buffers go on
        # to a thread. (Fewer chunks left than threads: fewer threads, each GEMM with more BLAS threads.)
        alone = spans[:1] if filt.name == "pruned" else []
        spare = [new_buffers()]
        done = [one(span, spare[0]) for span in alone]
        rest = spans[len(alone):]
        done += chunk_runs.map_in_order(one, rest, min(n_workers, len(rest)),
                                        lambda: spare.pop() if spare else new_buffers())
        stats.candidates = np.concatenate(done) if done else np.zeros(0, dtype=np.int64)
        log_search(stats)
        return sq, idx

    def _chunk(self, filt, evaluator, Qc, start: int, k: int, exclude_self: bool, c_error: float,
               stats: SearchStats, budget_bytes: int | None, buffers: ChunkBuffers):
        """One chunk of queries, rows ``start:`` of the search's: filter, seeds, candidates, refine
        (``budget_bytes``: the chunk's working memory, for the exhaustive path; ``buffers``: the search's
        score and mask arrays, reused by every chunk)."""
        xp = get_namespace(self.X)
        n = self.X.shape[0]
        mc = Qc.shape[0]
        Fq, rho_q = filt.query(Qc)
        if filt.name == "pruned":
            stats.flops["projection"] += 2 * mc * self.n_features * filt.d
        if not filt.finite_scores(Fq):  # values near the dtype's limit: no bound to trust
            return self._exhaustive(evaluator, start, k, exclude_self, stats, buffers.left(budget_bytes))
        g = filt.scores(Fq, out=buffers.scores(mc))
        stats.flops["filter"] += 2 * mc * n * filt.d
        own = xp.arange(mc)
        if exclude_self:
            g[own, start + own] = xp.inf
        seed_g, seeds = topk.seeds(g, k, filt.seed_blocks_per_k)
        s = seeds.shape[1]
        g[own[:, None], seeds] = xp.inf  # known: the next score a query has is after its seeds
        c_seeds = evaluator.pairs(xp.repeat(xp.arange(mc, dtype=xp.int64), s), seeds.ravel()).reshape(mc, s)
        tau = xp.max(c_seeds, axis=1) if s == k else xp.partition(c_seeds, k - 1, axis=1)[:, k - 1]
        T = filt.threshold(tau, Fq, rho_q, c_error)
        every = _EVERY_BRANCH.get()
        if every and n >= topk.MIN_SEED_BLOCK:  # the seeds' blocked argmin, which wider data choose
            topk.block_minima(g, n // topk.MIN_SEED_BLOCK)
        if every:
            self._exhaustive(evaluator, start, k, exclude_self, SearchStats(filt.name, mc, n, 1, k, filt.d),
                             buffers.left(budget_bytes))
        if filt.name == "brute":
            # Scores that are distances but for a rounding: after its k seeds a query's next score almost
            # always clears T. One min pass finds the queries where it does not; only those get a mask.
            open_rows = xp.flatnonzero(xp.min(g, axis=1) <= T)
            if every:  # the early return's kernels, then the mask's on every query: the same neighbours
                topk.sort_rows(c_seeds, seeds)
                open_rows = own
            elif open_rows.shape[0] == 0:
                return (*topk.sort_rows(c_seeds, seeds), xp.full(mc, s, dtype=xp.int64))
            mask = xp.less_equal(g[open_rows], T[open_rows, None], out=buffers.mask(open_rows.shape[0]))
        else:
            open_rows = None
            # every score finite (finite_scores), so no NaN is left out
            mask = xp.less_equal(g, T[:, None], out=buffers.mask(mc))
        del g
        # Out of the candidates: the seeds (their distances are known) and a query's own row, whatever T
        # (an infinite T, where a half-precision GEMM leaves no bound, would take the inf scores in).
        which = own if open_rows is None else open_rows
        held = xp.arange(mask.shape[0])
        mask[held[:, None], seeds[which]] = False
        if exclude_self:
            mask[held, start + which] = False
        # One count of the whole mask decides (a per-row sum is a pass over it as slow as the mask itself);
        # the per-query counts come from the candidates' list.
        n_pairs = int(xp.count_nonzero(mask))
        if (filt.name == "pruned" and not every
                and n_pairs * REFINE_PAIRS_PER_CANDIDATE > mc * n * (1 - filt.d / self.n_features)):
            return None
        floor = min(FALLBACK_FLOOR, (buffers.left(budget_bytes) or FALLBACK_FLOOR * CANDIDATE_BYTES) // CANDIDATE_BYTES)
        if n_pairs > max(floor, FALLBACK_FRACTION * mc * n) and not every:
            del mask
            return self._exhaustive(evaluator, start, k, exclude_self, stats, buffers.left(budget_bytes))
        flat = xp.flatnonzero(mask)
        del mask
        queries, rows = flat // n, flat % n
        if open_rows is not None:
            queries = open_rows[queries]
        c = evaluator.pairs(queries, rows)
        evaluated = xp.bincount(queries, minlength=mc) + s
        within = c_seeds <= tau[:, None]  # at least k: the seeds that can be among the k nearest
        queries = xp.concatenate([queries, xp.broadcast_to(own[:, None], seeds.shape)[within]])
        rows = xp.concatenate([rows, seeds[within]])
        c = xp.concatenate([c, c_seeds[within]])
        sq, idx = topk.segment_smallest_k(queries, rows, c, xp.bincount(queries, minlength=mc), k)
        return sq, idx, evaluated

    def _exhaustive(self, evaluator, start: int, k: int, exclude_self: bool, stats: SearchStats,
                    budget_bytes: int | None = None):
        """``c`` of every pair of the chunk, then its ``k`` smallest: the fallback, same values."""
        xp = get_namespace(self.X)
        n, mc = self.X.shape[0], evaluator.Q.shape[0]
        digits = evaluator.plan.count if evaluator.plan is not None else 1
        # full()'s last step holds four float64 arrays beside the digits' float32 products; then the top-k's.
        per_pair = 8 * 4 + 4 * digits + topk.bytes_per_pair(k, 8)
        rows = rows_per_chunk(n * per_pair, self.budget_bytes if budget_bytes is None else budget_bytes, mc)
        sq = xp.empty((mc, k), dtype=xp.float64)
        idx = xp.empty((mc, k), dtype=xp.int64)
        for s in range(0, mc, rows):
            e = min(mc, s + rows)
            c = evaluator.full(s, e)
            if exclude_self:
                own = xp.arange(e - s)
                c[own, start + s + own] = xp.inf
            sq[s:e], idx[s:e] = topk.smallest_k(c, k)
            del c  # before the next batch's full(): one batch of distances alive at a time
        stats.fallback_chunks += 1
        stats.fallback_queries += mc
        return sq, idx, xp.full(mc, n - exclude_self, dtype=xp.int64)


def fit_projection(X, n_components: int | None = None, budget_bytes: int | None = None) -> Projection | None:
    """The PCA a pruned search filters with; fit it once on a whole data set to share it among its folds.

    None for a single row (no PCA): a pruned search given None decides for itself, and brute-forces one row.
    """
    if X.shape[0] < 2:  # one row has nothing to project, and nothing to prune
        return None
    d = default_components(X.shape[1]) if n_components is None else int(n_components)
    return Projection.fit(X, max(1, min(d, X.shape[1])), budget_bytes)


__all__ = ["ALGORITHMS", "FALLBACK_FRACTION", "NeighborIndex", "count_every_length_class", "every_branch", "Projection", "SearchStats", "check_algorithm",
           "choose", "default_components", "fit_projection", "recording"]
