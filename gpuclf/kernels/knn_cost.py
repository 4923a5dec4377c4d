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
    flops: dict = field(default_factory=lambda: {"filter": 0, "refine": 0, "projection": 0, "pca": 0})

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
            "flops": dict(self.flops), "flops_total": int(total),
            "flops_vs_brute": total / self.brute_flops if self.brute_flops else 0.0,
        }


_LOG: contextvars.ContextVar = contextvars.ContextVar("gpuclf_knn_search_log", default=None)


def log_search(stats: "SearchStats") -> None:
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


#: A pass over a float32 score matrix costs about this many float32 GEMM FLOPs per pair (two
#: shared cores: ~8 ms per 6e7-pair pass against ~350 GFLOP/s).
PASS_FLOPS = 40.0
#: Gathering one candidate feature and converting it, against the GEMM's rate (measured ~1 us per
#: 784-feature candidate on two shared cores).
CANDIDATE_FLOPS_PER_FEATURE = 300.0
#: The host's 784 x 784 eigendecomposition (~0.15 s), in GEMM FLOPs.
PCA_EIGH_FLOPS = 5e10


def estimate_flops(algorithm: str, n_query: int, n_train: int, n_features: int, k: int,
                   candidates_per_query: float | None = None, build: bool = True, digits: int = 2) -> float:
    """The cost model: FLOPs plus the per-pair memory passes, in FLOP-equivalents.

    Each (query, row) pair costs its GEMM (``2 f`` or ``2 d``) and about
    ``3 + k`` passes over the score matrix (the add of the norms, ``k``
    argmin passes, the candidate mask), counted as :data:`PASS_FLOPS` each; a
    pruned candidate costs its gather and its digit GEMM
    (:data:`CANDIDATE_FLOPS_PER_FEATURE` per feature); building the filter
    costs a covariance on at most :data:`PCA_ROWS` rows and a projection of every row.
    """
    passes = (3 + k) * PASS_FLOPS
    if algorithm == "brute":
        return n_query * n_train * (2.0 * n_features + passes)
    d = default_components(n_features)
    if candidates_per_query is None:
        candidates_per_query = min(n_train, 48 + 12 * k) * max(1.0, (n_train / 60_000) ** 0.5)
    cost = n_query * n_train * (2.0 * d + passes)
    cost += n_query * candidates_per_query * n_features * (CANDIDATE_FLOPS_PER_FEATURE + 2 * digits)
    cost += 2.0 * (n_query + (n_train if build else 0)) * n_features * d
    if build:
        cost += 2.0 * min(n_train, PCA_ROWS) * n_features ** 2 + PCA_EIGH_FLOPS
    return cost


def choose(algorithm: str, n_query: int, n_train: int, n_features: int, k: int, built: bool) -> str:
    """``"brute"`` or ``"pruned"``: the algorithm asked, or for ``"auto"`` the cheaper by :func:`estimate_flops`."""
    check_algorithm(algorithm)
    if algorithm != "auto":
        return algorithm
    if n_features < 32 or 4 * k > n_train:
        return "brute"
    brute = estimate_flops("brute", n_query, n_train, n_features, k)
    pruned = estimate_flops("pruned", n_query, n_train, n_features, k, build=not built)
    return "pruned" if pruned < 0.8 * brute else "brute"
