"""Training and test rows of one set of images: the book's first 60,000 of 70,000, else the first 6/7."""
from __future__ import annotations

from gpuclf.data.dataset import MnistData
from gpuclf.data.validation import validate_images, validate_labels
from gpuclf.errors import GpuclfError

OPENML_TRAIN = 60_000


def split(X, y, source: str, origin: dict, n_train: int | None = None, subject: str = "X",
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
