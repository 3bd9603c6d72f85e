"""``@trigger`` and ``@trigger_on_finish`` on a real Airflow (api-server, dag-processor, scheduler
with the LocalExecutor on 127.0.0.1), as a user drives them: ``flowc deploy`` writes the DAGs,
``flowc event publish NAME --payload JSON --target airflow`` creates asset events through the REST
API, and the scheduler starts the flow once every event of it has arrived, its payload mapped to
its parameters and the events in ``current.trigger``; a successful run of one flow starts the flow
that triggers on its finish, whose ``current.trigger.run`` is that run."""

from __future__ import annotations

import json
import time
import urllib.parse
from pathlib import Path

import pytest

from flowc.backends.airflow.assets import event_asset
from flowc.backends.airflow.names import flowc_run_id
from flowc.backends.airflow.trigger import AirflowApi
from flowc.client import Run
from tests.airflow.server import AirflowServer, airflow_server
from tests.airflow.test_scheduler import deploy, flowc, wait_for_dag

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EVENT_FLOW = REPO / "tests" / "argo" / "flows" / "event_trigger_flow.py"
FINISH_FLOW = REPO / "tests" / "argo" / "flows" / "finish_trigger_flow.py"
LINEAR_FLOW = REPO / "tests" / "conformance" / "flows" / "linear_flow.py"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with airflow_server(tmp_path_factory.mktemp("airflow-events"), parallelism=4) as running:
        yield running


def started_run(server: AirflowServer, dag: str, timeout: float = 300.0) -> str:
    """The Airflow run id of the one run of ``dag`` once the scheduler has started it, after it ended."""
    api = AirflowApi(server.url)
    deadline = time.monotonic() + timeout
    while not (runs := api.request("GET", f"/api/v2/dags/{dag}/dagRuns")["dag_runs"]):
        assert time.monotonic() < deadline, f"no run of {dag}: " + tail(server, "scheduler.log")
        time.sleep(1)
    (run,) = runs
    assert run["run_type"] == "asset_triggered"
    state = api.wait(dag, run["dag_run_id"], timeout=timeout)
    assert state == "success", tail(server, "scheduler.log")
    return run["dag_run_id"]


def tail(server: AirflowServer, log: str) -> str:
    return (server.home / log).read_text(errors="replace")[-3000:]


def wait_for_schedule(server: AirflowServer, dag: str, event: str, timeout: float = 120.0) -> None:
    """Waits until Airflow lists ``dag`` among the DAGs scheduled on ``event``'s asset: an event
    published before the DAG processor has stored that reference starts nothing."""
    api = AirflowApi(server.url)
    uri = event_asset(event)
    deadline = time.monotonic() + timeout
    while True:
        found = api.request("GET", f"/api/v2/assets?uri_pattern={urllib.parse.quote(uri)}&limit=100")
        assets = [asset for asset in found["assets"] if asset["uri"] == uri]
        scheduled = {ref["dag_id"] for asset in assets for ref in asset["scheduled_dags"]}
        if dag in scheduled:
            return
        assert time.monotonic() < deadline, f"{dag} not scheduled on {uri}: " + tail(server, "scheduler.log")
        time.sleep(1)


def test_published_events_start_the_flow_with_their_payload_mapped(
    server: AirflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore = tmp_path / "datastore"
    deploy(server, EVENT_FLOW, datastore)
    wait_for_dag(server, "EventTriggerFlow")
    for event in ("data_ready", "model_published"):
        wait_for_schedule(server, "EventTriggerFlow", event)
    monkeypatch.setenv("FLOWC_AIRFLOW__API_URL", server.url)

    payload = {"date": "2026-12-07", "table": "orders", "extra": [1, 2]}
    code, out, err = flowc(
        "event", "publish", "data_ready", "--payload", json.dumps(payload), "--target", "airflow"
    )
    assert code == 0, err
    assert out.startswith("published event data_ready (")
    # The flow waits for both of its events (Metaflow's @trigger(events=[...]) is all-of).
    code, out, err = flowc("event", "publish", "model_published", "--target", "airflow")
    assert code == 0, err

    airflow_run = started_run(server, "EventTriggerFlow")
    run = Run(
        f"EventTriggerFlow/{flowc_run_id(airflow_run)}", datastore=str(datastore), _namespace_check=False
    )
    assert (run.data.day, run.data.table, run.data.limit) == ("2026-12-07", "orders", 10)
    # current.trigger in the start step, and in a later one (from the run record); the client's Run.trigger
    assert run["start"].task.data.events == [("data_ready", payload), ("model_published", {})]
    assert run.data.seen_in_end is True
    assert sorted(e.name for e in run.trigger.events) == ["data_ready", "model_published"]


def test_an_event_no_deployed_flow_uses_is_refused_in_one_line(
    server: AirflowServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWC_AIRFLOW__API_URL", server.url)
    code, _, err = flowc("event", "publish", "nobody_listens", "--target", "airflow")
    assert code == 1
    assert "no DAG on the Airflow at" in err and "nobody_listens" in err and len(err.splitlines()) == 1


def test_a_finished_run_starts_the_flow_that_triggers_on_its_finish(
    server: AirflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore = tmp_path / "datastore"
    deploy(server, LINEAR_FLOW, datastore)
    deploy(server, FINISH_FLOW, datastore)
    wait_for_dag(server, "LinearFlow")
    wait_for_dag(server, "FinishTriggerFlow")
    wait_for_schedule(server, "FinishTriggerFlow", "metaflow.LinearFlow.end")

    code, out, err = flowc(
        "trigger", str(LINEAR_FLOW), "--target", "airflow", "--api-url", server.url, "--wait"
    )
    assert code == 0, out + err
    produced = dict(line.split(": ", 1) for line in out.splitlines())["flowc run id"]

    airflow_run = started_run(server, "FinishTriggerFlow")
    run = Run(
        f"FinishTriggerFlow/{flowc_run_id(airflow_run)}", datastore=str(datastore), _namespace_check=False
    )
    assert run.data.upstream == f"LinearFlow/{produced}"
    assert run.data.upstream_message == "hello 6"
    monkeypatch.setenv("FLOWC_DATASTORE", str(datastore))  # where the client finds the triggering Run
    assert run.trigger.run.pathspec == f"LinearFlow/{produced}"
    assert run.trigger.run.data.message == "hello 6"
    assert run.trigger.event.name == "metaflow.LinearFlow.end"
