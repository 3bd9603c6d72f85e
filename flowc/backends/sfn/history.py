"""Keeping a foreach inside Step Functions' execution history quota.

A Standard execution fails once its history holds 25,000 events, and so does each child
execution of a Distributed Map (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html,
https://docs.aws.amazon.com/step-functions/latest/dg/bp-history-limit.html). An inline Map's
iterations all land in the history of the execution that runs it, so a foreach's cost is its
width times the events one item's states add: six for a ``.sync`` Task, two for a Pass or
Choice, four around a Parallel or Map, plus the two iteration events. The lowering uses that
count to size the chunks each inner Map (and so each distributed child) runs, and to send a
top-level foreach to the Distributed Map before its inline iterations could fill the history.

What is not known at compile time counts once: the width of a nested foreach and the rounds of
a loop inside the body (docs/targets.md#sfn says how to stay within the quota then).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = ["FOREACH_EVENTS", "MAX_CHUNK", "chunk_size", "events_per_item", "inline_limit"]

#: History events one foreach's items may use, of the execution's 25,000 (the rest are left to
#: the flow's other states).
FOREACH_EVENTS = 20_000
#: Items per chunk at most: ``States.ArrayRange`` makes at most 1,000
#: (https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-arrays).
MAX_CHUNK = 1000
_EVENTS = MappingProxyType({"Task": 6, "Pass": 2, "Choice": 2, "Fail": 2, "Succeed": 2, "Wait": 3})
#: Entered, started, succeeded and exited events of a Map or Parallel state.
_COMPOUND_EVENTS = 4
#: A Map iteration's own started and succeeded events.
_ITERATION_EVENTS = 2


def _scope_events(states: Mapping[str, Any]) -> int:
    total = 0
    for state in states.values():
        kind = state["Type"]
        if kind == "Parallel":
            total += _COMPOUND_EVENTS + sum(_scope_events(b["States"]) for b in state["Branches"])
        elif kind == "Map":
            total += _COMPOUND_EVENTS + events_per_item(state["ItemProcessor"]["States"])
        else:
            total += _EVENTS.get(kind, _EVENTS["Task"])
    return total


def events_per_item(states: Mapping[str, Any]) -> int:
    """History events one iteration of a Map over ``states`` adds (a nested Map counted once)."""
    return _ITERATION_EVENTS + _scope_events(states)


def chunk_size(events: int) -> int:
    """Items per inner Map for a body of ``events`` per item: within the budget, 1 to 1,000."""
    return max(1, min(MAX_CHUNK, FOREACH_EVENTS // max(1, events)))


def inline_limit(events: int, configured: int) -> int:
    """The widest foreach that may run inline: the configured threshold, or less for a long body."""
    return max(1, min(configured, FOREACH_EVENTS // max(1, events)))
