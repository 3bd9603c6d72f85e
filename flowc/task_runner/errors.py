"""Why a task ends, and the exit code each reason maps to (docs/architecture.md, "Exit codes")."""

from __future__ import annotations

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_INFRASTRUCTURE",
    "EXIT_OK",
    "EXIT_STEP_FAILED",
    "EXIT_TIMEOUT",
    "BadInput",
    "CaughtException",
    "FailureHandledByCatch",
    "SecretsUnavailable",
    "StepFailure",
    "StepTimeout",
    "TaskError",
    "TimeoutException",
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


class SecretsUnavailable(TaskError):
    """A ``@secrets`` source that cannot be read (flowc/secret_sources.py): exit 3, naming the source."""

    exit_code = EXIT_INFRASTRUCTURE


class StepTimeout(BaseException):
    """Raised in the step when its ``@timeout`` expires (a BaseException, so a bare ``except
    Exception`` in user code does not swallow it): exit 4."""

    exit_code = EXIT_TIMEOUT


class TimeoutException(Exception):
    """What ``@catch(var=...)`` holds when the step exceeded its ``@timeout`` (Metaflow's name)."""


class FailureHandledByCatch(Exception):
    """What ``@catch(var=...)`` holds after the fallback attempt (flowc.attempts): every attempt
    died without raising (SIGKILL, a segfault, the OOM killer). Metaflow's name and message.

    Args:
        retry_count: the fallback attempt's number, i.e. how many attempts failed before it.
    """

    def __init__(self, retry_count: int) -> None:
        super().__init__(
            f"Task execution kept failing over {retry_count} attempts. Your code did not raise an "
            "exception. Something in the execution environment caused the failure."
        )


class CaughtException(Exception):
    """What ``@catch(var=...)`` stores: Metaflow's ``MetaflowExceptionWrapper`` interface.

    Only text is kept, so any exception can be stored and read back by any reader (the original
    may not pickle, or its class may not import where the artifact is read). As in Metaflow:
    ``type`` is ``"<module>.<class name>"`` (``"builtins.ValueError"``), ``exception`` the
    exception's ``str()``, ``stacktrace`` the formatted traceback, and ``str()`` of the object is
    the traceback, whose last line names the type and the message.

    Args:
        exc: the exception the step raised, with its traceback.
    """

    def __init__(self, exc: BaseException | None = None) -> None:
        super().__init__()
        if exc is not None:
            import traceback

            kind = type(exc)
            self.exception = str(exc)
            self.type = f"{kind.__module__}.{kind.__name__}"
            self.stacktrace = "".join(traceback.format_exception(kind, exc, exc.__traceback__))

    # Exception's own pickling passes ``args`` to __init__; keep the fields instead (as Metaflow does).
    def __reduce__(self) -> tuple[object, ...]:
        return CaughtException, (None,), self.__dict__

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    def __str__(self) -> str:
        if getattr(self, "stacktrace", None):
            return self.stacktrace
        return f"[no stacktrace]\n{self.type}: {self.exception}"

    def __repr__(self) -> str:
        return f"CaughtException({self.type}: {self.exception})"
