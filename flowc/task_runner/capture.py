"""Per-attempt logs: what the task prints is stored *and* still reaches the process's own output.

File descriptors 1 and 2 are redirected to pipes for the duration of the step; one thread per
stream copies each chunk to the original descriptor (so an engine's log viewer, or the local
runtime's console, shows it live) and keeps a copy for ``attempt-<n>.stdout``/``.stderr``. Working
at the descriptor level also captures subprocesses and C extensions, not only ``print``.
"""

from __future__ import annotations

import os
import sys
import threading
from types import TracebackType

__all__ = ["OutputCapture"]

# A process the step started and left running keeps the pipe open; wait this long, then move on.
_DRAIN_SECONDS = 2.0


class _Tee:
    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.chunks: list[bytes] = []
        self.saved = os.dup(fd)
        read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        self._read_end = read_end
        self._thread = threading.Thread(target=self._pump, name=f"flowc-tee-{fd}", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while True:
            try:
                chunk = os.read(self._read_end, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self.chunks.append(chunk)
            view = memoryview(chunk)
            while view:
                try:
                    written = os.write(self.saved, view)
                except OSError:  # nobody reads our output any more: keep capturing
                    break
                view = view[written:]
        os.close(self._read_end)

    def stop(self) -> None:
        os.dup2(self.saved, self.fd)  # closes our end of the pipe: the pump sees end of file
        self._thread.join(_DRAIN_SECONDS)
        if not self._thread.is_alive():
            os.close(self.saved)

    def data(self) -> bytes:
        return b"".join(self.chunks)


class OutputCapture:
    """Context manager capturing fds 1 and 2; afterwards ``stdout``/``stderr`` hold the bytes."""

    def __init__(self) -> None:
        self.stdout = b""
        self.stderr = b""
        self._tees: list[_Tee] = []

    def __enter__(self) -> OutputCapture:
        _flush()
        self._tees = [_Tee(1), _Tee(2)]
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        _flush()
        for tee in self._tees:
            tee.stop()
        self.stdout, self.stderr = (tee.data() for tee in self._tees)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
