"""One mini-batch of the batched hinge SGD: two GEMMs and four fused launches, no allocation.

Per batch, on CuPy::

    Z  = Xb @ W                    GEMM into a buffer
    R  = active(Z, b, YMb)         1 launch: y where (Z + b) * y <= 1, else 0 (scikit-learn's Hinge)
    G  = Xb.T @ R                  GEMM into a buffer
    W, W_sum = update(...)         1 launch: W = W * shrink + G * gain; W_sum += W * count
    g  = sum_rows(eta * R)         1 launch (a reduction): the intercept's gradient
    b, b_sum = update_b(...)       1 launch: b += g; b_sum += b * count

Written op by op (``(Xb @ W + b) * YMb <= 1``, ...) the same batch was about 15
launches, each allocating its result: ~9,000 launches per training and
~45,000 per run, which bound the GPU's time. The kernels are CuPy's
``ElementwiseKernel`` / ``ReductionKernel`` (compiled once per dtype); every
one has a NumPy twin in :data:`TWINS` with the same arithmetic, which the
NumPy path runs and the tests check against the CUDA kernels on a GPU.
On CUDA ``w * shrink + g * gain`` may be contracted into one fused
multiply-add and the reduction sums in another order than NumPy's, so GPU
and NumPy weights agree to float rounding, not bit for bit.
"""
from __future__ import annotations

import numpy as np

from .cuda import build, define

#: The four kernels of a batch, by name (arrays of rank 1 and 2).
_KERNELS = {k.name: k for k in (
    define("gpuclf_sgd_active", "T z, T b, T ym", "T r", "r = ((z + b) * ym <= (T)1) ? ym : (T)0"),
    define("gpuclf_sgd_update", "T g, T shrink, T gain, T count", "T w, T w_sum",
           "w = w * shrink + g * gain; w_sum += w * count"),
    define("gpuclf_sgd_intercept_grad", "T eta, T r", "T grad", "eta * r", reduce=("a + b", "grad = a", "0")),
    define("gpuclf_sgd_update_b", "T grad, T count", "T b, T b_sum", "b += grad; b_sum += b * count"),
)}


def _active(z, b, ym, r):
    # Active on the margin too: scikit-learn's Hinge(1.0).dloss is -y where p * y <= 1.
    np.copyto(r, np.where((z + b) * ym <= 1, ym, 0).astype(r.dtype, copy=False))
    return r


def _update(g, shrink, gain, count, w, w_sum):
    w *= shrink
    w += g * gain
    w_sum += w * count
    return w, w_sum


def _intercept_grad(eta, r, axis=None, out=None):
    return np.sum(eta * r, axis=axis, out=out)


def _update_b(grad, count, b, b_sum):
    b += grad
    b_sum += b * count
    return b, b_sum


#: The NumPy twin of each kernel, called as the kernel is (outputs last, or ``axis``/``out`` for the reduction).
TWINS = {"gpuclf_sgd_active": _active, "gpuclf_sgd_update": _update,
         "gpuclf_sgd_intercept_grad": _intercept_grad, "gpuclf_sgd_update_b": _update_b}


def kernels_for(xp) -> dict:
    """Kernels by name: CuPy's compiled ones, or the NumPy twins for a namespace without custom kernels."""
    if hasattr(xp, "ElementwiseKernel"):
        return {name: build(xp, kernel) for name, kernel in _KERNELS.items()}
    return TWINS


class BatchStep:
    """Buffers and kernels for the mini-batches of one :func:`~gpuclf.kernels.linear.fit_hinge_sgd` call.

    Parameters
    ----------
    xp : module
        NumPy or CuPy.
    batch : int
        Most rows per batch.
    d, m : int
        Features and models.
    dtype : dtype
        Float type of the weights.
    """

    def __init__(self, xp, batch: int, d: int, m: int, dtype):
        self.xp = xp
        self.k = kernels_for(xp)
        self._Z = xp.empty((batch, m), dtype=dtype)
        self._R = xp.empty((batch, m), dtype=dtype)
        self._G = xp.empty((d, m), dtype=dtype)
        self._grad = xp.empty(m, dtype=dtype)

    def step(self, Xb, YMb, eta_b, W, b, W_sum, b_sum, shrink, gain, count, loss=None, Mb=None):
        """Update ``W``, ``b`` and their running sums in place from one batch.

        Parameters
        ----------
        Xb : array of shape (k, d)
        YMb : array of shape (k, m)
            Labels where the row trains the model, 0 where held out.
        eta_b : array of shape (k, m)
            Each row's learning rate (for the intercept).
        W, b, W_sum, b_sum : arrays of shape (d, m) and (m,)
            Weights and their running sums, updated in place.
        shrink, gain, count : arrays of shape (m,)
            The batch's L2 shrink, gain and averaging weight (0: not averaging).
        loss : array of shape (m,), optional
            With ``Mb`` (the batch's sample mask): adds each model's hinge
            losses before the update, for the stopping rule (extra launches,
            only when ``tol`` is set).
        """
        k = Xb.shape[0]
        Z, R = self._Z[:k], self._R[:k]
        self.xp.matmul(Xb, W, out=Z)
        if loss is not None:  # held-out rows have YM = 0: margin 0, masked out by Mb
            loss += (self.xp.maximum(1 - (Z + b) * YMb, 0) * Mb).sum(axis=0)
        self.k["gpuclf_sgd_active"](Z, b, YMb, R)
        self.xp.matmul(Xb.T, R, out=self._G)
        self.k["gpuclf_sgd_update"](self._G, shrink, gain, count, W, W_sum)
        self.k["gpuclf_sgd_intercept_grad"](eta_b, R, axis=0, out=self._grad)
        self.k["gpuclf_sgd_update_b"](self._grad, count, b, b_sum)
