"""``load_openml`` edges (``gpuclf/data/openml.py``): what the MnistData of an OpenML set says about its
labels, where it came from and how its messages name it. No network: ``fetch_openml`` is replaced at
scikit-learn's boundary by a fake returning a small Bunch. Written against survivors of
``tools/mutation.py --module data``."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils import Bunch

from gpuclf.data.openml import FASHION_NAMES, load_openml
from gpuclf.errors import GpuclfError


@pytest.fixture
def bunch(monkeypatch):
    """Set ``bunch["target"]`` (and ``data``, ``name``) for what the fake fetch_openml returns."""
    state = {"data": np.random.default_rng(0).integers(0, 256, (14, 784)).astype(np.float64),
             "target": (np.arange(14) % 10).astype(str).astype(object), "name": "Kuzushiji-MNIST"}

    def fake(*args, **kw):
        return Bunch(data=state["data"], target=state["target"], details={"name": state["name"]})

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake)
    return state


def test_labels_written_as_names_are_named_labels(bunch):
    """An unknown set whose labels are names (cat, dog): coded in sorted order, and ``named_labels``."""
    bunch["target"] = np.array(["dog", "cat"] * 7, dtype=object)
    data = load_openml("pets", None)
    assert data.class_names == ("cat", "dog") and data.named_labels is True
    assert data.y_train[:4].tolist() == [1, 0, 1, 0]


def test_digit_labels_of_an_unknown_set_have_no_names(bunch):
    """An unknown set of digit labels: no names, and not named labels."""
    data = load_openml("Kuzushiji-MNIST", None)
    assert data.class_names is None and data.named_labels is False


def test_a_known_set_s_names_are_attached_not_the_labels_own(bunch):
    """Fashion-MNIST (codes 0-9): gpuclf's names attached, so not ``named_labels``."""
    bunch["name"] = "Fashion-MNIST"
    data = load_openml("40996", None)
    assert data.class_names == FASHION_NAMES and data.named_labels is False


def test_origin_keeps_the_name_as_given_and_the_cache_folder(bunch):
    """``origin`` is what ``--resume`` reloads: the name as given and ``data_home``."""
    assert load_openml("Kuzushiji-MNIST", "/cache").origin == {"data": "openml:Kuzushiji-MNIST",
                                                                "data_home": "/cache"}
    bunch["name"] = "mnist_784"
    assert load_openml("mnist_784", "/cache").origin == {"data": "openml", "data_home": "/cache"}


def test_too_many_named_classes_are_refused_naming_the_set(bunch):
    """Eleven label names: the message names the set by its OpenML title."""
    bunch["target"] = np.array([f"c{i:02d}" for i in range(11)] + ["c00"] * 3, dtype=object)
    bunch["name"] = "Eleven"
    with pytest.raises(GpuclfError) as exc:
        load_openml("Eleven", None)
    assert str(exc.value).startswith("openml:Eleven has 11 classes (c00, c01, c02, c03, …)")


def test_mnist_images_are_named_x_as_in_the_book(bunch):
    """The book's MNIST: a bad image array is named ``X``; another set's by its title."""
    bunch["data"] = np.zeros((14, 783))
    bunch["name"] = "mnist_784"
    with pytest.raises(GpuclfError) as exc:
        load_openml("mnist_784", None)
    assert str(exc.value) == "X has 783 columns; MNIST images need 784 (28 x 28 pixels)"
    bunch["name"] = "Kuzushiji-MNIST"
    with pytest.raises(GpuclfError) as exc:
        load_openml("Kuzushiji-MNIST", None)
    assert str(exc.value).startswith("openml:Kuzushiji-MNIST has 783 columns")
