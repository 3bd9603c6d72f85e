"""The client's objects, Metaflow-compatible: ``Flow`` > ``Run`` > ``Step`` > ``Task`` > ``DataArtifact``.

Each object is addressed by a pathspec (``Flow/run_id/step/task_id/artifact``) and reads only what
it is asked for: listing a flow's runs reads their run records, ``task.data.x`` loads one object.
Every object takes an optional ``datastore`` URL; by default it is ``FLOWC_DATASTORE`` or the
``datastore`` setting (:func:`flowc.config.load_settings`), as for ``flowc run``.

Only runs in the current namespace (:func:`flowc.client.namespace`) are visible, as in Metaflow.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from flowc.client.namespaces import get_namespace, in_namespace
from flowc.client.store import ClientStore, open_client_store
from flowc.datastore import layout
from flowc.ids import InvalidId, check_flow_name, check_run_id, check_step_name, check_task_id
from flowc.metadata import CorruptRecord

__all__ = [
    "DataArtifact",
    "Flow",
    "Metadata",
    "MetaflowData",
    "MetaflowNamespaceMismatch",
    "MetaflowNotFound",
    "MissingTasks",
    "Run",
    "Step",
    "Task",
    "TaskException",
]

END_STEP = "end"


@dataclass(frozen=True)
class TaskException:
    """What a failed task's step raised, as its attempt recorded it (Metaflow's exception wrapper:
    ``type``, ``message``, ``stacktrace``). The exception object itself is not kept: unpickling a
    user's exception class would need the flow's code."""

    type: str
    message: str
    stacktrace: str

    @property
    def exception(self) -> str:
        """The exception's text (``MetaflowExceptionWrapper.exception``, as ``@catch`` stores it)."""
        return self.message

    def __str__(self) -> str:
        # As Metaflow's wrapper: the traceback, whose last line names the type and the message.
        if self.stacktrace:
            return self.stacktrace
        return f"{self.type}: {self.message}" if self.message else self.type


class Metadata(NamedTuple):
    """One task metadata entry (Metaflow's ``Metadata``): ``task`` is the task's pathspec."""

    name: str
    value: str
    created_at: int | None
    type: str
    task: str


class MetaflowNotFound(KeyError):
    """No such flow, run, step, task or artifact (Metaflow's name, for compatibility)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"


class MissingTasks(MetaflowNotFound):
    """A step of a finished run has fewer successful tasks in the datastore than the run recorded
    (``status.json``'s ``tasks``): some were deleted or lost, so reading the step would be wrong."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "tasks are missing"


class MetaflowNamespaceMismatch(MetaflowNotFound):
    """The object exists but its run is not in the current namespace."""


#: How each part of a pathspec is checked (flowc.ids): flow, run, step, task (an artifact's name is
#: looked up, never a path).
_PART_CHECKS = (check_flow_name, check_run_id, check_step_name, check_task_id)


def _split(pathspec: str, parts: int, kind: str) -> list[str]:
    """The parts of ``pathspec``; :class:`flowc.ids.InvalidId` (a ValueError) when it is malformed."""
    pieces = pathspec.strip("/").split("/") if isinstance(pathspec, str) else []
    if len(pieces) != parts or not all(pieces):
        example = "/".join(["Flow", "run_id", "step", "task_id", "artifact"][:parts])
        raise InvalidId(f"{kind} pathspec {pathspec!r} must look like {example!r}")
    for piece, check in zip(pieces, _PART_CHECKS, strict=False):
        check(piece)
    return pieces


def _store_for(datastore: str | ClientStore | None) -> ClientStore:
    if isinstance(datastore, ClientStore):
        return datastore
    return open_client_store(datastore)


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value)
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


