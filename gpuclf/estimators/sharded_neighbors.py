"""KNN whose training set is split by rows across the workers of a Dask cluster.

:class:`ShardedKNeighborsClassifier` is :class:`~gpuclf.estimators.neighbors.KNeighborsClassifier`
(same parameters, validation, votes and outputs) with one change: with a
``client``, ``fit`` cuts the training rows into contiguous shards, at least
one per worker and each at most ``shard_bytes``, and sends each to one worker
once, where it stays (on the worker's GPU with dask-cuda). A query is then
searched on every shard at once, each worker returning only its exact local
top-k (n_query x k, by the exact squared distance of
:mod:`gpuclf.kernels.exact_distances`, which does not depend on how rows are
grouped), and :func:`~gpuclf.kernels.knn_merge.merge_topk` merges them in the
unsharded order: the same neighbours, indices and distances, bit for bit.
With ``algorithm="pruned"`` one PCA of the whole training set, fitted here,
filters every shard. A training set larger than one device's
memory is searched without ever being on one device. Labels and votes stay
here: they are small.
"""
from __future__ import annotations

import math

from ..kernels import neighbors
from ..kernels.knn_merge import merge_topk
from ..kernels.pruned_neighbors import fit_projection
from ..xp import get_namespace
from .neighbors import KNeighborsClassifier
from .validation import check_fitted, check_n_neighbors, validate_X


class ShardedKNeighborsClassifier(KNeighborsClassifier):
    """Brute-force KNN over a training set sharded across Dask workers.

    Parameters
    ----------
    n_neighbors, weights, budget_bytes, algorithm, projection
        As :class:`~gpuclf.estimators.neighbors.KNeighborsClassifier`
        (``budget_bytes``: working memory of one query chunk on a worker).
    scheduler : str, optional
        The Dask scheduler's address (``client.scheduler.address``); None:
        exactly the unsharded estimator. An address, not a Client, so that
        ``sklearn.base.clone`` can copy the estimator.
    shard_bytes : int, optional
        Largest shard of training rows, in bytes (default: the rows split
        evenly, one shard per worker).

    Attributes
    ----------
    n_shards_ : int
        Shards the training rows were cut into (1 without a client).
    shard_workers_ : list of str
        The worker holding each shard.
    """

    def __init__(self, n_neighbors=5, weights="uniform", budget_bytes=None, algorithm="brute", projection=None,
                 scheduler=None, shard_bytes=None):
        super().__init__(n_neighbors=n_neighbors, weights=weights, budget_bytes=budget_bytes, algorithm=algorithm,
                         projection=projection)
        self.scheduler = scheduler
        self.shard_bytes = shard_bytes

    @property
    def _client(self):
        from ..dispatch import client_for

        return None if self.scheduler is None else client_for(self.scheduler)

    def fit(self, X, y):
        super().fit(X, y)
        self.n_shards_, self.shard_workers_, self._shards = 1, [], []
        client = self._client
        if client is None:
            return self
        self._shard_projection = self.projection
        if self.algorithm != "brute" and self.projection is None:  # one PCA filters every shard
            self._shard_projection = fit_projection(self._fit_X, budget_bytes=self.budget_bytes)
        workers = sorted(client.scheduler_info()["workers"])
        n = self._fit_X.shape[0]
        by_size = math.ceil(self._fit_X.nbytes / self.shard_bytes) if self.shard_bytes else 1
        n_shards = min(n, max(len(workers), by_size))
        bounds = [n * s // n_shards for s in range(n_shards + 1)]
        for s in range(n_shards):
            worker = workers[s % len(workers)]
            block = self._fit_X[bounds[s]:bounds[s + 1]]
            future = client.scatter(block, workers=[worker], hash=False)
            self._shards.append((bounds[s], future))
            self.shard_workers_.append(worker)
        self.n_shards_ = n_shards
        return self

    def kneighbors(self, X=None, n_neighbors=None, return_distance=True):
        client = self._client
        if client is None:
            return super().kneighbors(X, n_neighbors, return_distance)
        check_fitted(self)
        xp = get_namespace(self._fit_X)
        if X is None:
            query, exclude = self._fit_X, xp.arange(self._fit_X.shape[0])
        else:
            query = validate_X(self, X, reset=False, xp=xp).astype(self._fit_X.dtype, copy=False)
            exclude = None
        k = check_n_neighbors(self.n_neighbors if n_neighbors is None else n_neighbors, self._fit_X.shape[0],
                              query.shape[0], leave_one_out=exclude is not None)
        # Leave-one-out: one more per shard, then each query's own row is dropped in the merge.
        want = k + (exclude is not None)
        from ..dispatch import cluster_errors

        with cluster_errors():
            q = client.scatter(query, broadcast=True, hash=False)
            futures = [client.submit(_shard_topk, shard, q, want, offset, self.budget_bytes, self.algorithm,
                                     self._shard_projection, pure=False, retries=2)
                       for offset, shard in self._shards]
            parts = client.gather(futures)
        sq, indices = merge_topk([p[0] for p in parts], [p[1] for p in parts], k, exclude)
        distances = neighbors.sqrt_distances(sq, self._fit_X.dtype)
        return (distances, indices) if return_distance else indices


def _shard_topk(shard, query, k: int, offset: int, budget_bytes, algorithm: str = "brute", projection=None):
    """A worker's exact top-k on its shard: squared distances, and global row indices."""
    sq, i = neighbors.sq_kneighbors(shard, query, min(k, shard.shape[0]), budget_bytes=budget_bytes,
                                    algorithm=algorithm, projection=projection)
    return sq, i + offset
