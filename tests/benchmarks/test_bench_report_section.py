"""The report's "Cost vs size" section (``gpuclf.benchmarks.sweep.sweep_section``) from synthetic sweep results:
headings, the paragraph, the rounds table, the median-seconds table, the GEMM efficiency table and the chart.

Fast: the section is built straight from a :class:`~gpuclf.benchmarks.records.Results`, without running the
bench suite.
"""
from __future__ import annotations

from pathlib import Path

from gpuclf.benchmarks.pages import Heading, Image, Table, Text, markdown
from gpuclf.benchmarks.records import Results
from gpuclf.benchmarks.stats import Spread
from gpuclf.benchmarks.sweep import sweep_section

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = (REPO / "docs" / "benchmarks.md").read_text()
FILE = "benchmark-sweep.json"
#: The GEMM peak of the sweep's run, in GFLOP/s (numpy, float64).
PEAK = {"file": FILE, "library": "numpy", "kind": "gemm", "dtype": "float64", "rate": 100.0}


def _row(step, backend, n_train, median, lo, hi, rounds=3, gemm_flops=None):
    """One sweep row as :func:`~gpuclf.benchmarks.records.load` keeps it (the step's extra_info, spread, file)."""
    return {"size": str(n_train), "step": step, "backend": backend, "n_train": n_train, "n_test": n_train // 6,
            "median": median, "rounds": rounds, "spread": Spread(median, lo, hi, median, median, rounds),
            "gemm_flops": gemm_flops, "array_library": "numpy", "gemm_dtype": "float64", "estimators": {},
            "file": FILE}


def _decided(backend, rounds, why):
    return {"backend": backend, "rounds": rounds, "why": why}


def _sweep():
    """binary_sgd: cpu at 1,000-4,000 rows (3 rounds, linear), numpy at 1,000-8,000 (3 rounds, quadratic, 10x and
    more faster); denoise: cpu at 2,000 only (1 round), numpy at 1,000 and 2,000 (1 round, linear).
    cpu stopped at 8,000 (the plan says so)."""
    rows = [_row("denoise", "numpy", 1_000, 0.5, 0.5, 0.5, rounds=1),
            _row("binary_sgd", "cpu", 4_000, 4.0, 3.6, 4.4),
            _row("binary_sgd", "cpu", 1_000, 1.0, 0.9, 1.1),
            _row("binary_sgd", "cpu", 2_000, 2.0, 1.8, 2.2),
            # numpy's GEMM rate: 1e7 FLOPs in 0.01 s = 1 GFLOP/s (1 % of the 100 GFLOP/s peak), then 2 %, 50 %;
            # at 8,000 rows the step reported no GEMM FLOPs.
            _row("binary_sgd", "numpy", 1_000, 0.01, 0.009, 0.011, gemm_flops=1e7),
            _row("binary_sgd", "numpy", 2_000, 0.04, 0.036, 0.044, gemm_flops=8e7),
            _row("binary_sgd", "numpy", 4_000, 0.16, 0.144, 0.176, gemm_flops=8e9),
            _row("binary_sgd", "numpy", 8_000, 0.64, 0.576, 0.704),
            # 3e10 FLOPs in 3 s: 10 GFLOP/s, 10 % of the peak.
            _row("denoise", "cpu", 2_000, 3.0, 3.0, 3.0, rounds=1, gemm_flops=3e10),
            _row("denoise", "numpy", 2_000, 1.0, 1.0, 1.0, rounds=1)]
    asked = "3 rounds as asked"
    plan = {"1000": [_decided("cpu", 3, asked), _decided("numpy", 3, asked)],
            "2000": [_decided("cpu", 3, asked), _decided("numpy", 3, asked)],
            "4000": [_decided("cpu", 3, asked), _decided("numpy", 3, asked)],
            "8000": [_decided("cpu", 0, "stopped: one round was estimated at 25 min"), _decided("numpy", 3, asked)]}
    return Results(rows=rows, peaks=[PEAK]), plan


