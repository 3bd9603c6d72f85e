"""A task started by the local runtime dies with it, even when the runtime itself is SIGKILLed.

Linux's ``prctl(PR_SET_PDEATHSIG)`` makes the kernel send a signal to a process when its parent
dies (https://man7.org/linux/man-pages/man2/PR_SET_PDEATHSIG.2const.html). A forked task arms it
itself; a task started as ``python -m flowc.task_runner`` arms it on start-up when the runtime
names itself in :data:`RUNTIME_PID_ENV` (an orchestrator never sets it: its tasks outlive nothing).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

__all__ = ["RUNTIME_PID_ENV", "die_with_runtime", "parent_death_signal"]

#: Set by the local runtime for the tasks it starts: its own pid.
RUNTIME_PID_ENV = "FLOWC_RUNTIME_PID"
_PR_SET_PDEATHSIG = 1


def parent_death_signal() -> Callable[[], None]:
    """A function that asks Linux to SIGKILL the calling process when its parent dies (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return lambda: None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return lambda: None

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)

    return arm


def die_with_runtime() -> None:
    """Arms the parent-death signal when the local runtime started this process (see the module
    docstring); if the runtime is already gone, the process ends at once."""
    runtime = os.environ.pop(RUNTIME_PID_ENV, None)  # the step's own subprocesses do not see it
    if not runtime or not runtime.isdigit():
        return
    parent_death_signal()()
    if os.getppid() != int(runtime):  # it died before the signal was armed
        sys.stderr.write("flowc: the runtime that started this task is gone; not running it\n")
        os._exit(3)
