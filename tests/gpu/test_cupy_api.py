"""Every ``xp.<function>(..., keyword=...)`` gpuclf calls exists in real CuPy.

The emulated CuPy (``fake_cupy``) lends NumPy's whole namespace, so it
cannot tell whether CuPy has a function or takes a keyword. This test reads
gpuclf's source and asks CuPy itself. It needs CuPy installed but no GPU
(CuPy imports without a driver); it skips where CuPy is missing.
"""
from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import gpuclf

cupy = pytest.importorskip("cupy", reason="CuPy is not installed (no GPU needed for this check)")


def xp_calls():
    """(file:line, function name, keyword names) of each ``xp.f(...)`` call in gpuclf."""
    root = Path(gpuclf.__file__).parent
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "xp"):
                yield (f"{path.relative_to(root)}:{node.lineno}", node.func.attr,
                       [k.arg for k in node.keywords if k.arg])


def test_source_has_xp_calls():
    assert len(list(xp_calls())) > 50


@pytest.mark.parametrize("where, name, keywords", list(xp_calls()), ids=lambda v: v if isinstance(v, str) else "")
def test_cupy_has_function_and_keywords(where, name, keywords):
    assert hasattr(cupy, name), f"{where}: cupy has no {name}"
    try:
        params = inspect.signature(getattr(cupy, name)).parameters
    except (TypeError, ValueError):  # a ufunc or a Cython function without a signature
        return
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    missing = [k for k in keywords if k not in params]
    assert not missing, f"{where}: cupy.{name} takes no {missing}"
