"""``gpuclf bench --knn-search pruned,brute`` and ``gpuclf run --knn-search``: the option, the table, the check."""
from __future__ import annotations

import json

import pytest
from cli_errors import assert_one_line_error, run_main

from gpuclf.benchmarks import knn_search as ks
from gpuclf.errors import GpuclfError

STEPS = ("multilabel", "best_accuracy")


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("knn-search")
    md = ks.compare_searches(["pruned", "brute"], backends=["numpy"], size="small", data="sample",
                             out_dir=str(out), rounds=2, steps=STEPS)
    return json.loads((out / "knn-search-small.json").read_text()), (out / "knn-search-small.md").read_text(), md


def test_both_searches_are_timed_with_their_work_and_the_same_figures(compared):
    doc, md, path = compared
    assert path.endswith("knn-search-small.md") and doc["identical"] and doc["differences"] == []
    assert doc["n_train"] == 4000 and doc["n_test"] == 1000 and doc["searches"] == ["pruned", "brute"]
    numpy = doc["backends"]["numpy"]
    assert numpy["peak_gflops"] > 0 and numpy["describe"]["backend"] == "numpy"
    for step in STEPS:
        pruned, brute = numpy["steps"][step]["pruned"], numpy["steps"][step]["brute"]
        assert len(pruned["seconds"]) == len(brute["seconds"]) == 2
        assert brute["algorithms"] == ["brute"] and brute["searches"] > 0 and brute["queries"] > 0
        # Brute force's filter is the whole GEMM, plus about k exact distances a query for its seeds.
        assert 1.0 <= brute["flops"] / brute["brute_flops"] < 1.05
        assert brute["candidates_median"] >= 4 and brute["candidates_max"] >= brute["candidates_p90"]
    # 3-fold CV of the multilabel KNN on 4,000 rows: the filter over 96 axes instead of 784.
    multilabel = numpy["steps"]["multilabel"]["pruned"]
    assert multilabel["algorithms"] == ["pruned"] and multilabel["flops"] < 0.8 * multilabel["brute_flops"]
    assert "| multilabel | pruned |" in md and "| best_accuracy | brute |" in md and "vs brute" in md
    assert "identical in every round" in md


def test_a_search_that_changes_a_figure_fails_after_writing_the_table(monkeypatch, tmp_path):
    from gpuclf import chapter

    def step(ctx):
        # What a search that lost a neighbour would do: a figure that depends on the search.
        return {"accuracy": 0.5 if ctx.backend.knn_search == "brute" else 0.25}

    monkeypatch.setitem(chapter.STEPS, "multilabel", step)
    with pytest.raises(GpuclfError, match="multilabel on numpy with the brute search"):
        ks.compare_searches(["pruned", "brute"], backends=["numpy"], data="sample", out_dir=str(tmp_path),
                            rounds=1, steps=("multilabel",))
    assert "DIFFERENT: multilabel on numpy with the brute search (round 1)" in (
        tmp_path / "knn-search-small.md").read_text()


def test_the_cpu_backend_is_refused_with_what_to_do(tmp_path):
    with pytest.raises(GpuclfError, match="choose --backends numpy or gpu"):
        ks.compare_searches(["pruned", "brute"], backends=["cpu"], data="sample", out_dir=str(tmp_path))


@pytest.mark.parametrize("args, expected", [
    (["bench", "--knn-search", "pruned,ball_tree"], ["--knn-search", "unknown KNN search(s) ball_tree"]),
    (["run", "--knn-search", "kd_tree"], ["--knn-search", "unknown KNN search 'kd_tree'"]),
    (["bench", "--knn-search", "pruned,brute", "--sizes", "quick"], ["--knn-search", "--sizes"]),
    (["bench", "--knn-search", "pruned", "--cuml-accel", "--size", "small"], ["--cuml-accel"]),
    (["bench", "--compare", "a", "b", "--knn-search", "pruned"], ["--compare", "--knn-search"]),
])
def test_knn_search_options_are_checked_before_any_work(capsys, args, expected):
    assert_one_line_error(*run_main(capsys, *args), *expected)


def test_run_knn_search_reaches_every_knn_and_is_recorded(capsys, tmp_path):
    from gpuclf.kernels import knn_cost

    figures = {}
    for search in ("pruned", "brute"):
        out = tmp_path / search
        with knn_cost.recording() as log:
            code, err = run_main(capsys, "run", "--backend", "numpy", "--data", "sample", "--steps", "multilabel",
                                 "--train-size", "1500", "--test-size", "300", "--knn-search", search, "--out", out,
                                 "--no-report", "--quiet")
        assert code == 0, err
        assert log and {s.algorithm for s in log} == {search}
        doc = json.loads((out / "results.json").read_text())
        assert doc["environment"]["knn_search"] == search
        figures[search] = doc["steps"]["multilabel"]
    assert figures["pruned"] == figures["brute"]


def test_what_a_clock_measured_may_differ_and_the_figures_are_printed(monkeypatch, tmp_path):
    from gpuclf import chapter

    def step(ctx):  # knn_plus's shape: timings beside the figures, nested too
        return {"test_accuracy": 0.9872, "seconds": len(ctx.backend.knn_search),
                "cost": {"cv_seconds": len(ctx.backend.knn_search), "cv_pairs": 7}}

    monkeypatch.setitem(chapter.STEPS, "knn_plus", step)
    md = ks.compare_searches(["pruned", "brute"], backends=["numpy"], data="sample", out_dir=str(tmp_path),
                             rounds=1, steps=("knn_plus",))
    text = open(md).read()
    assert "identical in every round" in text and "knn_plus: test_accuracy 0.9872" in text
