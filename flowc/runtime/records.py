"""The runtime's writes to the datastore, through :mod:`flowc.metadata`: the run record (its id
claimed atomically, so concurrent runs never collide), the run's end status, and the end of an
attempt whose process could not record it (killed by a signal or by the runtime)."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from flowc import metadata
from flowc.datastore.storage import Storage

__all__ = ["claim_run", "finish_run", "mark_attempt_ended", "read_json"]

read_json = metadata.read_json


def claim_run(
    storage: Storage,
    flow: str,
    *,
    tags: Sequence[str],
    parameters: Mapping[str, Any],
    origin_run_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """Creates the run record under a new, unique, time-ordered run id; returns (id, record)."""
    return metadata.claim_run(
        storage,
        flow,
        tags=tags,
        parameters=parameters,
        origin_run_id=origin_run_id,
        system_tags=["runtime:flowc-local"],
        extra={"launcher": {"kind": "local", "host": socket.gethostname(), "pid": os.getpid()}},
    )


def finish_run(storage: Storage, flow: str, run_id: str, status: str, reason: str | None = None) -> None:
    """Writes ``status.json``: ``successful``, ``failed`` or ``killed``, with the end time and reason."""
    metadata.write_status(storage, flow, run_id, status, reason)


def mark_attempt_ended(
    storage: Storage, flow: str, run_id: str, step: str, task: str, attempt: int, reason: str
) -> None:
    """Records a failed end on an attempt the task runner left ``running`` (it was killed)."""
    address = metadata.TaskAddress(flow, run_id, step, task)
    record = metadata.read_attempt(storage, address, attempt) or {"attempt": attempt}
    if record.get("status") not in (None, "running"):
        return
    record.update({"status": "failed", "exit_reason": reason, "end": metadata.now_iso()})
    metadata.write_attempt(storage, address, record)
