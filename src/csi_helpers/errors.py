"""One exception family for the package.

Every message is written for the analyst: which file, key, row or column is at
fault, what was expected, and what to change. The command line prints the
message alone; ``--debug`` adds the traceback. Exit codes: 0 success, 1 a step
failed, 2 bad input or usage, 3 some runs of a batch failed or were skipped, 130
interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations


class CsiError(Exception):
    """Base class: an error whose message an analyst can act on."""

    exit_code: int = 1


class ParamsError(CsiError):
    """A params file is missing, malformed, or fails validation."""

    exit_code = 2


class UsageError(CsiError):
    """Options of a command that cannot go together (bad input, like a params error)."""

    exit_code = 2


class DataError(CsiError):
    """Input data is missing or unusable (names the file, row or column)."""

    exit_code = 2


class RunFolderError(CsiError):
    """A run folder is missing, incomplete, or changed since it was written."""

    exit_code = 2


class StepFailed(CsiError):
    """A step notebook raised; the executed notebook is kept for inspection.

    Exit 1, or 2 when the step raised one of this family's bad-input errors (a
    ``DataError`` naming a file of the run's sources is bad input, not a failure of
    the step): see :func:`step_failed`.
    """

    exit_code = 1

    def __init__(self, message: str, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class RegisterError(CsiError):
    """The CSI register cannot be opened, is locked, or refuses a change (says which and why)."""

    exit_code = 2


class EngineError(CsiError):
    """An engine outside the workbook (Spark, a Dask scheduler) is missing or unreachable.

    The message names the engine, its address or setting, and what to install or start.
    """

    exit_code = 2


class BatchIncomplete(CsiError):
    """Jobs of a batch failed or were skipped (how many: in the message and ``batch.json``)."""

    exit_code = 3


class Interrupted(CsiError):
    """The run was stopped by Ctrl-C (SIGINT) or SIGTERM; its kernels are stopped."""

    exit_code = 130


class NoRecordsInCycle(DataError):
    """A source has no record inside the cycle (names the source, its file and its date span)."""


def step_failed(message: str, ename: str) -> StepFailed:
    """The StepFailed for a step that raised ``ename``: exit 2 when that is an error of
    this family that means bad input (params, data, run folder, register), else 1.

    Example:
        >>> step_failed("step 4 (process) failed", "DataError").exit_code
        2
        >>> step_failed("step 5 (analyse) failed", "ValueError").exit_code
        1
    """
    bad_input = {c.__name__ for c in _family(CsiError) if c.exit_code == 2}
    return StepFailed(message, exit_code=2 if ename in bad_input else 1)


def _family(cls: type) -> list[type]:
    return [cls, *(d for sub in cls.__subclasses__() for d in _family(sub))]
