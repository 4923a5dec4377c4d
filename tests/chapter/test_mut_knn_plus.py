"""knn_plus's parts on a few dozen synthetic 28x28 images: labels, pixels, the PCA, the augmented search.

Each is checked against an independent reference: the strings of docs/knn-plus.md, scipy's integer shifts
with a brute-force NumPy search, scikit-learn's ``KNeighborsClassifier`` on the materialised augmented set,
:func:`~gpuclf.kernels.shifted_neighbors.search_cost`'s per-pair formula written out, and memory traced
with tracemalloc under a budget. The cross-validation (``_fold_scores``, ``_cross_validate``) is checked
against scikit-learn's PCA and ``KNeighborsClassifier`` fold by fold, with ``StratifiedKFold``'s folds. The
whole chapter step is in test_knn_plus.py; these run in well under a second each.
"""
from __future__ import annotations

import contextlib
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.ndimage import shift as nd_shift
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier

from gpuclf import RunConfig, get_backend
from gpuclf.chapter import Context, knn_plus
from gpuclf.chapter.knn_plus import (K_GRID, PREPROCESSING_GRID, WEIGHTS, Preprocessing, _cross_validate, _fold_scores,
                                     _projection, _Search, _seconds, pixels, unblurred)
from gpuclf.data import MnistData
from gpuclf.kernels import chunk_runs, knn_cost
from gpuclf.kernels.images import deskew, deskew_bytes_per_pixel, gaussian_blur
from gpuclf.kernels.shifted_neighbors import SHIFT_SETS, shifts_of

import fake_cupy
from traced_peak import extra_peak


def _images(n: int, seed: int, dtype=np.float32):
    """``n`` blobs of random ink inside the central 16x16 square (a margin of 6 pixels: shifts lose nothing)."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, 28, 28))
    X[:, 6:22, 6:22] = rng.integers(0, 256, size=(n, 16, 16))
    return X.reshape(n, 784).astype(dtype)


def _augmented_reference(train, shifts, transform):
    """The augmented features built image by image with scipy: block ``b`` holds every image shifted by
    ``shifts[b] = (dx, dy)`` (right, down), then mapped by ``transform``."""
    blocks = [np.array([nd_shift(x.reshape(28, 28), [dy, dx], order=0, mode="constant").ravel() for x in train])
              for dx, dy in shifts]
    return np.concatenate([transform(b.astype(train.dtype)) for b in blocks])


def _brute(features, query, k):
    """The ``k`` nearest rows of each query by float64 euclidean distance, ties by row (stable sort)."""
    d = np.sqrt(((query.astype(np.float64)[:, None, :] - features.astype(np.float64)[None]) ** 2).sum(-1))
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, idx, axis=1), idx


@pytest.fixture(scope="module")
def problem():
    """30 training images of 3 classes, 12 queries, a 6-component PCA fitted on the training pixels."""
    train, query = _images(30, 0), _images(12, 1)
    y = np.random.default_rng(2).integers(0, 3, size=30)
    transform = _projection(train, Preprocessing(False, 0.0, 6))
    return train, y, transform(query), transform


# -- Preprocessing.label -------------------------------------------------------------------------------------
def test_labels_are_the_reports_words():
    """The report's and docs/knn-plus.md's row names of the six variants, joined by `` + ``; a blur in
    ``:g`` pixels (``1 px``, not ``1.0 px``), none when 0."""
    assert [p.label() for p in PREPROCESSING_GRID] == [
        "raw pixels + PCA 50", "deskew + PCA 30", "deskew + PCA 50", "deskew + PCA 80",
        "deskew + blur 0.5 px + PCA 50", "deskew + blur 1 px + PCA 50"]
    assert Preprocessing(False, 2.0, 12).label() == "raw pixels + blur 2 px + PCA 12"


# -- pixels -------------------------------------------------------------------------------------------------
def test_unblurred_is_float32_and_deskews_only_when_asked():
    """uint8 pixels become float32 of the same values; ``deskewed=True`` gives the deskew kernel's images."""
    X = _images(8, 3, np.uint8)
    raw = unblurred(X, False)
    assert raw.dtype == np.float32
    assert_array_equal(raw, X.astype(np.float32))
    straight = unblurred(X, True)
    assert straight.dtype == np.float32
    assert_array_equal(straight, deskew(X.astype(np.float32)))
    assert not np.array_equal(straight, raw)


