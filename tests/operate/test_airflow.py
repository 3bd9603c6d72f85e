"""Operating Airflow runs through the CLI on a real Airflow (api-server, dag-processor, scheduler):
deploy, trigger, ``flowc runs --target airflow``, ``flowc terminate`` (the DAG run set failed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowc.backends.airflow.trigger import AirflowApi
from tests.airflow.server import AirflowServer, airflow_server
from tests.operate.helpers import (
    HOLD_FLOW,
    SPANS_FLOW,
    assert_one_at_a_time,
    flowc,
    kill_resume_and_compare,
    resume_in_place_and_compare,
    resume_nested_after_a_code_change,
    task_running,
    wait_until,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    with airflow_server(tmp_path_factory.mktemp("airflow-server"), parallelism=4) as running:
        yield running


def _dag_visible(api: AirflowApi, dag: str) -> bool:
    try:
        api.request("GET", f"/api/v2/dags/{dag}")
        return True
    except RuntimeError:
        return False


def test_terminate_fails_the_dag_run_and_records_who(
    server: AirflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore = str(tmp_path / "datastore")
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_AIRFLOW__API_URL", server.url)
    monkeypatch.setenv("FLOWC_USER", "alice")
    gate = tmp_path / "gate"
    code, _, err = flowc(
        "deploy",
        str(HOLD_FLOW),
        "--target",
        "airflow",
        "--operator",
        "local",
        "--dags-folder",
        str(server.dags),
    )
    assert code == 0, err
    api = AirflowApi(server.url)
    wait_until(lambda: _dag_visible(api, "HoldFlow"), "the DAG to be parsed")
    code, out, err = flowc("trigger", str(HOLD_FLOW), "--target", "airflow", "--gate", str(gate))
    assert code == 0, err
    printed = dict(line.split(": ", 1) for line in out.splitlines())
    run_id, dag_run_id = printed["flowc run id"], printed["airflow run id"]
    try:
        wait_until(lambda: task_running(datastore, "HoldFlow", run_id, "hold"), "hold to run", 180)
        code, out, err = flowc("runs", "HoldFlow", "--target", "airflow", "--all")
        assert code == 0, err
        [row] = [line for line in out.splitlines() if line.startswith(run_id)]
        assert row.split()[1:4] == ["running", "airflow:", "running"]

        code, out, err = flowc("terminate", f"HoldFlow/{run_id}")
        assert code == 0, err
        assert out == f"terminated HoldFlow/{run_id}: DAG run HoldFlow/{dag_run_id}: state failed\n"
        dag_run = api.dag_run("HoldFlow", dag_run_id)
        assert dag_run["state"] == "failed" and dag_run["note"] == "terminated by alice (flowc terminate)"

        code, out, err = flowc("status", f"HoldFlow/{run_id}")
        assert code == 0, err
        assert f"Run HoldFlow/{run_id}: killed" in out
        assert f"ended by: alice: flowc terminate (DAG run HoldFlow/{dag_run_id}: state failed)" in out
        code, out, err = flowc("runs", "HoldFlow", "--target", "airflow", "--all")
        [row] = [line for line in out.splitlines() if line.startswith(run_id)]
        assert row.split()[1:4] == ["killed", "airflow:", "failed"]
        code, _, err = flowc("terminate", f"HoldFlow/{run_id}")
        assert code == 1 and "has already ended (failed)" in err
        code, _, err = flowc("terminate", "HoldFlow/airflow-no-such-run")
        assert code == 1 and "no DAG run of HoldFlow has run id airflow-no-such-run" in err
    finally:
        gate.touch()


def test_trigger_wait_streams_the_tasks_logs(
    server: AirflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWC_DATASTORE", str(tmp_path / "datastore"))
    monkeypatch.setenv("FLOWC_AIRFLOW__API_URL", server.url)
    gate = tmp_path / "gate"
    gate.touch()
    code, _, err = flowc(
        "deploy",
        str(HOLD_FLOW),
        "--target",
        "airflow",
        "--operator",
        "local",
        "--dags-folder",
        str(server.dags),
    )
    assert code == 0, err
    wait_until(lambda: _dag_visible(AirflowApi(server.url), "HoldFlow"), "the DAG to be parsed")
    code, out, err = flowc(
        "trigger", str(HOLD_FLOW), "--target", "airflow", "--gate", str(gate), "--lines", "2", "--wait"
    )
    assert code == 0, err
    assert "[hold/hold] holding 0\n[hold/hold] holding 1\n" in err
    assert out.splitlines()[-1] == "state: success"
    # A DAG Airflow does not know (not deployed, or its file not parsed yet): one line that says so.
    code, _, err = flowc("trigger", "NoSuchFlow", "--target", "airflow")
    assert code == 1 and err.startswith("flowc: Airflow has no DAG 'NoSuchFlow' (after flowc deploy"), err


RESUME_FLOW = Path(__file__).resolve().parents[1] / "conformance" / "flows" / "resume_flow.py"


def test_a_failed_run_resumed_in_place_on_airflow(
    server: AirflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conformance.artifacts import collect_artifacts

    datastore = str(tmp_path / "datastore")
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_AIRFLOW__API_URL", server.url)
    deploy = ["deploy", str(RESUME_FLOW), "--target", "airflow", "--operator", "local"]
    code, _, err = flowc(*deploy, "--dags-folder", str(server.dags))
    assert code == 0, err
    wait_until(lambda: _dag_visible(AirflowApi(server.url), "ResumeFlow"), "the DAG to be parsed")
    code, out, _ = flowc("trigger", str(RESUME_FLOW), "--target", "airflow", "--wait")
    assert code == 1 and out.splitlines()[-1] == "state: failed"
    failed = dict(line.split(": ", 1) for line in out.splitlines())["flowc run id"]

    resume_in_place_and_compare("airflow", datastore, RESUME_FLOW, failed)

    # A failed local run, resumed on Airflow: the datastore is shared, so its tasks are cloned there.
    # A child process: the local runtime's tasks need a real stdout, which `flowc` here redirects.
    ran = subprocess.run(
        [sys.executable, "-m", "flowc", "run", str(RESUME_FLOW)], capture_output=True, text=True
    )
    assert ran.returncode != 0 and "fails until the run is resumed" in ran.stderr, ran.stderr
    local = ran.stderr.split("--origin-run-id ")[-1].split()[0]
    code, out, err = flowc(
        "resume", str(RESUME_FLOW), "--target", "airflow", "--origin-run-id", local, "--wait"
    )
    assert code == 0, out + err
    across = collect_artifacts(
        datastore, "ResumeFlow", dict(line.split(": ", 1) for line in out.splitlines())["flowc run id"]
    )
    local_artifacts = collect_artifacts(datastore, "ResumeFlow", local)
    for key in [("start", "start"), *[("body", f"body-{i}") for i in range(3)], ("join", "join")]:
        assert across[key] == local_artifacts[key], (key, sorted(local_artifacts))
    assert across[("fails_once", "fails_once")]["resumed_from"] == local


def test_a_loop_and_a_switch_resumed_in_place_on_airflow(
    server: AirflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conformance.artifacts import collect_artifacts

    flow = Path(__file__).resolve().parent / "flows" / "resume_loop_flow.py"
    datastore = str(tmp_path / "datastore")
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_AIRFLOW__API_URL", server.url)
    code, _, err = flowc(
        "deploy", str(flow), "--target", "airflow", "--operator", "local", "--dags-folder", str(server.dags)
    )
    assert code == 0, err
    wait_until(lambda: _dag_visible(AirflowApi(server.url), "ResumeLoopFlow"), "the DAG to be parsed")
    code, out, _ = flowc("trigger", str(flow), "--target", "airflow", "--wait")
    assert code == 1
    failed = dict(line.split(": ", 1) for line in out.splitlines())["flowc run id"]
    code, out, err = flowc("resume", str(flow), "--target", "airflow", "--origin-run-id", failed, "--wait")
    assert code == 0, out + err
    before = collect_artifacts(datastore, "ResumeLoopFlow", failed)
    after = collect_artifacts(
        datastore, "ResumeLoopFlow", dict(line.split(": ", 1) for line in out.splitlines())["flowc run id"]
    )
    # Every iteration of the loop (one Airflow task runs the region) and the chosen case were cloned.
    cloned = [key for key in before if key[0] != "fails_once"]
    assert sorted(step for step, _ in cloned) == ["big", "pick", "start", "work", "work", "work"]
    for key in cloned:
        assert after[key] == before[key], key
    [ran] = [values for (step, _), values in after.items() if step == "fails_once"]
    assert ran["total"] == 3


def test_a_task_killed_mid_run_then_resumed_in_place_equals_a_clean_run(
    server: AirflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore = str(tmp_path / "datastore")
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_AIRFLOW__API_URL", server.url)
    deploy = ["deploy", str(HOLD_FLOW), "--target", "airflow", "--operator", "local"]
    assert flowc(*deploy, "--dags-folder", str(server.dags))[0] == 0
    wait_until(lambda: _dag_visible(AirflowApi(server.url), "HoldFlow"), "the DAG to be parsed")
    kill_resume_and_compare("airflow", datastore, tmp_path / "gate")


def test_deploy_settings_take_effect_on_airflow(
    server: AirflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore = str(tmp_path / "datastore")
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_AIRFLOW__API_URL", server.url)
    api = AirflowApi(server.url)
    deploy = ["--target", "airflow", "--operator", "local", "--dags-folder", str(server.dags)]

    # --schedule-paused: the new DAG starts paused (this server creates DAGs unpaused otherwise).
    scheduled = Path(__file__).parent / "flows" / "scheduled_flow.py"
    assert flowc("deploy", str(scheduled), *deploy, "--schedule-paused")[0] == 0
    wait_until(lambda: _dag_visible(api, "ScheduledFlow"), "the scheduled DAG to be parsed")
    assert api.request("GET", "/api/v2/dags/ScheduledFlow")["is_paused"] is True

    # --max-workers 1: max_active_tasks 1, so the foreach's mapped tasks run one at a time.
    assert flowc("deploy", str(SPANS_FLOW), *deploy, "--max-workers", "1")[0] == 0
    wait_until(lambda: _dag_visible(api, "SpansFlow"), "the DAG to be parsed")
    assert api.request("GET", "/api/v2/dags/SpansFlow/details")["max_active_tasks"] == 1
    code, out, err = flowc("trigger", str(SPANS_FLOW), "--target", "airflow", "--wait")
    assert code == 0, out + err
    assert_one_at_a_time(datastore, dict(line.split(": ", 1) for line in out.splitlines())["flowc run id"])

    # --workflow-timeout: a DAG run taking longer is failed by the scheduler (dagrun_timeout).
    assert flowc("deploy", str(HOLD_FLOW), *deploy, "--workflow-timeout", "5")[0] == 0

    def timeout_known() -> bool:
        return _dag_visible(api, "HoldFlow") and bool(
            api.request("GET", "/api/v2/dags/HoldFlow/details").get("dag_run_timeout")
        )

    wait_until(timeout_known, "the DAG with its timeout to be parsed")
    gate = tmp_path / "gate"
    try:
        code, out, err = flowc(
            "trigger", str(HOLD_FLOW), "--target", "airflow", "--gate", str(gate), "--wait"
        )
        assert code == 1 and out.splitlines()[-1] == "state: failed", out + err
        run_id = dict(line.split(": ", 1) for line in out.splitlines())["flowc run id"]
        # The timeout skips the task that records a run's end: flowc runs and status ask Airflow.
        code, out, err = flowc("runs", "HoldFlow", "--target", "airflow", "--all")
        [row] = [line for line in out.splitlines() if line.startswith(run_id)]
        assert row.split()[2:4] == ["airflow:", "failed"], out + err
        code, out, err = flowc("status", f"HoldFlow/{run_id}")
        assert code == 0 and f"Run HoldFlow/{run_id}: failed" in out, out + err
        assert "ended by: airflow: failed (no task recorded the run's end)" in out
    finally:
        gate.touch()


def test_a_nested_foreach_resumed_in_place_after_a_code_change_on_airflow(
    server: AirflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore = str(tmp_path / "datastore")
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_AIRFLOW__API_URL", server.url)
    api = AirflowApi(server.url)
    # The worker runs the DAG file as it is on disk, so the new code package is used at once.
    resume_nested_after_a_code_change(
        "airflow",
        datastore,
        tmp_path,
        ["--operator", "local", "--dags-folder", str(server.dags)],
        deployed=lambda: wait_until(lambda: _dag_visible(api, "ResumeNestedFlow"), "the DAG to be parsed"),
    )
