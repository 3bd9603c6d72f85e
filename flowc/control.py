"""The control record: what a task tells the orchestrator that runs it (docs/architecture.md).

A task writes it on success into its ``task.json`` (key ``control``), to ``--control-file`` when
given (Argo and Airflow read it there), and as the last line of its stdout
(``FLOWC_CONTROL <json>``, :data:`CONTROL_PREFIX`). Orchestrators read single fields of it: the
local runtime's plan, Argo's expressions, Step Functions' states, the Airflow DAG runtime. Each
takes the field names from :class:`Field`, so renaming a field is one change here (and a new
``version``).

It is plain JSON, never a pickle, and small: no lists of ids, whatever the fan-out width.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

__all__ = ["CONTROL_PREFIX", "CONTROL_VERSION", "ControlRecord", "Field"]

#: The version of the record's layout; a reader refuses a record of another version.
CONTROL_VERSION = 1
#: The last line of a task's stdout: this prefix, a space, the control record as JSON.
CONTROL_PREFIX = "FLOWC_CONTROL"


class Field(StrEnum):
    """The record's field names, as every writer and reader spells them."""

    VERSION = "version"
    STEP = "step"
    TASK_ID = "task_id"
    INDEX_PATH = "index_path"
    TRANSITION = "transition"
    NUM_SPLITS = "num_splits"
    NEXT = "next"
    SWITCH_CASE = "switch_case"
    ITERATION = "iteration"
    NEXT_ITERATION = "next_iteration"


@dataclass(frozen=True)
class ControlRecord:
    """One task's control record.

    Attributes:
        step: the task's step.
        task_id: its task id (``flowc.datastore.layout.task_id``).
        index_path: its foreach index path (engines that fan out read it, never the id).
        transition: the step's transition (``linear``, ``split``, ``foreach``, ``switch``, ``end``).
        num_splits: for a foreach: how many tasks its body runs (``range(num_splits)``).
        next: the steps that run next (for a switch: the chosen case's target).
        switch_case: for a switch: the chosen case's key.
        iteration: the task's loop iteration.
        next_iteration: the iteration its successors run at (``iteration + 1`` on a loop's back edge).
        version: :data:`CONTROL_VERSION`.
    """

    step: str
    task_id: str
    index_path: tuple[int, ...]
    transition: str
    next: tuple[str, ...] = ()
    num_splits: int | None = None
    switch_case: str | None = None
    iteration: int = 0
    next_iteration: int = 0
    version: int = CONTROL_VERSION

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-compatible data (lists, not tuples)."""
        return {
            Field.VERSION: self.version,
            Field.STEP: self.step,
            Field.TASK_ID: self.task_id,
            Field.INDEX_PATH: list(self.index_path),
            Field.TRANSITION: self.transition,
            Field.NUM_SPLITS: self.num_splits,
            Field.NEXT: list(self.next),
            Field.SWITCH_CASE: self.switch_case,
            Field.ITERATION: self.iteration,
            Field.NEXT_ITERATION: self.next_iteration,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ControlRecord:
        """The record of JSON data; ValueError for another version or a missing field.

        A record without ``version`` is version 1's (written before the field existed).
        """
        version = data.get(Field.VERSION, 1)
        if version != CONTROL_VERSION:
            raise ValueError(f"control record version {version!r}: this flowc reads {CONTROL_VERSION}")
        try:
            num_splits = data[Field.NUM_SPLITS]
            return cls(
                step=str(data[Field.STEP]),
                task_id=str(data[Field.TASK_ID]),
                index_path=tuple(int(i) for i in data[Field.INDEX_PATH]),
                transition=str(data[Field.TRANSITION]),
                next=tuple(str(s) for s in data[Field.NEXT]),
                num_splits=None if num_splits is None else int(num_splits),
                switch_case=data[Field.SWITCH_CASE],
                iteration=int(data[Field.ITERATION]),
                next_iteration=int(data[Field.NEXT_ITERATION]),
            )
        except KeyError as exc:
            raise ValueError(f"control record without field {exc.args[0]!r}") from None
