"""``tools/mutation.py`` takes each unit's tests from the layout, so its lists cannot go stale (issue 34, item 8).

Before, each module listed its test files by hand: the kernels' list still named the 12 files of
2026-11-24 and left out ``test_kernels_images.py``, ``test_kernels_pca.py`` and
``test_kernels_shifted_neighbors.py``, so those modules' mutants met none of their own tests.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
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
    assert _files(f"tests/{room}") <= set(tests)
    # Files from other rooms join only by importing one of the unit's modules.
    assert set(tests) - _files(f"tests/{room}") == {t for m in modules for t in mutation.importers(m)} - _files(f"tests/{room}")
    if unit == "kernels":
        assert {"tests/kernels/test_kernels_images.py", "tests/kernels/test_kernels_pca.py",
                "tests/kernels/test_kernels_shifted_neighbors.py"} <= set(tests)


def test_a_module_with_files_named_for_it_runs_those():
    assert mutation.unit_tests(mutation.unit_modules(mutation.UNITS["knn_plus"])) == ["tests/chapter/test_knn_plus.py",
                                                                                      "tests/chapter/test_mut_knn_plus.py"]
    # ... and those that import it, in its room (a crash mid-save) or another (the report reads a store).
    assert mutation.own_tests("gpuclf/run/store.py") == [
        "tests/chapter/test_knn_plus.py", "tests/report/test_report.py", "tests/run/test_cluster_lost.py",
        "tests/run/test_mut_store.py", "tests/run/test_run_atomic.py", "tests/run/test_run_store.py"]
    stats = mutation.own_tests("gpuclf/benchmarks/stats.py")
    assert {"tests/benchmarks/test_bench_stats.py", "tests/benchmarks/test_mut_stats.py"} <= set(stats)  # named
    assert "tests/benchmarks/test_bench_flops.py" not in stats  # its room's, neither named for it nor importing it


def test_a_test_file_in_another_room_joins_the_modules_it_imports(tmp_path, monkeypatch):
    """The estimators' SGD tests sit with its kernel (tests/kernels/test_kernels_linear.py); the estimators'
    first run in the new layout met none of them, and 70 mutants of ``cross_val_decision_sgd`` survived."""
    assert "tests/kernels/test_kernels_linear.py" in mutation.own_tests("gpuclf/estimators/linear.py")
    for rel in ("gpuclf/estimators/linear.py", "tests/estimators/test_estimators_dummy.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    monkeypatch.setattr(mutation, "ROOT", tmp_path)
    imports = {"a": "from gpuclf.estimators.linear import SGDClassifier\n",
               "b": "import numpy\nfrom gpuclf.estimators import (\n    dummy,\n    linear,\n)\n",
               "c": "import gpuclf.estimators.linear as lin\n",
               "d": "from gpuclf.estimators import linear_model, SGDClassifier\n",  # not the module
               "e": "from gpuclf.estimators.linearity import x\n"}
    for name, text in imports.items():
        (tmp_path / "tests" / "other").mkdir(parents=True, exist_ok=True)
        (tmp_path / "tests" / "other" / f"test_{name}.py").write_text(text)
    assert mutation.importers("gpuclf/estimators/linear.py") == [f"tests/other/test_{n}.py" for n in "abc"]
    assert mutation.own_tests("gpuclf/estimators/linear.py") == [
        "tests/estimators/test_estimators_dummy.py", *[f"tests/other/test_{n}.py" for n in "abc"]]


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


def _run(tmp_path, codes: dict, killed_now=None, hashes=None):
    """A unit's workdir as mutmut leaves it: one ``.meta`` per module, exit codes by mutant, function hashes."""
    meta = tmp_path / "mutants" / "gpuclf" / "kernels" / "m.py.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(json.dumps({"exit_code_by_key": codes, "hash_by_function_name": hashes or {}}))
    if killed_now is not None:
        (tmp_path / "recheck.json").write_text(json.dumps({"killed_now": killed_now}))
    return tmp_path


