"""Deskewing and blurring on whole batches against scipy.ndimage applied image by image."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.ndimage import affine_transform, gaussian_filter

from gpuclf.errors import GpuclfError
from gpuclf.kernels import images as im
from traced_peak import extra_peak


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


# --- Round 5 mutation survivors: dtypes, flat images, steep strokes, other sides, chunking, CuPy's API ---

def test_float32_images_give_float32_moments(digits):
    """The docstring's "X's float dtype": float32 in, float32 moments out (as textbook values, to float32)."""
    X = digits.astype(np.float32)
    moments = im.image_moments(X)
    assert [m.dtype for m in moments] == [np.float32] * 3
    expected = np.array([reference_moments(d.reshape(28, 28).astype(float)) for d in digits])
    assert_allclose(np.stack(moments, axis=1), expected, rtol=1e-4, atol=1e-4)


def test_blank_and_one_row_images_raise_no_floating_point_warning():
    """A blank image and one with ink on one row have no skew: no 0/0 on the way (no RuntimeWarning)."""
    X = np.zeros((2, 784))
    X[1, 28 * 10 + 5:28 * 10 + 20] = 255
    with np.errstate(all="raise"):
        _, _, alpha = im.image_moments(X)
        im.deskew(X)
    assert alpha.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ink_on_one_row_has_no_skew_whatever_its_values(dtype):
    """The docstring's 0 for ink all on one row, also where the row mean rounds one ulp off (these values
    gave a skew of -0.86 when flatness was read from a variance of ~1e-30)."""
    X = np.zeros((1, 784), dtype)
    X[0, 28 * 6 + 3:28 * 6 + 9] = [0.3, 0.7, 1.1, 0.2, 0.9, 0.5]
    assert im.image_moments(X)[2].tolist() == [0.0]
    assert im.image_moments(X)[0][0] == pytest.approx(6.0)


