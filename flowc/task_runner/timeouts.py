"""``@timeout``: the runner enforces the limit itself, on every engine alike.

In the main thread a ``SIGALRM`` raises :class:`StepTimeout` inside the step (a BaseException, so
``except Exception`` in user code does not swallow it) and the runner records the failure and exits
with code 4. When the runner owns its process, a watchdog thread also ends the process with code 4
a few seconds later, in case the step is stuck where the signal cannot interrupt it.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from flowc.task_runner.errors import EXIT_TIMEOUT, StepTimeout

__all__ = ["step_timeout"]

#: Seconds the watchdog waits after the limit before ending the process.
WATCHDOG_GRACE = 5.0


@contextmanager
def step_timeout(seconds: float | None, message: str, hard_exit: bool = False) -> Iterator[None]:
    """Raises :class:`StepTimeout` (``message``) in the block after ``seconds`` (None: no limit).

    Args:
        seconds: the limit.
        message: the one-line message (names the step and the limit).
        hard_exit: also arm the watchdog that ends the whole process (only when the runner owns it).
    """
    if not seconds:
        yield
        return
    in_main = threading.current_thread() is threading.main_thread()
    previous = None
    if in_main:

        def expire(signum: int, frame: FrameType | None) -> None:
            raise StepTimeout(message)

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    watchdog = None
    if hard_exit or not in_main:

        def last_resort() -> None:
            os.write(2, f"\n{message} (the step did not stop; ending the process)\n".encode())
            os._exit(EXIT_TIMEOUT)

        watchdog = threading.Timer(seconds + (WATCHDOG_GRACE if in_main else 0.0), last_resort)
        watchdog.daemon = True
        watchdog.start()
    try:
        yield
    finally:
        if in_main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous if previous is not None else signal.SIG_DFL)
        if watchdog is not None:
            watchdog.cancel()