def test_float32_images_are_not_copied():
    """The kernel backends hold the training set in float32 already: without deskewing it is used as it is,
    not duplicated (60,000 x 784 x 4 bytes more on a device)."""
    X = _images(8, 4)
    assert np.shares_memory(unblurred(X, False), X)
    assert np.shares_memory(pixels(X, Preprocessing(False, 0.0, 50)), X)


def test_pixels_apply_the_blur_after_the_deskew():
    """``pixels`` = deskew, then the Gaussian blur of ``pre.blur`` (none for 0)."""
    X = _images(6, 5, np.uint8)
    assert_array_equal(pixels(X, Preprocessing(True, 0.0, 50)), deskew(X.astype(np.float32)))
    assert_array_equal(pixels(X, Preprocessing(True, 1.0, 50)), gaussian_blur(deskew(X.astype(np.float32)), 1.0))


def test_deskew_keeps_within_the_budget():
    """``budget_bytes`` reaches the deskew: 60 float32 images with room for 5 work within the budget (one chunk
    of all 60 would take 12 times more), through ``unblurred`` and ``pixels`` alike."""
    X = _images(60, 6)
    budget = 784 * deskew_bytes_per_pixel(np.float32) * 5
    assert extra_peak(lambda: unblurred(X, True, budget))[0] <= budget
    assert extra_peak(lambda: pixels(X, Preprocessing(True, 0.0, 50), budget))[0] <= budget
    assert extra_peak(lambda: unblurred(X, True))[0] > 4 * budget  # what the budget saves


def test_projection_keeps_within_the_budget():
    """``budget_bytes`` reaches the PCA fit: with 64 KiB the centred rows come in chunks, not as one copy of
    the 20,000 x 8 training rows (640 KB); the projection is the PCA's (scikit-learn's, up to signs)."""
    from sklearn.decomposition import PCA

    train = np.random.default_rng(7).normal(size=(20_000, 8)).astype(np.float32) * np.arange(1, 9)
    budget = 64 * 1024
    chunk_runs.blas_threads()  # threadpoolctl's one scan of the loaded libraries (the process's), made first
    peak, transform = extra_peak(lambda: _projection(train, Preprocessing(False, 0.0, 3), budget))
    assert peak < train.nbytes / 2
    assert extra_peak(lambda: _projection(train, Preprocessing(False, 0.0, 3)))[0] >= train.nbytes
    ref = PCA(3, svd_solver="full").fit(train.astype(np.float64)).transform(train[:50].astype(np.float64))
    assert_allclose(np.abs(transform(train[:50])), np.abs(ref), rtol=1e-3, atol=1e-3)
    # n_components above the features: every feature kept
    assert transform(train[:2]).shape == (2, 3)
    assert _projection(train, Preprocessing(False, 0.0, 50))(train[:2]).shape == (2, 8)


# -- the augmented search ------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["cpu", "numpy"])
def test_by_shift_set_finds_each_sets_nearest_rows(problem, backend):
    """``{set: (distances, indices)}`` for the sets asked: the ``k`` nearest rows among the set's prefix of the
    augmented rows (``block * n + image``), as a brute-force search of scipy-shifted images."""
    train, y, query, transform = problem
    sets = ("none", "book", "2px-axes")
    found = _Search(get_backend(backend)).by_shift_set(train, y, query, transform, 4, sets)
    assert set(found) == set(sets)
    features = _augmented_reference(train, shifts_of("2px-axes"), transform)
    for name in sets:
        d_ref, i_ref = _brute(features[:SHIFT_SETS[name] * len(train)], query, 4)
        distances, indices = (np.asarray(a) for a in found[name])
        assert_array_equal(indices, i_ref, err_msg=name)
        assert_allclose(distances, d_ref, rtol=1e-4, err_msg=name)


@pytest.mark.parametrize("backend", ["cpu", "numpy", "emulated_gpu"])
@pytest.mark.parametrize("shift_set,k,weights", [("book", 3, "distance"), ("1px", 1, "uniform"),
                                                  ("none", 7, "uniform")])
