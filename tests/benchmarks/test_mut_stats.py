"""Edges of ``gpuclf.benchmarks.stats``: merged entries' names, params and fields, crossover bounds and texts,
the verdict on touching rounds, the power-law fit's input checks and the figures check's message."""
from __future__ import annotations

import math

import pytest

from gpuclf.benchmarks.stats import (Crossover, Spread, _verdict, check_same_figures, crossover, fit_power_law,
                                     merge_rounds, round_id)


def _spread(median, lo, hi, rounds=3):
    return Spread(median, lo, hi, median, median, rounds)


def _exact(seconds, rounds=3):
    return [Spread(t, t, t, t, t, rounds) for t in seconds]


def _entry(name, param, params, r, seconds, extra=None, iterations=1, data=True):
    """One round as pytest-benchmark writes it (``data`` only with its data option)."""
    stats = {"min": seconds, "max": seconds, "median": seconds, "mean": seconds, "rounds": 1,
             "iterations": iterations}
    if data:
        stats["data"] = [seconds]
    return {"group": "g", "name": name, "fullname": f"bench/test_x.py::{name}", "param": param, "params": params,
            "options": {}, "stats": stats, "extra_info": {"round": r, "sequence": r, **(extra or {})}}


# -- merge_rounds -------------------------------------------------------------------------------------------


def test_a_test_parametrized_by_the_round_alone_merges_under_its_plain_name():
    """``test_fit[round1]``, ``test_fit[round2]`` merge into ``test_fit``: no empty brackets, param and params None,
    as pytest-benchmark writes an unparametrized test."""
    entries = [_entry(f"test_fit[{round_id(r)}]", round_id(r), {"bench_round": r}, r, t)
               for r, t in ((1, 2.0), (2, 3.0))]
    (m,) = merge_rounds(entries)
    assert m["name"] == "test_fit" and m["fullname"] == "bench/test_x.py::test_fit"
    assert m["param"] is None and m["params"] is None
    assert "XXparamsXX" not in m and "PARAMS" not in m
    assert m["stats"]["data"] == [2.0, 3.0]


def test_the_round_parameter_leaves_params_and_the_others_stay():
    """``bench_round`` is dropped from ``params``; the benchmark's own parameters are kept."""
    entries = [_entry(f"test_fit[cpu-{round_id(r)}]", f"cpu-{round_id(r)}", {"backend_name": "cpu", "bench_round": r},
                      r, 1.0 + r) for r in (1, 2, 3)]
    (m,) = merge_rounds(entries)
    assert m["params"] == {"backend_name": "cpu"} and m["param"] == "cpu"


def test_rounds_without_data_merge_from_their_medians():
    """Without pytest-benchmark's ``data`` (not saved by default), each round's seconds are its median."""
    seconds = [4.0, 2.0, 3.0]
    entries = [_entry(f"test_fit[cpu-{round_id(r)}]", f"cpu-{round_id(r)}", {"backend_name": "cpu", "bench_round": r},
                      r, t, data=False) for r, t in zip((1, 2, 3), seconds)]
    (m,) = merge_rounds(entries)
    assert m["extra_info"]["round_seconds"] == seconds and m["stats"]["data"] == seconds
    assert (m["stats"]["median"], m["stats"]["min"], m["stats"]["max"], m["stats"]["rounds"]) == (3.0, 2.0, 4.0, 3)


def test_a_single_round_merges_into_itself():
    """One round: the merged entry is that round's, with one second in ``data``."""
    (m,) = merge_rounds([_entry("test_fit[cpu-round1]", "cpu-round1", {"backend_name": "cpu", "bench_round": 1}, 1,
                                0.5, extra={"figures": {"acc": 0.9}})])
    assert m["name"] == "test_fit[cpu]" and m["stats"]["data"] == [0.5] and m["stats"]["rounds"] == 1
    assert m["extra_info"]["figures"] == {"acc": 0.9} and m["extra_info"]["round_sequence"] == [1]


