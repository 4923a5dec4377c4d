"""Bad input to the newest features, family by family: each refused in its exact one line, nothing written.

The families of issue 24, each fixed at one mechanism (docs/bad-input.md):
1. every failure leaves ``main`` as one ``gpuclf: error:`` line (exit 2);
2. a path that is not a regular file is refused before it is opened (``errors.file_errors(reads=)``);
3. a class is resolved unambiguously or refused with the choices (``MnistData.label_of``, ``name_classes``);
4. class names, label column and positive class are part of the recorded run;
5. a CSV's layout (separator, header, label column) is read, not guessed (``tabular.csv_layout``);
6. messages name their source ($GPUCLF_CLUSTER, bench's scheduler, KNN's n_neighbors);
7. a folder holding no finished step is not a run; one that does names the command that continues it.

Tables here have 70 rows (60 train, 10 test) of real sample digits: cheap to write and read.
"""
from __future__ import annotations

import json
import os
import signal
import socket

import numpy as np
import pandas as pd
import pytest

from cli_errors import assert_one_line_error, run_main
from gpuclf.data import load_mnist
from gpuclf.data.openml import FASHION_NAMES

PIXELS = [f"pixel{i}" for i in range(784)]
N = 70
QUIET = ["--backend", "numpy", "--quiet", "--no-report"]


@pytest.fixture(scope="module")
def rows(sample_mnist):
    X = np.concatenate([sample_mnist.X_train, sample_mnist.X_test])[:N]
    y = np.concatenate([sample_mnist.y_train, sample_mnist.y_test])[:N]
    return X, y


@pytest.fixture(scope="module")
def tables(rows, tmp_path_factory):
    """The same 70 digits as a reference CSV, as Fashion class names, and as an .npz."""
    X, y = rows
    d = tmp_path_factory.mktemp("tables")
    frame(X, y).to_csv(d / "digits.csv", index=False)
    frame(X, y, labels=np.array(FASHION_NAMES)[y]).to_csv(d / "fashion.csv", index=False)
    np.savez(d / "digits.npz", X=X, y=y)
    return d


@pytest.fixture
def watchdog():
    """Fail, not hang, when a read blocks (a FIFO opened for reading waits for a writer)."""
    def hung(*_):
        raise AssertionError("gpuclf blocked reading a path that is not a regular file")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def frame(X, y, label="label", labels=None, position=0, columns=PIXELS):
    df = pd.DataFrame(X, columns=columns)
    df.insert(position, label, y if labels is None else labels)
    return df


def _contents(folder):
    """Every path under ``folder`` (None when it does not exist)."""
    if not os.path.exists(folder):
        return None
    return sorted(os.path.join(d, n) for d, subdirs, files in os.walk(folder) for n in subdirs + files)


def refused(capsys, *args, out=None):
    """``gpuclf ARGS``: its one error line's message (exit 2), and nothing written into ``out``."""
    before = _contents(out) if out is not None else None
    code, err = run_main(capsys, *args)
    line = assert_one_line_error(code, err)
    if out is not None:
        assert _contents(out) == before
    return line.removeprefix("gpuclf: error: ")


def run_refused(capsys, tmp_path, *args):
    out = tmp_path / "out"
    return refused(capsys, "run", *args, "--steps", "data", *QUIET, "--out", out, out=out)


# -- 1. every entry point: one line ------------------------------------------------------------------

@pytest.mark.parametrize("values, holds, column", [
    ("label", "lists or other objects", "label"),
    ("pixel3", "lists or other objects", "pixel3"),
    ("dates", "dates (dtype datetime64[", "label"),
])
def test_parquet_columns_of_the_wrong_kind_name_the_column(tmp_path, rows, capsys, values, holds, column):
    pytest.importorskip("pyarrow")
    X, y = rows
    df = frame(X, y)
    if values == "label":
        df["label"] = [[int(v)] for v in y]
    elif values == "pixel3":
        df["pixel3"] = [[1, 2]] * N
    else:
        df["label"] = pd.date_range("2020-01-01", periods=N)
    path = tmp_path / "t.parquet"
    df.to_parquet(path)
    where = f"its label column {column!r}; labels must be class numbers (0, 1, …) or class names" \
        if column == "label" else f"pixel column {column!r}; pixel values must be numbers from 0 to 255"
    line = run_refused(capsys, tmp_path, "--data", path)
    assert line.startswith(f"--data file {str(path)!r} has {holds}") and line.endswith(f" in {where}"), line


