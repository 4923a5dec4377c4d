"""A pytest plugin that runs scikit-learn's own tests with accel installed, and an expected-failure list.

    python -m pytest -p gpuclf.accel.pytest_plugin --gpuclf-accel numpy \\
        --gpuclf-accel-xfail tests/accel/sklearn_xfail.yaml --pyargs sklearn.linear_model.tests.test_sgd

``--gpuclf-accel BACKEND`` installs accel before the test modules import
scikit-learn, as cuml.accel's plugin does. The xfail list (YAML) is a list
of groups, each with a ``reason`` and the ``tests`` it covers, named
``module::test`` (a ``[parameters]`` suffix names one case; without it
every case of the test):

    - reason: "gpuclf's SGD is batched and averaged (docs/parity.md): other coefficients"
      tests:
        - sklearn.linear_model.tests.test_sgd::test_sgd_clf

Listed tests are marked ``xfail(strict=True)``: one that passes is a
failure, so the list cannot go stale. A listed name that matches no test
of a module that was collected is a usage error too.
"""
from __future__ import annotations

import pytest

__all__ = ["pytest_addoption", "pytest_collection_modifyitems", "pytest_load_initial_conftests"]


def pytest_addoption(parser) -> None:
    group = parser.getgroup("gpuclf.accel")
    group.addoption("--gpuclf-accel", default=None, metavar="BACKEND",
                    help="install gpuclf.accel on BACKEND (auto, gpu, numpy) before collecting")
    group.addoption("--gpuclf-accel-xfail", default=None, metavar="YAML",
                    help="the expected failures under gpuclf.accel, each with its reason")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    backend = early_config.known_args_namespace.gpuclf_accel
    if backend:
        from .core import install

        install(backend=backend, quiet=True)


def _load(path: str) -> dict[str, str]:
    """Test name -> reason, from the YAML list."""
    import yaml

    with open(path, encoding="utf-8") as f:
        groups = yaml.safe_load(f) or []
    reasons = {}
    for group in groups:
        if not group.get("reason"):
            raise pytest.UsageError(f"{path}: every group needs a reason: {group.get('tests', [])[:1]}")
        for test in group.get("tests", []):
            reasons[test] = group["reason"]
    return reasons


def _name(item) -> str:
    return f"{item.module.__name__}::{item.name}" if getattr(item, "module", None) else item.nodeid


@pytest.hookimpl(tryfirst=True)  # before -k deselects: every entry is checked against every collected test
def pytest_collection_modifyitems(config, items) -> None:
    path = config.getoption("--gpuclf-accel-xfail")
    if not path:
        return
    reasons = _load(path)
    used = set()
    for item in items:
        name = _name(item)
        key = name if name in reasons else name.split("[", 1)[0]
        if key in reasons:
            used.add(key)
            item.add_marker(pytest.mark.xfail(reason=reasons[key], strict=True))
    # Stale entries fail the run only when the whole module they name was collected.
    collected = {_name(i).split("::", 1)[0] for i in items}
    stale = sorted(k for k in set(reasons) - used if k.split("::", 1)[0] in collected)
    if stale:
        raise pytest.UsageError(f"{path}: {len(stale)} entries match no collected test, e.g. {stale[:3]}")
