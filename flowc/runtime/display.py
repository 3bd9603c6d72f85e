"""What the runtime prints: task output prefixed with its pathspec, runtime events, live progress.

On a terminal a one-line progress display (steps, tasks done / running / failed, elapsed time)
stays below the scrolling log lines, redrawn at most ten times a second. Elsewhere (a pipe, a file,
CI) only plain lines are printed, each with its prefix, so logs stay greppable.
"""

from __future__ import annotations

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
            self.out.write(_CLEAR_LINE)
            self._status_shown = False
            if stream is not self.out:
                self.out.flush()
        stream.write(text)
        if not self.live:
            stream.flush()
        else:
            self.refresh(force=True)

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
        self.out.write(_CLEAR_LINE + text[: _width() - 1])
        self.out.flush()
        self._status_shown = True

    def close(self) -> None:
        """Ends the progress display (later lines print plainly)."""
        self._active = False
        if self._status_shown:
            self.out.write(_CLEAR_LINE)
            self._status_shown = False
        self.out.flush()
        self.err.flush()


def _width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 20)).columns