@pytest.mark.parametrize("value", ["²", "٣", "1_0", "label:12", "Sandal"])
def test_positive_class_that_no_class_is(tmp_path, tables, capsys, value):
    shown = repr(value)
    assert run_refused(capsys, tmp_path, "--data", tables / "digits.csv", "--positive-class", value) == \
        f"--positive-class {shown} is not a class of csv:digits.csv; its labels are 0-9"


@pytest.mark.parametrize("value, problem", [
    ("tcp://127.0.0.1:notaport", "is not host:port with a port from 1 to 65535"),
    ("tcp://127.0.0.1:0", "is not host:port with a port from 1 to 65535"),
    ("tcp://[::1", "is not host:port with a port from 1 to 65535"),
    ("tcp://127.0.0.1", "has no port"),
    ("tcp://:8786", "has no host"),
])
def test_cluster_addresses_dask_would_choke_on(tmp_path, capsys, value, problem):
    assert run_refused(capsys, tmp_path, "--data", "sample", "--cluster", value) == \
        f"argument --cluster: {value!r} {problem}; give local or a Dask scheduler address such as tcp://host:8786"


def test_a_cluster_failing_in_a_step_is_one_line_and_keeps_the_finished_steps(tmp_path, capsys, monkeypatch):
    """Whatever runs on the cluster (joblib's Dask backend, the dispatcher, sharded KNN), a lost scheduler or
    worker reaches the command line as one line: the boundary is the cluster's connection itself."""
    distributed = pytest.importorskip("distributed")
    from distributed.client import FutureCancelledError

    from gpuclf.chapter import STEPS

    def lost(ctx):
        raise FutureCancelledError("fold-1", "scheduler-connection-lost", "Client lost the connection.\nRe-run.")

    monkeypatch.setitem(STEPS, "binary_sgd", lost)
    monkeypatch.setattr("gpuclf.run.cluster._local_cluster", lambda d, *a: distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None))
    out = tmp_path / "out"
    code, err = run_main(capsys, "run", "--data", "sample", "--train-size", 300, "--steps", "data,binary_sgd",
                         "--cluster", "local", *QUIET, "--out", out)
    assert assert_one_line_error(code, err) == (
        "gpuclf: error: step binary_sgd: the Dask cluster went away: its scheduler stopped answering "
        "(FutureCancelledError: fold-1 cancelled for reason: scheduler-connection-lost. Client lost the connection. "
        f"Re-run.); the 1 finished step(s) are saved in {out}: continue with gpuclf run --resume --out {out} (on a "
        "cluster that works, or without one)")
    assert list(json.loads((out / "results.json").read_text())["steps"]) == ["data"]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("runs")
    for backend in ("numpy", "cpu"):
        code = run_main_plain("run", "--data", "sample", "--train-size", 300, "--steps", "data", "--backend",
                              backend, "--quiet", "--no-report", "--out", d / backend)
        assert code == 0
    return d


def run_main_plain(*args):
    from gpuclf.cli import main

    return main([str(a) for a in args])


@pytest.mark.parametrize("damage, problem", [
    (lambda d: d.__setitem__("environment", []), "'environment' is a list, expected an object"),
    (lambda d: d["environment"].__setitem__("device", 3), "environment['device'] is a number, expected a string"),
    (lambda d: d["environment"]["versions"].__setitem__("numpy", [2]),
     "environment['versions']['numpy'] is a list, expected a string or null"),
    (lambda d: d["memory"]["data"].__setitem__("host_peak_rss_bytes", "1 GB"),
     "memory['data']['host_peak_rss_bytes'] is a string, expected a number or null"),
    (lambda d: d.__setitem__("class_names", "0123456789"), "'class_names' is a string, expected a list or null"),
])
def test_compare_refuses_results_of_the_wrong_json_types(two_runs, tmp_path, capsys, damage, problem):
    doc = json.loads((two_runs / "cpu" / "results.json").read_text())
    damage(doc)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text(json.dumps(doc))
    path = tmp_path / "bad" / "results.json"
    assert refused(capsys, "compare", two_runs / "numpy", tmp_path / "bad", "--out", tmp_path / "c",
                   out=tmp_path / "c") == \
        f"{path} is not a gpuclf results file: {problem}; delete it, or run with --force to start afresh"


