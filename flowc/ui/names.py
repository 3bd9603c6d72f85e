"""Names that may appear in a UI URL: flow, run, step, task and artifact names.

Every name from a URL is checked before it becomes part of a datastore key, so no URL can reach
outside the datastore. The rules are flowc's one set (:mod:`flowc.ids`): flow and step names are
Python identifiers; run and task ids (and artifact names) are one path segment, never ``.`` or
``..`` (decoded ``%2e%2e`` included), never empty, never holding ``/`` or ``\\`` (decoded ``%2f``
included), at most 255 bytes.
"""

from __future__ import annotations

from flowc.ids import InvalidId, check_flow_name, check_run_id, check_step_name, check_task_id

__all__ = ["BadName", "check_name"]

#: kind of name -> its check (an artifact's name is looked up, never a path: one segment suffices).
_CHECKS = {
    "flow": check_flow_name,
    "run": check_run_id,
    "step": check_step_name,
    "task": check_task_id,
    "artifact": check_task_id,
}


class BadName(ValueError):
    """A name from a URL that cannot name anything in the datastore."""


def check_name(kind: str, value: str) -> str:
    """``value`` if it is a valid name of its kind, else :class:`BadName` (one line, says why)."""
    try:
        return _CHECKS.get(kind, check_run_id)(value)
    except InvalidId:
        raise BadName(f"invalid {kind} name {value!r}") from None
