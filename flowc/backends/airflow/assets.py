"""``@trigger`` and ``@trigger_on_finish`` on Airflow: each event is an Airflow Asset.

https://airflow.apache.org/docs/apache-airflow/stable/authoring-and-scheduling/asset-scheduling.html

An event named NAME is the asset :func:`event_asset` (``flowc-event:NAME``, the name quoted), on
every DAG that uses it, so the one name is written here only:

* a flow with ``@trigger`` events is scheduled on their assets, all of them, as Metaflow waits
  for every event of ``@trigger(events=[...])`` (a list of assets is all-of in Airflow: the DAG
  runs once each has a new event since its last run);
* every DAG's task of the ``end`` step has the asset of :func:`flowc.events.finished_run_event`
  (``metaflow.<Flow>.end``) as its outlet: Airflow records an event of it only when that task
  succeeds, which is exactly when the run succeeded (flowc.task_runner.finish), so a flow with
  ``@trigger_on_finish(flow=F)`` is scheduled on the asset of ``metaflow.F.end``;
* ``flowc event publish NAME --payload JSON --target airflow`` creates an event of the asset
  through the REST API (``POST /api/v2/assets/events``, the payload as its ``extra``).

The DAG's runtime (:func:`flowc.backends.airflow.dag_runtime.flowc_triggered`) reads the run's
triggering asset events, maps payload fields to parameters and hands the events' bodies to the
start task for ``current.trigger``; an event a finished DAG run recorded gets the payload ``run``
(that run's pathspec), what ``current.trigger.run`` reads.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from flowc.events import EventError, finished_run_event, trigger_event
from flowc.ir import FlowIR, TriggerKind

__all__ = ["EVENT_SCHEME", "event_asset", "finish_asset", "publish_asset_event", "trigger_assets"]

#: The URI scheme of flowc's event assets. An opaque URI (no ``//``): Airflow keeps it as written,
#: where ``scheme://name`` would gain a trailing ``/`` when it normalises the URI.
EVENT_SCHEME = "flowc-event"


def event_asset(name: str) -> str:
    """The URI (and name) of the asset of event ``name``: every character but letters, digits and
    ``_.-~`` quoted, so that Airflow's URI parsing leaves it whole."""
    return f"{EVENT_SCHEME}:{urllib.parse.quote(name, safe='')}"


def finish_asset(ir: FlowIR) -> str:
    """The asset a successful run of ``ir`` updates (the outlet of its ``end`` task)."""
    return event_asset(finished_run_event(ir.name))


def trigger_assets(ir: FlowIR) -> list[tuple[str, tuple[str, str | None, tuple[tuple[str, str], ...]]]]:
    """``(asset, (event name, the finished flow or None, (parameter, payload field) pairs))`` for
    each trigger of the flow, sorted by asset: the DAG's schedule and its runtime's ``TRIGGERS``."""
    rules = {}
    for trigger in ir.triggers:
        flow = trigger.name if trigger.kind is TriggerKind.FLOW else None
        name = trigger_event(trigger)
        rules[event_asset(name)] = (name, flow, trigger.parameters)
    return sorted(rules.items())


def publish_asset_event(body: Mapping[str, Any], api_url: str, token: str | None) -> dict[str, Any]:
    """Creates an event of the asset of the event ``body`` (:func:`flowc.events.event_body`), its
    payload as the asset event's ``extra``; returns the body with Airflow's id of the event.

    Raises:
        EventError: no DAG on this Airflow uses the event, or the API refused the event.
    """
    from flowc.backends.airflow.trigger import AirflowApi

    name = body["name"]
    uri = event_asset(name)
    api = AirflowApi(api_url, token)
    try:
        # uri_pattern is a substring (LIKE) match, where "_" matches any character: keep the exact one.
        found = api.request("GET", f"/api/v2/assets?uri_pattern={urllib.parse.quote(uri)}&limit=100")
        ids = [asset["id"] for asset in found.get("assets", []) if asset.get("uri") == uri]
        if not ids:
            raise EventError(
                f"no DAG on the Airflow at {api_url} is scheduled on event {name!r} (asset {uri}): "
                "deploy a flow that triggers on it first"
            )
        event = {"asset_id": ids[0], "extra": dict(body["payload"])}
        created = api.request("POST", "/api/v2/assets/events", event)
    except (RuntimeError, OSError) as exc:
        raise EventError(f"cannot publish event {name!r} on Airflow: {exc}") from None
    return {**body, "id": str(created.get("id", body["id"]))}
