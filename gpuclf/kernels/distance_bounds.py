"""Lower bounds on squared distances by one GEMM, with a rounding margin that is proven, not guessed.

A filter maps rows to features ``f(x)`` with ``||f(q) - f(x)||^2 <= s ||q - x||^2``
for a known ``s``. Two filters:

- :class:`IdentityFilter` (brute force): ``f(x) = x``, ``s = 1``;
- :class:`ProjectionFilter` (pruned search): ``f(x) = V (x - mu)`` for the top
  ``d`` principal axes ``V`` of the training set, ``s = ||V||_2^2`` (computed,
  so the bound holds for any ``V``: an orthonormal one gives ``s = 1``, and
  one PCA serves every cross-validation fold of the same data).

For a chunk of queries the filter computes, in the features' dtype,
``g_ij = fl(sum_t (-2 f_t(q_i)) f_t(x_j) + w_j)``, with ``w_j = fl(||f(x_j)||^2)``:
the squared distance between features minus the query's own ``||f(q_i)||^2``,
a per-query constant, so a row's ``g`` orders the rows as the features'
distance does. The projection stores ``w`` as one more feature (and the
queries a 1), so its ``g`` is one GEMM of length ``d + 1``; the identity adds
``w`` after its GEMM (a copy of the rows with one more column would double
their memory).

The margin
----------
Let ``c_ij`` be row ``j``'s squared distance
(:mod:`gpuclf.kernels.exact_distances`) and ``tau_i`` an upper bound on the
``k``-th smallest ``c_ij`` (the ``k``-th of ``k`` candidates already
evaluated). :meth:`threshold` returns ``T_i`` such that ``g_ij > T_i`` proves
``c_ij > tau_i``: that row cannot be among the ``k`` nearest, not even by a tie.
With ``u`` the unit roundoff of the features' dtype, ``a = ||f(q)||``,
``b = ||f(x)||``, ``R = max_j b``:

1. ``c`` is within ``gamma_{n+2}(2^-53) e`` of the exact ``e = ||q - x||^2``
   (no error at all on integer data), so ``c <= tau`` implies ``e <= tau+``.
2. The features are computed (float64 GEMM, then rounded to the features'
   dtype) within ``rho(x)`` of ``V (x - mu)`` in norm, so
   ``||f(q) - f(x)|| <= sqrt(s tau+) + rho(q) + rho_max =: r``.
3. A dot product of length ``d + 1`` has error at most
   ``gamma_{d+1}(u) sum |terms| <= gamma_{d+1}(u) (2ab + w)`` in any summation
   order, blocked or with FMA (Higham, *Accuracy and Stability of Numerical
   Algorithms*, 2nd ed., eq. 3.5); ``w`` is within ``(u + gamma_d(2^-53)) b^2``
   of ``b^2``; the identity's separate add rounds once more (``u |S + w|``). In all,
   ``g_ij <= ||f(q) - f(x)||^2 - a^2 + eta (a + R)^2`` with
   ``eta = gamma_{d+1}(u) + gamma_d(2^-53) + 4u``, plus ``2^-9`` where CuPy rounds float32 inputs to
   TF32 (:func:`~gpuclf.kernels.exact_distances.gemm_input_bits`; no bound at all in half precision).
4. Hence ``c_ij <= tau_i`` implies ``g_ij <= r^2 - a^2 + eta (a + R)^2``; ``T_i`` is
   that value computed in float64, enlarged by a relative ``max(2^-40, 4 gamma_{d+8}(2^-53))``
   (far more than the float64 roundings made computing it and the norms) and rounded
   *up* to the features' dtype. The comparison ``g > T`` is then exact.

The margin is a few ten-thousandths of the distance in float32 for 784
pixels, where the rows it lets through are near-ties of the ``k``-th
neighbour; for the projection it is smaller still (``d`` terms).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gpuclf.kernels import chunk_runs
from gpuclf.kernels.chunking import GEMM_STREAM_BYTES, stream_rows
from gpuclf.kernels.exact_distances import gemm_input_bits, sq_norms
from gpuclf.kernels.knn_cost import PCA_ROWS
from gpuclf.xp import get_namespace, to_host

_U64 = 2.0 ** -53
_SLACK = 2.0 ** -40


def unit_roundoff(dtype) -> float:
    """Half the machine epsilon: the relative error of one rounding to nearest in ``dtype``."""
    return float(np.finfo(dtype).eps) / 2


def gamma(n: int, u: float) -> float:
    """Higham's ``gamma_n = n u / (1 - n u)``: the error factor of ``n`` successive roundings."""
    nu = n * u
    if nu >= 0.5:
        return math.inf
    return nu / (1 - nu)


