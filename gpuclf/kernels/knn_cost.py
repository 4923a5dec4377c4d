"""What a KNN search costs: the model that ``algorithm="auto"`` decides by, and what each search did.

:func:`estimate_flops` prices a search in float32 GEMM FLOPs, memory passes
included; :func:`choose` picks ``"brute"`` or ``"pruned"`` for ``"auto"``. Every
search records a :class:`SearchStats` (candidates per query, fallbacks, FLOPs
by part), collected by :func:`recording`: ``docs/knn-search.md`` reports them
per step of the chapter.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass, field

import numpy as np

from gpuclf.errors import GpuclfError

ALGORITHMS = ("auto", "pruned", "brute")
#: Rows the pruned filter's PCA is fitted on (evenly spaced): enough for axes as tight as the whole set's.
PCA_ROWS = 8192


def default_components(n_features: int) -> int:
    """The pruned filter's dimension: an eighth of the features, a multiple of 16, 8 to 128."""
    return int(min(n_features, max(8, min(128, 16 * round(n_features / 128)))))


# -- statistics -----------------------------------------------------------------------------------
@dataclass
class SearchStats:
    """What one search did: candidates per query, fallbacks, FLOPs.

    Attributes
    ----------
    algorithm : str
        ``"brute"`` or ``"pruned"`` (what ``"auto"`` chose).
    n_queries, n_train, n_features, k : int
    n_components : int
        The filter's dimension (``n_features`` for brute force).
    exact : bool
        Whether the data were exact (integers: the fast digit path).
    candidates : numpy int64 array of shape (n_queries,)
        Rows whose exact distance was computed, per query: the seeds and the
        candidates (every row, for a fallback chunk).
    fallback_chunks, fallback_queries : int
        Chunks (and their queries) evaluated exhaustively.
    switched_queries : int
        Queries a pruned search handed to the brute filter (too many candidates to refine).
    flops : dict
        ``filter`` (the filter GEMM), ``refine`` (exact distances), ``projection``
        (features of rows and queries), ``pca`` (the covariance, when fitted here).
    """

    algorithm: str
    n_queries: int
    n_train: int
    n_features: int
    k: int
    n_components: int
    exact: bool = False
    candidates: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    fallback_chunks: int = 0
    fallback_queries: int = 0
    switched_queries: int = 0
    flops: dict = field(default_factory=lambda: {"filter": 0, "refine": 0, "projection": 0, "pca": 0})

    def add(self, part: SearchStats) -> None:
        """Count a part of this search (one chunk's FLOPs, fallbacks and switched queries) in it."""
        for key in self.flops:
            self.flops[key] += part.flops[key]
        self.fallback_chunks += part.fallback_chunks
        self.fallback_queries += part.fallback_queries
        self.switched_queries += part.switched_queries

    @property
    def brute_flops(self) -> int:
        """The GEMM FLOPs of a brute-force search of the same size: ``2 n_queries n_train n_features``."""
        return 2 * self.n_queries * self.n_train * self.n_features

    def summary(self) -> dict:
        """JSON-able figures: candidates per query (median, p90, max), fallbacks, FLOPs and their ratio to brute."""
        c = self.candidates
        total = sum(self.flops.values())
        return {
            "algorithm": self.algorithm, "queries": self.n_queries, "train_rows": self.n_train,
            "features": self.n_features, "k": self.k, "components": self.n_components, "exact": self.exact,
            "candidates_median": float(np.median(c)) if c.size else 0.0,
            "candidates_p90": float(np.percentile(c, 90)) if c.size else 0.0,
            "candidates_max": int(c.max()) if c.size else 0,
            "candidates_mean": float(c.mean()) if c.size else 0.0,
            "fallback_chunks": self.fallback_chunks, "fallback_queries": self.fallback_queries,
            "switched_queries": self.switched_queries,
            "flops": dict(self.flops), "flops_total": int(total),
            "flops_vs_brute": total / self.brute_flops if self.brute_flops else 0.0,
        }


