"""A new user's first steps, each friction of issue 34 (item 7) at its one mechanism.

- advice names the caller's own options (``gpuclf.errors.option``): the
  command the user ran (``gpuclf demo --resume``), or run_workflow's parameters
  from Python (``resume=True``);
- a folder another run is writing is said first, with that run's process;
- on named classes, the detector's class is said, with the text the user typed;
- the parser: ``--version``, a bare ``gpuclf``, "maybe you meant" for commands,
  choices and options; an unavailable backend's advice names only options the
  command has;
- the precision/recall plot tells its three target lines apart; what the
  README's tour writes is ignored by git.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cli_errors import assert_one_line_error, run_main
from gpuclf import RunConfig, get_backend, run_workflow
from gpuclf.cli import build_parser, main
from gpuclf.errors import GpuclfError

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--backend", "numpy", "--data", "sample", "--train-size", 300, "--test-size", 60]


def _refusal(call) -> str:
    with pytest.raises(GpuclfError) as info:
        call()
    return str(info.value)


# -- advice in the caller's words ------------------------------------------------------------

def test_demo_has_a_folder_of_its_own_beside_the_readmes_first_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"pip install -e \. && gpuclf (run .*)", readme).group(1)
    assert build_parser().parse_args(shlex.split(first)).out != build_parser().parse_args(["demo"]).out


def test_a_used_folder_is_refused_in_the_callers_own_words(tmp_path, capsys, sample_mnist):
    out = tmp_path / "out"
    assert main(["run", *map(str, QUICK), "--steps", "data", "--quiet", "--no-report", "--out", str(out)]) == 0
    code, err = run_main(capsys, "run", *QUICK, "--steps", "data", "--out", out)
    assert_one_line_error(code, err, f"continue it with: gpuclf run --resume --out {out}, replace it with --force")
    text = _refusal(lambda: run_workflow(get_backend("numpy"), sample_mnist.subsample(300, 60),
                                         RunConfig(steps=["data"]), str(out), progress=False))
    assert text == (f"out_dir={str(out)!r} already holds a run (1 finished step(s): data); continue it with: "
                    f"run_workflow(backend, data, config, {str(out)!r}, resume=True), replace it with force=True, "
                    "or choose another out_dir")
    assert "--" not in text
    # The Python advice works as written (with the options the command line recorded).
    store = run_workflow(get_backend("numpy"), sample_mnist.subsample(300, 60),
                         RunConfig(steps=["data"], train_size=300, test_size=60), str(out), resume=True, progress=False)
    assert list(store.finished) == ["data"]


HOLDER = """
import sys, time
from gpuclf.run.folder import lock_output
with lock_output(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_a_folder_another_run_is_writing_is_said_first_with_its_process(tmp_path, capsys, sample_mnist):
    out = tmp_path / "out"
    assert main(["run", *map(str, QUICK), "--steps", "data", "--quiet", "--no-report", "--out", str(out)]) == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        busy = f"another gpuclf run (process {holder.pid}) is writing to"
        for again in ([], ["--resume"], ["--force"]):
            code, err = run_main(capsys, "run", *QUICK, "--steps", "data", *again, "--out", out)
            assert_one_line_error(code, err, f"{busy} --out {out}; wait for it to finish, or choose another --out")
        text = _refusal(lambda: run_workflow(get_backend("numpy"), sample_mnist.subsample(300, 60),
                                             RunConfig(steps=["data"]), str(out), progress=False))
        assert text == f"{busy} out_dir={str(out)!r}; wait for it to finish, or choose another out_dir"
    finally:
        holder.kill()
        holder.wait()


# -- the detector's class on data labelled by name --------------------------------------------

@pytest.fixture(scope="module")
def words(sample_mnist, tmp_path_factory):
    """Digits labelled by their English names: sorted, 'seven' is label 5, the default detector's."""
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    df = pd.DataFrame(sample_mnist.X_train[:140], columns=[f"pixel{i}" for i in range(784)])
    df.insert(0, "label", names[sample_mnist.y_train[:140]])
    path = tmp_path_factory.mktemp("words") / "words.csv"
    df.to_csv(path, index=False)
    return path


def _detector_note(capsys, path, out, *given):
    code, err = run_main(capsys, "run", "--backend", "numpy", "--data", path, *given, "--steps", "data",
                         "--no-report", "--out", out)
    assert code == 0, err
    return next(line for line in err.splitlines() if line.startswith("gpuclf: note: Detector:"))


def test_on_named_classes_the_default_detector_says_its_class_and_how_to_choose(words, tmp_path, capsys):
    assert _detector_note(capsys, words, tmp_path / "a") == (
        "gpuclf: note: Detector: the seven-detector: label 5 (the default --positive-class, the book's) is the "
        "class 'seven' in this data; give --positive-class NAME for another class (its labels: 0 (eight), "
        "1 (five), 2 (four), 3 (nine), 4 (one), 5 (seven), 6 (six), 7 (three), 8 (two), 9 (zero)).")


@pytest.mark.parametrize("typed", ["five", "FIVE", "label:1", "name:five"])
def test_the_detector_note_echoes_what_the_user_typed(words, tmp_path, capsys, typed):
    assert _detector_note(capsys, words, tmp_path / "b", "--positive-class", typed) == (
        f"gpuclf: note: Detector: the five-detector (--positive-class {typed}: the class 'five', label 1), not the "
        "book's 5-detector: its figures are not compared with the book's.")


# -- the parser -------------------------------------------------------------------------------

def test_version_and_a_bare_gpuclf_show_what_there_is(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    from gpuclf import __version__

    assert info.value.code == 0 and capsys.readouterr().out == f"gpuclf {__version__}\n"
    assert main([]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("usage: gpuclf ")
    for command in build_parser().commands:
        assert re.search(rf"^\s+{command}\s+\S", shown, flags=re.M), command


@pytest.mark.parametrize("args, meant", [
    (["rn"], "argument COMMAND: invalid choice: 'rn', maybe you meant 'run'?"),
    (["comapre", "a", "b"], "invalid choice: 'comapre', maybe you meant 'compare'?"),
    (["bench", "--size", "smal"], "argument --size: invalid choice: 'smal', maybe you meant 'small'?"),
    (["run", "--backed", "numpy"], "unrecognized arguments: --backed numpy; maybe you meant --backend?"),
    (["run", "--backed=numpy", "--stps", "data"],
     "unrecognized arguments: --backed=numpy --stps data; maybe you meant --backend for --backed=numpy, --steps "
     "for --stps?"),
    (["--verison"], "unrecognized arguments: --verison; maybe you meant --version?"),
    (["warmup", "--backend", "numpy"], "unrecognized arguments: --backend numpy"),  # warmup has no --backend
])
def test_a_typo_gets_maybe_you_meant(capsys, args, meant):
    code, err = run_main(capsys, *args)
    assert_one_line_error(code, err, meant)


def test_an_unavailable_backends_advice_names_only_options_the_command_has(capsys, monkeypatch):
    from gpuclf.backends import gpu

    monkeypatch.setattr(gpu.GpuBackend, "availability", classmethod(lambda cls: (False, "no NVIDIA driver found")))
    for command in (["warmup"], ["run", "--backend", "gpu", "--data", "sample", "--out", "unused"]):
        code, err = run_main(capsys, *command)
        line = assert_one_line_error(code, err, "no NVIDIA driver found")
        has = {s for a in build_parser().commands[command[0]]._actions for s in a.option_strings}
        advised = set(re.findall(r"(--[a-z-]+)", line.split("no NVIDIA driver found")[1]))
        assert advised <= has, (command[0], advised - has)


# -- what the user sees ----------------------------------------------------------------------------

def test_the_precision_targets_lines_differ_in_pattern_and_colour():
    from matplotlib.colors import to_rgba

    from gpuclf.report.sections.binary import plot_precision_recall_vs_threshold

    t = np.linspace(-5, 5, 50)
    arrays = {"thresholds": t, "precisions": np.append(1 / (1 + np.exp(-t)), 1), "recalls": np.append(1 - t / 10, 0)}
    rows = [{"target": p, "threshold": float(x), "precision": p, "recall": 0.5, "reached": True}
            for p, x in ((0.8, -1.0), (0.9, 0.0), (0.95, 1.0))]
    fig = plot_precision_recall_vs_threshold(arrays, {"binary_tradeoff": {"at_precision_targets": rows}}, {})
    ax = fig.axes[0]
    targets = [line for line in ax.get_lines() if line.get_label().endswith(("%", "%)")) or "precision:" in
               line.get_label()]
    assert len(targets) == 3
    assert len({line.get_linestyle() for line in targets}) == 3
    curves = {to_rgba(line.get_color()) for line in ax.get_lines() if line.get_label() in ("Precision", "Recall")}
    colours = {to_rgba(line.get_color()) for line in targets}
    assert len(colours) == 3 and not colours & curves


def test_what_the_readmes_tour_writes_is_ignored_by_git():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", readme, flags=re.S)
    typed = [line.split("#")[0].split("&&")[-1].strip() for block in blocks for line in block.splitlines()]
    commands = [shlex.split(c)[1:] for c in typed if c.startswith("gpuclf ")] + [["demo"]]  # demo: in the prose
    outs = {build_parser().parse_args(args).out for args in commands if args[0] != "info"}
    assert {"results", "run-cpu", "run-numpy", "compare", "demo", "bench-results"} <= outs
    ignored = subprocess.run(["git", "check-ignore", "--no-index", *(f"{o}/" for o in outs)], cwd=ROOT,
                             capture_output=True, text=True).stdout.split()
    assert sorted(o.rstrip("/") for o in ignored) == sorted(outs)
