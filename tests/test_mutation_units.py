"""``tools/mutation.py`` takes each unit's tests from the layout, so its lists cannot go stale (issue 34, item 8).

Before, each module listed its test files by hand: the kernels' list still named the 12 files of
2026-11-24 and left out ``test_kernels_images.py``, ``test_kernels_pca.py`` and
``test_kernels_shifted_neighbors.py``, so those modules' mutants met none of their own tests.
"""
from __future__ import annotations

import importlib.util
import json
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


def _run(tmp_path, codes: dict, killed_now=None):
    """A unit's workdir as mutmut leaves it: one ``.meta`` per module, exit codes by mutant."""
    meta = tmp_path / "mutants" / "gpuclf" / "kernels" / "m.py.meta"
    meta.parent.mkdir(parents=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes}))
    if killed_now is not None:
        (tmp_path / "recheck.json").write_text(json.dumps({"killed_now": killed_now}))
    return tmp_path


def test_the_score_counts_survivors_killed_later_and_equivalents(tmp_path):
    # 1 killed, 1 timeout (caught, as mutmut counts it), 3 survived, 1 with no test, 1 not run yet.
    work = _run(tmp_path, {"a": 1, "b": -24, "c": 0, "d": 0, "e": 0, "f": 33, "g": None},
                killed_now=["c", "a"])  # "a" was killed by the run already: counted once
    s = mutation.score(work, {"d": ("math", "why"), "b": ("default", "a caught mutant is not an equivalent")})
    assert (s["mutants"], s["not_run"], s["killed_by_run"], s["timeouts"]) == (6, 1, 2, 1)
    assert (s["killed_now"], s["equivalent"], s["open"]) == (1, 1, ["e", "f"])
    assert s["score"] == pytest.approx(3 / 5)  # (a, b, c) / (6 mutants - d)


def test_a_run_with_no_survivors_scores_one(tmp_path):
    assert mutation.score(_run(tmp_path, {"a": 1, "b": 1}))["score"] == 1.0


def test_equivalents_file_has_four_columns(tmp_path):
    good = tmp_path / "ok.tsv"
    good.write_text("# unit\tmutant\tfamily\treason\nkernels\tm.x_f__mutmut_1\tdefault\tdtype None is float64\n")
    assert mutation.read_equivalents(good) == {"kernels": {"m.x_f__mutmut_1": ("default", "dtype None is float64")}}
    bad = tmp_path / "bad.tsv"
    bad.write_text("kernels\tm.x_f__mutmut_1\tdefault\n")
    with pytest.raises(SystemExit, match=r"bad.tsv:1: expected unit, mutant, family and reason"):
        mutation.read_equivalents(bad)
