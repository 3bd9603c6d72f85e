"""``current``: facts about the running task (flow, run, step, task ids, retry count, ...).

The task runner sets the facts for the duration of one task in a ``ContextVar``; ``current``
itself holds no state, so nothing leaks between tasks run in one process.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

__all__ = ["Current", "current", "task_facts"]

_FACTS: contextvars.ContextVar[Mapping[str, Any] | None] = contextvars.ContextVar(
    "flowc_current", default=None
)

#: The facts a task runner provides, with their value outside a running task.
FACT_DEFAULTS: Mapping[str, Any] = {
    "flow_name": None,
    "run_id": None,
    "step_name": None,
    "task_id": None,
    "retry_count": 0,
    "origin_run_id": None,
    "is_running_flow": False,
    "username": None,
    "tags": (),
    "namespace": None,
    "parameter_names": (),
    "project_name": None,
    "branch_name": None,
    "is_production": False,
    "project_flow_name": None,
    # ``current.card`` (flowc.cards.collector.CardComponentCollector), in a step with @card only.
    "card": None,
    "is_user_branch": None,
    "graph": None,
    # ``current.trigger`` (flowc.authoring.run_trigger.Trigger): the events that started the run.
    "trigger": None,
}


class Current:
    """Read-only view of the running task's facts; ``current.pathspec`` is ``Flow/run/step/task``."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        facts = _FACTS.get()
        if name == "card" and (facts is None or facts.get("card") is None):
            raise AttributeError("current.card exists only in a step with @card")
        if facts is not None and name in facts:
            return facts[name]
        if name in FACT_DEFAULTS:
            return FACT_DEFAULTS[name]
        raise AttributeError(f"current has no attribute {name!r}")

    @property
    def tags(self) -> set[str]:
        """The run's tags, a set as Metaflow's (a new one on each read: changing it changes nothing)."""
        facts = _FACTS.get()
        return set(facts["tags"]) if facts else set()

    @property
    def task(self) -> Any:
        """The running task as a client :class:`flowc.Task` (None outside a task); it may be
        stored as an artifact and read back anywhere, as Metaflow's ``current.task``."""
        facts = _FACTS.get()
        if not facts or facts.get("task_id") is None:
            return None
        from flowc.client.objects import Task, _store_for

        parts = (facts["flow_name"], facts["run_id"], facts["step_name"], str(facts["task_id"]))
        return Task._from_parts(_store_for(None), *parts)

    @property
    def run(self) -> Any:
        """The running run as a client :class:`flowc.Run` (None outside a task)."""
        facts = _FACTS.get()
        if not facts or facts.get("run_id") is None:
            return None
        from flowc.client.objects import Run, _store_for

        return Run._from_parts(_store_for(None), facts["flow_name"], facts["run_id"])

    def get(self, key: str, default: Any = None) -> Any:
        """``getattr(current, key, default)``, as Metaflow's ``current.get``."""
        return getattr(self, key, default)

    def __contains__(self, key: str) -> bool:
        """``"name" in current``: whether ``current.name`` exists and is not None (Metaflow's rule)."""
        return getattr(self, key, None) is not None

    @property
    def graph(self) -> dict[str, Any]:
        """The flow's graph as Metaflow describes it (steps with their type, line, doc, decorators
        and successors; the nesting of splits; parameters and constants); only inside a task."""
        facts = _FACTS.get()
        if not facts or facts.get("graph") is None:
            raise RuntimeError("Graph is not available")
        return facts["graph"]

    @property
    def tempdir(self) -> str | None:
        """The configured temporary directory (setting ``tempdir``, ``FLOWC_TEMPDIR``; default
        ``.``, the task's working directory, as Metaflow's ``METAFLOW_TEMPDIR``)."""
        from flowc.config import load_settings

        return str(load_settings()["tempdir"])

    @property
    def pathspec(self) -> str | None:
        facts = _FACTS.get()
        if not facts:
            return None
        return "/".join(str(facts[k]) for k in ("flow_name", "run_id", "step_name", "task_id"))

    def __repr__(self) -> str:
        return f"current({dict(_FACTS.get() or {})!r})"


current = Current()


@contextmanager
def task_facts(**facts: Any) -> Iterator[None]:
    """Sets ``current``'s facts for the duration of one task (used by the task runner)."""
    unknown = set(facts) - set(FACT_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown task facts: {sorted(unknown)}")
    token = _FACTS.set({**FACT_DEFAULTS, "is_running_flow": True, **facts})
    try:
        yield
    finally:
        _FACTS.reset(token)
