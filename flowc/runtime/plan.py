"""Which tasks run next: the local runtime's graph walk, as a pure state machine (no processes).

A task is a :class:`flowc.metadata.TaskAddress`: ``(step, foreach index path, iteration)`` in the
plan's run (docs/architecture.md, "Task identity"). When a task succeeds, :meth:`Plan.complete`
takes its control record and returns the tasks that became ready:

* linear / switch: the chosen successor at the same index path, at ``next_iteration``;
* static split: every branch at the same path; foreach: the body at ``path + [i]`` for each split;
* a join waits for one arrival per branch (static split) or per split (foreach), counted from the
  split task's own control record, and runs at the split's index path and iteration.

Loop bodies contain no split, foreach or join (the front end refuses that), so one join task per
(join step, index path) exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flowc.control import Field
from flowc.ir import FlowIR
from flowc.metadata import TaskAddress

__all__ = ["Plan", "PlanError"]


class PlanError(RuntimeError):
    """A control record that contradicts the IR (a task runner bug, or an empty foreach)."""


@dataclass
class _JoinState:
    expected: int
    iteration: int
    arrived: int = 0


@dataclass
class Plan:
    """Walks run ``run_id`` of ``ir`` from ``start``; call :meth:`complete` with each finished
    task's control record."""

    ir: FlowIR
    run_id: str
    _joins: dict[tuple[str, tuple[int, ...]], _JoinState] = field(default_factory=dict)
    _early: dict[tuple[str, tuple[int, ...]], int] = field(default_factory=dict)
    finished: bool = False

    def first(self) -> list[TaskAddress]:
        return [TaskAddress(flow=self.ir.name, run_id=self.run_id, step="start")]

    def complete(self, key: TaskAddress, control: Mapping[str, Any] | None) -> list[TaskAddress]:
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
                raise PlanError(f"task {key.pathspec} recorded no num_splits for its foreach")
            if int(num_splits) == 0:
                where = f" ({step.transition_location})" if step.transition_location else ""
                raise PlanError(f"step {step.name!r}{where}: foreach over an empty list")
            self._expect(step, key, int(num_splits))
            body = step.successors[0]
            return [replace(key, step=body, index_path=(*key.index_path, i)) for i in range(int(num_splits))]
        if step.transition == "split":
            self._expect(step, key, len(step.successors))
            ready = [self._arrive_or_task(key, name, key.iteration) for name in step.successors]
            return [task for task in ready if task is not None]
        if step.transition == "switch":
            chosen = list(control.get(Field.NEXT) or [])
            if len(chosen) != 1 or chosen[0] not in step.successors:
                raise PlanError(f"task {key.pathspec} chose {chosen!r}, not one of {list(step.successors)}")
            found = self._arrive_or_task(key, chosen[0], next_iteration)
            return [found] if found else []
        found = self._arrive_or_task(key, step.successors[0], next_iteration)
        return [found] if found else []

    # ---- joins ---------------------------------------------------------------------------
    def _expect(self, split_step: Any, key: TaskAddress, count: int) -> None:
        join = split_step.matching_join
        if join is None:
            raise PlanError(f"step {split_step.name!r} has no matching join in the IR")
        slot = (join, key.index_path)
        self._joins[slot] = _JoinState(expected=count, iteration=key.iteration)
        # Arrivals can never precede their split's completion; kept for safety with odd graphs.
        self._joins[slot].arrived += self._early.pop(slot, 0)

    def _arrive_or_task(self, source: TaskAddress, target: str, iteration: int) -> TaskAddress | None:
        """The task of ``target`` that ``source`` leads to at ``iteration``, or None while it is a
        join that waits for other arrivals."""
        path = source.index_path
        step = self.ir.step(target)
        if not step.is_join:
            return replace(source, step=target, iteration=iteration)
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
        return replace(source, step=target, index_path=path[:depth], iteration=state.iteration)

    def pending_joins(self) -> list[str]:
        """Joins still waiting for inputs (for messages when a run stalls)."""
        return [
            f"{join} at {list(path)}: {s.arrived}/{s.expected}" for (join, path), s in self._joins.items()
        ]
