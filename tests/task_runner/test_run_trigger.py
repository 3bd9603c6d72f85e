"""``current.trigger``'s events: what an engine passes under ``$events`` read back as Metaflow's
``Trigger`` shows them (latest first, by name, a finished run's event of type ``run``)."""

from __future__ import annotations

import pytest

from flowc.authoring.run_trigger import Trigger, trigger_events


def test_appended_bodies_and_a_list_read_the_same() -> None:
    a = {"name": "a", "payload": {"x": 1}, "timestamp": 100, "id": "1"}
    b = {"name": "b", "payload": {"run": "Up/argo-1"}, "timestamp": 200, "id": "2"}
    import json

    appended = json.dumps(a) + json.dumps(b)  # Argo Events' `append` of two bodies
    assert trigger_events(appended) == trigger_events([a, b])
    events = trigger_events([a, b])
    assert [(e["name"], e["type"]) for e in events] == [("a", "event"), ("b", "run")]

    trigger = Trigger(events)
    assert trigger.event.name == "b"  # the latest
    assert [e.name for e in trigger] == ["b", "a"]
    assert trigger["a"].payload == {"x": 1} and "a" in trigger and "c" not in trigger
    assert trigger.event.timestamp.timestamp() == 200


@pytest.mark.parametrize("bad", ["{not json", "[1]", '{"payload": {}}', 3])
def test_what_is_not_events_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        trigger_events(bad)


@pytest.mark.parametrize(
    ("timestamp", "seconds"),
    [
        (200, 200),
        ("2026-12-07T07:45:05.5Z", 1796629505.5),  # Step Functions' $$.State.EnteredTime
        ("2026-12-07T07:45:05.5+00:00", 1796629505.5),
        ("yesterday", None),
        (None, None),
    ],
)
def test_a_timestamp_is_seconds_or_an_iso_time(timestamp: object, seconds: float | None) -> None:
    (event,) = trigger_events([{"name": "a", "timestamp": timestamp}])
    assert event["timestamp"] == seconds
