"""Run, status, attempt, log and task records (flowc.metadata)."""

from __future__ import annotations

import json
import threading

import pytest

from flowc.datastore.local import LocalStorage
from flowc.metadata import (
    CHECKSUM_KEY,
    CorruptRecord,
    TaskAddress,
    claim_attempt,
    claim_run,
    ensure_run,
    list_attempts,
    read_attempt,
    read_log,
    read_run,
    read_status,
    read_task,
    write_attempt,
    write_log,
    write_status,
    write_task,
)

TASK = TaskAddress(flow="Flow", run_id="r1", step="step", index_path=(3, 1), iteration=2)


def test_concurrent_claims_get_distinct_time_ordered_run_ids(tmp_path):
    storage = LocalStorage(tmp_path)
    ids: list[str] = []

    def claim() -> None:
        ids.append(claim_run(storage, "Flow", user="u", tags=["b", "a", "a"], parameters={"p": 1})[0])

    threads = [threading.Thread(target=claim) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 20
    record = read_run(storage, "Flow", ids[0])
    assert record["tags"] == ["a", "b"] and record["user"] == "u" and record["parameters"] == {"p": 1}
    assert "user:u" in record["system_tags"] and record["origin_run_id"] is None and record["start"]


def test_ensure_run_keeps_a_launchers_record(tmp_path):
    storage = LocalStorage(tmp_path)
    created = ensure_run(storage, "Flow", "argo-x", user="first", parameters={"a": 1})
    again = ensure_run(storage, "Flow", "argo-x", user="second")
    assert created == again and again["user"] == "first"


def test_status_records(tmp_path):
    storage = LocalStorage(tmp_path)
    assert read_status(storage, "Flow", "r1") is None
    write_status(storage, "Flow", "r1", "failed", "step/0 was killed")
    status = read_status(storage, "Flow", "r1")
    assert status["status"] == "failed" and status["reason"] == "step/0 was killed" and status["end"]
    with pytest.raises(ValueError):
        write_status(storage, "Flow", "r1", "weird")


def test_attempts_are_claimed_in_order_and_explicit_numbers_are_kept(tmp_path):
    storage = LocalStorage(tmp_path)
    assert claim_attempt(storage, TASK)[0] == 0
    assert claim_attempt(storage, TASK)[0] == 1
    number, record = claim_attempt(storage, TASK, attempt=5)
    assert number == 5 and record["status"] == "running" and record["pid"] > 0
    assert claim_attempt(storage, TASK)[0] == 6
    assert list_attempts(storage, TASK) == [0, 1, 5, 6]
    write_attempt(storage, TASK, {**record, "status": "failed", "exit_code": 1, "exit_reason": "boom"})
    assert read_attempt(storage, TASK, 5)["exit_reason"] == "boom"


def test_logs_and_task_records(tmp_path):
    storage = LocalStorage(tmp_path)
    assert read_log(storage, TASK, 0, "stdout") == b""
    write_log(storage, TASK, 0, "stderr", b"oops\n")
    assert read_log(storage, TASK, 0, "stderr") == b"oops\n"
    assert read_task(storage, TASK) is None
    write_task(storage, TASK, {"attempt": 0, "artifacts": {}})
    assert read_task(storage, TASK) == {"attempt": 0, "artifacts": {}}
    text = (tmp_path / "runs/Flow/r1/step/step-3-1.2/task.json").read_text()
    document = json.loads(text)
    assert set(document) == {"attempt", "artifacts", CHECKSUM_KEY} and text.endswith("\n")
    assert TASK.pathspec == "Flow/r1/step/step-3-1.2"


def _flip(path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert data.count(old) == 1
    path.write_bytes(data.replace(old, new))


def test_a_corrupted_record_is_an_error_never_wrong_data(tmp_path):
    storage = LocalStorage(tmp_path)
    record = {"attempt": 0, "artifacts": {"x": {"sha": "ab"}}, "control": {"num_splits": 12}}
    write_task(storage, TASK, record)
    path = tmp_path / "runs/Flow/r1/step/step-3-1.2/task.json"
    _flip(path, b'"num_splits": 12', b'"num_splits": 13')  # still valid JSON, wrong value
    with pytest.raises(CorruptRecord, match=r"task\.json.*does not match its checksum"):
        read_task(storage, TASK)
    _flip(path, b'"num_splits": 13', b'"num_splits": 1{')  # not JSON any more
    with pytest.raises(CorruptRecord, match=r"task\.json.*not JSON"):
        read_task(storage, TASK)
    # a record written without a checksum (by hand) is read as it is
    path.write_text(json.dumps({"attempt": 0, "artifacts": {}}))
    assert read_task(storage, TASK) == {"attempt": 0, "artifacts": {}}


def test_rewriting_a_record_read_back_keeps_it_valid(tmp_path):
    storage = LocalStorage(tmp_path)
    number, _ = claim_attempt(storage, TASK)
    changed = {**read_attempt(storage, TASK, number), "status": "failed", "text": "é ∞ NaN"}
    write_attempt(storage, TASK, changed)
    assert read_attempt(storage, TASK, number)["text"] == "é ∞ NaN"
    assert CHECKSUM_KEY not in read_attempt(storage, TASK, number)
