"""OpenML through scikit-learn's ``fetch_openml``: the call gpuclf makes, the warnings it silences and the ones it
lets through, and each failure in one sentence (``gpuclf/data/openml.py``, ``sources.py``). No network: the fake
stands at ``fetch_openml``'s boundary and refuses what scikit-learn 1.9 refuses there (its ``parser`` values)."""
from __future__ import annotations

import urllib.error
import warnings

import numpy as np
import pytest
from sklearn.utils import Bunch

from gpuclf.data import load_mnist
from gpuclf.errors import GpuclfError

MULTIPLE = ("Multiple active versions of the dataset matching the name Kuzushiji-MNIST exist. Versions may be "
            "fundamentally different, returning version 1.")
RETRY = "A network error occurred while downloading https://api.openml.org/data/v1/download/1. Retrying..."


@pytest.fixture
def fetch(monkeypatch, sample_mnist):
    """A fetch_openml that records its calls, emits ``warn`` on the way, and raises ``fail`` when set."""
    X = np.concatenate([sample_mnist.X_train, sample_mnist.X_test])
    y = np.concatenate([sample_mnist.y_train, sample_mnist.y_test]).astype(str).astype(object)
    state = {"calls": [], "warn": [], "fail": None}

    def fake(*args, **kw):
        if kw.get("parser") not in ("auto", "pandas", "liac-arff"):  # scikit-learn's InvalidParameterError
            raise ValueError(f"The 'parser' parameter of fetch_openml must be a str among {{'auto', 'pandas', "
                             f"'liac-arff'}}. Got {kw.get('parser')!r} instead.")
        state["calls"].append((args, kw))
        for message, category in state["warn"]:
            warnings.warn(message, category)
        if state["fail"] is not None:
            raise state["fail"]
        return Bunch(data=X.astype(np.float64), target=y, details={"name": "Kuzushiji-MNIST"})

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake)
    monkeypatch.delenv("GPUCLF_MNIST", raising=False)
    return state


def test_the_books_call_and_any_other_sets(fetch):
    load_mnist()  # no --data and no $GPUCLF_MNIST: the book's OpenML MNIST
    load_mnist("openml:")
    assert [c[0] for c in fetch["calls"]] == [("mnist_784",), ("mnist_784",)]
    assert all(c[1] == {"version": 1, "as_frame": False, "parser": "auto", "data_home": None}
               for c in fetch["calls"])
    load_mnist("openml:Kuzushiji-MNIST", data_home="/cache")
    assert fetch["calls"][-1] == ((), {"name": "Kuzushiji-MNIST", "version": "active", "as_frame": False,
                                       "parser": "auto", "data_home": "/cache"})


def test_only_scikit_learns_two_expected_warnings_are_silenced(fetch):
    fetch["warn"] = [(MULTIPLE, UserWarning), (RETRY, UserWarning), ("the cache is old", UserWarning)]
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        data = load_mnist("openml:Kuzushiji-MNIST")
    assert data.source == "openml:Kuzushiji-MNIST"
    assert [str(w.message) for w in seen] == ["the cache is old"]


@pytest.mark.parametrize("data_home, where", [(None, "~/scikit_learn_data"), ("/cache", "/cache")])
def test_each_failure_is_one_sentence_that_says_what_to_do(fetch, data_home, where):
    fetch["fail"] = urllib.error.URLError("no network")
    with pytest.raises(GpuclfError) as exc:
        load_mnist("openml", data_home=data_home)
    assert str(exc.value) == (f"could not download MNIST from OpenML (URLError); connect to the internet once to "
                              f"fill the cache in {where}, or use --data sample or --data PATH.npz")
    fetch["fail"] = ConnectionResetError()
    with pytest.raises(GpuclfError) as exc:
        load_mnist("openml:Kuzushiji-MNIST", data_home=data_home)
    assert str(exc.value).startswith("could not download the OpenML dataset 'Kuzushiji-MNIST' from OpenML "
                                     "(ConnectionResetError)")
    fetch["fail"] = ValueError("No active dataset nope found.")
    with pytest.raises(GpuclfError) as exc:
        load_mnist("openml:nope", data_home=data_home)
    assert str(exc.value) == ("OpenML has no dataset 'nope'; give an OpenML name or id of 28 x 28 grey images, e.g. "
                              "openml:Fashion-MNIST or openml:40996")
    fetch["fail"] = OSError(28, "No space left on device")
    with pytest.raises(GpuclfError) as exc:
        load_mnist("openml", data_home=data_home)
    assert str(exc.value) == (f"the OpenML cache in {where} could not be read (OSError: [Errno 28] No space left on "
                              "device); delete its openml folder and run again to re-download")


def test_test_data_goes_with_a_file_only(fetch, tmp_path):
    for source in ("sample", "openml", "openml:Fashion-MNIST"):
        with pytest.raises(GpuclfError) as exc:
            load_mnist(source, test_source="t.npz")
        assert str(exc.value) == f"--test-data goes with a file given to --data; {source!r} has its own test split"
    assert not fetch["calls"]


def test_a_file_and_its_test_file_are_named_as_given(tmp_path, monkeypatch):
    X = np.zeros((20, 784), np.uint8)
    np.savez(tmp_path / "d.npz", X=X, y=np.arange(20) % 10)
    np.savez(tmp_path / "t.npz", X=X[:5], y=np.arange(5))
    data = load_mnist(str(tmp_path / "d.npz"), test_source=str(tmp_path / "t.npz"))
    assert (len(data.y_train), len(data.y_test)) == (20, 5)
    with pytest.raises(GpuclfError) as exc:
        load_mnist(str(tmp_path / "d.npz"), subject="the training file", test_source=str(tmp_path / "no.npz"))
    assert str(exc.value).startswith(f"--test-data file {str(tmp_path / 'no.npz')!r} does not exist")
    monkeypatch.setenv("GPUCLF_MNIST", str(tmp_path / "gone.npz"))
    with pytest.raises(GpuclfError) as exc:
        load_mnist()
    assert str(exc.value).startswith(f"$GPUCLF_MNIST file {str(tmp_path / 'gone.npz')!r} does not exist")
    with pytest.raises(GpuclfError) as exc:
        load_mnist(str(tmp_path / "gone.npz"))
    assert str(exc.value).startswith(f"--data file {str(tmp_path / 'gone.npz')!r} does not exist")
