"""Progress of a run: one line per finished step, live sub-step progress on a terminal."""
from __future__ import annotations

import sys


class Progress:
    """Where a run is: one line per finished step, and live sub-step progress on a terminal.

    On a terminal (``live``), rich draws a bar of the steps *finished*, the
    running step with its current stage (``binary_roc: random forest, 3-fold
    CV``) and its elapsed time; finished steps stay as lines above it.
    Elsewhere (a log file, CI) only the per-step lines are printed, so logs
    stay short.

    Parameters
    ----------
    total : int
        Steps in the run.
    stream : file, optional
        Where to write (default ``sys.stderr``).
    enabled : bool
        False prints nothing (``--quiet``).
    live : bool, optional
        Draw the live display; default: when ``stream`` is a terminal.
    """

    def __init__(self, total: int, stream=None, enabled: bool = True, live: bool | None = None):
        self.total, self.done, self.enabled = total, 0, enabled
        self.stream = stream or sys.stderr
        is_tty = getattr(self.stream, "isatty", lambda: False)()
        self.live = enabled and (is_tty if live is None else live)
        self.step, self._bar, self._task = None, None, None
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            console = Console(file=self.stream, force_terminal=True)
            self._bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("steps done"), TimeElapsedColumn(), console=console, transient=True)

    def _print(self, text: str, end: str = "\n") -> None:
        if self._bar is not None:
            self._bar.console.print(text, highlight=False, markup=False)
        elif self.enabled:
            print(text, end=end, file=self.stream, flush=True)

    def start(self, step: str, skipped: bool = False) -> None:
        """A step begins (or is skipped: finished by the run being resumed)."""
        number = f"step {self.done + 1}/{self.total}: {step}"
        if skipped:
            self.done += 1
            self._print(f"{number} done earlier, skipped")
            return
        self.step = step
        if self._bar is None:
            self._print(f"{number} ...", end="")
            return
        if not self._bar.live.is_started:
            self._bar.start()
        # The bar counts finished steps only: the running one is not done.
        self._task = self._bar.add_task(step, total=self.total, completed=self.done)

    def stage(self, text: str) -> None:
        """What the running step does now; shown live, quiet elsewhere."""
        if self._task is not None:
            self._bar.update(self._task, description=f"{self.step}: {text}")
            self._bar.refresh()

    def _end(self, outcome: str) -> None:
        if self._task is None:
            self._print(f" {outcome}")
            return
        self._bar.remove_task(self._task)
        self._task = None
        self._print(f"step {self.done}/{self.total}: {self.step} {outcome}")

    def fail(self, outcome: str = "failed") -> None:
        """The running step ended without results (``failed``, or ``interrupted`` by Ctrl-C)."""
        self.done += 1
        self._end(outcome)
        self.close()

    def finish(self, seconds: float, skipped: str | None = None) -> None:
        """The running step is done (or ``skipped``, not applying to the data, with why)."""
        self.done += 1
        self._end(f"skipped: {skipped}" if skipped else f"{seconds:.2f} s")

    def close(self) -> None:
        """Take the live display off the terminal (the per-step lines stay)."""
        if self._bar is not None and self._bar.live.is_started:
            self._bar.stop()
