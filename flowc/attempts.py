"""How every target retries a failed attempt and bounds a running one: one policy, one place.

``@retry(times=N, minutes_between_retries=M)`` means Metaflow's semantics everywhere: up to N
further attempts, each started a constant M minutes after the previous one failed (no backoff;
https://docs.metaflow.org/api/step-decorators/retry). ``@timeout`` is enforced by the task runner
itself (exit code 4, recorded in the datastore); an engine's own limit is a backstop a fixed margin
later, for a runner that cannot stop (stuck in a C call, or still writing its records to a slow
datastore, which retries for ``s3.retry_seconds``, 30 s by default).

``@catch`` adds one attempt after the user's retries, as Metaflow's catch decorator does: if the
last attempt died without raising (SIGKILL, a segfault, the OOM killer), the fallback attempt does
not run the step body; it stores ``FailureHandledByCatch`` in the catch variable and the run goes
on (https://docs.metaflow.org/api/step-decorators/catch). So every engine retries a ``@catch``
step once more than ``@retry`` says. A foreach or switch step has no fallback: its successors
come from the body.
"""

from __future__ import annotations

import math

from flowc.ir import RetrySpec, Step, TimeoutSpec

__all__ = [
    "TIMEOUT_BACKSTOP_SECONDS",
    "engine_retries",
    "is_catch_fallback",
    "retry_delay_seconds",
    "step_retry_delay_seconds",
    "timeout_backstop_seconds",
    "user_retries",
]

#: How long after the task runner's own @timeout an engine's limit ends the attempt.
TIMEOUT_BACKSTOP_SECONDS = 60


def retry_delay_seconds(retry: RetrySpec) -> int:
    """Whole seconds between a failed attempt and the next one, the same before every retry.

    Rounded up: an engine counts delays in whole seconds, and a step never waits less than it asked.
    """
    return max(0, math.ceil(retry.minutes_between_retries * 60 - 1e-9))


def step_retry_delay_seconds(step: Step) -> int:
    """Seconds before each retry of ``step``: 0 for a ``@catch`` step's fallback without ``@retry``."""
    return retry_delay_seconds(step.retry) if step.retry is not None else 0


def user_retries(step: Step) -> int:
    """The retries ``@retry(times=N)`` asks for (the attempts that run the step body, minus one)."""
    return step.retry.times if step.retry is not None else 0


def _has_catch_fallback(step: Step) -> bool:
    return step.catch is not None and step.transition not in ("foreach", "switch")


def engine_retries(step: Step) -> int:
    """How many times an engine retries a failed attempt of ``step``: ``@retry``'s, +1 for ``@catch``'s
    fallback. Every target and ``flowc run`` read this, never ``retry.times``."""
    return user_retries(step) + (1 if _has_catch_fallback(step) else 0)


def is_catch_fallback(step: Step, attempt: int) -> bool:
    """Whether ``attempt`` (0-based) of ``step`` is ``@catch``'s fallback: no body, the failure recorded."""
    return _has_catch_fallback(step) and attempt > user_retries(step)


def timeout_backstop_seconds(timeout: TimeoutSpec) -> int:
    """An engine's limit on one attempt of a step with ``@timeout``: the runner's, plus the margin."""
    return timeout.seconds + TIMEOUT_BACKSTOP_SECONDS
