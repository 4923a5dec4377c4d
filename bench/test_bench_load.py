"""Reading an MNIST-format CSV: pandas on the host (cpu, numpy) against cuDF onto the GPU (gpu).

The CSV is written once per session from the bench's data, all of it (train
and test rows, before the size's cut) with a ``label`` column and
``pixel0 … pixel783``: 70,000 rows, about 110 MB, from full MNIST
(``$GPUCLF_MNIST``); 5,000 rows from the offline sample. The timed work is
what ``gpuclf run --data digits.csv`` does: read, validate, split, with the
images left where the reader put them (host memory for pandas, GPU memory
for cuDF, where it imports; the gpu backend falls back to pandas without it).
"""
import os

import numpy as np
import pandas as pd
import pytest

from gpuclf.data import ENV_VAR, load_mnist
from gpuclf.data.tables import reader_for


@pytest.fixture(scope="session")
def digits_csv(request, tmp_path_factory):
    source = request.config.getoption("--bench-data") or os.environ.get(ENV_VAR) or "sample"
    full = load_mnist(source)
    X = np.concatenate([full.X_train, full.X_test])
    y = np.concatenate([full.y_train, full.y_test])
    table = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    table.insert(0, "label", y)
    path = tmp_path_factory.mktemp("csv") / "digits.csv"
    table.to_csv(path, index=False)
    return str(path), len(y)


def test_load_csv(bench, digits_csv):
    path, n_rows = digits_csv
    reader = reader_for(bench.backend.name)
    mb = os.path.getsize(path) / 1e6
    bench.run("load_csv", lambda ctx: load_mnist(path, reader=reader),
              lambda data: {"reader": data.reader, "rows": n_rows, "file_mb": round(mb, 1)},
              notes=[f"{n_rows:,}-row CSV of {mb:,.0f} MB read by {reader}"], roles=())