def test_flatness_is_read_per_image_and_counts_faint_rows():
    """Flat means ink on at most one row of that image: a two-row stroke of faint ink (row sums below 1)
    has its skew, beside a one-row image (no skew) in the same batch."""
    X = np.zeros((3, 784))
    X[0, 28 * 10 + 5], X[0, 28 * 11 + 7] = 0.4, 0.9  # two faint rows, leaning 2 columns a row
    X[1, 28 * 6 + 3:28 * 6 + 9] = [0.3, 0.7, 1.1, 0.2, 0.9, 0.5]  # one row
    X[2, 28 * 4 + 2], X[2, 28 * 5 + 3], X[2, 28 * 6 + 4] = 200, 150, 100  # three rows
    alpha = im.image_moments(X)[2]
    expected = [reference_moments(X[i].reshape(28, 28))[2] for i in (0, 2)]
    assert alpha[1] == 0.0
    assert_allclose(alpha[[0, 2]], expected, rtol=1e-12)
    assert_allclose(alpha[[0, 2]], [2.0, 1.0], rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_deskew_chunks_hold_what_the_budget_allows(dtype):
    """A budget for five images gives chunks of five: the same working memory as five images in one go
    (float32 chunks sized as float64 ones would hold three)."""
    X = np.random.default_rng(2).integers(0, 256, size=(40, 784)).astype(dtype)
    budget = 784 * im.deskew_bytes_per_pixel(dtype) * 5
    chunked = extra_peak(lambda: im.deskew(X, budget_bytes=budget))[0]
    assert chunked == pytest.approx(extra_peak(lambda: im.deskew(X[:5]))[0], rel=0.1)


def test_deskew_of_a_steep_stroke_matches_scipy():
    """A stroke leaning two columns a row: reads fall far left of the image (more than a width), still zeros."""
    image = np.zeros((28, 28))
    for r in range(14):
        image[r, 2 * r:2 * r + 2] = 200.0  # c = 2r: alpha = 2
    X = image.reshape(1, 784)
    assert im.image_moments(X)[2][0] == pytest.approx(2.0, abs=0.1)
    assert_allclose(im.deskew(X)[0], reference_deskew(X[0]), atol=1e-9)


def _reference_deskew_side(image, side):
    """scipy's affine_transform of one side x side image, the moments written out with np.mgrid."""
    rows, cols = np.mgrid[:side, :side]
    total = image.sum()
    mr, mc = (rows * image).sum() / total, (cols * image).sum() / total
    alpha = ((rows - mr) * (cols - mc) * image).sum() / ((rows - mr) ** 2 * image).sum()
    affine = np.array([[1.0, 0.0], [alpha, 1.0]])
    offset = np.array([mr, mc]) - affine @ np.array([side / 2, side / 2])
    return affine_transform(image, affine, offset=offset, order=1, mode="grid-constant", cval=0.0).ravel()


def test_other_image_sides_deskew_and_blur_like_scipy():
    """``side`` is honoured all the way down (moments, Gaussian matrix), not only in the shape check."""
    side = 10
    X = np.random.default_rng(3).integers(0, 256, size=(3, side * side)).astype(np.float64)
    expected = np.stack([_reference_deskew_side(x.reshape(side, side), side) for x in X])
    assert_allclose(im.deskew(X, side=side), expected, atol=1e-9)
    blurred = np.stack([gaussian_filter(x.reshape(side, side), 1.2, mode="constant", cval=0.0).ravel() for x in X])
    assert_allclose(im.gaussian_blur(X, 1.2, side=side), blurred, atol=1e-9)


def test_blur_shape_error_names_gaussian_blur():
    with pytest.raises(GpuclfError, match=r"^gaussian_blur needs flattened 28x28 images, shape \(n, 784\)"):
        im.gaussian_blur(np.zeros((2, 783)), 1.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_deskew_working_memory_stays_within_the_budget(dtype):
    """budget_bytes bounds the chunk: 60 images with room for 5 stay within the budget (NumPy's temporaries,
    traced), while one chunk of all 60 images would take 12 times more."""
    X = np.random.default_rng(0).integers(0, 256, size=(60, 784)).astype(dtype)
    work = np.float32 if dtype == np.float32 else np.float64
    budget = 784 * im.deskew_bytes_per_pixel(work) * 5
    assert extra_peak(lambda: im.deskew(X, budget_bytes=budget))[0] <= budget


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_deskews_memory_estimate_is_a_close_upper_bound(dtype):
    """``deskew_bytes_per_pixel`` bounds the measured working memory, and not loosely: within 1.75 times
    (measured 1.3-1.5 times; float32 images sized as float64 ones would be 2.1 times)."""
    X = np.random.default_rng(1).integers(0, 256, size=(60, 784)).astype(dtype)
    measured = extra_peak(lambda: im.deskew(X))[0] / X.size
    estimate = im.deskew_bytes_per_pixel(np.float32 if dtype == np.float32 else np.float64)
    assert measured <= estimate <= 1.75 * measured


def test_deskew_handles_a_batch_without_a_loop_over_images():
    """The module's promise: a whole batch at once. On the (emulated) device 12 images take the launches of 1."""
    import fake_cupy
    X = np.random.default_rng(0).integers(0, 256, size=(12, 784)).astype(np.float32)
    with fake_cupy.installed() as cp:
        launches = []
        for batch in (X[:1], X):
            fake_cupy.reset_stats()
            im.deskew(cp.asarray(batch))
            launches.append(fake_cupy.stats["launches"])
    assert launches[0] == launches[1]


def test_deskew_on_the_device_equals_numpy():
    """The emulated device refuses ``take_along_axis`` without ``axis``, as CuPy does (NumPy 2 has a default)."""
    import fake_cupy
    X = np.random.default_rng(0).integers(0, 256, size=(3, 784)).astype(np.float64)
    with fake_cupy.installed() as cp:
        got = im.deskew(cp.asarray(X)).get()
    assert_allclose(got, im.deskew(X), atol=1e-12)


def test_float32_deskew_works_in_float32():
    """float32 input is deskewed in float32: for chunks of the same 5 images its working memory is well below
    float64 input's (about 0.7 of it), not float64 temporaries written back to float32 at the end."""
    X = np.random.default_rng(0).integers(0, 256, size=(60, 784))

    def peak(dtype):
        budget = 784 * im.deskew_bytes_per_pixel(dtype) * 5
        return extra_peak(lambda: im.deskew(X.astype(dtype), budget_bytes=budget))[0]

    assert peak(np.float32) < 0.8 * peak(np.float64)