@pytest.mark.parametrize("damaged", ["abc", [1, "a"], {"x": 1}, [], [[1, 2], [3]]])
def test_a_figure_of_another_kind_is_judged_not_a_crash(damaged):
    from gpuclf.chapter.published import TOLERANCES, verdict

    folds = [0.9, 0.91, 0.92]
    for a, b in ((damaged, folds), (folds, damaged)):
        assert verdict(a, b, TOLERANCES["sgd_binary_accuracy"]) == "outside tolerance"


def test_compare_out_that_is_not_a_folder(two_runs, tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    runs = (two_runs / "numpy", two_runs / "cpu")
    assert refused(capsys, "compare", *runs, "--out", afile) == \
        f"--out {str(afile)!r} is a file, not a folder; choose a folder (gpuclf creates it if it does not exist)"
    assert refused(capsys, "compare", *runs, "--out", afile / "sub") == \
        f"--out {str(afile / 'sub')!r}: {str(afile)!r} is a file, not a folder; choose a folder (gpuclf creates it " \
        "if it does not exist)"
    assert afile.read_text() == "mine"


def test_a_message_holding_a_line_break_is_still_one_line(tmp_path, rows, capsys):
    X, y = rows
    path = tmp_path / "t.csv"
    frame(X, y, labels=np.array(["a\nb", "c"])[y % 2]).to_csv(path, index=False)
    assert run_refused(capsys, tmp_path, "--data", path, "--positive-class", "z") == \
        "--positive-class 'z' is not a class of csv:t.csv; its labels are 0 (a b), 1 (c)"


def test_what_no_check_foresaw_is_still_one_line(two_runs, tmp_path, capsys, monkeypatch):
    def broken(*_):
        raise KeyError("seconds")

    monkeypatch.setattr("gpuclf.report.compare.compare_runs", broken)
    args = ("compare", two_runs / "numpy", two_runs / "cpu", "--out", tmp_path / "c")
    assert refused(capsys, *args) == (
        "unexpected KeyError: 'seconds'; this is a bug in gpuclf: please report it with the command you ran "
        "(GPUCLF_DEBUG=1 shows the traceback)")
    monkeypatch.setenv("GPUCLF_DEBUG", "1")
    with pytest.raises(KeyError):
        run_main(capsys, *args)


# -- 2. nothing but regular files is opened ----------------------------------------------------------

@pytest.fixture
def fifo(tmp_path):
    def make(name):
        path = tmp_path / name
        os.mkfifo(path)
        return path
    return make


@pytest.mark.parametrize("name", ["x.csv", "x.csv.gz", "x.parquet", "x.npz", "x"])
def test_a_fifo_given_as_data_is_refused_unopened(tmp_path, fifo, capsys, watchdog, name):
    path = fifo(name)
    hint = ("give a table with one row per image: a label column (named label, class or y, or the first column) "
            "and 784 pixel columns") if ".csv" in name or ".parquet" in name else \
        ("give --data openml, openml:NAME, sample, a CSV or Parquet table (.csv, .csv.gz, .parquet: a label column "
         "and 784 pixel columns) or an .npz made with numpy.savez(PATH, X=images, y=labels)")
    assert run_refused(capsys, tmp_path, "--data", path) == \
        f"--data file {str(path)!r} is a named pipe (FIFO), not a file; {hint}"


def test_other_paths_that_are_not_files(tmp_path, tables, fifo, capsys, watchdog, monkeypatch):
    path = fifo("t.csv")
    assert run_refused(capsys, tmp_path, "--data", tables / "digits.csv", "--test-data", path).startswith(
        f"--test-data file {str(path)!r} is a named pipe (FIFO), not a file; give a table")
    assert run_refused(capsys, tmp_path, "--data", "/dev/zero").startswith(
        "--data file '/dev/zero' is a character device, not a file;")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "s.npz"))
    try:
        assert run_refused(capsys, tmp_path, "--data", tmp_path / "s.npz").startswith(
            f"--data file {str(tmp_path / 's.npz')!r} is a socket, not a file;")
    finally:
        sock.close()
    monkeypatch.setenv("GPUCLF_MNIST", str(fifo("env.npz")))
    assert run_refused(capsys, tmp_path).startswith(
        f"$GPUCLF_MNIST file {str(tmp_path / 'env.npz')!r} is a named pipe (FIFO), not a file;")


