"""Live progress of a run: one line per step with status and elapsed time.

On a terminal a table refreshes while the step runs; elsewhere (CI, a
scheduler's log) one plain line is printed as each step starts and ends.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table

from csi_helpers.runfolder.layout import STEPS, Step

_MARKS = {"pending": "·", "running": "…", "succeeded": "✓", "failed": "✗"}


class StepProgress:
    """A progress hook for :func:`csi_helpers.chain.runner.run_cycle`."""

    def __init__(self, run_label: str, *, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.run_label = run_label
        self.status = {s.number: "pending" for s in STEPS}
        self.seconds: dict[int, float] = {}
        self.started: dict[int, float] = {}
        self._live: Live | None = None

    def __enter__(self) -> StepProgress:
        if self.console.is_terminal:
            self._live = Live(
                self._table(),
                console=self.console,
                refresh_per_second=4,
                get_renderable=self._table,
            )
            self._live.__enter__()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(et, ev, tb)

    def __call__(self, step: Step, status: str, seconds: float) -> None:
        self.status[step.number] = status
        if status == "running":
            self.started[step.number] = time.perf_counter()
        else:
            self.seconds[step.number] = seconds
        if self._live is None:
            shown = "" if status == "running" else f" {seconds:6.1f} s"
            self.console.print(
                f"[{step.number}/{len(STEPS)}] {step.key:<12} {status}{shown}", highlight=False
            )

    def _table(self) -> Table:
        table = Table(title=f"csi run {self.run_label}", title_justify="left", box=None)
        table.add_column("step")
        table.add_column("status")
        table.add_column("elapsed", justify="right")
        for s in STEPS:
            state = self.status[s.number]
            if state == "running":
                elapsed = time.perf_counter() - self.started[s.number]
            else:
                elapsed = self.seconds.get(s.number)
            shown = f"{elapsed:.1f} s" if elapsed is not None else ""
            table.add_row(f"{s.number} {s.key}", f"{_MARKS[state]} {state}", shown)
        return table