def _round_up(values64, dtype):
    """The smallest ``dtype`` values not below the float64 ``values64`` (element-wise)."""
    xp = get_namespace(values64)
    out = values64.astype(dtype)
    below = out.astype(xp.float64) < values64
    return xp.where(below, xp.nextafter(out, xp.asarray(np.inf, dtype=dtype)), out)


def _top_eigenvalue(M) -> float:
    """An upper bound on ``||M||_2^2``: the top eigenvalue of ``M M^T`` plus its rounding errors.

    The float64 Gram matrix errs by at most ``gamma_f(2^-53) ||M||_F^2`` in norm and
    LAPACK's symmetric eigensolver by a small multiple of ``2^-53 ||M M^T||``; the
    margin added covers both many times over (a ``d x d`` problem, on one thread:
    threads only wait on a busy machine, as for the PCA's own ``eigh``).
    """
    if M.size == 0:
        return 0.0
    with chunk_runs.single_blas_thread():
        gram = M @ M.T
        top = float(np.linalg.eigvalsh(gram)[-1])
    frobenius_sq = float(np.sum(M * M))
    return top + (gamma(M.shape[1], _U64) + 64 * M.shape[0] * _U64) * frobenius_sq * 2 + _SLACK * top


@dataclass(frozen=True)
class Projection:
    """A fixed linear map ``x -> V (x - mu)`` to ``d`` features, as a pruned search's filter uses it.

    The map applied is ``mean`` and ``components`` rounded to the data's
    dtype; the constants of its bound are computed from those rounded values,
    so the bound holds for them exactly, orthonormal or not.

    Attributes
    ----------
    mean : float64 array of shape (n_features,)
    components : float64 array of shape (d, n_features)
    """

    mean: object
    components: object
    _cast: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def n_components(self) -> int:
        return int(self.components.shape[0])

    @classmethod
    def fit(cls, X, n_components: int, budget_bytes: int | None = None, max_rows: int = PCA_ROWS):
        """The top principal axes of ``X``, fitted on at most ``max_rows`` evenly spaced rows.

        Any map gives a valid bound; a subsample's axes are nearly as tight as
        the whole set's at a fraction of the covariance's cost.
        """
        from gpuclf.kernels.pca import pca_fit

        xp = get_namespace(X)
        step = max(1, -(-X.shape[0] // max_rows))
        mean, components, _ = pca_fit(X[::step], min(int(n_components), X.shape[1]), budget_bytes)
        return cls(mean.astype(xp.float64), components.astype(xp.float64))

    def in_dtype(self, dtype):
        """``(mean, components, s, a)`` in ``dtype``: ``s = ||V||_2^2`` and ``a = || |V| ||_2``, rounded up."""
        dtype = np.dtype(dtype)
        if dtype not in self._cast:
            V = self.components.astype(dtype)
            host = to_host(V).astype(np.float64)
            s, a = _top_eigenvalue(host), _top_eigenvalue(np.abs(host))
            self._cast[dtype] = (self.mean.astype(dtype), V, s, math.sqrt(a))
        return self._cast[dtype]

    def sq_norm(self, dtype) -> float:
        """``s`` of the bound ``||V z||^2 <= s ||z||^2`` for the map in ``dtype``."""
        return self.in_dtype(dtype)[2]

    def apply(self, X, dtype, budget_bytes: int | None = None):
        """Features ``V (x - mu)`` of each row, computed in ``dtype``, and each row's error bound ``rho``.

        Returns
        -------
        features : array of shape (n, d), ``dtype``
        rho : float64 array of shape (n,)
            ``||features - V (x - mu)||`` is at most ``rho``: the centring rounds
            each entry once and the GEMM's dot products err by at most
            ``gamma_f(u) sum_t |V_rt| |y_t|``, so the error vector's norm is at most
            ``gamma_{f+1}(u) || |V| ||_2 ||x - mu||`` (step 2 of the module docstring).
        """
        xp = get_namespace(X)
        n, f = X.shape
        mean, V, _, abs_norm = self.in_dtype(dtype)
        u = unit_roundoff(dtype)
        features = xp.empty((n, self.n_components), dtype=dtype)
        centred_sq = xp.empty(n, dtype=xp.float64)
        per_row = np.dtype(dtype).itemsize * 2 * (f + self.n_components)
        rows = stream_rows(per_row, budget_bytes, n, cap=GEMM_STREAM_BYTES)
        n_workers = chunk_runs.workers(xp, -(-n // rows), n * f)
        if n_workers > 1:  # NumPy: blocks side by side (their centring and squares on every core), each its share
            rows = stream_rows(per_row, None if budget_bytes is None else budget_bytes // n_workers, n,
                               cap=GEMM_STREAM_BYTES)

        def block(start, _):
            centred = X[start:start + rows].astype(dtype, copy=False) - mean
            features[start:start + rows] = centred @ V.T
            centred *= centred
            centred_sq[start:start + rows] = xp.sum(centred, axis=1)

        chunk_runs.map_in_order(block, range(0, n, rows), n_workers, lambda: None)
        # ||x - mu|| <= ||fl(x - mu)|| / (1 - u); the squares and their sum erred by at most gamma_{f+1}(u).
        centred_norm = xp.sqrt(centred_sq / (1 - gamma(f + 1, u))) / (1 - u)
        return features, (gamma(f + 1, u) * abs_norm * 1.01) * centred_norm


class _Filter:
    """What both filters share: the training features, their norms, and the threshold."""

    def __init__(self, features, rho_max: float, sq_norm: float, xp, sq=None, budget_bytes: int | None = None):
        self.features = features
        self.dtype = np.dtype(features.dtype)
        self.xp = xp
        sq = sq_norms(features, budget_bytes) if sq is None else sq
        self.w = xp.minimum(sq, float(np.finfo(self.dtype).max)).astype(self.dtype)  # huge rows: see finite_scores
        self.R = math.sqrt(float(xp.max(sq))) * (1 + 2 * _SLACK + 4 * gamma(features.shape[1] + 8, _U64)) \
            if sq.shape[0] else 0.0
        # Every score is finite (no overflow, so no inf - inf) while the features' and the queries'
        # norms stay below this: |g| <= 2 a R + R^2, far below the dtype's largest value.
        self.finite_norm = math.sqrt(float(np.finfo(self.dtype).max)) / 8
        self.rho_max = float(rho_max)
        self.s = float(sq_norm)
        d = features.shape[1]
        u = unit_roundoff(self.dtype)
        # Relative slack that covers the float64 roundings of the norms and of the threshold itself.
        self.slack = max(_SLACK, 4 * gamma(d + 8, _U64))
        # A product of two inputs rounded to b significant bits errs by under 2^(2-b) (2^-9 for TF32).
        bits = gemm_input_bits(xp) if self.dtype == np.float32 else 53
        product = 0.0 if bits >= 24 else (2.0 ** (2 - bits) if bits > 0 else math.inf)
        self.eta = (product * 1.01 + gamma(d + 1, u) + gamma(d, _U64) + 4 * u) * (1 + self.slack)
        self.d = d

    def query(self, Q):
        """``(features, rho)`` of a chunk of queries."""
        raise NotImplementedError

    def finite_scores(self, Fq) -> bool:
        """Whether every score of these queries is finite (no overflow anywhere in the GEMM)."""
        xp = self.xp
        a = math.sqrt(float(xp.max(xp.sum(Fq.astype(xp.float64) ** 2, axis=1)))) if Fq.shape[0] else 0.0
        return max(a, self.R) < self.finite_norm

    def scores(self, Fq, out=None):
        """``g``: (m, n) in the features' dtype (module docstring), one GEMM and one add.

        ``out``, an (m, n) C-contiguous array of that dtype, receives it: a search reuses one buffer for
        all its chunks (a fresh one is a fresh mapping of memory, whose first touch costs a fifth of the
        GEMM on a CPU). Its values are any GEMM's: the bound holds for every order of the sums."""
        g = self.xp.matmul(Fq * -2, self.features.T, out=out)  # -2 is a power of two: exact scaling
        g += self.w
        return g

    @property
    def n_rows(self) -> int:
        return int(self.features.shape[0])

    def threshold(self, tau, Fq, rho_q, c_relative_error: float):
        """``T`` per query: ``g > T`` proves ``c > tau`` (module docstring, steps 1-4).

        Parameters
        ----------
        tau : float64 array of shape (m,)
        Fq : array of shape (m, d)
            The queries' features.
        rho_q : float64 array of shape (m,)
        c_relative_error : float
            Bound on ``|c - e| / e`` (0 on exact data).

        Returns
        -------
        array of shape (m,), the features' dtype
        """
        xp = self.xp
        a2 = xp.sum(Fq.astype(xp.float64) ** 2, axis=1)
        a = xp.sqrt(a2) * (1 + self.slack)
        tau_plus = tau / (1 - c_relative_error) if c_relative_error else tau
        r = xp.sqrt(self.s * tau_plus) + rho_q + self.rho_max
        T = (r * r + self.eta * (a + self.R) ** 2) * (1 + self.slack) - a2 * (1 - self.slack)
        return _round_up(T, self.dtype)


class IdentityFilter(_Filter):
    """Brute force: the rows themselves (``s = 1``, no rounding of the features)."""

    name = "brute"
    #: Seeds: the k smallest scores (k argmin passes). The scores are the distances but for
    #: a rounding, so those k are the k nearest or nearly: about k exact distances in all.
    seed_blocks_per_k = 0

    def __init__(self, X, sq=None):
        """``sq``: the rows' float64 squared norms, where already computed (:func:`~gpuclf.kernels.exact_distances.sq_norms`)."""
        super().__init__(X, 0.0, 1.0, get_namespace(X), sq)

    def query(self, Q):
        xp = self.xp
        return Q, xp.zeros(Q.shape[0], dtype=xp.float64)


class ProjectionFilter(_Filter):
    """The pruned search's filter: a :class:`Projection` of the rows, in the rows' float dtype."""

    name = "pruned"
    #: Seeds: the minimum of each of 4 k blocks of rows (one pass). The bound is loose, so the
    #: k smallest scores are not the k nearest; the k-th of 4 k exact distances is a tighter tau.
    seed_blocks_per_k = 4

    def __init__(self, X, projection: Projection, budget_bytes: int | None = None):
        self.projection = projection
        self.budget_bytes = budget_bytes
        features, rho = projection.apply(X, X.dtype, budget_bytes)
        xp = get_namespace(X)
        super().__init__(features, float(xp.max(rho)) if rho.shape[0] else 0.0, projection.sq_norm(X.dtype), xp,
                         budget_bytes=budget_bytes)
        # [f(x), w], stored transposed: the GEMM adds w itself, and a (d + 1, n) C-contiguous right-hand side
        # keeps OpenBLAS's GEMM fast for chunks of a few hundred queries (a fifth faster at 128 queries
        # against 300,000 rows than the (n, d + 1) rows transposed). The rows' features are only needed so.
        self.features_t = xp.empty((features.shape[1] + 1, features.shape[0]), dtype=self.dtype)
        self.features_t[:-1] = features.T
        self.features_t[-1] = self.w
        del self.features

    def query(self, Q):
        return self.projection.apply(Q, self.dtype, self.budget_bytes)

    def scores(self, Fq, out=None):
        xp = self.xp
        lhs = xp.empty((Fq.shape[0], self.d + 1), dtype=self.dtype)
        lhs[:, :self.d] = Fq * -2
        lhs[:, self.d] = 1
        return xp.matmul(lhs, self.features_t, out=out)

    @property
    def n_rows(self) -> int:
        return int(self.features_t.shape[1])
