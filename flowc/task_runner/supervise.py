"""Every task runs under a supervisor: its record decides its success, and nothing it started
outlives it.

:func:`supervised` forks: the child runs the task, the parent (the supervisor) waits for it.

* The supervisor is a subreaper (:mod:`flowc.task_runner.lifetime`): whatever the task started
  (a double fork, a child in its own session) stays below it; when the task ends, the supervisor
  SIGKILLs all of it. If the local runtime dies (SIGKILL included), the supervisor's parent-death
  signal makes it kill everything below it at once.
* Signals that stop a task (an engine's SIGTERM, SIGINT, SIGHUP, ...) are forwarded to the child,
  and the supervisor ends by the same signal as the child, so whoever waits for it sees what
  happened.
* ``python -m flowc.task_runner`` (what every target runs) also judges the task by the datastore
  (:func:`supervise`): a step can end its process with status 0 before the task is recorded
  (``os._exit(0)``, a library calling ``_exit``), and an orchestrator reading only the exit code
  would call that task successful. Exit 0 with ``task.json`` stored is success; exit 0 without it
  fails (exit 1, the attempt recorded failed with the reason, one line on stderr); any other end
  the child could not record (a signal, an ``_exit(n)``) gets its failed end recorded on the attempt.
  (The local runtime's forked tasks are judged by the runtime itself, the same way.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from flowc.task_runner.errors import EXIT_INFRASTRUCTURE, EXIT_OK, EXIT_STEP_FAILED
from flowc.task_runner.spec import TaskSpec

if TYPE_CHECKING:
    from flowc.task_runner.oom import MemoryState

__all__ = ["UNRECORDED_EXIT", "supervise", "supervised"]

#: Why a task whose process exited 0 without its record failed.
UNRECORDED_EXIT = (
    "the task's process exited with status 0 before the task was recorded (did the step call os._exit?)"
)

#: Retry budget of the supervisor's best-effort record of an attempt's end.
_BEST_EFFORT_RETRY_SECONDS = 5.0
#: Signals that stop a task (engines send SIGTERM, a terminal SIGINT/SIGHUP): passed to the child.
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def supervise(spec: TaskSpec, run: Callable[[], int], with_runtime: bool = False) -> int:
    """:func:`supervised`, then the exit code the task's records justify (see the module docstring)."""
    from flowc.task_runner.oom import memory_state

    memory = memory_state()  # the task's memory cgroup (its child's too) before it runs
    # Under the local runtime, the runtime keeps the task's output (and stores a crashed attempt's);
    # on an engine, nobody else does: the supervisor keeps it to store a crashed attempt's logs.
    return supervised(
        run,
        with_runtime=with_runtime,
        judge=lambda code, stopped, logs: _judge(spec, code, stopped, memory, logs),
        keep_output=not with_runtime,
    )


