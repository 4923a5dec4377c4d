"""``load_mnist(source)``: the one entry point from a ``--data`` argument to a validated :class:`MnistData`."""
from __future__ import annotations

import os

from gpuclf.data.classes import name_classes
from gpuclf.data.dataset import MnistData
from gpuclf.data.npz import load_npz
from gpuclf.data.openml import load_openml
from gpuclf.data.sample import load_sample
from gpuclf.data.tables import load_table, table_format
from gpuclf.errors import GpuclfError

ENV_VAR = "GPUCLF_MNIST"

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
        data = load_sample()
    elif source == "openml" or source.startswith("openml:"):
        data = load_openml(source.partition(":")[2] or "mnist_784", data_home)
    else:
        subjects = (subject or f"{option} file {source!r}", test_subject or f"--test-data file {test_source!r}")
        data = load_table(source, test_source, subjects, label_column, reader) if table_format(source) else \
            load_npz(source, subjects, test_source)
    if class_names is not None:
        data = name_classes(data, tuple(class_names))
        data.origin["class_names"] = list(data.class_names)
    return data