def test_the_merged_entry_is_the_first_rounds():
    """Fields that may differ between rounds (an unchecked figure) are round 1's, whatever the list order."""
    entries = [_entry(f"test_fit[gpu-{round_id(r)}]", f"gpu-{round_id(r)}", {"backend_name": "gpu", "bench_round": r},
                      r, 1.0, extra={"figures": {"forest_auc": auc}}) for r, auc in ((2, 0.991), (1, 0.99), (3, 0.98))]
    (m,) = merge_rounds(entries)
    assert m["extra_info"]["figures"] == {"forest_auc": 0.99}
    assert m["extra_info"]["round_sequence"] == [1, 2, 3]


def test_the_highest_device_and_host_peaks_are_kept():
    """``device_peak_bytes`` and ``host_peak_rss_bytes``: the highest over the rounds (None rounds skipped)."""
    peaks = [(1, 300, 10), (2, 500, None), (3, 400, 30)]
    entries = [_entry(f"test_fit[gpu-{round_id(r)}]", f"gpu-{round_id(r)}", {"backend_name": "gpu", "bench_round": r},
                      r, 1.0, extra={"device_peak_bytes": dev, "host_peak_rss_bytes": host}) for r, dev, host in peaks]
    (m,) = merge_rounds(entries)
    assert m["extra_info"]["device_peak_bytes"] == 500 and m["extra_info"]["host_peak_rss_bytes"] == 30


def test_iterations_per_round_are_kept():
    """pytest-benchmark's ``iterations`` of the rounds stays in the merged stats."""
    entries = [_entry(f"test_fit[cpu-{round_id(r)}]", f"cpu-{round_id(r)}", {"backend_name": "cpu", "bench_round": r},
                      r, 1.0, iterations=4) for r in (1, 2)]
    (m,) = merge_rounds(entries)
    assert m["stats"]["iterations"] == 4


# -- check_same_figures -------------------------------------------------------------------------------------


def test_every_changed_figure_is_named_in_order():
    """Several changed figures: each named, sorted, separated by ``; ``."""
    first = {"b": 2, "a": 1.0, "same": "x"}
    with pytest.raises(AssertionError) as e:
        check_same_figures("knn on cpu", first, {"b": 3, "a": 1.5, "same": "x"}, 2)
    assert str(e.value) == "knn on cpu: round 2 gave other figures than round 1: a 1.0 then 1.5; b 2 then 3"


# -- fit_power_law ------------------------------------------------------------------------------------------


def test_power_law_messages():
    """The two ValueErrors, word for word."""
    with pytest.raises(ValueError, match=r"^a growth exponent needs times at two or more sizes$"):
        fit_power_law([1_000, 1_000], [1.0, 1.1])
    with pytest.raises(ValueError, match=r"^rows and seconds must be positive$"):
        fit_power_law([-1.0, 10.0], [1.0, 2.0])


@pytest.mark.parametrize("rows, seconds", [([0.0, 10.0], [1.0, 2.0]), ([10.0, 100.0], [0.0, 2.0]),
                                           ([10.0, 100.0], [1.0, -2.0])])
def test_zero_rows_or_seconds_are_not_positive(rows, seconds):
    """Zero is not positive: a zero size or a zero time is refused (one alone is enough)."""
    with pytest.raises(ValueError, match=r"^rows and seconds must be positive$"):
        fit_power_law(rows, seconds)


def test_one_row_is_a_positive_size():
    """Sizes 1 and 10 with 2 s and 20 s: linear, ``c`` = 2."""
    exponent, c = fit_power_law([1, 10], [2.0, 20.0])
    assert exponent == pytest.approx(1.0) and c == pytest.approx(2.0)


# -- _verdict -----------------------------------------------------------------------------------------------


def test_verdict_values_and_touching_rounds_overlap():
    """-1 clearly faster, +1 clearly slower, 0 where the rounds overlap, touching included."""
    ref = _spread(1.0, 0.9, 1.0)
    assert _verdict(ref, _spread(0.5, 0.4, 0.8)) == -1
    assert _verdict(ref, _spread(2.0, 1.5, 2.5)) == 1
    assert _verdict(ref, _spread(1.1, 1.0, 1.2)) == 0  # other's fastest round equals the reference's slowest
    assert _verdict(ref, _spread(0.85, 0.8, 0.9)) == 0  # other's slowest round equals the reference's fastest


