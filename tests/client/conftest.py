"""A datastore laid out by hand (docs/architecture.md, "Datastore layout") for the client tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowc.client.namespaces import current_username
from flowc.datastore import layout
from flowc.datastore.local import LocalStorage
from flowc.datastore.objects import ObjectStore


def _write_json(storage: LocalStorage, key: str, document: dict) -> None:
    storage.write(key, json.dumps(document).encode())


def _task(
    storage: LocalStorage, run_id: str, step: str, task_id: str, artifacts: dict, index_path=()
) -> None:
    address = ("HelloFlow", run_id, step, task_id)
    store = ObjectStore(storage)
    refs = {name: store.put_value(value, name=name) for name, value in artifacts.items()}
    _write_json(
        storage,
        layout.task_key("HelloFlow", run_id, step, task_id),
        {"attempt": 1, "artifacts": refs, "control": {"step": step}, "index_path": list(index_path)},
    )
    _write_json(storage, layout.attempt_key(*address, 1), {"status": "successful", "start": _STARTS[step]})
    storage.write(layout.log_key(*address, 1, "stdout"), f"hi from {step}\n".encode())


_STARTS = {"start": "2026-01-01T00:00:01", "body": "2026-01-01T00:00:02", "end": "2026-01-01T00:00:03"}


@pytest.fixture
def datastore(tmp_path: Path) -> str:
    storage = LocalStorage(tmp_path / "ds")
    me = current_username()
    for run_id, start, user, tags in (
        ("1000", "2026-01-01T00:00:00", me, ["nightly"]),
        ("2000", "2026-01-02T00:00:00", me, []),
        ("3000", "2026-01-03T00:00:00", "someone-else", []),
    ):
        _write_json(
            storage,
            layout.run_key("HelloFlow", run_id),
            {"id": run_id, "flow": "HelloFlow", "user": user, "tags": tags, "start": start, "parameters": {}},
        )
        _task(storage, run_id, "start", "start", {"x": int(run_id), "items": [1, 2]})
        for i in range(2):
            _task(storage, run_id, "body", f"body-{i}", {"x": int(run_id), "y": i * 10}, index_path=(i,))
    _task(storage, "1000", "end", "end", {"x": 1000, "message": "done"})  # only run 1000 succeeded
    _write_json(storage, layout.status_key("HelloFlow", "2000"), {"status": "failed", "reason": "boom"})
    return str(tmp_path / "ds")