def test_predict_is_scikit_learns_knn_on_the_augmented_set(problem, backend, shift_set, k, weights):
    """Labels of the queries: scikit-learn's ``KNeighborsClassifier(k, weights)`` fitted on the scipy-shifted
    copies with the labels repeated per block; each setting's own ``k`` and weights matter on these data."""
    train, y, query, transform = problem
    features = _augmented_reference(train, shifts_of(shift_set), transform)
    labels = np.tile(y, SHIFT_SETS[shift_set])

    def sklearn(n_neighbors, w):
        return KNeighborsClassifier(n_neighbors, weights=w).fit(features, labels).predict(query)

    expected = sklearn(k, weights)
    # The data tell the settings apart: scikit-learn's default k (5), or the other weights, predict otherwise.
    assert not np.array_equal(expected, sklearn(5, weights))
    if weights == "distance":
        assert not np.array_equal(expected, sklearn(k, "uniform"))
    # emulated_gpu: the gpu backend on the emulated CuPy, which refuses what CuPy refuses (reshape(None)).
    with fake_cupy.installed() if backend == "emulated_gpu" else contextlib.nullcontext():
        search = _Search(get_backend(backend.removeprefix("emulated_")))
        on = search.backend.asarray
        if backend == "emulated_gpu":  # the map fitted on the device, as the step fits it
            transform = _projection(on(train), Preprocessing(False, 0.0, 6))
            query = transform(on(_images(12, 1)))
        pred = search.backend.to_host(search.predict(on(train), on(y), on(query), transform, shift_set, k, weights))
    assert_array_equal(np.asarray(pred), expected)


def test_cpu_backend_uses_scikit_learn_and_kernel_backends_never_materialise(problem, monkeypatch):
    """The module's placement: on the cpu backend the neighbours are scikit-learn's ``KNeighborsClassifier``
    (fitted on the materialised augmented set); on a kernel backend the augmented set is never built."""
    train, y, query, transform = problem
    cpu = get_backend("cpu")
    asked = []
    real = cpu.estimator
    monkeypatch.setattr(cpu, "estimator", lambda role, **p: asked.append((role, p)) or real(role, **p))
    search = _Search(cpu)
    assert search.sklearn
    search.by_shift_set(train, y, query, transform, 2, ("none", "book"))
    assert [role for role, _ in asked] == ["knn", "knn"]
    search.predict(train, y, query, transform, "book", 2, "distance")
    assert asked[-1] == ("knn", {"n_neighbors": 2, "weights": "distance"})

    def never(*args, **kwargs):
        raise AssertionError("the augmented set was materialised on a kernel backend")

    monkeypatch.setattr(knn_plus, "augment", never)
    search = _Search(get_backend("numpy"))
    assert not search.sklearn
    search.by_shift_set(train, y, query, transform, 2, ("none", "book"))
    search.predict(train, y, query, transform, "book", 2, "distance")


def test_cost_adds_up_the_searches(problem):
    """``cost`` starts at zero and adds each search's pairs (queries x augmented rows), ``2 d + 2`` FLOPs and
    ``4 (4 + k)`` bytes a pair (float32), as search_cost's docstring writes them."""
    train, y, query, transform = problem
    m, n, d = query.shape[0], train.shape[0], query.shape[1]
    assert (m, d) == (12, 6)  # queries and features differ: neither stands in for the other
    search = _Search(get_backend("numpy"))
    assert search.cost == {"pairs": 0, "flops": 0, "bytes": 0}
    search.by_shift_set(train, y, query, transform, 3, ("none", "book", "1px"))  # one search of 9 blocks
    pairs = m * n * 9
    assert search.cost == {"pairs": pairs, "flops": pairs * (2 * d + 2), "bytes": pairs * 4 * (4 + 3)}
    search.predict(train, y, query, transform, "book", 2, "uniform")
    more = m * n * 5
    assert search.cost == {"pairs": pairs + more, "flops": (pairs + more) * (2 * d + 2),
                           "bytes": pairs * 4 * 7 + more * 4 * 6}
    cpu = _Search(get_backend("cpu"))  # the same model on scikit-learn's side
    cpu.predict(train, y, query, transform, "1px", 4, "uniform")
    assert cpu.cost == {"pairs": m * n * 9, "flops": m * n * 9 * (2 * d + 2), "bytes": m * n * 9 * 4 * 8}


