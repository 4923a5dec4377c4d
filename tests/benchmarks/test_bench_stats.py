"""The numbers of ``gpuclf bench`` from synthetic timings: rounds merged, spread, speedup ranges, exponents,
crossovers, the identical-figures check and the round budget."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gpuclf.benchmarks import plan
from gpuclf.benchmarks.stats import (MIN_ROUNDS, Spread, check_same_figures, crossover, fit_power_law, merge_rounds,
                                     round_id, speedup)


def _exact(seconds, rounds=3):
    """Seconds that every one of ``rounds`` rounds measured alike (no spread)."""
    return [Spread(t, t, t, t, t, rounds) for t in seconds]


def _round(step, backend, r, seconds, sequence, rss):
    return {"group": step, "name": f"test_{step}[{backend}-{round_id(r)}]",
            "fullname": f"bench/test_x.py::test_{step}[{backend}-{round_id(r)}]", "param": f"{backend}-{round_id(r)}",
            "params": {"backend_name": backend, "bench_round": r}, "options": {},
            "stats": {"min": seconds, "max": seconds, "median": seconds, "rounds": 1, "iterations": 1,
                      "data": [seconds]},
            "extra_info": {"step": step, "backend": backend, "round": r, "sequence": sequence,
                           "host_peak_rss_bytes": rss, "device_peak_bytes": None, "figures": {"acc": 0.9}}}


def test_rounds_merge_into_one_pytest_benchmark_entry_per_benchmark():
    # Interleaved as the suite runs them: cpu r1, numpy r1, cpu r2, ...; seconds chosen by hand.
    cpu = [4.0, 2.0, 3.0, 10.0, 5.0]
    numpy = [1.0, 1.5, 0.5, 2.0, 1.0]
    entries = []
    for r in range(1, 6):
        entries += [_round("denoise", "cpu", r, cpu[r - 1], 2 * r - 1, 100 * r),
                    _round("denoise", "numpy", r, numpy[r - 1], 2 * r, 50)]
    merged = merge_rounds(list(reversed(entries)))  # order of the list does not matter, the round does
    assert [m["name"] for m in merged] == ["test_denoise[numpy]", "test_denoise[cpu]"]
    by = {m["params"]["backend_name"]: m for m in merged}
    c = by["cpu"]
    assert c["fullname"] == "bench/test_x.py::test_denoise[cpu]" and c["param"] == "cpu"
    assert c["extra_info"]["round_seconds"] == cpu and c["stats"]["data"] == cpu
    assert c["extra_info"]["round_sequence"] == [1, 3, 5, 7, 9]
    assert "round" not in c["extra_info"] and "sequence" not in c["extra_info"]
    assert c["extra_info"]["host_peak_rss_bytes"] == 500  # the highest of the rounds
    s = c["stats"]
    # Sorted: 2 3 4 5 10. Median 4; pytest-benchmark's quartiles of 5 values (Method 3):
    # q1 = 0.25*2 + 0.75*3 = 2.75, q3 = 0.75*5 + 0.25*10 = 6.25.
    assert (s["median"], s["min"], s["max"], s["rounds"]) == (4.0, 2.0, 10.0, 5)
    assert (s["q1"], s["q3"], s["iqr"]) == pytest.approx((2.75, 6.25, 3.5))
    assert s["mean"] == pytest.approx(4.8) and s["iterations"] == 1
    spread = Spread.of(s)
    assert (spread.median, spread.min, spread.max, spread.iqr, spread.rounds) == (4.0, 2.0, 10.0, 3.5, 5)


def test_speedup_is_the_ratio_of_medians_with_the_extreme_pairings():
    ref = Spread(median=4.0, min=2.0, max=10.0, q1=2.75, q3=6.25, rounds=5)
    other = Spread(median=1.0, min=0.5, max=2.0, q1=1.0, q3=1.5, rounds=5)
    assert speedup(ref, other) == (4.0, 1.0, 20.0)  # 4/1; slowest pairing 2/2; fastest 10/0.5


def test_identical_figures_pass_and_a_changed_one_fails_naming_it():
    first = {"accuracy": 0.95, "n": 10, "best": "distance"}
    check_same_figures("denoise on numpy", first, dict(first), 3)
    with pytest.raises(AssertionError, match=r"denoise on numpy: round 2 gave other figures than round 1: "
                                             r"accuracy 0\.95 then 0\.9500001$"):
        check_same_figures("denoise on numpy", first, {**first, "accuracy": 0.9500001}, 2)
    # A figure of an estimator that is not bit-reproducible on the backend may change; the others may not.
    forest = {"sgd_auc": 0.96, "forest_auc": 0.99, "forest_f1": 0.92}
    check_same_figures("binary_roc on gpu", forest, {**forest, "forest_auc": 0.991, "forest_f1": 0.921}, 2,
                       unchecked=["forest_auc", "forest_f1"])
    with pytest.raises(AssertionError, match=r"round 2 gave other figures than round 1: sgd_auc 0.96 then 0.97$"):
        check_same_figures("binary_roc on gpu", forest, {**forest, "sgd_auc": 0.97, "forest_auc": 0.98}, 2,
                           unchecked=["forest_auc", "forest_f1"])


@pytest.mark.parametrize("exponent", [0.5, 1.0, 2.0, 2.7])
def test_fitted_exponent_of_exact_power_laws(exponent):
    rows = [1_000, 3_000, 10_000, 30_000, 60_000]
    seconds = [2e-7 * n ** exponent for n in rows]
    e, c = fit_power_law(rows, seconds)
    assert e == pytest.approx(exponent, abs=1e-9) and c == pytest.approx(2e-7, rel=1e-6)


def test_fitted_exponent_of_noisy_timings():
    rng = np.random.default_rng(0)
    rows = np.repeat([1_000, 3_000, 10_000, 30_000, 60_000], 3)
    seconds = 5e-8 * rows ** 1.8 * np.exp(rng.normal(0, 0.05, rows.size))  # ±5% round-to-round noise
    assert fit_power_law(rows, seconds)[0] == pytest.approx(1.8, abs=0.05)
    # KNN's prediction cost (test rows, a sixth of the training rows, x training rows) plus a fixed 0.2 s:
    # the fixed part flattens the small sizes, so the exponent over the whole range is well below 2, and
    # rises towards 2 over the large sizes.
    rows = (1_000, 3_000, 10_000, 30_000, 60_000)
    knn = [0.2 + 1e-8 * (n / 6) * n for n in rows]
    assert fit_power_law(rows, knn)[0] == pytest.approx(0.83, abs=0.01)
    assert fit_power_law(rows[2:], knn[2:])[0] == pytest.approx(1.56, abs=0.01)


def test_exponent_needs_two_sizes():
    with pytest.raises(ValueError, match="two or more sizes"):
        fit_power_law([1_000, 1_000], [1.0, 1.1])


def test_crossover_of_two_power_laws_is_where_they_meet():
    # cpu = 1e-4 n, gpu = 0.01 sqrt(n): equal where sqrt(n) = 100, n = 10,000. On log-log axes both are
    # straight lines, so interpolating between the measured sizes finds it exactly.
    rows = [1_000, 3_000, 30_000, 60_000]
    cpu = [1e-4 * n for n in rows]
    gpu = [0.01 * math.sqrt(n) for n in rows]
    c = crossover(rows, _exact(cpu), _exact(gpu))
    assert c.kind == "at" and c.rows == pytest.approx(10_000)
    assert c.text() == "≈ 10,000 rows"


def test_crossover_always_never_and_overtaken_again():
    rows = [1_000, 10_000, 60_000]
    assert crossover(rows, _exact([2, 20, 120]), _exact([1, 10, 60])).text() == "faster at every size (1,000–60,000)"
    assert crossover(rows, _exact([1, 10, 60]), _exact([2, 20, 120])).text() == "never in range (1,000–60,000)"
    # Faster in the middle only: not faster at the largest size, so it never overtakes for good.
    assert crossover(rows, _exact([1, 10, 60]), _exact([2, 5, 61])).kind == "never"
    # 1.5x slower at 1,000, 2x faster at 10,000: the log of the ratio falls from log 1.5 to log 0.5,
    # crossing 0 at that share of the decade.
    c = crossover(rows, _exact([1, 10, 60]), _exact([1.5, 5, 30]))
    assert c.kind == "at" and c.rows == pytest.approx(1_000 * 10 ** (math.log(1.5) / math.log(3)))
    assert c.text() == "≈ 2,300 rows"  # two significant digits of 2,338
    # A tie is not faster: equal at 1,000 and faster beyond crosses at 1,000.
    assert crossover(rows, _exact([1, 10, 60]), _exact([1, 5, 30])).rows == pytest.approx(1_000)


def test_crossover_ranks_only_differences_beyond_the_rounds_spread():
    rows = [1_000, 10_000, 60_000]
    same = [Spread(1.0, 0.9, 1.1, 0.95, 1.05, 3), Spread(10.0, 9.0, 11.0, 9.5, 10.5, 3),
            Spread(60.0, 55.0, 66.0, 58.0, 62.0, 3)]
    # The same library on both backends, medians a little apart but the rounds overlapping: no verdict,
    # though the medians alone would say "faster at every size".
    noisy = [Spread(s.median * 0.95, s.min * 0.97, s.max * 0.97, s.q1, s.q3, 3) for s in same]
    assert crossover(rows, _exact(s.median for s in same), _exact(s.median for s in noisy)).kind == "always"
    c = crossover(rows, same, noisy)
    assert c.kind == "unclear" and c.text() == "no clear difference at 60,000 (the rounds overlap)"
    # Clearly slower at the largest size stays "never"; clearly faster everywhere stays "always".
    slow = [Spread(s.median * 2, s.min * 2, s.max * 2, s.q1, s.q3, 3) for s in same]
    fast = [Spread(s.median / 2, s.min / 2, s.max / 2, s.q1, s.q3, 3) for s in same]
    assert crossover(rows, same, slow).kind == "never"
    assert crossover(rows, same, fast).kind == "always"
    # Overlapping at 1,000 with a faster median, clearly faster from 10,000: the crossing is below
    # the measured sizes, so the verdict is "from 10,000", not an interpolation.
    mixed = [noisy[0], fast[1], fast[2]]
    c = crossover(rows, same, mixed)
    assert (c.kind, c.rows) == ("from", 10_000) and c.text() == "from 10,000 rows (the rounds overlap below)"
    # Overlapping at 1,000 with a slower median: the crossing is interpolated as before.
    behind = [Spread(1.05, 1.0, 1.2, 1.0, 1.1, 3), fast[1], fast[2]]
    c = crossover(rows, same, behind)
    assert c.kind == "at" and 1_000 < c.rows < 10_000


def test_fewer_than_three_rounds_give_no_verdict_and_say_so():
    """Issue 34: one round each, 0.815 s against 0.819 s, was reported as "faster at every size"."""
    rows = [500, 1_000, 2_000, 4_000]
    cpu, numpy = [0.1, 0.2, 0.41, 0.819], [0.099, 0.199, 0.4, 0.815]
    for rounds in range(1, MIN_ROUNDS):
        c = crossover(rows, _exact(cpu, rounds), _exact(numpy, rounds))
        assert (c.kind, c.rows) == ("few_rounds", None)
        assert c.text() == (f"no verdict: {rounds} round{'s' * (rounds > 1)} at every size (a verdict needs 3 or "
                            "more)")
    # Three rounds that agree as closely do rank: the spread is then known to be this small.
    assert crossover(rows, _exact(cpu), _exact(numpy)).kind == "always"
    # Rounds that differ by size: the sizes with too few are left out of the verdict, and named.
    mixed = _exact(cpu[:2]) + _exact(cpu[2:3], 2) + _exact(cpu[3:], 1)
    c = crossover(rows, mixed, _exact(numpy))
    assert (c.kind, c.lo, c.hi) == ("always", 500, 1_000)
    assert c.text() == "faster at every size (500–1,000); not judged at 2,000 (2 rounds) and 4,000 (1 round)"
    c = crossover(rows, _exact(cpu, 1)[:3] + _exact(cpu[3:], 2), _exact(numpy))
    assert c.text() == "no verdict: fewer than 3 rounds at every size (a verdict needs 3 or more)"
    # The judged sizes alone decide: slower where judged is "never", whatever the unjudged largest size says.
    c = crossover(rows, _exact(numpy[:3]) + _exact(numpy[3:], 1), _exact(cpu))
    assert c.kind == "never" and c.text() == "never in range (500–2,000); not judged at 4,000 (1 round)"


def _measured(backend, points):
    return [{"step": step, "backend": backend, "n_train": n, "median": t} for step, pts in points.items()
            for n, t in pts]


def test_estimate_grows_each_step_with_its_own_exponent():
    rows = _measured("cpu", {"knn": [(1_000, 1.0), (2_000, 4.0)],  # fitted exponent 2
                             "sgd": [(1_000, 1.0), (2_000, 1.2)],  # fitted 0.26, floored at 1
                             "svc": [(2_000, 3.0)]})  # one size: the default exponent 2
    assert plan.estimate_round(rows, "cpu", 4_000) == pytest.approx(16.0 + 2.4 + 12.0)
    assert plan.estimate_round(rows, "numpy", 4_000) is None


def test_rounds_fit_shrink_or_stop_within_the_budget():
    d = plan.decide("30000", "cpu", estimate=100.0, rounds=3, budget_s=600)
    assert (d.rounds, d.why) == (3, "3 rounds, estimated at 5.0 min (budget 10.0 min)")
    d = plan.decide("30000", "cpu", estimate=250.0, rounds=3, budget_s=600)
    assert (d.rounds, d.why) == (2, "2 of 3 rounds: 3 were estimated at 12.5 min, over the budget of 10.0 min")
    d = plan.decide("60000", "cpu", estimate=700.0, rounds=3, budget_s=600)
    assert (d.rounds, d.why) == (0, "stopped: one round was estimated at 11.7 min, over the budget of 10.0 min")
    assert plan.decide("60000", "cpu", None, 3, 600).rounds == 3  # nothing to estimate from: as asked
    assert plan.decide("60000", "cpu", 1.0, 3, 600, stopped=True).rounds == 0  # a stopped backend stays stopped
    # One round reads as one (issue 34: "1 rounds as asked").
    assert plan.decide("500", "cpu", None, 1, 600).why == "1 round as asked: no earlier timing to estimate from"
    assert plan.decide("500", "cpu", 1.0, 1, 600).why == "1 round, estimated at 1 s (budget 10.0 min)"


def test_a_sweep_point_is_estimated_from_the_steps_it_times():
    from gpuclf.benchmarks.registry import timed_at

    assert timed_at("30000", "denoise") and timed_at("small", "load_csv")
    # Neither the CSV reader (the same file at every size) nor the SGD sweep (its own rows) runs at a sweep point.
    assert not timed_at("30000", "load_csv") and not timed_at("30000", "sgd_sweep:5-detector:500")
