"""notebooks/chapter3.ipynb runs through in a Jupyter kernel on the offline sample, on the CPU (as CI runs it)."""
from __future__ import annotations

from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "chapter3.ipynb"


def test_chapter_notebook_runs_on_the_sample(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("GPUCLF_BACKEND", "numpy")
    monkeypatch.setenv("GPUCLF_NOTEBOOK_DATA", "sample")
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    # Any cell error raises CellExecutionError, naming the cell.
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    # Progress is one display updated in place (a live line in Jupyter), never carriage returns in a stream.
    progress = [o for o in outputs if "steps done in" in o.get("data", {}).get("text/markdown", "")]
    assert len(progress) == 1 and progress[0].get("metadata") is not None
    assert not any("\r" in o.get("text", "") for o in outputs if o.output_type == "stream")
    html = "".join(o.get("data", {}).get("text/html", "") for o in outputs)
    assert "<img" in html and "Book" in html  # the figures, and the book-vs-run table
    assert (tmp_path / "chapter3-results" / "report.html").exists()
    summary = outputs[-1]["data"]["text/plain"]
    assert "SGDClassifier" in summary and "gpuclf (numpy)" in summary