def _paragraph(lo: str, hi: str) -> str:
    """The section's paragraph for a sweep from ``lo`` to ``hi`` rows, as docs/benchmarking.md describes the
    verdicts: none where the rounds overlap, at a size with fewer than 3 rounds, or for the same estimator.
    (docs/benchmarks.md was rendered before the last two clauses were added.)"""
    return (f"Training rows from {lo} to {hi} (test rows: one per 6), with the same options at every size: small's "
            "forest (20 trees) and grid (2,000 rows), and scikit-learn's SGD capped at 100 epochs. Each cell is the "
            "median seconds (min–max of the rounds). The exponent is the slope of a least-squares line through the "
            "medians on log-log axes (1: cost grows like the rows, 2: like their square); 'overtakes cpu' is the "
            "size from which the backend is faster than scikit-learn at every larger size measured, interpolated on "
            "log-log axes between the two sizes around it, where faster means its slowest round beat "
            "scikit-learn's fastest: where the rounds overlap it gives no verdict, nor at a size with fewer than 3 "
            "rounds (too few to tell noise from a difference), nor where both backends ran the same estimator (the "
            "numpy backend hands the SVCs to scikit-learn, as cpu does). The SVC steps fit the book's fixed slices "
            "(2,000 rows for OvO, 1,000 for OvR) at every size: only their predictions on the growing test rows "
            "grow, so their curves are flatter.")


def _published_block(heading: str) -> str:
    """A level-3 subsection of the published "Cost vs size" section, up to its table's header row."""
    start = PUBLISHED.index(f"### {heading}")
    return PUBLISHED[start:PUBLISHED.index("\n| --- |", start) + 1]


def test_sweep_section_blocks_in_order():
    """The whole section: "Cost vs size" (level 2), the paragraph naming the smallest and largest size (plan sizes
    included), the rounds table, "Median seconds" (level 3) with its table right-aligned from the third column,
    the GEMM efficiency table (a step and backend with at least one efficiency), and the cost chart."""
    results, plan = _sweep()
    out = sweep_section(results, plan)
    header = ["Step", "Backend", "1,000", "2,000", "4,000", "8,000", "exponent", "overtakes cpu"]
    body = [["binary_sgd", "cpu", "1 (0.9–1.1)", "2 (1.8–2.2)", "4 (3.6–4.4)", "–", "1.00", "–"],
            ["binary_sgd", "numpy", "0.01 (0.009–0.011)", "0.04 (0.036–0.044)", "0.16 (0.144–0.176)",
             "0.64 (0.576–0.704)", "2.00", "faster at every size (1,000–4,000)"],
            ["denoise", "cpu", "–", "3", "–", "–", "–", "–"],
            ["denoise", "numpy", "0.5", "1", "–", "–", "1.00", "–"]]
    effs = [["binary_sgd", "numpy", "1%", "2%", "50%", "–"],
            ["denoise", "cpu", "–", "10%", "–", "–"]]
    assert len(out) == 11
    assert out[0] == Heading("Cost vs size", 2)
    assert out[1] == Text(_paragraph("1,000", "8,000"))
    assert out[2] == Heading("Rounds at each size", 3)
    assert isinstance(out[3], Text) and isinstance(out[4], Table)
    assert out[4].header == ["Rows", "cpu", "numpy"] and out[4].rows[-1] == [
        "8,000", "0: stopped: one round was estimated at 25 min", "3: 3 rounds as asked"]
    assert out[5] == Heading("Median seconds", 3)
    assert out[6] == Table(header, body, 2)
    assert out[7] == Heading("GEMM efficiency at each size (% of peak)", 3)
    assert out[8] == Text("As in the tables per size: the step's GEMM FLOPs per median second over the run's own "
                          "GEMM peak, in the backend's dtype.")
    assert out[9] == Table(["Step", "Backend", "1,000", "2,000", "4,000", "8,000"], effs, 2)
    assert out[10] == Image("cost-vs-size.png", "Median seconds against training rows, log-log, one panel per step; "
                                                "bars: min–max of the rounds; dashed: the fitted power law")


