"""Live logs: while a remote task runs, what it printed so far is uploaded every few seconds.

A task an engine runs (``python -m flowc.task_runner`` outside the local runtime, which keeps its
tasks' output itself) starts :class:`LiveLogs` beside its :class:`~flowc.task_runner.capture.OutputCapture`.
Every :data:`UPLOAD_SECONDS`, each stream that printed something new since the last upload is
written whole to its log object (``attempt-<n>.stdout`` / ``.stderr``: one write per changed
stream), then the attempt record gets the new logs' SHA-256 (one write), so ``flowc logs
--follow`` and ``flowc trigger --wait`` can show it while the task runs, and a task that is
SIGKILLed or runs out of memory keeps what it printed up to its last upload. The task's own end
writes the complete logs and their checksums as before.

The log is written before its checksum: a reader that reads the record, then a log just
replaced, retries (:func:`flowc.metadata.read_log`); a task killed between the two writes has its
checksums set again from the stored logs by its supervisor (:func:`flowc.metadata.end_running_attempt`).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowc.datastore.storage import Storage
    from flowc.metadata import TaskAddress
    from flowc.task_runner.capture import OutputCapture

__all__ = ["UPLOAD_SECONDS", "LiveLogs"]

#: At most one upload per stream this often (and only when the stream printed something new).
UPLOAD_SECONDS = 3.0


class LiveLogs:
    """Uploads ``capture``'s output every ``seconds`` on a daemon thread, until :meth:`stop`."""

    def __init__(
        self,
        capture: OutputCapture,
        storage: Storage,
        address: TaskAddress,
        attempt: int,
        seconds: float = UPLOAD_SECONDS,
    ) -> None:
        self.capture = capture
        # A datastore that is down must not hold the task: one quick try, the next tick tries again.
        self.storage = storage.with_retry_budget(1.0)
        self.address = address
        self.attempt = attempt
        self.seconds = seconds
        self._sizes: dict[str, int] = {}
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="flowc-live-logs", daemon=True)

    def __enter__(self) -> LiveLogs:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stops uploading (the task's end writes the complete logs next)."""
        self._stopped.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stopped.wait(self.seconds):
            self.upload()

    def upload(self) -> None:
        """One tick: the streams that grew since the last upload, then their checksums."""
        from flowc import metadata
        from flowc.datastore.storage import StorageError

        changed = {
            stream: data
            for stream, data in self.capture.so_far().items()
            if len(data) > self._sizes.get(stream, 0)
        }
        if not changed:
            return
        try:
            checksums = {
                stream: metadata.write_log(self.storage, self.address, self.attempt, stream, data)
                for stream, data in changed.items()
            }
            metadata.add_log_checksums(self.storage, self.address, self.attempt, checksums)
        except StorageError:  # tried again at the next tick, and the task's end writes them all
            return
        for stream, data in changed.items():
            self._sizes[stream] = len(data)
