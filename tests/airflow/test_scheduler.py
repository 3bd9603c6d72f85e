"""A real Airflow (api-server, dag-processor, scheduler with the LocalExecutor) on 127.0.0.1:
``flowc deploy`` writes the DAG and uploads the code package, ``flowc trigger`` starts runs through
the REST API, and the foreach's mapped tasks run in parallel."""

from __future__ import annotations

import contextlib
import io
import json
import time
from datetime import datetime
from pathlib import Path

import pytest

from flowc.cli import main
from tests.airflow.server import AirflowServer, airflow_server
from tests.conformance.artifacts import collect_artifacts
from tests.conformance.matrix import AWKWARD_TEXT, LARGE_CONFIG

pytestmark = pytest.mark.slow

FLOWS = Path(__file__).parent / "flows"
CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance" / "flows"
LARGE_JSON = json.dumps(LARGE_CONFIG, ensure_ascii=False)  # about 1 MB


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with airflow_server(tmp_path_factory.mktemp("airflow-server"), parallelism=4) as running:
        yield running


def flowc(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def wait_for_dag(server: AirflowServer, dag_id: str, timeout: float = 120.0) -> None:
    from flowc.backends.airflow.trigger import AirflowApi

    api = AirflowApi(server.url)
    deadline = time.monotonic() + timeout
    while True:
        try:
            api.request("GET", f"/api/v2/dags/{dag_id}")
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def deploy(server: AirflowServer, flow: Path, datastore: Path) -> None:
    code, out, err = flowc(
        "deploy", str(flow), "--target", "airflow", "--operator", "local",
        "--dags-folder", str(server.dags), "--datastore", str(datastore),
    )  # fmt: skip
    assert code == 0, err
    assert "code package" in out


def test_triggered_foreach_runs_its_tasks_in_parallel(server: AirflowServer, tmp_path: Path) -> None:
    from flowc.backends.airflow.trigger import AirflowApi

    datastore = tmp_path / "datastore"
    flow = FLOWS / "parallel_foreach_flow.py"
    deploy(server, flow, datastore)
    wait_for_dag(server, "ParallelForeachFlow")

    code, out, err = flowc("trigger", str(flow), "--target", "airflow", "--api-url", server.url, "--wait")
    assert code == 0, out + err + (server.home / "scheduler.log").read_text()[-3000:]
    printed = dict(line.split(": ", 1) for line in out.splitlines())
    run_id, flowc_run_id = printed["airflow run id"], printed["flowc run id"]
    assert printed["state"] == "success"

    instances = AirflowApi(server.url).task_instances("ParallelForeachFlow", run_id)
    work = [ti for ti in instances if ti["task_id"] == "work"]
    assert sorted(ti["map_index"] for ti in work) == [0, 1, 2, 3]
    assert all(ti["state"] == "success" for ti in instances)
    spans = [
        (datetime.fromisoformat(ti["start_date"]), datetime.fromisoformat(ti["end_date"])) for ti in work
    ]
    # Peak number of mapped tasks running at the same moment (ends sort before starts at a tie).
    events = sorted(
        [(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans], key=lambda e: (e[0], e[1])
    )
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak >= 2, spans  # run one after the other, 4 tasks of 2 s would never overlap

    artifacts = collect_artifacts(str(datastore), "ParallelForeachFlow", flowc_run_id)
    assert artifacts[("join", "join")]["total"] == 12
    work = sorted(task for step, task in artifacts if step == "work")
    assert work == ["work-0", "work-1", "work-2", "work-3"]


def test_trigger_refuses_a_run_without_a_required_parameter(server: AirflowServer, tmp_path: Path) -> None:
    flow = CONFORMANCE / "parameters_flow.py"
    datastore = tmp_path / "datastore"
    deploy(server, flow, datastore)
    wait_for_dag(server, "ParametersFlow")
    # With the flow file, flowc trigger refuses before asking Airflow; by DAG id alone, Airflow
    # itself refuses the run (the DAG's param has no default).
    code, _, err = flowc("trigger", str(flow), "--target", "airflow", "--api-url", server.url)
    assert code == 2 and "parameter 'text' is required" in err
    code, _, err = flowc("trigger", "ParametersFlow", "--target", "airflow", "--api-url", server.url)
    assert code == 1
    assert "text" in err and "HTTP 400" in err
    # Given the parameters, the same trigger is accepted: values typed from the flow (count is an
    # int), awkward text and megabytes of JSON (stored in the datastore) reach the steps unchanged.
    code, out, err = flowc(
        "trigger", "ParametersFlow", "--target", "airflow", "--api-url", server.url, "--datastore",
        str(datastore), "--param", "text", AWKWARD_TEXT, "--count", "3", "--config", LARGE_JSON, "--wait",
    )  # fmt: skip
    assert code == 0, out + err + (server.home / "scheduler.log").read_text()[-3000:]
    printed = dict(line.split(": ", 1) for line in out.splitlines())
    assert printed["flowc run id"].startswith("airflow-") and printed["state"] == "success"
    artifacts = collect_artifacts(str(datastore), "ParametersFlow", printed["flowc run id"])
    assert artifacts[("end", "end")]["echo"] == {
        "text": AWKWARD_TEXT, "count": 3, "ratio": 0.5, "enabled": False, "config": LARGE_CONFIG,
    }  # fmt: skip


def test_a_deployed_run_is_in_its_production_namespace_with_its_tags(
    server: AirflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """deploy --tag, then trigger --tag through the REST API: the run carries both, the system tag
    production:<token>, the engine as its user and who deployed it (as Metaflow's deployed runs)."""
    from flowc.client import Flow, Run, namespace

    datastore = tmp_path / "datastore"
    monkeypatch.setenv("FLOWC_USER", "alice")
    flow = CONFORMANCE / "linear_flow.py"
    code, out, err = flowc(
        "deploy", str(flow), "--target", "airflow", "--operator", "local", "--tag", "nightly",
        "--dags-folder", str(server.dags), "--datastore", str(datastore),
    )  # fmt: skip
    assert code == 0, err
    token = out.splitlines()[-1].split()[2].rstrip(":")
    wait_for_dag(server, "LinearFlow")
    code, out, err = flowc(
        "trigger", str(flow), "--target", "airflow", "--api-url", server.url, "--tag", "ad hoc",
        "--datastore", str(datastore), "--wait",
    )  # fmt: skip
    assert code == 0, out + err
    run_id = dict(line.split(": ", 1) for line in out.splitlines())["flowc run id"]

    run = Run(f"LinearFlow/{run_id}", datastore=str(datastore), _namespace_check=False)
    assert run.user_tags == {"nightly", "ad hoc"}
    assert {f"production:{token}", "user:airflow", "runtime:airflow"} <= run.system_tags
    assert run._record["deployed_by"] == "alice"
    assert [r.id for r in Flow("LinearFlow", datastore=str(datastore))] == []  # default: user:alice
    namespace(f"production:{token}")
    assert [r.id for r in Flow("LinearFlow", datastore=str(datastore))] == [run_id]