def supervised(
    run: Callable[[], int],
    *,
    with_runtime: bool = False,
    judge: Callable[[int, bool, dict[str, bytes]], int] | None = None,
    keep_output: bool = False,
) -> int:
    """Runs ``run()`` in a forked child under this process as its supervisor; returns its exit code
    (or what ``judge(exit code)`` makes of it). When the child was killed by a signal, this process
    ends by that signal too (unless ``judge`` changed the code).

    Args:
        run: the task.
        with_runtime: the local runtime is this process's parent: when it dies, kill everything.
        judge: ``judge(exit code, stopped, logs)`` maps the child's exit code (negative: killed by
            that signal) to the one to return; ``stopped``: a stop signal was forwarded to it;
            ``logs``: what the child wrote on each stream (empty unless ``keep_output``).
        keep_output: keep a copy of everything the child writes to fds 1 and 2 for ``judge``.
    """
    if not hasattr(os, "fork"):
        return run()
    from flowc.task_runner.lifetime import (
        RUNTIME_GONE,
        become_subreaper,
        kill_descendants,
        parent_death_signal,
    )

    become_subreaper()
    # Everything is armed before the fork: on a loaded machine the child may run its whole step
    # before this process is scheduled again, and a stop or the runtime's death meanwhile must
    # still find a supervisor ready to act.
    child: list[int] = []  # the child's pid, once forked
    stopped: list[int] = []  # the stop signals forwarded (set by the handler)

    def forward(signum: int, frame: object) -> None:
        stopped.append(signum)
        if child:
            _forward(child[0], signum)

    previous = {signum: signal.signal(signum, forward) for signum in _FORWARDED}
    if with_runtime:
        runtime = os.getppid()

        def runtime_gone(signum: int, frame: object) -> None:
            kill_descendants(seconds=2.0)
            os._exit(128 + int(signal.SIGKILL))

        previous[RUNTIME_GONE] = signal.signal(RUNTIME_GONE, runtime_gone)
        parent_death_signal(RUNTIME_GONE)()
        if os.getppid() != runtime:  # died before the signal was armed
            runtime_gone(RUNTIME_GONE, None)
    from flowc.task_runner.capture import SupervisorPump

    _flush()
    supervisor = os.getpid()
    output = SupervisorPump(keep=keep_output)  # the task's output passes through this process
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child leaves through os._exit
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        output.hand_down()
        _child(supervisor, run)
    output.start()
    child.append(pid)
    if stopped:  # a stop signal came while forking
        _forward(pid, stopped[0])
    try:
        _, status = os.waitpid(pid, 0)  # retried after a forwarded signal (PEP 475)
    finally:
        for signum in _FORWARDED:  # (the runtime's death still ends everything until we return)
            signal.signal(signum, previous[signum])
    kill_descendants()  # what the task started and left behind goes with it
    logs = output.finish()  # everything the task wrote has been passed on
    code = os.waitstatus_to_exitcode(status)
    judged = code if judge is None else judge(code, bool(stopped), logs)
    if code < 0 and judged == code:
        _flush()
        with contextlib.suppress(OSError, ValueError):  # SIGKILL and SIGSTOP have no handler to reset
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code  # pragma: no cover - only for a signal that does not end the process
    return judged


def _child(supervisor: int, run: Callable[[], int]) -> None:  # pragma: no cover - child process
    code = EXIT_INFRASTRUCTURE
    try:
        from flowc.task_runner.lifetime import parent_death_signal

        parent_death_signal()()  # dies with its supervisor
        if os.getppid() != supervisor:
            os._exit(EXIT_INFRASTRUCTURE)
        code = int(run() or 0)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = EXIT_INFRASTRUCTURE
    finally:
        try:
            _flush()
        finally:
            os._exit(code)


def _forward(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _judge(
    spec: TaskSpec,
    code: int,
    stopped: bool = False,
    memory: MemoryState | None = None,
    logs: dict[str, bytes] | None = None,
) -> int:
    from flowc.datastore.storage import StorageError, open_storage
    from flowc.metadata import end_running_attempt, list_attempts
    from flowc.task_runner.runner import datastore_url

    address = spec.address
    try:
        storage = open_storage(datastore_url(spec.datastore))
        if code == EXIT_OK and storage.exists(address.task_key):
            return EXIT_OK
        # Best effort from here on: a datastore that is down must not hold the task's end for long.
        # (Stopped by the runtime or the engine: whoever stops it is waiting.)
        storage = storage.with_retry_budget(1.0 if stopped else _BEST_EFFORT_RETRY_SECONDS)
        attempts = [spec.attempt] if spec.attempt is not None else list_attempts(storage, address)[-1:]
        if code == EXIT_OK:
            reason = UNRECORDED_EXIT
        elif code < 0:
            from flowc.task_runner.oom import memory_state, signal_reason

            reason = signal_reason(-code, memory, memory_state())
        else:
            reason = f"the task process exited with code {code} before recording its end"
        for attempt in attempts:
            end_running_attempt(storage, address, attempt, reason, logs)
    except (StorageError, ValueError) as exc:
        if code != EXIT_OK:
            return code
        _say(f"flowc: task {spec.address.pathspec} failed: cannot check its record in the datastore: {exc}")
        return EXIT_INFRASTRUCTURE
    if code == EXIT_OK:
        _say(f"flowc: task {spec.address.pathspec} failed: {UNRECORDED_EXIT}")
        return EXIT_STEP_FAILED
    return code


def _say(message: str) -> None:
    from flowc.redact import mask_credentials

    sys.stderr.write(mask_credentials(message) + "\n")
    sys.stderr.flush()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
