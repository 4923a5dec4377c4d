"""``gpuclf/kernels/cuda.py``: declaring a kernel (``define``) and building it for CuPy (``build``).

``build`` is checked two ways: against CuPy's constructors' documented positional arguments
(``ElementwiseKernel(in_params, out_params, operation, name)``, ``ReductionKernel(in_params, out_params,
map_expr, reduce_expr, post_map_expr, identity, name)``) with a recording namespace, and by running the
built kernels on the emulated CuPy against NumPy.
"""
from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import fake_cupy
from gpuclf.kernels import cuda


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the test's own kernels (gpuclf's are left as they are)."""
    monkeypatch.setattr(cuda, "KERNELS", {})
    return cuda.KERNELS


def test_define_declares_the_kernel_it_is_given_under_its_name(registry):
    kernel = cuda.define("t_axpy", "T a, T x", "T y", "y = a * x", ranks=[1, 2, 3])
    assert kernel == cuda.CudaKernel(name="t_axpy", in_params="T a, T x", out_params="T y", body="y = a * x",
                                     reduce=None, ranks=(1, 2, 3))
    assert type(kernel.ranks) is tuple
    red = cuda.define("t_sumsq", "T x", "T y", "x * x", reduce=("a + b", "y = a", "0"), ranks=(1,))
    assert (red.name, red.in_params, red.out_params, red.body, red.reduce, red.ranks) == (
        "t_sumsq", "T x", "T y", "x * x", ("a + b", "y = a", "0"), (1,))
    assert cuda.define("t_default", "T x", "T y", "y = x").ranks == (1, 2)  # the documented default
    assert registry == {"t_axpy": kernel, "t_sumsq": red, "t_default": cuda.KERNELS["t_default"]}
    assert registry["t_axpy"] is kernel


def test_define_again_the_same_kernel_is_allowed_a_different_one_is_an_error(registry):
    first = cuda.define("t_twice", "T x", "T y", "y = x + x")
    assert cuda.define("t_twice", "T x", "T y", "y = x + x") == first  # a module imported twice
    with pytest.raises(ValueError, match="two different CUDA kernels are named 't_twice'"):
        cuda.define("t_twice", "T x", "T y", "y = x * 2")
    assert registry == {"t_twice": first}


class Recorder:
    """A namespace with CuPy's two kernel constructors, recording their positional arguments."""

    def __init__(self):
        self.made = []

    def ElementwiseKernel(self, *args, **kwargs):  # noqa: N802 (CuPy's name)
        self.made.append(("ElementwiseKernel", args, kwargs))
        return object()

    def ReductionKernel(self, *args, **kwargs):  # noqa: N802
        self.made.append(("ReductionKernel", args, kwargs))
        return object()


def test_build_calls_cupys_constructors_with_the_kernels_arguments_once_each():
    xp = Recorder()
    elem = cuda.CudaKernel("t_b_elem", "T x", "T y", "y = x + x")
    red = cuda.CudaKernel("t_b_red", "T x", "T y", "x * x", reduce=("a + b", "y = a", "0"))
    a, b = cuda.build(xp, elem), cuda.build(xp, red)
    assert a is not b
    assert xp.made == [("ElementwiseKernel", ("T x", "T y", "y = x + x", "t_b_elem"), {}),
                       ("ReductionKernel", ("T x", "T y", "x * x", "a + b", "y = a", "0", "t_b_red"), {})]
    assert cuda.build(xp, elem) is a and cuda.build(xp, red) is b  # built once
    assert len(xp.made) == 2
    other = Recorder()  # another namespace builds its own
    assert cuda.build(other, elem) is not a and len(other.made) == 1


def test_built_kernels_compute_their_bodies_on_the_emulated_cupy():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    red = cuda.CudaKernel("t_e_sumsq", "T x", "T y", "x * x", reduce=("a + b", "y = a", "0"))
    with fake_cupy.installed() as cp:
        assert_array_equal(cp.asnumpy(cuda.build(cp, cuda.PROBE)(cp.asarray(x))), x + x + 1)
        assert float(cuda.build(cp, red)(cp.asarray(x))) == float((x * x).sum())
        names = {k[0] for k in fake_cupy.stats["kernels"]}
    assert {"gpuclf_probe", "t_e_sumsq"} <= names  # launched under the kernels' names
