"""The numbers drawn from repeated rounds: spread, speedup ranges, growth exponents, crossovers.

The bench suite times every round as a pytest-benchmark entry of its own,
interleaved across backends (round 1 of every step on A, then on B, then
round 2 ...). :func:`merge_rounds` folds each benchmark's rounds back into
one entry, whose ``stats`` are pytest-benchmark's own (:class:`Stats`), so
the JSON stays readable by ``pytest-benchmark compare``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

#: The round in a test id (``test_denoise[cpu-round2]``); the merged entry is ``test_denoise[cpu]``.
ROUND_ID = re.compile(r"-?round\d+(?=[\]-]|$)")


def round_id(r: int) -> str:
    """The id of round ``r`` in a parametrized test's name."""
    return f"round{r}"


def _without_round(text):
    return ROUND_ID.sub("", text).replace("[]", "") if text else text


def merge_rounds(benchmarks: list[dict]) -> list[dict]:
    """One pytest-benchmark entry per benchmark, from its per-round entries.

    Parameters
    ----------
    benchmarks : list of dict
        pytest-benchmark's JSON entries, one per timed round: the round is in
        the test id (:func:`round_id`) and in ``extra_info["round"]``; each
        entry's ``stats`` hold that round's seconds (one round).

    Returns
    -------
    list of dict
        Per benchmark, in the order of first appearance: the first round's
        entry under the name without the round, ``stats`` of all its rounds
        (pytest-benchmark's fields, and ``data``: the seconds of each round),
        and in ``extra_info`` the seconds and the session-wide execution
        order (``round_sequence``) of each round, and the highest memory peaks.
    """
    from pytest_benchmark.stats import Stats

    groups: dict[str, list] = {}
    for b in benchmarks:
        groups.setdefault(_without_round(b["fullname"]), []).append(b)
    merged = []
    for fullname, parts in groups.items():
        parts = sorted(parts, key=lambda b: b.get("extra_info", {}).get("round", 1))
        stats = Stats()
        for part in parts:
            stats.update(part["stats"].get("data", [part["stats"]["median"]])[0])
        first = parts[0]
        info = {k: v for k, v in first.get("extra_info", {}).items() if k not in ("round", "sequence")}
        info["round_seconds"] = list(stats.data)
        info["round_sequence"] = [p.get("extra_info", {}).get("sequence") for p in parts]
        for key in ("host_peak_rss_bytes", "device_peak_bytes"):
            values = [p["extra_info"][key] for p in parts if p.get("extra_info", {}).get(key) is not None]
            if key in info:
                info[key] = max(values) if values else None
        params = {k: v for k, v in (first.get("params") or {}).items() if k != "bench_round"}
        merged.append({**first, "name": _without_round(first["name"]), "fullname": fullname,
                       "param": _without_round(first.get("param")) or None, "params": params or None,
                       "extra_info": info,
                       "stats": {**stats.as_dict(), "iterations": first["stats"].get("iterations", 1),
                                 "data": list(stats.data)}})
    return merged


def check_same_figures(label: str, first: dict, now: dict, r: int, unchecked=()) -> None:
    """Fail when round ``r`` gave other figures than round 1: seeds are fixed, so every round must agree.

    Parameters
    ----------
    unchecked : collection of str
        Figures whose estimator is not bit-reproducible on this backend
        (``Backend.reproducible``): they may differ between rounds.

    Raises
    ------
    AssertionError
        Naming the benchmark, the round and each figure that changed (the bench test fails).
    """
    changed = sorted(k for k in {*first, *now} if k not in unchecked and first.get(k) != now.get(k))
    if changed:
        raise AssertionError(f"{label}: round {r} gave other figures than round 1: "
                             + "; ".join(f"{k} {first.get(k)!r} then {now.get(k)!r}" for k in changed))


@dataclass(frozen=True)
class Spread:
    """Seconds of one benchmark over its rounds (pytest-benchmark's quartiles)."""

    median: float
    min: float
    max: float
    q1: float
    q3: float
    rounds: int

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @classmethod
    def of(cls, stats: dict) -> "Spread":
        """From pytest-benchmark's ``stats`` (quartiles default to the median where a file lacks them)."""
        median = stats["median"]
        return cls(median, stats.get("min", median), stats.get("max", median), stats.get("q1", median),
                   stats.get("q3", median), int(stats.get("rounds", 1)))


def speedup(reference: Spread, other: Spread) -> tuple[float, float, float]:
    """``reference`` time over ``other``'s: the ratio of medians and its range over the rounds.

    Returns
    -------
    ratio, low, high : float
        ``median / median``; the slowest ``other`` round against the fastest
        reference round, and the reverse (every pairing of rounds lies between).
    """
    return reference.median / other.median, reference.min / other.max, reference.max / other.min


def fit_power_law(rows, seconds) -> tuple[float, float]:
    """Least-squares fit of ``seconds = c * rows ** exponent`` on log-log axes.

    Parameters
    ----------
    rows, seconds : sequence of float
        At least two distinct positive ``rows``; positive ``seconds``.

    Returns
    -------
    exponent, c : float
        How the cost grows with rows (1: linear, 2: quadratic) and the scale.

    Raises
    ------
    ValueError
        With fewer than two distinct sizes or a non-positive value.
    """
    x, y = np.asarray(rows, dtype=float), np.asarray(seconds, dtype=float)
    if x.shape != y.shape or len(np.unique(x)) < 2:
        raise ValueError("a growth exponent needs times at two or more sizes")
    if (x <= 0).any() or (y <= 0).any():
        raise ValueError("rows and seconds must be positive")
    exponent, log_c = np.polyfit(np.log(x), np.log(y), 1)
    return float(exponent), float(np.exp(log_c))