def test_rounds_touching_at_the_largest_size_are_unclear():
    """Other's fastest round equal to the reference's slowest at the largest size: overlap, no verdict."""
    c = crossover([1_000], [_spread(1.0, 0.9, 1.0)], [_spread(1.1, 1.0, 1.2)])
    assert (c.kind, c.lo, c.hi) == ("unclear", 1_000, 1_000)


# -- crossover ----------------------------------------------------------------------------------------------


def test_crossover_needs_the_same_sizes_for_both():
    """Lengths that differ raise ValueError, word for word."""
    msg = r"^crossover needs the two backends' times at the same sizes$"
    with pytest.raises(ValueError, match=msg):
        crossover([1_000, 2_000], _exact([1.0, 2.0, 3.0]), _exact([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=msg):
        crossover([1_000, 2_000, 3_000], _exact([1.0, 2.0, 3.0]), _exact([1.0, 2.0]))
    with pytest.raises(ValueError, match=msg):
        crossover([], [], [])


def test_crossover_at_a_single_size():
    """One size judged: faster there is faster at every size (lo = hi)."""
    c = crossover([1_000], _exact([2.0]), _exact([1.0]))
    assert (c.kind, c.lo, c.hi) == ("always", 1_000, 1_000)
    assert c.text() == "faster at every size (1,000–1,000)"


def test_few_rounds_everywhere_spans_the_sizes_measured():
    """No size judged: ``lo`` and ``hi`` are the smallest and largest sizes, not round counts."""
    rows = [500, 1_000, 2_000]
    ref = _exact([1.0], 1) + _exact([2.0], 2) + _exact([4.0], 1)
    c = crossover(rows, ref, _exact([0.5, 1.0, 2.0]))
    assert (c.kind, c.rows, c.lo, c.hi) == ("few_rounds", None, 500, 2_000)
    assert c.unjudged == ((500, 1), (1_000, 2), (2_000, 1))


def test_overlap_below_the_largest_size_is_interpolated_past():
    """Slower at 1,000, overlapping (slower median) at 10,000, clearly faster at 60,000: the crossing lies
    between 10,000 and 60,000, where the log ratio falls from log 1.05 to log 0.5; 120,000 (1 round) unjudged."""
    rows = [1_000, 10_000, 60_000, 120_000]
    ref = [_spread(1.0, 1.0, 1.0), _spread(10.0, 9.0, 11.0), _spread(60.0, 60.0, 60.0), _spread(120.0, 120.0, 120.0, 1)]
    other = [_spread(2.0, 2.0, 2.0), _spread(10.5, 9.5, 12.0), _spread(30.0, 30.0, 30.0), _spread(60.0, 60.0, 60.0)]
    c = crossover(rows, ref, other)
    a, b = math.log(1.05), math.log(0.5)
    assert c.kind == "at" and c.rows == pytest.approx(10_000 * 6 ** (a / (a - b)))
    assert (c.lo, c.hi, c.unjudged) == (1_000, 60_000, ((120_000, 1),))
    assert c.text() == "≈ 11,000 rows; not judged at 120,000 (1 round)"  # 11,250 to two significant digits


def test_from_keeps_the_judged_bounds_and_the_unjudged_sizes():
    """Overlap with a faster median at 1,000, clearly faster from 10,000: "from 10,000"; bounds and the
    unjudged size are kept."""
    rows = [1_000, 10_000, 60_000, 120_000]
    ref = [_spread(1.0, 0.9, 1.1), _spread(10.0, 10.0, 10.0), _spread(60.0, 60.0, 60.0), _spread(120.0, 120.0, 120.0, 2)]
    other = [_spread(0.95, 0.9, 1.05), _spread(5.0, 5.0, 5.0), _spread(30.0, 30.0, 30.0), _spread(60.0, 60.0, 60.0)]
    c = crossover(rows, ref, other)
    assert (c.kind, c.rows, c.lo, c.hi, c.unjudged) == ("from", 10_000, 1_000, 60_000, ((120_000, 2),))
    assert c.text() == "from 10,000 rows (the rounds overlap below); not judged at 120,000 (2 rounds)"


def test_unclear_keeps_the_judged_bounds_and_the_unjudged_sizes():
    """Overlapping at the largest judged size: unclear over 1,000–10,000, the 60,000 size named as unjudged."""
    rows = [1_000, 10_000, 60_000]
    ref = [_spread(1.0, 1.0, 1.0), _spread(10.0, 9.0, 11.0), _spread(60.0, 60.0, 60.0, 1)]
    other = [_spread(2.0, 2.0, 2.0), _spread(10.0, 9.5, 10.5), _spread(30.0, 30.0, 30.0)]
    c = crossover(rows, ref, other)
    assert (c.kind, c.lo, c.hi, c.unjudged) == ("unclear", 1_000, 10_000, ((60_000, 1),))
    assert c.text() == "no clear difference at 10,000 (the rounds overlap); not judged at 60,000 (1 round)"


def test_three_unjudged_sizes_are_listed_with_commas_and_and():
    """``a, b and c``: every unjudged size, in order, with its rounds."""
    rows = [500, 1_000, 2_000, 4_000, 8_000]
    ref = _exact([1.0, 2.0]) + _exact([4.0], 2) + _exact([8.0], 1) + _exact([16.0], 2)
    c = crossover(rows, ref, _exact([0.5, 1.0, 2.0, 4.0, 8.0]))
    assert c.text() == ("faster at every size (500–1,000); not judged at 2,000 (2 rounds), 4,000 (1 round) "
                        "and 8,000 (2 rounds)")


# -- Crossover.text -----------------------------------------------------------------------------------------


def test_crossing_below_a_hundred_rows_keeps_two_significant_digits():
    """47.3 rows: ``≈ 47 rows`` (two significant digits, not rounded to tens)."""
    assert Crossover("at", 47.3, 10, 100).text() == "≈ 47 rows"


def test_same_estimator_names_no_unjudged_sizes():
    """Not ranked at all: the text says so and lists no sizes as unjudged."""
    c = Crossover("same", None, 500, 4_000, ((4_000, 1),), estimator="scikit-learn KNeighborsClassifier")
    assert c.text() == "not ranked: both ran the same estimator (scikit-learn KNeighborsClassifier)"


# -- Spread.of ----------------------------------------------------------------------------------------------


def test_spread_of_reads_each_field_of_pytest_benchmarks_stats():
    """Every field from its own key of ``stats`` (distinct values, so none can stand in for another); rounds as an
    int even where the JSON gives a float."""
    s = Spread.of({"median": 2.0, "min": 1.5, "max": 3.5, "q1": 1.75, "q3": 2.5, "rounds": 5.0, "mean": 9.0})
    assert (s.median, s.min, s.max, s.q1, s.q3, s.rounds) == (2.0, 1.5, 3.5, 1.75, 2.5, 5)
    assert type(s.rounds) is int
    assert s.iqr == 0.75


def test_spread_of_a_file_with_only_the_median_is_one_round_at_the_median():
    """An older file with only ``median``: min, max and the quartiles default to it, rounds to 1 (an int)."""
    s = Spread.of({"median": 0.25})
    assert s == Spread(0.25, 0.25, 0.25, 0.25, 0.25, 1)
    assert type(s.rounds) is int and s.iqr == 0.0


def test_spread_of_defaults_each_missing_field_alone():
    """Each missing key falls back to the median on its own: the others keep their values."""
    full = {"median": 4.0, "min": 3.0, "max": 6.0, "q1": 3.5, "q3": 5.0, "rounds": 3}
    for key, field in (("min", 1), ("max", 2), ("q1", 3), ("q3", 4)):
        s = Spread.of({k: v for k, v in full.items() if k != key})
        expected = [4.0, 3.0, 6.0, 3.5, 5.0, 3]
        expected[field] = 4.0
        assert [s.median, s.min, s.max, s.q1, s.q3, s.rounds] == expected, key
    assert Spread.of({k: v for k, v in full.items() if k != "rounds"}).rounds == 1