def test_a_fifo_in_place_of_results_json(tmp_path, two_runs, fifo, capsys, watchdog):
    (tmp_path / "run").mkdir()
    path = tmp_path / "run" / "results.json"
    os.mkfifo(path)
    assert refused(capsys, "run", "--resume", "--out", tmp_path / "run") == \
        f"{path} is a named pipe (FIFO), not a file; delete it, or run with --force to start afresh"
    assert refused(capsys, "compare", two_runs / "numpy", tmp_path / "run", "--out", tmp_path / "c",
                   out=tmp_path / "c") == f"cannot compare runs: {path} is a named pipe (FIFO), not a file"


# -- 3. a class is resolved unambiguously, or refused with the choices ------------------------------

@pytest.fixture(scope="module")
def named(rows, tmp_path_factory):
    """Tables labelled by names that collide: cat / Cat, and a class named 1 (sorted first: label 0)."""
    X, y = rows
    d = tmp_path_factory.mktemp("named")
    frame(X, y, labels=np.array(["cat", "Cat", "dog", "emu", "fox", "gnu", "hen", "ibis", "jay", "kiwi"])[y]) \
        .to_csv(d / "cats.csv", index=False)
    frame(X, y, labels=np.array(["1", "ant", "bee", "cow", "doe", "elk", "gar", "hog", "ram", "yak"])[y]) \
        .to_csv(d / "one.csv", index=False)
    return d


def test_names_that_differ_only_in_case_are_never_confused(named, tmp_path, capsys):
    data = load_mnist(str(named / "cats.csv"))
    assert data.class_names[:2] == ("Cat", "cat")
    assert data.label_of("cat") == 1 and data.label_of("Cat") == 0 and data.label_of("DOG") == 2
    assert run_refused(capsys, tmp_path, "--data", named / "cats.csv", "--positive-class", "CAT") == (
        "--positive-class 'CAT' is ambiguous in csv:cats.csv: it may mean the class named 'Cat' (label 0) or the "
        "class named 'cat' (label 1); give --positive-class 'name:Cat' or --positive-class 'name:cat'")


def test_a_class_named_like_another_label_is_refused_then_chosen_explicitly(named, tmp_path, capsys):
    assert run_refused(capsys, tmp_path, "--data", named / "one.csv", "--positive-class", "1") == (
        "--positive-class 1 is ambiguous in csv:one.csv: it may mean the class named '1' (label 0) or label 1 "
        "(the class 'ant'); give --positive-class 'name:1' or --positive-class 'label:1'")
    data = load_mnist(str(named / "one.csv"))
    assert data.label_of("name:1") == 0 and data.label_of("label:1") == 1 and data.label_of("ant") == 1
    assert data.label_of(1) == 1  # an int is a label (the Python API, a recorded run)


@pytest.mark.parametrize("names, problem", [
    (",".join(FASHION_NAMES) + ",Hat", "--class-names lists 11 names, but csv:digits.csv has 10 classes (labels "
     "0-9); give one name per label, in label order (a name holding a comma goes in double quotes: "
     "\"Shirt, long\")"),
    ("T-shirt, top," + ",".join(FASHION_NAMES[1:]), "--class-names lists 11 names, but csv:digits.csv has 10 "
     "classes (labels 0-9); give one name per label, in label order (a name holding a comma goes in double "
     "quotes: \"Shirt, long\")"),
    (",".join(FASHION_NAMES[:9]), "--class-names lists 9 names, but csv:digits.csv has 10 classes (labels 0-9); "
     "give one name per label, in label order"),
])
def test_class_names_of_the_wrong_count(tables, tmp_path, capsys, names, problem):
    assert run_refused(capsys, tmp_path, "--data", tables / "digits.csv", "--class-names", names) == problem


