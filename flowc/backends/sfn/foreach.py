"""Lowering a foreach: the width comes from the control record; Maps fan out over index chunks.

``States.ArrayRange`` makes at most 1,000 items
(https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-arrays),
so the fan-out is two Maps: an outer Map over chunk starts ``ArrayRange(0, width - 1, chunk)`` and,
per chunk, an inner Map over ``ArrayRange(start, min(start + chunk - 1, width - 1), 1)``. The chunk
is 1,000 items, or fewer when the body's states would fill an execution's history with 1,000
iterations (:mod:`flowc.backends.sfn.history`); widths up to 1,000 chunks, with no data from
outside the state machine.

At the top level (a foreach outside any other foreach), a Choice sends widths above
``sfn.distributed_map_threshold`` (or above what the body's history allows inline, if less) to a
copy of the same structure whose outer Map is a Distributed Map (child executions, each with its
own 25,000-event history and one chunk, and high concurrency:
https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html). Inner foreach
Maps stay inline. A width of 0 goes straight to the join.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flowc.backends.sfn.context import CONTEXT_FIELDS, Lowering
from flowc.backends.sfn.control import picked, read_states, recorded
from flowc.backends.sfn.history import MAX_CHUNK, chunk_size, events_per_item, inline_limit
from flowc.backends.sfn.naming import state_name
from flowc.control import Field
from flowc.ir import FlowIR, Step

__all__ = ["DISTRIBUTED_COPY", "MAX_CHUNK", "foreach_states"]

#: Appended to the state names of the Distributed Map's copy of a foreach body (names are unique
#: in the whole state machine).
DISTRIBUTED_COPY = "~d"


def foreach_states(
    ir: FlowIR, step: Step, lowering: Lowering, stop: str | None, in_map: bool
) -> dict[str, Any]:
    """The states after ``step``'s Task state (which goes to ``<step>.read``) up to its join."""
    names = {part: state_name(f"{step.name}.{part}", lowering.copy) for part in ("read", "width", "route")}
    states: dict[str, Any] = {}
    picks = {
        f"{Field.NUM_SPLITS}.$": recorded(Field.NUM_SPLITS),
        "last.$": f"States.MathAdd({recorded(Field.NUM_SPLITS)}, -1)",
    }
    states.update(read_states(step.name, lowering, names["read"], names["width"], picks, names["route"]))
    join = step.matching_join
    assert join is not None
    skip = {
        "Variable": picked(Field.NUM_SPLITS),
        "NumericEquals": 0,
        "Next": state_name(join, lowering.copy),
    }
    choices = [skip]
    copies = [(lowering, False)]
    from flowc.backends.sfn.graph import lower_scope

    events = events_per_item(
        lower_scope(ir, step.successors[0], step.matching_join, lowering, True)["States"]
    )
    chunk = chunk_size(events)
    if not step.foreach_stack and not lowering.copy:
        distributed = replace(lowering, copy=DISTRIBUTED_COPY)
        copies.append((distributed, True))
        choices.append(
            {
                "Variable": picked(Field.NUM_SPLITS),
                "NumericGreaterThan": inline_limit(events, lowering.distributed_threshold),
                "Next": state_name(f"{step.name}.chunks", DISTRIBUTED_COPY),
            }
        )
    for copy_lowering, is_distributed in copies:
        states.update(_fan_out(ir, step, lowering, copy_lowering, is_distributed, stop, in_map, chunk))
    states[names["route"]] = {
        "Type": "Choice",
        "Choices": choices,
        "Default": state_name(f"{step.name}.chunks", lowering.copy),
    }
    return states


def _fan_out(
    ir: FlowIR,
    step: Step,
    lowering: Lowering,
    body: Lowering,
    distributed: bool,
    stop: str | None,
    in_map: bool,
    chunk: int,
) -> dict[str, Any]:
    """Chunk starts, the outer Map (inline or distributed) and its inner Map over one chunk."""
    from flowc.backends.sfn.graph import link, lower_scope

    def name(part: str) -> str:
        return state_name(f"{step.name}.{part}", body.copy)

    carried = {f"{field}.$": f"$.{field}" for field in CONTEXT_FIELDS}
    if step.foreach_stack:
        carried.update({"index.$": "$.index", "base.$": "$.base"})
    outer_selector = {**carried, "start.$": "$$.Map.Item.Value", "last.$": "$.control.last"}
    if step.foreach_stack:
        index = "States.Format('{},{}', $.index, $$.Map.Item.Value)"
        base = "States.Format('{}-{}', $.base, $$.Map.Item.Value)"
    else:
        index = "States.Format('{}', $$.Map.Item.Value)"
        base = "States.Format('-{}', $$.Map.Item.Value)"
    inner_selector = {f"{field}.$": f"$.{field}" for field in CONTEXT_FIELDS}
    inner_selector.update({"index.$": index, "base.$": base})

    chunk_states: dict[str, Any] = {
        name("bounds"): {
            "Type": "Pass",
            "Parameters": {"end.$": f"States.MathAdd($.start, {chunk - 1})"},
            "ResultPath": "$.bounds",
            "Next": name("clip"),
        },
        name("clip"): {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.bounds.end", "NumericGreaterThanPath": "$.last", "Next": name("last")}
            ],
            "Default": name("items"),
        },
        name("last"): {
            "Type": "Pass",
            "Parameters": {"end.$": "$.last"},
            "ResultPath": "$.bounds",
            "Next": name("items"),
        },
        name("items"): {
            "Type": "Pass",
            "Parameters": {"indices.$": "States.ArrayRange($.start, $.bounds.end, 1)"},
            "ResultPath": "$.bounds",
            "Next": name("each"),
        },
        name("each"): {
            "Type": "Map",
            "ItemsPath": "$.bounds.indices",
            "ItemSelector": inner_selector,
            "ItemProcessor": {
                "ProcessorConfig": {"Mode": "INLINE"},
                **lower_scope(ir, step.successors[0], step.matching_join, body, True),
            },
            "ResultPath": None,
        },
    }
    link(chunk_states[name("each")], None, "", body, True)
    if body.max_concurrency:
        # --max-workers: items of this foreach running at once. The chunks then run one after
        # another (the outer Map at 1), so the bound holds whatever the width.
        # https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html#map-state-inline-additional-fields
        chunk_states[name("each")]["MaxConcurrency"] = body.max_concurrency
    processor_config: dict[str, str] = {"Mode": "INLINE"}
    if distributed:
        processor_config = {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    outer: dict[str, Any] = {
        "Type": "Map",
        "ItemsPath": "$.chunks.starts",
        "ItemSelector": outer_selector,
        "ItemProcessor": {
            "ProcessorConfig": processor_config,
            "StartAt": name("bounds"),
            "States": chunk_states,
        },
        "ResultPath": None,
    }
    if body.max_concurrency:
        outer["MaxConcurrency"] = 1
    # The join is in the enclosing scope: linked with the enclosing scope's names.
    link(outer, step.matching_join, stop, lowering, in_map)
    return {
        name("chunks"): {
            "Type": "Pass",
            "Parameters": {"starts.$": f"States.ArrayRange(0, $.control.last, {chunk})"},
            "ResultPath": "$.chunks",
            "Next": name("fan-out"),
        },
        name("fan-out"): outer,
    }