def test_the_score_counts_survivors_killed_later_and_equivalents(tmp_path):
    # 1 killed, 1 timeout (caught, as mutmut counts it), 3 survived, 1 with no test, 1 not run yet.
    codes = {f"gpuclf.kernels.m.x_f__mutmut_{i}": c for i, c in enumerate([1, -24, 0, 0, 0, 33, None], 1)}
    a, b, c, d, e, f, _ = codes
    work = _run(tmp_path, codes, killed_now=[c, a], hashes={"x_f": "h1"})  # a was killed by the run already
    s = mutation.score(work, {d: ("h1", "math", "why"), b: ("h1", "default", "a caught mutant is no equivalent")})
    assert (s["mutants"], s["not_run"], s["killed_by_run"], s["timeouts"]) == (6, 1, 2, 1)
    assert (s["killed_now"], s["equivalent"], s["open"], s["stale"]) == (1, 1, [e, f], [])
    assert s["score"] == pytest.approx(3 / 5)  # (a, b, c) / (6 mutants - d)


def test_an_equivalent_judged_on_an_older_function_no_longer_counts(tmp_path):
    codes = {"gpuclf.kernels.m.x_f__mutmut_1": 0, "gpuclf.kernels.m.x_g__mutmut_1": 0}
    work = _run(tmp_path, codes, hashes={"x_f": "new", "x_g": "same"})
    s = mutation.score(work, {m: ("old" if ".x_f_" in m else "same", "math", "why") for m in codes})
    assert s["stale"] == s["open"] == ["gpuclf.kernels.m.x_f__mutmut_1"] and s["equivalent"] == 1
    assert s["score"] == 0.0


def test_a_run_with_no_survivors_scores_one(tmp_path):
    assert mutation.score(_run(tmp_path, {"a__mutmut_1": 1, "a__mutmut_2": 1}))["score"] == 1.0


def test_equivalents_file_has_five_columns(tmp_path):
    good = tmp_path / "ok.tsv"
    good.write_text("# unit\tmutant\thash\tfamily\treason\n"
                    "kernels\tm.x_f__mutmut_1\tab12\tdefault\tdtype None is float64\n")
    assert mutation.read_equivalents(good) == {"kernels": {"m.x_f__mutmut_1": ("ab12", "default",
                                                                                "dtype None is float64")}}
    bad = tmp_path / "bad.tsv"
    bad.write_text("kernels\tm.x_f__mutmut_1\tdefault\twhy\n")
    with pytest.raises(SystemExit, match=r"bad.tsv:1: expected unit, mutant, hash, family and reason"):
        mutation.read_equivalents(bad)


def test_the_ledger_carries_a_run_to_a_new_machine(tmp_path):
    """Saved from one workdir and restored into an empty one, the run's results and re-check kills are the
    same, with mutmut's own .meta layout (so mutmut re-runs only the mutants of changed functions)."""
    codes = {"gpuclf.kernels.m.x_f__mutmut_1": 1, "gpuclf.kernels.m.x_f__mutmut_2": 0,
             "gpuclf.kernels.m.x_f__mutmut_3": None, "gpuclf.kernels.m.xǁIndexǁsearch__mutmut_1": 33,
             "gpuclf.kernels.m.xǁIndexǁsearch__mutmut_2": 0}
    hashes = {"x_f": "h1", "xǁIndexǁsearch": "h2", "x_quiet": "h3"}  # x_quiet has no mutants
    ledger = tmp_path / "ledger.tsv"
    ledger.write_text("# header\nestimators\tgpuclf/estimators/b.py\tx_k\th9\t1,0\n")  # another unit's line
    old = _run(tmp_path / "old", codes, killed_now=["gpuclf.kernels.m.x_f__mutmut_2"], hashes=hashes)
    assert mutation.save_ledger("kernels", old, ledger) == 3
    rows = [ln.split("\t") for ln in ledger.read_text().splitlines()[1:]]
    assert ["kernels", "gpuclf/kernels/m.py", "x_f", "h1", "1,r,"] in rows
    assert ["estimators", "gpuclf/estimators/b.py", "x_k", "h9", "1,0"] in rows
    new = tmp_path / "new"
    assert mutation.restore_ledger("kernels", new, ledger) == 4
    meta = json.loads((new / "mutants/gpuclf/kernels/m.py.meta").read_text())
    assert meta["exit_code_by_key"] == codes and meta["hash_by_function_name"] == hashes
    assert set(meta) == {"exit_code_by_key", "hash_by_function_name", "type_check_error_by_key",
                         "durations_by_key", "estimated_durations_by_key"}  # all that mutmut 3.8's load() reads
    assert mutation.score(new) == mutation.score(old)
    # A workdir with its own results keeps them: the ledger never overwrites a newer run.
    (new / "mutants/gpuclf/kernels/m.py.meta").write_text(json.dumps({"exit_code_by_key": {}}))
    assert mutation.restore_ledger("kernels", new, ledger) == 0


