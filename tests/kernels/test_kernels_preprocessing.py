"""Scaling and shift kernels on NumPy against StandardScaler and scipy.ndimage.shift."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.ndimage import shift
from sklearn.preprocessing import StandardScaler as SkStandardScaler

from gpuclf.errors import GpuclfError
from gpuclf.kernels import preprocessing as pp


def book_shift_image(image, dx, dy):
    """The book's ``shift_image``: scipy's spline shift on one 28x28 image."""
    return shift(image.reshape(28, 28), [dy, dx], cval=0, mode="constant").reshape(-1)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(12, 784)).astype(np.uint8)


def scaler_data(dtype):
    rng = np.random.default_rng(1)
    X = rng.normal(100, 7, size=(200, 6))
    X[:, 0] = 3.0  # constant: scale 1
    # Constant up to rounding: its std is ~1e-16, not 0, yet scikit-learn scales it by 1.
    X[:, 1] = 1.0 + np.finfo(np.float64).eps * (np.arange(200) % 2)
    return X.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.uint8])
def test_scaler_fit_and_scale_match_sklearn(dtype):
    X = scaler_data(dtype)
    sk = SkStandardScaler().fit(X)
    mean, scale = pp.standard_scaler_fit(X)
    assert mean.dtype == scale.dtype == np.float64
    assert_allclose(mean, sk.mean_, rtol=1e-14)
    assert_allclose(scale, sk.scale_, rtol=1e-12)
    assert scale[0] == scale[1] == 1.0
    scaled = pp.standard_scale(X, mean, scale)
    expected = sk.transform(X)
    assert scaled.dtype == expected.dtype == (np.float32 if dtype == np.float32 else np.float64)
    assert_allclose(scaled, expected, rtol=1e-6 if dtype == np.float32 else 1e-12, atol=1e-12)


def test_scaler_fit_rejects_empty_or_1d():
    for X in (np.zeros((0, 3)), np.zeros(5)):
        with pytest.raises(GpuclfError, match="non-empty 2-D"):
            pp.standard_scaler_fit(X)


SHIFTS = [(0, 0), (-1, 0), (1, 0), (0, 1), (0, -1), (3, -2), (-27, 27), (28, 0), (5, -40)]


@pytest.mark.parametrize("dx, dy", SHIFTS)
@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_shift_matches_scipy(images, dx, dy, dtype):
    X = images.astype(dtype)
    shifted = pp.shift_images(X, dx, dy)
    expected = np.stack([book_shift_image(image, dx, dy) for image in X])
    assert shifted.dtype == dtype and shifted.shape == X.shape
    if dtype == np.uint8:
        assert_array_equal(shifted, expected)
    else:  # scipy's spline leaves ~1e-13 of rounding where the shift is exact
        assert_allclose(shifted, expected, atol=1e-9)


def test_shift_of_one_image(images):
    assert_array_equal(pp.shift_images(images[0], 1, -1), book_shift_image(images[0], 1, -1))


def test_shift_small_images():
    X = np.arange(9).reshape(1, 9)
    assert_array_equal(pp.shift_images(X, 1, 0, side=3), [[0, 0, 1, 0, 3, 4, 0, 6, 7]])


@pytest.mark.parametrize(
    "X, dx, match",
    [
        (np.zeros((2, 784)), 0.5, "whole number"),
        (np.zeros((2, 783)), 1, "28x28"),
        (np.zeros((2, 2, 784)), 1, "28x28"),
    ],
)
def test_shift_rejects_bad_input(X, dx, match):
    with pytest.raises(GpuclfError, match=match):
        pp.shift_images(X, dx, 0)


def test_augment_follows_the_book(images):
    y = np.arange(len(images)) % 10
    X_aug, y_aug = pp.augment_with_shifts(images, y)
    # The book's loop: every original, then all images per (dx, dy) in turn.
    X_book = list(images)
    y_book = list(y)
    for dx, dy in ((-1, 0), (1, 0), (0, 1), (0, -1)):
        for image, label in zip(images, y):
            X_book.append(book_shift_image(image, dx, dy))
            y_book.append(label)
    assert_array_equal(X_aug, np.array(X_book))
    assert_array_equal(y_aug, np.array(y_book))


def test_augment_rejects_mismatched_y(images):
    with pytest.raises(GpuclfError, match="augment_with_shifts"):
        pp.augment_with_shifts(images, np.zeros(3))


@pytest.mark.parametrize("dx, dy", SHIFTS)
def test_shift_into_dirty_memory_zeros_every_pixel_nothing_lands_on(images, dx, dy):
    """``shift_images`` and ``augment_with_shifts`` write into uninitialised arrays: every pixel that no
    source pixel lands on must be set to zero, whatever the memory held before."""
    out = np.full((len(images), 28, 28), 255, dtype=np.uint8)
    pp._shift_into(images.reshape(-1, 28, 28), out, dx, dy, 28)
    expected = np.stack([book_shift_image(image, dx, dy) for image in images])
    assert_array_equal(out.reshape(len(images), 784), expected)


# -- mutation survivors (round 5) ------------------------------------------------------------------
def test_scaler_stats_warn_nothing():
    """The constant-feature test reads float64's epsilon without NumPy's deprecation warnings."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean, var, scale = pp.standard_scaler_stats(scaler_data(np.float64))
    sk = SkStandardScaler().fit(scaler_data(np.float64))
    assert_allclose(var, sk.var_)
    assert_allclose(scale, sk.scale_)


@pytest.mark.parametrize("dtype", [np.uint8, np.float32])
def test_augment_keeps_the_images_dtype(images, dtype):
    """The augmented set is in the images' dtype: uint8 pixels stay uint8 (a fifth of float64's memory)."""
    X_aug, _ = pp.augment_with_shifts(images.astype(dtype), np.arange(len(images)))
    assert X_aug.dtype == dtype
    assert_array_equal(X_aug[len(images):2 * len(images)],
                       np.stack([book_shift_image(image, -1, 0) for image in images]).astype(dtype))


def test_augment_repeats_rows_of_multilabel_targets(images):
    """Targets with one row per image (the chapter's multilabel ``y``) are repeated block by block."""
    y = np.c_[np.arange(len(images)) >= 7, np.arange(len(images)) % 2 == 1]
    _, y_aug = pp.augment_with_shifts(images, y)
    assert_array_equal(y_aug, np.tile(y, (5, 1)))


def test_augment_rejects_images_that_are_not_28x28(images):
    with pytest.raises(GpuclfError, match=r"^augment_with_shifts needs flattened 28x28 images, "
                                          r"shape \(n, 784\), got \(12, 100\)$"):
        pp.augment_with_shifts(images[:, :100], np.zeros(12))
