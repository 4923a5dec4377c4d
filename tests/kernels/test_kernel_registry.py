"""The registry of CUDA kernels (``gpuclf/kernels/cuda.py``) holds every kernel gpuclf writes, as called.

``tests/gpu/test_nvrtc.py`` compiles what the registry holds; these tests make
sure nothing escapes it: no kernel is built anywhere else in gpuclf's
source, and on the emulated CuPy every call of a registered kernel passes
arrays (not Python scalars, which CuPy compiles into another variant) of the
ranks the kernel declares.
"""
from __future__ import annotations

import ast
from pathlib import Path

import fake_cupy
from gpuclf import RunConfig, get_backend, run_workflow
from gpuclf.backends import probes
from gpuclf.kernels.cuda import all_kernels

ROOT = Path(__file__).resolve().parents[2]
#: CuPy's ways to write a kernel of one's own.
KERNEL_MAKERS = {"ElementwiseKernel", "ReductionKernel", "RawKernel", "RawModule", "fuse", "jit"}


def test_kernels_are_built_only_through_the_registry():
    found = []
    for path in (ROOT / "gpuclf").rglob("*.py"):
        if path == ROOT / "gpuclf" / "kernels" / "cuda.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name in KERNEL_MAKERS:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not found, "define kernels with gpuclf.kernels.cuda.define / build: " + ", ".join(found)


def test_registered_kernels_are_called_with_arrays_of_their_declared_ranks(sample_mnist, tmp_path):
    kernels = all_kernels()
    with fake_cupy.installed():
        probes.cupy_status()  # the probe's kernel
        run_workflow(get_backend("gpu"), sample_mnist.subsample(600, 100),
                     RunConfig(steps=["binary_sgd", "multilabel"], cv=2, grid_cv=2), str(tmp_path), progress=False)
        calls = [k for k in fake_cupy.stats["kernels"] if k[0] in kernels]
    assert {name for name, *_ in calls} == set(kernels)
    for name, dtypes, ranks, _, _ in calls:
        kernel = kernels[name]
        n_in, n_out = (len(p.split(",")) for p in (kernel.in_params, kernel.out_params))
        assert "scalar" not in dtypes and len(dtypes) in (n_in, n_in + n_out), (name, dtypes)
        assert max(ranks) <= max(kernel.ranks), (name, ranks, kernel.ranks)
