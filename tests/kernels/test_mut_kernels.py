"""Kernel behaviours that mutation testing found unchecked (issue 17), against scikit-learn's own code.

Each test names the reference it is held to: scikit-learn's hinge loss and
its gradient (``sklearn.linear_model._sgd_fast.Hinge``), its ``tol`` rule as
``_plain_sgd`` runs it, ``StandardScaler``'s variance and constant-feature
test, the book's ``scipy.ndimage.shift``.
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import SGDClassifier as SkSGDClassifier
from sklearn.linear_model._sgd_fast import Hinge
from sklearn.preprocessing import StandardScaler

import fake_cupy
from gpuclf.errors import GpuclfError
from gpuclf.kernels import linear as linear_kernels
from gpuclf.kernels.linear import _StoppingRule, epochs_to_run, fit_hinge_sgd
from gpuclf.kernels.preprocessing import augment_with_shifts, shift_images, standard_scale, standard_scaler_fit
from gpuclf.kernels.sgd_step import TWINS, BatchStep, kernels_for


# --- the hinge step: scikit-learn's Hinge(1.0) ------------------------------------------------------

MARGINS = np.array([-2.0, 0.0, 0.5, 1.0 - 2 ** -20, 1.0, 1.0 + 2 ** -20, 3.0])


@pytest.mark.parametrize("device", [False, True])
def test_hinge_activity_is_sklearn_s_gradient_at_every_margin(device):
    """A sample is active (its label enters the gradient) where scikit-learn's ``dloss`` is non-zero:
    ``p * y <= 1``, the margin itself included."""
    y = np.array([1.0, -1.0, 0.0])  # a held-out row has label 0: never active
    z = (MARGINS[:, None] * np.where(y == 0, 1.0, y)[None, :])  # scores p with p * y == margin
    b = np.zeros(3)
    ym = np.broadcast_to(y, z.shape).copy()
    expected = np.array([[-Hinge(1.0).py_dloss(p, t) for p, t in zip(row, y)] for row in z])
    if device:
        with fake_cupy.installed() as cp:  # the CUDA body, evaluated as C would
            r = cp.empty(z.shape)
            kernels_for(cp)["gpuclf_sgd_active"](cp.asarray(z), cp.asarray(b), cp.asarray(ym), r)
            got = r.get()
    else:
        got = TWINS["gpuclf_sgd_active"](z, b, ym, np.empty(z.shape))
    assert_array_equal(got, expected + 0.0)


def test_batch_losses_are_sklearn_s_hinge_losses_of_the_training_rows():
    rng = np.random.default_rng(0)
    Xb = rng.normal(size=(9, 4))
    W = rng.normal(size=(4, 2))
    b = np.array([0.3, -0.2])
    Y = np.where(rng.random((9, 2)) < 0.5, 1.0, -1.0)
    Mb = (rng.random((9, 2)) < 0.7).astype(np.float64)
    loss = np.zeros(2)
    step = BatchStep(np, 9, 4, 2, np.float64)
    scores = Xb @ W + b
    step.step(Xb, Y * Mb, np.full((9, 2), 0.01), W, b.copy(), np.zeros_like(W), np.zeros(2), 1.0, 0.0, 0.0,
              loss=loss, Mb=Mb)
    expected = [sum(Hinge(1.0).py_loss(scores[i, j], Y[i, j]) for i in range(9) if Mb[i, j]) for j in range(2)]
    assert_allclose(loss, expected, rtol=1e-12)


def test_float32_training_runs_its_gemms_and_fused_kernels_in_float32():
    """float32 data trains in float32 on the device: no float64 GEMM or fused kernel (speed and memory)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 12)).astype(np.float32)
    Y = np.where(rng.random((300, 3)) < 0.5, 1.0, -1.0)
    M = rng.random((300, 3)) < 0.8
    with fake_cupy.installed() as cp:
        fake_cupy.reset_stats()
        coef, intercept, _ = fit_hinge_sgd(cp.asarray(X), cp.asarray(Y), cp.asarray(M), max_iter=2, tol=1.0,
                                           random_state=0)
        kernels = fake_cupy.stats["kernels"]
    assert coef.dtype == intercept.dtype == np.float32
    heavy = [k for k in kernels if k[0].startswith(("matmul", "gpuclf_sgd"))]
    assert {k[0] for k in heavy} >= {"gpuclf_sgd_active", "gpuclf_sgd_update", "gpuclf_sgd_update_b"}
    assert all(dtype == "float32" for _, dtypes, *_ in heavy for dtype in dtypes), sorted(heavy)