class _ClientObject:
    _kind = "object"

    pathspec: str
    _store: ClientStore

    @property
    def id(self) -> str:
        return self.pathspec.rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}('{self.pathspec}')"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.pathspec == self.pathspec  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.pathspec))

    @property
    def path_components(self) -> list[str]:
        """The pathspec's parts: ``["Flow", "run_id", "step", "task_id"]`` for a task."""
        return self.pathspec.split("/")

    @property
    def parent_pathspec(self) -> str | None:
        """The pathspec of the object this one belongs to (None for a flow)."""
        return self.pathspec.rpartition("/")[0] or None


class _InRun(_ClientObject):
    """A step, task or artifact: its tags are its run's (as in Metaflow)."""

    flow_name: str
    run_id: str

    @property
    def _run(self) -> Run:
        run = self.__dict__.get("_run_cache")
        if run is None:
            run = self.__dict__["_run_cache"] = Run._from_parts(self._store, self.flow_name, self.run_id)
        return run

    @property
    def tags(self) -> frozenset[str]:
        return self._run.tags

    @property
    def user_tags(self) -> frozenset[str]:
        return self._run.user_tags

    @property
    def system_tags(self) -> frozenset[str]:
        return self._run.system_tags


class Flow(_ClientObject):
    """A flow: its runs, newest first, in the current namespace.

    Args:
        name: the flow's class name.
        datastore: datastore URL; defaults to ``FLOWC_DATASTORE`` / the ``datastore`` setting.
    """

    def __init__(self, name: str, datastore: str | ClientStore | None = None) -> None:
        self.pathspec = _split(name, 1, "flow")[0]
        self._store = _store_for(datastore)
        if not self._store.children(layout.runs_prefix(self.pathspec)):
            raise MetaflowNotFound(f"flow {self.pathspec!r} has no runs in datastore {self._store.url!r}")

    @property
    def tags(self) -> frozenset[str]:
        """A flow has no tags (its runs do), as in Metaflow."""
        return frozenset()

    def runs(self, *tags: str) -> Iterator[Run]:
        """Runs newest first (by start time), visible in the namespace and carrying every tag given."""
        ns = get_namespace()
        found = []
        for run_id in self._store.run_ids(self.pathspec):
            try:
                run = Run._from_parts(self._store, self.pathspec, run_id)
            except CorruptRecord as exc:  # one damaged run must not hide all the others
                warnings.warn(f"skipping run {self.pathspec}/{run_id}: {exc}", stacklevel=2)
                continue
            if in_namespace(run.tags, ns) and set(tags) <= run.tags:
                found.append(run)
        found.sort(key=lambda r: (str(r._record.get("start", "")), r.id), reverse=True)
        yield from found

    def __iter__(self) -> Iterator[Run]:
        return self.runs()

    def __getitem__(self, run_id: str) -> Run:
        return Run(f"{self.pathspec}/{run_id}", datastore=self._store)

    @property
    def latest_run(self) -> Run | None:
        """The newest run in the namespace (None when there is none)."""
        return next(self.runs(), None)

    @property
    def latest_successful_run(self) -> Run | None:
        """The newest successful run in the namespace (None when there is none)."""
        return next((run for run in self.runs() if run.successful), None)


