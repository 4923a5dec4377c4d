"""``tools/mutation.py`` takes each unit's tests from the layout, so its lists cannot go stale (issue 34, item 8).

Before, each module listed its test files by hand: the kernels' list still named the 12 files of
2026-11-24 and left out ``test_kernels_images.py``, ``test_kernels_pca.py`` and
``test_kernels_shifted_neighbors.py``, so those modules' mutants met none of their own tests.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("gpuclf_mutation_tool", ROOT / "tools" / "mutation.py")
mutation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation)


def _files(folder: str) -> set:
    return {str(p.relative_to(ROOT)) for p in (ROOT / folder).glob("test_*.py")}


@pytest.mark.parametrize("unit, room", [("kernels", "kernels"), ("estimators", "estimators"), ("run", "run"),
                                        ("chapter", "chapter"), ("data", "data"), ("tables", "data"),
                                        ("bench", "benchmarks")])
def test_a_units_tests_are_its_rooms(unit, room):
    """Every test file of the room runs against a unit whose modules have no files named for them alone."""
    modules = mutation.unit_modules(mutation.UNITS[unit])
    assert modules and all((ROOT / m).is_file() and m.startswith(f"gpuclf/{room}/") for m in modules)
    tests = mutation.unit_tests(modules)
    assert set(tests) == _files(f"tests/{room}")
    if unit == "kernels":
        assert {"tests/kernels/test_kernels_images.py", "tests/kernels/test_kernels_pca.py",
                "tests/kernels/test_kernels_shifted_neighbors.py"} <= set(tests)


def test_a_module_with_files_named_for_it_runs_those():
    assert mutation.unit_tests(mutation.unit_modules(mutation.UNITS["knn_plus"])) == ["tests/chapter/test_knn_plus.py"]
    assert mutation.own_tests("gpuclf/run/store.py") == ["tests/run/test_mut_store.py", "tests/run/test_run_store.py"]
    assert mutation.own_tests("gpuclf/benchmarks/stats.py") == ["tests/benchmarks/test_bench_stats.py"]


def test_units_leave_out_what_they_say(tmp_path):
    chapter = mutation.unit_modules(mutation.UNITS["chapter"])
    assert "gpuclf/chapter/knn_plus.py" not in chapter and "gpuclf/chapter/steps.py" in chapter
    assert not any(m.endswith("__init__.py") for units in mutation.UNITS.values()
                   for m in mutation.unit_modules(units))
    # Each module of the core is measured once at most.
    measured = [m for units in mutation.UNITS.values() for m in mutation.unit_modules(units)]
    assert len(measured) == len(set(measured))


def test_a_new_test_file_joins_its_units_run_by_its_name(tmp_path, monkeypatch):
    for rel in ("gpuclf/run/store.py", "gpuclf/run/folder.py", "tests/run/test_run_store.py",
                "tests/run/test_run_options.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    monkeypatch.setattr(mutation, "ROOT", tmp_path)
    assert mutation.own_tests("gpuclf/run/store.py") == ["tests/run/test_run_store.py"]
    assert mutation.own_tests("gpuclf/run/folder.py") == ["tests/run/test_run_options.py",
                                                          "tests/run/test_run_store.py"]
    (tmp_path / "tests/run/test_store_resume.py").write_text("")  # named for store: joins it
    (tmp_path / "tests/run/test_restore.py").write_text("")  # "restore" is not "store"
    assert mutation.own_tests("gpuclf/run/store.py") == ["tests/run/test_run_store.py",
                                                         "tests/run/test_store_resume.py"]
    (tmp_path / "tests/run/test_run_folder.py").write_text("")
    assert mutation.own_tests("gpuclf/run/folder.py") == ["tests/run/test_run_folder.py"]
