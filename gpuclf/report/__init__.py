"""What a reader sees: ``report.html`` (the chapter's words, tables and figures section by section, the
book beside the run), ``gpuclf compare`` of runs side by side, and the HTML page both share."""
from gpuclf._lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {"build_report": ".document", "load_results": ".document",
                                      "compare_runs": ".compare"})
__all__ = ["build_report", "compare_runs", "load_results"]