def test_sweep_section_renders_as_the_published_report():
    """In Markdown, the efficiency subsection and the chart read as in docs/benchmarks.md: the same heading, the
    same sentence, a "Step | Backend | sizes" header, and the chart linked under its alt text."""
    results, plan = _sweep()
    md = markdown(sweep_section(results, plan), image_prefix="benchmarks/")
    assert md.startswith("## Cost vs size\n\n")
    assert "\n### Median seconds\n\n| Step | Backend | 1,000 | 2,000 | 4,000 | 8,000 | exponent | overtakes cpu |\n" in md
    gemm = _published_block("GEMM efficiency at each size (% of peak)")
    gemm = gemm.replace("| 1,000 | 3,000 | 10,000 | 30,000 | 60,000 |", "| 1,000 | 2,000 | 4,000 | 8,000 |")
    assert gemm in md
    chart = next(li for li in PUBLISHED.splitlines() if li.endswith("(benchmarks/cost-vs-size.png)"))
    assert md.rstrip().endswith(chart)


def test_sweep_section_without_sweep_rows_is_empty():
    """No sweep rows (only a named size's): no section at all, whatever the plan says."""
    results = Results(rows=[{**_row("binary_sgd", "cpu", 6_000, 1.0, 0.9, 1.1), "size": "small"}])
    assert sweep_section(results, {"1000": [_decided("cpu", 3, "3 rounds as asked")]}) == []
    assert sweep_section(Results(), {}) == []


def test_one_size_without_plan_gives_no_rounds_table_no_efficiency_and_no_chart():
    """A sweep of one size, no plan, no GEMM FLOPs: heading, paragraph ("from 3,000 to 3,000"), and the median
    table, whose exponent and crossover are "–" (one size is not a curve); no chart (drawn from two sizes up)."""
    rows = [_row("binary_sgd", "cpu", 3_000, 2.0, 1.9, 2.5), _row("binary_sgd", "numpy", 3_000, 0.25, 0.2, 0.3)]
    out = sweep_section(Results(rows=rows, peaks=[PEAK]), {})
    assert out == [Heading("Cost vs size"), Text(_paragraph("3,000", "3,000")), Heading("Median seconds", 3),
                   Table(["Step", "Backend", "3,000", "exponent", "overtakes cpu"],
                         [["binary_sgd", "cpu", "2 (1.9–2.5)", "–", "–"],
                          ["binary_sgd", "numpy", "0.25 (0.2–0.3)", "–", "–"]], 2)]


def test_two_sizes_draw_the_chart_without_an_efficiency_table():
    """Two sizes, no GEMM FLOPs: the chart follows the median table directly (no efficiency subsection); a plan
    for its sizes alone brings the rounds table."""
    rows = [_row("denoise", "cpu", n, n / 1_000, n / 1_000, n / 1_000, rounds=2) for n in (1_000, 2_000)]
    plan = {"1000": [_decided("cpu", 2, "2 rounds as asked")], "2000": [_decided("cpu", 2, "2 rounds as asked")]}
    out = sweep_section(Results(rows=rows, peaks=[PEAK]), plan)
    assert [type(b).__name__ for b in out] == ["Heading", "Text", "Heading", "Text", "Table", "Heading", "Table",
                                               "Image"]
    assert out[4] == Table(["Rows", "cpu"], [["1,000", "2: 2 rounds as asked"], ["2,000", "2: 2 rounds as asked"]])
    assert out[6].rows == [["denoise", "cpu", "1 (1–1)", "2 (2–2)", "1.00", "–"]]
    assert out[7].file == "cost-vs-size.png"


def test_a_step_the_first_backend_did_not_run_still_shows_the_others():
    """knn_plus timed on numpy only (cpu skipped it): its numpy row is in the table, after binary_sgd's two."""
    rows = [_row("binary_sgd", b, n, 1.0, 1.0, 1.0) for b in ("cpu", "numpy") for n in (1_000, 2_000)]
    rows += [_row("knn_plus", "numpy", n, 2.0, 2.0, 2.0) for n in (1_000, 2_000)]
    blocks = sweep_section(Results(rows=rows, peaks=[PEAK]), {})
    (table,) = [b for b in blocks if isinstance(b, Table)]
    assert [r[:2] for r in table.rows] == [["binary_sgd", "cpu"], ["binary_sgd", "numpy"], ["knn_plus", "numpy"]]
