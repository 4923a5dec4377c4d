"""The package's layout: rooms by domain, imports only downward, no circles, small modules.

The import graph is read from the source (every ``import``, at module level
or inside a function, and the names a package's ``__init__`` imports on first
use through :func:`gpuclf._lazy.lazy_exports`), so a lazy import cannot
hide an upward edge or a circle.
"""
from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gpuclf"
#: The rooms, lowest first: a module imports only from its own room and the rooms before it.
LAYERS = (
    ("_lazy", "errors", "xp", "dispatch"),
    ("kernels",),
    ("estimators",),
    ("backends",),
    ("data",),
    ("chapter",),
    ("run",),
    ("report",),
    ("benchmarks",),
    ("cli", "__main__", "accel"),
)
LEVEL = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}
MAX_TOP_MODULES = 8
MAX_LINES = 450


def _module(path: Path) -> str:
    parts = ("gpuclf", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def _existing(name: str) -> str | None:
    """``name``, or the nearest enclosing module that exists (an attribute import names its module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    """Every gpuclf module ``module`` imports, anywhere in its source."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "lazy_exports":
            # The modules a package's names come from: every string of the mapping that names a module.
            targets = [c.value for c in ast.walk(node.args[1]) if isinstance(c, ast.Constant)
                       and isinstance(c.value, str) and c.value.startswith((".", "gpuclf"))]
            found.update(package + t if t.startswith(".") else t for t in targets)
    return {m for m in map(_existing, found) if m and m.startswith("gpuclf") and m != module}


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def _room(module: str) -> str:
    return module.split(".")[1] if module != "gpuclf" else "gpuclf"


def test_every_room_has_a_layer():
    rooms = {_room(m) for m in MODULES} - {"gpuclf"}
    assert rooms <= set(LEVEL), f"rooms without a layer in LAYERS: {sorted(rooms - set(LEVEL))}"


def test_imports_only_go_down_the_layers():
    """The package root is the public façade (it imports any room, on first use); no module imports it back."""
    upward = [f"{m} -> {d}" for m, deps in GRAPH.items() if m != "gpuclf" for d in deps
              if d == "gpuclf" or LEVEL[_room(d)] > LEVEL[_room(m)]]
    assert not upward, "imports going up the layers:\n" + "\n".join(sorted(upward))


def test_no_import_circles():
    """No two modules reach each other through imports (Tarjan's strongly connected components)."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert not circles, f"import circles: {circles}"


def test_the_top_holds_few_modules():
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_small(module):
    lines = MODULES[module].read_text().count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"


@pytest.mark.parametrize("package", sorted(m for m, p in MODULES.items() if p.name == "__init__.py"))
def test_each_package_says_its_job_and_lists_its_public_names(package):
    tree = ast.parse(MODULES[package].read_text())
    assert ast.get_docstring(tree), f"{package} has no docstring"
    names = [n for n in tree.body
             if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in n.targets)]
    assert names, f"{package} lists no public names (__all__)"
    module = importlib.import_module(package)
    missing = [n for n in module.__all__ if not hasattr(module, n) and f"{package}.{n}" not in MODULES]
    assert not missing, f"{package}.__all__ names what it does not have: {missing}"


def test_kernels_are_declared_in_the_kernels_room():
    """The NVRTC check compiles the registry of :mod:`gpuclf.kernels`; a kernel declared elsewhere would escape it."""
    elsewhere = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if p.parent.name != "kernels"
                 and any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == "define"
                         for n in ast.walk(ast.parse(p.read_text())))]
    assert not elsewhere, f"CUDA kernels defined outside gpuclf/kernels: {elsewhere}"


def test_the_command_line_starts_without_numpy():
    """``gpuclf --help`` answers at once, and a Ctrl-C while NumPy loads reaches the CLI's handler (gpuclf._lazy)."""
    code = "import sys, gpuclf.cli; print(*sorted(m for m in ('numpy', 'sklearn', 'matplotlib') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert done.returncode == 0 and done.stdout.strip() == "", f"importing gpuclf.cli loads {done.stdout}{done.stderr}"
