"""The seven steps of the ITIL continual improvement process, and where they live in a run.

A run folder holds one folder per step (its key: ``strategy``, ``measurement``,
...), the executed notebooks in ``notebooks/``, and each step's I/O log in
``.csi/NN.io.json`` (:func:`io_log_path`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["IO_DIR", "REPORT_STEPS", "STEPS", "Step", "io_log_path", "step"]

IO_DIR = ".csi"  # a run's logs: each step's I/O record and its kernel's messages


@dataclass(frozen=True)
class Step:
    """One step: its number, the key of its artefact folder, and its notebook."""

    number: int
    key: str
    notebook: str
    title: str

    @property
    def label(self) -> str:
        return f"{self.number} {self.key}"


STEPS: tuple[Step, ...] = (
    Step(1, "strategy", "01_define_strategy.ipynb", "Identify the strategy for improvement"),
    Step(2, "measurement", "02_plan_measurement.ipynb", "Define what you will measure"),
    Step(3, "gather", "03_gather_data.ipynb", "Gather the data"),
    Step(4, "process", "04_process_data.ipynb", "Process the data"),
    Step(5, "analyse", "05_analyse_data.ipynb", "Analyse the information and data"),
    Step(6, "present", "06_present_findings.ipynb", "Present and use the information"),
    Step(7, "implement", "07_implement_improvements.ipynb", "Implement improvement"),
)

REPORT_STEPS: dict[int, str] = {6: "06_present.html", 7: "07_implement.html"}


def step(number: int) -> Step:
    """The step with that number (1 to 7)."""
    if not 1 <= number <= len(STEPS):
        raise ValueError(f"step must be between 1 and {len(STEPS)}, got {number}")
    return STEPS[number - 1]


def io_log_path(run_dir: Path, number: int) -> Path:
    """Where step ``number`` of the run in ``run_dir`` logs what it read and wrote."""
    return run_dir / IO_DIR / f"{number:02d}.io.json"
