"""The engine's structural rules of a state machine definition, checked when it is compiled.

What ``CreateStateMachine`` rejects as ``InvalidDefinition`` about the graph of states, checked
in-process (a few milliseconds for 200 steps) so a lowering bug is a compile error naming the
state, not a failed deploy: ``StartAt`` and every ``Next`` / ``Default`` / Choice rule name a
state of the same ``States`` block (a Parallel branch and a Map's item processor are blocks of
their own); a state that neither chooses nor ends the run has exactly one of ``Next`` and
``End: true``; every state is reachable from ``StartAt``; state names have at most 80 characters.
https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html
https://states-language.net/spec.html#state-transitions
The field-level rules (intrinsic functions, paths, limits) stay with npm's asl-validator and moto's
parser in the tests (``tests/sfn/test_validate.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["definition_problems"]

#: https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html (state names).
STATE_NAME_MAX = 80
_TYPES = {"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}
#: States that end their block without ``End`` (Choice moves on through its rules).
_NO_NEXT = {"Choice", "Succeed", "Fail"}


def definition_problems(definition: Mapping[str, Any]) -> list[str]:
    """Every structural problem of ``definition`` (empty when the engine's graph rules hold)."""
    return list(_block_problems(definition, "the definition"))


def _block_problems(block: Mapping[str, Any], where: str) -> Iterator[str]:
    states: Mapping[str, Any] = block.get("States") or {}
    start = block.get("StartAt")
    if start not in states:
        yield f"{where}: StartAt {start!r} names no state of its block"
    for name, state in states.items():
        if len(name) > STATE_NAME_MAX:
            yield f"state {name!r}: its name is longer than {STATE_NAME_MAX} characters"
        kind = state.get("Type")
        if kind not in _TYPES:
            yield f"state {name!r}: unknown Type {kind!r}"
            continue
        for target in _targets(state):
            if target not in states:
                yield f"state {name!r}: goes to {target!r}, which is not a state of its block"
        if kind == "Choice" and not state.get("Choices"):
            yield f"state {name!r}: a Choice without rules"
        if kind not in _NO_NEXT and ("Next" in state) == bool(state.get("End")):
            yield f"state {name!r}: needs exactly one of Next and End"
        for i, branch in enumerate(state.get("Branches") or ()):
            yield from _block_problems(branch, f"state {name!r}, branch {i}")
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor is not None:
            yield from _block_problems(processor, f"state {name!r}, item processor")
    unreachable = sorted(set(states) - _reachable(states, start))
    if unreachable and start in states:
        yield f"{where}: state(s) no path from StartAt reaches: {', '.join(map(repr, unreachable))}"


def _targets(state: Mapping[str, Any]) -> Iterator[str]:
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for rule in state.get("Choices") or ():
        yield rule.get("Next")
    for catcher in state.get("Catch") or ():
        yield catcher.get("Next")


def _reachable(states: Mapping[str, Any], start: Any) -> set[str]:
    seen: set[str] = set()
    pending = [start] if start in states else []
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(t for t in _targets(states[name]) if t in states and t not in seen)
    return seen