def test_the_backends_knn_search_reaches_every_block(problem):
    """``knn_search="pruned"`` on the backend: every block of both searches is pruned (what the small search's
    ``"auto"`` would not choose), with the same neighbours and labels as brute force."""
    train, y, query, transform = problem
    results = {}
    for search_name in ("pruned", "brute"):
        search = _Search(get_backend("numpy", knn_search=search_name))
        with knn_cost.recording() as log:
            found = search.by_shift_set(train, y, query, transform, 3, ("none", "book"))
            pred = search.predict(train, y, query, transform, "book", 3, "uniform")
        assert len(log) == 2 * 5 and {s.algorithm for s in log} == {search_name}
        results[search_name] = found, pred
    with knn_cost.recording() as log:
        _Search(get_backend("numpy")).predict(train, y, query, transform, "none", 3, "uniform")
    assert [s.algorithm for s in log] == ["brute"]  # "auto" on a search this small
    (found, pred), (found_b, pred_b) = results["pruned"], results["brute"]
    assert_array_equal(pred, pred_b)
    for name in found:
        assert_array_equal(found[name][1], found_b[name][1])


def test_kernel_search_keeps_within_the_backends_budget():
    """The backend's ``budget_bytes`` reaches the block search: 400 training images are shifted a few rows at
    a time (a block at once is 2 x 1.25 MB of shifted pixels), and the neighbours are the same."""
    train, query = _images(400, 8), _images(20, 9)
    y = np.arange(400) % 4
    transform = _projection(train, Preprocessing(False, 0.0, 8))
    features = transform(query)
    budget = 64 * 1024
    tight = _Search(get_backend("numpy", budget_bytes=budget))
    assert tight.budget == budget
    peak, found = extra_peak(lambda: tight.by_shift_set(train, y, features, transform, 3, ("none", "book")))
    assert peak < train.nbytes / 2
    peak, pred = extra_peak(lambda: tight.predict(train, y, features, transform, "book", 3, "uniform"))
    assert peak < train.nbytes / 2
    loose = _Search(get_backend("numpy"))
    assert extra_peak(lambda: loose.predict(train, y, features, transform, "book", 3, "uniform"))[0] > train.nbytes
    assert_array_equal(pred, loose.predict(train, y, features, transform, "book", 3, "uniform"))
    assert_array_equal(found["book"][1], loose.by_shift_set(train, y, features, transform, 3, ("book",))["book"][1])


# -- cross-validation ----------------------------------------------------------------------------------------
def _reference_scores(X_pixels, y, folds, n_folds, n_components):
    """Accuracy per (shift set, k, weights, fold): scikit-learn's KNN on the fold's augmented training rows
    (scikit-learn's PCA fitted on the fold's training pixels, labels repeated per shift block), scored on the
    fold's test rows. Each set's shifts are a prefix of the largest set's, so one augmented array serves all."""
    out = np.empty((len(SHIFT_SETS), len(knn_plus.K_GRID), len(WEIGHTS), n_folds))
    largest = shifts_of(max(SHIFT_SETS, key=SHIFT_SETS.get))
    for f in range(n_folds):
        train, test = X_pixels[folds != f], X_pixels[folds == f]
        pca = PCA(n_components, svd_solver="full").fit(train.astype(np.float64))
        features = _augmented_reference(train, largest, pca.transform)
        for s, name in enumerate(SHIFT_SETS):
            assert shifts_of(name) == largest[:SHIFT_SETS[name]]
            knn = KNeighborsClassifier(algorithm="brute").fit(features[:SHIFT_SETS[name] * len(train)],
                                                              np.tile(y[folds != f], SHIFT_SETS[name]))
            for j, k in enumerate(knn_plus.K_GRID):
                for w, weights in enumerate(WEIGHTS):
                    pred = knn.set_params(n_neighbors=k, weights=weights).predict(pca.transform(test))
                    out[s, j, w, f] = np.mean(pred == y[folds == f])
    return out


@pytest.fixture(scope="module")
def fold_problem():
    """36 images of 3 classes in 2 folds (interleaved, not contiguous), and the reference scores of a
    6-component PCA."""
    rng = np.random.default_rng(11)
    X = _images(36, 12)
    y = rng.integers(0, 3, size=36)
    folds = rng.permutation(np.arange(36) % 2)
    return X, y, folds, _reference_scores(X, y, folds, 2, 6)


