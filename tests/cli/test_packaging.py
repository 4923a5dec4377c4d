"""Packaging: conda-env.yml, Dockerfile.cuda and pip extras name real, consistent things."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
yaml = pytest.importorskip("yaml")

# Top-level module -> conda package that provides it.
CONDA_NAME = {"numpy": "numpy", "scipy": "scipy", "sklearn": "scikit-learn", "matplotlib": "matplotlib",
              "mlxtend": "mlxtend", "cupy": "cupy", "cuml": "cuml", "cudf": "cudf", "pandas": "pandas", "rmm": "rmm",
              "rich": "rich", "distributed": "distributed", "dask_cuda": "dask-cuda", "joblib": "joblib",
              "threadpoolctl": "threadpoolctl", "pytest_benchmark": "pytest-benchmark",
              # gpuclf.accel: executing notebooks, and the pytest plugin for scikit-learn's own tests
              "nbclient": "nbclient", "nbformat": "nbformat", "pytest": "pytest", "yaml": "pyyaml"}
# Module -> pip distribution names that may provide it (CUDA-specific wheels for the GPU stack).
PIP_NAMES = {"numpy": {"numpy"}, "scipy": {"scipy"}, "sklearn": {"scikit-learn"},
             "matplotlib": {"matplotlib"}, "mlxtend": {"mlxtend"}, "pandas": {"pandas"}, "rich": {"rich"},
             "cupy": {"cupy-cuda12x", "cupy-cuda13x"}, "cuml": {"cuml-cu12", "cuml-cu13"},
             "rmm": {"rmm-cu12", "rmm-cu13"}, "cudf": {"cudf-cu12", "cudf-cu13"},
             "joblib": {"joblib", "scikit-learn"},  # scikit-learn's own dependency
             "distributed": {"dask"}, "dask_cuda": {"dask-cuda"},
             "threadpoolctl": {"threadpoolctl", "scikit-learn"},  # scikit-learn's own dependency too
             "pytest_benchmark": {"pytest-benchmark"}, "nbclient": {"nbclient"}, "nbformat": {"nbformat"},
             "pytest": {"pytest"}, "yaml": {"pyyaml"}}


def third_party_imports() -> set[str]:
    """Top-level modules that gpuclf's code imports, other than itself and the standard library."""
    found = set()
    for path in (ROOT / "gpuclf").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "gpuclf"}


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirement_name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower()


def test_every_import_is_known():
    unknown = third_party_imports() - set(CONDA_NAME)
    assert not unknown, f"map these imports to packages in this test and conda-env.yml: {unknown}"


def test_conda_env_parses_and_names_every_import():
    env = yaml.safe_load((ROOT / "conda-env.yml").read_text())
    assert env["channels"][:3] == ["rapidsai", "conda-forge", "nvidia"]
    deps = [d for d in env["dependencies"] if isinstance(d, str)]
    names = {requirement_name(d.replace("=", "==", 1) if "=" in d and "==" not in d else d) for d in deps}
    for module in third_party_imports():
        assert CONDA_NAME[module] in names, f"conda-env.yml lacks {CONDA_NAME[module]} (imported as {module})"
    pins = {requirement_name(d): d for d in deps}
    for pkg in ("cuml", "cudf"):  # one pinned RAPIDS release
        assert re.fullmatch(rf"{pkg}=\d\d\.\d\d", pins[pkg]), pins[pkg]
    assert pins["cuml"].split("=")[1] == pins["cudf"].split("=")[1]
    assert {"python", "cuda-version", "scikit-learn", "pytest", "pytest-benchmark"} <= names
    pip_section = [d for d in env["dependencies"] if isinstance(d, dict)][0]["pip"]
    assert "-e ." in pip_section


