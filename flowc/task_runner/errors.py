"""Why a task ends, and the exit code each reason maps to (docs/architecture.md, "Exit codes")."""

from __future__ import annotations

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INFRASTRUCTURE",
    "EXIT_OK",
    "EXIT_STEP_FAILED",
    "EXIT_TIMEOUT",
    "BadInput",
    "InfrastructureError",
    "StepFailure",
    "StepTimeout",
    "TaskError",
    "TimeoutException",
    "UnpicklableException",
]

EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INFRASTRUCTURE = 3
EXIT_TIMEOUT = 4


class TaskError(Exception):
    """A failure of the task (not of user code) with its exit code and a one-line message."""

    exit_code = EXIT_STEP_FAILED


class StepFailure(TaskError):
    """The step broke the flow's rules (a ``self.next`` the graph does not have, an empty foreach,
    an unpicklable artifact, a merge conflict): exit 1, like an exception the step raised."""


class BadInput(TaskError):
    """Bad argv, parameters, or a task whose input tasks have not succeeded: exit 2."""

    exit_code = EXIT_BAD_INPUT


class InfrastructureError(TaskError):
    """The datastore is unreachable or holds a corrupt object: exit 3."""

    exit_code = EXIT_INFRASTRUCTURE


class StepTimeout(BaseException):
    """Raised in the step when its ``@timeout`` expires (a BaseException, so a bare ``except
    Exception`` in user code does not swallow it): exit 4."""

    exit_code = EXIT_TIMEOUT


class TimeoutException(Exception):
    """What ``@catch(var=...)`` holds when the step exceeded its ``@timeout`` (Metaflow's name)."""


class UnpicklableException(Exception):
    """Stored by ``@catch`` in place of an exception that cannot be pickled: same type name and text.

    Args:
        type_name: the original exception's qualified type name.
        message: its ``str()``.
        traceback_text: the formatted traceback.
    """

    def __init__(self, type_name: str, message: str, traceback_text: str = "") -> None:
        super().__init__(type_name, message, traceback_text)
        self.type_name = type_name
        self.message = message
        self.traceback_text = traceback_text

    def __str__(self) -> str:
        return self.message
