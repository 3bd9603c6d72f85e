"""How every target retries a failed attempt and bounds a running one: one policy, one place.

``@retry(times=N, minutes_between_retries=M)`` means Metaflow's semantics everywhere: up to N
further attempts, each started a constant M minutes after the previous one failed (no backoff;
https://docs.metaflow.org/api/step-decorators/retry). ``@timeout`` is enforced by the task runner
itself (exit code 4, recorded in the datastore); an engine's own limit is a backstop a fixed margin
later, for a runner that cannot stop (stuck in a C call, or still writing its records to a slow
datastore, which retries for ``s3.retry_seconds``, 30 s by default).
"""

from __future__ import annotations

import math

from flowc.ir import RetrySpec, TimeoutSpec

__all__ = ["TIMEOUT_BACKSTOP_SECONDS", "retry_delay_seconds", "timeout_backstop_seconds"]

#: How long after the task runner's own @timeout an engine's limit ends the attempt.
TIMEOUT_BACKSTOP_SECONDS = 60


def retry_delay_seconds(retry: RetrySpec) -> int:
    """Whole seconds between a failed attempt and the next one, the same before every retry.

    Rounded up: an engine counts delays in whole seconds, and a step never waits less than it asked.
    """
    return max(0, math.ceil(retry.minutes_between_retries * 60 - 1e-9))


def timeout_backstop_seconds(timeout: TimeoutSpec) -> int:
    """An engine's limit on one attempt of a step with ``@timeout``: the runner's, plus the margin."""
    return timeout.seconds + TIMEOUT_BACKSTOP_SECONDS
