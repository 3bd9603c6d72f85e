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

__all__ = [
    "CLEANUP_RETRY_SECONDS",
    "STOPPING_RETRY_SECONDS",
    "EndRecorder",
    "claim_run",
    "launcher_identity",
    "liveness",
    "mark_attempt_ended",
    "read_json",
    "save_missing_logs",
]

read_json = metadata.read_json

#: Parameter values bigger than this (as JSON) are stored as objects, not inline in ``run.json``.
INLINE_PARAMETER_BYTES = 1 << 16
#: Retry budget of the runtime's best-effort records (a killed attempt's end and logs, the check
#: of a task's record): a datastore that is down must not hold the run for the full budget per task.
CLEANUP_RETRY_SECONDS = 5.0
#: The same once the run is being stopped (Ctrl-C, SIGTERM), and for its final status then.
STOPPING_RETRY_SECONDS = 2.0


def claim_run(
    storage: Storage,
    flow: str,
    *,
    tags: Sequence[str],
    parameters: Mapping[str, Any],
    origin_run_id: str | None = None,
    system_tags: Sequence[str] = (),
    configs: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Creates the run record under a new, unique, time-ordered run id; returns (id, record).

    ``configs``: the flow's config values, kept (``configs`` in the record) for ``flowc resume``,
    which reuses them as Metaflow's resume reuses the origin run's.
    """
    extra: dict[str, Any] = {"launcher": launcher_identity()}
    if configs:
        extra["configs"] = dict(configs)
    return metadata.claim_run(
        storage,
        flow,
        tags=tags,
        parameters=_recordable(storage, parameters),
        origin_run_id=origin_run_id,
        system_tags=["runtime:flowc-local", *system_tags],
        extra=extra,
    )


def launcher_identity() -> dict[str, Any]:
    """Who runs the run: this host, this process and when it started (a pid alone can be reused)."""
    return {
        "kind": "local",
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "pid_start": _start_time(os.getpid()),
    }


def liveness(record: Mapping[str, Any], status: Mapping[str, Any] | None) -> str:
    """``finished``, ``running`` or ``crashed`` (its runtime is gone without recording a status).

    The rule (docs/runtime.md, "flowc resume"): a run with a status (``status.json``) is finished.
    Without one, a run whose local runtime was on this host is running exactly while that process
    (same pid, same start time) exists; any other run (another host, an engine's run whose exit
    hook has not written the status yet) counts as running, since nothing here can tell otherwise.
    """
    if status is not None:
        return "finished"
    launcher = record.get("launcher") or {}
    pid = launcher.get("pid")
    if (
        launcher.get("kind") != "local"
        or launcher.get("host") != socket.gethostname()
        or not isinstance(pid, int)
    ):
        return "running"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return "crashed"
    except PermissionError:
        return "running"
    started = launcher.get("pid_start")
    if started is not None and _start_time(pid) not in (None, started):
        return "crashed"  # the pid now belongs to another process
    return "running"


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/PID/stat`` field 22), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


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


def mark_attempt_ended(storage: Storage, address: metadata.TaskAddress, attempt: int, reason: str) -> None:
    """Records a failed end on an attempt the task runner left ``running`` (it was killed)."""
    metadata.end_running_attempt(storage, address, attempt, reason)


def save_missing_logs(
    storage: Storage, address: metadata.TaskAddress, attempt: int, logs: Mapping[str, bytes]
) -> None:
    """Stores what the runtime saw an attempt print, for each stream the attempt left no log of
    (a task killed mid-step never writes its own), so ``flowc logs`` shows where it stopped."""
    stored = {
        stream: metadata.write_log(storage, address, attempt, stream, data)
        for stream, data in logs.items()
        if data and not storage.exists(address.log_key(attempt, stream))
    }
    if stored:  # their checksums, as the task runner records those of the logs it stores
        metadata.add_log_checksums(storage, address, attempt, stored)


class EndRecorder:
    """Records what killed attempts could not (their end, their logs) off the runtime's event loop:
    on threads for a remote datastore (in parallel, so N tasks cost one retry budget, not N), inline
    for a local one; each write retried for :data:`CLEANUP_RETRY_SECONDS` at most, then given up
    (the attempt then stays ``running`` in its record; the run's status says what happened)."""

    def __init__(self, storage: Storage) -> None:
        from flowc.datastore.local import LocalStorage

        self.storage = storage.with_retry_budget(CLEANUP_RETRY_SECONDS)
        self._pool: Any = None
        if not isinstance(storage, LocalStorage):
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(8, thread_name_prefix="flowc-records")

    def hurry(self) -> None:
        """From now on, retry for :data:`STOPPING_RETRY_SECONDS` at most (the run is being stopped)."""
        self.storage = self.storage.with_retry_budget(STOPPING_RETRY_SECONDS)

    def attempt_ended(
        self, address: metadata.TaskAddress, attempt: int, reason: str | None, logs: Mapping[str, bytes]
    ) -> None:
        """Marks the attempt failed with ``reason`` (if given) and stores the logs it left none of."""
        storage = self.storage
        if reason is not None:  # what the task runner would have said last, had it lived
            line = f"flowc: task {address.pathspec} (attempt {attempt}) failed: {reason}\n".encode()
            logs = {**logs, "stderr": bytes(logs.get("stderr") or b"") + line}

        def record() -> None:
            try:
                if reason is not None:
                    mark_attempt_ended(storage, address, attempt, reason)
                save_missing_logs(storage, address, attempt, logs)
            except Exception:  # best effort: the datastore is failing, and the run's status says why
                return

        if self._pool is None:
            record()
        else:
            self._pool.submit(record)

    def close(self) -> None:
        """Waits for the records under way (each bounded by its retry budget)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
