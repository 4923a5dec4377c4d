"""Family 1: every option of run, bench and demo is checked before any work, with one line naming it."""
from __future__ import annotations

import pytest

from cli_errors import assert_one_line_error, run_main


@pytest.mark.parametrize("option, value, expected", [
    ("--seed", "-1", "must be an integer from 0 to 4294967295, got -1"),
    ("--seed", str(2**32), "got 4294967296"),
    ("--seed", str(2**40), "got 1099511627776"),
    ("--seed", "2**40", "got '2**40'"),
    ("--seed", "4.5", "got '4.5'"),
    ("--n-estimators", "0", "must be an integer >= 1, got 0"),
    ("--sgd-max-iter", "0", "must be an integer >= 1, got 0"),
    ("--sgd-max-iter", "-5", "got -5"),
    ("--jobs", "0", "or -1 (all cores), got 0"),
    ("--jobs", "-3", "got -3"),
    ("--train-size", "0", "must be an integer >= 1"),
    ("--test-size", "-10", "got -10"),
    ("--thresholds", "nan,inf", "must be finite numbers, got nan, inf"),
    ("--thresholds", "0,-inf", "got -inf"),
    ("--thresholds", "", "at least one number"),
    ("--thresholds", "1,x", "not a comma-separated list of numbers"),
    ("--steps", "", "must name at least one step"),
    ("--steps", " , ", "must name at least one step"),
    ("--steps", "data,frobnicate", "unknown step(s) frobnicate"),
    ("--max-gpu-memory", "inf", "positive finite size"),
    ("--max-gpu-memory", "0", "positive finite size"),
    ("--max-gpu-memory", "-4GB", "positive finite size"),
    ("--max-gpu-memory", "lots", "not a size"),
    ("--backend", "tpu", "unknown backend 'tpu'"),
    ("--out", "", "must not be empty"),
    ("--data", " ", "must not be empty"),
])
def test_bad_run_option_is_one_line_before_any_work(tmp_path, capsys, option, value, expected):
    out = tmp_path / "out"
    args = ["run", "--data", "sample", "--out", out] if option not in ("--out", "--data") else ["run"]
    code, err = run_main(capsys, *args, f"{option}={value}")  # = keeps "-4GB" a value, not an option
    assert_one_line_error(code, err, f"argument {option}: ", expected)
    assert not out.exists()


@pytest.mark.parametrize("args, expected", [
    (["bench", "--backends", ""], "argument --backends: must name at least one backend"),
    (["bench", "--backends", "cpu,tpu"], "unknown backend(s) tpu"),
    (["bench", "--size", "huge"], "argument --size: invalid choice: 'huge'"),
    (["demo", "--out", ""], "argument --out: must not be empty"),
    (["run", "--resume", "--force"], "argument --force: not allowed with argument --resume"),
    (["run", "--seeds", "3"], "unrecognized arguments: --seeds 3"),
    (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
])
def test_bad_bench_demo_and_usage_are_one_line(tmp_path, capsys, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    code, err = run_main(capsys, *args)
    assert_one_line_error(code, err, expected)
    assert list(tmp_path.iterdir()) == []


def test_accepted_edge_values_parse():
    from gpuclf.cli import build_parser

    args = build_parser().parse_args(["run", "--seed", str(2**32 - 1), "--jobs", "-1", "--thresholds=-5,0,1e4",
                                      "--max-gpu-memory", "512MiB", "--steps", "data,data,binary_cv"])
    assert args.seed == 2**32 - 1 and args.jobs == -1
    assert args.thresholds == (-5.0, 0.0, 1e4)
    assert args.max_gpu_memory == 512 * 2**20
    assert args.steps == ["data", "binary_cv"]


@pytest.mark.parametrize("typed, expected", [
    (["--thresholds", "-5,0"], (-5.0, 0.0)),
    (["--thresholds", "-.5, 3"], (-0.5, 3.0)),
    (["--thresholds", "-1E3,-2", "--seed", "1"], (-1000.0, -2.0)),
])
def test_negative_threshold_lists_need_no_equals_sign(typed, expected):
    """A list starting with a negative score is a value, as a single negative number always was."""
    from gpuclf.cli import build_parser

    assert build_parser().parse_args(["run", *typed]).thresholds == expected


def test_an_option_after_a_value_taking_option_is_still_an_option(capsys):
    """``--thresholds --seed 1`` must not swallow ``--seed`` as a value."""
    code, err = run_main(capsys, "run", "--thresholds", "--seed", "1")
    assert_one_line_error(code, err, "argument --thresholds: expected one argument")


def test_seed_bound_is_scikit_learns():
    """The largest seed we accept is the largest scikit-learn accepts; one more is refused by both."""
    from sklearn.utils import check_random_state

    from gpuclf.run.options import MAX_SEED

    check_random_state(MAX_SEED)
    with pytest.raises(ValueError):
        check_random_state(MAX_SEED + 1)


def test_backend_variable_named_in_errors(tmp_path, capsys, monkeypatch):
    from gpuclf.backends.gpu import cupy_status

    monkeypatch.setenv("GPUCLF_BACKEND", "tpu")
    code, err = run_main(capsys, "run", "--data", "sample", "--out", tmp_path / "o")
    assert_one_line_error(code, err, "$GPUCLF_BACKEND=tpu")
    if not cupy_status()[0]:
        monkeypatch.setenv("GPUCLF_BACKEND", "gpu")
        code, err = run_main(capsys, "run", "--data", "sample", "--out", tmp_path / "o")
        line = assert_one_line_error(code, err, "$GPUCLF_BACKEND=gpu is not available")
        assert "--backend gpu" not in line
    assert not (tmp_path / "o").exists()


def test_data_variable_named_in_errors(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GPUCLF_MNIST", str(tmp_path / "gone.npz"))
    code, err = run_main(capsys, "run", "--backend", "cpu", "--out", tmp_path / "o")
    assert_one_line_error(code, err, "$GPUCLF_MNIST file", "gone.npz' does not exist")
    assert not (tmp_path / "o").exists()
