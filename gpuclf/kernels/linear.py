"""Batched hinge-loss SGD: many binary linear models trained in one loop.

All models share the features ``X`` and one shuffled sample order per epoch;
each has its own labels and its own sample mask, so every cross-validation
fold x every one-vs-rest class trains at once, and each mini-batch is two
matrix products, ``Xb @ W`` and ``Xb.T @ R``, whatever the number of models.

Learning rate versus scikit-learn
---------------------------------
``SGDClassifier(learning_rate="optimal")`` updates after every sample with
``eta_t = 1 / (alpha * (t0 + t - 1))`` (``t`` = samples seen, from 1;
``t0 = 1 / (alpha * eta_0)`` with ``eta_0 = alpha ** -0.25``, the heuristic of
``_sgd_fast.pyx``). Its L2 shrink factors ``1 - alpha * eta_t`` telescope, so
``B`` per-sample steps from ``t`` to ``t + B`` amount to::

    W <- W * (t0 + t - 1) / (t0 + t + B - 1) + sum_s y_s x_s active_s / (alpha * (t0 + t + B - 1))

that is one step of ``B * eta_{t+B}`` on the batch's mean gradient. That step
is taken once per mini-batch, with the hinge activity of the whole batch
computed from the weights at its start; on the same sample order, this
staleness is the only difference from scikit-learn (the intercept, not shrunk,
gets the exact per-sample sum of ``eta_s y_s active_s``), and with
``batch_size=1`` the two agree to rounding. Per-sample steps would be ``n``
dependent vector updates per epoch, far too many kernel launches for a GPU.
``t`` counts each model's own (unmasked) samples, as if it trained alone.

scikit-learn stops when the epoch's training loss stops improving, which
needs a host sync and, on raw MNIST pixels, 130-240 epochs whose last
per-sample iterate stays noisy (its 5-detector accuracy moves by about 1 pp
with the seed). Here a fixed, small number of epochs runs and the weights are
averaged over the batches of every epoch after the first (ASGD): steadier
than a last iterate, and the first epoch is left out because its weights,
driven by the largest learning rates, would dominate the average.
"""
from __future__ import annotations

import numpy as np

from gpuclf.xp import get_namespace


def optimal_t0(alpha: float) -> float:
    """Offset ``t0`` of scikit-learn's 'optimal' schedule for the hinge loss.

    Parameters
    ----------
    alpha : float
        L2 penalty.

    Returns
    -------
    float
        ``1 / (alpha * eta_0)`` with ``eta_0 = alpha ** -0.25``, so that the
        first sample is learned with ``eta_0``.
    """
    # sklearn: typw = sqrt(1/sqrt(alpha)); eta_0 = typw / max(1, -dloss(1, -typw)),
    # and the hinge gradient there is -1.
    eta_0 = np.sqrt(1.0 / np.sqrt(alpha))
    return 1.0 / (eta_0 * alpha)


def fit_hinge_sgd(X, Y, sample_mask, *, alpha=1e-4, max_iter=5, batch_size=512,
                  average_after=1, random_state=42):
    """Train ``m`` L2-regularized hinge-loss linear models at once by mini-batch SGD.

    Parameters
    ----------
    X : array of shape (n, d), float
        Features shared by all models (NumPy or CuPy).
    Y : array of shape (n, m)
        Labels in {-1, +1}, one column per binary model.
    sample_mask : array of shape (n, m)
        1 where the sample trains that model, 0 where it is held out.
    alpha : float, default=1e-4
        L2 penalty, as scikit-learn's ``SGDClassifier``.
    max_iter : int, default=5
        Epochs (passes over the data); always all of them.
    batch_size : int, default=512
        Rows per mini-batch (shared by all models).
    average_after : int or None, default=1
        Epochs after which the weights are averaged over batches (ASGD);
        None, or not less than ``max_iter``, returns the last weights.
    random_state : int, default=42
        Seed of the host generator that draws one sample order per epoch.

    Returns
    -------
    coef : array of shape (d, m)
    intercept : array of shape (m,)
        In the namespace and float dtype of ``X``.
    """
    xp = get_namespace(X, Y, sample_mask)
    n, d = X.shape
    m = Y.shape[1]
    dtype = X.dtype
    t0 = optimal_t0(alpha)
    rng = np.random.default_rng(random_state)
    starts = np.arange(0, n, batch_size)
    ends = np.minimum(starts + batch_size, n)
    averaging = average_after is not None and average_after < max_iter

    W = xp.zeros((d, m), dtype=dtype)
    b = xp.zeros(m, dtype=dtype)
    W_sum = xp.zeros((d, m), dtype=dtype)
    b_sum = xp.zeros(m, dtype=dtype)
    M = sample_mask.astype(dtype)
    YM = Y.astype(dtype) * M  # y where the sample trains the model, 0 where held out
    seen = xp.zeros(m, dtype=xp.float64)  # samples each model has trained on
    for epoch in range(max_iter):
        order = xp.asarray(rng.permutation(n))
        # One gather per epoch; the batches are then contiguous views.
        Xp, Mp, YMp = X[order], M[order], YM[order]
        # Each row's rank among its model's samples fixes its eta; the shrink
        # and gain of every batch follow. All precomputed: no host sync below.
        t_row = seen + xp.cumsum(Mp, axis=0, dtype=xp.float64)
        eta = (1.0 / (alpha * (t0 + t_row - Mp))).astype(dtype)
        t_end = t_row[xp.asarray(ends - 1)]
        t_start = xp.concatenate([seen[None, :], t_end[:-1]])
        # max() keeps shrink and gain finite and >= 0 where t0 <= 1 (alpha >= 1),
        # as scikit-learn clips its shrink factor at 0.
        den = t0 + xp.maximum(t_end - 1, 0)
        shrink = (xp.maximum(t0 + t_start - 1, 0) / den).astype(dtype)
        gain = (1.0 / (alpha * den)).astype(dtype)
        count = (t_end - t_start).astype(dtype)
        average_now = averaging and epoch >= average_after
        if averaging and epoch == average_after:
            seen_before_average = seen
        for k, (lo, hi) in enumerate(zip(starts.tolist(), ends.tolist())):
            Xb, YMb = Xp[lo:hi], YMp[lo:hi]
            R = ((Xb @ W + b) * YMb < 1) * YMb  # y where the hinge is active
            W = W * shrink[k] + (Xb.T @ R) * gain[k]
            b = b + (eta[lo:hi] * R).sum(axis=0)
            if average_now:  # weighted by the samples each model saw in the batch
                W_sum += W * count[k]
                b_sum += b * count[k]
        seen = t_end[-1]
    if not averaging:
        return W, b
    total = xp.maximum(seen - seen_before_average, 1).astype(dtype)
    return W_sum / total, b_sum / total


def decision_function(X, coef, intercept):
    """Signed distances ``X @ coef + intercept``.

    Parameters
    ----------
    X : array of shape (n, d)
    coef : array of shape (d, m)
    intercept : array of shape (m,)

    Returns
    -------
    array of shape (n, m)
    """
    return X @ coef + intercept
