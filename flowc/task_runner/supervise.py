"""A task succeeded when its record says so, not when its process exited 0.

A step can end its process with status 0 before the task is recorded (``os._exit(0)``, a library
calling ``_exit``): an orchestrator reading only the exit code would call that task successful and
the run would go on without its artifacts. So ``python -m flowc.task_runner`` (what every target
runs) forks: the child runs the task, this parent waits for it and judges it by the datastore:

* exit 0 and ``task.json`` stored: success (exit 0);
* exit 0 and no ``task.json``: the attempt is recorded failed with the reason, one line on stderr,
  exit 1 (the step's fault, so ``@retry`` applies);
* any other end the child could not record itself (killed by a signal, an ``_exit(n)``): its attempt
  record, still ``running``, gets the failed end and the cause; the exit status is the child's.

Signals an engine or the local runtime sends to stop a task are forwarded to the child, and the
parent ends by the same signal as the child, so whoever waits for it sees what happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable

from flowc.task_runner.errors import EXIT_INFRASTRUCTURE, EXIT_OK, EXIT_STEP_FAILED
from flowc.task_runner.spec import TaskSpec

__all__ = ["UNRECORDED_EXIT", "supervise"]

#: Why a task whose process exited 0 without its record failed.
UNRECORDED_EXIT = (
    "the task's process exited with status 0 before the task was recorded (did the step call os._exit?)"
)

#: Signals that stop a task (engines send SIGTERM, a terminal SIGINT/SIGHUP): passed to the child.
_FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def supervise(spec: TaskSpec, run: Callable[[], int]) -> int:
    """Runs ``run()`` (the task) in a forked child; returns the exit code the records justify."""
    if not hasattr(os, "fork"):
        return run()
    _flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child leaves through os._exit
        _child(parent, run)
    previous = {signum: signal.signal(signum, lambda sig, frame: _forward(pid, sig)) for signum in _FORWARDED}
    try:
        _, status = os.waitpid(pid, 0)  # retried after a forwarded signal (PEP 475)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    code = os.waitstatus_to_exitcode(status)
    judged = _judge(spec, code)
    if code < 0 and judged == code:
        _flush()
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code  # pragma: no cover - only for a signal that does not end the process
    return judged


def _child(parent: int, run: Callable[[], int]) -> None:  # pragma: no cover - child process
    code = EXIT_INFRASTRUCTURE
    try:
        from flowc.task_runner.lifetime import parent_death_signal

        parent_death_signal()()  # dies with its supervisor
        if os.getppid() != parent:
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


def _judge(spec: TaskSpec, code: int) -> int:
    from flowc.datastore.storage import StorageError, open_storage
    from flowc.metadata import TaskAddress, end_running_attempt, list_attempts
    from flowc.task_runner.runner import datastore_url

    address = TaskAddress(spec.flow, spec.run_id, spec.step, spec.task_id)
    try:
        storage = open_storage(datastore_url(spec))
        if code == EXIT_OK and storage.exists(address.task_key):
            return EXIT_OK
        attempts = [spec.attempt] if spec.attempt is not None else list_attempts(storage, address)[-1:]
        if code == EXIT_OK:
            reason = UNRECORDED_EXIT
        elif code < 0:
            name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            reason = f"the task process was killed by signal {name} ({-code})"
        else:
            reason = f"the task process exited with code {code} before recording its end"
        for attempt in attempts:
            end_running_attempt(storage, address, attempt, reason)
    except (StorageError, ValueError) as exc:
        if code != EXIT_OK:
            return code
        _say(f"flowc: task {spec.pathspec} failed: cannot check its record in the datastore: {exc}")
        return EXIT_INFRASTRUCTURE
    if code == EXIT_OK:
        _say(f"flowc: task {spec.pathspec} failed: {UNRECORDED_EXIT}")
        return EXIT_STEP_FAILED
    return code


def _say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
