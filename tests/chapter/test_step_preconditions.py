"""Family 3: data that makes a step impossible is refused before any step, the same on every backend."""
from __future__ import annotations

import numpy as np
import pytest

from cli_errors import assert_one_line_error, run_main
from gpuclf import RunConfig, get_backend, run_workflow
from gpuclf.data import MnistData
from gpuclf.errors import GpuclfError
from gpuclf.chapter import STEPS

BACKENDS = ["cpu", "numpy"]


def _subset(sample, keep, n_train=300, n_test=60) -> MnistData:
    """The first rows of the sample whose labels pass ``keep``."""
    tr, te = keep(sample.y_train), keep(sample.y_test)
    return MnistData(sample.X_train[tr][:n_train], sample.y_train[tr][:n_train],
                     sample.X_test[te][:n_test], sample.y_test[te][:n_test], "test-subset")


def _save(tmp_path, data: MnistData):
    path = tmp_path / "subset.npz"
    np.savez(path, X_train=data.X_train, y_train=data.y_train, X_test=data.X_test, y_test=data.y_test)
    return path


CASES = [
    # (labels kept, rows, steps, what the message names)
    (lambda y: y != 5, None, "binary_sgd", ["step binary_sgd", "5s and 1 of other digits", "has 0 5s"]),
    (lambda y: y != 5, None, "binary_roc", ["step binary_roc", "3-fold cross-validation", "has 0 5s"]),
    (lambda y: y == 5, None, "binary_cv", ["step binary_cv", "and 0 others"]),
    (lambda y: y == 3, None, "multiclass", ["step multiclass", "at least 2 different digits", "all 3s"]),
    (lambda y: y == 7, None, "error_analysis", ["step error_analysis", "all 7s"]),
    (lambda y: y >= 0, 6, "multilabel",
     ["step multilabel", "at least 5 rows to fit KNN with n_neighbors=5 in each training fold", "gives 4"]),
    (lambda y: y >= 0, 4, "denoise",
     ["step denoise", "at least 5 rows to fit KNN with n_neighbors=5;", "training set gives 4"]),
    (lambda y: y >= 0, 40, "best_accuracy", ["step best_accuracy", "5-fold cross-validation", "digit"]),
    (lambda y: y >= 0, 20, "knn_plus", ["step knn_plus", "3-fold cross-validation", "digit"]),
]


