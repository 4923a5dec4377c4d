"""Run a script or execute a notebook with accel installed (``python -m gpuclf.accel``).

A script runs in this process as ``__main__`` (``runpy``), after
:func:`~gpuclf.accel.install`; its errors show as Python shows them (the
traceback starts in the script) and its exit status is the process's. A
notebook runs in a Jupyter kernel through ``nbclient``, with a first cell
that installs accel; the executed copy is written beside it (or to ``out``)
even when a cell fails.
"""
from __future__ import annotations

import os
import runpy
import sys
import traceback
from pathlib import Path

from ..errors import GpuclfError

__all__ = ["ACCEL_CELL_TAG", "check_target", "run_notebook", "run_script"]

#: Tag of the cell that run_notebook adds first.
ACCEL_CELL_TAG = "gpuclf-accel"


def check_target(path: str, out: str | None = None) -> Path:
    """The script or notebook to run, refused in one line when it cannot be.

    Raises
    ------
    GpuclfError
        A missing file, one that is neither ``.py`` nor ``.ipynb``, or ``out`` for a script.
    """
    target = Path(path)
    if not target.is_file():
        raise GpuclfError(f"no such file: {path}" if not target.exists() else f"{path} is not a file")
    if target.suffix not in (".py", ".ipynb"):
        raise GpuclfError(f"{path} is neither a .py script nor a .ipynb notebook")
    if out is not None and target.suffix != ".ipynb":
        raise GpuclfError("--out names the executed copy of a notebook; a script writes nothing")
    return target


def _trimmed(tb, script: Path):
    """The traceback from the script's first frame on: what ``python script.py`` would show."""
    wanted = os.path.realpath(script)
    while tb is not None and os.path.realpath(tb.tb_frame.f_code.co_filename) != wanted:
        tb = tb.tb_next
    return tb


def run_script(script: Path, args: list[str]) -> int:
    """Run ``script`` as ``__main__`` with ``args``; returns its exit status (1 after an uncaught error)."""
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the user's own error, shown as Python shows it
        tb = _trimmed(exc.__traceback__, script) or exc.__traceback__
        sys.excepthook(type(exc), exc, tb) if sys.excepthook is not sys.__excepthook__ else \
            traceback.print_exception(type(exc), exc, tb)
        return 1
    return 0


def _accel_cell(backend: str | None, exclude: tuple) -> str:
    args = [f"backend={backend!r}"] if backend else []
    if exclude:
        args.append(f"exclude={tuple(exclude)!r}")
    return f"import gpuclf.accel\ngpuclf.accel.install({', '.join(args)})"


def run_notebook(notebook: Path, out: str | None, backend: str | None, exclude: tuple = (),
                 timeout: int | None = None) -> int:
    """Execute ``notebook`` in a kernel with accel installed first; write the executed copy.

    Returns
    -------
    int
        0, or 1 when a cell raised (the copy holds the error, and the cell's
        traceback is printed as Jupyter shows it).
    """
    try:
        import nbformat
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError
    except ImportError as exc:
        raise GpuclfError(f"executing a notebook needs nbclient, nbformat and ipykernel ({exc.name} is missing): "
                          "pip install nbclient nbformat ipykernel") from None
    destination = Path(out) if out is not None else notebook.with_name(notebook.stem + ".accel.ipynb")
    try:
        nb = nbformat.read(str(notebook), as_version=4)
    except Exception as exc:  # noqa: BLE001 - not JSON, not a notebook
        raise GpuclfError(f"{notebook} is not a readable notebook: {exc}") from None
    cell = nbformat.v4.new_code_cell(_accel_cell(backend, exclude))
    cell.metadata["tags"] = [ACCEL_CELL_TAG]
    nb.cells.insert(0, cell)
    client = NotebookClient(nb, timeout=timeout, kernel_name=nb.metadata.get("kernelspec", {}).get("name", "python3"),
                            resources={"metadata": {"path": str(notebook.resolve().parent)}})
    status = 0
    try:
        client.execute()
    except CellExecutionError as exc:
        print(str(exc), file=sys.stderr)
        status = 1
    finally:
        nbformat.write(nb, str(destination))
    print(f"gpuclf.accel: executed copy written to {destination}", file=sys.stderr)
    return status
