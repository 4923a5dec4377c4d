"""Every CUDA kernel gpuclf defines, compiled to cubin by NVRTC here, without a GPU (see ``tests/cupy_compile.py``).

Runs where CuPy's NVRTC and CUDA headers are installed (``cupy-cuda12x[ctk]``
or ``cupy-cuda13x[ctk]``): ``.ci/real-tools`` runs it once with each, with
``GPUCLF_REQUIRE=nvrtc`` so that a missing compiler fails instead of skipping.
The kernels come from the registry (:func:`gpuclf.kernels.cuda.all_kernels`),
so a kernel added later is compiled too.
"""
from __future__ import annotations

import dataclasses
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

import cupy_compile as cc
from gpuclf.kernels.cuda import all_kernels

PROBLEM = cc.nvrtc_problem()
if PROBLEM and "nvrtc" in cc.REQUIRED:
    raise AssertionError(f"GPUCLF_REQUIRE=nvrtc but NVRTC cannot run here: {PROBLEM}")
pytestmark = pytest.mark.skipif(PROBLEM is not None, reason=f"NVRTC checks: {PROBLEM}")

KERNELS = all_kernels()


def test_cupy_is_the_release_whose_internals_are_called():
    import cupy

    assert cupy.__version__ == cc.CUPY_PIN, (
        f"tests/cupy_compile.py calls CuPy {cc.CUPY_PIN}'s internal code generators; found CuPy "
        f"{cupy.__version__}: read its _kernel.pyx / _reduction.pyx / compiler.py, then update CUPY_PIN")
    cc.cupy_internals()


def test_the_registry_holds_the_kernels_gpuclf_calls():
    # Not a list to keep: a floor, so that a registry that silently lost its definitions fails.
    assert {"gpuclf_probe", "gpuclf_sgd_active", "gpuclf_sgd_update",
            "gpuclf_sgd_intercept_grad", "gpuclf_sgd_update_b"} <= set(KERNELS)


@pytest.mark.parametrize("arch", cc.ARCHS)
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_every_variant_compiles(name, arch):
    cp = cc.cupy_internals()
    options = cc.compile_options(cp)
    kernel = KERNELS[name]

    def check(variant):
        try:
            cubin = cc.compile_cubin(cc.source(kernel, variant, cp), arch, options, cp)
        except cp.compiler.CompileException as exc:
            return f"{variant}: {exc}"
        return None if cubin[:4] == b"\x7fELF" and kernel.name.encode() in cubin else f"{variant}: not a cubin"

    # NVRTC runs outside the GIL: one thread per core.
    with cc.arch_given(cp), ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        failures = [f for f in pool.map(check, cc.variants(kernel)) if f]
    assert not failures, f"{name} on sm_{arch}:\n" + "\n".join(failures)


PLANTED = {
    # An undefined identifier, and a value of the wrong type (a pointer used as a number).
    "undefined": ("gpuclf_planted_typo", 'identifier "gpuclf_planted_typo" is undefined'),
    "type": ("(T*)0", "expression must have arithmetic"),
}


@pytest.mark.parametrize("kind", sorted(PLANTED))
@pytest.mark.parametrize("name", sorted(KERNELS))
def test_a_planted_error_fails_with_nvrtcs_message(name, kind):
    """The negative control: the same check, on a body with one planted error, fails with NVRTC's log."""
    cp = cc.cupy_internals()
    token, message = PLANTED[kind]
    kernel = KERNELS[name]
    if kernel.reduce is None:
        out = kernel.out_params.split(",")[0].split()[-1]
        body = f"{kernel.body}; {out} = {out} * {token}"
    else:
        body = f"({kernel.body}) * {token}"
    broken = dataclasses.replace(kernel, body=body)
    variant = cc.variants(broken)[0]
    with pytest.raises(cp.compiler.CompileException) as caught, cc.arch_given(cp):
        cc.compile_cubin(cc.source(broken, variant, cp), "90", cc.compile_options(cp), cp)
    assert message in str(caught.value) and "error" in str(caught.value)
