"""The warnings raised in Dask worker processes, kept for the run's ``results.json``.

Without this, a library warning raised in a worker process (scikit-learn's
``ConvergenceWarning`` in a joblib task, say) is printed by the worker into
the middle of the run's progress lines and never reaches ``results.json``.
:class:`WarningCollector` is installed on every worker when gpuclf connects
to a cluster; after each step the runner takes what it kept
(:func:`worker_warnings`) and records it with the step's own warnings, so a
cluster run reports warnings as a single-process run does. Imported only when
a cluster is used: it imports Dask.
"""
from __future__ import annotations

import os
import warnings

from distributed import WorkerPlugin

from gpuclf.dispatch import cluster_errors

NAME = "gpuclf-warnings"


class WarningCollector(WorkerPlugin):
    """Keeps the warnings of one worker process as ``Category: message`` lines.

    Parameters
    ----------
    client_pid : int
        The client's process id. Workers that are threads of that process
        keep nothing: the runner's ``warnings.catch_warnings`` sees them already.
    """

    name = NAME

    def __init__(self, client_pid: int):
        self.client_pid = client_pid
        self.caught: list[str] = []

    def setup(self, worker):
        if os.getpid() == self.client_pid:
            return
        warnings.simplefilter("always")  # every occurrence: the runner removes repeats
        warnings.showwarning = self._keep

    def _keep(self, message, category, filename, lineno, file=None, line=None):
        self.caught.append(f"{category.__name__}: {message}")


def _take(dask_worker) -> list[str]:
    plugin = dask_worker.plugins.get(NAME)
    if plugin is None:
        return []
    caught, plugin.caught = plugin.caught, []
    return caught


def worker_warnings(client) -> list[str]:
    """The warnings the workers kept since the last call, and forget them."""
    with cluster_errors():
        per_worker = client.run(_take)
    return [w for caught in per_worker.values() for w in caught]