#: Fewer rounds than this leave no spread to judge a difference by: they give no verdict.
MIN_ROUNDS = 3


def rounds_text(n: int) -> str:
    """``1 round``, ``3 rounds``."""
    return f"{n} round" if n == 1 else f"{n} rounds"


@dataclass(frozen=True)
class Crossover:
    """Where a backend overtakes the reference within the measured sizes.

    ``kind`` is ``"at"`` (``rows`` is the crossing, interpolated on log-log
    axes between the last size where it is slower and the next), ``"from"``
    (``rows`` is the first size of the clearly faster run, the rounds overlap
    at the size below), ``"always"`` (clearly faster at every size), ``"never"``
    (clearly slower at the largest size), ``"unclear"`` (the rounds overlap
    at the largest size), ``"few_rounds"`` (fewer than :data:`MIN_ROUNDS`
    rounds at every size) or ``"same"`` (both ran the same estimator,
    ``estimator``): the last three are no verdict. ``lo`` and ``hi`` are the
    sizes judged; ``unjudged`` the sizes left out for too few rounds, with
    the fewer of the two backends' rounds there.
    """

    kind: str
    rows: float | None
    lo: int
    hi: int
    unjudged: tuple = ()
    estimator: str = ""

    def text(self) -> str:
        return self._verdict_text() + (f"; not judged at {_sizes_and_rounds(self.unjudged)}"
                                       if self.unjudged and self.kind not in ("few_rounds", "same") else "")

    def _verdict_text(self) -> str:
        if self.kind == "at":
            return f"≈ {_round_rows(self.rows):,} rows"
        if self.kind == "from":
            return f"from {int(self.rows):,} rows (the rounds overlap below)"
        if self.kind == "always":
            return f"faster at every size ({self.lo:,}–{self.hi:,})"
        if self.kind == "unclear":
            return f"no clear difference at {self.hi:,} (the rounds overlap)"
        if self.kind == "few_rounds":
            counts = {k for _, k in self.unjudged}
            how = rounds_text(counts.pop()) if len(counts) == 1 else f"fewer than {MIN_ROUNDS} rounds"
            return f"no verdict: {how} at every size (a verdict needs {MIN_ROUNDS} or more)"
        if self.kind == "same":
            return f"not ranked: both ran the same estimator ({self.estimator})"
        return f"never in range ({self.lo:,}–{self.hi:,})"


def _sizes_and_rounds(unjudged) -> str:
    """``60,000 (2 rounds)``, ``30,000 (1 round) and 60,000 (2 rounds)``."""
    parts = [f"{n:,} ({rounds_text(k)})" for n, k in unjudged]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"


def _round_rows(x: float) -> int:
    """Two significant digits: an interpolated crossing is not known closer."""
    digits = max(int(math.floor(math.log10(x))) - 1, 0)
    return int(round(x, -digits))


def _verdict(reference: Spread, other: Spread) -> int:
    """-1 where ``other``'s slowest round beats the reference's fastest, +1 the reverse, 0 where they overlap.

    A difference inside the rounds' own spread is noise, not a result: two
    backends running the same library must not be ranked by it.
    """
    if other.max < reference.min:
        return -1
    if other.min > reference.max:
        return 1
    return 0


def crossover(rows, reference, other) -> Crossover:
    """The size from which ``other`` is clearly faster than ``reference`` at every larger measured size.

    Only sizes where both have :data:`MIN_ROUNDS` rounds or more are judged:
    below that the rounds' spread says nothing about noise, so a difference
    there is no result. The others are listed in ``unjudged``.

    Parameters
    ----------
    rows : sequence of int
        Sizes measured for both, ascending.
    reference, other : sequence of Spread
        Seconds at each size over the rounds.

    Returns
    -------
    Crossover
    """
    if len(rows) == 0 or not len(rows) == len(reference) == len(other):
        raise ValueError("crossover needs the two backends' times at the same sizes")
    few = [min(r.rounds, o.rounds) < MIN_ROUNDS for r, o in zip(reference, other)]
    unjudged = tuple((int(n), min(r.rounds, o.rounds)) for n, r, o, f in zip(rows, reference, other, few) if f)
    rows, ref, mine = ([x for x, f in zip(seq, few) if not f] for seq in (rows, reference, other))
    if not rows:
        return Crossover("few_rounds", None, int(unjudged[0][0]), int(unjudged[-1][0]), unjudged)
    lo, hi = int(rows[0]), int(rows[-1])
    verdicts = [_verdict(r, o) for r, o in zip(ref, mine)]
    if verdicts[-1] > 0:
        return Crossover("never", None, lo, hi, unjudged)
    if verdicts[-1] == 0:
        return Crossover("unclear", None, lo, hi, unjudged)
    behind = [i for i, v in enumerate(verdicts) if v >= 0]
    if not behind:
        return Crossover("always", None, lo, hi, unjudged)
    j = behind[-1]
    a, b = (math.log(mine[i].median / ref[i].median) for i in (j, j + 1))  # < 0: other is faster
    if a < 0:  # a tie whose median is already faster: the crossing lies below, unmeasured
        return Crossover("from", rows[j + 1], lo, hi, unjudged)
    x0, x1 = math.log(rows[j]), math.log(rows[j + 1])
    return Crossover("at", math.exp(x0 + a / (a - b) * (x1 - x0)), lo, hi, unjudged)