@pytest.mark.parametrize("keep, rows, step, expected", CASES, ids=[c[2] for c in CASES])
def test_same_message_on_every_backend_before_any_step(sample_mnist, tmp_path, keep, rows, step, expected):
    data = _subset(sample_mnist, keep, n_train=rows or 300)
    messages = []
    for name in BACKENDS:
        out = tmp_path / name
        with pytest.raises(GpuclfError) as info:
            run_workflow(get_backend(name), data, RunConfig(steps=["data", step]), str(out), progress=False)
        messages.append(str(info.value))
        assert not out.exists()  # refused before the data step, before the folder
    assert messages[0] == messages[1]
    for text in expected:
        assert text in messages[0], messages[0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_names_the_step_in_one_line(sample_mnist, tmp_path, capsys, backend):
    path = _save(tmp_path, _subset(sample_mnist, lambda y: y != 5))
    out = tmp_path / "out"
    code, err = run_main(capsys, "run", "--backend", backend, "--data", path, "--out", out, "--quiet")
    assert_one_line_error(code, err, "step binary_sgd cannot run on this data", "--steps")
    assert not out.exists()


def test_the_steps_that_can_run_still_do(sample_mnist, tmp_path, capsys):
    """Leaving the impossible steps out works: no 5s still allows the multiclass steps."""
    path = _save(tmp_path, _subset(sample_mnist, lambda y: y != 5, n_train=200))
    code, err = run_main(capsys, "run", "--backend", "numpy", "--data", path, "--out", tmp_path / "o",
                         "--steps", "data,multiclass,denoise", "--quiet", "--no-report")
    assert code == 0, err


def test_preconditions_are_tight_for_knn(sample_mnist, tmp_path):
    """Exactly at the bound the step runs on both backends (the check is not stricter than the libraries)."""
    data = sample_mnist.subsample(7, 20)  # 3-fold: smallest training fold 7 - 3 = 4... one short
    with pytest.raises(GpuclfError, match="gives 4"):
        run_workflow(get_backend("numpy"), data, RunConfig(steps=["multilabel"]), str(tmp_path / "a"),
                     progress=False)
    data = sample_mnist.subsample(8, 20)  # 8 - 3 = 5 rows: scikit-learn's 5 neighbours fit
    for name in BACKENDS:
        doc = run_workflow(get_backend(name), data, RunConfig(steps=["multilabel", "denoise"]),
                           str(tmp_path / name), progress=False).doc
        assert set(doc["steps"]) == {"multilabel", "denoise"}


def test_every_step_with_estimators_declares_its_needs():
    undeclared = [name for name, step in STEPS.items() if not getattr(step, "needs", ())]
    assert undeclared == ["data", "augmentation"]  # the data summary; augmentation fits 5x the rows


# ---- The checks themselves, on a few labels: the exact line a user reads, the defaults and the bounds. ----

from gpuclf.chapter import Context  # noqa: E402
from gpuclf.chapter.preconditions import (check_needs, digit_classes, digits_per_fold, fives_and_others,  # noqa: E402
                                          neighbors, positive_class, skip_reason, two_digits)
from gpuclf.errors import command_line  # noqa: E402


def _labels(y_train, class_names=None, source="toy") -> MnistData:
    """Data with these training labels (the images do not matter to the checks)."""
    y = np.asarray(y_train, dtype=np.uint8)
    X = np.zeros((len(y), 4), np.uint8)
    return MnistData(X, y, X[:1], y[:1], source, class_names=class_names)


def _each(counts) -> list:
    """Labels with ``counts[d]`` images of digit d."""
    return [d for d, c in enumerate(counts) for _ in range(c)]


def test_detector_needs_one_of_each_class_to_train():
    """Without folds one 5 and one other digit are enough; none of either is refused, counting both."""
    check = fives_and_others(folds=False)
    assert check(_labels([5, 0]), RunConfig()) is None  # the bound: 1 of each
    assert check(_labels([0, 1, 2]), RunConfig()) == \
        "at least 1 image(s) of 5s and 1 of other digits to train a 5-detector; the training set has 0 5s and 3 others"
    assert check(_labels([5, 5]), RunConfig(cv=3)) == \
        "at least 1 image(s) of 5s and 1 of other digits to train a 5-detector; the training set has 2 5s and 0 others"


def test_detector_cv_needs_cv_of_each_class():
    """With folds each class needs ``cv`` images: exactly ``cv`` runs, one fewer is refused."""
    check = fives_and_others(folds=True)
    assert check(_labels([5, 5, 5, 0, 1, 2]), RunConfig(cv=3)) is None
    assert check(_labels([5, 5, 0, 1, 2]), RunConfig(cv=3)) == \
        "at least 3 image(s) of 5s and 3 of other digits for its 3-fold cross-validation; the training set has " \
        "2 5s and 3 others"
    assert check(_labels([5, 5, 5, 5, 1]), RunConfig(cv=2)) == \
        "at least 2 image(s) of 5s and 2 of other digits for its 2-fold cross-validation; the training set has " \
        "4 5s and 1 others"


def test_detector_of_a_named_class_speaks_of_classes():
    """With class names the detector and the others are named as classes (``--positive-class`` dog)."""
    data = _labels([0, 0, 2, 1], class_names=("cat", "dog", "bird"))
    assert fives_and_others(folds=True)(data, RunConfig(positive_class=1)) == \
        "at least 3 image(s) of dogs and 3 of other classes for its 3-fold cross-validation; the training set " \
        "has 1 dogs and 3 others"
    assert fives_and_others(folds=False)(data, RunConfig(positive_class=1)) is None
    assert fives_and_others(folds=False)(_labels([0, 2], class_names=("cat", "dog", "bird")),
                                         RunConfig(positive_class=1)) == \
        "at least 1 image(s) of dogs and 1 of other classes to train a dog-detector; the training set has " \
        "0 dogs and 2 others"


@pytest.mark.parametrize("names", [("a", "b", "c"), ("a", "b", "c", "d", "e")], ids=["3 classes", "5 classes"])
def test_default_detector_without_a_label_5_is_refused(names):
    """The default 5-detector on data with no label 5 (5 classes or fewer) says to give ``--positive-class``."""
    data = _labels([0, 1, 2], class_names=names)
    labels = ", ".join(f"{i} ({n})" for i, n in enumerate(names))
    with pytest.raises(GpuclfError) as info:
        fives_and_others(folds=False)(data, RunConfig())
    assert str(info.value) == \
        f"toy has no label 5 for the book's 5-detector (the default RunConfig(positive_class=...)): its labels " \
        f"are {labels}; give RunConfig(positive_class=...), or leave the binary steps and error_analysis out of RunConfig(steps=...)"
    with command_line("gpuclf run"), pytest.raises(GpuclfError) as info:
        fives_and_others(folds=True)(data, RunConfig())
    assert str(info.value) == \
        f"toy has no label 5 for the book's 5-detector (the default --positive-class): its labels are {labels}; " \
        f"give --positive-class, or leave the binary steps and error_analysis out of --steps"


def _run_error_analysis(tmp_path, labels, **data):
    """The error analysis alone (no binary step) on 300 random images of ``labels``."""
    from gpuclf import get_backend, run_workflow

    y = np.asarray(labels, np.uint8)[np.arange(300) % len(labels)]
    X = np.random.default_rng(0).integers(0, 256, size=(300, 784)).astype(np.uint8)
    d = MnistData(X[:250], y[:250], X[250:], y[250:], "some classes", **data)
    return run_workflow(get_backend("cpu"), d, RunConfig(steps=["error_analysis"], positive_class=labels[-1]),
                        str(tmp_path), progress=False).doc["steps"]["error_analysis"]


def test_the_error_analysis_reads_its_matrix_by_label(tmp_path):
    """Digits 0, 1, 2 and 7 (an IndexError before: the matrix had a row per digit present, read by label):
    one row and column per digit, zero where absent, and the pair and the most confused pairs in labels."""
    step = _run_error_analysis(tmp_path, [0, 1, 2, 7])
    cm = np.array(step["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == 250
    assert cm[[3, 4, 5, 6, 8, 9]].sum() == 0 and cm[7].sum() == np.count_nonzero(np.arange(250) % 4 == 3)
    assert step["pair"][0] == 7 and step["pair"][1] in (0, 1, 2)
    assert all(p["true"] in (0, 1, 2, 7) and p["count"] == cm[p["true"], p["predicted"]]
               for p in step["most_confused"] if p["count"])


def test_the_error_analysis_alone_checks_the_positive_class(tmp_path):
    """Named classes, five of them, and the default positive class 5: refused before any step (the error
    analysis reads the positive class's row), as the binary steps refuse it."""
    from gpuclf import get_backend, run_workflow
    y = (np.arange(60) % 5).astype(np.uint8)
    data = MnistData(np.zeros((60, 784), np.uint8), y, np.zeros((5, 784), np.uint8), np.arange(5, dtype=np.uint8),
                     "five classes", class_names=("a", "b", "c", "d", "e"))
    with pytest.raises(GpuclfError) as info:
        run_workflow(get_backend("cpu"), data, RunConfig(steps=["error_analysis"]), str(tmp_path), progress=False)
    assert str(info.value).startswith("five classes has no label 5 for the book's 5-detector")
    assert str(info.value).endswith("or leave the binary steps and error_analysis out of RunConfig(steps=...)")
    assert positive_class()(data, RunConfig(positive_class=3)) is None


def test_a_given_positive_class_or_a_label_5_is_not_the_missing_default():
    """Another class chosen on few classes, or the default 5 on the digits, is checked, not refused."""
    data = _labels([0, 1, 2, 1], class_names=("a", "b", "c"))
    assert fives_and_others(folds=False)(data, RunConfig(positive_class=1)) is None
    assert fives_and_others(folds=False)(_labels([5, 1]), RunConfig()) is None
    six = _labels([5, 1, 0], class_names=("a", "b", "c", "d", "e", "f"))  # label 5 exists: the default works
    assert fives_and_others(folds=False)(six, RunConfig()) is None


def test_two_digits_in_the_training_set():
    """A multiclass model needs two digits: exactly two is enough, one is refused naming it."""
    check = two_digits()
    assert check(_labels([3, 3, 4]), RunConfig()) is None
    assert check(_labels([3, 3, 3]), RunConfig()) == "at least 2 different digits in the training set; they are all 3s"


def test_two_digits_in_the_rows_the_step_trains_on():
    """``rows_of``: the first ``config.<rows_of>`` rows are what counts (the SVC's first 2,000 in the book)."""
    data = _labels([7, 7, 7, 7, 1, 2])
    assert two_digits("svc_train_size")(data, RunConfig(svc_train_size=4)) == \
        "at least 2 different digits in the first 4 training rows; they are all 7s"
    assert two_digits("svc_train_size")(data, RunConfig(svc_train_size=5)) is None
    assert two_digits("svc_train_size")(data, RunConfig(svc_train_size=2000)) is None  # capped at the data


def test_digits_per_fold_defaults_to_cv():
    """``digits_per_fold()`` folds ``config.cv`` times: a digit with ``cv`` images is enough, one fewer is not."""
    check = digits_per_fold()
    assert check(_labels(_each([3, 3, 3])), RunConfig(cv=3)) is None  # digits 3-9 absent: nothing to stratify
    assert check(_labels(_each([3, 3, 3])), RunConfig(cv=4)) == \
        "at least 4 images of each digit in the training set for its 4-fold cross-validation; digit 0 has 3"
    assert check(_labels(_each([3, 3, 3, 3, 2])), RunConfig(cv=3)) == \
        "at least 3 images of each digit in the training set for its 3-fold cross-validation; digit 4 has 2"
    assert check(_labels(_each([0] * 9 + [3])), RunConfig(cv=3)) is None  # only 9s, 3 of them


def test_digits_per_fold_names_the_first_rare_digit():
    """A digit with a single image is rare; of several rare digits the smallest is named."""
    check = digits_per_fold("cv")
    assert check(_labels(_each([3, 1, 3])), RunConfig(cv=3)) == \
        "at least 3 images of each digit in the training set for its 3-fold cross-validation; digit 1 has 1"
    assert check(_labels(_each([3, 3, 2, 3, 3, 3, 3, 3, 3, 1])), RunConfig(cv=3)) == \
        "at least 3 images of each digit in the training set for its 3-fold cross-validation; digit 2 has 2"


def test_digits_per_fold_in_the_rows_and_folds_the_step_uses():
    """``folds_of``/``rows_of``: the grid search's own folds on its first rows."""
    data = _labels(_each([5, 5, 5]) + [0, 1, 2, 1, 2, 1, 2, 1, 2, 2])  # digit 0 has 5 in the first 15, 6 in all
    check = digits_per_fold("grid_cv", rows_of="grid_train_size")
    assert check(data, RunConfig(grid_cv=6, grid_train_size=15)) == \
        "at least 6 images of each digit in the first 15 training rows for its 6-fold cross-validation; digit 0 has 5"
    assert check(data, RunConfig(grid_cv=6, grid_train_size=100)) is None
    assert check(data, RunConfig(grid_cv=5, grid_train_size=15, cv=10)) is None


def test_neighbors_without_folds():
    """KNN fits on ``n_neighbors`` rows: exactly that many is enough, one fewer is refused."""
    check = neighbors(5)
    assert check(_labels([0, 1, 2, 3, 4]), RunConfig()) is None
    assert check(_labels([0, 1, 2, 3]), RunConfig()) == \
        "at least 5 rows to fit KNN with n_neighbors=5; the training set gives 4"


def test_neighbors_in_each_training_fold():
    """With folds the smallest training fold is n - ceil(n / k) rows (8 rows, 3 folds: 5; 7 rows: 4)."""
    check = neighbors(5, folds_of="cv")
    assert check(_labels(list(range(8))), RunConfig(cv=3)) is None
    assert check(_labels(list(range(7))), RunConfig(cv=3)) == \
        "at least 5 rows to fit KNN with n_neighbors=5 in each training fold of its 3-fold cross-validation; " \
        "the training set gives 4"


def test_neighbors_in_the_rows_the_step_uses():
    """``rows_of``: 12 of 30 rows in 5 folds leave 12 - 3 = 9 rows to fit on, one short of 10 neighbours."""
    data = _labels([d % 10 for d in range(30)])
    check = neighbors(10, folds_of="grid_cv", rows_of="grid_train_size")
    lack = check(data, RunConfig(grid_cv=5, grid_train_size=12))
    assert lack.startswith("at least 10 rows to fit KNN with n_neighbors=10 in each training fold of its 5-fold "
                           "cross-validation; the first 12 training rows give"), lack
    assert lack.endswith(" 9"), lack
    assert check(data, RunConfig(grid_cv=5, grid_train_size=13)) is None  # 13 - 3 = 10


def test_digit_classes_names_what_the_classes_are():
    """Questions of digits have no answer on named classes: up to 3 names, then how many more."""
    check = digit_classes("its sizes")
    assert check(_labels([0, 1]), RunConfig()) is None
    start = "its sizes are properties of digits, and the classes of toy are "
    assert check(_labels([0, 1], class_names=("cat", "dog")), RunConfig()) == start + "named cat, dog"
    assert check(_labels([0, 1], class_names=("a", "b", "c")), RunConfig()) == start + "named a, b, c"
    assert check(_labels([0, 1], class_names=("a", "b", "c", "d")), RunConfig()) == start + "named a, b, c and 1 more"
    assert check(_labels([0, 1], class_names=tuple("abcdefg")), RunConfig()) == start + "named a, b, c and 4 more"
    assert check(_labels([0, 1], source="openml:Fashion-MNIST"), RunConfig()) == \
        "its sizes are properties of digits, and the classes of openml:Fashion-MNIST are not digits"


def test_registry_skips_multilabel_on_named_classes():
    """The multilabel step declares it applies to digits only; elsewhere the runner is told why."""
    names = _labels([0, 1, 1, 0], class_names=("cat", "dog"))
    assert skip_reason(STEPS["multilabel"], names, RunConfig()) == \
        "its two labels, 'large' (7, 8 or 9) and 'odd', are properties of digits, and the classes of toy are " \
        "named cat, dog"
    assert skip_reason(STEPS["multilabel"], _labels([0, 1]), RunConfig()) is None
    assert skip_reason(STEPS["multiclass"], names, RunConfig()) is None  # no such declaration


def test_registry_checks_name_the_step_and_the_way_out():
    """check_needs runs the registry's declared checks: the first step short of data is named, with the fix."""
    with pytest.raises(GpuclfError) as info:
        check_needs({"data": STEPS["data"], "binary_sgd": STEPS["binary_sgd"]}, _labels([0, 1, 2]), RunConfig())
    assert str(info.value) == \
        "step binary_sgd cannot run on this data: it needs at least 1 image(s) of 5s and 1 of other digits to " \
        "train a 5-detector; the training set has 0 5s and 3 others; use more rows (data.subsample(train_size)), " \
        "other data, or leave the step out of RunConfig(steps=...)"
    with command_line("gpuclf run"), pytest.raises(GpuclfError) as info:
        check_needs({"binary_cv": STEPS["binary_cv"]}, _labels([5, 5, 0, 1, 2]), RunConfig())
    assert str(info.value) == \
        "step binary_cv cannot run on this data: it needs at least 3 image(s) of 5s and 3 of other digits for " \
        "its 3-fold cross-validation; the training set has 2 5s and 3 others; use more rows (--train-size), " \
        "other data, or leave the step out of --steps"


def test_registry_error_analysis_at_the_fold_bound():
    """error_analysis (default cv=3): every present digit 3 times passes, a digit twice is refused."""
    steps = {"error_analysis": STEPS["error_analysis"]}
    check_needs(steps, _labels(_each([3, 3, 0, 3])), RunConfig())
    with pytest.raises(GpuclfError, match="it needs at least 3 images of each digit in the training set for its "
                                          "3-fold cross-validation; digit 3 has 2; "):
        check_needs(steps, _labels(_each([3, 3, 0, 2])), RunConfig())
    with pytest.raises(GpuclfError, match="it needs at least 2 different digits in the training set; they are all 4s"):
        check_needs(steps, _labels([4, 4, 4]), RunConfig())


def test_registry_multiclass_counts_the_svc_rows():
    """multiclass trains its SVC on the first ``svc_train_size`` rows: those need two digits."""
    data = _labels([6, 6, 6] + _each([3] * 10))
    with pytest.raises(GpuclfError, match="step multiclass .* at least 2 different digits in the first 3 "
                                          "training rows; they are all 6s"):
        check_needs({"multiclass": STEPS["multiclass"]}, data, RunConfig(svc_train_size=3))
    check_needs({"multiclass": STEPS["multiclass"]}, data, RunConfig(svc_train_size=4, ovr_train_size=4))


def _counting_context(data):
    """A numpy-backend Context whose backend counts what it moves to the device."""
    backend = get_backend("numpy")
    moved, syncs = [], []
    asarray, synchronize = backend.asarray, backend.synchronize
    backend.asarray = lambda a, dtype=None: moved.append(len(a)) or asarray(a, dtype)
    backend.synchronize = lambda: syncs.append(1) or synchronize()
    return Context(backend, data, RunConfig(positive_class=1)), moved, syncs


def test_move_data_moves_the_four_arrays_once():
    """move_data puts X/y train/test on the device and waits; later reads reuse them."""
    data = _labels([0, 1, 1, 2])
    ctx, moved, syncs = _counting_context(data)
    ctx.move_data()
    assert sorted(moved) == [1, 1, 4, 4] and syncs == [1]
    assert ctx.host(ctx.y_train_positive).tolist() == [False, True, True, False]
    ctx.X_train, ctx.X_test, ctx.y_train, ctx.y_test
    assert len(moved) == 4


def test_forget_work_keeps_the_data_and_drops_the_work():
    """forget_work: memoised work is computed again, results and arrays emptied, the data is not moved again."""
    ctx, moved, _ = _counting_context(_labels([0, 1, 1, 2]))
    ctx.move_data()
    X = ctx.X_train
    work = []
    ctx.memo("cv scores", lambda: work.append(1) or "scores")
    ctx.results["binary_cv"], ctx.arrays["scores"] = {"a": 1}, np.zeros(2)
    ctx.forget_work()
    assert ctx.results == {} and ctx.arrays == {}
    assert ctx.memo("cv scores", lambda: work.append(1) or "scores") == "scores" and work == [1, 1]
    assert ctx.X_train is X and len(moved) == 4


def test_every_named_class_needs_its_images_per_fold_not_only_the_first_ten():
    """Twelve named classes, the twelfth with 1 image for 3 folds: refused before any step runs, naming it (the
    check looked at labels 0-9 only, so the run failed later, inside a step, with scikit-learn's fold error)."""
    y = np.array([c for c in range(11) for _ in range(5)] + [11], np.uint8)
    X = np.zeros((len(y), 4), np.uint8)
    data = MnistData(X, y, X[:1], y[:1], "twelve", class_names=tuple("abcdefghijkl"))
    assert digits_per_fold()(data, RunConfig(cv=3)) == (
        "at least 3 images of each class in the training set for its 3-fold cross-validation; class 'l' has 1")
    digits = MnistData(X[:50], y[:50], X[:1], y[:1], "digits")  # 0-9, five images each
    assert digits_per_fold()(digits, RunConfig(cv=6)) == (
        "at least 6 images of each digit in the training set for its 6-fold cross-validation; digit 0 has 5")


def test_a_slice_of_rows_gives_in_the_plural():
    """"the training set gives 4", but "the first 4 training rows give 4"."""
    y = np.arange(10, dtype=np.uint8)
    X = np.zeros((10, 4), np.uint8)
    data = MnistData(X, y, X[:1], y[:1], "ten")
    assert neighbors(5, rows_of="grid_train_size")(data, RunConfig(grid_train_size=4)).endswith("the first 4 training rows give 4")
    assert neighbors(11)(data, RunConfig()).endswith("the training set gives 10")
