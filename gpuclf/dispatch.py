"""Independent units of work (cross-validation folds, grid-search folds) in this process or on Dask workers.

A backend holds one :class:`Dispatcher`. Without a cluster it runs the
units one after another, here. With a ``distributed.Client`` the arrays
every unit reads (training data, labels, fold ids) are scattered to all
workers once (``broadcast=True``) and kept there, on the workers' device for
the gpu backend, while the array lives here; each unit is a task that
receives them by reference. Results come back in unit order, so what is
built from them is what the in-process loop builds.

A task whose worker dies is re-run by Dask on another worker (``RETRIES``
more times on errors); a cluster that cannot finish a step raises one
:class:`~gpuclf.errors.GpuclfError` line, and the run's finished steps stay
saved for ``--resume``.
"""
from __future__ import annotations

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


class cluster_errors:
    """The one boundary where Dask's failures become a one-line :class:`GpuclfError`.

    ``KilledWorker`` (a task killed every worker it ran on), lost connections
    and timeouts mean the cluster could not finish the step; anything raised
    by gpuclf's own code inside a task passes through unchanged.
    """

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, GpuclfError):
            return False
        name = type(exc).__name__
        module = type(exc).__module__.split(".")[0]
        if module in ("distributed", "tornado") or name in ("KilledWorker", "CommClosedError", "CancelledError",
                                                             "FutureCancelledError") or isinstance(exc, (
                                                                 TimeoutError, ConnectionError)):
            try:
                text = " ".join(str(exc).split())  # Dask's messages may span lines
            except Exception:  # some of Dask's exceptions cannot always print themselves
                text = repr(exc.args)
            raise GpuclfError(f"the Dask cluster could not finish this step ({name}: {text}); finished steps are "
                              "saved: run again with --resume (and a working --cluster)") from None
        return False
