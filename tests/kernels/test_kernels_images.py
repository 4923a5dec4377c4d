"""Deskewing and blurring on whole batches against scipy.ndimage applied image by image."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.ndimage import affine_transform, gaussian_filter

from gpuclf.errors import GpuclfError
from gpuclf.kernels import images as im


def reference_moments(image):
    """Centre of mass and skew of one 28x28 image, the textbook way (np.mgrid, one image at a time)."""
    rows, cols = np.mgrid[:28, :28]
    total = image.sum()
    mr, mc = (rows * image).sum() / total, (cols * image).sum() / total
    var_r = ((rows - mr) ** 2 * image).sum() / total
    cov = ((rows - mr) * (cols - mc) * image).sum() / total
    return mr, mc, cov / var_r


def reference_deskew(image):
    """scipy's affine_transform with the shear and centring of the same moments (bilinear, zeros outside)."""
    image = image.reshape(28, 28).astype(np.float64)
    mr, mc, alpha = reference_moments(image)
    affine = np.array([[1.0, 0.0], [alpha, 1.0]])
    offset = np.array([mr, mc]) - affine @ np.array([14.0, 14.0])
    return affine_transform(image, affine, offset=offset, order=1, mode="grid-constant", cval=0.0).ravel()


@pytest.fixture(scope="module")
def digits(sample_mnist):
    return sample_mnist.X_train[:40]


def test_moments_match_the_textbook_formulas(digits):
    mean_row, mean_col, alpha = im.image_moments(digits)
    assert mean_row.dtype == np.float64  # uint8 in: float64
    expected = np.array([reference_moments(d.reshape(28, 28).astype(float)) for d in digits])
    assert_allclose(np.c_[mean_row, mean_col, alpha], expected, rtol=1e-12)
    # Digits lean: their skews are not all zero, and differ in sign.
    assert alpha.min() < -0.1 and alpha.max() > 0.1


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 2e-3)])
def test_deskew_matches_scipy_affine_transform(digits, dtype, tol):
    got = im.deskew(digits.astype(dtype))
    assert got.dtype == dtype and got.shape == digits.shape
    expected = np.stack([reference_deskew(d) for d in digits])
    assert_allclose(got, expected, atol=tol)  # pixels 0-255; float32 rounds the read positions


def test_deskew_of_random_images_and_in_chunks():
    # Ink everywhere, edges included: the zero padding outside the image is exercised.
    X = np.random.default_rng(0).integers(0, 256, size=(7, 784)).astype(np.float64)
    expected = np.stack([reference_deskew(x) for x in X])
    assert_allclose(im.deskew(X), expected, atol=1e-9)
    assert_allclose(im.deskew(X, budget_bytes=1), expected, atol=1e-9)  # one image per chunk


def test_deskew_centres_and_straightens(digits):
    out = im.deskew(digits.astype(np.float64))
    mean_row, mean_col, alpha = im.image_moments(out)
    # Exactly only for the continuous image; bilinear resampling leaves a little.
    assert np.abs(mean_row - 14).max() < 0.6 and np.abs(mean_col - 14).max() < 0.6
    assert np.abs(alpha).max() < 0.1 < np.abs(im.image_moments(digits)[2]).max()


def test_deskew_leaves_blank_and_flat_images_finite():
    blank = np.zeros((1, 784))
    line = np.zeros((1, 784))
    line[0, 28 * 10 + 5:28 * 10 + 20] = 255  # ink on one row: no row variance, no skew
    mean_row, mean_col, alpha = im.image_moments(np.vstack([blank, line]))
    assert alpha.tolist() == [0.0, 0.0]
    out = im.deskew(np.vstack([blank, line]))
    assert_array_equal(out[0], 0)
    assert np.isfinite(out).all() and out[1].sum() == pytest.approx(line.sum())
    # The line is moved to the centre row, unsheared.
    assert_allclose(out[1].reshape(28, 28)[14], np.roll(line.reshape(28, 28)[10], 14 - 12), atol=1e-9)


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.7])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-9), (np.float32, 1e-3)])
def test_blur_matches_scipy_gaussian_filter(digits, sigma, dtype, tol):
    got = im.gaussian_blur(digits.astype(dtype), sigma)
    assert got.dtype == dtype
    expected = np.stack([gaussian_filter(d.reshape(28, 28).astype(float), sigma, mode="constant", cval=0.0).ravel()
                         for d in digits])
    assert_allclose(got, expected, atol=tol)


def test_integer_images_blur_in_float64(digits):
    assert im.gaussian_blur(digits, 1.0).dtype == np.float64


@pytest.mark.parametrize("call, match", [
    (lambda: im.deskew(np.zeros((2, 783))), r"deskew needs flattened 28x28 images, shape \(n, 784\), got \(2, 783\)"),
    (lambda: im.image_moments(np.zeros(784)), r"image_moments needs flattened 28x28 images"),
    (lambda: im.gaussian_blur(np.zeros((1, 784)), 0), "blur sigma must be a positive number of pixels, got 0"),
    (lambda: im.gaussian_blur(np.zeros((1, 784)), float("nan")), "positive number of pixels, got nan"),
])
def test_mistakes_are_one_sentence(call, match):
    with pytest.raises(GpuclfError, match=match):
        call()
