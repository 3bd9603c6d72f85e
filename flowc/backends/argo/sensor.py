"""``@trigger`` on Argo: an Argo Events Sensor that submits a Workflow from the flow's WorkflowTemplate.

https://argoproj.github.io/argo-events/sensors/triggers/argo-workflow/

Events reach Argo Events through one webhook EventSource (setting ``argo_events.event_source``,
its event ``argo_events.event_name``), as Metaflow's do: ``flowc event publish NAME`` posts
``{"name": NAME, "payload": {...}, "timestamp": ...}`` to it (:mod:`flowc.events`). Each event of
the flow is a dependency filtered on ``body.name``; with several, Argo Events waits for all of them
(its default), as Metaflow's ``@trigger(events=[...])``. ``@trigger_on_finish(flow=F)`` is a
dependency on the event ``metaflow.F.end`` that the end-of-run step of F's successful Argo runs
publishes (:func:`flowc.events.announce_finished_run`), as Metaflow names it. Each ``parameters``
mapping becomes a trigger parameter copying ``body.payload.<field>`` into the Workflow's argument
of that parameter.
Each event's whole body is appended to the Workflow's ``flowc-events`` argument (a ``dataKey`` naming
an object copies its JSON text; ``operation: append``), where the start task reads the bodies for
``current.trigger`` (flowc.authoring.run_trigger): data, never a command line.
https://argoproj.github.io/argo-events/APIs/#argoproj.io/v1alpha1.TriggerParameter
"""

from __future__ import annotations

from typing import Any

from flowc.backends.argo.containers import EVENTS_PARAMETER
from flowc.backends.naming import dns_label
from flowc.config import Settings
from flowc.events import trigger_event
from flowc.ir import FlowIR

__all__ = ["EVENTS_API_VERSION", "sensor_document", "sensor_name"]

EVENTS_API_VERSION = "argoproj.io/v1alpha1"


def sensor_name(template: str) -> str:
    return dns_label(f"{template}-sensor")


def sensor_document(
    ir: FlowIR, settings: Settings, template: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    """The Sensor starting runs of WorkflowTemplate ``template`` on the flow's events."""
    source = str(settings["argo_events.event_source"])
    event_name = str(settings["argo_events.event_name"])
    dependencies = []
    parameters = []
    arguments: dict[str, int] = {}
    bodies = []
    for trigger in ir.triggers:
        event = trigger_event(trigger)
        dependency = dns_label(f"{trigger.kind.value}-{trigger.name}")
        dependencies.append(
            {
                "name": dependency,
                "eventSourceName": source,
                "eventName": event_name,
                "filters": {"data": [{"path": "body.name", "type": "string", "value": [event]}]},
            }
        )
        bodies.append({"dependencyName": dependency, "dataKey": "body"})
        for parameter, payload_field in trigger.parameters:
            index = arguments.setdefault(parameter, len(arguments))
            parameters.append(
                {
                    "src": {"dependencyName": dependency, "dataKey": f"body.payload.{payload_field}"},
                    "dest": f"spec.arguments.parameters.{index}.value",
                }
            )
    events_index = len(arguments)
    parameters += [
        {"src": body, "dest": f"spec.arguments.parameters.{events_index}.value", "operation": "append"}
        for body in bodies
    ]
    placeholders = [*arguments, EVENTS_PARAMETER]
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"generateName": f"{template[:57]}-"},
        "spec": {
            "workflowTemplateRef": {"name": template},
            # Placeholders the trigger parameters overwrite, in this order (the events' bodies are
            # appended to the last); the others keep the template's own defaults.
            "arguments": {"parameters": [{"name": name, "value": ""} for name in placeholders]},
        },
    }
    submit = {"operation": "submit", "source": {"resource": workflow}, "parameters": parameters}
    return {
        "apiVersion": EVENTS_API_VERSION,
        "kind": "Sensor",
        "metadata": {"name": sensor_name(template), **metadata},
        "spec": {
            "dependencies": dependencies,
            "triggers": [{"template": {"name": "submit", "argoWorkflow": submit}}],
        },
    }