# -- _fold_scores --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["cpu", "numpy"])
def test_fold_scores_are_scikit_learns_accuracies(fold_problem, backend, monkeypatch):
    """``(shift set, n_neighbors, weights, fold)``: each entry is the accuracy of scikit-learn's
    ``KNeighborsClassifier(k, weights)`` on that fold's augmented training rows, scored on its test rows; the
    PCA of fold ``f`` is fitted on the rows outside fold ``f`` only, under the backend's memory budget."""
    X, y, folds, expected = fold_problem
    # The data tell every axis apart: no two shift sets, k, weights or folds score alike everywhere.
    for axis in range(4):
        assert all(not np.array_equal(np.take(expected, 0, axis), np.take(expected, i, axis))
                   for i in range(1, expected.shape[axis])), axis
    fits, real = [], knn_plus.pca_fit
    monkeypatch.setattr(knn_plus, "pca_fit", lambda rows, n, budget_bytes=None: fits.append(
        (np.array(rows), n, budget_bytes)) or real(rows, n, budget_bytes=budget_bytes))
    search = _Search(get_backend(backend, budget_bytes=1 << 20))
    assert search.budget == (None if backend == "cpu" else 1 << 20)
    scores = _fold_scores(search, X, y, 3, folds, 2, Preprocessing(False, 0.0, 6))
    assert isinstance(scores, np.ndarray)
    assert scores.shape == (len(SHIFT_SETS), len(K_GRID), len(WEIGHTS), 2)
    assert_allclose(scores, expected, rtol=0, atol=1e-12)
    assert len(fits) == 2
    for f, (rows, n, budget) in enumerate(fits):
        assert_array_equal(rows, X[folds != f])
        assert (n, budget) == (6, search.budget)


# -- _cross_validate -----------------------------------------------------------------------------------------
#: Three variants instead of the six of PREPROCESSING_GRID (PCA 30-80 on 18 training rows would keep every
#: component, and each variant costs a 784 x 784 eigendecomposition per fold): raw pixels, deskew, and
#: deskew + blur, so one deskew serves two variants.
GRID = (Preprocessing(False, 0.0, 6), Preprocessing(True, 0.0, 5), Preprocessing(True, 1.0, 6))


def _context(n_train: int, cv_rows: int, backend="numpy"):
    """A run's context on synthetic images of labels 4, 5, 6 (a memory budget on the kernel backend)."""
    rng = np.random.default_rng(21)
    data = MnistData(X_train=_images(n_train, 22, np.uint8), y_train=rng.permutation(np.arange(n_train) % 3 + 4)
                     .astype(np.uint8), X_test=_images(4, 23, np.uint8), y_test=np.array([4, 5, 6, 4], np.uint8),
                     source="synthetic")
    ctx = Context(get_backend(backend, budget_bytes=4 << 20), data, RunConfig(knn_plus_cv_rows=cv_rows,
                                                                              knn_plus_cv=2))
    ctx.stages = []
    ctx.on_progress = ctx.stages.append
    return ctx


