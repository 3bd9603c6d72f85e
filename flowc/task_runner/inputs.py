"""Finding a task's input task(s) from the IR and the datastore (docs/architecture.md, "Task identity").

Nobody passes task ids: a task derives its inputs from its own identity (step, foreach index path,
iteration), the graph, and what the datastore holds (``task.json`` means a task succeeded; the
control record says which step it chose and how wide its foreach was).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowc.datastore import layout
from flowc.datastore.storage import Storage
from flowc.ir import FlowIR, Step
from flowc.metadata import TaskAddress, read_task
from flowc.task_runner.errors import BadInput

__all__ = ["InputTask", "foreach_split_record", "resolve_inputs"]


@dataclass(frozen=True)
class InputTask:
    """A successful task this one reads from: its address and its ``task.json``."""

    address: TaskAddress
    record: dict[str, Any]

    @property
    def step(self) -> str:
        return self.address.step


def resolve_inputs(
    storage: Storage, ir: FlowIR, step: Step, run_id: str, index_path: Sequence[int], iteration: int
) -> list[InputTask]:
    """The input tasks of the task (``step``, ``index_path``, ``iteration``), in input order.

    Raises:
        BadInput: an input task has not succeeded (its ``task.json`` is missing).
    """
    index_path = tuple(index_path)
    if not step.predecessors:
        return []
    if step.is_join and step.split_of is not None:
        split = ir.step(step.split_of)
        if split.transition == "foreach":
            return _foreach_join_inputs(storage, ir, step, split, run_id, index_path, iteration)
        return [_latest(storage, ir, pred, run_id, index_path, step) for pred in step.predecessors]
    return [_chosen_predecessor(storage, ir, step, run_id, index_path, iteration)]


def foreach_split_record(
    storage: Storage, flow: str, split: Step, run_id: str, index_path: Sequence[int], iteration: int
) -> dict[str, Any]:
    """The ``task.json`` of the foreach task at ``index_path`` (BadInput if it has not succeeded)."""
    address = TaskAddress(flow, run_id, split.name, layout.task_id(split.name, index_path, iteration))
    record = read_task(storage, address)
    if record is None:
        raise BadInput(f"foreach task {address.pathspec} has not succeeded")
    return record


def _foreach_join_inputs(
    storage: Storage,
    ir: FlowIR,
    join: Step,
    split: Step,
    run_id: str,
    index_path: tuple[int, ...],
    iteration: int,
) -> list[InputTask]:
    record = foreach_split_record(storage, ir.name, split, run_id, index_path, iteration)
    num_splits = int(record["control"]["num_splits"])
    # One listing per predecessor step instead of one lookup per (index, iteration) candidate.
    succeeded = {pred: _succeeded_tasks(storage, ir, pred, run_id) for pred in join.predecessors}
    inputs = []
    for index in range(num_splits):
        path = (*index_path, index)
        best: tuple[int, str] | None = None
        for pred in join.predecessors:
            iterations = succeeded[pred].get(path)
            if iterations and (best is None or max(iterations) > best[0]):
                best = (max(iterations), pred)
        if best is None:
            names = " or ".join(f"{pred}/{layout.task_id(pred, path)}" for pred in join.predecessors)
            raise BadInput(f"input task {ir.name}/{run_id}/{names} of join {join.name!r} has not succeeded")
        address = TaskAddress(ir.name, run_id, best[1], layout.task_id(best[1], path, best[0]))
        task_record = read_task(storage, address)
        if task_record is None:  # pragma: no cover - listed a moment ago; records are never deleted
            raise BadInput(f"input task {address.pathspec} has not succeeded")
        inputs.append(InputTask(address, task_record))
    return inputs


def _succeeded_tasks(
    storage: Storage, ir: FlowIR, step: str, run_id: str
) -> dict[tuple[int, ...], list[int]]:
    """``{index path: [iterations]}`` of the successful tasks of ``step``."""
    depth = ir.step(step).foreach_depth
    prefix = layout.step_prefix(ir.name, run_id, step)
    found: dict[tuple[int, ...], list[int]] = {}
    for key in storage.list(prefix):
        head, _, name = key.rpartition("/")
        if name != "task.json":
            continue
        task = head.rsplit("/", 1)[-1]
        try:
            found_step, path, iteration = layout.parse_task_id(task, depth)
        except ValueError:
            continue
        if found_step != step:
            continue
        found.setdefault(path, []).append(iteration)
    return found


def _latest(
    storage: Storage, ir: FlowIR, pred: str, run_id: str, index_path: tuple[int, ...], join: Step
) -> InputTask:
    """The static-split branch end ``pred`` at ``index_path``, latest iteration present."""
    iterations = _succeeded_tasks(storage, ir, pred, run_id).get(index_path)
    if not iterations:
        raise BadInput(
            f"input task {ir.name}/{run_id}/{pred}/{layout.task_id(pred, index_path)} of join {join.name!r} "
            "has not succeeded"
        )
    address = TaskAddress(ir.name, run_id, pred, layout.task_id(pred, index_path, max(iterations)))
    record = read_task(storage, address)
    if record is None:  # pragma: no cover - listed a moment ago
        raise BadInput(f"input task {address.pathspec} has not succeeded")
    return InputTask(address, record)


def _chosen_predecessor(
    storage: Storage, ir: FlowIR, step: Step, run_id: str, index_path: tuple[int, ...], iteration: int
) -> InputTask:
    """Of the possible predecessors, the one that exists and whose control record chose ``step``."""
    tried = []
    for name in step.predecessors:
        pred = ir.step(name)
        back_edge = step.name in pred.loop_targets
        pred_iteration = iteration - 1 if back_edge else iteration
        if pred_iteration < 0:
            continue
        task = layout.task_id(name, index_path[: pred.foreach_depth], pred_iteration)
        address = TaskAddress(ir.name, run_id, name, task)
        tried.append(address.pathspec)
        record = read_task(storage, address)
        if record is None:
            continue
        control = record.get("control") or {}
        if step.name in (control.get("next") or ()) and int(control.get("next_iteration", 0)) == iteration:
            return InputTask(address, record)
    task = layout.task_id(step.name, index_path, iteration)
    raise BadInput(
        f"no input task of {ir.name}/{run_id}/{step.name}/{task} has "
        f"succeeded and chosen it (looked at: {', '.join(tried) or 'nothing'})"
    )