def test_a_quoted_name_keeps_its_comma(tables, tmp_path, capsys):
    out = tmp_path / "o"
    names = '"T-shirt, top",' + ",".join(FASHION_NAMES[1:])
    code, err = run_main(capsys, "run", "--data", tables / "digits.csv", "--class-names", names, "--positive-class",
                         "T-shirt, top", "--steps", "data", *QUIET, "--out", out)
    assert code == 0, err
    doc = json.loads((out / "results.json").read_text())
    assert doc["class_names"][0] == "T-shirt, top" and doc["config"]["positive_class"] == 0


def test_class_names_order_a_files_own_names_never_rename_them(tables, rows, tmp_path, capsys):
    """The file says which image is a Sandal; --class-names only says which label each name gets."""
    _, y = rows
    data = load_mnist(str(tables / "fashion.csv"), class_names=FASHION_NAMES)
    np.testing.assert_array_equal(data.y_train, y[:60])  # Fashion-MNIST's own order: the original labels
    assert data.class_names == FASHION_NAMES and data.label_of("Sandal") == 5
    own = load_mnist(str(tables / "fashion.csv"))
    assert own.class_names == tuple(sorted(FASHION_NAMES))  # without the option: sorted, each image its name
    np.testing.assert_array_equal(np.array(own.class_names)[own.y_train], np.array(FASHION_NAMES)[y[:60]])
    wrong = ",".join(["Hat", *FASHION_NAMES[1:]])
    assert run_refused(capsys, tmp_path, "--data", tables / "fashion.csv", "--class-names", wrong) == (
        "--class-names must be the class names csv:fashion.csv labels its images with (Ankle boot, Bag, Coat, "
        "Dress, Pullover, Sandal, Shirt, Sneaker, T-shirt/top, Trouser), in the order of the labels 0, 1, … they "
        "should get; not among them: 'Hat'; missing: 'T-shirt/top'")


# -- 4. what the recorded run is: classes, label column, positive class -----------------------------

@pytest.fixture
def fashion_run(tables, tmp_path, capsys):
    """A run on a copy of the Fashion table, by its own names, with --positive-class Sandal."""
    path = tmp_path / "f.csv"
    path.write_bytes((tables / "fashion.csv").read_bytes())
    out = tmp_path / "run"
    code, err = run_main(capsys, "run", "--data", path, "--class-names", ",".join(FASHION_NAMES),
                         "--positive-class", "Sandal", "--steps", "data", *QUIET, "--out", out)
    assert code == 0, err
    return path, out


@pytest.mark.parametrize("same", ["Sandal", "sandal", "5", "label:5", "name:Sandal"])
def test_resume_accepts_the_same_positive_class_however_spelled(fashion_run, capsys, same):
    _, out = fashion_run
    code, err = run_main(capsys, "run", "--resume", "--positive-class", same, "--steps", "binary_sgd", "--quiet",
                         "--no-report", "--out", out)
    assert code == 0, err
    assert json.loads((out / "results.json").read_text())["config"]["positive_class"] == 5


@pytest.mark.parametrize("option, problem", [
    (["--positive-class", "Bag"], "--positive-class Bag contradicts the run recorded in {out} (--positive-class 5)"),
    (["--label-column", "p0"], "--label-column p0 contradicts the run recorded in {out} (--label-column label)"),
    (["--class-names", ",".join(reversed(FASHION_NAMES))],
     "--class-names " + ",".join(reversed(FASHION_NAMES)) + " contradicts the run recorded in {out} "
     "(--class-names " + ",".join(FASHION_NAMES) + ")"),
])
def test_resume_refuses_another_reading_of_the_data(fashion_run, capsys, option, problem):
    _, out = fashion_run
    before = (out / "results.json").read_bytes()
    assert refused(capsys, "run", "--resume", *option, "--out", out) == \
        problem.format(out=out) + "; leave it out to continue that run, or use another --out"
    assert (out / "results.json").read_bytes() == before


