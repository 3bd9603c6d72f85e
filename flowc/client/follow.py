"""Following logs as they grow: ``flowc logs --follow`` and ``flowc trigger --wait``.

Tasks an engine runs upload what they print every few seconds (:mod:`flowc.task_runner.live_logs`);
the local runtime stores its tasks' logs when they end. :class:`LogFollower` reads the logs of one
task, or of every task of a run, each time :meth:`LogFollower.poll` is called, and prints the
complete lines that are new since the last call (a line still being written waits for its end,
or for the attempt's end). Lines of several tasks carry ``[step/task_id]`` in front; a new attempt
of a task starts with a line saying so.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from flowc.datastore.storage import Storage
    from flowc.metadata import TaskAddress

__all__ = ["LogFollower"]

_STREAMS = ("stdout", "stderr")


@dataclass
class _Attempt:
    """What has been printed of one attempt's streams (bytes), and whether it is complete."""

    printed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_STREAMS, 0))
    done: bool = False


class LogFollower:
    """Prints new log lines of ``task`` (``step/task_id``), of every task of a step (``step``), or
    of every task of the run (None).

    ``out`` receives stdout's lines and ``err`` stderr's (both ``out`` for one stream's callers).
    """

    def __init__(
        self,
        storage: Storage,
        flow: str,
        run_id: str,
        task: str | None = None,
        *,
        streams: tuple[str, ...] = _STREAMS,
        out: TextIO | None = None,
        err: TextIO | None = None,
    ) -> None:
        self.storage = storage
        self.flow = flow
        self.run_id = run_id
        self.task = task
        self.streams = streams
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._attempts: dict[tuple[str, int], _Attempt] = {}

    def poll(self) -> bool:
        """Prints what is new; True once the followed task succeeded, or the run has ended."""
        from flowc import metadata

        for address, attempt in self._latest_attempts():
            key = (f"{address.step}/{address.task_id}", attempt)
            seen = self._attempts.get(key)
            if seen is None:
                seen = self._attempts[key] = _Attempt()
                if attempt > 0:
                    self._write(self.err, key[0], f"--- attempt {attempt}\n")
            if seen.done:
                continue
            record = metadata.read_attempt(self.storage, address, attempt) or {}
            ended = record.get("status") not in (None, "running")
            for stream in self.streams:
                data = metadata.read_log(self.storage, address, attempt, stream)
                new = data[seen.printed[stream] :]
                if not ended:  # a line still being written waits for the rest of it
                    new = new[: new.rfind(b"\n") + 1]
                if new:
                    seen.printed[stream] += len(new)
                    target = self.out if stream == "stdout" or self.streams != _STREAMS else self.err
                    self._write(target, key[0], new.decode("utf-8", errors="replace"))
            seen.done = ended
        return self._over()

    def _write(self, target: TextIO, task: str, text: str) -> None:
        if self.task is None or "/" not in self.task:  # several tasks: say whose line it is
            lines = text.splitlines(keepends=True)
            text = "".join(f"[{task}] {line}" for line in lines)
        if text and not text.endswith("\n"):
            text += "\n"
        target.write(text)
        target.flush()

    def _latest_attempts(self) -> list[tuple[TaskAddress, int]]:
        """(task, its latest attempt number) of each followed task that has started."""
        from flowc import metadata
        from flowc.datastore import layout

        prefix = layout.run_prefix(self.flow, self.run_id)
        latest: dict[TaskAddress, int] = {}
        for key in self.storage.list(prefix):
            parts = key[len(prefix) + 1 :].split("/")
            if len(parts) != 3 or not (parts[2].startswith("attempt-") and parts[2].endswith(".json")):
                continue
            number = parts[2][len("attempt-") : -len(".json")]
            if not number.isdigit() or self.task not in (None, parts[0], f"{parts[0]}/{parts[1]}"):
                continue
            try:
                address = metadata.TaskAddress.from_task_id(
                    flow=self.flow, run_id=self.run_id, task_id=parts[1]
                )
            except ValueError:  # a folder flowc did not write
                continue
            latest[address] = max(latest.get(address, -1), int(number))
        return list(latest.items())

    def _over(self) -> bool:
        from flowc import metadata
        from flowc.datastore import layout

        if self.storage.exists(layout.status_key(self.flow, self.run_id)):
            return all(seen.done for seen in self._attempts.values())
        if self.task is None or "/" not in self.task:
            return False
        try:
            task = metadata.TaskAddress.from_task_id(
                flow=self.flow, run_id=self.run_id, task_id=self.task.split("/")[1]
            )
        except ValueError:  # not a flowc task id: no such task will ever end
            return False
        return self.storage.exists(task.task_key) and all(seen.done for seen in self._attempts.values())


class RunLogStream:
    """What ``flowc trigger --wait`` calls between its polls of the engine: prints the run's new log
    lines on stderr (stdout keeps the lines scripts read: run ids, the final state). A datastore
    this machine cannot read is said once, then the wait goes on without logs."""

    def __init__(self, datastore: str, flow: str, run_id: str, err: TextIO | None = None) -> None:
        self.datastore = datastore
        self.flow = flow
        self.run_id = run_id
        self.err = err or sys.stderr
        self._follower: LogFollower | None = None
        self._broken = False

    def __call__(self) -> None:
        from flowc.datastore.storage import StorageError, open_storage

        if self._broken:
            return
        try:
            if self._follower is None:
                storage = open_storage(self.datastore)
                self._follower = LogFollower(storage, self.flow, self.run_id, out=self.err, err=self.err)
            self._follower.poll()
        except (StorageError, ValueError) as exc:
            self._broken = True
            print(f"flowc: cannot follow the run's logs in {self.datastore}: {exc}", file=self.err)
