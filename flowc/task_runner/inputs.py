"""Finding a task's input task(s) from the IR and the datastore (docs/architecture.md, "Task identity").

Nobody passes task ids: a task derives its inputs from its own identity (step, foreach index path,
iteration), the graph, and what the datastore holds (``task.json`` means a task succeeded; the
control record says which step it chose and how wide its foreach was).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flowc.control import Field
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
        # One input per branch, through whichever of its end steps ran (Step.branch_ends).
        return [
            _arrival(
                storage,
                ir,
                step,
                {pred: _succeeded_tasks(storage, ir, pred, run_id) for pred in ends},
                run_id,
                index_path,
            )
            for ends in step.branch_ends
        ]
    return [_chosen_predecessor(storage, ir, step, run_id, index_path, iteration)]


def foreach_split_record(
    storage: Storage, flow: str, split: Step, run_id: str, index_path: Sequence[int], iteration: int
) -> dict[str, Any]:
    """The ``task.json`` of the foreach task at ``index_path`` (BadInput if it has not succeeded)."""
    address = TaskAddress(
        flow=flow, run_id=run_id, step=split.name, index_path=tuple(index_path), iteration=iteration
    )
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
    num_splits = int(record["control"][Field.NUM_SPLITS])
    # One listing per predecessor step instead of one lookup per (index, iteration) candidate.
    succeeded = {pred: _succeeded_tasks(storage, ir, pred, run_id) for pred in join.predecessors}
    return [
        _arrival(storage, ir, join, succeeded, run_id, (*index_path, index)) for index in range(num_splits)
    ]


def _arrival(
    storage: Storage,
    ir: FlowIR,
    join: Step,
    succeeded: dict[str, dict[tuple[int, ...], list[int]]],
    run_id: str,
    path: tuple[int, ...],
) -> InputTask:
    """The one task through which a branch (or a foreach index) reached ``join`` at ``path``: of
    the steps it can arrive through (``succeeded``: their successful tasks), the task at the
    latest iteration whose control record chose the join. Several steps when they are the cases
    of a switch leading straight into the join (only the case that ran counts, as in Metaflow),
    or a switch and its own case leading there through another step."""
    candidates = sorted(
        ((max(iterations), pred) for pred, by_path in succeeded.items() if (iterations := by_path.get(path))),
        key=lambda found: -found[0],
    )
    for found_iteration, pred in candidates:
        address = TaskAddress(
            flow=ir.name, run_id=run_id, step=pred, index_path=path, iteration=found_iteration
        )
        record = read_task(storage, address)
        if record is None:  # pragma: no cover - listed a moment ago; records are never deleted
            continue
        if join.name in ((record.get("control") or {}).get(Field.NEXT) or ()):
            return InputTask(address, record)
    names = " or ".join(f"{pred}/{layout.task_id(pred, path)}" for pred in succeeded)
    raise BadInput(f"input task {ir.name}/{run_id}/{names} of join {join.name!r} has not succeeded")


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
        address = TaskAddress(
            flow=ir.name,
            run_id=run_id,
            step=name,
            index_path=index_path[: pred.foreach_depth],
            iteration=pred_iteration,
        )
        tried.append(address.pathspec)
        record = read_task(storage, address)
        if record is None:
            continue
        control = record.get("control") or {}
        chosen = control.get(Field.NEXT) or ()
        if step.name in chosen and int(control.get(Field.NEXT_ITERATION, 0)) == iteration:
            return InputTask(address, record)
    task = layout.task_id(step.name, index_path, iteration)
    raise BadInput(
        f"no input task of {ir.name}/{run_id}/{step.name}/{task} has "
        f"succeeded and chosen it (looked at: {', '.join(tried) or 'nothing'})"
    )
