"""The local runtime's event loop: start ready tasks, stream their output, react to their exits.

One thread, one ``selectors`` loop over the children's pipes (and a wake-up pipe for signals):

* up to ``max_workers`` task attempts run at once, each a child process (see :mod:`.executor`);
* a child's exit is read with ``waitpid``; success feeds its control record to the :class:`Plan`,
  which answers with the tasks now ready (fan-outs, joins, switch and loop choices);
* a failure is retried (``@retry``: the next attempt after ``minutes_between_retries``) unless the
  step has no attempts left, then the run fails: the other tasks are stopped and the final message
  names the task, its cause and ``flowc resume``;
* ``@timeout`` is enforced by the task runner (exit 4); a child that overruns its limit by
  ``timeout_grace`` seconds anyway is killed here;
* SIGINT / SIGTERM / SIGHUP stop every task (SIGTERM to its process group, SIGKILL after a grace period),
  reap them all, and end the run as ``killed``.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowc.attempts import engine_retries
from flowc.control import CONTROL_PREFIX as RECORD_PREFIX
from flowc.datastore.storage import Storage, StorageError
from flowc.ir import FlowIR
from flowc.metadata import TaskAddress
from flowc.runtime.display import Console
from flowc.runtime.plan import Plan, PlanError
from flowc.runtime.records import EndRecorder, read_json
from flowc.task_runner.lifetime import become_subreaper, children, kill_descendants, reap
from flowc.task_runner.oom import MemoryState, memory_state, signal_reason
from flowc.task_runner.supervise import UNRECORDED_EXIT

if TYPE_CHECKING:
    from flowc.task_runner.spec import TaskSpec

__all__ = ["CONTROL_PREFIX", "EXIT_CAUSES", "Outcome", "Scheduler", "SchedulerConfig", "task_spec"]

#: The last stdout line of a task: ``FLOWC_CONTROL <json>`` (docs/architecture.md, control record).
CONTROL_PREFIX = f"{RECORD_PREFIX} ".encode()

#: Task runner exit codes (docs/architecture.md, "Task runner command line").
EXIT_CAUSES: Mapping[int, str] = {
    1: "the step raised an exception",
    2: "bad input (parameters or command line)",
    3: "infrastructure error (datastore unreachable or corrupt object)",
    4: "killed by its @timeout",
}

#: Signals that stop the run (SIGHUP: the terminal or SSH session went away): its tasks are stopped
#: and the run ends ``killed``, its status recorded.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: How long stopped tasks get between SIGTERM and SIGKILL.
STOP_GRACE_SECONDS = 5.0

#: What the runtime keeps of each running task's output per stream (the latest bytes), to store
#: as the attempt's log if the task is killed before it stores its own.
KEPT_OUTPUT_BYTES = 8 << 20


@dataclass(frozen=True)
class SchedulerConfig:
    """Everything the loop needs besides the plan: where, how wide, how tasks are started."""

    ir: FlowIR
    flow_path: str
    storage: Storage
    run_id: str
    executor: Any  # ForkExecutor | SubprocessExecutor
    console: Console
    max_workers: int = 1
    tags: tuple[str, ...] = ()
    params_file: str | None = None
    timeout_grace: float = 10.0
    env: Mapping[str, str] | None = None
    # steps with a @pypi environment: started as processes with these variables (flowc/environments)
    step_environments: Mapping[str, Any] = field(default_factory=dict)
    step_executor: Any = None  # the SubprocessExecutor those steps use


@dataclass(frozen=True)
class Outcome:
    """How the run ended: ``successful``, ``failed`` or ``killed``, and why."""

    status: str
    reason: str | None = None
    failed_task: str | None = None
    failed_step: str | None = None
    tasks_run: int = 0
    tasks_cloned: int = 0
    task_counts: Mapping[str, int] = field(default_factory=dict)  # step -> successful tasks


class _Tail:
    """The latest :data:`KEPT_OUTPUT_BYTES` of a stream, as chunks (never copied as a whole)."""

    def __init__(self) -> None:
        self.chunks: deque[bytes] = deque()
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        self.size += len(chunk)
        while self.size - len(self.chunks[0]) >= KEPT_OUTPUT_BYTES:
            self.size -= len(self.chunks.popleft())

    def data(self) -> bytes:
        return b"".join(self.chunks)


@dataclass
class _Running:
    key: TaskAddress
    attempt: int
    pid: int
    fds: dict[int, str]  # open fd -> "stdout" | "stderr"
    started: float
    deadline: float | None
    partial: dict[int, bytearray] = field(default_factory=dict)  # fd -> the line read so far
    stderr_tail: deque[str] = field(default_factory=lambda: deque(maxlen=15))
    output: dict[str, _Tail] = field(default_factory=lambda: {"stdout": _Tail(), "stderr": _Tail()})
    control: dict[str, Any] | None = None
    wait_status: int | None = None
    kill_reason: str | None = None
    memory: MemoryState | None = None  # its memory cgroup when it started (an OOM kill tells there)


def task_spec(config: SchedulerConfig, key: TaskAddress, attempt: int) -> TaskSpec:
    """The task runner's input for one attempt (its argv is short: no lists of ids, no values)."""
    from flowc.task_runner.spec import TaskSpec

    return TaskSpec(
        address=key,
        attempt=attempt,
        source=config.flow_path,
        datastore=config.storage.url,
        params_file=config.params_file if key.step == "start" else None,
        tags=tuple(config.tags),
    )


