""":class:`MnistData` itself: its class names, identity (``fingerprint``), summary and what ``--positive-class``
means on it (``gpuclf/data/dataset.py``). Written against the survivors of ``tools/mutation.py --module data``."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from gpuclf.data import dataset
from gpuclf.data.dataset import MnistData
from gpuclf.data.validation import validate_labels
from gpuclf.errors import GpuclfError


def _data(y_train=(0, 1, 2), y_test=(2, 1), names=None, source="csv:d.csv"):
    y_train, y_test = np.asarray(y_train, np.uint8), np.asarray(y_test, np.uint8)
    X_train = (np.arange(len(y_train) * 784) % 251).astype(np.uint8).reshape(-1, 784)
    X_test = (np.arange(len(y_test) * 784) % 241).astype(np.uint8).reshape(-1, 784)
    return MnistData(X_train, y_train, X_test, y_test, source, class_names=names)


def test_one_name_is_needed_per_label_on_either_side_of_the_split():
    assert _data((0, 1, 2), (2, 0), names=["a", "b", "c"]).class_names == ("a", "b", "c")
    with pytest.raises(GpuclfError) as exc:
        _data((0, 1, 1), (3,), names=["a", "b", "c"])  # label 3 only in the test rows
    assert str(exc.value) == "3 class name(s) given but the labels go up to 3; give one name per label 0-3"
    with pytest.raises(GpuclfError, match="labels go up to 3"):
        _data((0, 3), (0,), names=["a", "b", "c"])
    # Label 0 alone needs one name, and one is enough.
    assert _data((0, 0), (0,), names=["only"]).class_names == ("only",)


def test_class_name_is_the_label_without_names():
    assert _data().class_name(2) == "2"
    assert _data(names=["a", "b", "c"]).class_name(np.uint8(1)) == "b"


def _reference_fingerprint(arrays) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for a in arrays:
        digest.update(f"{a.dtype.str}{a.shape};".encode())
        digest.update(np.ascontiguousarray(a).data)
    return f"blake2b:{digest.hexdigest()}"


def test_the_fingerprint_hashes_every_row_in_blocks_as_in_one_piece(monkeypatch):
    d = _data(np.arange(10) % 3, np.arange(7) % 3)
    expected = _reference_fingerprint([d.X_train, d.y_train, d.X_test, d.y_test])
    assert d.fingerprint() == expected
    for rows in (1, 3, 4, 10, 11):  # blocks that split the arrays anywhere: the same bytes, the same hash
        monkeypatch.setattr(dataset, "FINGERPRINT_ROWS", rows)
        assert d.fingerprint() == expected
    # Every row counts, the last ones too.
    other = _data(np.arange(10) % 3, np.arange(7) % 3)
    other.X_test[-1, -1] ^= 1
    assert other.fingerprint() != expected


def test_summary_counts_every_class_even_when_absent():
    s = _data((0, 0, 2), (2,), names=["a", "b", "c"]).summary()
    assert s == {"source": "csv:d.csv", "n_train": 3, "n_test": 1, "n_features": 784,
                 "train_class_counts": [2, 0, 1], "test_class_counts": [0, 0, 1], "first_labels": [0, 0, 2],
                 "class_names": ["a", "b", "c"], "reader": "numpy"}
    # Digits: all ten counted, though only 0-2 occur.
    assert _data().summary()["test_class_counts"] == [0, 1, 1, 0, 0, 0, 0, 0, 0, 0]


PETS = ["cat", "Cat", "dog", "7", "1"]


@pytest.mark.parametrize("value, label", [
    (3, 3), (np.int64(0), 0), ("3", 3), (" 3 ", 3), ("label:2", 2), ("label: 2", 2), ("name:dog", 2),
    ("dog", 2), ("DOG", 2), ("name:DOG", 2), ("cat", 0), ("Cat", 1), ("name:Cat", 1), ("7", 3), ("name:7", 3),
    ("label:4", 4), ("name:1", 4),
])
def test_positive_class_by_label_or_name(value, label):
    assert _data(range(5), (0,), names=PETS).label_of(value) == label


def test_positive_class_on_the_digits():
    d = _data(range(10), (0,))
    assert [d.label_of(v) for v in (0, 9, "5", "label:5")] == [0, 9, 5, 5]
    for value, shown in [(10, "10"), ("10", "10"), ("name:5", "'name:5'"), ("five", "'five'"), (True, "'True'"),
                         (-1, "'-1'"), ("label:x", "'label:x'")]:
        with pytest.raises(GpuclfError) as exc:
            d.label_of(value)
        assert str(exc.value) == f"--positive-class {shown} is not a class of csv:d.csv; its labels are 0-9"


def test_a_value_that_fits_two_classes_is_refused_with_each_meaning():
    d = _data(range(5), (0,), names=PETS)
    with pytest.raises(GpuclfError) as exc:
        d.label_of("CAT")  # no exact name; both cat and Cat in any case
    assert str(exc.value) == (
        "--positive-class 'CAT' is ambiguous in csv:d.csv: it may mean the class named 'cat' (label 0) or the class "
        "named 'Cat' (label 1); give --positive-class 'name:cat' or --positive-class 'name:Cat'")
    with pytest.raises(GpuclfError) as exc:
        d.label_of("1")  # the class named "1" is label 4, and label 1 is Cat
    assert str(exc.value) == (
        "--positive-class 1 is ambiguous in csv:d.csv: it may mean the class named '1' (label 4) or label 1 (the "
        "class 'Cat'); give --positive-class 'name:1' or --positive-class 'label:1'")
    with pytest.raises(GpuclfError) as exc:
        d.label_of("rabbit")
    assert str(exc.value) == ("--positive-class 'rabbit' is not a class of csv:d.csv; its labels are 0 (cat), 1 (Cat), "
                              "2 (dog), 3 (7), 4 (1)")
    # A name that is its own label is one class, not two.
    assert _data(range(3), (0,), names=["0", "x", "y"]).label_of("0") == 0


@pytest.mark.parametrize("y, expected", [
    ([[1], [2]], [1, 2]),  # a column vector is read as labels
    (np.array([b"3", b"4"]), [3, 4]),
    (np.array(["0", "9"]), [0, 9]),
    ([0.0, 9.0], [0, 9]),
])
def test_labels_in_every_accepted_form(y, expected):
    out = validate_labels(y)
    assert out.tolist() == expected and out.dtype == np.uint8


@pytest.mark.parametrize("y, message", [
    ([[1, 2]], "y has shape (1, 2); labels must be a 1-D array of digits 0-9"),
    (np.zeros((2, 1, 1)), "y has shape (2, 1, 1); labels must be a 1-D array of digits 0-9"),
    (np.array([b"3", b"\xb2"]), "y contains the label b'\\xb2'; string labels must be the digits '0'-'9'"),
    (np.array([1 + 2j]), "y has dtype complex128; labels must be digits 0-9"),
    ([0, 10], "y contains the label 10; labels must be digits 0-9"),
    ([-1, 0], "y contains the label -1; labels must be digits 0-9"),
])
def test_labels_refused_in_one_sentence(y, message):
    with pytest.raises(GpuclfError) as exc:
        validate_labels(y)
    assert str(exc.value) == message


# -- the split, images and named labels (gpuclf/data/split.py, validation.py) ----------------

def test_split_takes_the_books_sixty_thousand_else_six_sevenths():
    from gpuclf.data.split import split

    X, y = np.zeros((70_000, 784), np.uint8), np.zeros(70_000, np.uint8)
    assert len(split(X, y, "s", {}).y_train) == 60_000
    assert len(split(X[:70_001 - 2], y[:69_999], "s", {}).y_train) == 69_999 * 6 // 7  # not 70,000: 6/7
    d = split(X[:14], np.arange(14) % 10, "s", {"data": "x"}, class_names=tuple("abcdefghij"))
    assert (len(d.y_train), len(d.y_test), d.origin, d.class_names[0]) == (12, 2, {"data": "x"}, "a")
    assert len(split(X[:3], y[:3], "s", {}, n_train=1).y_train) == 1


@pytest.mark.parametrize("n, n_train, need", [(1, None, 2), (5, 5, 6), (5, 0, 2), (5, 7, 8)])
def test_split_refuses_too_few_rows_saying_how_many(n, n_train, need):
    from gpuclf.data.split import split

    with pytest.raises(GpuclfError) as exc:
        split(np.zeros((n, 784), np.uint8), np.zeros(n, np.uint8), "csv:d.csv", {}, n_train=n_train)
    assert str(exc.value) == (f"csv:d.csv has {n} sample(s), too few to split into training and test rows; give at "
                              f"least {need}")


def test_split_names_the_images_and_the_labels_as_told():
    from gpuclf.data.split import split

    with pytest.raises(GpuclfError, match=r"^X has 3 columns"):
        split(np.zeros((4, 3)), np.zeros(4), "s", {})
    with pytest.raises(GpuclfError, match=r"^openml:iris has 3 columns"):
        split(np.zeros((4, 3)), np.zeros(4), "s", {}, subject="openml:iris")
    with pytest.raises(GpuclfError, match=r"^y has 3 labels but there are 4 images"):
        split(np.zeros((4, 784)), np.zeros(3), "s", {})
    with pytest.raises(GpuclfError, match=r"^column 'label' has 3 labels but there are 4 images"):
        split(np.zeros((4, 784)), np.zeros(3), "s", {}, labels="column 'label'")


def test_images_refused_in_one_sentence_that_names_them():
    from gpuclf.data.validation import validate_images

    with pytest.raises(GpuclfError, match=r"^X could not be read as an array \(.*\); pass an \(n, 784\) array$"):
        validate_images([[1, 2], [3]])
    with pytest.raises(GpuclfError) as exc:
        validate_images(np.array([["a"] * 784]))
    assert str(exc.value) == "X has dtype <U1; pixel values must be numbers from 0 to 255"
    X = np.zeros((4, 784))
    X[2, 5] = np.nan
    X[3, 0] = np.inf
    with pytest.raises(GpuclfError) as exc:
        validate_images(X, "images")
    assert str(exc.value) == "images contains NaN or infinite values (first at row 2); clean or drop those rows"
    with pytest.raises(GpuclfError) as exc:
        validate_images(np.full((2, 784), 0.5))
    assert str(exc.value) == ("X has fractional pixel values; gpuclf expects raw 0-255 intensities (multiply by 255 "
                              "and round if you scaled them to 0-1)")
    assert validate_images(np.full((2, 28, 28), 255.0)).tolist() == [[255] * 784] * 2


def test_labels_written_as_names_become_codes_in_sorted_order():
    from gpuclf.data.validation import encode_named_labels

    y, names = encode_named_labels(np.array([b"dog", b"cat ", b"\xe9mu"]), "t")
    assert names == ("cat", "dog", "\xe9mu") and y.tolist() == [1, 0, 2] and y.dtype == np.uint8
    y, names = encode_named_labels(np.array(["5", " 3"]), "t")  # digits stay digits
    assert names is None and y.tolist() == ["5", "3"]
    y, names = encode_named_labels(np.array([b"5", b"3"]), "t")
    assert names is None and y.tolist() == ["5", "3"]
    for numeric in (np.array([1, 2]), np.array([["a"], ["b"]])):  # numbers, or not one column: as given
        y, names = encode_named_labels(numeric, "t")
        assert names is None and y is not None and np.array_equal(y, numeric)
    with pytest.raises(GpuclfError) as exc:
        encode_named_labels(np.array([f"c{i:02d}" for i in range(11)]), "csv:d.csv")
    assert str(exc.value) == ("csv:d.csv has 11 classes (c00, c01, c02, c03, …); gpuclf runs the chapter on at most "
                              "10 classes")
