"""``@trigger`` on Argo, as a user drives it: ``flowc event publish NAME --payload JSON --target argo``
posts the event to the Argo Events webhook EventSource (here a server on 127.0.0.1), and the flow's
Sensor, interpreted as Argo Events does (data filter on ``body.name``, every dependency met,
``dataKey`` copied to the Workflow's arguments, an object as its JSON text, ``append`` appending),
starts a run with the payload mapped to its parameters and the events in ``current.trigger`` on the
Argo executor."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from flowc.backends.argo.backend import compile_flow
from flowc.backends.options import CompileOptions
from flowc.cli import main
from flowc.client import Run
from flowc.frontend import build_ir
from tests.argo.harness import argo_settings, run_flow
from tests.helpers.webhook import webhook_server

FLOW = Path(__file__).parent / "flows" / "event_trigger_flow.py"


def _data(event: dict[str, Any], key: str) -> Any:
    value: Any = {"body": event}
    for part in key.split("."):
        value = value[part]
    return value


def sensor_submits(sensor: dict[str, Any], events: list[dict[str, Any]]) -> dict[str, str] | None:
    """The Workflow arguments the Sensor submits once ``events`` arrived, or None (not all arrived)."""
    matched = {}
    for dependency in sensor["spec"]["dependencies"]:
        (condition,) = dependency["filters"]["data"]
        found = [e for e in events if str(_data(e, condition["path"])) in condition["value"]]
        if not found:
            return None
        matched[dependency["name"]] = found[-1]
    submit = sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]
    workflow = copy.deepcopy(submit["source"]["resource"])
    for parameter in submit.get("parameters", []):
        value = _data(matched[parameter["src"]["dependencyName"]], parameter["src"]["dataKey"])
        text = json.dumps(value) if isinstance(value, dict) else str(value)  # gjson's raw JSON
        index = int(parameter["dest"].split(".")[-2])
        argument = workflow["spec"]["arguments"]["parameters"][index]
        argument["value"] = argument["value"] + text if parameter.get("operation") == "append" else text
    return {p["name"]: p["value"] for p in workflow["spec"]["arguments"]["parameters"]}


@pytest.fixture
def sensor() -> dict[str, Any]:
    files = compile_flow(build_ir(str(FLOW)), argo_settings(), CompileOptions())
    (document,) = [yaml.safe_load(f.text) for f in files if f.name.endswith(".sensor.yaml")]
    return document


def test_a_published_event_starts_the_flow_with_its_payload_mapped(
    sensor: dict[str, Any], tmp_path: Path, monkeypatch, capsys
) -> None:
    with webhook_server("/flowc-events") as bus:
        monkeypatch.setenv("FLOWC_ARGO_EVENTS__WEBHOOK_URL", bus.url)
        payload = '{"date": "2026-12-07", "table": "clicks", "ignored": 1}'
        assert main(["event", "publish", "data_ready", "--payload", payload, "--target", "argo"]) == 0
        assert sensor_submits(sensor, [body for _, body in bus.received]) is None  # one of two events
        from flowc.events import publish

        publish("model_published", target="argo")  # the Python API
        events = [body for _, body in bus.received]
    assert "published event data_ready" in capsys.readouterr().out

    arguments = sensor_submits(sensor, events)
    bodies = arguments.pop("flowc-events")
    assert arguments == {"day": "2026-12-07", "table": "clicks"}
    datastore = str(tmp_path / "ds")
    run = run_flow(FLOW, tmp_path / "pods", datastore, parameters={**arguments, "flowc-events": bodies})
    assert run.result.phase == "Succeeded", run.result.message
    data = Run(f"EventTriggerFlow/{run.run_id}", datastore=datastore, _namespace_check=False).data
    assert (data.day, data.table, data.limit) == ("2026-12-07", "clicks", 10)
    # current.trigger, in the start step and in a later one (from the run record)
    assert data.events == [
        ("data_ready", {"date": "2026-12-07", "ignored": 1, "table": "clicks"}),
        ("model_published", {}),
    ]
    assert data.event_times == [2026, 2026] and data.seen_in_end is True
    # the client's Run.trigger, as Metaflow's
    triggered = Run(f"EventTriggerFlow/{run.run_id}", datastore=datastore, _namespace_check=False).trigger
    assert sorted(e.name for e in triggered.events) == ["data_ready", "model_published"]


def test_a_run_not_started_by_an_event_has_no_trigger(tmp_path: Path) -> None:
    datastore = str(tmp_path / "ds")
    run = run_flow(FLOW, tmp_path / "pods", datastore)
    assert run.result.phase == "Succeeded", run.result.message
    data = Run(f"EventTriggerFlow/{run.run_id}", datastore=datastore, _namespace_check=False).data
    assert (data.events, data.seen_in_end) == (None, None)
    assert Run(f"EventTriggerFlow/{run.run_id}", datastore=datastore, _namespace_check=False).trigger is None


def test_publishing_without_an_event_bus_or_on_another_target_is_one_line(monkeypatch, capsys) -> None:
    assert main(["event", "publish", "data_ready", "--target", "argo"]) == 1
    assert "set argo_events.webhook_url" in capsys.readouterr().err
    monkeypatch.delenv("FLOWC_AIRFLOW__API_URL", raising=False)
    assert main(["event", "publish", "data_ready", "--target", "airflow"]) == 1
    assert "set airflow.api_url" in capsys.readouterr().err
    assert main(["event", "publish", "data_ready", "--payload", "[1]", "--target", "argo"]) == 2
    assert "JSON object" in capsys.readouterr().err


def test_a_finished_run_starts_the_flow_that_triggers_on_its_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LinearFlow's end-of-run step posts metaflow.LinearFlow.end to the webhook; the Sensor of
    FinishTriggerFlow submits it with that event, and current.trigger.run is LinearFlow's run."""
    consumer = Path(__file__).parent / "flows" / "finish_trigger_flow.py"
    producer = Path(__file__).parents[1] / "conformance" / "flows" / "linear_flow.py"
    files = compile_flow(build_ir(str(consumer)), argo_settings(), CompileOptions())
    (sensor,) = [yaml.safe_load(f.text) for f in files if f.name.endswith(".sensor.yaml")]
    datastore = str(tmp_path / "ds")
    with webhook_server("/flowc-events") as bus:
        produced = run_flow(
            producer, tmp_path / "p1", datastore, settings={"argo_events.webhook_url": bus.url}
        )
        assert produced.result.phase == "Succeeded", produced.result.message
        events = [body for _, body in bus.received]
    assert [(e["name"], e["payload"]) for e in events] == [
        ("metaflow.LinearFlow.end", {"run": f"LinearFlow/{produced.run_id}"})
    ]
    arguments = sensor_submits(sensor, events)
    assert arguments is not None and set(arguments) == {"flowc-events"}
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)  # where current.trigger.run is read
    run = run_flow(consumer, tmp_path / "p2", datastore, parameters=arguments, workflow_name="wf-next")
    assert run.result.phase == "Succeeded", run.result.message
    data = Run(f"FinishTriggerFlow/{run.run_id}", datastore=datastore, _namespace_check=False).data
    assert data.upstream == f"LinearFlow/{produced.run_id}"
    assert data.upstream_message == "hello 6"
    consumed = Run(f"FinishTriggerFlow/{run.run_id}", datastore=datastore, _namespace_check=False)
    assert consumed.trigger.run.pathspec == f"LinearFlow/{produced.run_id}"
