"""Every claim about the numpy and gpu backends' figures comes from one table (issue 34, item 3).

``gpuclf/chapter/published.py`` holds the tolerances; docs/parity.md's table
is generated from it (``tools/parity_table.py``); the README, ``gpuclf info``,
the report's notes and headline table, and ``gpuclf compare`` say the one
sentence :func:`~gpuclf.chapter.published.sgd_claim` derives from it: which of
gpuclf's SGD figures match scikit-learn's and which differ by design, and
why. On real MNIST the numpy report's verdicts are checked against the table.
The full-MNIST timings are one measured table too (docs/timings.md).
"""
from __future__ import annotations

import html
import importlib.util
import re
from pathlib import Path

import pytest

from gpuclf.backends.probes import LAPTOP_ADVICE
from gpuclf.chapter import STEPS
from gpuclf.chapter.published import BY_DESIGN, HEADLINES, TOLERANCES, book_tolerance, sgd_claim
from gpuclf.cli import main
from gpuclf.report.deviations import deviations

from conftest import run_steps

ROOT = Path(__file__).resolve().parents[2]


def _flat(text: str) -> str:
    """Text as a reader sees it: line breaks and runs of spaces are one space."""
    return " ".join(text.split())


def _tool():
    spec = importlib.util.spec_from_file_location("parity_table", ROOT / "tools" / "parity_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_parity_table_is_the_generated_one():
    text = (ROOT / "docs" / "parity.md").read_text(encoding="utf-8")
    tool = _tool()
    assert tool.generated() in text, "docs/parity.md is stale: run python tools/parity_table.py"
    for family in TOLERANCES.values():  # every rule, the 5 pp of precision and recall too
        assert f"| {family.text} |" in text


def test_each_sgd_figure_is_held_to_a_tolerance_or_differs_by_design_with_its_reason():
    sgd = {key: t for key, t in TOLERANCES.items() if key.startswith("sgd_")}
    assert {key for key, t in sgd.items() if t.by_design} == {"sgd_rate"}
    claim = sgd_claim()
    for t in sgd.values():
        assert t.what in claim or not t.comparable
    held, _, differs = claim.partition(", and differs by design on ")
    assert TOLERANCES["sgd_rate"].what in differs and TOLERANCES["sgd_rate"].by_design in differs
    assert TOLERANCES["sgd_rate"].what not in held


def test_the_readme_info_and_the_report_say_the_tables_claim(capsys, tmp_path):
    claim = sgd_claim()
    assert claim in _flat((ROOT / "README.md").read_text(encoding="utf-8"))
    assert main(["info"]) == 0
    assert f"numpy, gpu SGD   {claim} (docs/parity.md)" in capsys.readouterr().out
    doc = {"data_source": "openml:mnist_784", "n_train": 60_000, "n_test": 10_000, "config": {"positive_class": 5},
           "placement": {"binary_cv": {"sgd": {"library": "gpuclf"}}}, "steps": {}}
    assert f"SGD: {claim}; its decision scores and thresholds are in its own units." in deviations(doc)


def test_the_full_mnist_timings_are_one_measured_table():
    """README, info, usage.md: about 2 minutes on 2 quiet cores, as docs/timings.md measured (and linked)."""
    timings = (ROOT / "docs" / "timings.md").read_text(encoding="utf-8")
    quiet = re.search(r"\| A: `numpy` \| [^|]+ \| [^|]+ \| [^|]+ \| (\d+) s \|", timings)
    assert quiet and round(int(quiet.group(1)) / 60) == 2
    said = "about 2 minutes on 2 quiet cores"
    readme, usage = (_flat((ROOT / p).read_text(encoding="utf-8")) for p in ("README.md", "docs/usage.md"))
    assert f"{said} ([measured timings](docs/timings.md))" in readme
    assert f"{said} (measured: docs/timings.md)" in LAPTOP_ADVICE
    assert "[timings.md](timings.md)" in usage and "| whole run |" not in usage  # the table lives in one place


@pytest.mark.realdata
def test_the_numpy_reports_verdicts_on_full_mnist_are_the_tables(real_mnist, tmp_path):
    """A whole numpy run of the headline steps on full MNIST: each verdict is what the table says of gpuclf's SGD."""
    from test_report import _headline_verdicts  # the headline table as the report prints it

    steps = [s for s in STEPS if s not in ("error_analysis", "denoise", "knn_plus")]
    doc = run_steps("numpy", real_mnist, steps, tmp_path)
    assert {roles["sgd"]["library"] for roles in doc["placement"].values() if "sgd" in roles} == {"gpuclf"}
    verdicts = {html.unescape(label): v for label, v in _headline_verdicts(tmp_path, doc).items()}
    assert set(verdicts) == {h.label for h in HEADLINES}
    for h in HEADLINES:
        tol = book_tolerance(h, "gpuclf")
        expected = ({"identical", "within tolerance"} if tol.comparable else
                    {BY_DESIGN} if tol.by_design else {"not compared"})
        assert verdicts[h.label] in expected, (h.label, verdicts[h.label], expected)
    assert sorted(label for label, v in verdicts.items() if v == BY_DESIGN) == [
        "5-detector F1", "5-detector precision", "5-detector recall", "Recall at 90% precision"]
    page = html.unescape(re.sub(r"<[^>]+>", " ", (tmp_path / "report.html").read_text(encoding="utf-8")))
    assert f"On this run, {sgd_claim()};" in _flat(page)
