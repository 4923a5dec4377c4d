"""``load_mnist``'s default OpenML source (``gpuclf/data/sources.py``): asked for by OpenML's own spelling.
No network: ``fetch_openml`` is replaced by a fake. Written against survivors of
``tools/mutation.py --module data``."""
from __future__ import annotations

import pytest

from gpuclf.data import load_mnist
from gpuclf.errors import GpuclfError


def test_the_default_source_is_named_as_openml_spells_it(monkeypatch):
    """``--data openml`` means ``mnist_784``: a refusal from OpenML names it so."""
    def fake(*args, **kw):
        raise ValueError(f"No active dataset {args[0]} found.")

    monkeypatch.setattr("sklearn.datasets.fetch_openml", fake)
    monkeypatch.delenv("GPUCLF_MNIST", raising=False)
    for source in ("openml", "openml:", None):
        with pytest.raises(GpuclfError) as exc:
            load_mnist(source)
        assert str(exc.value).startswith("OpenML has no dataset 'mnist_784';")
