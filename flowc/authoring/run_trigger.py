"""``current.trigger``: the events (or the finished runs) that started the run, as Metaflow's
``metaflow.events.Trigger``.

An engine hands the start task the triggering events' bodies (``{"name", "payload", "timestamp",
"id"}``, what :func:`flowc.events.event_body` publishes) under the parameters key ``EVENTS_KEY``:
a JSON list, or the JSON objects written one after the other (Argo Events appends each
dependency's body to one Workflow argument). The timestamp is seconds since the epoch, or an ISO
8601 time (a Step Functions run's finish event: a state machine cannot compute the former). The
start task keeps them, normalised by
:func:`trigger_events`, in the run record (``trigger``); every task reads them back from there.
An event whose payload carries a finished run's pathspec (``run``, as the end-of-run step of an
``@trigger_on_finish`` producer publishes it) is of type ``run``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, NamedTuple

__all__ = ["Trigger", "TriggerEvent", "trigger_events"]


class TriggerEvent(NamedTuple):
    """One triggering event: Metaflow's ``MetaflowEvent`` fields, plus the event's ``payload``."""

    name: str
    id: str | None
    timestamp: datetime | None
    type: str  # "event" or "run"
    payload: Mapping[str, Any]


def _bodies(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return [value]
    if not isinstance(value, str):
        raise ValueError(f"the triggering events must be JSON objects, not {type(value).__name__}")
    decoder, bodies, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(value) and value[at] in " \t\r\n,":
            at += 1
        if at == len(value):
            return bodies
        body, at = decoder.raw_decode(value, at)
        bodies.append(body)


def trigger_events(value: Any) -> list[dict[str, Any]]:
    """The triggering events as the run record keeps them, from what an engine passed.

    Raises:
        ValueError: ``value`` is not JSON objects with a name.
    """
    events = []
    for body in _bodies(value):
        if not isinstance(body, Mapping) or not isinstance(body.get("name"), str):
            raise ValueError("each triggering event must be a JSON object with a name")
        payload = body.get("payload") if isinstance(body.get("payload"), Mapping) else {}
        events.append(
            {
                "name": body["name"],
                "id": None if body.get("id") is None else str(body["id"]),
                "timestamp": _epoch_seconds(body.get("timestamp")),
                "type": "run" if isinstance(payload.get("run"), str) else "event",
                "payload": dict(payload),
            }
        )
    return events


def _epoch_seconds(timestamp: Any) -> int | float | None:
    """An event's time as seconds since the epoch: a number as it is, an ISO 8601 string converted."""
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        return timestamp
    if isinstance(timestamp, str):
        try:
            return datetime.fromisoformat(timestamp).timestamp()
        except ValueError:
            return None
    return None


class Trigger:
    """What started the run: :attr:`event` (the latest), :attr:`events`, and for a finished flow
    :attr:`run` / :attr:`runs` (client ``Run`` objects); ``trigger[name]`` is the run of flow
    ``name``, else the event of that name."""

    def __init__(self, events: list[Mapping[str, Any]]) -> None:
        ordered = sorted(events, key=lambda e: e.get("timestamp") or float("-inf"), reverse=True)
        self._events = [
            TriggerEvent(
                name=e["name"],
                id=e.get("id"),
                timestamp=datetime.fromtimestamp(e["timestamp"]) if e.get("timestamp") else None,
                type=e.get("type", "event"),
                payload=dict(e.get("payload") or {}),
            )
            for e in ordered
        ]

    @property
    def event(self) -> TriggerEvent | None:
        return next(iter(self._events), None)

    @property
    def events(self) -> list[TriggerEvent] | None:
        return list(self._events) or None

    @property
    def runs(self) -> list[Any] | None:
        from flowc.client.objects import Run, _store_for

        runs = []
        for event in self._events:
            if event.type == "run":
                flow, run_id = str(event.payload["run"]).split("/")[:2]
                runs.append(Run._from_parts(_store_for(None), flow, run_id))
        return runs or None

    @property
    def run(self) -> Any:
        return next(iter(self.runs or ()), None)

    def __getitem__(self, key: str) -> Any:
        for event in self._events:
            if event.type == "run" and str(event.payload["run"]).split("/")[0] == key:
                return next(r for r in self.runs or () if r.path_components[0] == key)
        for event in self._events:
            if event.name == key:
                return event
        raise KeyError(key)

    def __iter__(self) -> Iterator[TriggerEvent]:
        return iter(self._events)

    def __contains__(self, key: str) -> bool:
        try:
            return bool(self[key])
        except KeyError:
            return False

    def __repr__(self) -> str:
        return f"Trigger({[e.name for e in self._events]!r})"