class Run(_ClientObject):
    """One run of a flow: ``Run("Flow/run_id")``; iterate for its steps, ``run["step"]`` for one."""

    def __init__(
        self, pathspec: str, datastore: str | ClientStore | None = None, _namespace_check: bool = True
    ) -> None:
        flow, run_id = _split(pathspec, 2, "run")
        self._init(_store_for(datastore), flow, run_id)
        if _namespace_check and not in_namespace(self.tags, get_namespace()):
            raise MetaflowNamespaceMismatch(
                f"run {self.pathspec!r} is not in namespace {get_namespace()!r}; "
                "call flowc.namespace(None) to see every run"
            )

    @property
    def parent(self) -> Flow:
        """The flow this run belongs to."""
        return Flow(self.flow_name, datastore=self._store)

    @classmethod
    def _from_parts(cls, store: ClientStore, flow: str, run_id: str) -> Run:
        run = cls.__new__(cls)
        run._init(store, flow, run_id)
        return run

    def _init(self, store: ClientStore, flow: str, run_id: str) -> None:
        self._store = store
        self.pathspec = f"{flow}/{run_id}"
        self.flow_name = flow
        record = store.read_json(layout.run_key(flow, run_id))
        if record is None:
            raise MetaflowNotFound(f"run {self.pathspec!r} not found in datastore {store.url!r}")
        from flowc.metadata import with_tag_updates

        self._record = with_tag_updates(store.storage, flow, run_id, record)
        self._end_task: Task | None = None
        self._missing: dict[str, tuple[int, int]] | None = None

    # ---- record --------------------------------------------------------------------------
    @property
    def user(self) -> str | None:
        return self._record.get("user")

    @property
    def user_tags(self) -> frozenset[str]:
        return frozenset(self._record.get("tags") or ())

    @property
    def system_tags(self) -> frozenset[str]:
        tags = set(self._record.get("system_tags") or ())
        if self.user:
            tags.add(f"user:{self.user}")
        return frozenset(tags)

    @property
    def tags(self) -> frozenset[str]:
        """User tags (``--tag``) and system tags (``user:<name>``)."""
        return self.user_tags | self.system_tags

    # ---- tags: changed after the run, as Metaflow's Run.add_tag & co. -------------------------
    # A list where one tag is expected works too (Metaflow's deprecated form).
    def add_tag(self, tag: str | list[str]) -> None:
        self.replace_tags([], _tag_list(tag))

    def add_tags(self, tags: Iterable[str]) -> None:
        self.replace_tags([], tags)

    def remove_tag(self, tag: str | list[str]) -> None:
        self.replace_tags(_tag_list(tag), [])

    def remove_tags(self, tags: Iterable[str]) -> None:
        self.replace_tags(tags, [])

    def replace_tag(self, tag_to_remove: str | list[str], tag_to_add: str | list[str]) -> None:
        self.replace_tags(_tag_list(tag_to_remove), _tag_list(tag_to_add))

    def replace_tags(self, tags_to_remove: Iterable[str], tags_to_add: Iterable[str]) -> None:
        """Removes then adds user tags, all or nothing. Adding a system tag is a no-op; removing one
        raises ValueError (system tags record facts of the run)."""
        from flowc.metadata import update_run_tags

        self._record = update_run_tags(
            self._store.storage, self.flow_name, self.id, list(tags_to_remove), list(tags_to_add)
        )

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self._record.get("parameters") or {})

    @property
    def trigger(self) -> Any:
        """What started the run (``@trigger`` events, or a finished flow's run), as Metaflow's
        ``Run.trigger``: the :class:`~flowc.authoring.run_trigger.Trigger` the run's steps saw as
        ``current.trigger``; None when no event started it."""
        events = self._record.get("trigger")
        if not events:
            return None
        from flowc.authoring.run_trigger import Trigger

        return Trigger(events)

    @property
    def origin_run_id(self) -> str | None:
        """The run this one resumed (``flowc resume``), else None."""
        return self._record.get("origin_run_id")

    @property
    def origin_pathspec(self) -> str | None:
        """``Flow/origin_run_id`` of a resumed run, else None."""
        origin = self.origin_run_id
        return f"{self.flow_name}/{origin}" if origin else None

    @property
    def created_at(self) -> datetime | None:
        return _timestamp(self._record.get("start"))

    @property
    def status(self) -> dict[str, Any]:
        """``status.json`` (status, end, reason) when a launcher ended the run, else ``{}``."""
        return self._store.read_json(layout.status_key(self.flow_name, self.id)) or {}

    # ---- state ---------------------------------------------------------------------------
    @property
    def end_task(self) -> Task | None:
        """The successful task of the ``end`` step, or None."""
        if self._end_task is None:
            for task_id in reversed(self._store.task_ids(self.flow_name, self.id, END_STEP)):
                if self._store.exists(layout.task_key(self.flow_name, self.id, END_STEP, task_id)):
                    self._end_task = Task._from_parts(self._store, self.flow_name, self.id, END_STEP, task_id)
                    break
        return self._end_task

    @property
    def successful(self) -> bool:
        """True when the end step succeeded and no task the run recorded is missing."""
        return self.end_task is not None and not self.missing_tasks()

    def missing_tasks(self) -> dict[str, tuple[int, int]]:
        """``{step: (tasks recorded, successful tasks found)}`` of each step that lost tasks."""
        if self._missing is None:
            self._missing = {}
            for step, count in sorted((self.status.get("tasks") or {}).items()):
                found = len(self._store.succeeded_task_ids(self.flow_name, self.id, step))
                if found < int(count):
                    self._missing[step] = (int(count), found)
        return dict(self._missing)

    @property
    def finished(self) -> bool:
        """True when the run succeeded or its launcher recorded an end (failed, killed)."""
        return self.successful or bool(self.status)

    @property
    def finished_at(self) -> datetime | None:
        """When the run ended: its recorded end, else (no launcher recorded one) its end task's."""
        ended = _timestamp(self.status.get("end"))
        if ended is None and self.end_task is not None:
            return self.end_task.finished_at
        return ended

    @property
    def data(self) -> MetaflowData | None:
        """The end task's artifacts (None until the run succeeded), as in Metaflow."""
        end = self.end_task
        return end.data if end is not None else None

    # ---- children ------------------------------------------------------------------------
    def steps(self, *tags: str) -> Iterator[Step]:
        """The run's steps, the most recently started first (Metaflow's order); none unless the run
        carries every tag given (a step's tags are its run's)."""
        if not set(tags) <= self.tags:
            return
        steps = [
            Step._from_parts(self._store, self.flow_name, self.id, name)
            for name in self._store.step_names(self.flow_name, self.id)
        ]
        yield from sorted(steps, key=lambda step: (step._started_at(), step.id), reverse=True)

    def __iter__(self) -> Iterator[Step]:
        return self.steps()

    def __getitem__(self, step: str) -> Step:
        if step not in self._store.step_names(self.flow_name, self.id):
            raise MetaflowNotFound(f"step {step!r} not found in run {self.pathspec!r}")
        return Step._from_parts(self._store, self.flow_name, self.id, step)

    def __contains__(self, step: str) -> bool:
        return step in self._store.step_names(self.flow_name, self.id)


