"""``gpuclf bench --knn-search pruned,brute``: the chapter's KNN steps under each search, side by side.

The four KNN steps of the chapter (multilabel, denoise, best_accuracy,
augmentation) run in one process on one backend per search, with the data
moved to the device once per backend. Rounds alternate the searches
(A B, then B A, ...), so load on a shared machine hits them alike. Every
round of every search must give the same figures and the same saved arrays
as the first search's first round; a difference fails the comparison, after
the files are written.

For each step and search the table gives the median seconds, the GFLOP one
round does (filter GEMM, exact distances, projections and the PCA, from
:class:`gpuclf.kernels.knn_cost.SearchStats`), the rate as a share of this
machine's float32 GEMM peak (best of one product per round, measured like
``bench/test_bench_peak.py``), and the candidates per query (median, p90,
max) with the fallbacks.

Files written into the output folder: ``knn-search-<size>.json`` and
``knn-search-<size>.md``.
"""
from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

import numpy as np

from ..errors import GpuclfError

#: The chapter's KNN steps, in the order a run makes them (augmentation reads best_accuracy's parameters).
KNN_STEPS = ("multilabel", "denoise", "best_accuracy", "augmentation")


def _plain(value):
    """JSON for a step's figures: arrays and NumPy scalars as lists and numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def _searches_summary(stats: list) -> dict:
    """One step's searches together: exact distances per query, fallbacks, FLOPs."""
    candidates = np.concatenate([s.candidates for s in stats]) if stats else np.zeros(0, np.int64)
    return {
        "searches": len(stats), "queries": int(candidates.size),
        "candidates_median": float(np.median(candidates)) if candidates.size else 0.0,
        "candidates_p90": float(np.percentile(candidates, 90)) if candidates.size else 0.0,
        "candidates_max": int(candidates.max()) if candidates.size else 0,
        "fallback_chunks": sum(s.fallback_chunks for s in stats),
        "fallback_queries": sum(s.fallback_queries for s in stats),
        "switched_queries": sum(s.switched_queries for s in stats),
        "algorithms": sorted({s.algorithm for s in stats}),
        "flops": int(sum(sum(s.flops.values()) for s in stats)),
        "brute_flops": int(sum(s.brute_flops for s in stats)),
    }


