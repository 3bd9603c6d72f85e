"""Which tasks run next: the local runtime's graph walk, as a pure state machine (no processes).

A task is ``(step, foreach index path, iteration)`` (docs/architecture.md, "Task identity"). When a
task succeeds, :meth:`Plan.complete` takes its control record and returns the tasks that became
ready:

* linear / switch: the chosen successor at the same index path, at ``next_iteration``;
* static split: every branch at the same path; foreach: the body at ``path + [i]`` for each split;
* a join waits for one arrival per branch (static split) or per split (foreach), counted from the
  split task's own control record, and runs at the split's index path and iteration.

Loop bodies contain no split, foreach or join (the front end refuses that), so one join task per
(join step, index path) exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowc.control import Field
from flowc.datastore.layout import task_id
from flowc.ir import FlowIR

if TYPE_CHECKING:
    from flowc.metadata import TaskAddress

__all__ = ["Plan", "PlanError", "TaskKey"]


class PlanError(RuntimeError):
    """A control record that contradicts the IR (a task runner bug, or an empty foreach)."""


@dataclass(frozen=True, order=True)
class TaskKey:
    """One task of the run."""

    step: str
    index_path: tuple[int, ...] = ()
    iteration: int = 0

    @property
    def task_id(self) -> str:
        return task_id(self.step, self.index_path, self.iteration)

    def address(self, flow: str, run_id: str) -> TaskAddress:
        """Where this task's records live in run ``run_id`` of ``flow``."""
        from flowc.metadata import TaskAddress

        return TaskAddress(
            flow=flow, run_id=run_id, step=self.step, index_path=self.index_path, iteration=self.iteration
        )

    def __str__(self) -> str:
        return f"{self.step}/{self.task_id}"


@dataclass
class _JoinState:
    expected: int
    iteration: int
    arrived: int = 0


@dataclass
class Plan:
    """Walks ``ir`` from ``start``; call :meth:`complete` with each finished task's control record."""

    ir: FlowIR
    _joins: dict[tuple[str, tuple[int, ...]], _JoinState] = field(default_factory=dict)
    _early: dict[tuple[str, tuple[int, ...]], int] = field(default_factory=dict)
    finished: bool = False

    def first(self) -> list[TaskKey]:
        return [TaskKey("start")]

    def complete(self, key: TaskKey, control: Mapping[str, Any] | None) -> list[TaskKey]:
        """The tasks made ready by the success of ``key`` (``control``: its control record)."""
        step = self.ir.step(key.step)
        control = control or {}
        if step.transition == "end" or not step.successors:
            self.finished = True
            return []
        next_iteration = int(control.get(Field.NEXT_ITERATION, key.iteration) or 0)
        if step.transition == "foreach":
            num_splits = control.get(Field.NUM_SPLITS)
            if num_splits is None:
                raise PlanError(f"task {key} recorded no num_splits for its foreach")
            if int(num_splits) == 0:
                where = f" ({step.transition_location})" if step.transition_location else ""
                raise PlanError(f"step {step.name!r}{where}: foreach over an empty list")
            self._expect(step, key, int(num_splits))
            body = step.successors[0]
            return [TaskKey(body, (*key.index_path, i), key.iteration) for i in range(int(num_splits))]
        if step.transition == "split":
            self._expect(step, key, len(step.successors))
            ready = [self._arrive_or_task(name, key.index_path, key.iteration) for name in step.successors]
            return [task for task in ready if task is not None]
        if step.transition == "switch":
            chosen = list(control.get(Field.NEXT) or [])
            if len(chosen) != 1 or chosen[0] not in step.successors:
                raise PlanError(f"task {key} chose {chosen!r}, not one of {list(step.successors)}")
            found = self._arrive_or_task(chosen[0], key.index_path, next_iteration)
            return [found] if found else []
        found = self._arrive_or_task(step.successors[0], key.index_path, next_iteration)
        return [found] if found else []

    # ---- joins ---------------------------------------------------------------------------
    def _expect(self, split_step: Any, key: TaskKey, count: int) -> None:
        join = split_step.matching_join
        if join is None:
            raise PlanError(f"step {split_step.name!r} has no matching join in the IR")
        slot = (join, key.index_path)
        self._joins[slot] = _JoinState(expected=count, iteration=key.iteration)
        # Arrivals can never precede their split's completion; kept for safety with odd graphs.
        self._joins[slot].arrived += self._early.pop(slot, 0)

    def _arrive_or_task(self, target: str, path: tuple[int, ...], iteration: int) -> TaskKey | None:
        step = self.ir.step(target)
        if not step.is_join:
            return TaskKey(target, path, iteration)
        split = self.ir.step(step.split_of) if step.split_of else None
        depth = split.foreach_depth if split is not None else len(path)
        slot = (target, path[:depth])
        state = self._joins.get(slot)
        if state is None:
            self._early[slot] = self._early.get(slot, 0) + 1
            return None
        state.arrived += 1
        if state.arrived < state.expected:
            return None
        del self._joins[slot]
        return TaskKey(target, path[:depth], state.iteration)

    def pending_joins(self) -> list[str]:
        """Joins still waiting for inputs (for messages when a run stalls)."""
        return [
            f"{join} at {list(path)}: {s.arrived}/{s.expected}" for (join, path), s in self._joins.items()
        ]