def test_averaging_leaves_out_the_first_epoch():
    """average_after=1 with one epoch run: nothing to average yet, so the last weights come back."""
    X = np.random.default_rng(2).normal(size=(200, 5))
    Y = np.where(X[:, :1] > 0, 1.0, -1.0)
    params = {"max_iter": 1, "tol": 1e9, "n_iter_no_change": 50, "random_state": 0}  # tol: exactly max_iter epochs
    last = fit_hinge_sgd(X, Y, np.ones_like(Y), average_after=None, **params)
    averaged = fit_hinge_sgd(X, Y, np.ones_like(Y), average_after=1, **params)
    assert_array_equal(averaged[0], last[0])
    assert_array_equal(averaged[1], last[1])
    # From the second epoch on, the average differs from the last weights.
    two = {**params, "max_iter": 2}
    assert not np.array_equal(fit_hinge_sgd(X, Y, np.ones_like(Y), average_after=1, **two)[0],
                              fit_hinge_sgd(X, Y, np.ones_like(Y), average_after=None, **two)[0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("alpha", [10.0, 2.0])
def test_a_strong_penalty_clips_the_shrink_at_zero_like_sklearn(alpha, monkeypatch):
    """alpha >= 1 makes t0 <= 1: scikit-learn clips its shrink factor at 0, and so must the batched step."""
    monkeypatch.setattr(linear_kernels, "MIN_ROWS_PER_FIT", 0)
    X = np.random.default_rng(3).normal(size=(40, 3))
    Y = np.where(X[:, :1] + 0.2 > 0, 1.0, -1.0)
    coef, intercept, _ = fit_hinge_sgd(X, Y, np.ones_like(Y), alpha=alpha, batch_size=1, max_iter=1,
                                       average_after=None, random_state=5)
    order = np.random.default_rng(5).permutation(40)
    sk = SkSGDClassifier(alpha=alpha, shuffle=False, max_iter=1, tol=None).fit(X[order], Y[order, 0])
    assert_allclose(coef[:, 0], sk.coef_[0], rtol=1e-10, atol=1e-12)
    assert_allclose(intercept, sk.intercept_, rtol=1e-10, atol=1e-12)


def test_kernel_defaults_are_the_estimator_s():
    """``fit_hinge_sgd`` called bare trains what ``SGDClassifier()`` trains (epochs, patience, batch)."""
    from gpuclf.estimators import SGDClassifier

    rng = np.random.default_rng(4)
    X = rng.normal(size=(33_000, 2))  # past 32,768 rows the batch is batch_size itself
    y = X[:, 0] + 0.5 * rng.normal(size=len(X)) > 0
    Y = np.where(y, 1.0, -1.0)[:, None]
    coef, intercept, n_iter = fit_hinge_sgd(X, Y, np.ones_like(Y), random_state=0)
    model = SGDClassifier(random_state=0).fit(X, y)
    assert_allclose(coef[:, 0], model.coef_[0], rtol=1e-12)
    assert n_iter[0] == model.n_iter_
    with_tol = fit_hinge_sgd(X[:3000], Y[:3000], np.ones((3000, 1)), tol=10.0, max_iter=40, random_state=0)
    model = SGDClassifier(tol=10.0, max_iter=40, random_state=0).fit(X[:3000], y[:3000])
    assert with_tol[2][0] == model.n_iter_ < 40


@pytest.mark.parametrize("n, expected", [(0, 4000), (1, 4000), (2, 2000), (64, 63)])
def test_epochs_for_the_tiniest_sets(n, expected):
    """Without tol: 4,000 updates on tiny sets (one row per batch below 64 rows), 30,000 rows seen above."""
    assert epochs_to_run(n, 5, None) == expected


# --- scikit-learn's tol rule, replayed -----------------------------------------------------------

def _sklearn_stop(losses, tol, patience, n_samples):
    """The epoch count at which ``_plain_sgd`` stops on these epoch losses (None: runs them all)."""
    best, bad = np.inf, 0
    for epoch, loss in enumerate(losses):
        bad = bad + 1 if loss > best - tol * n_samples else 0
        best = min(best, loss)
        if bad >= patience:
            return epoch + 1
    return None


@pytest.mark.parametrize("losses", [
    [10.0, 9.0, 9.5, 9.6, 8.0, 9.1, 9.2, 9.3, 9.4],     # two bad epochs, an improvement resets the count
    [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0],     # improving by exactly tol * n: not a bad epoch
    [10.0, 9.5, 9.0, 9.0, 9.0, 9.0, 1.0, 1.0, 1.0],     # equal losses count as bad
    [5.0, 6.0, 4.5, 6.0, 6.0, 3.9, 6.0, 6.0, 6.0],
])
@pytest.mark.parametrize("window", [1, 3, 9])
def test_stopping_rule_replays_sklearn(losses, window):
    tol, patience, n = 0.5, 3, 2.0  # tol * n == 1.0 exactly
    stop = _sklearn_stop(losses, tol, patience, n)
    rule = _StoppingRule(tol, patience, [n])
    for first in range(0, len(losses), window):
        running = rule.update(np.array(losses[first:first + window])[:, None], first)
        if not running[0]:
            break
    if stop is None:
        assert running[0] and rule.stopped_at[0] == 0
    else:
        # Stopped in the window holding scikit-learn's stopping epoch, at that window's end.
        assert not running[0]
        assert rule.stopped_at[0] == min(-(-stop // window) * window, len(losses))
    assert rule.stopped_at.dtype == np.int64


# --- StandardScaler: the variance, the constant-feature test, float32 -----------------------------

def _awkward_columns(n=200, seed=0):
    """Columns where each part of scikit-learn's variance and constant test decides the scale."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1, 1, size=n)
    return np.c_[
        np.zeros(n),                  # constant at 0: scale 1 (var == bound == 0)
        np.full(n, 7.0),              # constant elsewhere
        1e-10 * u,                    # tiny but not constant (var 3e-21)
        1.0 + 1e-10 * u,              # tiny spread around 1: not constant
        1e3 + 1e-11 * np.sign(u),     # below rounding at 1e3: constant
        1e6 + 1e-3 * u,               # large mean, small spread: the mean's rounding shows in the variance
        0.4 * u,                      # variance below 1
        rng.integers(0, 256, size=n),  # pixels
    ]


def test_scaler_matches_sklearn_to_the_last_bit():
    X = _awkward_columns()
    sk = StandardScaler().fit(X)
    mean, scale = standard_scaler_fit(X)
    assert_array_equal(mean, sk.mean_)
    assert_array_equal(scale, sk.scale_)
    assert_array_equal(standard_scale(X, mean, scale), sk.transform(X))
    assert scale[0] == scale[1] == scale[4] == 1.0 and 0 < scale[2] < 1e-9


def test_float32_scaling_matches_sklearn_to_the_last_bit():
    X = (np.random.default_rng(1).uniform(0, 255, size=(300, 6)) + 1e4 * np.arange(6)).astype(np.float32)
    sk = StandardScaler().fit(X)
    mean, scale = standard_scaler_fit(X)
    out = standard_scale(X, mean, scale)
    assert out.dtype == np.float32
    assert_array_equal(out, sk.transform(X))


# --- shifts: messages ---------------------------------------------------------------------------

@pytest.mark.parametrize("dx, dy, name", [(0.5, 0, "dx"), (1, 1.5, "dy")])
def test_shift_names_the_fractional_argument(dx, dy, name):
    with pytest.raises(GpuclfError) as err:
        shift_images(np.zeros((2, 784)), dx, dy)
    assert str(err.value) == f"{name} must be a whole number of pixels, got {dx if name == 'dx' else dy!r}"


def test_shift_of_wrong_shape_says_the_shape_it_needs():
    with pytest.raises(GpuclfError) as err:
        shift_images(np.zeros((2, 100)), 1, 0)
    assert str(err.value) == "shift_images needs flattened 28x28 images, shape (n, 784), got (2, 100)"
    with pytest.raises(GpuclfError) as err:
        shift_images(np.zeros((2, 10)), 1, 0, side=3)
    assert "shape (n, 9)" in str(err.value)


def test_augment_refuses_labels_of_another_length():
    with pytest.raises(GpuclfError):
        augment_with_shifts(np.zeros((3, 784)), np.zeros(4))
    X_aug, y_aug = augment_with_shifts(np.zeros((3, 784)), np.arange(3))
    assert X_aug.shape == (15, 784) and y_aug.tolist() == [0, 1, 2] * 5


# --- neighbours: the partition path, the mode's message, the label table -------------------------

@pytest.mark.parametrize("k", [9, 10, 25, 60])
def test_partition_path_orders_ties_by_index(k):
    """Large k goes through argpartition plus the tie repair: (distance, index) order, ties everywhere."""
    from gpuclf.kernels.neighbors import kneighbors
    from gpuclf.kernels.topk import argmin_is_cheaper

    assert not argmin_is_cheaper(k, 8)
    rng = np.random.default_rng(k)
    X = rng.integers(0, 3, size=(150, 4)).astype(np.float64)  # small integers: exact distances, many ties
    Q = rng.integers(0, 3, size=(30, 4)).astype(np.float64)
    d, i = kneighbors(X, Q, k)
    exact = ((Q[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    order = np.argsort(exact, axis=1, kind="stable")[:, :k]
    assert_array_equal(i, order)
    assert_array_equal(d, np.sqrt(np.take_along_axis(exact, order, 1)))


def test_neighbor_mode_needs_three_axes():
    from gpuclf.kernels.neighbors import neighbor_mode

    with pytest.raises(GpuclfError) as err:
        neighbor_mode(np.zeros((4, 3)))
    assert str(err.value) == "neighbor_values must be 3-D (n, k, m), got shape (4, 3)"


def test_encode_columns_table_pads_with_each_column_s_largest_class():
    from gpuclf.kernels.neighbors import encode_columns

    classes, codes, table = encode_columns(np.array([[0, 5], [0, 7], [0, 5]]))
    assert [c.tolist() for c in classes] == [[0], [5, 7]]
    assert codes.tolist() == [[0, 0], [0, 1], [0, 0]]
    assert table.tolist() == [[0, 0], [5, 7]]
    classes, codes, table = encode_columns(np.array([[True, False], [True, True]]))
    assert [c.tolist() for c in classes] == [[True], [False, True]] and table.dtype == bool


# --- averaging and the epochs a stopped model reports ------------------------------------------------

@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_averaging_after_the_first_epoch_is_sklearn_s_average_from_sample_n_plus_1(monkeypatch):
    """average_after=1 averages the weights over every sample of the later epochs: scikit-learn's
    ``average=n + 1`` (averaging "begins once the total number of samples seen reaches average")."""
    monkeypatch.setattr(linear_kernels, "MIN_ROWS_PER_FIT", 0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 6))
    Y = np.where(X @ rng.normal(size=(6, 1)) + 0.3 * rng.normal(size=(150, 1)) > 0, 1.0, -1.0)
    coef, intercept, _ = fit_hinge_sgd(X, Y, np.ones_like(Y), batch_size=1, max_iter=3, average_after=1,
                                       random_state=3)
    order_rng = np.random.default_rng(3)
    order = np.concatenate([order_rng.permutation(150) for _ in range(3)])
    sk = SkSGDClassifier(shuffle=False, max_iter=1, tol=None, average=151).fit(X[order], Y[order, 0])
    assert_allclose(coef[:, 0], sk.coef_[0], rtol=1e-10, atol=1e-12)
    assert_allclose(intercept, sk.intercept_, rtol=1e-10, atol=1e-12)


def test_epochs_reported_by_stopped_and_running_models():
    """A model that never stops reports every epoch; one stopped by the rule, the end of its window."""
    X = np.random.default_rng(4).normal(size=(200, 3))
    Y = np.where(X[:, :2] > 0, 1.0, -1.0)
    M = np.ones_like(Y)
    # tol -1e9: never "no improvement"; tol 1e9: every epoch after the first is one, so scikit-learn
    # stops at epoch 4 (epochs 2, 3, 4) and the window of 3 in which it was read ends at epoch 6.
    _, _, n_iter = fit_hinge_sgd(X, Y, M, max_iter=8, tol=-1e9, n_iter_no_change=3, random_state=0)
    assert n_iter.tolist() == [8, 8] and n_iter.dtype == np.int64
    _, _, n_iter = fit_hinge_sgd(X, Y, M, max_iter=20, tol=1e9, n_iter_no_change=3, random_state=0)
    assert n_iter.tolist() == [6, 6]
    _, _, n_iter = fit_hinge_sgd(X, Y, M, max_iter=5, tol=1e9, n_iter_no_change=3, random_state=0)
    assert n_iter.tolist() == [5, 5]  # stopped in the last, shorter window: read at the last epoch


# --- folds and neighbours: defaults, bounds, the sentences ---------------------------------------------

def test_stratified_folds_default_to_the_chapter_s_three():
    from sklearn.model_selection import StratifiedKFold

    from gpuclf.kernels.folds import stratified_kfold_test_folds

    y = np.arange(30) % 4
    expected = np.empty(30, dtype=np.int64)
    for k, (_, test) in enumerate(StratifiedKFold(3).split(np.zeros(30), y)):
        expected[test] = k
    assert_array_equal(stratified_kfold_test_folds(y), expected)


def test_fold_messages_say_what_to_use():
    from gpuclf.kernels.folds import stratified_kfold_test_folds

    with pytest.raises(GpuclfError) as err:
        stratified_kfold_test_folds(np.arange(10) % 2, 1)
    assert str(err.value).endswith("use n_splits=3 (the chapter's choice) or more")
    with pytest.raises(GpuclfError) as err:
        stratified_kfold_test_folds(np.zeros((10, 2)), 3)
    assert str(err.value).endswith("use kfold_test_folds for multilabel targets")


def test_kneighbors_bounds_and_sentences():
    from gpuclf.kernels.neighbors import kneighbors

    X = np.arange(10.0).reshape(5, 2)
    with pytest.raises(GpuclfError) as err:
        kneighbors(X[:, 0], X, 1)
    assert str(err.value) == ("kneighbors needs 2-D X_train and X_query with the same number of features, "
                              "got shapes (5,) and (5, 2)")
    assert kneighbors(X, X, 4, exclude_self=True)[1].shape == (5, 4)  # every other row
    with pytest.raises(GpuclfError) as err:
        kneighbors(X, X, 5, exclude_self=True)
    assert str(err.value) == ("Expected n_neighbors <= n_samples_fit, but n_neighbors = 5, n_samples_fit = 5 "
                              "(one less when each sample is left out of its own neighbours); "
                              "use 1 <= n_neighbors <= the number of training samples")
    with pytest.raises(GpuclfError) as err:
        kneighbors(X, X, 6)
    assert str(err.value) == ("Expected n_neighbors <= n_samples_fit, but n_neighbors = 6, n_samples_fit = 5; "
                              "use 1 <= n_neighbors <= the number of training samples")


def test_kneighbors_computes_in_the_wider_float_of_its_inputs():
    from gpuclf.kernels.neighbors import kneighbors

    X = np.random.default_rng(5).normal(size=(20, 3))
    for train, query in ((X, X[:4].astype(np.float32)), (X.astype(np.float32), X[:4])):
        assert kneighbors(train, query, 2)[0].dtype == np.float64
    assert kneighbors(X.astype(np.float32), X[:4].astype(np.float32), 2)[0].dtype == np.float32


def test_neighbor_weights_are_sklearn_s():
    from sklearn.neighbors._base import _get_weights

    from gpuclf.kernels.neighbors import _class_weights, neighbor_weights

    d = np.array([[0.5, 1.0, 2.0], [0.0, 1.0, 0.0], [4.0, 4.0, 8.0]])
    assert_array_equal(neighbor_weights(d, "distance"), _get_weights(d, "distance"))
    assert_array_equal(neighbor_weights(d), np.ones_like(d))  # "uniform" by default
    with pytest.raises(GpuclfError) as err:
        _class_weights(np.zeros((3, 2), dtype=int), d, 2, "uniform")
    assert str(err.value) == ("neighbor_labels (3, 2) and distances (3, 3) must agree on "
                              "(n_samples, n_neighbors)")