_LOG: contextvars.ContextVar = contextvars.ContextVar("gpuclf_knn_search_log", default=None)


def log_search(stats: SearchStats) -> None:
    """Hand a finished search's statistics to the :func:`recording` block around it, if any."""
    log = _LOG.get()
    if log is not None:
        log.append(stats)


@contextlib.contextmanager
def recording():
    """Collect the :class:`SearchStats` of every search made inside the block (in this thread).

    Yields
    ------
    list of SearchStats
    """
    log = []
    token = _LOG.set(log)
    try:
        yield log
    finally:
        _LOG.reset(token)


# -- the algorithm ---------------------------------------------------------------------------------
def check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise GpuclfError(f"algorithm must be one of {', '.join(map(repr, ALGORITHMS))}, got {algorithm!r}")
    return algorithm


#: One exact distance (gathering a 784-value row, a small digit GEMM) costs as much as this many
#: (query, row) pairs of brute force's filter: ~5.5 us against ~60 ns a pair, measured in the
#: same process on two shared cores (full MNIST, cross-validation folds of 20,000 x 40,000).
REFINE_PAIRS_PER_CANDIDATE = 128
#: A host eigendecomposition of an f x f covariance, in FLOPs: 784 x 784 takes ~0.15 s on one core.
EIGH_FLOPS_PER_CUBE = 100


def expected_candidates(n_train: int, k: int, seed_blocks: int = 4) -> float:
    """Exact distances per query a pruned search makes on MNIST-like data: its seeds and ~40 more
    (2,000 to 10,000 queries against 8,000 to 300,000 rows, k = 4 or 5: 38 to 77 in all)."""
    return seed_blocks * k + 40 * max(1.0, n_train / 60_000) ** 0.25


def estimate_flops(algorithm: str, n_query: int, n_train: int, n_features: int, k: int,
                   build: bool = True) -> float:
    """A search's cost in float32 GEMM FLOPs: the filter, the exact distances, the pruned filter's build.

    brute: ``2 f`` a (query, row) pair. pruned: ``2 (d + 1)`` a pair; each exact distance
    :data:`REFINE_PAIRS_PER_CANDIDATE` brute pairs; the queries' projection ``2 f d`` each; with
    ``build``, the rows' projection ``2 f d`` each, the covariance of at most :data:`PCA_ROWS`
    rows ``2 f^2`` each and its eigendecomposition. The passes over the score matrix (the
    seeds' argmin, the mask) are the same for both and left out.
    """
    f, brute_pair = n_features, 2.0 * n_features
    if algorithm == "brute":
        return n_query * n_train * brute_pair
    d = default_components(f)
    cost = n_query * n_train * 2.0 * (d + 1)
    cost += n_query * min(n_train, expected_candidates(n_train, k)) * REFINE_PAIRS_PER_CANDIDATE * brute_pair
    cost += 2.0 * n_query * f * d
    if build:
        cost += 2.0 * n_train * f * d + 2.0 * min(n_train, PCA_ROWS) * f * f + EIGH_FLOPS_PER_CUBE * f ** 3
    return cost


def choose(algorithm: str, n_query: int, n_train: int, n_features: int, k: int, built: bool) -> str:
    """``"brute"`` or ``"pruned"``: the algorithm asked, or for ``"auto"`` the cheaper by :func:`estimate_flops`.

    ``"auto"`` keeps brute force for narrow data (fewer than 64 features: a filter of an eighth of
    them bounds little) and wherever the pruned search would not save a fifth; ``built``: the
    pruned filter exists already (or its projection was given), so only the queries are projected.
    """
    check_algorithm(algorithm)
    if algorithm != "auto":
        return algorithm
    if n_features < 64:
        return "brute"
    brute = estimate_flops("brute", n_query, n_train, n_features, k)
    pruned = estimate_flops("pruned", n_query, n_train, n_features, k, build=not built)
    return "pruned" if pruned < 0.8 * brute else "brute"
