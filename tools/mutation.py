"""Mutation testing of gpuclf's core with mutmut, one module at a time.

Usage (from the repository root, after ``pip install -e '.[test,mutation]'``)::

    python tools/mutation.py --quick            # the chunking, scoring and metric kernels (~15 min on 2 cores)
    python tools/mutation.py                    # kernels, estimators, results.py, workflow.py (hours on 2 cores)
    python tools/mutation.py --module kernels   # one module

Each module runs in its own copy of the working tree under ``build/mutation/<module>`` (mutmut writes
its mutants next to the sources, so the checkout itself is never touched), with only the test files that
exercise it, under ``nice -n 19`` and with real MNIST hidden (``GPUCLF_MNIST`` unset): the score is what CI
can see. Survivors are listed per module; ``docs/testing.md`` records the last measured run.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# module -> (source globs mutmut may mutate, test files run against each mutant)
MODULES = {
    "kernels": (["gpuclf/kernels/*"],
                ["tests/test_kernels_folds.py", "tests/test_kernels_linear.py", "tests/test_kernels_metrics.py",
                 "tests/test_kernels_neighbors.py", "tests/test_kernels_preprocessing.py", "tests/test_sgd_step.py",
                 "tests/test_behaviours.py", "tests/test_knn_memory.py", "tests/test_kernels_contract.py"]),
    "estimators": (["gpuclf/estimators/*"],
                   ["tests/test_estimators_dummy.py", "tests/test_estimators_errors.py",
                    "tests/test_estimators_multiclass.py", "tests/test_estimators_neighbors.py",
                    "tests/test_kernels_linear.py", "tests/test_behaviours.py", "tests/test_estimators_contract.py"]),
    "results": (["gpuclf/results.py"],
                ["tests/test_results_atomic.py", "tests/test_results_store.py"]),
    "workflow": (["gpuclf/workflow.py"],
                 ["tests/test_behaviours.py", "tests/test_tradeoff.py", "tests/test_progress.py",
                  "tests/test_reliability.py"]),
}
# --quick: small, central kernels whose mutants run in a few minutes.
QUICK = {"kernels": ["gpuclf/kernels/chunking.py", "gpuclf/kernels/scoring.py", "gpuclf/kernels/metrics.py"]}


def tracked_files() -> list[str]:
    """Files a fresh clone would have, plus new files not yet committed (never ignored ones)."""
    out = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return [p for p in out.splitlines() if p and (ROOT / p).is_file()]


def prepare(workdir: Path, only: list[str], tests: list[str], workers: int) -> None:
    """Copy the tree into ``workdir`` and write the mutmut section for this module."""
    # mutants/ (mutmut's results) is kept: a rerun only re-tests what changed; --fresh starts over.
    for rel in tracked_files():
        dst = workdir / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dst)
    tests = [t for t in tests if (workdir / t).is_file()]
    lines = ["[mutmut]", "source_paths = gpuclf", "only_mutate ="]
    lines += [f"    {g}" for g in only]
    lines += ["pytest_add_cli_args_test_selection ="] + [f"    {t}" for t in tests]
    # -x: one failing test kills the mutant; no cache dir shared between mutants.
    lines += ["pytest_add_cli_args =", "    -x", "    -q", "    -p", "    no:cacheprovider"]
    lines += ["use_git_change_detection = false", "track_dependencies = false"]
    # A mutant that loops (an SGD epoch count gone wrong) is a timeout, i.e. caught; mutmut's default allows
    # 30x the covering tests' time, which costs minutes per such mutant on a shared CPU.
    lines += ["timeout_multiplier = 2.0"]
    # mutmut reads setup.cfg only when pyproject.toml has no [tool.mutmut]: ours has none.
    (workdir / "setup.cfg").write_text("\n".join(lines) + "\n")


def run_module(name: str, only: list[str], tests: list[str], workers: int, fresh: bool = False) -> dict:
    workdir = ROOT / "build" / "mutation" / name
    if fresh and workdir.exists():
        shutil.rmtree(workdir)
    prepare(workdir, only, tests, workers)
    env = {k: v for k, v in os.environ.items() if k != "GPUCLF_MNIST"}
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
    return stats


def survivors(workdir: Path) -> list[str]:
    """Mutants mutmut recorded as survived (exit code 0) or not covered by any test (33) under ``workdir``."""
    names = []
    for meta in sorted((workdir / "mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        names += [k for k, v in codes.items() if v in (0, 33)]
    return names


def recheck(name: str, tests: list[str], only: list[str] | None = None, explicit: list[str] | None = None) -> dict:
    """Run the module's current test files against each recorded survivor (after tests were added).

    mutmut's trampolines switch a mutant on through ``MUTANT_UNDER_TEST``; the tests are copied
    into the mutated tree first, so the survivors meet the tests as they are now.
    """
    workdir = ROOT / "build" / "mutation" / name
    mutated = workdir / "mutants"
    # Survivors already passed every test file that existed at the run: only newer ones can kill them.
    run_at = (workdir / "setup.cfg").stat().st_mtime  # when the tree was copied for the run
    tests = [t for t in tests if (ROOT / t).is_file() and (ROOT / t).stat().st_mtime > run_at]
    if explicit:
        tests = explicit
    if not tests:
        return {"killed_now": [], "still_survived": survivors(workdir)}
    for rel in [*(t.split("::")[0] for t in tests), *(p for p in tracked_files() if p.startswith("tests/"))]:
        (mutated / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, mutated / rel)
    env = {k: v for k, v in os.environ.items() if k != "GPUCLF_MNIST"}
    # The tree was copied at the run: tests written against later source may fail on it with no
    # mutant at all, which would count every survivor as killed. Check the unmutated copy first.
    base = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                           *tests], cwd=mutated, env={**env, "MUTANT_UNDER_TEST": ""}, capture_output=True, text=True)
    if base.returncode != 0:
        raise SystemExit(f"the tests fail on the unmutated copy in {mutated} (source changed since the run?), so "
                         "they cannot judge its mutants; re-run the module, or pass --tests that pass there:\n"
                         + base.stdout[-2000:])
    result = {"killed_now": [], "still_survived": []}
    for mutant in survivors(workdir):
        if only and not any(mutant.startswith(prefix) for prefix in only):
            continue
        env["MUTANT_UNDER_TEST"] = mutant
        proc = subprocess.run(["nice", "-n", "19", sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                               "-o", "addopts=", *tests], cwd=mutated, env=env, capture_output=True, text=True)
        result["killed_now" if proc.returncode != 0 else "still_survived"].append(mutant)
        print(("killed   " if proc.returncode != 0 else "survived ") + mutant, flush=True)
    (workdir / "recheck.json").write_text(json.dumps(result, indent=2))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only the small central kernels (minutes)")
    parser.add_argument("--module", action="append", choices=sorted(MODULES),
                        help="module(s) to mutate (default: all)")
    parser.add_argument("--workers", type=int, default=1, help="parallel mutants (default 1: the CPU is shared)")
    parser.add_argument("--fresh", action="store_true", help="forget earlier results in build/mutation")
    parser.add_argument("--recheck", action="store_true",
                        help="re-run the test files changed since the run against its recorded survivors")
    parser.add_argument("--mutants", nargs="*", help="with --recheck: only survivors whose names start so")
    parser.add_argument("--tests", nargs="*", help="with --recheck: these test files instead")
    args = parser.parse_args(argv)
    names = args.module or (sorted(QUICK) if args.quick else list(MODULES))
    if args.recheck:
        for name in names:
            res = recheck(name, MODULES[name][1], args.mutants, args.tests)
            print(f"{name}: {len(res['killed_now'])} survivors killed now, {len(res['still_survived'])} still survive")
        return 0
    summary = {}
    for name in names:
        only, tests = MODULES[name]
        if args.quick:
            only = QUICK.get(name, only)
        summary[name] = run_module(name, only, tests, args.workers, args.fresh)
    print("\n== mutation score (killed / total; survivors need a test or an equivalence note in docs/testing.md)")
    for name, s in summary.items():
        total = s.get("total", 0)
        print(f"{name}: {s.get('killed', 0)} / {total} killed, {s.get('survived', 0)} survived, "
              f"{s.get('no_tests', 0)} no tests, {s.get('timeout', 0)} timeout, {s.get('suspicious', 0)} suspicious")
        for line in s["not_killed"]:
            print("   ", line)
    out = ROOT / "build" / "mutation" / "summary.json"
    out.write_text(json.dumps(summary, indent=2))
    print(f"summary written to {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