def test_resume_refuses_classes_renamed_in_the_file(tables, tmp_path, capsys):
    path, out = tmp_path / "f.csv", tmp_path / "run"
    path.write_bytes((tables / "fashion.csv").read_bytes())
    code, err = run_main(capsys, "run", "--data", path, "--steps", "data", *QUIET, "--out", out)
    assert code == 0, err
    before = (out / "results.json").read_bytes()
    path.write_text(path.read_text().replace("\nSandal,", "\nSandals,"))  # same images, same codes, a new name
    assert refused(capsys, "run", "--resume", "--out", out) == (
        f"--resume: {out} holds a run with other class names (label 5: 'Sandal' there, 'Sandals' here); use "
        "another --out, or --force to replace that run")
    assert refused(capsys, "run", "--resume", "--out", out, "--data", tables / "digits.csv",
                   "--class-names", ",".join(FASHION_NAMES)).endswith(f"contradicts the run recorded in {out} "
                                                                     "(without --class-names); leave it out to "
                                                                     "continue that run, or use another --out")
    assert (out / "results.json").read_bytes() == before


# -- 5. a table's layout is read, not guessed ---------------------------------------------------------

@pytest.mark.parametrize("write", [
    pytest.param(lambda df, p: df.rename(columns=dict(zip(PIXELS, range(784)))).to_csv(p, index=False),
                 id="header label,0,...,783"),
    pytest.param(lambda df, p: df.set_axis(range(785), axis=1).to_csv(p, index=False), id="header 0,...,784"),
    pytest.param(lambda df, p: df.to_csv(p, index=False, sep=";"), id="semicolons"),
    pytest.param(lambda df, p: df.to_csv(p, index=False, sep="\t"), id="tabs"),
    pytest.param(lambda df, p: df.to_csv(p, index=False, sep="|"), id="bars"),
    pytest.param(lambda df, p: p.write_text("\n \n" + df.to_csv(index=False)), id="blank first lines"),
    pytest.param(lambda df, p: df.to_csv(p), id="pandas' index column"),
    pytest.param(lambda df, p: p.write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False).encode()), id="BOM"),
])
def test_csv_layouts_read_as_the_reference(tables, rows, tmp_path, write):
    X, y = rows
    path = tmp_path / "t.csv"
    write(frame(X, y), path)
    assert load_mnist(str(path)).fingerprint() == load_mnist(str(tables / "digits.csv")).fingerprint()


def _label_inside(X, y, name):
    return frame(X, y, label=name, position=300)


@pytest.mark.parametrize("write, problem", [
    (lambda X, y, p: _label_inside(X, y, "digit").to_csv(p, index=False),
     "{f} has no column named label, class or y, and its first column 'pixel0' is named like its pixel columns; "
     "give the label column with --label-column (columns named otherwise: digit)"),
    (lambda X, y, p: frame(X, y, label="target", position=784, columns=[f"{r}x{c}" for r in range(1, 29)
                                                                        for c in range(1, 29)]).to_csv(p, index=False),
     "{f} has no column named label, class or y, and its first column '1x1' is named like its pixel columns; "
     "give the label column with --label-column (columns named otherwise: target)"),
    (lambda X, y, p: frame(X, y).assign(pixel783=y).rename(columns={"pixel783": "label"}).to_csv(p, index=False),
     "{f} has 2 columns named 'label' (columns 1 and 785): which is the label? Keep one, or give --label-column "
     "with a name that is there once"),
    (lambda X, y, p: pd.DataFrame(np.column_stack([X, y])).to_csv(p, index=False, header=False),
     "{f}: its first column, taken as the labels (no column is named label, class or y: the file has no header), "
     "holds 0 in every row; give the label column first"),
    (lambda X, y, p: frame(X, y, label="digit", position=784, columns=[f"c{i}" for i in range(784)])
     .rename(columns={"c0": "corner"}).to_csv(p, index=False),
     "{f}: its first column, taken as the labels (no column is named label, class or y), holds 0 in every row; "
     "give the label column with --label-column"),
    (lambda X, y, p: frame(X, y).rename(columns={"pixel783": "Label"}).to_csv(p, index=False),
     "{f} has 2 columns named 'label' and 'Label' (columns 1 and 785): which is the label? Keep one, or give "
     "--label-column with a name that is there once"),
    (lambda X, y, p: frame(X, y)[["label"]].to_csv(p, index=False),
     "{f} has only the label column 'label'; give a table with one row per image: a label column (named label, "
     "class or y, or the first column) and 784 pixel columns"),
    (lambda X, y, p: frame(X, y).assign(pixel9="dark").to_csv(p, index=False),
     "{f} has text in pixel column 'pixel9'; pixel values must be numbers from 0 to 255"),
    (lambda X, y, p: frame(X, y, labels=np.where(np.arange(N) == 4, "True", "False")).to_csv(p, index=False),
     "{f} has true/false values (dtype bool) in its label column 'label'; labels must be class numbers (0, 1, …) or "
     "class names"),
    (lambda X, y, p: frame(X, y, labels=np.where(np.arange(N) == 4, 2.5, y)).to_csv(p, index=False),
     "the label column 'label' of {f} contains the non-integer label 2.5; labels must be digits 0-9"),
    (lambda X, y, p: frame(X.astype(float), y).assign(pixel7=lambda d: d.pixel7.where(d.index != 3))
     .to_csv(p, index=False),
     "{f} has empty cells (missing values), the first in column 'pixel7'; every image needs a label and 784 "
     "pixel values"),
])
def test_tables_refused_naming_the_real_problem(rows, tmp_path, capsys, write, problem):
    X, y = rows
    path = tmp_path / "t.csv"
    write(X, y, path)
    assert run_refused(capsys, tmp_path, "--data", path) == problem.format(f=f"--data file {str(path)!r}")


