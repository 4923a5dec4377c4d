"""Independent units of work (cross-validation folds, grid-search folds) in this process or on Dask workers.

A backend holds one :class:`Dispatcher`. Without a cluster it runs the
units one after another, here. With a ``distributed.Client`` the arrays
every unit reads (training data, labels, fold ids) are scattered to all
workers once (``broadcast=True``) and kept there, on the workers' device for
the gpu backend, while the array lives here; each unit is a task that
receives them by reference. Results come back in unit order, so what is
built from them is what the in-process loop builds.

A task whose worker dies is re-run by Dask on another worker (``RETRIES``
more times on errors); a cluster that cannot finish the work, or goes away,
raises one :class:`ClusterError` line (:func:`cluster_failure`), and the
runner adds how to continue the run from its saved steps.
"""
from __future__ import annotations

import os

from .errors import GpuclfError

#: Extra attempts of a task that raised (a worker killed mid-task is rescheduled by Dask on its own).
RETRIES = 2


#: Clients this process opened or was given, by scheduler address (estimators hold the address: a
#: Client cannot be deep-copied, and scikit-learn's clone deep-copies parameters).
_CLIENTS: dict = {}


def client_for(address: str):
    """The ``distributed.Client`` of a scheduler address: the one in use here, else a new connection."""
    client = _CLIENTS.get(address)
    if client is None or client.status in ("closed", "closing"):
        from distributed import Client

        with cluster_errors():
            client = _CLIENTS[address] = Client(address, timeout=10)
    return client


class Dispatcher:
    """Runs ``fn(unit, *shared)`` for every unit, here or on a Dask cluster.

    Parameters
    ----------
    client : distributed.Client, optional
        None: in-process.
    """

    def __init__(self, client=None):
        self.client = client
        if client is not None:
            _CLIENTS[client.scheduler.address] = client
        self._scattered = {}  # id(array) -> (array, future): one scatter per array per run
        self.scatters = 0

    @property
    def distributed(self) -> bool:
        return self.client is not None

    def share(self, array):
        """``array`` as the units receive it: itself here, a future of its one broadcast copy on a cluster."""
        if self.client is None:
            return array
        hit = self._scattered.get(id(array))
        if hit is not None and hit[0] is array:
            return hit[1]
        with cluster_errors():
            future = self.client.scatter(array, broadcast=True, hash=False)
        self._scattered[id(array)] = (array, future)  # holds the array: its id is not reused meanwhile
        self.scatters += 1
        return future

    def map(self, fn, units, *shared) -> list:
        """``[fn(u, *shared) for u in units]``, with ``shared`` from :meth:`share` when distributed."""
        units = list(units)
        if self.client is None:
            return [fn(u, *shared) for u in units]
        with cluster_errors():
            futures = [self.client.submit(fn, u, *shared, pure=False, retries=RETRIES) for u in units]
            return [on_this_device(r) for r in self.client.gather(futures)]

    def forget(self) -> None:
        """Release the scattered arrays (workers free them once no task needs them)."""
        self._scattered.clear()


def on_this_device(value):
    """``value`` with its CuPy arrays on this thread's current device (copied there when elsewhere).

    Dask rebuilds gathered results in its communication thread, and CUDA's
    current device is per thread: there it is device 0, whatever
    ``--device N`` made current in the thread that runs the steps. Left
    alone, the step would compute with arrays on device 0 (through peer
    access where there is some, else CuPy refuses them).
    """
    if type(value) in (list, tuple):
        return type(value)(on_this_device(v) for v in value)
    if type(value).__module__.split(".")[0] == "cupy" and hasattr(value, "device"):
        import cupy

        if value.device.id != cupy.cuda.Device().id:
            return cupy.asarray(value)
    return value


class ClusterError(GpuclfError):
    """The Dask cluster went away, or could not finish the work: what happened, in one line."""


#: Where Dask's own code lives: an exception raised there is the cluster's, whatever its type.
_DASK_PACKAGES = ("distributed", "tornado")
#: Dask's names for a cluster that could not finish: a task that killed every worker it ran on.
_UNFINISHED = ("KilledWorker",)


def cluster_failure(exc: BaseException) -> ClusterError | None:
    """``exc`` as the one-line :class:`ClusterError` it means, or None when it is not the cluster's.

    A failure is the cluster's when Dask raised it: its type is Dask's
    (``CommClosedError``, ``KilledWorker``, ``FutureCancelledError``), or it
    was raised inside Dask's code (a plain ``OSError("Timed out trying to
    connect to tcp://...")`` when the scheduler has gone), or it is a lost
    connection or timeout. A task's own exception, which Dask re-raises with
    the task's traceback, is not.
    """
    if isinstance(exc, (GpuclfError, KeyboardInterrupt, SystemExit, GeneratorExit)):
        return exc if isinstance(exc, ClusterError) else None
    name = type(exc).__name__
    ours = type(exc).__module__.split(".")[0] in _DASK_PACKAGES or _raised_in_dask(exc) or name in (
        "CommClosedError", "CancelledError", "FutureCancelledError", *_UNFINISHED) or isinstance(
        exc, (TimeoutError, ConnectionError))
    if not ours:
        return None
    try:
        text = " ".join(str(exc).split())  # Dask's messages may span lines
    except Exception:  # some of Dask's exceptions cannot always print themselves
        text = repr(exc.args)
    if name in _UNFINISHED:
        return ClusterError(f"the Dask cluster could not finish the work ({name}: {text})")
    return ClusterError(f"the Dask cluster went away: its scheduler stopped answering ({name}: {text})")


def _raised_in_dask(exc: BaseException) -> bool:
    """Whether the innermost frame of ``exc``'s traceback is Dask's code (a task's own error ends in the task)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    path = tb.tb_frame.f_code.co_filename if tb is not None else ""
    return any(f"{os.sep}{package}{os.sep}" in path for package in _DASK_PACKAGES)


class cluster_errors:
    """The one boundary where Dask's failures become a one-line :class:`ClusterError` (:func:`cluster_failure`).

    Anything raised by gpuclf's own code inside a task passes through unchanged.
    """

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        failure = cluster_failure(exc) if exc is not None else None
        if failure is None or failure is exc:
            return False
        raise failure from None
