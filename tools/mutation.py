"""Mutation testing of gpuclf's core with mutmut, one unit at a time.

Usage (from the repository root, after ``pip install -e '.[test,mutation]'``)::

    python tools/mutation.py --quick --workers 2            # the chunking, scoring and metric kernels (minutes)
    python tools/mutation.py --workers 2                    # every unit of the core (hours on 2 cores)
    python tools/mutation.py --module run --workers 2       # one unit (UNITS below)

A unit is a few modules of the core (``UNITS``). Its tests are read from the layout, never listed: the
module ``gpuclf/<room>/<name>.py`` is tested by ``tests/<room>/``, narrowed to the files named for it
(``test_*_<name>.py``, ``test_<name>_*.py``) where any exist. Each unit runs in its own copy of the
working tree under ``build/mutation/<unit>`` (mutmut writes its mutants next to the sources, so the
checkout's sources are never touched; its results go into ``tools/mutation_ledger.tsv``), under ``nice -n 19`` and with real MNIST hidden (``GPUCLF_MNIST``
unset): the score is what CI can see. Survivors are listed per unit; ``docs/testing.md`` records the last
measured run.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Tests left out of mutmut's runs: they assert on the call stack, which mutmut's trampolines change.
NOT_UNDER_MUTMUT = "not call_stack"
#: How pytest judges a mutant, in mutmut's runs and in re-checks alike: -x, one failing test kills it; no
#: cache dir shared between mutants; -m, tests that cannot pass under mutmut 3.8, which calls every mutated
#: function through a trampoline in its own module (the ``call_stack`` marker in pyproject.toml), left out.
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-m", NOT_UNDER_MUTMUT]

#: unit -> the modules mutmut mutates. A unit's tests are not listed: :func:`unit_tests` reads them from the
#: layout, so a new test file joins its unit's run without anyone remembering to add it here.
UNITS = {
    "kernels": ["gpuclf/kernels/*.py"],
    # sharded_neighbors.py is left out: its tests start a Dask cluster, and in a first attempt most of its
    # mutants ended at mutmut's limit (not retried with the settings below); see docs/testing.md.
    "estimators": [f"gpuclf/estimators/{name}.py" for name in ("base", "dummy", "linear", "multiclass", "neighbors",
                                                              "preprocessing", "validation")],
    "run": [f"gpuclf/run/{name}.py" for name in ("store", "folder", "record", "files")],
    "chapter": ["gpuclf/chapter/*.py", "!gpuclf/chapter/knn_plus.py"],
    "knn_plus": ["gpuclf/chapter/knn_plus.py"],
    "data": ["gpuclf/data/*.py", "!gpuclf/data/tables.py"],
    "tables": ["gpuclf/data/tables.py"],
    "bench": ["gpuclf/benchmarks/stats.py", "gpuclf/benchmarks/sweep.py"],
}
# --quick: small, central kernels whose mutants run in a few minutes.
QUICK = {"kernels": ["gpuclf/kernels/chunking.py", "gpuclf/kernels/scoring.py", "gpuclf/kernels/metrics.py"]}


def unit_modules(patterns: list[str]) -> list[str]:
    """The module files a unit's patterns name: globs under the root, ``!path`` left out, no ``__init__.py``
    (a room's ``__init__`` only lists its public names)."""
    out = {str(p.relative_to(ROOT)) for pat in patterns if not pat.startswith("!") for p in ROOT.glob(pat)}
    out -= {pat[1:] for pat in patterns if pat.startswith("!")}
    return sorted(m for m in out if not m.endswith("__init__.py"))


def own_tests(module: str) -> list[str]:
    """A module's own tests, from the layout: ``gpuclf/<room>/<name>.py`` is tested by ``tests/<room>/``,
    narrowed to the files named for it (``test_run_store.py``, ``test_mut_store.py`` for ``run/store.py``)
    where such files exist; and by the test files elsewhere that import it by name (:func:`importers`)."""
    path = Path(module)
    room = path.parts[1] if len(path.parts) > 2 else path.stem
    files = sorted((ROOT / "tests" / room).glob("test_*.py"))
    stem = re.escape(path.stem)
    named = [f for f in files if re.search(rf"(^|_){stem}(_|$)", f.stem[len("test_"):])]
    return sorted({str(f.relative_to(ROOT)) for f in named or files} | set(importers(module)))


def importers(module: str) -> list[str]:
    """Test files that import ``module`` by name (``from gpuclf.estimators.linear import ...``, ``import
    gpuclf.estimators.linear``, ``from gpuclf.estimators import linear``), in any room: the estimator tests
    that train through a kernel sit with the kernels, and test the estimator too."""
    dotted = module[:-len(".py")].replace("/", ".")
    package, name = dotted.rsplit(".", 1)
    pattern = re.compile(rf"^\s*(from {re.escape(dotted)} import|import {re.escape(dotted)}\b"
                         rf"|from {re.escape(package)} import [\w\s,(]*?\b{name}\b)", re.M)
    return sorted(str(f.relative_to(ROOT)) for f in (ROOT / "tests").rglob("test_*.py")
                  if pattern.search(f.read_text(encoding="utf-8")))


def unit_tests(modules: list[str]) -> list[str]:
    """Every test file a unit's modules own (see :func:`own_tests`), each once."""
    return sorted({t for m in modules for t in own_tests(m)})


def _env() -> dict:
    """The tests' environment: no real MNIST (the score is what CI sees), one BLAS thread per test process
    (the workers are the parallelism; OpenBLAS threads on top of them slow every mutant past its limit)."""
    env = {k: v for k, v in os.environ.items() if k != "GPUCLF_MNIST"}
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _test_file(test: str) -> str:
    """The file of a test path or node id (``tests/x.py::test_y`` -> ``tests/x.py``)."""
    return test.split("::")[0]


def _pytest(tests: list[str]) -> list[str]:
    """One fresh pytest process over ``tests``, stopping at the first failure (what judges a mutant)."""
    return [sys.executable, "-m", "pytest", *PYTEST_ARGS, "-o", "addopts=", *tests]


def tracked_files() -> list[str]:
    """Files a fresh clone would have, plus new files not yet committed (never ignored ones)."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return [p for p in out.splitlines() if p and (ROOT / p).is_file()]


def prepare(workdir: Path, only: list[str], tests: list[str], workers: int) -> None:
    """Copy the tree into ``workdir`` and write the mutmut section for this module."""
    # mutants/ (mutmut's results) is kept: a rerun only re-tests what changed; --fresh starts over.
    files = tracked_files()
    for rel in files:
        dst = workdir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dst)
    tests = [t for t in tests if (workdir / _test_file(t)).is_file()]
    lines = ["[mutmut]", "source_paths = gpuclf", "only_mutate ="]
    lines += [f"    {g}" for g in only]
    lines += ["pytest_add_cli_args_test_selection ="] + [f"    {t}" for t in tests]
    lines += ["pytest_add_cli_args ="] + [f"    {arg}" for arg in PYTEST_ARGS]
    # mutmut copies only the sources and tests/ into mutants/; the tests also read the docs, run bench/...
    lines += ["also_copy ="] + [f"    {top}" for top in sorted({rel.split("/")[0] for rel in files})
                                if top not in ("gpuclf", "tests", "pyproject.toml")]
    lines += ["use_git_change_detection = false", "track_dependencies = false"]
    # A mutant that loops (an SGD epoch count gone wrong) is a timeout, i.e. caught. mutmut's limit is this
    # multiple of the covering tests' measured time: at 2.0, mutants that fail late in a long test file
    # (not loops) also ran past it; 10 leaves a timeout meaning "loops" (re-check them with --timeouts).
    lines += ["timeout_multiplier = 10.0"]
    # mutmut reads setup.cfg only when pyproject.toml has no [tool.mutmut]: ours has none.
    (workdir / "setup.cfg").write_text("\n".join(lines) + "\n")


def run_module(name: str, only: list[str], tests: list[str], workers: int, fresh: bool = False) -> dict:
    """Run mutmut over one unit in ``build/mutation/<name>``, resuming from its earlier results (those left
    there, else the ledger's) unless ``fresh``; the results go back into the ledger, even from a run that
    was stopped."""
    workdir = ROOT / "build" / "mutation" / name
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    prepare(workdir, only, tests, workers)
    if not fresh:
        print(f"== {name}: {restore_ledger(name, workdir)} mutants' results restored from {LEDGER.name}")
        # mutmut wipes every result when its stored stats were taken with another list of test files (a new
        # test file in the room): without them it maps the tests afresh and keeps the results by hash.
        (workdir / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    before = function_hashes(workdir) if (workdir / "mutants").is_dir() else {}
    env = _env()
    env["PYTHONHASHSEED"] = "0"
    cmd = ["nice", "-n", "19", sys.executable, "-m", "mutmut", "run", "--max-children", str(workers)]
    print(f"== {name}: mutating {' '.join(only)} against {len(tests)} test files", flush=True)
    subprocess.run(cmd, cwd=workdir, env=env, check=False)
    subprocess.run([sys.executable, "-m", "mutmut", "export-cicd-stats"], cwd=workdir, env=env,
                   check=False, capture_output=True)
    stats_file = workdir / "mutants" / "mutmut-cicd-stats.json"
    stats = json.loads(stats_file.read_text()) if stats_file.is_file() else {}
    res = subprocess.run([sys.executable, "-m", "mutmut", "results"], cwd=workdir, env=env,
                         capture_output=True, text=True, check=False)
    stats["not_killed"] = [ln.strip() for ln in res.stdout.splitlines() if ln.strip()]
    kept = standing_kills(_killed_by_recheck(workdir), before, function_hashes(workdir))
    (workdir / "recheck.json").write_text(json.dumps({"killed_now": kept}, indent=2))
    save_ledger(name, workdir)
    return stats


#: mutmut's exit codes: survived, not covered by any test, timed out.
SURVIVED, NO_TESTS, TIMEOUT = 0, 33, -24
#: A re-checked mutant still running after this long loops (counted as caught).
TIMEOUT_S = 300
#: Survivors shown equivalent to the original (no input the function's contract allows tells them apart):
#: one per line, ``unit<TAB>mutant<TAB>hash<TAB>family<TAB>reason``. ``hash`` is mutmut's hash of the mutated
#: function when it was judged: once the function changes, its mutants are renumbered and re-run, and the
#: line no longer counts (:func:`score` lists it as stale) until it is judged again.
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.tsv"
#: Every unit's results, carried between machines (``build/`` is not): ``unit<TAB>module<TAB>function<TAB>hash
#: <TAB>codes``, one line per mutated function, ``codes`` being mutmut's exit code for each of its mutants
#: in order (empty: not run yet; ``r``: survived the run, killed by a re-check). A run restores it, so
#: mutmut re-runs only the functions whose hash changed; ``--save`` writes it from ``build/mutation``.
LEDGER = ROOT / "tools" / "mutation_ledger.tsv"
RECHECKED = "r"


def _rows(path: Path, columns: int, what: str) -> list[list[str]]:
    """The tab-separated rows of ``path`` (``#`` lines are comments), each with ``columns`` fields."""
    if not path.is_file():
        return []
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) != columns:
            raise SystemExit(f"{path.name}:{number}: expected {what} separated by tabs")
        rows.append(fields)
    return rows


def read_equivalents(path: Path = EQUIVALENTS) -> dict[str, dict[str, tuple[str, str, str]]]:
    """``unit -> {mutant: (hash, family, reason)}`` from the equivalents file."""
    out: dict[str, dict[str, tuple[str, str, str]]] = {}
    for number, fields in enumerate(_rows(path, 5, "unit, mutant, hash, family and reason"), 1):
        if not all(fields):
            raise SystemExit(f"{path.name}: row {number} has an empty field")
        unit, mutant, digest, family, reason = fields
        out.setdefault(unit, {})[mutant] = (digest, family, reason)
    return out


def _module(meta: Path, mutants: Path) -> str:
    """The dotted module of a mutmut ``.meta`` file (``mutants/gpuclf/kernels/m.py.meta`` -> ``gpuclf.kernels.m``)."""
    return meta.relative_to(mutants).as_posix()[:-len(".py.meta")].replace("/", ".")


def _function(mutant: str) -> str:
    """The mutated function of a mutant (``gpuclf.kernels.m.x_f__mutmut_3`` -> ``gpuclf.kernels.m.x_f``)."""
    return mutant.partition("__mutmut_")[0]


def _metas(workdir: Path) -> dict[str, dict]:
    """mutmut's ``.meta`` records of a run under ``workdir``, by dotted module."""
    mutants = workdir / "mutants"
    return {_module(m, mutants): json.loads(m.read_text()) for m in sorted(mutants.rglob("*.py.meta"))}


def exit_codes(workdir: Path) -> dict[str, int | None]:
    """Every mutant of a run under ``workdir`` and mutmut's exit code for it (None: not run yet)."""
    return {k: c for meta in _metas(workdir).values() for k, c in meta.get("exit_code_by_key", {}).items()}


def function_hashes(workdir: Path) -> dict[str, str]:
    """``module.function -> mutmut's hash of it`` for a run under ``workdir``."""
    return {f"{module}.{func}": digest for module, meta in _metas(workdir).items()
            for func, digest in meta.get("hash_by_function_name", {}).items()}


def _killed_by_recheck(workdir: Path) -> set[str]:
    rechecked = workdir / "recheck.json"
    return set(json.loads(rechecked.read_text())["killed_now"]) if rechecked.is_file() else set()


def save_ledger(name: str, workdir: Path, path: Path = LEDGER) -> int:
    """Write unit ``name``'s results under ``workdir`` into the ledger (other units' lines are kept)."""
    killed = _killed_by_recheck(workdir)
    lines = []
    for module, meta in _metas(workdir).items():
        by_function: dict[str, dict[int, str]] = {f: {} for f in meta.get("hash_by_function_name", {})}
        for mutant, code in meta.get("exit_code_by_key", {}).items():
            func, _, number = mutant[len(module) + 1:].partition("__mutmut_")
            text = "" if code is None else RECHECKED if code in (SURVIVED, NO_TESTS) and mutant in killed else str(code)
            by_function.setdefault(func, {})[int(number)] = text
        for func, codes in sorted(by_function.items()):
            if sorted(codes) != list(range(1, len(codes) + 1)):
                raise SystemExit(f"{module}.{func}: mutants are not numbered 1..{len(codes)}")
            digest = meta.get("hash_by_function_name", {}).get(func, "")
            lines.append("\t".join([name, module.replace(".", "/") + ".py", func, digest,
                                    ",".join(codes[i] for i in sorted(codes))]))
    kept = ["\t".join(r) for r in _rows(path, 5, "unit, module, function, hash and codes") if r[0] != name]
    header = "# unit\tmodule\tfunction\thash\tcodes (tools/mutation.py: LEDGER)"
    path.write_text("\n".join([header, *sorted(kept + lines)]) + "\n", encoding="utf-8")
    return len(lines)


def restore_ledger(name: str, workdir: Path, path: Path = LEDGER) -> int:
    """Write the ledger's results for unit ``name`` as mutmut's ``.meta`` files (and the re-check's kills)
    into a workdir that has none, so that mutmut re-runs only functions changed since. Returns the mutants
    restored."""
    metas: dict[str, dict] = {}
    killed = []
    for unit, module, func, digest, codes in _rows(path, 5, "unit, module, function, hash and codes"):
        if unit != name:
            continue
        meta = metas.setdefault(module, {"exit_code_by_key": {}, "hash_by_function_name": {},
                                         "type_check_error_by_key": {}, "durations_by_key": {},
                                         "estimated_durations_by_key": {}})
        meta["hash_by_function_name"][func] = digest
        dotted = module[:-len(".py")].replace("/", ".")
        for number, code in enumerate(codes.split(",") if codes else [], 1):
            mutant = f"{dotted}.{func}__mutmut_{number}"
            meta["exit_code_by_key"][mutant] = None if code == "" else SURVIVED if code == RECHECKED else int(code)
            if code == RECHECKED:
                killed.append(mutant)
    restored = 0
    for module, meta in metas.items():
        target = workdir / "mutants" / f"{module}.meta"
        if target.exists():  # this machine's own run is newer than the ledger
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(meta, indent=1))
        restored += sum(c is not None for c in meta["exit_code_by_key"].values())
    if restored and killed:
        (workdir / "recheck.json").write_text(json.dumps({"killed_now": sorted(killed)}, indent=2))
    return restored


def standing_kills(killed: set[str], before: dict[str, str], after: dict[str, str]) -> list[str]:
    """The re-check kills that still stand after a run: those whose function kept its hash (``before`` ->
    ``after``); mutmut re-ran the changed functions' mutants, whose numbers now name other mutations."""
    return sorted(m for m in killed if _function(m) in after and before.get(_function(m)) == after[_function(m)])


def score(workdir: Path, equivalents: dict[str, tuple[str, str, str]] | None = None) -> dict:
    """A unit's score: (killed by its run + killed by tests added since) / (mutants - equivalent).

    The run's survivors (survived, or covered by no test) are killed by a re-check (``recheck.json``),
    shown equivalent (``equivalents``, for the function as it is now), or open; open ones count against
    the score. A timeout counts as caught, as mutmut counts it (re-check them with ``--recheck --timeouts``).
    """
    codes = exit_codes(workdir)
    hashes = function_hashes(workdir)
    ran = {m: c for m, c in codes.items() if c is not None}
    alive = {m for m, c in ran.items() if c in (SURVIVED, NO_TESTS)}
    killed_now = alive & _killed_by_recheck(workdir)
    judged_as = {m: e[0] for m, e in (equivalents or {}).items() if m in alive - killed_now}
    equivalent = {m for m, digest in judged_as.items() if hashes.get(_function(m)) == digest}
    open_ = sorted(alive - killed_now - equivalent)
    caught = len(ran) - len(alive) + len(killed_now)
    judged = len(ran) - len(equivalent)
    return {"mutants": len(ran), "not_run": len(codes) - len(ran), "killed_by_run": len(ran) - len(alive),
            "timeouts": sum(c == TIMEOUT for c in ran.values()), "killed_now": len(killed_now),
            "equivalent": len(equivalent), "open": open_, "stale": sorted(set(judged_as) - equivalent),
            "score": caught / judged if judged else 1.0}


def survivors(workdir: Path, timeouts: bool = False) -> list[str]:
    """Mutants mutmut recorded as survived or not covered by any test under ``workdir`` (and timed out, if asked)."""
    wanted = {SURVIVED, NO_TESTS} | ({TIMEOUT} if timeouts else set())
    return [name for name, code in exit_codes(workdir).items() if code in wanted]


def recheck(name: str, tests: list[str], only: list[str] | None = None, explicit: list[str] | None = None,
            timeouts: bool = False, workers: int = 1, not_run: bool = False) -> dict:
    """Run the module's current test files against each recorded survivor (after tests were added).

    mutmut's trampolines switch a mutant on through ``MUTANT_UNDER_TEST``; the tests are copied
    into the mutated tree first, so the survivors meet the tests as they are now. With ``timeouts``,
    the mutants mutmut stopped at its time limit are run too, without a limit, to tell the ones
    that loop (still running after ``TIMEOUT_S``: caught) from the ones that were only slow.

    With ``not_run`` (and ``explicit`` test files), the mutants mutmut has not run yet are judged instead
    and recorded as its run would record them (:func:`record_codes`): mutmut runs the slowest last, and
    where a function's only covering tests take minutes (a whole ``gpuclf bench``), a fast test file
    written for it judges its mutants in seconds. A kill by any test of the suite is a kill; a survivor
    is recorded as survived, and open until judged, as any other.
    """
    workdir = ROOT / "build" / "mutation" / name
    mutated = workdir / "mutants"
    # Survivors already passed every test file that existed at the run: only newer ones can kill them.
    run_at = (workdir / "setup.cfg").stat().st_mtime  # when the tree was copied for the run
    all_tests = [t for t in tests if (ROOT / _test_file(t)).is_file()]
    tests = [t for t in all_tests if (ROOT / _test_file(t)).stat().st_mtime > run_at]
    if timeouts:  # a timed-out mutant has not met any test to the end: run them all
        tests = all_tests
    if explicit:
        tests = explicit
    if not_run and not explicit:
        raise SystemExit("--not-run judges mutants with the test files you name: give them with --tests")
    if not tests:
        return {"killed_now": [], "still_survived": survivors(workdir), "still_timeout": []}
    for rel in [*(_test_file(t) for t in tests), *(p for p in tracked_files() if p.startswith("tests/"))]:
        (mutated / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, mutated / rel)
    env = _env()
    # The tree was copied at the run: tests written against later source may fail on it with no
    # mutant at all, which would count every survivor as killed. Check the unmutated copy first.
    base = subprocess.run(_pytest(tests), cwd=mutated, env={**env, "MUTANT_UNDER_TEST": ""}, capture_output=True,
                          text=True)
    if base.returncode != 0:
        raise SystemExit(f"the tests fail on the unmutated copy in {mutated} (source changed since the run?), so "
                         "they cannot judge its mutants; re-run the module, or pass --tests that pass there:\n"
                         + base.stdout[-2000:])

    def judge(mutant: str) -> str:
        try:
            proc = subprocess.run(["nice", "-n", "19", *_pytest(tests)], cwd=mutated,
                                  env={**env, "MUTANT_UNDER_TEST": mutant}, capture_output=True, text=True,
                                  timeout=TIMEOUT_S)
            verdict = "killed_now" if proc.returncode != 0 else "still_survived"
        except subprocess.TimeoutExpired:
            verdict = "still_timeout"
        print(f"{verdict:15} {mutant}", flush=True)
        return verdict

    result = {"killed_now": [], "still_survived": [], "still_timeout": []}
    pending = [m for m, code in exit_codes(workdir).items() if code is None] if not_run else survivors(workdir, timeouts)
    mutants = [m for m in pending if not only or any(m.startswith(p) for p in only)]
    # Re-checks are often run a few modules at a time: keep the kills of earlier ones.
    killed_before = _killed_by_recheck(workdir)
    # Each mutant is its own pytest process: run ``workers`` of them at a time.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for mutant, verdict in zip(mutants, pool.map(judge, mutants)):
            result[verdict].append(mutant)
    if not_run:
        record_codes(workdir, {m: CODE_OF[verdict] for verdict, ms in result.items() for m in ms})
        save_ledger(name, workdir)
        return result
    # A mutant that timed out under mutmut's limit but passes every test given the time was only slow: it
    # survived, and stays open until judged (a timeout counts as caught).
    codes = exit_codes(workdir)
    record_codes(workdir, {m: SURVIVED for m in result["still_survived"] if codes.get(m) == TIMEOUT})
    merged = dict(result, killed_now=sorted(killed_before | set(result["killed_now"])))
    (workdir / "recheck.json").write_text(json.dumps(merged, indent=2))
    save_ledger(name, workdir)
    return result


#: A re-check's verdict as mutmut's exit code (:data:`SURVIVED`, pytest's 1 for a failing test, :data:`TIMEOUT`).
CODE_OF = {"killed_now": 1, "still_survived": SURVIVED, "still_timeout": TIMEOUT}


def record_codes(workdir: Path, codes: dict[str, int]) -> None:
    """Write exit codes into the ``.meta`` files of a run under ``workdir``, as mutmut writes its own."""
    for meta in sorted((workdir / "mutants").rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        mine = {m: c for m, c in codes.items() if m in data.get("exit_code_by_key", {})}
        if mine:
            data["exit_code_by_key"].update(mine)
            meta.write_text(json.dumps(data, indent=1))


def _scored(name: str, equivalents: dict) -> dict:
    """Unit ``name``'s score from its run in ``build/mutation``, else from the ledger alone."""
    workdir = ROOT / "build" / "mutation" / name
    if (workdir / "mutants").is_dir():
        return score(workdir, equivalents)
    with tempfile.TemporaryDirectory() as tmp:
        restore_ledger(name, Path(tmp))
        return score(Path(tmp), equivalents)


def print_scores(names: list[str]) -> None:
    """One markdown row per unit (the table in docs/testing.md), then the open and stale mutants."""
    equivalents = read_equivalents()
    rows = {name: _scored(name, equivalents.get(name, {})) for name in names}
    rows = {name: r for name, r in rows.items() if r["mutants"] or r["not_run"]}
    print("| Unit | Mutants | Killed by the run | Killed by tests added after | Equivalent | Open | Score |")
    print("| --- | --: | --: | --: | --: | --: | --: |")
    for name, r in rows.items():
        print(f"| {name} | {r['mutants']:,} | {r['killed_by_run']:,} | {r['killed_now']:,} | {r['equivalent']:,} "
              f"| {len(r['open']):,} | {r['score']:.1%} |")
    caught = sum(r["killed_by_run"] + r["killed_now"] for r in rows.values())
    judged = sum(r["mutants"] - r["equivalent"] for r in rows.values())
    if judged:
        print(f"| **all** | {sum(r['mutants'] for r in rows.values()):,} | | | "
              f"{sum(r['equivalent'] for r in rows.values()):,} | {sum(len(r['open']) for r in rows.values()):,} "
              f"| **{caught / judged:.1%}** |")
    for name, r in rows.items():
        if r["not_run"]:
            print(f"{name}: {r['not_run']} mutants not run yet")
        for mutant in r["open"]:
            print(f"open {mutant}")
        for mutant in r["stale"]:
            print(f"stale {mutant} (its function changed since it was judged equivalent)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the small central kernels (minutes)")
    parser.add_argument("--module", action="append", choices=sorted(UNITS),
                        help="unit(s) to mutate (default: all); each runs against its modules' own tests")
    parser.add_argument("--workers", type=int, default=1, help="parallel mutants (default 1: the CPU is shared)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results in build/mutation")
    parser.add_argument("--recheck", action="store_true",
                        help="re-run the test files changed since the run against its recorded survivors")
    parser.add_argument("--mutants", nargs="*", help="with --recheck: only survivors whose names start so")
    parser.add_argument("--tests", nargs="*", help="with --recheck: these test files instead")
    parser.add_argument("--timeouts", action="store_true",
                        help="with --recheck: also re-run the mutants that timed out, without mutmut's limit")
    parser.add_argument("--not-run", action="store_true",
                        help="with --recheck and --tests: judge the mutants mutmut has not run yet with these test "
                             "files, recorded as its run records them (for functions whose only tests are slow)")
    parser.add_argument("--score", action="store_true",
                        help="print each unit's score from its run (or the ledger), its re-checks and the "
                             "equivalents file")
    parser.add_argument("--save", action="store_true",
                        help="write the units' results in build/mutation into the ledger (a run does it itself)")
    args = parser.parse_args(argv)
    names = args.module or (sorted(QUICK) if args.quick else list(UNITS))
    if args.score:
        print_scores(names)
        return 0
    if args.save:
        for name in names:
            if (ROOT / "build" / "mutation" / name / "mutants").is_dir():
                print(f"{name}: {save_ledger(name, ROOT / 'build' / 'mutation' / name)} functions saved")
        return 0
    if args.recheck:
        for name in names:
            res = recheck(name, unit_tests(unit_modules(UNITS[name])), args.mutants, args.tests, args.timeouts,
                          args.workers, args.not_run)
            print(f"{name}: {len(res['killed_now'])} killed now, {len(res['still_survived'])} still survive, "
                  f"{len(res['still_timeout'])} still past {TIMEOUT_S} s")
        return 0
    out = ROOT / "build" / "mutation" / "summary.json"
    # One file for every unit measured so far: units are often run one invocation at a time.
    summary = json.loads(out.read_text()) if out.is_file() else {}
    for name in names:
        only = unit_modules(QUICK[name] if args.quick else UNITS[name])
        summary[name] = run_module(name, only, unit_tests(only), args.workers, args.fresh)
        out.write_text(json.dumps(summary, indent=2))
    print("\n== mutation score (killed / total; survivors need a test or an equivalence note in docs/testing.md)")
    for name, s in ((n, summary[n]) for n in names):
        total = s.get("total", 0)
        print(f"{name}: {s.get('killed', 0)} / {total} killed, {s.get('survived', 0)} survived, "
              f"{s.get('no_tests', 0)} no tests, {s.get('timeout', 0)} timeout, {s.get('suspicious', 0)} suspicious")
        for line in s["not_killed"]:
            print("   ", line)
    print(f"summary written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