class Step(_InRun):
    """One step of a run: ``Step("Flow/run_id/step")``; iterate for its tasks."""

    def __init__(
        self, pathspec: str, datastore: str | ClientStore | None = None, _namespace_check: bool = True
    ) -> None:
        flow, run_id, step = _split(pathspec, 3, "step")
        store = _store_for(datastore)
        Run(f"{flow}/{run_id}", datastore=store, _namespace_check=_namespace_check)[step]  # existence
        self._init(store, flow, run_id, step)

    @property
    def parent(self) -> Run:
        """The run this step belongs to."""
        return self._run

    @classmethod
    def _from_parts(cls, store: ClientStore, flow: str, run_id: str, step: str) -> Step:
        obj = cls.__new__(cls)
        obj._init(store, flow, run_id, step)
        return obj

    def _init(self, store: ClientStore, flow: str, run_id: str, step: str) -> None:
        self._store = store
        self.flow_name, self.run_id = flow, run_id
        self.pathspec = f"{flow}/{run_id}/{step}"

    @property
    def parent_steps(self) -> Iterator[Step]:
        """The steps whose tasks this step's tasks read (none for start)."""
        names = {pathspec.split("/")[-2] for task in self.tasks() for pathspec in task.parent_task_pathspecs}
        for name in sorted(names):
            yield Step._from_parts(self._store, self.flow_name, self.run_id, name)

    @property
    def child_steps(self) -> Iterator[Step]:
        """The steps of this run whose tasks read this step's tasks."""
        run = Run._from_parts(self._store, self.flow_name, self.run_id)
        for step in run.steps():
            if any(name == self.id for name in (parent.id for parent in step.parent_steps)):
                yield step

    @property
    def origin_pathspec(self) -> str | None:
        """``Flow/origin_run_id/step`` when the step's tasks were cloned by ``flowc resume``, else None."""
        task = self.task
        origin = task.origin_pathspec if task is not None else None
        return origin.rsplit("/", 1)[0] if origin else None

    def _started_at(self) -> str:
        """When the step's first task started (ISO text; empty when unknown)."""
        for task_id in self._store.task_ids(self.flow_name, self.run_id, self.id)[:1]:
            task = Task._from_parts(self._store, self.flow_name, self.run_id, self.id, task_id)
            attempts = self._store.attempts(self.flow_name, self.run_id, self.id, task_id)
            if attempts:
                key = layout.attempt_key(self.flow_name, self.run_id, self.id, task.id, attempts[0])
                return str((self._store.read_json(key) or {}).get("start") or "")
        return ""

    @property
    def created_at(self) -> datetime | None:
        """When the step's first task started."""
        return _timestamp(self._started_at() or None)

    @property
    def finished_at(self) -> datetime | None:
        """When the step's last task to finish did (None while none has)."""
        ends = [end for end in (task.finished_at for task in self.tasks()) if end is not None]
        return max(ends) if ends else None

    def tasks(self, *tags: str) -> Iterator[Task]:
        """The step's tasks in foreach index order (none unless the run carries every tag given).

        Raises:
            MissingTasks: the run recorded more successful tasks of this step than the datastore has.
        """
        if not set(tags) <= self.tags:
            return
        task_ids = self._store.task_ids(self.flow_name, self.run_id, self.id)
        self._check_complete(len(task_ids))
        for task_id in task_ids:
            yield Task._from_parts(self._store, self.flow_name, self.run_id, self.id, task_id)

    def _check_complete(self, listed: int) -> None:
        status = self._store.read_json(layout.status_key(self.flow_name, self.run_id)) or {}
        recorded = int((status.get("tasks") or {}).get(self.id, 0))
        if not recorded:
            return
        found = listed  # listing is enough here: a lost task is a lost folder (Run.successful looks closer)
        if found < recorded:
            raise MissingTasks(
                f"step {self.pathspec!r}: the run recorded {recorded} successful task(s), the datastore has "
                f"{found}; tasks were deleted or lost: run the step again with "
                f"flowc resume FLOW.py --origin-run-id {self.run_id} {self.id}"
            )

    def __iter__(self) -> Iterator[Task]:
        return self.tasks()

    def __getitem__(self, task_id: str) -> Task:
        if task_id not in self._store.task_ids(self.flow_name, self.run_id, self.id):
            raise MetaflowNotFound(f"task {task_id!r} not found in step {self.pathspec!r}")
        return Task._from_parts(self._store, self.flow_name, self.run_id, self.id, task_id)

    @property
    def task(self) -> Task | None:
        """One task of the step (the only one, outside a foreach), successful ones first."""
        tasks = list(self.tasks())
        return next((t for t in tasks if t.successful), tasks[0] if tasks else None)


