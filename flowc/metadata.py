"""Run, task and attempt records on top of a datastore (layout: docs/architecture.md).

Every record is a small JSON document written atomically through :mod:`flowc.datastore.layout`:

* ``run.json`` (:func:`claim_run`, :func:`ensure_run`): ``id``, ``flow``, ``user``, ``tags``,
  ``system_tags``, ``parameters``, ``start`` (ISO 8601 UTC), ``origin_run_id``; a local run of
  a flow with configs also ``configs`` (name -> value, what ``flowc resume`` reuses).
* ``status.json`` (:func:`write_status`): ``status`` (``successful``, ``failed``, ``killed``),
  ``end``, ``reason``, ``tasks``, and ``ended_by`` (who terminated it).
* ``attempt-<n>.json`` (:func:`claim_attempt`, :func:`write_attempt`): ``attempt``, ``status``
  (``running``, ``successful``, ``failed``), ``start``, ``end``, ``host``, ``pid``, ``exit_code``,
  ``exit_reason``.
* ``attempt-<n>.stdout`` / ``.stderr`` (:func:`write_log`): raw bytes of what the attempt printed;
  their SHA-256 is in the attempt record (``logs``), checked on read (:func:`verify_log`).
* ``task.json`` (:func:`write_task`): written last, only on success (see the task runner).

Every record also carries its own checksum (``$sha256``, see :func:`encode_json`), checked on
every read: a corrupted record raises :class:`CorruptRecord` instead of passing on wrong data (a
changed ``num_splits`` would silently drop foreach inputs).

Concurrent runs never collide: a run id and an attempt number are *claimed* by creating their
record with ``write_if_absent``, so two writers never get the same one.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flowc.datastore import layout
from flowc.datastore.storage import Buffer, NotFound, Storage, StorageError

__all__ = [
    "ATTEMPT_STATUSES",
    "CHECKSUM_KEY",
    "ENGINES",
    "RUNTIME_TAGS",
    "RUN_STATUSES",
    "CorruptRecord",
    "TaskAddress",
    "add_log_checksums",
    "check_tag",
    "claim_attempt",
    "claim_run",
    "current_user",
    "decode_json",
    "encode_json",
    "end_running_attempt",
    "engine_of",
    "ensure_run",
    "list_attempts",
    "now_iso",
    "read_attempt",
    "read_json",
    "read_log",
    "read_run",
    "read_status",
    "read_task",
    "update_run_tags",
    "verify_log",
    "with_tag_updates",
    "write_attempt",
    "write_log",
    "write_status",
    "write_task",
]

RUN_STATUSES = ("successful", "failed", "killed")
ATTEMPT_STATUSES = ("running", "successful", "failed")
#: Every record carries the SHA-256 of its canonical JSON (without this key) under this key.
CHECKSUM_KEY = "$sha256"


class CorruptRecord(StorageError):
    """A record that is not JSON, or whose content does not match its checksum."""


@dataclass(frozen=True, kw_only=True, order=True)
class TaskAddress:
    """Which task this is: the one type for a task's identity (docs/architecture.md, "Task identity").

    Flow, run id, step, foreach index path and loop iteration; everything else is derived from
    them: the task id (:func:`flowc.datastore.layout.task_id`), the pathspec, and the keys of the
    task's records. The local runtime's plan, a task runner's :class:`flowc.task_runner.spec.TaskSpec`,
    resume and the client's readers all name a task with it. Where only a task id is known (a
    folder of the datastore, a pathspec), :meth:`from_task_id` reads it back.

    A launcher may give ``run_id``, ``index_path`` and ``iteration`` as a
    :class:`flowc.task_runner.spec.Placeholder` (what its engine fills in when the task starts):
    such an address is only formatted into a command line; it has no task id.

    Keyword-only: a positional call would bind the wrong field without an error.
    """

    flow: str
    run_id: str
    step: str
    index_path: tuple[int, ...] = ()
    iteration: int = 0

    @classmethod
    def from_task_id(cls, *, flow: str, run_id: str, task_id: str) -> TaskAddress:
        """The task of run ``run_id`` whose id is ``task_id`` (its step is the id's first part).

        Raises:
            ValueError: ``task_id`` is not a flowc task id.
        """
        step, index_path, iteration = layout.parse_task_id(task_id)
        return cls(flow=flow, run_id=run_id, step=step, index_path=index_path, iteration=iteration)

    @property
    def task_id(self) -> str:
        """The id unique within the run: ``step``, ``-<index>`` per foreach, ``.<iteration>`` if not 0.

        Raises:
            ValueError: the index path or iteration is a placeholder an engine fills in later.
        """
        if isinstance(self.index_path, str) or isinstance(self.iteration, str):
            raise ValueError(f"task {self.step!r} has no id before its engine fills its placeholders")
        return layout.task_id(self.step, self.index_path, self.iteration)

    @property
    def pathspec(self) -> str:
        """``Flow/run_id/step/task_id``, as Metaflow's client spells a task."""
        return f"{self.flow}/{self.run_id}/{self.step}/{self.task_id}"

    @property
    def prefix(self) -> str:
        return layout.task_prefix(self.flow, self.run_id, self.step, self.task_id)

    def attempt_key(self, attempt: int) -> str:
        return layout.attempt_key(self.flow, self.run_id, self.step, self.task_id, attempt)

    def log_key(self, attempt: int, stream: str) -> str:
        return layout.log_key(self.flow, self.run_id, self.step, self.task_id, attempt, stream)

    @property
    def task_key(self) -> str:
        return layout.task_key(self.flow, self.run_id, self.step, self.task_id)


# ---- helpers -------------------------------------------------------------------------------
def now_iso() -> str:
    """The current time as ISO 8601 UTC with milliseconds (what every record stores)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def current_user(environ: Mapping[str, str] | None = None) -> str:
    """``FLOWC_USER``, else ``USER`` / ``USERNAME`` / ``LOGNAME`` (of ``environ``, default the process's),
    else the account's name, else ``unknown``."""
    environ = os.environ if environ is None else environ
    for name in ("FLOWC_USER", "USER", "USERNAME", "LOGNAME"):
        if environ.get(name):
            return environ[name]
    try:  # no login variables (cron, containers): the account's name, as getpass finds it
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):  # no passwd entry for this uid (some containers)
        return "unknown"


def _canonical(document: Mapping[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False)


def _digest(document: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(document).encode("utf-8")).hexdigest()


def encode_json(document: Mapping[str, Any]) -> bytes:
    """Canonical record bytes: sorted keys, UTF-8, one trailing newline, and the record's own
    checksum under :data:`CHECKSUM_KEY` (so that a corrupted record is an error, not wrong data)."""
    body = {name: value for name, value in document.items() if name != CHECKSUM_KEY}
    return (_canonical({**body, CHECKSUM_KEY: _digest(body)}) + "\n").encode("utf-8")


def decode_json(data: Buffer, key: str, where: str = "") -> dict[str, Any]:
    """The record in ``data`` (read from ``key``), its checksum verified and removed.

    A record without a checksum (written by hand, or by an older flowc) is taken as it is.

    Raises:
        CorruptRecord: not a JSON object, or its content does not match its checksum.
    """
    place = f"record {key}" + (f" in datastore {where}" if where else "")
    try:
        document = json.loads(bytes(data))
    except ValueError as exc:
        raise CorruptRecord(f"{place} is corrupt: it is not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise CorruptRecord(f"{place} is corrupt: it is not a JSON object")
    expected = document.pop(CHECKSUM_KEY, None)
    if expected is not None and expected != _digest(document):
        raise CorruptRecord(f"{place} is corrupt: its content does not match its checksum")
    return document


def read_json(storage: Storage, key: str) -> dict[str, Any] | None:
    """The record at ``key`` (verified, see :func:`decode_json`), or None when there is none."""
    try:
        data = storage.read(key)
    except NotFound:
        return None
    return decode_json(data, key, storage.url)


# ---- runs ----------------------------------------------------------------------------------
#: The engine that started a run, from its id: each launcher names its runs so (Argo:
#: flowc/backends/argo/containers.py ``argo-{{workflow.name}}``; Step Functions:
#: flowc/backends/sfn/definition.py ``sfn-<execution name>``; Airflow:
#: flowc.backends.airflow.names.RUN_ID_PREFIX); ``flowc run`` ids are milliseconds.
ENGINES = {"argo-": "argo", "sfn-": "step-functions", "airflow-": "airflow"}
#: Metaflow's ``runtime:<name>`` system tag of a run each engine started.
RUNTIME_TAGS = {"argo": "argo-workflows", "step-functions": "step-functions", "airflow": "airflow"}


def engine_of(run_id: str, record: Mapping[str, Any]) -> str:
    """``local``, ``argo``, ``step-functions`` or ``airflow``."""
    for prefix, engine in ENGINES.items():
        if run_id.startswith(prefix):
            return engine
    return str((record.get("launcher") or {}).get("kind") or "local")


def _run_record(
    flow: str,
    run_id: str,
    user: str | None,
    tags: Sequence[str],
    parameters: Mapping[str, Any],
    origin_run_id: str | None,
    system_tags: Sequence[str],
    extra: Mapping[str, Any] | None,
) -> dict[str, Any]:
    user = user or current_user()
    return {
        "id": run_id,
        "flow": flow,
        "user": user,
        "tags": sorted(set(tags)),
        "system_tags": sorted({f"user:{user}", *system_tags}),
        "parameters": dict(parameters),
        "start": now_iso(),
        "origin_run_id": origin_run_id,
        **dict(extra or {}),
    }


def claim_run(
    storage: Storage,
    flow: str,
    *,
    user: str | None = None,
    tags: Sequence[str] = (),
    parameters: Mapping[str, Any] | None = None,
    origin_run_id: str | None = None,
    system_tags: Sequence[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Creates a run record under a new, unique, time-ordered id; returns ``(run_id, record)``.

    Ids are milliseconds since the epoch, as in Metaflow; two launchers starting in the same
    millisecond get different ids (whoever creates ``run.json`` first owns the number).
    """
    candidate = int(time.time() * 1000)
    for _ in range(10_000):
        run_id = str(candidate)
        record = _run_record(flow, run_id, user, tags, parameters or {}, origin_run_id, system_tags, extra)
        if storage.write_if_absent(layout.run_key(flow, run_id), encode_json(record)):
            return run_id, record
        candidate += 1
    raise RuntimeError(f"could not claim a run id for {flow}")


def ensure_run(
    storage: Storage,
    flow: str,
    run_id: str,
    *,
    user: str | None = None,
    tags: Sequence[str] = (),
    parameters: Mapping[str, Any] | None = None,
    origin_run_id: str | None = None,
    system_tags: Sequence[str] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The run record of ``run_id``, created with these values if no launcher created it."""
    key = layout.run_key(flow, run_id)
    record = _run_record(flow, run_id, user, tags, parameters or {}, origin_run_id, system_tags, extra)
    if storage.write_if_absent(key, encode_json(record)):
        return record
    return read_json(storage, key) or record


#: Longest tag, in characters (Metaflow's limit).
MAX_TAG_LENGTH = 500


def check_tag(tag: Any) -> None:
    """Raises ValueError unless ``tag`` is a non-empty string of valid UTF-8 of at most 500 characters."""
    if not isinstance(tag, str) or not tag.strip():
        raise ValueError(f"a tag must be a non-empty string, not {tag!r}")
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(f"a tag may have at most {MAX_TAG_LENGTH} characters, not {len(tag)}")
    try:
        tag.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"a tag must be valid UTF-8 text, not {tag!r}") from None


def update_run_tags(
    storage: Storage, flow: str, run_id: str, remove: Sequence[str], add: Sequence[str]
) -> dict[str, Any]:
    """Removes then adds user tags of a run; returns the run's record with its tags after the update.

    The update is one new immutable object (:func:`~flowc.datastore.layout.tag_update_key`), never
    a rewrite of ``run.json``: two updaters at once (processes, hosts, S3 clients) both land, where a
    read-modify-write would keep only the last. Updates apply in the order of their names, which
    start with the time and sort after every update the writer saw.

    Raises:
        ValueError: a tag that is not a non-empty string, or removing a system tag (nothing changes).
    """
    if not remove and not add:
        raise ValueError("give a tag to add or remove")
    for tag in (*remove, *add):
        check_tag(tag)
    record = read_run(storage, flow, run_id)
    if record is None:
        raise NotFound(layout.run_key(flow, run_id))
    system = set(record.get("system_tags") or ()) | {f"user:{record.get('user')}"}
    refused = sorted(set(remove) & system)
    if refused:
        raise ValueError(f"cannot remove system tag(s) {', '.join(refused)} of run {flow}/{run_id}")
    update = {"remove": sorted(set(remove)), "add": sorted(set(add) - system)}
    seen = _tag_update_names(storage, flow, run_id)
    after = int(seen[-1].split("-", 1)[0]) + 1 if seen else 0
    name = f"{max(time.time_ns(), after):020d}-{uuid.uuid4().hex}"
    if not storage.write_if_absent(layout.tag_update_key(flow, run_id, name), encode_json(update)):
        raise StorageError(f"tag update {name} of run {flow}/{run_id} exists already")
    tags = (set(record.get("tags") or ()) - set(update["remove"])) | set(update["add"])
    return {**record, "tags": sorted(tags)}


def _tag_update_names(storage: Storage, flow: str, run_id: str) -> list[str]:
    """Names of the run's tag updates, oldest first."""
    prefix = layout.tag_updates_prefix(flow, run_id)
    return sorted(
        key[len(prefix) + 1 : -len(".json")] for key in storage.list(prefix) if key.endswith(".json")
    )


def with_tag_updates(storage: Storage, flow: str, run_id: str, record: dict[str, Any]) -> dict[str, Any]:
    """``record`` (a ``run.json``) with its user tags after every tag update, applied in order."""
    names = _tag_update_names(storage, flow, run_id)
    if not names:
        return record
    keys = [layout.tag_update_key(flow, run_id, name) for name in names]
    found = storage.read_many(keys)
    tags = set(record.get("tags") or ())
    for key in keys:
        if key not in found:  # listed, then gone: nothing deletes updates, but a listing may lag
            continue
        update = decode_json(found[key], key, storage.url)
        tags = (tags - set(update.get("remove") or ())) | set(update.get("add") or ())
    return {**record, "tags": sorted(tags)}


def read_run(storage: Storage, flow: str, run_id: str) -> dict[str, Any] | None:
    """The run's record (``run.json``) with its current user tags; None if there is none."""
    record = read_run_record(storage, flow, run_id)
    return None if record is None else with_tag_updates(storage, flow, run_id, record)


def read_run_record(storage: Storage, flow: str, run_id: str) -> dict[str, Any] | None:
    """``run.json`` as written, without the tag updates (which :func:`read_run` lists): for a
    reader that needs no tags, e.g. every task asking whether its run resumes another."""
    return read_json(storage, layout.run_key(flow, run_id))


def write_status(
    storage: Storage,
    flow: str,
    run_id: str,
    status: str,
    reason: str | None = None,
    task_counts: Mapping[str, int] | None = None,
    ended_by: str | None = None,
) -> None:
    """Writes ``status.json``: how the run ended (``successful``, ``failed`` or ``killed``), why,
    (``tasks``) how many tasks of each step succeeded: a reader finding fewer knows some are lost,
    and (``ended_by``) the user who ended it, when a person did (``flowc terminate``)."""
    if status not in RUN_STATUSES:
        raise ValueError(f"unknown run status {status!r}; expected one of {RUN_STATUSES}")
    document: dict[str, Any] = {"status": status, "end": now_iso(), "reason": reason}
    if ended_by is not None:
        document["ended_by"] = ended_by
    if task_counts is not None:
        document["tasks"] = dict(sorted(task_counts.items()))
    storage.write(layout.status_key(flow, run_id), encode_json(document))


def read_status(storage: Storage, flow: str, run_id: str) -> dict[str, Any] | None:
    return read_json(storage, layout.status_key(flow, run_id))


# ---- attempts ------------------------------------------------------------------------------
def _attempt_record(attempt: int, **fields: Any) -> dict[str, Any]:
    from flowc.environments.install import ACTIVE_ENV, ENVIRONMENT_ENV

    if os.environ.get(ACTIVE_ENV):  # the step's @pypi environment this attempt runs in (its lock)
        used = {"name": os.environ.get(ENVIRONMENT_ENV), "lock": os.environ[ACTIVE_ENV]}
        fields.setdefault("environment", used)
    return {
        "attempt": attempt,
        "status": "running",
        "start": now_iso(),
        "end": None,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "exit_code": None,
        "exit_reason": None,
        **fields,
    }


def claim_attempt(
    storage: Storage, task: TaskAddress, attempt: int | None = None
) -> tuple[int, dict[str, Any]]:
    """Records the start of an attempt; returns ``(attempt number, record)``.

    With ``attempt=None`` the number is the first one not yet recorded, claimed atomically. With an
    explicit number (an orchestrator counting its own retries) the record is written as given.
    """
    if attempt is not None:
        record = _attempt_record(attempt)
        storage.write(task.attempt_key(attempt), encode_json(record))
        return attempt, record
    taken = list_attempts(storage, task)
    number = taken[-1] + 1 if taken else 0
    while True:
        record = _attempt_record(number)
        if storage.write_if_absent(task.attempt_key(number), encode_json(record)):
            return number, record
        number += 1


def write_attempt(storage: Storage, task: TaskAddress, record: Mapping[str, Any]) -> None:
    storage.write(task.attempt_key(int(record["attempt"])), encode_json(record))


def read_attempt(storage: Storage, task: TaskAddress, attempt: int) -> dict[str, Any] | None:
    return read_json(storage, task.attempt_key(attempt))


def end_running_attempt(
    storage: Storage, task: TaskAddress, attempt: int, reason: str, logs: Mapping[str, bytes] | None = None
) -> bool:
    """Records a failed end on an attempt its process left ``running`` (killed, or ended its
    process before recording); True if it did (an attempt that recorded its own end is kept).

    ``logs``: everything the attempt wrote on each stream, as its supervisor saw it: stored (over
    what live logs uploaded of it) when the attempt is ended here.

    An attempt recorded ``successful`` whose task has no ``task.json`` did not end successfully
    either (``task.json`` could not be written after the attempt record): it is corrected too.
    """
    record = read_attempt(storage, task, attempt) or {"attempt": attempt}
    status = record.get("status")
    unrecorded_success = status == "successful" and not storage.exists(task.task_key)
    if status not in (None, "running") and not unrecorded_success:
        return False
    record.update({"status": "failed", "exit_reason": reason, "end": now_iso()})
    for stream, data in (logs or {}).items():
        if data:
            write_log(storage, task, attempt, stream, data)
            record["logs"] = {**(record.get("logs") or {}), stream: ""}  # its checksum: below
    # Logs uploaded while it ran (flowc.task_runner.live_logs): the process may have died between
    # writing a log and its checksum, so the checksums are taken again from what is stored.
    logs = {}
    for stream in record.get("logs") or {}:
        try:
            logs[stream] = hashlib.sha256(bytes(storage.read(task.log_key(attempt, stream)))).hexdigest()
        except NotFound:
            continue
    if logs:
        record["logs"] = logs
    write_attempt(storage, task, record)
    return True


def list_attempts(storage: Storage, task: TaskAddress) -> list[int]:
    """Attempt numbers recorded for ``task``, ascending."""
    numbers = set()
    for key in storage.list(task.prefix):
        name = key.rsplit("/", 1)[-1]
        if name.startswith("attempt-") and name.endswith(".json"):
            number = name[len("attempt-") : -len(".json")]
            if number.isdigit():
                numbers.add(int(number))
    return sorted(numbers)


# ---- logs and task records -----------------------------------------------------------------
def write_log(storage: Storage, task: TaskAddress, attempt: int, stream: str, data: Buffer) -> str:
    """Stores what an attempt printed on ``stream``; returns its SHA-256, which the writer puts in
    the attempt record (``logs``: stream -> SHA-256), so that a damaged log is an error on read."""
    storage.write(task.log_key(attempt, stream), data)
    return hashlib.sha256(data).hexdigest()


def add_log_checksums(storage: Storage, task: TaskAddress, attempt: int, logs: Mapping[str, str]) -> None:
    """Adds the SHA-256 of logs stored after the attempt record (by the runtime, for an attempt
    killed before it stored its own) to that record."""
    record = read_attempt(storage, task, attempt) or {"attempt": attempt}
    record["logs"] = {**(record.get("logs") or {}), **logs}
    write_attempt(storage, task, record)


def verify_log(data: bytes, attempt_record: Mapping[str, Any] | None, key: str, where: str = "") -> bytes:
    """``data`` (read from log ``key``) if it matches the SHA-256 its attempt record holds.

    A log whose record holds no checksum (stored by an older flowc) is taken as it is.

    Raises:
        CorruptRecord: the log's bytes do not match the checksum recorded for them.
    """
    stream = key.rsplit(".", 1)[-1]
    expected = ((attempt_record or {}).get("logs") or {}).get(stream)
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        place = f"log {key}" + (f" in datastore {where}" if where else "")
        raise CorruptRecord(f"{place} is corrupt: its content does not match its checksum")
    return data


def read_log(storage: Storage, task: TaskAddress, attempt: int, stream: str) -> bytes:
    """What the attempt printed on ``stream`` (``stdout`` or ``stderr``), checked against the
    attempt record's checksum (:func:`verify_log`); empty when nothing was stored."""
    key = task.log_key(attempt, stream)
    for reads_left in reversed(range(_LIVE_LOG_READS)):
        # The record first: a running task writes a new log, then its checksum (live logs), so a
        # log newer than the checksum read is a race, read again; a finished attempt's never is.
        record = read_attempt(storage, task, attempt)
        try:
            data = bytes(storage.read(key))
        except NotFound:
            return b""
        try:
            return verify_log(data, record, key, storage.url)
        except CorruptRecord:
            if not reads_left or (record or {}).get("status") != "running":
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


#: Reads of a running attempt's log that may meet a live upload between its log and its checksum.
_LIVE_LOG_READS = 5


def write_task(storage: Storage, task: TaskAddress, record: Mapping[str, Any]) -> None:
    """Writes ``task.json``: the task succeeded (write it last, after every object and log)."""
    storage.write(task.task_key, encode_json(record))


def read_task(storage: Storage, task: TaskAddress) -> dict[str, Any] | None:
    """The task record, or None if the task has not succeeded."""
    return read_json(storage, task.task_key)
