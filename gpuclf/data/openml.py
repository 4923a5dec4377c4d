"""OpenML sets of 28 x 28 grey images (``mnist_784``, ``openml:Fashion-MNIST``) through scikit-learn's cache."""
from __future__ import annotations

import warnings

from gpuclf.data.dataset import MnistData
from gpuclf.data.split import split
from gpuclf.data.validation import encode_named_labels
from gpuclf.errors import FILE_ERRORS, GpuclfError

FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot")
#: OpenML image sets gpuclf knows by name: data id, and class names where the labels are codes.
#: Fashion-MNIST's names are those of its documentation (OpenML stores only the codes 0-9).
OPENML_SETS = {"mnist_784": (554, None), "fashion-mnist": (40996, FASHION_NAMES)}


def load_openml(name: str, data_home) -> MnistData:
    """Any OpenML set of 28 x 28 grey images, by name or id, through scikit-learn's cache."""
    known = OPENML_SETS.get(name.lower())
    data_id = known[0] if known else int(name) if name.isdigit() else None
    names = known[1] if known else next((v[1] for v in OPENML_SETS.values() if v[0] == data_id), None)
    bunch = _fetch_openml(data_home, name, data_id)
    mnist = data_id == 554
    title = "mnist_784" if mnist else str(bunch.get("details", {}).get("name") or name)
    y, found = encode_named_labels(bunch.target, f"openml:{title}")
    origin = {"data": "openml" if mnist else f"openml:{name}", "data_home": data_home}
    return split(bunch.data, y, f"openml:{title}", origin, subject="X" if mnist else f"openml:{title}",
                  class_names=names or found, named_labels=names is None and found is not None,
                  reader="fetch_openml")


def _fetch_openml(data_home, name: str, data_id: int | None):
    from sklearn.datasets import fetch_openml

    where = data_home or "~/scikit_learn_data"
    if data_id == 554:  # the book's call
        what, args, by = "MNIST", ("mnist_784",), {"version": 1}
    else:
        what, args = f"the OpenML dataset {name!r}", ()
        by = {"data_id": data_id} if data_id is not None else {"name": name, "version": "active"}
    try:
        with warnings.catch_warnings():
            # "Multiple active versions ... returning version N": the newest is what the user asked for.
            warnings.filterwarnings("ignore", message="Multiple active versions", category=UserWarning)
            # Its "network error ... Retrying" lines: the one failure that matters is reported below.
            warnings.filterwarnings("ignore", message="A network error occurred", category=UserWarning)
            bunch = fetch_openml(*args, **by, as_frame=False, parser="auto", data_home=data_home)
    except FILE_ERRORS as exc:
        if _is_missing_dataset(exc):
            raise GpuclfError(f"OpenML has no dataset {name!r}; give an OpenML name or id of 28 x 28 grey "
                              "images, e.g. openml:Fashion-MNIST or openml:40996") from None
        if _is_network_error(exc):
            raise GpuclfError(f"could not download {what} from OpenML ({exc.__class__.__name__}); "
                              "connect to the internet once to fill the cache in "
                              f"{where}, or use --data sample or --data PATH.npz") from None
        raise GpuclfError(f"the OpenML cache in {where} could not be read ({exc.__class__.__name__}: {exc}); "
                          "delete its openml folder and run again to re-download") from None
    return bunch


def _is_missing_dataset(exc: BaseException) -> bool:
    """scikit-learn's answer to an unknown name or id: ``OpenMLError`` (a ValueError; OpenML's HTTP 412)
    saying "No active dataset NAME found." or "Dataset with data_id N not found."."""
    text = str(exc)
    return type(exc).__name__ == "OpenMLError" or (
        isinstance(exc, ValueError) and ("No active dataset" in text or "not found" in text))


def _is_network_error(exc: BaseException) -> bool:
    import urllib.error

    return isinstance(exc, (urllib.error.URLError, ConnectionError, TimeoutError))