def test_label_column_option_named_twice(rows, tmp_path, capsys):
    X, y = rows
    path = tmp_path / "t.csv"
    frame(X, y, label="digit").assign(pixel783=y).rename(columns={"pixel783": "digit"}).to_csv(path, index=False)
    assert run_refused(capsys, tmp_path, "--data", path, "--label-column", "digit") == (
        f"--data file {str(path)!r} has 2 columns named 'digit' (columns 1 and 785); rename all but one, or give "
        "--label-column another column")


@pytest.mark.parametrize("write_test, problem", [
    (lambda X, y, p: frame(X[:, :783], y, columns=PIXELS[:783]).to_csv(p, index=False),
     "{t} has 783 columns; MNIST images need 784 (28 x 28 pixels)"),
    (lambda X, y, p: frame(X, y, labels=np.where(np.arange(len(y)) == 1, 12, y)).to_csv(p, index=False),
     "the label column 'label' of {t} contains the label 12; labels must be digits 0-9"),
    (lambda X, y, p: frame(X, y, labels=np.array(FASHION_NAMES)[y]).to_csv(p, index=False),
     "{t} labels its classes by name (Ankle boot, Bag, Coat, …), but {d} by number; label both files the same way"),
])
def test_a_test_file_unlike_the_training_file_is_the_one_named(tables, rows, tmp_path, capsys, write_test, problem):
    X, y = rows
    path = tmp_path / "test.csv"
    write_test(X[:20], y[:20], path)
    assert run_refused(capsys, tmp_path, "--data", tables / "digits.csv", "--test-data", path) == problem.format(
        t=f"--test-data file {str(path)!r}", d=f"--data file {str(tables / 'digits.csv')!r}")


def test_a_test_class_the_training_file_lacks(tables, rows, tmp_path, capsys):
    X, y = rows
    path = tmp_path / "test.csv"
    frame(X[:20], y[:20], labels=np.array([*FASHION_NAMES[:9], "Hat"])[y[:20]]).to_csv(path, index=False)
    assert run_refused(capsys, tmp_path, "--data", tables / "fashion.csv", "--test-data", path) == (
        f"--test-data file {str(path)!r} has the class(es) 'Hat', which --data file "
        f"{str(tables / 'fashion.csv')!r} has no images of (its classes: Ankle boot, Bag, Coat, Dress, Pullover, "
        "Sandal, Shirt, Sneaker, T-shirt/top, Trouser); test only classes the model trains on")


# -- 6. messages name their source -------------------------------------------------------------------

