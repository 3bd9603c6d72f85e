"""Per-attempt logs: what the task prints is stored *and* still reaches the process's own output.

File descriptors 1 and 2 are redirected to pipes for the duration of the step; one thread
copies each chunk to the original descriptor (so an engine's log viewer, or the local
runtime's console, shows it live) and keeps a copy for ``attempt-<n>.stdout``/``.stderr``. Working
at the descriptor level also captures subprocesses and C extensions, not only ``print``.

A step that crashes its process (a segmentation fault in a C extension, a SIGKILL) kills a pump
running in it, and with it whatever the pump had read but not yet passed on. So under a supervisor
(:mod:`flowc.task_runner.supervise`, which outlives the task) the pump is the supervisor's
(:class:`SupervisorPump`): the task's fds 1 and 2 write straight into pipes the supervisor reads;
it copies each chunk back at once into a second pipe that the task's :class:`OutputCapture` reads
(for the logs the task stores, and live logs) and passes it on to its own fds 1 and 2. Everything
the task wrote before dying is in the supervisor and reaches its output, in order, whatever the
moment of the crash; on an engine the supervisor also stores it as the crashed attempt's logs.
Python's own buffers are line-buffered while capturing, so a printed line reaches the pipe before
the next statement runs (Metaflow runs its tasks with ``PYTHONUNBUFFERED``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from types import TracebackType

__all__ = ["PIPES_ENV", "OutputCapture", "SupervisorPump"]

#: ``"pid:r1,w1,r2,w2,e"``: for fds 1 and 2 of the task a supervisor forked (pid), the read end of
#: the copy the supervisor passes back and the write end of the pipe it reads; then the write end
#: on which the task's capture says it ended (:class:`SupervisorPump`).
PIPES_ENV = "FLOWC_CAPTURE_PIPES"

# A process the step started and left running keeps the pipe open: once nothing has come out of it
# for this long (and nothing is being passed on), move on. Output still coming is never cut: passing
# it on blocks while the reader (the local runtime, busy with many tasks) catches up.
_DRAIN_SECONDS = 2.0


class _Redirect:
    """One redirected descriptor: fd now writes into a pipe; ``saved`` is the original."""

    def __init__(self, fd: int, pipe: tuple[int, int] | None = None) -> None:
        self.fd = fd
        self.chunks: list[bytes] = []
        # Under a supervisor, the supervisor has passed the output on already: only keep the copy.
        self.echo = pipe is None
        self.saved = os.dup(fd)
        self.read_end, write_end = pipe or os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)

    def forward(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
        if not self.echo:
            return
        view = memoryview(chunk)
        while view:
            try:
                written = os.write(self.saved, view)
            except OSError:  # nobody reads our output any more: keep capturing
                return
            view = view[written:]


class OutputCapture:
    """Context manager capturing fds 1 and 2; afterwards ``stdout``/``stderr`` hold the bytes.

    One thread pumps both pipes (``select.poll``), so capturing costs a single thread per task.
    """

    def __init__(self) -> None:
        self.stdout = b""
        self.stderr = b""
        self._redirects: dict[int, _Redirect] = {}
        self._thread: threading.Thread | None = None
        self._last_read = time.monotonic()  # when the pump last read a chunk
        self._forwarding = False  # the pump is passing a chunk on (may block on a slow reader)

    def __enter__(self) -> OutputCapture:
        _flush()
        for stream in (sys.stdout, sys.stderr):  # a printed line reaches the pipe at once
            with contextlib.suppress(AttributeError, ValueError, OSError):  # replaced, or closed
                stream.reconfigure(line_buffering=True)  # type: ignore[union-attr]
        pipes, self._ended = _given_pipes()
        for fd in (1, 2):
            try:
                self._redirects[fd] = _Redirect(fd, pipes.get(fd))
            except OSError:  # no such descriptor (a daemonised worker): nothing to capture there
                continue
        if self._redirects:
            self._thread = threading.Thread(target=self._pump, name="flowc-output", daemon=True)
            self._thread.start()
        return self

    def so_far(self) -> dict[str, bytes]:
        """What each stream has printed until now (read while the step runs: live logs)."""
        return {
            stream: b"".join(list(self._redirects[fd].chunks)) if fd in self._redirects else b""
            for stream, fd in (("stdout", 1), ("stderr", 2))
        }

    def _pump(self) -> None:
        import select

        poller = select.poll()
        by_pipe = {redirect.read_end: redirect for redirect in self._redirects.values()}
        for pipe in by_pipe:
            poller.register(pipe, select.POLLIN)
        while by_pipe:
            for pipe, _ in poller.poll():
                chunk = os.read(pipe, 1 << 16)
                if chunk:
                    self._forwarding = True
                    by_pipe[pipe].forward(chunk)
                    self._forwarding = False
                    self._last_read = time.monotonic()
                else:  # every writer closed its end
                    poller.unregister(pipe)
                    os.close(pipe)
                    del by_pipe[pipe]

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        _flush()
        if self._ended is not None:  # everything written so far is in the pipes: tell the supervisor
            with contextlib.suppress(OSError):
                os.write(self._ended, b".")
            os.close(self._ended)
        for redirect in self._redirects.values():
            os.dup2(redirect.saved, redirect.fd)  # closes our write end: the pump sees end of file
        if self._thread is not None:
            self._last_read = time.monotonic()
            while self._thread.is_alive():
                self._thread.join(0.05)
                if self._ended is not None:
                    # The supervisor ends the copy once all of it is passed on (so what this process
                    # prints next comes after it), whatever the step left running.
                    continue
                if not self._forwarding and time.monotonic() - self._last_read > _DRAIN_SECONDS:
                    break  # idle, held open by a process the step left running
            if not self._thread.is_alive():
                for redirect in self._redirects.values():
                    os.close(redirect.saved)
        empty = _Redirect.__new__(_Redirect)
        empty.chunks = []
        self.stdout, self.stderr = (b"".join(self._redirects.get(fd, empty).chunks) for fd in (1, 2))


def _given_pipes() -> tuple[dict[int, tuple[int, int]], int | None]:
    """The pipes a supervisor handed down (:meth:`SupervisorPump.hand_down`) and the write end that
    tells it the capture ended; none when this process is not the task a supervisor forked."""
    text = os.environ.pop(PIPES_ENV, None)  # the step's own subprocesses do not inherit it
    if not text:
        return {}, None
    pid, _, ends = text.partition(":")
    if pid != str(os.getpid()):  # inherited by another process: not its descriptors
        return {}, None
    try:
        r1, w1, r2, w2, ended = (int(part) for part in ends.split(","))
    except ValueError:
        return {}, None
    return {1: (r1, w1), 2: (r2, w2)}, ended


class SupervisorPump:
    """In a task's supervisor: the pipes the task's fds 1 and 2 write into, and the threads that
    pass their output on (see the module docstring).

    One thread reads the task's pipes, keeps each chunk in order and copies it back to the task's
    capture at once; another passes the chunks on to this process's fds 1 and 2, as fast as
    whoever reads them (a busy local runtime) takes them. When the task's capture ends, it writes
    a byte to the ``ended`` pipe: what it wrote is all in the pipes by then, so once the reader has
    taken what is there, the writer ends the copies after passing that on. The capture ends then,
    and what the task prints afterwards (its control line) comes after all of its output.

    Use: create before the fork; in the child :meth:`hand_down`; in the parent :meth:`start`, and
    :meth:`finish` once the task and everything it started have ended.
    """

    def __init__(self, keep: bool = False) -> None:
        import queue

        self.keep = keep  # keep a copy here (an engine's task: stored if the task cannot store it)
        self.kept: dict[int, list[bytes]] = {1: [], 2: []}
        self._task = {fd: os.pipe() for fd in (1, 2)}  # the task writes, this process reads
        self._copy = {fd: os.pipe() for fd in (1, 2)}  # this process writes, the task's capture reads
        self._ended = os.pipe()  # the task's capture writes a byte when it ends
        self._outgoing: queue.SimpleQueue[tuple[int, bytes] | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._last_read = time.monotonic()

    def hand_down(self) -> None:
        """In the forked task: its capture is to use these pipes (read once, by the next capture)."""
        for fd in (1, 2):
            os.close(self._task[fd][0])
            os.close(self._copy[fd][1])
        os.close(self._ended[0])
        ends = ",".join(f"{self._copy[fd][0]},{self._task[fd][1]}" for fd in (1, 2))
        os.environ[PIPES_ENV] = f"{os.getpid()}:{ends},{self._ended[1]}"

    def start(self) -> None:
        """In the supervisor, after the fork: starts passing the task's output on."""
        for fd in (1, 2):
            os.close(self._task[fd][1])  # the pipe ends when the task and its children close it
            os.close(self._copy[fd][0])
        os.close(self._ended[1])
        self._threads = [
            threading.Thread(target=self._read, name="flowc-supervisor-read", daemon=True),
            threading.Thread(target=self._pass_on, name="flowc-supervisor-write", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def finish(self) -> dict[str, bytes]:
        """Waits until the task's pipes are drained (or idle: held open by a process that escaped)
        and everything read is passed on; returns what was kept of each stream."""
        if self._threads:
            reader, writer = self._threads
            self._last_read = time.monotonic()
            while reader.is_alive():
                reader.join(0.05)
                if time.monotonic() - self._last_read > _DRAIN_SECONDS:
                    self._outgoing.put(None)  # (the reader's own end-of-output mark never comes)
                    break
            writer.join()
        return {stream: b"".join(self.kept[fd]) for stream, fd in (("stdout", 1), ("stderr", 2))}

    def _read(self) -> None:
        import select
        import signal

        # A write to the copy of a task that died raises EPIPE here rather than killing the
        # supervisor (whose SIGPIPE is the default under the fork executor, as the task's is).
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPIPE})
        poller = select.poll()
        by_pipe = {self._task[fd][0]: fd for fd in (1, 2)}
        copies = {fd: self._copy[fd][1] for fd in (1, 2)}
        for pipe in (*by_pipe, self._ended[0]):
            poller.register(pipe, select.POLLIN)
        while by_pipe:
            events = poller.poll()
            if any(pipe == self._ended[0] for pipe, _ in events):  # the task's capture ended
                poller.unregister(self._ended[0])
                os.close(self._ended[0])
                # What it wrote before is in the pipes (at most their size: a pipe holds 1 MiB at
                # most by default): take that, not what a process the step left running adds.
                budget = 1 << 20
                while budget > 0 and (ready := select.select(list(by_pipe), [], [], 0)[0]):
                    for pipe in ready:
                        budget -= self._take(poller, by_pipe, copies, pipe)
                for fd in list(copies):
                    self._outgoing.put((fd, None))  # its copy ends once what came before is passed on
                    del copies[fd]
                continue
            for pipe, _ in events:
                if pipe in by_pipe:
                    self._take(poller, by_pipe, copies, pipe)
        self._outgoing.put(None)

    def _take(self, poller: object, by_pipe: dict[int, int], copies: dict[int, int], pipe: int) -> int:
        """Reads one chunk of the task's ``pipe``: kept, copied back to the task, queued to pass on;
        returns its size (1 at the end of the pipe)."""
        fd = by_pipe[pipe]
        chunk = os.read(pipe, 1 << 16)
        self._last_read = time.monotonic()
        if not chunk:  # the task and everything it started closed it
            poller.unregister(pipe)  # type: ignore[attr-defined]
            os.close(pipe)
            del by_pipe[pipe]
            if fd in copies:
                self._outgoing.put((fd, None))
                del copies[fd]
            return 1
        self._outgoing.put((fd, chunk))  # in this process from now on: a crash cannot lose it
        if self.keep:
            self.kept[fd].append(chunk)
        if fd in copies and not _write_whole(self._copy[fd][1], chunk):  # the task's capture is gone
            del copies[fd]
        return len(chunk)

    def _pass_on(self) -> None:
        import signal

        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGPIPE})  # nobody reads us: EPIPE, ignored
        open_copies = {1, 2}
        while (item := self._outgoing.get()) is not None:
            fd, chunk = item
            if chunk is None:  # the task's copy of fd ends here
                if fd in open_copies:
                    open_copies.discard(fd)
                    os.close(self._copy[fd][1])
            else:
                _write_whole(fd, chunk)
        for fd in open_copies:
            os.close(self._copy[fd][1])


def _write_whole(fd: int, chunk: bytes) -> bool:
    """Writes all of ``chunk`` to ``fd``; False if it cannot be written (nobody reads it any more)."""
    view = memoryview(chunk)
    try:
        while view:
            view = view[os.write(fd, view) :]
    except OSError:
        return False
    return True


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
