"""Stored records say what happened, or fail loudly (issue 19 items 15 and 16).

- A task's logs carry a checksum (their SHA-256 in the attempt record, itself checksummed): a
  damaged log is an error naming it, through the client and ``flowc logs``, never altered text.
- An attempt recorded successful whose ``task.json`` could not then be written is corrected to
  failed, so the run's failure reason names the datastore error, not "attempt 0 ended successful".
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowc.client import Task
from flowc.datastore.local import LocalStorage
from flowc.metadata import CorruptRecord, TaskAddress, read_attempt, read_log, read_task
from flowc.task_runner.finish import outcome_from_datastore
from tests.task_runner.driver import FLOWS, REPO

CHATTY = """\
from flowc import FlowSpec, step


class ChattyFlow(FlowSpec):
    @step
    def start(self):
        print("the answer is 42")
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def _task(flow: Path, name: str, step: str, datastore: Path) -> subprocess.CompletedProcess[str]:
    argv = ["-m", "flowc.task_runner", "--flow", name, "--step", step, "--run-id", "r"]
    argv += ["--source", str(flow), "--datastore", str(datastore)]
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, check=False, cwd=REPO)


def test_a_damaged_log_is_an_error_never_altered_text(tmp_path: Path) -> None:
    flow, datastore = tmp_path / "chatty_flow.py", tmp_path / "ds"
    flow.write_text(CHATTY, encoding="utf-8")
    assert _task(flow, "ChattyFlow", "start", datastore).returncode == 0
    storage = LocalStorage(datastore)
    address = TaskAddress(flow="ChattyFlow", run_id="r", step="start")
    task = Task("ChattyFlow/r/start/start", datastore=str(datastore))
    assert "the answer is 42" in task.stdout
    assert read_attempt(storage, address, 0)["logs"]["stdout"]
    log = Path(storage.path(address.log_key(0, "stdout")))
    log.write_bytes(log.read_bytes().replace(b"42", b"43"))  # a flipped bit on disk

    with pytest.raises(CorruptRecord, match=r"attempt-0\.stdout.*corrupt"):
        read_log(storage, address, 0, "stdout")
    with pytest.raises(CorruptRecord, match="corrupt"):
        _ = Task("ChattyFlow/r/start/start", datastore=str(datastore)).stdout
    result = subprocess.run(
        [sys.executable, "-m", "flowc", "logs", "ChattyFlow/r/start/start", "--datastore", str(datastore)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0 and "43" not in result.stdout
    assert "corrupt" in result.stderr and "Traceback" not in result.stderr


def test_an_attempt_whose_task_record_cannot_be_written_is_recorded_failed(tmp_path: Path) -> None:
    datastore = tmp_path / "ds"
    # A folder where task.json goes: the attempt record is written, then task.json fails.
    (datastore / "runs" / "LinearFlow" / "r" / "start" / "start" / "task.json").mkdir(parents=True)
    result = _task(FLOWS / "linear_flow.py", "LinearFlow", "start", datastore)
    assert result.returncode == 3, result.stderr
    storage = LocalStorage(datastore)
    address = TaskAddress(flow="LinearFlow", run_id="r", step="start")
    attempt = read_attempt(storage, address, 0)
    assert attempt["status"] == "failed" and attempt["exit_code"] == 3
    assert "task.json" in attempt["exit_reason"]
    assert read_task(storage, address) is None
    status, reason = outcome_from_datastore(storage, "LinearFlow", "r")
    assert status == "failed"
    assert "ended successful" not in reason and "task.json" in reason
