"""Publishing the events that ``@trigger`` flows start on: ``flowc.events.publish(...)`` and
``flowc event publish NAME [--payload JSON] --target T``, for CI and other systems.

On Argo, an event is a POST of ``{"name", "payload", "timestamp", "id"}`` to the Argo Events
webhook EventSource the flows' Sensors listen to (setting ``argo_events.webhook_url``;
:mod:`flowc.backends.argo.sensor`), as Metaflow's ``ArgoEvent.publish`` does. On Step Functions,
it is one ``PutEvents`` entry on the EventBridge bus ``sfn.event_bus`` whose ``detail`` is that
body (:mod:`flowc.backends.sfn.events`). On Airflow, it is an event of the event's Asset created
through the REST API (setting ``airflow.api_url``), the payload as its ``extra``
(:mod:`flowc.backends.airflow.assets`).
A successful run announces its end as the event :func:`finished_run_event` (Metaflow's
``metaflow.<Flow>.end``), which ``@trigger_on_finish`` flows wait for; :func:`trigger_event`
names what every target's trigger waits for.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from typing import Any

from flowc.ir import Trigger, TriggerKind

__all__ = [
    "EventError",
    "announce_finished_run",
    "event_body",
    "finished_run_event",
    "publish",
    "trigger_event",
]

#: Seconds to wait for the event bus to answer.
TIMEOUT_SECONDS = 10.0


class EventError(RuntimeError):
    """The event cannot be published (one line, for users)."""


def event_body(
    name: str, payload: Mapping[str, Any] | None = None, now: float | None = None
) -> dict[str, Any]:
    """What a flow's trigger receives: the event's name, payload (a JSON object), time and id."""
    if not isinstance(name, str) or not name:
        raise EventError("an event needs a non-empty name")
    if payload is not None and not isinstance(payload, Mapping):
        raise EventError(f"the payload must be a JSON object, not {type(payload).__name__}")
    return {
        "name": name,
        "payload": dict(payload or {}),
        "timestamp": int(time.time() if now is None else now),
        "id": uuid.uuid4().hex,
    }


def publish(
    name: str,
    payload: Mapping[str, Any] | None = None,
    *,
    target: str,
    settings: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Publishes event ``name`` with ``payload`` on ``target``'s event system; returns what was sent.

    Raises:
        EventError: the target cannot receive events, or its event bus did not take this one.
    """
    if settings is None:
        from flowc.config import load_settings

        settings = load_settings()
    body = event_body(name, payload)
    if target == "sfn":
        return _put_on_eventbridge(body, str(settings.get("sfn.event_bus") or "default"))
    if target == "airflow":
        from flowc.backends.airflow.assets import publish_asset_event

        url = settings.get("airflow.api_url")
        if not url:
            raise EventError("set airflow.api_url (FLOWC_AIRFLOW__API_URL): the Airflow REST API")
        return publish_asset_event(body, str(url), settings.get("airflow.token"))
    if target != "argo":
        raise EventError(f"unknown target {target!r}: publish on argo, sfn or airflow")
    url = settings.get("argo_events.webhook_url")
    if not url:
        raise EventError("set argo_events.webhook_url (FLOWC_ARGO_EVENTS__WEBHOOK_URL): the webhook "
                         "EventSource the Sensors of @trigger flows listen to")  # fmt: skip
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    request = urllib.request.Request(
        str(url),
        data=json.dumps(body, sort_keys=True).encode("utf-8"),
        headers={"Content-Type": "application/json", "User-Agent": "flowc"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
            answer.read()
    except (urllib.error.URLError, OSError) as exc:
        raise EventError(f"cannot publish event {name!r} to {urlsplit(str(url)).hostname}: {exc}") from None
    return body


def _put_on_eventbridge(body: dict[str, Any], bus: str) -> dict[str, Any]:
    """One PutEvents entry (boto3's standard configuration: profile, region, AWS_ENDPOINT_URL)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from flowc.backends.sfn.events import event_entry

    try:
        answer = boto3.client("events").put_events(Entries=[event_entry(body, bus)])
    except (BotoCoreError, ClientError) as exc:
        raise EventError(f"cannot publish event {body['name']!r} on EventBridge bus {bus}: {exc}") from None
    if answer.get("FailedEntryCount"):
        (entry,) = answer["Entries"]
        why = f"{entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
        raise EventError(f"EventBridge bus {bus} did not take event {body['name']!r}: {why}")
    return body


def finished_run_event(flow: str) -> str:
    """The event a successful run of ``flow`` publishes (Metaflow's name for it)."""
    return f"metaflow.{flow}.end"


def trigger_event(trigger: Trigger) -> str:
    """The name of the event ``trigger`` waits for: ``@trigger``'s own, or the finish event of
    ``@trigger_on_finish``'s flow."""
    return trigger.name if trigger.kind is TriggerKind.EVENT else finished_run_event(trigger.name)


def announce_finished_run(flow: str, run_id: str, settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """Publishes :func:`finished_run_event` with the run's pathspec (payload ``run``, what
    ``current.trigger.run`` reads) for an Argo run, when ``argo_events.webhook_url`` is set (compile
    writes it into the end-of-run pod); None when there is nowhere to publish. A Step Functions run
    announces its end from its state machine (:func:`flowc.backends.sfn.events.finished_run_entry`).

    Raises:
        EventError: the event bus did not take the event.
    """
    if not run_id.startswith("argo-") or not settings.get("argo_events.webhook_url"):
        return None
    return publish(finished_run_event(flow), {"run": f"{flow}/{run_id}"}, target="argo", settings=settings)