def test_dockerfile_pins_rapids_base_and_installs_gpuclf():
    text = (ROOT / "Dockerfile.cuda").read_text()
    base = re.search(r"^FROM\s+(\S+)", text, re.M).group(1)
    image, _, tag = base.partition(":")
    assert image.endswith("rapidsai/base") and re.fullmatch(r"\d\d\.\d\d-cuda\d+(\.\d+)?-py3\.\d+", tag), base
    env = yaml.safe_load((ROOT / "conda-env.yml").read_text())
    rapids = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("cuml=")][0].split("=")[1]
    assert tag.startswith(rapids), "Dockerfile.cuda and conda-env.yml should use the same RAPIDS release"
    assert re.search(r"pip install[^\n]*-e \"?\.", text)
    assert 'ENTRYPOINT ["gpuclf"]' in text


def _extra_requirements(extras: dict, name: str) -> set[str]:
    """Requirement names of an extra, with ``gpuclf[other]`` expanded."""
    names = set()
    for req in extras[name]:
        inner = re.fullmatch(r"gpuclf\[([\w-]+)\]", req)
        names |= _extra_requirements(extras, inner.group(1)) if inner else {requirement_name(req)}
    return names


def test_docker_image_gets_one_cupy():
    """The RAPIDS image's CuPy comes from conda: the extra the image installs must bring no pip CuPy."""
    text = (ROOT / "Dockerfile.cuda").read_text()
    extras = pyproject()["project"]["optional-dependencies"]
    installed = re.findall(r"pip install[^\n]*-e \"?\.\[([\w,-]+)\]", text)
    assert installed, "Dockerfile.cuda installs gpuclf with an extra"
    for extra in installed[0].split(","):
        assert not {n for n in _extra_requirements(extras, extra) if n.startswith("cupy")}, extra
    assert "cupy-cuda12x" in _extra_requirements(extras, "test")  # the README's test command keeps CuPy


def test_extras_resolve_to_real_package_names():
    project = pyproject()["project"]
    extras = project["optional-dependencies"]
    assert {"gpu-cu12", "gpu-cu13", "test", "bench"} <= set(extras)
    for cuda in ("12", "13"):
        names = {requirement_name(r) for r in extras[f"gpu-cu{cuda}"]}
        assert names == {f"cupy-cuda{cuda}x", f"cuml-cu{cuda}", f"cudf-cu{cuda}", "dask-cuda"}
    assert {requirement_name(r) for r in extras["dask"]} == {"dask"}  # dask[distributed]: --cluster
    # gpuclf bench: pytest-benchmark times, threadpoolctl reads the BLAS threads.
    assert {"pytest", "pytest-benchmark", "threadpoolctl"} <= {requirement_name(r) for r in extras["bench"]}
    for module, dists in PIP_NAMES.items():
        # The GPU stack, Dask and the bench tools come in extras, imported only where used.
        if module in third_party_imports() and module not in ("cupy", "cuml", "rmm", "cudf", "distributed",
                                                               "dask_cuda", "pytest_benchmark", "nbclient",
                                                               "nbformat", "pytest", "yaml"):
            assert dists & {requirement_name(r) for r in project["dependencies"]}, module
    assert project["scripts"]["gpuclf"] == "gpuclf.cli:main"


@pytest.mark.parametrize("extra", ["gpu-cu12", "gpu-cu13"])
def test_gpu_extras_exist_on_the_index(extra):
    """Where the package index is reachable, every GPU requirement has a matching release."""
    for req in pyproject()["project"]["optional-dependencies"][extra]:
        name = requirement_name(req)
        try:
            proc = subprocess.run([sys.executable, "-m", "pip", "index", "versions", name],
                                  capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.skip("package index did not answer")
        if proc.returncode != 0:
            if "No matching distribution" in proc.stderr:
                pytest.fail(f"{name} is not on the package index")
            pytest.skip(f"package index unreachable: {proc.stderr.strip()[:120]}")
        latest = re.search(rf"{re.escape(name)} \(([\d.]+)\)", proc.stdout).group(1)
        minimum = re.search(r">=([\d.]+)", req).group(1)
        as_tuple = lambda v: tuple(int(p) for p in v.split(".")[:2])  # noqa: E731
        assert as_tuple(latest) >= as_tuple(minimum), f"{req}: newest release is {latest}"
