"""What the runtime prints: task output prefixed with its pathspec, runtime events, live progress.

On a terminal a one-line progress display (steps, tasks done / running / failed, elapsed time)
stays below the scrolling log lines, redrawn at most ten times a second. Elsewhere (a pipe, a file,
CI) only plain lines are printed, each with its prefix, so logs stay greppable.

A stream that can no longer be written (a closed pipe: ``flowc run ... | head``; a full disk:
``> /dev/full``; a terminal gone with its SSH session) never stops the run: it is pointed at
``/dev/null`` (so nothing, not even the interpreter's last flush, fails on it again), a note goes
to the other stream if that one still works, and the run goes on to record its status (every
task's output is in its logs: ``flowc logs``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

__all__ = ["Console", "Progress"]

_CLEAR_LINE = "\r\x1b[K"


@dataclass
class Progress:
    """Counts shown by the progress display."""

    done: int = 0
    failed: int = 0
    cloned: int = 0
    running: Counter[str] = field(default_factory=Counter)  # step -> running tasks
    steps_seen: set[str] = field(default_factory=set)
    total_steps: int = 0

    def started(self, step: str) -> None:
        self.running[step] += 1
        self.steps_seen.add(step)

    def ended(self, step: str, ok: bool) -> None:
        self.running[step] -= 1
        if self.running[step] <= 0:
            del self.running[step]
        if ok:
            self.done += 1
        else:
            self.failed += 1


class Console:
    """Writes the runtime's output to ``out`` / ``err`` (the process's streams by default)."""

    def __init__(
        self, out: TextIO | None = None, err: TextIO | None = None, live: bool | None = None
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.live = self.out.isatty() if live is None else live
        self.progress = Progress()
        self.started = time.monotonic()
        self.title = ""
        self._status_shown = False
        self._last_draw = 0.0
        self._active = False  # the status line shows only while the scheduler runs

    def open(self, title: str, total_steps: int) -> None:
        """Starts the progress display for a run."""
        self.title = title
        self.progress.total_steps = total_steps
        self.started = time.monotonic()
        self._active = True

    # ---- lines ---------------------------------------------------------------------------
    def task_output(self, pathspec: str, stream: str, text: str) -> None:
        """One line a task printed (``stream``: stdout or stderr)."""
        self._write(self.err if stream == "stderr" else self.out, f"[{pathspec}] {text}\n")

    def event(self, text: str, error: bool = False) -> None:
        """A message of the runtime itself."""
        self._write(self.err if error else self.out, f"{self._clock()} {text}\n")

    def _write(self, stream: TextIO, text: str) -> None:
        if self._status_shown:
            self._status_shown = False
            self._put(self.out, _CLEAR_LINE, flush=stream is not self.out)
        self._put(stream, text, flush=not self.live)
        if self.live:
            self.refresh(force=True)

    def _put(self, stream: TextIO, text: str, flush: bool = True) -> None:
        try:
            if len(text) > _LARGE_WRITE and hasattr(stream, "buffer"):
                _write_whole(stream, text)
            else:
                stream.write(text)
            if flush:
                stream.flush()
        except (OSError, ValueError) as exc:
            self._lost(stream, exc)

    def _lost(self, stream: TextIO, exc: BaseException) -> None:
        """``stream`` cannot be written any more: from now on it writes to /dev/null (see the
        module docstring), and the other stream says so once."""
        try:
            fd = stream.fileno()
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, fd)
            os.close(null)
        except (OSError, ValueError, AttributeError):  # no descriptor (a StringIO): drop it
            null_stream = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the console
            if stream is self.out:
                self.out = null_stream
            else:
                self.err = null_stream
        with contextlib.suppress(OSError, ValueError):
            stream.flush()  # what was buffered goes to /dev/null now
        self.live = False
        other = self.err if stream is self.out else self.out
        name = "standard output" if stream is self.out else "standard error"
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        with contextlib.suppress(OSError, ValueError):
            other.write(
                f"flowc: the {name} can no longer be written ({why}); the run goes on, "
                "its tasks' output is in their logs (flowc logs)\n"
            )
            other.flush()

    def _clock(self) -> str:
        return time.strftime("%H:%M:%S")

    # ---- progress ------------------------------------------------------------------------
    def status_text(self) -> str:
        p = self.progress
        elapsed = time.monotonic() - self.started
        running = sum(p.running.values())
        steps = ", ".join(f"{name}({count})" for name, count in sorted(p.running.items()))
        cloned = f", {p.cloned} cloned" if p.cloned else ""
        return (
            f"{self.title}  steps {len(p.steps_seen)}/{p.total_steps}  tasks: {p.done} done{cloned}, "
            f"{running} running, {p.failed} failed  {elapsed:.1f}s" + (f"  [{steps}]" if steps else "")
        )

    def refresh(self, force: bool = False) -> None:
        """Redraws the progress line (terminal only; at most every 0.1 s unless forced)."""
        if not self.live or not self._active:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        text = self.status_text()
        self._put(self.out, _CLEAR_LINE + text[: _width() - 1])
        self._status_shown = self.live

    def close(self) -> None:
        """Ends the progress display (later lines print plainly)."""
        self._active = False
        if self._status_shown:
            self._status_shown = False
            self._put(self.out, _CLEAR_LINE, flush=False)
        self._put(self.out, "")
        self._put(self.err, "")


#: Text longer than this is written through :func:`_write_whole`.
_LARGE_WRITE = 1 << 15


def _write_whole(stream: TextIO, text: str) -> None:
    """Writes all of ``text``. A buffered writer interrupted by a signal (the runtime gets SIGCHLD
    whenever a task ends) returns how much it wrote, which ``TextIOWrapper.write`` ignores: the
    rest of a long line written to a pipe was silently lost. Here each partial write is continued."""
    stream.flush()
    data = memoryview(text.encode(stream.encoding or "utf-8", errors=stream.errors or "strict"))
    buffer = stream.buffer  # type: ignore[attr-defined]
    while data:
        written = buffer.write(data)
        data = data[written if written is not None else 0 :]
    buffer.flush()


def _width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 20)).columns