def _untimed(value):
    """A step's result less what a clock measured (``seconds``, ``cv_seconds``...): the rest must not differ."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if not str(k).endswith("seconds")}
    return value


def _headline(result: dict) -> dict:
    """A step's scalar figures (accuracies, F1, RMSE...): what the table prints under each step."""
    return {k: v for k, v in result.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


class _Runner:
    """One backend per search, each with a Context whose data is already on its device."""

    def __init__(self, backend_name: str, searches, data, config):
        from ..backends import get_backend
        from ..chapter import Context

        self.contexts = {}
        for search in searches:
            backend = get_backend(backend_name, knn_search=search)
            ctx = Context(backend, data, config)
            ctx.move_data()
            self.contexts[search] = ctx

    def round(self, search: str, steps) -> dict:
        """Each step once, fresh: ``{step: (seconds, figures JSON, arrays, SearchStats list)}``."""
        from ..chapter import STEPS
        from ..kernels.knn_cost import recording

        ctx = self.contexts[search]
        ctx.forget_work()
        out = {}
        for step in steps:
            ctx.arrays = {}
            gc.collect()
            with recording() as log:
                start = time.perf_counter()
                result = STEPS[step](ctx)
                ctx.backend.synchronize()
                seconds = time.perf_counter() - start
            ctx.results[step] = result
            arrays = {k: np.asarray(ctx.host(v)) for k, v in ctx.arrays.items()}
            out[step] = (seconds, json.dumps(_untimed(result), sort_keys=True, default=_plain), arrays, list(log))
        return out


def _same(first, other) -> bool:
    _, figures_a, arrays_a, _ = first
    _, figures_b, arrays_b, _ = other
    return figures_a == figures_b and arrays_a.keys() == arrays_b.keys() and all(
        np.array_equal(arrays_a[k], arrays_b[k]) for k in arrays_a)


def compare_searches(searches, backends=None, size: str = "small", data: str | None = None,
                     out_dir: str = "bench-results", rounds: int = 3, steps=KNN_STEPS) -> str:
    """Time the KNN steps under each search, check their figures equal, write the side-by-side table.

    Parameters
    ----------
    searches : sequence of {"brute", "pruned", "auto"}
    backends : sequence of str, optional
        Backends whose KNN is gpuclf's own (numpy, gpu); default: those available here.
    size : str, default="small"
        A named bench size (``gpuclf.benchmarks.sizes``): its rows and options.
    data : str, optional
        As for ``gpuclf run --data`` (default ``$GPUCLF_MNIST``, else the offline sample).
    out_dir : str
    rounds : int, default=3
    steps : sequence of str, default=KNN_STEPS

    Returns
    -------
    str
        Path of ``knn-search-<size>.md``.

    Raises
    ------
    GpuclfError
        A backend whose KNN is scikit-learn's (cpu), or a search whose figures differ from the first's.
    """
    import os

    from ..backends import available_backends
    from ..data import ENV_VAR, load_mnist
    from ..run.files import check_writable
    from .peaks import gemm_peak
    from .sizes import bench_size, size_label

    searches = list(dict.fromkeys(searches))
    spec = bench_size(size)
    kernel_backends = [b for b in available_backends() if b in ("numpy", "gpu")]
    backends = list(dict.fromkeys(backends or kernel_backends))
    if "cpu" in backends:
        raise GpuclfError("--knn-search times gpuclf's own KNN, on the numpy and gpu backends; the cpu backend's "
                          "KNN is scikit-learn's: choose --backends numpy or gpu")
    full = load_mnist(data or os.environ.get(ENV_VAR) or "sample")
    check_writable(out_dir)
    sized = full.subsample(spec.n_train, spec.n_test)
    print(f"gpuclf: knn search {', '.join(searches)} on {', '.join(backends)}, {size_label(size, full)}, "
          f"{rounds} round{'s' if rounds != 1 else ''}", file=sys.stderr, flush=True)
    doc = {"gpuclf_knn_search": 1, "size": size, "n_train": int(len(sized.y_train)),
           "n_test": int(len(sized.y_test)), "data": sized.source, "rounds": rounds, "searches": searches,
           "steps": list(steps), "backends": {}}
    different = []
    for backend_name in backends:
        runner = _Runner(backend_name, searches, sized, spec.config)
        backend = next(iter(runner.contexts.values())).backend
        peaks, times, first, logs = [], {s: {st: [] for st in steps} for s in searches}, None, {}
        for r in range(rounds):
            peaks.append(gemm_peak(backend.xp, backend.synchronize))
            for search in (searches if r % 2 == 0 else searches[::-1]):
                done = runner.round(search, steps)
                first = first or done
                for step in steps:
                    times[search][step].append(done[step][0])
                    logs.setdefault((search, step), done[step][3])
                    if not _same(first[step], done[step]):
                        different.append(f"{step} on {backend_name} with the {search} search (round {r + 1})")
                print(f"gpuclf:   round {r + 1} {search}: "
                      + ", ".join(f"{st} {done[st][0]:.2f} s" for st in steps), file=sys.stderr, flush=True)
        peak = max(peaks)
        doc["backends"][backend_name] = {"peak_gflops": peak / 1e9, "describe": backend.describe(),
                                         "figures": {step: _headline(json.loads(first[step][1])) for step in steps},
                                         "steps": {
            step: {search: {"seconds": times[search][step],
                            "median_seconds": float(np.median(times[search][step])),
                            **_searches_summary(logs[(search, step)])} for search in searches}
            for step in steps}}
    doc["identical"] = not different
    doc["differences"] = different
    out = Path(out_dir)
    (out / f"knn-search-{size}.json").write_text(json.dumps(doc, indent=1, default=_plain) + "\n")
    md = out / f"knn-search-{size}.md"
    md.write_text(render(doc))
    if different:
        raise GpuclfError(f"the searches gave different figures: {'; '.join(different)} (see {md})")
    return str(md)


def render(doc: dict) -> str:
    """Markdown: per backend, each step under each search, and the steps' total with its ratio to the first."""
    searches = doc["searches"]
    lines = [f"# KNN search: {' vs '.join(searches)}", "",
             f"{doc['n_train']:,} training and {doc['n_test']:,} test rows of {doc['data']} (size {doc['size']}), "
             f"{doc['rounds']} round{'s' if doc['rounds'] != 1 else ''} per search, alternating. Figures and saved "
             f"arrays: {'identical in every round' if doc['identical'] else 'DIFFERENT: ' + '; '.join(doc['differences'])}.",
             ""]
    for name, b in doc["backends"].items():
        lines += [f"## {name} backend (float32 GEMM peak {b['peak_gflops']:,.0f} GFLOP/s)", "",
                  "| step | search | median s | GFLOP a round | GFLOP vs brute | GFLOP/s | % of peak | "
                  "candidates median / p90 / max | fallback chunks | switched queries |",
                  "| --- | --- | --: | --: | --: | --: | --: | --: | --: | --: |"]
        totals = dict.fromkeys(searches, 0.0)
        for step, per in b["steps"].items():
            for search in searches:
                s = per[search]
                totals[search] += s["median_seconds"]
                rate = s["flops"] / s["median_seconds"] / 1e9 if s["median_seconds"] else 0.0
                ratio = s["flops"] / s["brute_flops"] if s["brute_flops"] else 0.0
                lines.append(f"| {step} | {search} | {s['median_seconds']:.2f} | {s['flops'] / 1e9:,.1f} | "
                             f"{ratio:.3f} | {rate:,.0f} | {100 * rate / b['peak_gflops']:.0f}% | "
                             f"{s['candidates_median']:g} / {s['candidates_p90']:g} / {s['candidates_max']:,} | "
                             f"{s['fallback_chunks']} | {s['switched_queries']:,} |")
        lines += ["", "Figures (the same under every search): " + "; ".join(
            f"{step}: " + ", ".join(f"{k} {v:.10g}" for k, v in figures.items())
            for step, figures in b.get("figures", {}).items() if figures) + "."]
        reference = "brute" if "brute" in totals else searches[0]
        base = totals[reference]
        lines += ["", f"| search | the steps' total, s | vs {reference} |", "| --- | --: | --: |"]
        lines += [f"| {s} | {t:.2f} | {t / base:.2f} |" if base else f"| {s} | {t:.2f} | |" for s, t in totals.items()]
        lines.append("")
    return "\n".join(lines)


__all__ = ["KNN_STEPS", "compare_searches", "render"]