def test_cross_validate_averages_each_settings_folds(monkeypatch):
    """On the first ``knn_plus_cv_rows`` rows, stratified 2-fold CV: one grid entry per (preprocessing, shift
    set, k, weights) in that order, with the mean over folds of scikit-learn's accuracy; ``chosen`` is the
    first best entry, ``best_score`` its mean; one progress line per variant; the images are deskewed once
    for both deskewed variants, under the backend's budget. K_GRID is cut to three values (not 1, 2, 3: each
    k must be its own, not its index) to spare 300 of the reference's scikit-learn predictions."""
    monkeypatch.setattr(knn_plus, "PREPROCESSING_GRID", GRID)
    monkeypatch.setattr(knn_plus, "K_GRID", (1, 4, 7))
    deskewed, real = [], knn_plus.deskew
    monkeypatch.setattr(knn_plus, "deskew", lambda X, budget_bytes=None: deskewed.append(
        (len(X), budget_bytes)) or real(X, budget_bytes=budget_bytes))
    ctx = _context(50, 36)
    search = _Search(ctx.backend)
    chosen, grid, best_score, n = _cross_validate(ctx, search)

    assert n == 36 and isinstance(n, int)
    y = ctx.data.y_train[:36]
    folds = np.empty(36, dtype=int)
    for f, (_, test) in enumerate(StratifiedKFold(2).split(np.zeros(36), y)):
        folds[test] = f
    raw = ctx.data.X_train[:36].astype(np.float32)
    images = {False: raw, True: deskew(raw)}
    expected, names = [], []
    for pre in GRID:
        X = gaussian_blur(images[pre.deskew], pre.blur) if pre.blur else images[pre.deskew]
        means = _reference_scores(X, y, folds, 2, pre.n_components).mean(axis=-1)
        for s, name in enumerate(SHIFT_SETS):
            for j, k in enumerate((1, 4, 7)):
                for w, weights in enumerate(WEIGHTS):
                    names.append({"preprocessing": {"deskew": pre.deskew, "blur": pre.blur,
                                                    "n_components": pre.n_components},
                                  "shifts": name, "n_neighbors": k, "weights": weights})
                    expected.append(means[s, j, w])
    assert [{key: e[key] for key in e if key != "mean_cv_accuracy"} for e in grid] == names
    assert all(isinstance(e["mean_cv_accuracy"], float) for e in grid)
    assert_allclose([e["mean_cv_accuracy"] for e in grid], expected, rtol=0, atol=1e-12)

    best = max(expected)
    top = [i for i, m in enumerate(expected) if m >= best - 1e-12]
    assert len(top) > 1  # the data tie at the top: "first" matters
    first = names[top[0]]
    assert chosen == {**first["preprocessing"], "shifts": first["shifts"], "n_neighbors": first["n_neighbors"],
                      "weights": first["weights"]}
    assert isinstance(best_score, float)
    assert best_score == pytest.approx(best, abs=1e-12)

    assert ctx.stages == [f"cross-validating {label} ({i}/3), 2 folds of 36 rows" for i, label in enumerate(
        ["raw pixels + PCA 6", "deskew + PCA 5", "deskew + blur 1 px + PCA 6"], start=1)]
    assert deskewed == [(36, 4 << 20)]


def test_cross_validate_takes_every_row_when_fewer_than_asked(monkeypatch):
    """``knn_plus_cv_rows`` above the training rows: all of them are cross-validated,
    and the progress line writes their count with a thousands separator."""
    monkeypatch.setattr(knn_plus, "PREPROCESSING_GRID", GRID[:1])
    monkeypatch.setattr(knn_plus, "K_GRID", (1,))
    ctx = _context(1234, 5000, "cpu")
    *_, n = _cross_validate(ctx, _Search(ctx.backend))
    assert n == 1234
    assert ctx.stages == ["cross-validating raw pixels + PCA 6 (1/1), 2 folds of 1,234 rows"]


def test_cross_validate_on_the_emulated_device_gives_the_numpy_grid(monkeypatch):
    """The gpu backend on the emulated CuPy (which refuses what CuPy refuses) scores every setting as numpy."""
    monkeypatch.setattr(knn_plus, "PREPROCESSING_GRID", GRID[:1])
    monkeypatch.setattr(knn_plus, "K_GRID", (1, 4))
    want = _cross_validate(ctx := _context(40, 40), _Search(ctx.backend))
    with fake_cupy.installed():
        got = _cross_validate(ctx := _context(40, 40, "gpu"), _Search(ctx.backend))
    assert [g["mean_cv_accuracy"] for g in got[1]] == pytest.approx([g["mean_cv_accuracy"] for g in want[1]])
    assert got[0] == want[0] and got[3] == want[3] == 40


# -- _seconds ------------------------------------------------------------------------------------------------
def test_seconds_waits_for_the_device_then_rounds_to_milliseconds(monkeypatch):
    """``_seconds`` synchronises the backend first, then gives the elapsed time since ``t0`` in 3 decimals."""
    clock = {"now": 5.0}

    def synchronize():
        clock["now"] = 12.3456789  # the device's work ends here

    monkeypatch.setattr(knn_plus, "time", SimpleNamespace(perf_counter=lambda: clock["now"]))
    ctx = SimpleNamespace(backend=SimpleNamespace(synchronize=synchronize))
    assert _seconds(ctx, 2.0) == 10.346