class Scheduler:
    """Runs one run's tasks to the end. Use once: ``outcome = Scheduler(config).run()``.

    Args:
        config: the run and how to start its tasks.
        clone: for resume: ``clone(key) -> control record`` copies an earlier run's successful task
            into this run and returns its control record, or returns None when the task must run.
    """

    def __init__(
        self, config: SchedulerConfig, clone: Callable[[TaskAddress], dict[str, Any] | None] | None = None
    ) -> None:
        self.config = config
        self.plan = Plan(config.ir, config.run_id)
        self._clone = clone
        self._ready: deque[tuple[TaskAddress, int]] = deque()
        self._running: dict[int, _Running] = {}
        self._by_fd: dict[int, _Running] = {}
        self._selector = selectors.DefaultSelector()
        self._failure: tuple[str, str, str] | None = None  # (task pathspec, step, reason)
        self._stop_signal: int | None = None
        self._stop_deadline: float | None = None
        self._tasks_run = 0
        self._tasks_cloned = 0
        self._task_counts: dict[str, int] = {}
        self._poll_seconds = 0.25
        self._subreaper = False
        self._records = EndRecorder(config.storage)
        self._foreign_children: frozenset[int] = frozenset()
        self._next_orphan_check = 0.0
        self.console = config.console
        self.console.open(f"{config.ir.name}/{config.run_id}", len(config.ir.steps))

    # ---- public --------------------------------------------------------------------------
    def run(self) -> Outcome:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        self._selector.register(wake_r, selectors.EVENT_READ, None)
        # Orphans of tasks (what escaped a supervisor killed with SIGKILL) become our children;
        # children this process already had are not the run's. (A process embedding the runtime
        # must not start children of its own on other threads while a run is under way: they
        # would be taken for orphans of tasks and killed.)
        self._subreaper = become_subreaper()
        self._foreign_children = frozenset(children())
        previous = self._install_signals(wake_w)
        # Without signals (not the main thread) nothing wakes the loop when a child exits: poll.
        self._poll_seconds = 0.25 if -1 in previous else 0.01
        try:
            self._enqueue(self.plan.first())
            self._loop()
        finally:
            if self._subreaper:
                kill_descendants(keep=self._foreign_children)
                become_subreaper(False)
            self._records.close()
            self._restore_signals(previous)
            self._selector.unregister(wake_r)
            os.close(wake_r)
            os.close(wake_w)
            self._selector.close()
            self.console.close()
        return self._outcome()

    # ---- the loop ------------------------------------------------------------------------
    def _loop(self) -> None:
        while True:
            now = time.monotonic()
            if self._stop_signal is not None or self._failure is not None:
                self._stop_all(now)
            else:
                self._start_ready()
            if not self._running and (
                self._stop_signal is not None or self._failure is not None or not self._ready
            ):
                return
            for selector_key, _ in self._selector.select(self._select_timeout(now)):
                if selector_key.data is None:
                    _drain(selector_key.fd)
                else:
                    self._read(selector_key.data, selector_key.fd)
            self._reap()
            self._kill_orphans(time.monotonic())
            self._enforce_timeouts(time.monotonic())
            self.console.refresh()

    def _select_timeout(self, now: float) -> float:
        timeout = self._poll_seconds
        if self._ready and len(self._running) < self.config.max_workers and self._can_start():
            timeout = 0.0
        return timeout

    def _can_start(self) -> bool:
        return self._stop_signal is None and self._failure is None

    def _enqueue(self, keys: Sequence[TaskAddress]) -> None:
        for key in keys:
            self._ready.append((key, 0))

    def _start_ready(self) -> None:
        while self._ready and len(self._running) < self.config.max_workers and self._can_start():
            key, attempt = self._ready.popleft()
            if attempt == 0 and self._clone is not None:
                try:
                    control = self._clone(key)
                except Exception as exc:  # a broken origin run must not leave the run hanging
                    self._fail(key, f"could not clone from the origin run: {exc}")
                    return
                if control is not None:
                    self._tasks_cloned += 1
                    self.console.progress.cloned += 1
                    self._succeeded(key, control)
                    continue
            self._start(key, attempt)

    def _start(self, key: TaskAddress, attempt: int) -> None:
        config = self.config
        spec = task_spec(config, key, attempt)
        open_fds = list(self._by_fd)
        environment = config.step_environments.get(key.step)
        if environment is None:
            child = config.executor.start(spec, dict(config.env) if config.env else None, open_fds)
        else:  # forked if none of its modules is loaded here (flowc/environments/local.py)
            env = {**(config.env or {}), **environment.variables}
            forkable = config.executor.name == "fork" and environment.forkable(sys.modules)
            child = (config.executor if forkable else config.step_executor).start(spec, env, open_fds)
        step = config.ir.step(key.step)
        started = time.monotonic()
        deadline = started + step.timeout.seconds + config.timeout_grace if step.timeout else None
        running = _Running(
            key, attempt, child.pid, {child.stdout_fd: "stdout", child.stderr_fd: "stderr"}, started, deadline
        )
        running.memory = memory_state(child.pid)
        self._running[child.pid] = running
        for fd in running.fds:
            os.set_blocking(fd, False)
            self._by_fd[fd] = running
            self._selector.register(fd, selectors.EVENT_READ, running)
        self._tasks_run += 1
        self.console.progress.started(key.step)
        if attempt or not self.console.live:
            self.console.event(f"[{key.pathspec}] task starting (attempt {attempt}, pid {child.pid})")

    # ---- output --------------------------------------------------------------------------
    def _read(self, running: _Running, fd: int) -> bool:
        """Reads one chunk; False when nothing more is there for now (or the pipe closed)."""
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return False
        except OSError:
            chunk = b""
        if not chunk:
            self._close_fd(running, fd)
            return False
        running.output[running.fds[fd]].add(chunk)
        # Only the new chunk is searched and split; a line longer than a chunk grows in place
        # (appending to a bytearray is amortised linear: joining it to every chunk was quadratic).
        first_end = chunk.find(b"\n")
        if first_end < 0:
            running.partial.setdefault(fd, bytearray()).extend(chunk)
            return True
        stream = running.fds[fd]
        head = running.partial.pop(fd, None)
        if head is not None:
            head += chunk[:first_end]
            self._line(running, stream, head)  # a bytearray: no copy of a long line
        else:
            self._line(running, stream, chunk[:first_end])
        *lines, rest = chunk[first_end + 1 :].split(b"\n")
        for line in lines:
            self._line(running, stream, line)
        if rest:
            running.partial[fd] = bytearray(rest)
        return True

    def _line(self, running: _Running, stream: str, line: bytes | bytearray) -> None:
        if stream == "stdout" and CONTROL_PREFIX in line:
            # Also when the step's own last output had no newline: "...textFLOWC_CONTROL {...}".
            text, _, control = line.rpartition(CONTROL_PREFIX)
            if control.startswith(b"{") and control.rstrip().endswith(b"}"):
                with contextlib.suppress(ValueError):
                    running.control = json.loads(control)
                if text:
                    self._line(running, stream, text)
                return
        text = line.decode("utf-8", errors="replace").rstrip("\r")
        if stream == "stderr":
            running.stderr_tail.append(text)
        self.console.task_output(running.key.pathspec, stream, text)

    def _close_fd(self, running: _Running, fd: int) -> None:
        rest = running.partial.pop(fd, None)
        stream = running.fds.pop(fd)
        if rest:
            self._line(running, stream, rest)
        self._selector.unregister(fd)
        del self._by_fd[fd]
        os.close(fd)

    # ---- exits ---------------------------------------------------------------------------
    def _reap(self) -> None:
        for pid, running in list(self._running.items()):
            if running.wait_status is None:
                # Never blocks: SIGCHLD wakes the loop (through the wake-up pipe) when a child exits.
                try:
                    waited, status = os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    waited, status = pid, 0
                if waited == 0:
                    continue
                running.wait_status = status
            # A grandchild may hold the pipes open: read what is there, then stop listening.
            for fd in list(running.fds):
                while self._read(running, fd):
                    pass
                if fd in running.fds:
                    self._close_fd(running, fd)
            del self._running[pid]
            # Whatever the task started and left behind (its process group) goes with it: no orphans.
            _kill_group(pid, signal.SIGKILL, group_only=True)
            self._exited(running)

    def _kill_orphans(self, now: float) -> None:
        """SIGKILLs (and reaps) our children that are no task: orphans of ended tasks (a running
        task's supervisor is their subreaper while it lives). At most every 0.2 s."""
        if not self._subreaper or now < self._next_orphan_check:
            return
        self._next_orphan_check = now + 0.2
        orphans = [
            pid for pid in children() if pid not in self._running and pid not in self._foreign_children
        ]
        for pid in orphans:
            _kill_group(pid, signal.SIGKILL)
        reap(orphans)

    def _exited(self, running: _Running) -> None:
        key = running.key
        code = os.waitstatus_to_exitcode(running.wait_status or 0)
        recorded = None
        if code == 0 and running.kill_reason is None:
            # Exit 0 is not enough: a step may end its process before its task is recorded.
            recorded = self._recorded_control(key, running.control)
            if recorded is not None:
                self._ended(running, ok=True)
                self._succeeded(key, recorded)
                return
        self._ended(running, ok=False)
        cause = UNRECORDED_EXIT if code == 0 and running.kill_reason is None else self._cause(running, code)
        # The task runner could not record its own end (killed, or exited unrecorded): say why in
        # its attempt record; and if it was killed before storing its logs, store what it printed,
        # so `flowc logs` shows where it stopped. Off the loop, on a short retry budget.
        self._records.attempt_ended(
            key,
            running.attempt,
            cause if code <= 0 or running.kill_reason else None,
            {stream: tail.data() for stream, tail in running.output.items()},
        )
        if self._stop_signal is not None or self._failure is not None:
            return  # stopped on purpose: the run's own reason says why
        step = self.config.ir.step(key.step)
        retries = engine_retries(step)
        if code != 2 and running.attempt < retries:
            # Like Metaflow's local runtime, `flowc run` retries at once: minutes_between_retries
            # spaces attempts on the engines (flowc.attempts), not on a developer's machine.
            self.console.event(
                f"[{key.pathspec}] attempt {running.attempt} failed ({cause}); "
                f"retrying ({retries - running.attempt} attempt(s) left)",
                error=True,
            )
            self._ready.appendleft((key, running.attempt + 1))
            return
        self._fail(key, cause)

    def _cause(self, running: _Running, code: int) -> str:
        if running.kill_reason:
            return running.kill_reason
        if code < 0:  # the tasks share the runtime's memory cgroup: its counters say if it was the OOM killer
            return signal_reason(-code, running.memory, memory_state())
        cause = EXIT_CAUSES.get(code, f"the task exited with code {code}")
        lines = [line.strip() for line in running.stderr_tail if line.strip()]
        # The task runner's own last word: "flowc: task <pathspec> (attempt n) failed: <cause>".
        for line in reversed(lines):
            if line.startswith("flowc: task ") and " failed: " in line:
                return line.split(" failed: ", 1)[1]
        return f"{cause}: {lines[-1]}" if lines and code in (1, 2, 3) else cause

    def _recorded_control(self, key: TaskAddress, printed: dict[str, Any] | None) -> dict[str, Any] | None:
        """The control record of a task whose record (``task.json``) is stored, else None."""
        task_key = key.task_key
        storage = self._records.storage  # a short retry budget: Ctrl-C must not wait for a dead datastore
        try:
            if printed is not None:
                return printed if storage.exists(task_key) else None
            record = read_json(storage, task_key)
        except StorageError:
            return None
        return None if record is None else dict(record.get("control") or {})

    def _succeeded(self, key: TaskAddress, control: Mapping[str, Any] | None) -> None:
        self._task_counts[key.step] = self._task_counts.get(key.step, 0) + 1
        try:
            self._enqueue(self.plan.complete(key, control))
        except PlanError as exc:
            self._fail(key, str(exc))

    def _ended(self, running: _Running, ok: bool) -> None:
        self.console.progress.ended(running.key.step, ok)
        if ok and not self.console.live:
            seconds = time.monotonic() - running.started
            self.console.event(f"[{running.key.pathspec}] task finished ({seconds:.2f} s)")

    def _fail(self, key: TaskAddress, reason: str) -> None:
        if self._failure is None:
            self._failure = (key.pathspec, key.step, reason)
            self.console.event(f"[{key.pathspec}] failed: {reason}", error=True)
            if self._running:
                self.console.event(f"stopping {len(self._running)} running task(s)", error=True)

    # ---- timeouts and stopping -----------------------------------------------------------
    def _enforce_timeouts(self, now: float) -> None:
        for running in self._running.values():
            if running.deadline is not None and now > running.deadline and running.kill_reason is None:
                limit = self.config.ir.step(running.key.step).timeout
                seconds = limit.seconds if limit else 0
                running.kill_reason = (
                    f"exceeded its @timeout of {seconds} s (killed by the runtime "
                    f"{self.config.timeout_grace:g} s later)"
                )
                _kill_group(running.pid, signal.SIGKILL)

    def _stop_all(self, now: float) -> None:
        if self._stop_deadline is None:
            self._stop_deadline = now + STOP_GRACE_SECONDS
            if self._stop_signal is not None:
                self._records.hurry()
            for running in self._running.values():
                running.kill_reason = running.kill_reason or "stopped by the runtime"
                _kill_group(running.pid, signal.SIGTERM)
        elif now > self._stop_deadline:
            for running in self._running.values():
                _kill_group(running.pid, signal.SIGKILL)

    def _install_signals(self, wake_w: int) -> dict[int, Any]:
        previous: dict[int, Any] = {}

        def handler(signum: int, frame: Any) -> None:
            if self._stop_signal is None:
                self._stop_signal = signum

        try:
            for signum in STOP_SIGNALS:
                previous[signum] = signal.signal(signum, handler)
            # A no-op handler, so that a child's exit writes to the wake-up pipe and ends select().
            previous[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        except ValueError:  # not the main thread: signals stay with whoever owns them
            return previous
        previous[-1] = signal.set_wakeup_fd(wake_w)
        return previous

    def _restore_signals(self, previous: dict[int, Any]) -> None:
        if -1 in previous:
            signal.set_wakeup_fd(previous.pop(-1))
        for signum, old in previous.items():
            signal.signal(signum, old)

    # ---- result --------------------------------------------------------------------------
    def _outcome(self) -> Outcome:
        counts = {
            "tasks_run": self._tasks_run,
            "tasks_cloned": self._tasks_cloned,
            "task_counts": dict(self._task_counts),
        }
        if self._stop_signal is not None:
            name = signal.Signals(self._stop_signal).name
            return Outcome("killed", f"the runtime received {name}", **counts)
        if self._failure is not None:
            task, step, reason = self._failure
            return Outcome("failed", reason, failed_task=task, failed_step=step, **counts)
        if not self.plan.finished:
            waiting = "; ".join(self.plan.pending_joins()) or "nothing"
            return Outcome(
                "failed", f"the run stalled before its end step (joins waiting: {waiting})", **counts
            )
        return Outcome("successful", **counts)


def _kill_group(pid: int, signum: int, group_only: bool = False) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        if not group_only:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


def _drain(fd: int) -> None:
    with contextlib.suppress(BlockingIOError, OSError):
        while os.read(fd, 4096):
            pass
