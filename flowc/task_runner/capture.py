"""Per-attempt logs: what the task prints is stored *and* still reaches the process's own output.

File descriptors 1 and 2 are redirected to pipes for the duration of the step; one thread per
stream copies each chunk to the original descriptor (so an engine's log viewer, or the local
runtime's console, shows it live) and keeps a copy for ``attempt-<n>.stdout``/``.stderr``. Working
at the descriptor level also captures subprocesses and C extensions, not only ``print``.

A step that crashes its process (a segmentation fault in a C extension) kills the pump with it:
what it printed last may still sit unread in the pipe. So the supervisor
(:mod:`flowc.task_runner.supervise`) makes the pipes before it forks the task and hands them down
in :data:`PIPES_ENV`; it keeps their read ends and, once the task has ended, passes on whatever the
task's pump never read. Python's own buffers are line-buffered while capturing, so a printed line
reaches the pipe before the next statement runs (Metaflow runs its tasks with ``PYTHONUNBUFFERED``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from types import TracebackType

__all__ = ["PIPES_ENV", "OutputCapture", "hand_down", "make_pipes", "pass_on_unread"]

#: ``"pid:r1,w1,r2,w2"``: the pipes a supervisor made for fds 1 and 2 of the task it forked (pid).
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
        self.saved = os.dup(fd)
        self.read_end, write_end = pipe or os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)

    def forward(self, chunk: bytes) -> None:
        self.chunks.append(chunk)
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
        pipes = _given_pipes()
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
        for redirect in self._redirects.values():
            os.dup2(redirect.saved, redirect.fd)  # closes our write end: the pump sees end of file
        if self._thread is not None:
            self._last_read = time.monotonic()
            while self._thread.is_alive():
                self._thread.join(0.05)
                if not self._forwarding and time.monotonic() - self._last_read > _DRAIN_SECONDS:
                    break  # idle, held open by a process the step left running
            if not self._thread.is_alive():
                for redirect in self._redirects.values():
                    os.close(redirect.saved)
        empty = _Redirect.__new__(_Redirect)
        empty.chunks = []
        self.stdout, self.stderr = (b"".join(self._redirects.get(fd, empty).chunks) for fd in (1, 2))


def make_pipes() -> dict[int, tuple[int, int]]:
    """Pipes for fds 1 and 2 of a task about to be forked: ``{fd: (read end, write end)}``."""
    return {fd: os.pipe() for fd in (1, 2)}


def hand_down(pipes: dict[int, tuple[int, int]]) -> None:
    """In the forked task: its capture is to use ``pipes`` (read once, by the next capture)."""
    ends = ",".join(str(end) for fd in (1, 2) for end in pipes[fd])
    os.environ[PIPES_ENV] = f"{os.getpid()}:{ends}"


def _given_pipes() -> dict[int, tuple[int, int]]:
    text = os.environ.pop(PIPES_ENV, None)  # the step's own subprocesses do not inherit it
    if not text:
        return {}
    pid, _, ends = text.partition(":")
    if pid != str(os.getpid()):  # inherited by another process: not its descriptors
        return {}
    try:
        r1, w1, r2, w2 = (int(part) for part in ends.split(","))
    except ValueError:
        return {}
    return {1: (r1, w1), 2: (r2, w2)}


def pass_on_unread(pipes: dict[int, tuple[int, int]]) -> None:
    """In the supervisor, once the task has ended: writes what its capture never read to fds 1
    and 2, and closes the pipes. (Their write ends were closed after the fork.)"""
    import select

    for fd, (read_end, _) in pipes.items():
        try:
            while select.select([read_end], [], [], 0)[0]:
                chunk = os.read(read_end, 1 << 16)
                if not chunk:
                    break
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
        except OSError:  # nobody reads our output any more
            pass
        finally:
            os.close(read_end)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
