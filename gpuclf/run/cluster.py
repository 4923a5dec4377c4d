"""Dask clusters for ``--cluster``: start or join one, describe it, and close it cleanly.

``--cluster local`` starts a ``LocalCluster`` of this machine's cores (one
single-threaded worker process per core), or with the gpu backend a
``dask_cuda.LocalCUDACluster`` (one worker per visible GPU);
``--cluster tcp://host:8786`` joins a running scheduler. No ``--cluster``:
nothing of Dask is imported and runs stay single-process.

Dask is imported only here, and only when a cluster is asked for; a missing
package, a malformed address, an unreachable scheduler, a cluster with no
workers, or a cluster that fails while in use (a worker or the scheduler
killed) is one :class:`~gpuclf.errors.GpuclfError` line saying what to do,
naming the address as the user gave it (``--cluster`` or ``$GPUCLF_CLUSTER``).
"""
from __future__ import annotations

import contextlib
import logging
import os

from gpuclf.backends.probes import extra_install
from gpuclf.errors import GpuclfError

ENV_VAR = "GPUCLF_CLUSTER"
#: Seconds to wait for a scheduler before saying it is unreachable.
CONNECT_TIMEOUT = 10
INSTALL = f"{extra_install('dask')} (dask[distributed])"
#: Address schemes another process can reach (Dask's ``inproc://`` lives inside one process).
SCHEMES = ("tcp://", "tls://", "ucx://")


class Spec(str):
    """A checked cluster value that remembers who gave it: ``said`` is ``--cluster X`` or ``$GPUCLF_CLUSTER=X``."""

    def __new__(cls, text: str, option: str = "--cluster"):
        spec = super().__new__(cls, text)
        spec.said = f"{option}={text}" if option.startswith("$") else f"{option} {text}"
        return spec


def check_spec(text: str) -> str:
    """``local`` or a scheduler address ``tcp://host:port`` (tls://, ucx:// too); anything else is refused.

    The address is parsed as Dask will parse it (``host:port``, ``[v6 host]:port``),
    so a bad one is refused here, not as Dask's ``ValueError`` when connecting.

    Raises
    ------
    ValueError
        Naming what is accepted (the options table turns it into one line).
    """
    spec = text.strip()
    if spec == "local":
        return spec
    example = "give local or a Dask scheduler address such as tcp://host:8786"
    if not spec.startswith(SCHEMES) or not spec.split("://", 1)[1]:
        raise ValueError(f"must be local or a Dask scheduler address such as tcp://host:8786, got {text!r}")
    host, port = _host_port(spec.split("://", 1)[1])
    if not host or port is None:
        raise ValueError(f"{text!r} has no {'host' if not host else 'port'}; {example}")
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r} is not host:port with a port from 1 to 65535; {example}")
    return spec


def _host_port(rest: str) -> tuple[str, str | None]:
    """Host and port of ``host:port`` or ``[v6 host]:port``: port None when missing, ``""`` when malformed."""
    if rest.startswith("["):
        host, closed, tail = rest[1:].partition("]")
        if not closed or (tail and not tail.startswith(":")):
            return host, ""
        return host, tail[1:] if tail else None
    host, colon, port = rest.rpartition(":")
    if not colon:
        return port, None
    return (host, "") if ":" in host else (host, port)


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise GpuclfError(f"--cluster needs Dask's distributed scheduler: {INSTALL}") from None
    return distributed


