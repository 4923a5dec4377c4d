"""Running the chapter: the runner and its progress, the results store in the output folder (atomic
files, one writer, resume), the command line's options, the warm-up, the Dask cluster, and the
environment and memory probes."""
from gpuclf._lazy import lazy_exports

__getattr__ = lazy_exports(__name__, {"run_workflow": ".runner", "Progress": ".progress", "ResultsStore": ".store"})
__all__ = ["Progress", "ResultsStore", "run_workflow"]
