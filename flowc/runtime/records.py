"""The runtime's writes to the datastore, through :mod:`flowc.metadata`: the run record (its id
claimed atomically, so concurrent runs never collide), the run's end status, and the end (and
the logs) of an attempt whose process could not record them (killed by a signal or by the runtime)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from flowc import metadata
from flowc.datastore.storage import Storage

__all__ = ["claim_run", "finish_run", "mark_attempt_ended", "read_json", "save_missing_logs"]

read_json = metadata.read_json

#: Parameter values bigger than this (as JSON) are stored as objects, not inline in ``run.json``.
INLINE_PARAMETER_BYTES = 1 << 16


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
        parameters=_recordable(storage, parameters),
        origin_run_id=origin_run_id,
        system_tags=["runtime:flowc-local"],
        extra={"launcher": {"kind": "local", "host": socket.gethostname(), "pid": os.getpid()}},
    )


def _recordable(storage: Storage, parameters: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values as ``run.json`` keeps them: inline, or ``{"$object": sha}`` of their JSON
    when large (every run listing reads ``run.json``; the start task reads the object back)."""
    from flowc.datastore.objects import ObjectStore

    kept = {}
    for name, value in parameters.items():
        text = json.dumps(value, ensure_ascii=False)
        if len(text) > INLINE_PARAMETER_BYTES and not (isinstance(value, dict) and set(value) == {"$object"}):
            value = {"$object": ObjectStore(storage).put(text.encode("utf-8"))[0]}
        kept[name] = value
    return kept


def finish_run(storage: Storage, flow: str, run_id: str, status: str, reason: str | None = None) -> None:
    """Writes ``status.json``: ``successful``, ``failed`` or ``killed``, with the end time and reason."""
    metadata.write_status(storage, flow, run_id, status, reason)


def mark_attempt_ended(
    storage: Storage, flow: str, run_id: str, step: str, task: str, attempt: int, reason: str
) -> None:
    """Records a failed end on an attempt the task runner left ``running`` (it was killed)."""
    metadata.end_running_attempt(storage, metadata.TaskAddress(flow, run_id, step, task), attempt, reason)


def save_missing_logs(
    storage: Storage, flow: str, run_id: str, step: str, task: str, attempt: int, logs: Mapping[str, bytes]
) -> None:
    """Stores what the runtime saw an attempt print, for each stream the attempt left no log of
    (a task killed mid-step never writes its own), so ``flowc logs`` shows where it stopped."""
    address = metadata.TaskAddress(flow, run_id, step, task)
    for stream, data in logs.items():
        if data and not storage.exists(address.log_key(attempt, stream)):
            metadata.write_log(storage, address, attempt, stream, data)