@contextlib.contextmanager
def connect(spec: str | None, backend_name: str = "cpu", *, n_workers: int | None = None,
            processes: bool = True, memory_limit: str | int = "auto"):
    """A ``distributed.Client`` for ``spec`` (None: no cluster, yields None), closed on exit.

    Parameters
    ----------
    spec : {"local"} or str or None
        ``local`` starts a cluster on this machine, an address joins one.
    backend_name : str
        ``gpu`` makes a local cluster a ``LocalCUDACluster`` (one worker per GPU).
    n_workers : int, optional
        Local CPU clusters: workers (default: one per core).
    processes : bool, default=True
        Local CPU clusters: worker processes (True) or threads in this process.
    memory_limit : str or int
        Local clusters: per-worker memory limit (Dask's ``"auto"``: the
        machine's memory shared between workers).

    Raises
    ------
    GpuclfError
        Dask missing, scheduler unreachable, no worker, or (inside the block)
        the cluster failing while in use (:class:`~gpuclf.dispatch.cluster_errors`).
    """
    if spec is None:
        yield None
        return
    from gpuclf.dispatch import cluster_errors

    said = getattr(spec, "said", f"--cluster {spec}")
    distributed = _import_distributed()
    with contextlib.ExitStack() as stack:
        stack.callback(logging.disable, logging.root.manager.disable)  # last, once Dask has closed
        if spec == "local":
            cluster = stack.enter_context(_local_cluster(distributed, backend_name, n_workers, processes,
                                                         memory_limit))
            client = stack.enter_context(distributed.Client(cluster))
        else:
            try:
                client = stack.enter_context(distributed.Client(str(spec), timeout=CONNECT_TIMEOUT))
            except (OSError, TimeoutError) as exc:
                raise GpuclfError(f"{said}: no Dask scheduler answered within {CONNECT_TIMEOUT} s "
                                  f"({exc.__class__.__name__}); start one (dask scheduler) or use "
                                  "--cluster local") from None
            except (ValueError, TypeError, ImportError) as exc:  # e.g. ucx:// without UCX installed
                raise GpuclfError(f"{said}: Dask cannot connect to this address ({exc.__class__.__name__}: "
                                  f"{exc}); give a scheduler address such as tcp://host:8786") from None
        if not client.scheduler_info().get("workers"):
            try:
                client.wait_for_workers(1, timeout=CONNECT_TIMEOUT)
            except TimeoutError:
                raise GpuclfError(f"{said}: the scheduler has no workers; start some "
                                  "(dask worker ADDRESS) and run again") from None
        from gpuclf.run.worker_warnings import WarningCollector

        client.register_plugin(WarningCollector(os.getpid()))
        # The client logs its failed reconnection to a scheduler that went away; the one-line error says so.
        quiet = logging.getLogger("distributed.client")
        quiet.addFilter(_no_reconnect_log)
        stack.callback(quiet.removeFilter, _no_reconnect_log)
        try:
            with cluster_errors():
                yield client
        except BaseException:
            # Closing a cluster that failed makes Dask log tracebacks of its own (a reconnection
            # cancelled); the one-line error already says what happened.
            logging.disable(logging.CRITICAL)
            raise


def _no_reconnect_log(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("Failed to reconnect to scheduler")


def _local_cluster(distributed, backend_name: str, n_workers, processes: bool, memory_limit):
    if backend_name == "gpu":
        try:
            from dask_cuda import LocalCUDACluster
        except ImportError:
            raise GpuclfError("--cluster local with the gpu backend needs dask-cuda (one worker per GPU): "
                              f"pip install dask-cuda, or {extra_install('gpu-cu12')} (or gpu-cu13)") from None
        return LocalCUDACluster(dashboard_address=None, memory_limit=memory_limit, scheduler_kwargs=_NO_PORT)
    n = n_workers or os.cpu_count() or 1
    return distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=processes,
                                    dashboard_address=None, memory_limit=memory_limit, scheduler_kwargs=_NO_PORT)


#: Without a dashboard the scheduler still serves its health routes over HTTP, on port 8787 unless told
#: otherwise, and warns in the user's terminal when another Dask cluster holds it: any free port instead.
_NO_PORT = {"dashboard_address": ":0"}


def check_reachable(spec: str | None) -> None:
    """Fail in one line, now, when the scheduler at ``spec`` does not answer or has no workers.

    For a command that hands the address to another process (``gpuclf
    bench`` runs its suite in a child): that child's failures would not be
    one line. ``local`` (and None) need no scheduler: nothing to check.
    """
    if spec is not None and spec != "local":
        with connect(spec):
            pass


def describe(client) -> dict | None:
    """Scheduler address, workers, threads, memory and each worker's GPU, JSON-ready (None without a cluster)."""
    if client is None:
        return None
    workers = client.scheduler_info().get("workers", {})
    # dask-cuda gives each worker its own CUDA_VISIBLE_DEVICES, its GPU listed first.
    devices = {addr: dev for addr, dev in client.run(_worker_device).items() if dev}
    return {"scheduler": client.scheduler.address, "workers": len(workers),
            "threads": sum(int(w.get("nthreads", 1)) for w in workers.values()),
            "memory_limit_bytes": sum(int(w.get("memory_limit") or 0) for w in workers.values()),
            "gpus": sorted(devices.values())}


def summary(spec: str, about: dict) -> str:
    """One line on a cluster: ``local: 2 workers, 2 threads, 11.6 GiB, GPUs: none (scheduler tcp://...)``."""
    return (f"{spec}: {about['workers']} workers, {about['threads']} threads, "
            f"{about['memory_limit_bytes'] / 2**30:,.1f} GiB, GPUs: {', '.join(about['gpus']) or 'none'} "
            f"(scheduler {about['scheduler']})")


def _worker_device() -> str | None:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return visible.split(",")[0] if visible else None


@contextlib.contextmanager
def joblib_on(client):
    """scikit-learn's ``n_jobs`` work (joblib) runs on the cluster inside the block.

    The cpu backend's cross-validation, grid search, forest and one-vs-rest
    go through joblib; its Dask backend sends each task to the workers.
    Their results do not depend on where tasks run, so the figures are those
    of a single-process run.
    """
    if client is None:
        yield
        return
    import joblib

    with joblib.parallel_config(backend="dask", n_jobs=-1):
        yield
