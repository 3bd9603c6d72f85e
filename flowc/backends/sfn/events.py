"""``@trigger`` on Step Functions: an EventBridge rule on the flow's event and a target starting
the state machine, whose input transformer maps payload fields to the execution's parameters.

``flowc event publish NAME --target sfn`` puts ``{"name", "payload", "timestamp", "id"}`` (the
body every target's events have, :func:`flowc.events.event_body`) on the event bus ``sfn.event_bus``
as the ``detail`` of an event of source ``flowc`` and detail-type ``NAME``; the rule matches the
source and the name. The target's ``InputTemplate`` writes ``{"parameters": {...}}``, the execution
input ``flowc trigger`` gives too: each mapped field a placeholder (quoted for a text parameter,
else unquoted so that EventBridge inserts the JSON value;
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html), and the
whole body under ``$events`` for ``current.trigger`` (flowc.authoring.run_trigger).

``@trigger_on_finish(flow=F)`` is the same rule on the event ``metaflow.F.end``
(:func:`flowc.events.trigger_event`), which every successful run of F puts on the bus from its state
machine (:func:`finished_run_entry`), its payload ``{"run": "F/<run id>"}`` read by
``current.trigger.run``.

A rule fires on one event: ``@trigger(events=[a, b])`` or ``@trigger_on_finish(flows=[a, b])``,
which wait for both, are refused on this target (flowc.backends.sfn.checks), as Metaflow refuses
every trigger on Step Functions.
Rule names allow ``[.\\-_A-Za-z0-9]``, at most 64 characters
(https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html).
"""

from __future__ import annotations

import json
from typing import Any

from flowc.backends.sfn.intrinsics import escape
from flowc.backends.sfn.naming import aws_name
from flowc.config import Settings
from flowc.events import finished_run_event, trigger_event
from flowc.ir import FlowIR, TriggerKind
from flowc.parameter_values import EVENTS_KEY

__all__ = [
    "EVENT_SOURCE",
    "RULE_NAME_MAX",
    "TARGET_ID",
    "event_entry",
    "event_rule",
    "finished_run_entry",
    "planned_event_rule",
    "rule_name",
]

#: The ``source`` of the events ``flowc event publish`` puts on EventBridge.
EVENT_SOURCE = "flowc"
#: EventBridge's longest rule name.
RULE_NAME_MAX = 64
#: The id of the one target of a flow's rule.
TARGET_ID = "flowc-start"
#: The InputPathsMap variable holding the whole event body.
_BODY = "event"


def rule_name(deployment: str) -> str:
    """The rule's name for the state machine ``deployment`` (hash-suffixed beyond 64 characters)."""
    return aws_name(f"{deployment}-trigger", max_length=RULE_NAME_MAX)


def event_rule(
    ir: FlowIR, settings: Settings, deployment: str, state_machine_arn: str, role_arn: str
) -> dict[str, Any]:
    """``{"rule": PutRule arguments, "target": PutTargets' one target}`` for the flow's one event
    (or the finish of the one flow it waits for)."""
    (trigger,) = ir.triggers  # several are refused at compile time (checks)
    paths = {_BODY: "$.detail"}
    fields = []
    for index, (parameter, payload_field) in enumerate(trigger.parameters):
        variable = f"p{index}"
        paths[variable] = f"$.detail.payload.{payload_field}"
        # A text parameter's placeholder is quoted (EventBridge inserts the string's characters; moto,
        # which inserts a string unquoted even outside quotes, agrees); any other type's is not, so
        # its JSON value (a number, a bool, an object) is inserted as it is.
        quoted = ir.parameter(parameter).type == "str" or ir.parameter(parameter).is_file
        fields.append(f"{json.dumps(parameter)}: " + (f'"<{variable}>"' if quoted else f"<{variable}>"))
    fields.append(f"{json.dumps(EVENTS_KEY)}: [<{_BODY}>]")
    decorator = "@trigger" if trigger.kind is TriggerKind.EVENT else "@trigger_on_finish"
    return {
        "rule": {
            "Name": rule_name(deployment),
            "EventBusName": str(settings["sfn.event_bus"]),
            "EventPattern": json.dumps({"source": [EVENT_SOURCE], "detail-type": [trigger_event(trigger)]}),
            "State": "ENABLED",
            "Description": f"flowc: {decorator}({trigger.kind.value}={trigger.name!r}) of {ir.name}",
        },
        "target": {
            "Id": TARGET_ID,
            "Arn": state_machine_arn,
            "RoleArn": role_arn,
            "InputTransformer": {
                "InputPathsMap": paths,
                "InputTemplate": '{"parameters": {' + ", ".join(fields) + "}}",
            },
        },
    }


def planned_event_rule(ir: FlowIR, settings: Settings, name: str, role: str | None) -> dict[str, Any]:
    """:func:`event_rule` before the state machine exists (its ARN a placeholder, as the schedule's):
    what compile writes and deploy plans. EventBridge assumes ``sfn.schedule_role`` (else the state
    machine's role) to start executions."""
    events_role = str(settings.get("sfn.schedule_role") or role or "<sfn.role>")
    return event_rule(ir, settings, name, f"<arn of {name}>", events_role)


def event_entry(body: dict[str, Any], bus: str) -> dict[str, Any]:
    """The ``PutEvents`` entry carrying one event ``body`` (what the rule's pattern matches)."""
    return {
        "Source": EVENT_SOURCE,
        "DetailType": body["name"],
        "Detail": json.dumps(body, sort_keys=True),
        "EventBusName": bus,
    }


def finished_run_entry(flow: str, bus: str, run_id_path: str) -> dict[str, Any]:
    """The ``PutEvents`` entry with which a state machine announces its run's end: an
    ``events:putEvents`` Task's ``Entries`` item, :func:`event_entry` of
    :func:`flowc.events.finished_run_event` with the payload ``{"run": "<flow>/<run id>"}``.

    The body is :func:`flowc.events.event_body`'s, filled in by Step Functions: the run id from
    ``run_id_path``, the id ``States.UUID()``, and the time the state was entered (an ISO 8601
    string, which ``current.trigger`` reads as well as a number). The integration serialises
    ``Detail`` when it is an object
    (https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html).
    """
    name = finished_run_event(flow)
    return {
        "Source": EVENT_SOURCE,
        "DetailType": name,
        "Detail": {
            "name": name,
            "payload": {"run.$": f"States.Format('{escape(flow)}/{{}}', {run_id_path})"},
            "id.$": "States.UUID()",
            "timestamp.$": "$$.State.EnteredTime",
        },
        "EventBusName": bus,
    }