def test_an_unreachable_cluster_from_the_variable_names_the_variable(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("gpuclf.run.cluster.CONNECT_TIMEOUT", 1)
    monkeypatch.setenv("GPUCLF_CLUSTER", "tcp://127.0.0.1:9")
    assert run_refused(capsys, tmp_path, "--data", "sample") == (
        "$GPUCLF_CLUSTER=tcp://127.0.0.1:9: no Dask scheduler answered within 1 s (OSError); start one (dask "
        "scheduler) or use --cluster local")
    monkeypatch.setenv("GPUCLF_CLUSTER", "tcp://127.0.0.1:x")
    assert run_refused(capsys, tmp_path, "--data", "sample") == (
        "$GPUCLF_CLUSTER: 'tcp://127.0.0.1:x' is not host:port with a port from 1 to 65535; give local or a Dask "
        "scheduler address such as tcp://host:8786")


def test_bench_on_a_cluster_with_no_scheduler_says_so_before_its_suite(tmp_path, capsys, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr("gpuclf.run.cluster.CONNECT_TIMEOUT", 1)
    out = tmp_path / "bench"
    assert refused(capsys, "bench", "--cluster", "tcp://127.0.0.1:9", "--out", out, out=out) == (
        "--cluster tcp://127.0.0.1:9: no Dask scheduler answered within 1 s (OSError); start one (dask scheduler) "
        "or use --cluster local")


def test_the_default_positive_class_is_named_as_the_default(rows, tmp_path, capsys):
    X, y = rows
    path = tmp_path / "three.csv"
    frame(X, y, labels=np.array(["ant", "bee", "cow"])[y % 3]).to_csv(path, index=False)
    assert refused(capsys, "run", "--data", path, *QUIET, "--out", tmp_path / "o", out=tmp_path / "o") == (
        "csv:three.csv has no label 5 for the book's 5-detector (the default --positive-class): its labels are "
        "0 (ant), 1 (bee), 2 (cow); give --positive-class, or leave the binary steps and error_analysis out of --steps")
    assert run_refused(capsys, tmp_path, "--data", path, "--positive-class", "5") == \
        "--positive-class 5 is not a class of csv:three.csv; its labels are 0 (ant), 1 (bee), 2 (cow)"


# -- 7. the output folder after a crash ----------------------------------------------------------------

def test_a_run_killed_before_its_first_step_was_saved_leaves_no_run(tmp_path, capsys):
    out = tmp_path / "out"
    (out / "arrays").mkdir(parents=True)
    (out / "arrays" / "data.npz").write_bytes(b"half")  # arrays are written just before results.json
    (out / "arrays" / ".tmp-1data.npz").write_bytes(b"")
    assert refused(capsys, "run", "--resume", "--out", out, out=out) == (
        f"--resume: {out} holds no finished step to continue ({out / 'results.json'} does not exist); "
        "run without --resume")
    code, err = run_main(capsys, "run", "--data", "sample", "--train-size", 300, "--steps", "data", *QUIET,
                         "--out", out)
    assert code == 0, err
    assert list(json.loads((out / "results.json").read_text())["steps"]) == ["data"]
    assert os.listdir(out / "arrays") == ["data.npz"] and (out / "arrays" / "data.npz").read_bytes() != b"half"
    assert refused(capsys, "run", "--data", "sample", "--steps", "data", "--out", out, out=out) == (
        f"--out {out} already holds a run (1 finished step(s): data); continue it with: gpuclf run --resume "
        f"--out {out}, replace it with --force, or choose another --out")


@pytest.mark.parametrize("make", [
    lambda out: (out / "figures").mkdir(),
    lambda out: (out / "report.html").write_text("mine"),
    lambda out: ((out / "arrays").mkdir(), (out / "arrays" / "notes.txt").write_text("mine")),
])
def test_outputs_without_results_json_are_not_removed(tmp_path, capsys, make):
    out = tmp_path / "out"
    out.mkdir()
    make(out)
    present = ", ".join(n for n in ("arrays", "figures", "report.html") if (out / n).exists())
    assert refused(capsys, "run", "--data", "sample", "--steps", "data", "--out", out, out=out) == (
        f"--out {out} holds {present} but no results.json: no run to continue; move them away, use --force to "
        "replace them, or choose another --out")

