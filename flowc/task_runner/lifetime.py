"""No process started for a task outlives the task, even when the runtime itself is SIGKILLed.

Linux gives the tools (no cgroup needed, none is writable on every machine):

* ``prctl(PR_SET_PDEATHSIG)`` makes the kernel signal a process when its parent dies
  (https://man7.org/linux/man-pages/man2/PR_SET_PDEATHSIG.2const.html);
* ``prctl(PR_SET_CHILD_SUBREAPER)`` makes orphaned descendants (a double fork, a child that started
  its own session) the children of the nearest subreaper ancestor instead of init
  (https://man7.org/linux/man-pages/man2/PR_SET_CHILD_SUBREAPER.2const.html), so a process can
  always find, through ``/proc/PID/task/TID/children``, every process started below it.

Each task runs under a supervisor (:mod:`flowc.task_runner.supervise`): a subreaper that kills
whatever is left below it when the task ends, and kills everything below it at once when the local
runtime dies (its parent-death signal is :data:`RUNTIME_GONE`, which it handles). The local
runtime is a subreaper too: what escapes a supervisor killed with SIGKILL becomes its child, and it
kills it. A task started as ``python -m flowc.task_runner`` arms the parent-death signal when the
runtime names itself in :data:`RUNTIME_PID_ENV` (an orchestrator never sets it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable

__all__ = [
    "RUNTIME_GONE",
    "RUNTIME_PID_ENV",
    "become_subreaper",
    "children",
    "die_with_runtime",
    "kill_descendants",
    "parent_death_signal",
    "reap",
]

#: Set by the local runtime for the tasks it starts: its own pid.
RUNTIME_PID_ENV = "FLOWC_RUNTIME_PID"
#: The parent-death signal of a task's supervisor: handled (kill everything below, then exit).
RUNTIME_GONE = signal.SIGRTMIN + 2 if hasattr(signal, "SIGRTMIN") else signal.SIGUSR2
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36


def _prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def parent_death_signal(signum: int = signal.SIGKILL) -> Callable[[], None]:
    """A function that asks Linux to send ``signum`` to the calling process when its parent dies
    (no-op elsewhere)."""
    prctl = _prctl()
    if prctl is None:
        return lambda: None

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signum), 0, 0, 0)

    return arm


def become_subreaper(on: bool = True) -> bool:
    """Makes orphaned descendants of this process its children (Linux), or (``on=False``) no
    longer; True if it worked."""
    prctl = _prctl()
    return prctl is not None and prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0


def die_with_runtime(signum: int = signal.SIGKILL) -> bool:
    """Arms the parent-death signal when the local runtime started this process (see the module
    docstring); True if it did. If the runtime is already gone, the process ends at once."""
    runtime = os.environ.pop(RUNTIME_PID_ENV, None)  # the step's own subprocesses do not see it
    if not runtime or not runtime.isdigit():
        return False
    parent_death_signal(signum)()
    if os.getppid() != int(runtime):  # it died before the signal was armed
        sys.stderr.write("flowc: the runtime that started this task is gone; not running it\n")
        os._exit(3)
    return True


def children(pid: int | None = None) -> list[int]:
    """The pids of the direct children of ``pid`` (default: this process), from ``/proc``."""
    pid = os.getpid() if pid is None else pid
    found: list[int] = []
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for thread in threads:
        try:
            with open(f"/proc/{pid}/task/{thread}/children", encoding="ascii") as handle:
                found.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def reap(pids: list[int]) -> None:
    """Collects the exit status of those children that have ended (never blocks)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _descendants(pid: int) -> list[int]:
    found, todo = [], children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo.extend(children(child))
    return found


def kill_descendants(keep: frozenset[int] = frozenset(), seconds: float = 5.0) -> None:
    """SIGKILLs every process below this one (a subreaper: orphans come back to it as children)
    except ``keep`` and their descendants, reaping them, until none is left or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while True:
        mine = [pid for pid in children() if pid not in keep]
        if not mine:
            return
        for pid in mine:
            for victim in (*_descendants(pid), pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(victim, signal.SIGKILL)
        reap(mine)
        if time.monotonic() > deadline:
            return
        time.sleep(0.01)