def test_mutmut_reads_a_restored_ledger_as_its_own(tmp_path, monkeypatch):
    """The restored ``.meta`` is what mutmut's own loader reads (checked against the real mutmut, where the
    ``mutation`` extra is installed)."""
    data = pytest.importorskip("mutmut.mutation.data", reason="mutmut is not installed (pip install -e '.[mutation]')")
    ledger = tmp_path / "ledger.tsv"
    ledger.write_text("kernels\tgpuclf/kernels/m.py\tx_f\th1\t1,r,\n")
    mutation.restore_ledger("kernels", tmp_path, ledger)
    monkeypatch.chdir(tmp_path)
    loaded = data.SourceFileMutationData(path="gpuclf/kernels/m.py")
    loaded.load()
    assert loaded.exit_code_by_key == {"gpuclf.kernels.m.x_f__mutmut_1": 1, "gpuclf.kernels.m.x_f__mutmut_2": 0,
                                       "gpuclf.kernels.m.x_f__mutmut_3": None}
    assert loaded.hash_by_function_name == {"x_f": "h1"}


def test_a_recheck_kill_stands_only_while_its_function_is_unchanged():
    killed = {"p.x_f__mutmut_1", "p.x_g__mutmut_2", "p.x_gone__mutmut_1"}
    before = {"p.x_f": "h1", "p.x_g": "h2", "p.x_gone": "h3"}
    after = {"p.x_f": "h1", "p.x_g": "h2-edited"}  # x_g changed, x_gone was deleted
    assert mutation.standing_kills(killed, before, after) == ["p.x_f__mutmut_1"]


def test_mutmut_copies_what_the_tests_read_and_leaves_out_call_stack_tests(tmp_path, monkeypatch):
    """mutmut copies only the sources and ``tests/`` into ``mutants/``; tests that read ``docs/`` or run
    ``bench/`` failed its first pass there, and so did a test of where a warning points (mutmut calls every
    function through its own trampoline). Checked against the real mutmut's reading of the config."""
    configuration = pytest.importorskip("mutmut.configuration", reason="mutmut is not installed (pip install -e '.[mutation]')")
    mutation.prepare(tmp_path, ["gpuclf/data/*.py"], ["tests/data"], 2)
    monkeypatch.chdir(tmp_path)
    cfg = configuration._load_config()
    assert {Path("docs"), Path("bench"), Path("README.md"), Path("tests")} <= set(cfg.also_copy)
    assert Path("gpuclf") not in cfg.also_copy  # mutmut writes the mutated sources there itself
    args = cfg.pytest_add_cli_args
    assert args[args.index("-m") + 1] == mutation.NOT_UNDER_MUTMUT == "not call_stack"
    assert "call_stack" in (ROOT / "pyproject.toml").read_text()  # a registered marker


