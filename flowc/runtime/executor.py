"""Starting one task attempt as a child process: forked (default) or ``python -m flowc.task_runner``.

Both executors give the scheduler the same thing, a :class:`Child`: a pid and two pipe ends
(stdout, stderr) to read. Each child leads its own process group, so the runtime can stop a task
and everything it started with one ``killpg``, and a Ctrl-C on the terminal reaches the runtime
only (which then stops its tasks deliberately).

* :class:`ForkExecutor`: the runtime imported flowc and the flow once; each task is ``os.fork()``
  plus the task runner's in-process entry point, so a task costs no interpreter start-up.
* :class:`SubprocessExecutor`: ``python -m flowc.task_runner ARGV`` exactly as an orchestrator runs
  it (the contract every back end relies on); chosen with ``FLOWC_EXECUTOR=subprocess`` or
  ``--executor subprocess``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowc.task_runner.spec import TaskSpec

__all__ = ["EXECUTORS", "Child", "ForkExecutor", "SubprocessExecutor", "make_executor"]


@dataclass
class Child:
    """A started task attempt: its pid (also its process group id) and the read ends of its pipes."""

    pid: int
    stdout_fd: int
    stderr_fd: int


class ForkExecutor:
    """Forks the runtime for each task and calls ``entry(spec)`` in the child.

    Args:
        entry: the task runner's in-process entry point, ``run_task(spec) -> exit code``.
    """

    name = "fork"

    def __init__(self, entry: Callable[[TaskSpec], int]) -> None:
        import gc

        # What every task imports, imported once here rather than in each forked task: the client
        # (a step's client reads the task's own namespace), the supervisor and its output pump.
        import flowc.client.namespaces
        import flowc.task_runner.capture
        import flowc.task_runner.supervise  # noqa: F401
        from flowc.task_runner.lifetime import parent_death_signal

        self._entry = entry
        self._arm_death_signal = parent_death_signal()
        # Everything imported so far (flowc, the flow) moves out of the collector's reach, so a
        # child's garbage collection does not touch, and copy, the pages it shares with the runtime.
        gc.freeze()

    def start(self, spec: TaskSpec, env: dict[str, str] | None, close_in_child: Sequence[int]) -> Child:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        # Whatever the runtime buffered would otherwise be written twice (once by the child).
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which leaves through os._exit
            self._child(spec, env, out_r, out_w, err_r, err_w, close_in_child)
        # Also set from this side, so that a kill right after the fork reaches the group.
        with contextlib.suppress(OSError):
            os.setpgid(pid, pid)
        os.close(out_w)
        os.close(err_w)
        return Child(pid, out_r, err_r)

    def _child(
        self,
        spec: TaskSpec,
        env: dict[str, str] | None,
        out_r: int,
        out_w: int,
        err_r: int,
        err_w: int,
        close_in_child: Sequence[int],
    ) -> None:  # pragma: no cover - child process
        code = 3
        try:
            os.setpgid(0, 0)
            self._arm_death_signal()
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
                signal.signal(signum, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for fd in (null, out_r, out_w, err_r, err_w, *close_in_child):
                with contextlib.suppress(OSError):
                    os.close(fd)
            if env:
                os.environ.update(env)
                # A PYTHONPATH given for the task (its @pypi environment) goes first on this
                # interpreter's path too, as it would on a fresh one's.
                extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p not in sys.path]
                sys.path[:0] = extra
            # Streams to the console as the task prints (a pipe is block-buffered by default).
            sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
            sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
            from flowc.task_runner.supervise import supervised

            # This process supervises the task (a second fork): nothing the task starts outlives
            # it, even if the runtime is SIGKILLed (flowc/task_runner/supervise.py).
            code = supervised(lambda: int(self._entry(spec) or 0), with_runtime=True)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 3
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)


class SubprocessExecutor:
    """Runs ``python -m flowc.task_runner ARGV`` for each task (a fresh interpreter)."""

    name = "subprocess"

    def __init__(self, python: str | None = None) -> None:
        self._python = python or sys.executable

    def start(self, spec: TaskSpec, env: dict[str, str] | None, close_in_child: Sequence[int]) -> Child:
        from flowc.task_runner.spec import format_argv

        argv = format_argv(spec)
        from flowc.task_runner.lifetime import RUNTIME_PID_ENV

        child_env = dict(os.environ)
        child_env.update(env or {})
        child_env.setdefault("PYTHONUNBUFFERED", "1")
        child_env[RUNTIME_PID_ENV] = str(os.getpid())  # the task dies with the runtime
        out_r, out_w = os.pipe()  # non-inheritable (PEP 446): only the dup2'ed copies reach the child
        err_r, err_w = os.pipe()
        try:
            pid = os.posix_spawn(
                self._python,
                [self._python, "-m", "flowc.task_runner", *argv],
                child_env,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, out_w, 1),
                    (os.POSIX_SPAWN_DUP2, err_w, 2),
                ],
                setsid=True,  # its own session and process group: see the module docstring
            )
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            raise
        finally:
            os.close(out_w)
            os.close(err_w)
        return Child(pid, out_r, err_r)


#: Executor names accepted by ``--executor`` / ``FLOWC_EXECUTOR``.
EXECUTORS = ("fork", "subprocess")


def make_executor(
    name: str, entry: Callable[[TaskSpec], int] | None = None
) -> ForkExecutor | SubprocessExecutor:
    """The executor called ``name`` (``fork`` needs the task runner's in-process ``entry``)."""
    if name == "subprocess":
        return SubprocessExecutor()
    if name == "fork":
        if entry is None:
            raise ValueError("the fork executor needs the task runner's entry point")
        return ForkExecutor(entry)
    raise ValueError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