class Task(_InRun):
    """One task: ``Task("Flow/run_id/step/task_id")``; ``task.data.x``, ``task["x"]``, logs."""

    def __init__(
        self, pathspec: str, datastore: str | ClientStore | None = None, _namespace_check: bool = True
    ) -> None:
        flow, run_id, step, task_id = _split(pathspec, 4, "task")
        store = _store_for(datastore)
        Run(f"{flow}/{run_id}", datastore=store, _namespace_check=_namespace_check)[step][task_id]
        self._init(store, flow, run_id, step, task_id)

    @property
    def parent(self) -> Step:
        """The step this task belongs to."""
        return Step._from_parts(self._store, self.flow_name, self.run_id, self.step_name)

    @classmethod
    def _from_parts(cls, store: ClientStore, flow: str, run_id: str, step: str, task_id: str) -> Task:
        obj = cls.__new__(cls)
        obj._init(store, flow, run_id, step, task_id)
        return obj

    def _init(self, store: ClientStore, flow: str, run_id: str, step: str, task_id: str) -> None:
        self._store = store
        self.flow_name, self.run_id, self.step_name = flow, run_id, step
        self.pathspec = f"{flow}/{run_id}/{step}/{task_id}"
        self._record_cache: dict[str, Any] | None = None
        self._values: dict[str, Any] = {}

    # ---- record --------------------------------------------------------------------------
    @property
    def _record(self) -> dict[str, Any]:
        if self._record_cache is None:
            key = layout.task_key(self.flow_name, self.run_id, self.step_name, self.id)
            record = self._store.read_json(key)
            if record is None:
                return {}  # not (yet) successful: no artifacts to show
            self._record_cache = record
        return self._record_cache

    @property
    def successful(self) -> bool:
        return bool(self._record)

    @property
    def finished(self) -> bool:
        """Succeeded, or its latest attempt recorded an end."""
        if self.successful:
            return True
        attempt = self.attempt_record
        return attempt is not None and attempt.get("status") not in (None, "running")

    @property
    def current_attempt(self) -> int:
        """The successful attempt, else the latest one started."""
        if self._record:
            return int(self._record.get("attempt", 0))
        attempts = self._store.attempts(self.flow_name, self.run_id, self.step_name, self.id)
        return attempts[-1] if attempts else 0

    @property
    def attempt_record(self) -> dict[str, Any] | None:
        """The current attempt's metadata (status, timings, host, pid, exit reason)."""
        key = layout.attempt_key(self.flow_name, self.run_id, self.step_name, self.id, self.current_attempt)
        return self._store.read_json(key)

    @property
    def environment(self) -> dict[str, Any] | None:
        """The lock of the ``@pypi`` environment the current attempt ran in, or None (no
        ``@pypi``): ``{"environment", "python", "platform", "requirements", "wheels": [{"name",
        "version", "file", "sha256"}]}`` (docs/environments.md)."""
        used = (self.attempt_record or {}).get("environment") or {}
        if not used.get("lock"):
            return None
        import json

        data = self._store.storage.read(layout.object_key(used["lock"]))
        return json.loads(bytes(data))

    @property
    def exception(self) -> TaskException | None:
        """What the step raised in the current attempt, or None (succeeded, still running, or failed
        for another reason: a timeout, a kill, bad input; ``attempt_record["exit_reason"]`` says)."""
        if self.successful:
            return None
        raised = (self.attempt_record or {}).get("exception")
        if not raised:
            return None
        return TaskException(raised.get("type", ""), raised.get("message", ""), raised.get("traceback", ""))

    @property
    def control(self) -> dict[str, Any]:
        """The control record (transition, num_splits, switch case, next iteration)."""
        return dict(self._record.get("control") or {})

    @property
    def index(self) -> int | None:
        """The innermost foreach index of this task (None outside a foreach)."""
        path = self._record.get("index_path") or []
        return path[-1] if path else None

    @property
    def finished_at(self) -> datetime | None:
        attempt = self.attempt_record or {}
        return _timestamp(attempt.get("end") or attempt.get("finished_at"))

    @property
    def created_at(self) -> datetime | None:
        """When the task's first attempt started."""
        attempts = self.attempts
        if not attempts:
            return None
        key = layout.attempt_key(self.flow_name, self.run_id, self.step_name, self.id, attempts[0])
        return _timestamp((self._store.read_json(key) or {}).get("start"))

    @property
    def origin_pathspec(self) -> str | None:
        """The task this one was cloned from by ``flowc resume``, else None."""
        return self._record.get("cloned_from")

    @property
    def metadata(self) -> list[Metadata]:
        """Metaflow's task metadata entries: one ``attempt`` entry per attempt started (value ``"0"``,
        ``"1"``, ...), then the others of :attr:`metadata_dict`."""
        entries = [
            Metadata("attempt", str(attempt), None, "attempt", self.pathspec) for attempt in self.attempts
        ]
        for name, value in self.metadata_dict.items():
            if name != "attempt":
                entries.append(Metadata(name, value, None, name, self.pathspec))
        return entries

    @property
    def metadata_dict(self) -> dict[str, str]:
        """Metaflow's task metadata by name: ``attempt``, ``python_version``, and in a resumed run
        ``origin-run-id`` (plus ``origin-task-id`` for a task cloned from the origin run)."""
        record = self._record
        found = {"attempt": str(self.current_attempt)}
        if record.get("python_version"):
            found["python_version"] = str(record["python_version"])
        origin_run = self._run.origin_run_id
        if origin_run:
            found["origin-run-id"] = str(origin_run)
        if record.get("cloned_from"):
            found["origin-task-id"] = str(record["cloned_from"]).rsplit("/", 1)[-1]
        return found

    @property
    def parent_task_pathspecs(self) -> Iterator[str]:
        """Pathspecs of the tasks whose output this task read (a join: one per input)."""
        for pathspec in self._record.get("inputs") or ():
            step, task_id = str(pathspec).split("/")[-2:]  # a clone's inputs name the origin run
            yield f"{self.flow_name}/{self.run_id}/{step}/{task_id}"

    @property
    def parent_tasks(self) -> Iterator[Task]:
        for pathspec in self.parent_task_pathspecs:
            yield Task._from_parts(self._store, *pathspec.split("/"))

    @property
    def child_task_pathspecs(self) -> Iterator[str]:
        """Pathspecs of the tasks of this run that read this task's output."""
        run = Run._from_parts(self._store, self.flow_name, self.run_id)
        for step in run.steps():
            for task in step.tasks():
                if self.pathspec in set(task.parent_task_pathspecs):
                    yield task.pathspec

    @property
    def child_tasks(self) -> Iterator[Task]:
        for pathspec in self.child_task_pathspecs:
            yield Task._from_parts(self._store, *pathspec.split("/"))

    # ---- logs ----------------------------------------------------------------------------
    def log(self, stream: str, attempt: int | None = None) -> str:
        """What an attempt (default: the current one) printed on ``stream`` (stdout or stderr)."""
        number = self.current_attempt if attempt is None else attempt
        return (
            self._store.read_log(self.flow_name, self.run_id, self.step_name, self.id, number, stream) or ""
        )

    def loglines(
        self, stream: str, as_unicode: bool = True, meta_dict: dict[str, Any] | None = None
    ) -> Iterator[tuple[datetime | None, str]]:
        """Metaflow's ``task.loglines(stream)``: ``(timestamp, line)`` for each line the current
        attempt printed. flowc stores no time per line, so the timestamp is None."""
        for line in self.log(stream).splitlines():
            yield None, line if as_unicode else line.encode("utf-8")

    @property
    def attempts(self) -> list[int]:
        """Every attempt number recorded for this task."""
        return self._store.attempts(self.flow_name, self.run_id, self.step_name, self.id)

    @property
    def stdout(self) -> str:
        """What the current attempt printed on stdout."""
        return self.log("stdout")

    @property
    def stderr(self) -> str:
        """What the current attempt printed on stderr."""
        return self.log("stderr")

    # ---- cards ---------------------------------------------------------------------------
    @property
    def cards(self) -> Any:
        """The task's cards (:class:`flowc.cards.CardContainer`, empty when it has none)."""
        from flowc.cards.client import CardContainer, CardNotPresentException, get_cards

        try:
            return get_cards(self)
        except CardNotPresentException:
            return CardContainer([], self.pathspec)

    # ---- artifacts -----------------------------------------------------------------------
    @property
    def _artifact_entries(self) -> dict[str, Any]:
        return dict(self._record.get("artifacts") or {})

    def _value(self, name: str) -> Any:
        if name not in self._values:
            entries = self._artifact_entries
            if name not in entries:
                raise MetaflowNotFound(f"task {self.pathspec!r} has no artifact {name!r}")
            try:
                value = self._store.load_artifact(entries[name])
            except ModuleNotFoundError as exc:
                from flowc.task_runner.loading import module_name

                if exc.name != module_name(self.flow_name):
                    raise
                # An object of a class defined in the flow file: import that file, as tasks do.
                self._import_flow_code(name)
                value = self._store.load_artifact(entries[name])
            self._values[name] = value
        return self._values[name]

    def _import_flow_code(self, artifact: str) -> None:
        from flowc.task_runner.loading import find_flow_file, import_flow_module

        code = self._record.get("code") or {}
        where = f"artifact {artifact!r} of task {self.pathspec!r} is of a class defined in the flow file"
        try:
            if code.get("package"):
                from flowc.task_runner.bootstrap import materialize_package

                directory = materialize_package(self._store.storage, code["package"])
                import_flow_module(find_flow_file(directory, self.flow_name), self.flow_name)
            elif code.get("source"):
                import_flow_module(code["source"], self.flow_name)
            else:
                raise ModuleNotFoundError("the task did not record where the flow's code is")
        except Exception as exc:
            raise ModuleNotFoundError(f"{where}, which cannot be imported here: {exc}") from None

    @property
    def data(self) -> MetaflowData:
        """``task.data.x``: the value of artifact ``x`` (loaded on first access)."""
        return MetaflowData(self)

    @property
    def artifacts(self) -> list[DataArtifact]:
        return [DataArtifact._from_task(self, name) for name in sorted(self._artifact_entries)]

    def __iter__(self) -> Iterator[DataArtifact]:
        return iter(self.artifacts)

    def __getitem__(self, name: str) -> DataArtifact:
        if name not in self._artifact_entries:
            raise MetaflowNotFound(f"task {self.pathspec!r} has no artifact {name!r}")
        return DataArtifact._from_task(self, name)

    def __contains__(self, name: str) -> bool:
        return name in self._artifact_entries


