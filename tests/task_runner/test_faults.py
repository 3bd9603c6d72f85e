"""Faults run for real: a task SIGKILLed mid-write, a corrupted object, nothing stored is altered."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flowc.datastore import layout
from flowc.datastore.local import TEMP_FOLDER, TEMP_PREFIX, LocalStorage
from flowc.metadata import TaskAddress, list_attempts, read_attempt, read_task
from tests.task_runner.driver import FLOWS, REPO

#: The middle task of LinearFlow's run ``r``, which the corruption tests expect left unrecorded.
MIDDLE = TaskAddress(flow="LinearFlow", run_id="r", step="middle")


def snapshot_objects(root: Path) -> dict[str, bytes]:
    """Every visible object's bytes; asserts each one hashes to its name."""
    found = {}
    for path in sorted((root / "objects").rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            data = path.read_bytes()
            assert hashlib.sha256(data).hexdigest() == path.name, f"{path} does not match its hash"
            found[path.name] = data
    return found


def start_task(flow: Path, name: str, step: str, datastore: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "flowc.task_runner", "--flow", name, "--step", step, "--run-id", "r",
         "--source", str(flow), "--datastore", str(datastore)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
    )


@pytest.mark.slow
def test_sigkill_mid_write_leaves_no_partial_object_and_no_task_record(tmp_path):
    flow = tmp_path / "big_flow.py"
    flow.write_text(
        "from flowc import FlowSpec, step\n\n"
        "class BigFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.small = 'kept'\n        self.next(self.big)\n\n"
        "    @step\n    def big(self):\n        self.blob = b'\\1' * (256 << 20)\n"
        "        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    datastore = tmp_path / "ds"
    first = start_task(flow, "BigFlow", "start", datastore)
    assert first.wait(60) == 0
    before = snapshot_objects(datastore)
    task = start_task(flow, "BigFlow", "big", datastore)
    temp_folder = datastore / TEMP_FOLDER
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until the big object is being written
        partial = [p for p in temp_folder.glob("*")] if temp_folder.exists() else []
        if any(p.stat().st_size > (4 << 20) for p in partial if p.exists()):
            break
        time.sleep(0.002)
    else:
        pytest.fail("the task never started writing its artifact")
    task.send_signal(signal.SIGKILL)
    assert task.wait(30) == -signal.SIGKILL
    storage = LocalStorage(datastore)
    address = TaskAddress(flow="BigFlow", run_id="r", step="big")
    assert read_task(storage, address) is None
    assert read_attempt(storage, address, 0)["status"] == "running"  # the launcher records the kill
    after = snapshot_objects(datastore)  # every visible object is whole
    assert {sha: before[sha] for sha in before} == {sha: after[sha] for sha in before}
    assert set(after) == set(before)
    assert all(not key.startswith(".") for key in storage.list("objects"))
    # the next attempt claims attempt 1 and succeeds
    retry = start_task(flow, "BigFlow", "big", datastore)
    assert retry.wait(120) == 0, retry.stderr.read().decode()
    assert list_attempts(storage, address) == [0, 1] and read_task(storage, address)["attempt"] == 1


def test_corrupt_object_is_a_clear_error_exit_3(tmp_path):
    datastore = tmp_path / "ds"
    flow = FLOWS / "linear_flow.py"
    assert start_task(flow, "LinearFlow", "start", datastore).wait(60) == 0
    storage = LocalStorage(datastore)
    address = TaskAddress(flow="LinearFlow", run_id="r", step="start")
    refs = read_task(storage, address)["artifacts"]
    numbers = refs["numbers"]  # small: maybe packed with the task's other small artifacts
    path = Path(storage.path(layout.object_key(numbers.get("pack", numbers["sha"]))))
    data = bytearray(path.read_bytes())
    data[numbers.get("offset", 0) + numbers["size"] - 3] ^= 0xFF
    os.chmod(path, 0o644)
    path.write_bytes(bytes(data))
    task = start_task(flow, "LinearFlow", "middle", datastore)
    assert task.wait(60) == 3
    last = task.stderr.read().decode().strip().splitlines()[-1]
    assert "LinearFlow/r/middle/middle" in last and refs["numbers"]["sha"] in last and "corrupt" in last
    assert read_task(storage, MIDDLE) is None
    assert path.read_bytes() == bytes(data)  # left as found, for inspection


def test_corrupt_parent_record_is_a_clear_error_exit_3_never_wrong_data(tmp_path):
    datastore = tmp_path / "ds"
    flow = FLOWS / "linear_flow.py"
    assert start_task(flow, "LinearFlow", "start", datastore).wait(60) == 0
    storage = LocalStorage(datastore)
    path = Path(storage.path(layout.task_key("LinearFlow", "r", "start", "start")))
    text = path.read_text()
    # Still valid JSON, but the artifact names are gone: without a check, "no artifact 'numbers'".
    path.write_text(text.replace('"artifacts"', '"artifactz"'))
    task = start_task(flow, "LinearFlow", "middle", datastore)
    assert task.wait(60) == 3
    last = task.stderr.read().decode().strip().splitlines()[-1]
    assert "LinearFlow/r/middle/middle" in last and "start/start/task.json" in last and "corrupt" in last
    assert read_task(storage, MIDDLE) is None


def test_a_failed_step_alters_nothing_already_stored(tmp_path):
    datastore = tmp_path / "ds"
    flow = tmp_path / "failing_flow.py"
    flow.write_text(
        "from flowc import FlowSpec, step\n\n"
        "class FailingFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.items = [1, 2]\n        self.next(self.middle)\n\n"
        "    @step\n    def middle(self):\n        self.items.append(3)\n        self.extra = 'x'\n"
        "        raise RuntimeError('boom')\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    assert start_task(flow, "FailingFlow", "start", datastore).wait(60) == 0
    before = snapshot_objects(datastore)
    start_record = (datastore / "runs/FailingFlow/r/start/start/task.json").read_bytes()
    task = start_task(flow, "FailingFlow", "middle", datastore)
    assert task.wait(60) == 1
    assert "FailingFlow/r/middle/middle" in task.stderr.read().decode().strip().splitlines()[-1]
    assert snapshot_objects(datastore) == before
    assert (datastore / "runs/FailingFlow/r/start/start/task.json").read_bytes() == start_record


def test_sweep_removes_only_old_abandoned_temporary_files(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.write_object(layout.object_key, b"kept")
    folder = tmp_path / TEMP_FOLDER
    folder.mkdir(exist_ok=True)
    old = folder / f"{TEMP_PREFIX}old"
    fresh = folder / f"{TEMP_PREFIX}fresh"
    for path in (old, fresh):
        path.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert storage.sweep_abandoned_writes() == 1
    assert not old.exists() and fresh.exists()  # a write in progress elsewhere is left alone
    assert [bytes(storage.read(key)) for key in storage.list("objects")] == [b"kept"]
