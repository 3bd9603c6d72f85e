"""Lowering the flow graph into ASL scopes: a sequence of steps until a scope's closing join.

A *scope* is the top level, one branch of a static split (a Parallel branch), or a foreach body
(a Map's item processor). Each step appears once per scope; a switch's cases and a loop's back edge
are plain ``Next`` references inside the scope, which the front end guarantees (cases converge
before the enclosing join; loop bodies hold no split, foreach or join). The walk emits the states
in the order the graph reaches them; what it decides from structure it reads from the IR
(``matching_join`` closes a scope, ``loop_body`` tells a back edge, ``foreach_stack`` whether a
state carries the parameters), and
``tests/sfn/test_compile.py::test_lowered_scopes_agree_with_the_ir_structure`` checks that every
step lands in the scope its ``foreach_stack`` says.

Why a walk at all (issue 13 item 1): the walk is the emission. Each state's ``Next`` is its
step's own successor edge, and which steps make up one branch of a static split is no fact the IR
holds (``foreach_stack`` says which Map a step is in, ``branch_ends`` how a branch arrives at its
join, not which steps it holds), so following the edges from a scope's entry to its
``matching_join`` is the one derivation left, and it is the lowering itself, not a second copy of
the front end's structure analysis.
https://docs.aws.amazon.com/step-functions/latest/dg/state-parallel.html
https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
"""

from __future__ import annotations

from typing import Any

from flowc.backends.sfn.context import Lowering
from flowc.backends.sfn.control import picked, read_states, recorded
from flowc.backends.sfn.naming import state_name
from flowc.backends.sfn.task import task_state
from flowc.control import Field
from flowc.ir import FlowIR, Step

__all__ = ["Scope", "link", "lower_scope"]

Scope = dict[str, Any]  # {"StartAt": ..., "States": {...}}


def link(
    state: dict[str, Any], target: str | None, stop: str | None, lowering: Lowering, in_map: bool
) -> None:
    """Points ``state`` at ``target``, or ends the scope when ``target`` is its closing join."""
    if target is None or target == stop:
        state["End"] = True
        if in_map:
            # Each iteration's output joins the Map's result array: keep it to a few bytes so that
            # 1,000 iterations stay far under the 256 KB payload limit.
            state["OutputPath"] = "$.iteration"
    else:
        state["Next"] = state_name(target, lowering.copy)


def lower_scope(ir: FlowIR, entry: str, stop: str | None, lowering: Lowering, in_map: bool) -> Scope:
    """The ASL scope running ``entry`` and what follows it, up to (not including) ``stop``.

    Args:
        ir: the flow.
        entry: the scope's first step.
        stop: the join that closes the scope (``None`` at the top level).
        lowering: the flow's lowering settings.
        in_map: whether the scope is an iteration of a Map (its outputs are kept small).
    """
    from flowc.backends.sfn.foreach import foreach_states

    states: dict[str, Any] = {}
    pending = [entry]
    done: set[str] = set()
    while pending:
        name = pending.pop(0)
        if name in done or name == stop:
            continue
        done.add(name)
        step = ir.step(name)
        own = state_name(step.name, lowering.copy)
        state = task_state(step, lowering, is_start=step.name == "start")
        states[own] = state
        if step.transition == "split":
            parallel_name = state_name(f"{step.name}.split", lowering.copy)
            state["Next"] = parallel_name
            parallel: dict[str, Any] = {
                "Type": "Parallel",
                "Branches": [lower_scope(ir, s, step.matching_join, lowering, True) for s in step.successors],
                "ResultPath": None,
            }
            link(parallel, step.matching_join, stop, lowering, in_map)
            states[parallel_name] = parallel
            pending.append(step.matching_join)
        elif step.transition == "foreach":
            state["Next"] = state_name(f"{step.name}.read", lowering.copy)
            states.update(foreach_states(ir, step, lowering, stop, in_map))
            pending.append(step.matching_join)
        elif step.transition == "switch":
            states.update(_switch_states(ir, step, lowering, state, stop, in_map))
            pending.extend(case.target for case in step.switch_cases)
        else:
            link(state, step.successors[0] if step.successors else None, stop, lowering, in_map)
            pending.extend(step.successors)
    return {"StartAt": state_name(entry, lowering.copy), "States": states}


def _switch_states(
    ir: FlowIR, step: Step, lowering: Lowering, state: dict[str, Any], stop: str | None, in_map: bool
) -> dict[str, Any]:
    """The control-record read, the Choice on ``switch_case`` and a Pass per loop back edge."""
    read = state_name(f"{step.name}.read", lowering.copy)
    pick = state_name(f"{step.name}.control", lowering.copy)
    choice = state_name(f"{step.name}.case", lowering.copy)
    state["Next"] = read
    picks = {
        f"{Field.SWITCH_CASE}.$": recorded(Field.SWITCH_CASE),
        f"{Field.NEXT_ITERATION}.$": recorded(Field.NEXT_ITERATION),
    }
    states = read_states(step.name, lowering, read, pick, picks, choice)
    choices = []
    for case in step.switch_cases:
        rule: dict[str, Any] = {"Variable": picked(Field.SWITCH_CASE), "StringEquals": case.key}
        # A back edge: the switch is in the loop of the case's target (the IR's loop facts).
        if step.name in ir.step(case.target).loop_body:
            again = state_name(f"{step.name}.again.{case.key}", lowering.copy)
            context = {name + ".$": f"$.{name}" for name in ("run_id", "index", "base")}
            if not step.foreach_stack:
                context["params.$"] = "$.params"  # only the top level carries the parameters
            states[again] = {
                "Type": "Pass",
                "Parameters": {
                    **context,
                    "iteration.$": f"States.Format('{{}}', {picked(Field.NEXT_ITERATION)})",
                    "suffix.$": f"States.Format('.{{}}', {picked(Field.NEXT_ITERATION)})",
                },
                "Next": state_name(case.target, lowering.copy),
            }
            rule["Next"] = again
        elif case.target == stop:
            end = state_name(f"{step.name}.to.{case.key}", lowering.copy)
            states[end] = {"Type": "Pass"}
            link(states[end], None, stop, lowering, in_map)
            rule["Next"] = end
        else:
            rule["Next"] = state_name(case.target, lowering.copy)
        choices.append(rule)
    # No Default: a case the flow does not declare fails the execution with States.NoChoiceMatched.
    states[choice] = {"Type": "Choice", "Choices": choices}
    return states
