"""Live logs (:mod:`flowc.task_runner.live_logs`): each upload writes only the streams that grew
since the last one, then their checksums once; nothing when nothing changed."""

from __future__ import annotations

from pathlib import Path

from flowc import metadata
from flowc.datastore.local import LocalStorage
from flowc.task_runner.live_logs import LiveLogs


class _CountingStorage(LocalStorage):
    """A local datastore that remembers the keys written, in order."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.written: list[str] = []

    def write(self, key, parts) -> None:
        self.written.append(key)
        super().write(key, parts)


class _Printed:
    """What a task printed so far, as OutputCapture.so_far gives it."""

    def __init__(self) -> None:
        self.streams = {"stdout": b"", "stderr": b""}

    def so_far(self) -> dict[str, bytes]:
        return dict(self.streams)


def test_an_upload_writes_the_streams_that_grew_then_their_checksums(tmp_path: Path) -> None:
    storage = _CountingStorage(str(tmp_path))
    address = metadata.TaskAddress(flow="F", run_id="argo-1", step="hold")
    metadata.claim_attempt(storage, address, 0)
    printed = _Printed()
    live = LiveLogs(printed, storage, address, 0)  # type: ignore[arg-type]
    attempt = address.attempt_key(0)

    storage.written.clear()
    live.upload()  # nothing printed yet: nothing written
    assert storage.written == []

    printed.streams["stdout"] = b"holding 0\n"
    live.upload()
    assert len(storage.written) == 2 and storage.written[-1] == attempt  # stdout's log, the record
    assert metadata.read_log(storage, address, 0, "stdout") == b"holding 0\n"
    assert set(metadata.read_attempt(storage, address, 0)["logs"]) == {"stdout"}

    storage.written.clear()
    live.upload()  # unchanged since: no write at all
    assert storage.written == []

    printed.streams["stderr"] = b"warning\n"
    live.upload()  # only stderr grew: stdout is not written again
    assert len(storage.written) == 2 and storage.written[-1] == attempt
    assert metadata.read_log(storage, address, 0, "stderr") == b"warning\n"
    assert set(metadata.read_attempt(storage, address, 0)["logs"]) == {"stdout", "stderr"}