def test_mutants_not_run_are_judged_by_named_tests_and_recorded_as_a_run_would(tmp_path, monkeypatch):
    """``--recheck --not-run --tests FILE``: the mutants mutmut has not reached are run against FILE and written
    into its ``.meta`` as its own run writes them (1: a test failed, 0: survived); the others keep their codes,
    and the unmutated copy must pass first."""
    codes = {"gpuclf.kernels.m.x_f__mutmut_1": 1, "gpuclf.kernels.m.x_f__mutmut_2": 0,
             "gpuclf.kernels.m.x_f__mutmut_3": None, "gpuclf.kernels.m.x_f__mutmut_4": None}
    work = _run(tmp_path / "build" / "mutation" / "kernels", codes, killed_now=[], hashes={"x_f": "h1"})
    (work / "setup.cfg").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_fast.py").write_text("")
    seen, saved = [], []

    def fake_run(cmd, cwd, env, **kwargs):  # mutant 3 fails the test, mutant 4 passes it
        seen.append(env["MUTANT_UNDER_TEST"])
        return subprocess.CompletedProcess(cmd, 1 if env["MUTANT_UNDER_TEST"].endswith("_3") else 0, "", "")

    monkeypatch.setattr(mutation, "ROOT", tmp_path)
    monkeypatch.setattr(mutation, "tracked_files", lambda: [])
    monkeypatch.setattr(mutation.subprocess, "run", fake_run)
    monkeypatch.setattr(mutation, "save_ledger", lambda name, workdir: saved.append(name))
    res = mutation.recheck("kernels", [], explicit=["tests/test_fast.py"], not_run=True)
    assert seen == ["", "gpuclf.kernels.m.x_f__mutmut_3", "gpuclf.kernels.m.x_f__mutmut_4"]  # base line first
    assert res["killed_now"] == ["gpuclf.kernels.m.x_f__mutmut_3"] and saved == ["kernels"]
    assert mutation.exit_codes(work) == {**codes, "gpuclf.kernels.m.x_f__mutmut_3": 1,
                                         "gpuclf.kernels.m.x_f__mutmut_4": 0}
    assert mutation.score(work)["open"] == ["gpuclf.kernels.m.x_f__mutmut_2", "gpuclf.kernels.m.x_f__mutmut_4"]
    with pytest.raises(SystemExit, match="--tests"):  # which tests judge them is always said
        mutation.recheck("kernels", ["tests/test_fast.py"], not_run=True)


def test_a_timeout_that_passes_every_test_given_the_time_is_a_survivor(tmp_path, monkeypatch):
    """``--recheck --timeouts``: a mutant mutmut stopped at its limit is run again without it; one that then fails
    a test stays caught, one that passes them all was only slow, and is recorded survived (open until judged)."""
    codes = {"gpuclf.kernels.m.x_f__mutmut_1": mutation.TIMEOUT, "gpuclf.kernels.m.x_f__mutmut_2": mutation.TIMEOUT,
             "gpuclf.kernels.m.x_f__mutmut_3": 1}
    work = _run(tmp_path / "build" / "mutation" / "kernels", codes, killed_now=[], hashes={"x_f": "h1"})
    (work / "setup.cfg").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_fast.py").write_text("")

    def fake_run(cmd, cwd, env, **kwargs):  # mutant 1 fails the test, mutant 2 passes it
        return subprocess.CompletedProcess(cmd, 1 if env["MUTANT_UNDER_TEST"].endswith("_1") else 0, "", "")

    monkeypatch.setattr(mutation, "ROOT", tmp_path)
    monkeypatch.setattr(mutation, "tracked_files", lambda: [])
    monkeypatch.setattr(mutation.subprocess, "run", fake_run)
    monkeypatch.setattr(mutation, "save_ledger", lambda name, workdir: None)
    assert mutation.score(work)["score"] == 1.0  # timeouts count as caught ...
    mutation.recheck("kernels", [], explicit=["tests/test_fast.py"], timeouts=True)
    assert mutation.exit_codes(work)["gpuclf.kernels.m.x_f__mutmut_2"] == mutation.SURVIVED
    assert mutation.exit_codes(work)["gpuclf.kernels.m.x_f__mutmut_1"] == mutation.TIMEOUT
    assert mutation.score(work)["open"] == ["gpuclf.kernels.m.x_f__mutmut_2"]  # ... until one is only slow