class DataArtifact(_InRun):
    """One artifact: ``.data`` (its value), ``.sha``, ``.size``, ``.type``."""

    def __init__(self, pathspec: str, datastore: str | ClientStore | None = None) -> None:
        flow, run_id, step, task_id, name = _split(pathspec, 5, "artifact")
        task = Task(f"{flow}/{run_id}/{step}/{task_id}", datastore=datastore)
        self._task = task[name]._task
        self.pathspec = pathspec.strip("/")
        self._store = task._store
        self.flow_name, self.run_id = task.flow_name, task.run_id

    @classmethod
    def _from_task(cls, task: Task, name: str) -> DataArtifact:
        obj = cls.__new__(cls)
        obj._task = task
        obj._store = task._store
        obj.pathspec = f"{task.pathspec}/{name}"
        obj.flow_name, obj.run_id = task.flow_name, task.run_id
        return obj

    @property
    def parent(self) -> Task:
        """The task that stored this artifact."""
        return self._task

    @property
    def created_at(self) -> datetime | None:
        """When its task finished (and stored it)."""
        return self._task.finished_at

    @property
    def _entry(self) -> dict[str, Any]:
        return self._task._artifact_entries[self.id]

    @property
    def data(self) -> Any:
        return self._task._value(self.id)

    @property
    def sha(self) -> str:
        return self._entry["sha"]

    @property
    def size(self) -> int | None:
        return self._entry.get("size")

    @property
    def type(self) -> str | None:
        return self._entry.get("type")


class MetaflowData:
    """Attribute access to a task's artifacts: ``task.data.x``."""

    def __init__(self, task: Task) -> None:
        object.__setattr__(self, "_task", task)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self._task._value(name)
        except MetaflowNotFound as exc:
            raise AttributeError(str(exc)) from None

    def __contains__(self, name: str) -> bool:
        return name in self._task

    def __dir__(self) -> list[str]:
        return sorted(self._task._artifact_entries)

    def __repr__(self) -> str:
        return f"<MetaflowData: {', '.join(sorted(self._task._artifact_entries))}>"


def _tag_list(tag: Any) -> list[Any]:
    return list(tag) if isinstance(tag, list | tuple) else [tag]
