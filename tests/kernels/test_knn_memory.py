"""The KNN memory budget bounds the working memory, measured (tracemalloc) and counted (chunk sizes).

NumPy reports its array buffers to :mod:`tracemalloc`, so the traced peak during a call is the
largest set of temporaries alive at once. Without the budget the neighbour search of these
sizes holds the whole (queries x training rows) distance matrix, many times the budget.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier as SkKNN

import gpuclf
from gpuclf.estimators import KNeighborsClassifier
from gpuclf.kernels import neighbors as nb
from gpuclf.kernels import topk
from gpuclf.chapter.exercises import PARAM_GRID
from traced_peak import extra_peak

N_TRAIN, N_QUERY, N_FEATURES = 3000, 900, 8


@pytest.fixture
def chunks(monkeypatch):
    """The (rows, columns, nbytes) of every score chunk the top-k selection receives."""
    seen = []
    real = topk.seeds

    def recording(d2, k, *args):
        seen.append((d2.shape[0], d2.shape[1], d2.nbytes))
        return real(d2, k, *args)

    monkeypatch.setattr(topk, "seeds", recording)
    return seen


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k", [3, 20])
@pytest.mark.parametrize("budget", [256 * 2**10, 2**20])
def test_peak_working_memory_stays_within_the_budget(dtype, k, budget):
    rng = np.random.default_rng(0)
    X_train = rng.random((N_TRAIN, N_FEATURES)).astype(dtype)
    X_query = rng.random((N_QUERY, N_FEATURES)).astype(dtype)
    full = N_QUERY * N_TRAIN * np.dtype(dtype).itemsize
    assert full >= 8 * budget  # unchunked, the distances alone would overrun the budget many times
    extra, (dist, ind) = extra_peak(lambda: nb.kneighbors(X_train, X_query, k, budget_bytes=budget))
    # Fixed costs besides the chunks: the squared training rows (for their norms) and a few vectors.
    fixed = X_train.nbytes + 64 * 2**10
    assert extra <= 1.1 * budget + fixed, f"peak {extra / budget:.2f}x the budget"
    ref_dist, ref_ind = nb.kneighbors(X_train, X_query, k)
    np.testing.assert_array_equal(ind, ref_ind)
    # float32 GEMMs block differently with the chunk's rows: equal to rounding.
    np.testing.assert_allclose(dist, ref_dist, atol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("k", [3, 20])
def test_chunks_respect_and_use_the_budget(chunks, k):
    """Every distance chunk fits the budget, the chunks cover the queries once, and the budget is used."""
    rng = np.random.default_rng(1)
    X_train, X_query = rng.random((N_TRAIN, N_FEATURES)), rng.random((N_QUERY, N_FEATURES))
    budget = 2**20
    nb.kneighbors(X_train, X_query, k, budget_bytes=budget)
    rows = [r for r, _, _ in chunks]
    assert sum(rows) == N_QUERY and all(c == N_TRAIN for _, c, _ in chunks)
    assert all(nbytes <= budget for _, _, nbytes in chunks)
    # Not one query at a time either: all chunks but the last are the same, largest size that fits.
    assert len(set(rows[:-1])) <= 1 and rows[-1] <= rows[0]
    # The budget holds what the search keeps besides its working memory: the rows' float64 norms and the brute
    # filter's (8 + 8 bytes a row), the queries' norms and candidate counts and the outputs (16 + 16 k a query).
    work = budget - (N_TRAIN * (8 + 8) + N_QUERY * (16 + 16 * k))
    # Three quarters of the working memory (a quarter is the exact distances'): per pair the score, the candidate
    # mask and list (4 bytes), and for k = 20 argpartition's indices and tie repair (3 x 8 + 24 bytes; k = 3
    # takes argmin passes); per query its digits and features, and its k seeds (32 bytes each).
    per_pair = 8 + 4 + (0 if k == 3 else 48)
    assert rows[0] == (work - work // 4) // (N_TRAIN * per_pair + N_FEATURES * (16 + 8) + 32 * k)
    assert len(rows) == math.ceil(N_QUERY / rows[0])


def test_estimator_hands_its_budget_to_the_search(chunks):
    rng = np.random.default_rng(2)
    X, y = rng.random((N_TRAIN, N_FEATURES)), rng.integers(0, 3, N_TRAIN)
    X_query = rng.random((N_QUERY, N_FEATURES))
    budget = 512 * 2**10
    got = KNeighborsClassifier(n_neighbors=4, budget_bytes=budget).fit(X, y).predict(X_query)
    assert len(chunks) > 1 and max(nbytes for _, _, nbytes in chunks) <= budget
    np.testing.assert_array_equal(got, SkKNN(n_neighbors=4).fit(X, y).predict(X_query))


def test_multioutput_vote_runs_in_chunks_within_the_budget(monkeypatch):
    """The per-pixel vote (the book's denoiser) gathers (rows, k, outputs) labels a chunk of rows at a time."""
    rng = np.random.default_rng(3)
    n_outputs, k, budget = 64, 5, 256 * 2**10
    X, Y = rng.random((1500, N_FEATURES)), rng.integers(0, 4, (1500, n_outputs))
    X_query = rng.random((800, N_FEATURES))
    gathered = []
    real = nb.neighbor_mode

    def recording(values, weights=None):
        gathered.append(values.shape)
        return real(values, weights)

    monkeypatch.setattr(nb, "neighbor_mode", recording)
    got = KNeighborsClassifier(n_neighbors=k, budget_bytes=budget).fit(X, Y).predict(X_query)
    assert sum(s[0] for s in gathered) == len(X_query) and len(gathered) > 1
    # The chunk's int64 labels plus the vote's working copies stay within the budget.
    assert all(rows * k * n_outputs * 8 * 3 <= budget for rows, _, _ in gathered)
    np.testing.assert_array_equal(got, SkKNN(n_neighbors=k).fit(X, Y).predict(X_query))


def test_grid_search_searches_within_the_backends_budget(chunks):
    rng = np.random.default_rng(4)
    X, y = rng.random((1200, N_FEATURES)), rng.integers(0, 3, 1200)
    budget = 128 * 2**10
    backend = gpuclf.get_backend("numpy", budget_bytes=budget)
    search = backend.grid_search(backend.estimator("knn"), PARAM_GRID, X, y, cv=3)
    assert len(chunks) > 3 and max(nbytes for _, _, nbytes in chunks) <= budget
    reference = GridSearchCV(SkKNN(), PARAM_GRID, cv=3).fit(X, y)
    np.testing.assert_allclose(search["mean_test_score"], reference.cv_results_["mean_test_score"], atol=1e-12)
