"""``from flowc import Deployer`` used as a notebook or a test would, on the engines' harnesses:
create, trigger with typed parameters, wait, a run's status and client Run, terminate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowc import Deployer
from flowc.backends.airflow.trigger import AirflowApi
from flowc.deployer_api import DeployerError
from tests.airflow.server import AirflowServer, airflow_server
from tests.argo.controller import argo_controller
from tests.argo.fake_kube import FakeKube, fake_kube
from tests.operate.helpers import HOLD_FLOW, task_running, wait_until
from tests.sfn.engine import ROLE_ARN, SfnEngine
from tests.sfn.fixtures import sfn_engine, sfn_env

__all__ = ["sfn_engine", "sfn_env"]

pytestmark = pytest.mark.slow


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    with fake_kube() as server, argo_controller(server, tmp_path / "pods"):
        monkeypatch.setenv("FLOWC_KUBERNETES__API_SERVER", server.url)
        monkeypatch.setenv("FLOWC_KUBERNETES__TOKEN", server.token)
        monkeypatch.setenv("FLOWC_USER", "alice")
        yield server


def test_argo_create_trigger_wait_and_terminate(kube: FakeKube, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    deployer = Deployer(HOLD_FLOW, show_output=False, datastore=str(tmp_path / "ds"))
    deployed = deployer.argo(namespace="flows").create()
    assert ("workflowtemplates", "flows", "holdflow") in kube.objects

    held = deployed.trigger(gate=str(gate), lines=2)  # an int parameter, typed through a file
    assert held.run_id.startswith("argo-holdflow-")
    wait_until(lambda: task_running(str(tmp_path / "ds"), "HoldFlow", held.run_id, "hold"), "hold")
    assert held.status == "running"
    assert held.terminate() is True
    assert held.wait(timeout=60).status == "killed"
    assert held.run.status["ended_by"] == "alice"
    assert held.terminate() is False  # it has ended

    gate.touch()
    done = deployed.trigger(gate=str(gate), lines=2).wait(timeout=120)
    assert done.status == "successful"
    assert done.run.data.released is True
    assert done.run["hold"].task.stdout == "holding 0\nholding 1\n"


def test_bad_input_is_an_error_or_a_type_error(kube: FakeKube, tmp_path: Path) -> None:
    deployer = Deployer(HOLD_FLOW, show_output=False, datastore=str(tmp_path / "ds"))
    with pytest.raises(TypeError, match="no flowc command on argo takes option"):
        deployer.argo(dags_folder="x")
    with pytest.raises(DeployerError, match="no WorkflowTemplate 'holdflow'"):
        deployer.argo().trigger()  # nothing deployed yet
    with pytest.raises(DeployerError, match="lines"):
        deployer.argo().create().trigger(lines="many")


def test_sfn_create_trigger_and_wait(
    sfn_env: SfnEngine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    gate = tmp_path / "gate"
    gate.touch()
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    deployed = Deployer(HOLD_FLOW, show_output=False, datastore=datastore).sfn().create()
    done = deployed.trigger(gate=str(gate), lines=1, tags=["nightly"]).wait(timeout=300)
    assert done.run_id.startswith("sfn-") and done.status == "successful"
    assert "nightly" in done.run.user_tags
    assert done.run["hold"].task.stdout == "holding 0\n"


@pytest.fixture
def airflow(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AirflowServer]:
    with airflow_server(tmp_path_factory.mktemp("airflow-server"), parallelism=4) as running:
        monkeypatch.setenv("FLOWC_USER", "alice")
        yield running


def test_airflow_create_trigger_wait_and_terminate(airflow: AirflowServer, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    deployer = Deployer(HOLD_FLOW, show_output=False, datastore=str(tmp_path / "ds"))
    deployed = deployer.airflow(api_url=airflow.url, dags_folder=str(airflow.dags), operator="local").create()
    assert (airflow.dags / "HoldFlow.py").is_file()
    api = AirflowApi(airflow.url)
    # Airflow knows a DAG once its dag-processor has parsed the file deploy wrote.
    wait_until(
        lambda: "HoldFlow" in {d["dag_id"] for d in api.request("GET", "/api/v2/dags")["dags"]}, "the DAG"
    )

    held = deployed.trigger(gate=str(gate), lines=2)
    assert held.run_id.startswith("airflow-")
    wait_until(
        lambda: task_running(str(tmp_path / "ds"), "HoldFlow", held.run_id, "hold"), "hold", 180
    )
    assert held.status == "running"
    assert held.terminate() is True
    assert held.wait(timeout=120).status == "killed"
    assert held.run.status["ended_by"] == "alice"
    assert held.terminate() is False  # it has ended

    gate.touch()
    done = deployed.trigger(gate=str(gate), lines=2, tags=["nightly"]).wait(timeout=300)
    assert done.status == "successful"
    assert done.run.data.released is True and "nightly" in done.run.user_tags
    assert done.run["hold"].task.stdout == "holding 0\nholding 1\n"
