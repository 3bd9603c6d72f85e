"""``flowc resume``: a new run that clones the successful tasks of an earlier run and runs the rest.

Cloning copies records only: the origin task's ``task.json`` (its artifacts are references to
content-addressed objects, so no object is copied or recomputed), its successful attempt's record
and logs. A task is cloned when its step is not being re-run and the origin run has a successful
task with the same id whose inputs were all cloned too (a task whose input ran again runs again,
so a run never mixes tasks of two runs); the steps re-run are the named step and every step
reachable from it (with no step named: none, so exactly the tasks that did not succeed run again,
and what follows them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from flowc import metadata
from flowc.datastore.storage import NotFound, Storage
from flowc.ir import FlowIR

__all__ = [
    "Cloner",
    "ResumeError",
    "clone_task",
    "find_origin_run",
    "origin_parameters",
    "refuse_running_origin",
    "steps_from",
]


class ResumeError(ValueError):
    """Nothing to resume: no origin run, or an unknown step."""


def find_origin_run(storage: Storage, flow: str, origin_run_id: str | None) -> dict[str, Any]:
    """The origin run's record: the one named, else the current user's latest run of ``flow``."""
    if origin_run_id is not None:
        record = metadata.read_run(storage, flow, origin_run_id)
        if record is None:
            raise ResumeError(f"no run {flow}/{origin_run_id} in datastore {storage.url}")
        return record
    from flowc.client.store import ClientStore

    user = metadata.current_user()
    candidates = []
    for run_id in ClientStore(storage.url).run_ids(flow):
        record = metadata.read_run(storage, flow, run_id)
        if record is not None and record.get("user") == user:
            candidates.append((str(record.get("start", "")), run_id, record))
    if not candidates:
        raise ResumeError(f"no run of {flow} by {user} in datastore {storage.url} to resume")
    return max(candidates, key=lambda c: (c[0], c[1]))[2]


def refuse_running_origin(storage: Storage, flow: str, origin: dict[str, Any]) -> None:
    """Raises :class:`ResumeError` when the origin run may still be running (``records.liveness``):
    its tasks would keep appearing while the new run decides what to clone."""
    from flowc.runtime.records import liveness

    run_id = str(origin["id"])
    if liveness(origin, metadata.read_status(storage, flow, run_id)) != "running":
        return
    launcher = origin.get("launcher") or {}
    where = (
        f"its runtime, pid {launcher['pid']} on {launcher.get('host')}, has recorded no end"
        if launcher.get("pid")
        else "it has no recorded end yet"
    )
    raise ResumeError(
        f"run {flow}/{run_id} may still be running ({where}); wait for it or stop it, "
        "or resume it anyway with --force"
    )


def steps_from(ir: FlowIR, step: str) -> frozenset[str]:
    """``step`` and every step reachable from it."""
    try:
        ir.step(step)
    except KeyError:
        raise ResumeError(
            f"flow {ir.name} has no step {step!r} (steps: {', '.join(ir.step_names)})"
        ) from None
    seen, todo = set(), [step]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(ir.step(name).successors)
    return frozenset(seen)


class Cloner:
    """``cloner(task)``: clones ``task`` of the new run from the origin run, returning its control
    record, or returns None when the task must run (:func:`clone_task`)."""

    def __init__(self, storage: Storage, origin_run_id: str, rerun_steps: Iterable[str]) -> None:
        self.storage = storage
        self.origin_run_id = origin_run_id
        self.rerun_steps = frozenset(rerun_steps)

    def __call__(self, task: metadata.TaskAddress) -> dict[str, Any] | None:
        if task.step in self.rerun_steps:
            return None
        return clone_task(self.storage, self.origin_run_id, task)


def clone_task(storage: Storage, origin_run_id: str, target: metadata.TaskAddress) -> dict[str, Any] | None:
    """Clones task ``target`` of a new run from the same task of run ``origin_run_id``; returns its
    control record, or None when it must run: it did not succeed in the origin run, or one of its
    inputs ran again in the new run (is not a clone there). The one cloning of every resume: the
    local runtime's and a task runner's resuming in place on an engine (``--resume``)."""
    origin = replace(target, run_id=origin_run_id)
    record = metadata.read_task(storage, origin)
    if record is None:
        return None
    for pathspec in record.get("inputs") or ():
        task = str(pathspec).rsplit("/", 1)[-1]  # a clone's inputs name the origin run
        cloned = metadata.read_task(
            storage, metadata.TaskAddress.from_task_id(flow=target.flow, run_id=target.run_id, task_id=task)
        )
        if cloned is None or "cloned_from" not in cloned:
            # One of its inputs ran again in this run (the origin had not finished it): this task's
            # artifacts came from other inputs, so it runs again too.
            return None
    attempt = int(record.get("attempt", 0))
    attempt_record = metadata.read_attempt(storage, origin, attempt) or {"attempt": attempt}
    attempt_record["cloned_from"] = origin.pathspec
    metadata.write_attempt(storage, target, attempt_record)
    for stream in ("stdout", "stderr"):
        try:
            data = storage.read(origin.log_key(attempt, stream))
        except NotFound:
            continue
        storage.write(target.log_key(attempt, stream), data)
    cloned_record = dict(record)
    if "run_id" in cloned_record:
        cloned_record["run_id"] = target.run_id
    cloned_record["cloned_from"] = origin.pathspec
    metadata.write_task(storage, target, cloned_record)  # last: the clone now counts as a success
    return dict(record.get("control") or {})


def origin_parameters(record: dict[str, Any]) -> dict[str, Any]:
    """The parameters the origin run was started with (what the new run's start task gets)."""
    return json.loads(json.dumps(record.get("parameters") or {}))
