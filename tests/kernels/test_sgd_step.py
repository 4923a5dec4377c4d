"""The fused SGD mini-batch (``gpuclf/kernels/sgd_step.py``): each kernel equals its NumPy twin, and one
batch costs two GEMMs and four launches, with no host sync, however many batches there are."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import fake_cupy
from conftest import GPU_OK
from gpuclf.kernels import sgd_step
from gpuclf.kernels.linear import fit_hinge_sgd


def _kernel_args(name, rng, xp, dtype):
    """Inputs, then outputs (pre-filled), as the batch step passes them; shapes of a (7 x 3) batch, 5 features."""
    a = lambda *shape: xp.asarray(rng.normal(size=shape).astype(dtype))  # noqa: E731
    ym = xp.asarray(rng.choice([-1.0, 0.0, 1.0], size=(7, 3)).astype(dtype))
    if name == "gpuclf_sgd_active":
        return [a(7, 3), a(3), ym, xp.asarray(np.full((7, 3), 9, dtype))], {}
    if name == "gpuclf_sgd_update":
        return [a(5, 3), a(3), a(3), a(3), a(5, 3), a(5, 3)], {}
    if name == "gpuclf_sgd_intercept_grad":
        return [a(7, 3), ym], {"axis": 0, "out": xp.asarray(np.zeros(3, dtype))}
    return [a(3), a(3), a(3), a(3)], {}


def _outputs(name, args, kwargs):
    """The arrays a kernel writes: ``out`` for the reduction, else its declared outputs (the last arguments)."""
    if "out" in kwargs:
        return [kwargs["out"]]
    n_out = len(sgd_step._KERNELS[name].out_params.split(","))
    return args[-n_out:]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(sgd_step.TWINS))
def test_twin_equals_the_cuda_body_as_emulated(name, dtype):
    """The CUDA body, evaluated statement by statement by the emulation, equals the NumPy twin."""
    with fake_cupy.installed() as cp:
        args, kwargs = _kernel_args(name, np.random.default_rng(0), cp, dtype)
        sgd_step.kernels_for(cp)[name](*args, **kwargs)
        emulated = [o.get() for o in _outputs(name, args, kwargs)]
    args, kwargs = _kernel_args(name, np.random.default_rng(0), np, dtype)
    sgd_step.TWINS[name](*args, **kwargs)
    for got, want in zip(emulated, _outputs(name, args, kwargs)):
        assert got.dtype == want.dtype == dtype
        assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-13)


@pytest.mark.gpu
@pytest.mark.skipif(not GPU_OK, reason="needs CUDA")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(sgd_step.TWINS))
def test_twin_equals_the_compiled_cuda_kernel(name, dtype):
    import cupy as cp

    args, kwargs = _kernel_args(name, np.random.default_rng(0), cp, dtype)
    sgd_step.kernels_for(cp)[name](*args, **kwargs)
    device = [cp.asnumpy(o) for o in _outputs(name, args, kwargs)]
    args, kwargs = _kernel_args(name, np.random.default_rng(0), np, dtype)
    sgd_step.TWINS[name](*args, **kwargs)
    for got, want in zip(device, _outputs(name, args, kwargs)):
        # fused multiply-add and another summation order: float rounding, not bits
        assert_allclose(got, want, rtol=1e-5 if dtype == np.float32 else 1e-12)


def _fit_counts(n, batch_size, average_after=1):
    """Launches, GEMMs and syncs of one emulated fit: 3 models, ``n`` rows, 6 epochs."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 8)).astype(np.float32)
    Y = np.where(X[:, :3] > 0, 1.0, -1.0).astype(np.float32)
    with fake_cupy.installed() as cp:
        Xd, Yd, Md = cp.asarray(X), cp.asarray(Y), cp.asarray(np.ones_like(Y))
        fake_cupy.reset_stats()
        coef, intercept, _ = fit_hinge_sgd(Xd, Yd, Md, batch_size=batch_size, max_iter=6, random_state=0,
                                           average_after=average_after)
        stats = dict(fake_cupy.stats)
        coef = coef.get()
    assert_array_equal(coef, fit_hinge_sgd(X, Y, np.ones_like(Y), batch_size=batch_size, max_iter=6,
                                           random_state=0, average_after=average_after)[0])
    return stats


@pytest.mark.parametrize("average_after", [1, None])
def test_one_batch_is_two_gemms_and_four_launches_without_sync(average_after):
    # 6,400 rows, 6 epochs: 64-row batches (100 a epoch) against 32-row batches (200 a epoch).
    few, many = _fit_counts(6_400, 64, average_after), _fit_counts(6_400, 32, average_after)
    extra_batches = 6 * (200 - 100)
    assert (many["launches"] - few["launches"]) == 6 * extra_batches  # 2 GEMMs + 4 fused kernels each
    assert many["syncs"] == few["syncs"]  # no host sync per batch


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_active_twin_on_held_out_rows_is_quiet_and_zero(dtype):
    """Held-out rows have ``ym = 0`` (``z + b`` may be 0 too): they are inactive, with no floating-point
    warning on the way, as in the CUDA body ``(z + b) * ym <= 1``."""
    z = np.array([[0.0, 2.0, -3.0], [0.5, 0.0, 0.5]], dtype)
    b = np.array([0.0, -2.0, 1.0], dtype)
    ym = np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 0.0]], dtype)
    r = np.full((2, 3), 9, dtype)
    with np.errstate(all="raise"):
        sgd_step.TWINS["gpuclf_sgd_active"](z, b, ym, r)
    assert_array_equal(r, np.array([[0, 0, 0], [1, 0, 0]], dtype))  # margins 0.5 (active), 2, 0 (held out)
