"""Operating Step Functions runs through the CLI on the patched moto server (Batch jobs as local
processes): deploy, trigger, ``flowc runs --target sfn``, ``flowc terminate`` (StopExecution)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import boto3
import pytest

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
from tests.sfn.engine import ROLE_ARN, SfnEngine
from tests.sfn.fixtures import sfn_engine, sfn_env

__all__ = ["sfn_engine", "sfn_env"]

pytestmark = pytest.mark.slow


def test_terminate_stops_an_execution_and_records_who(
    sfn_env: SfnEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    monkeypatch.setenv("FLOWC_USER", "alice")
    gate = tmp_path / "gate"
    code, _, err = flowc("deploy", str(HOLD_FLOW), "--target", "sfn")
    assert code == 0, err
    code, out, err = flowc("trigger", "HoldFlow", "--target", "sfn", "--name", "held", "--gate", str(gate))
    assert code == 0, err
    run_id = "sfn-held"
    try:
        wait_until(lambda: task_running(datastore, "HoldFlow", run_id, "hold"), "the hold task to run")
        code, out, err = flowc("runs", "HoldFlow", "--target", "sfn", "--all")
        assert code == 0, err
        [row] = [line for line in out.splitlines() if line.startswith(run_id)]
        assert row.split()[1:4] == ["running", "sfn:", "RUNNING"]

        code, out, err = flowc("terminate", f"HoldFlow/{run_id}")
        assert code == 0, err
        assert out.startswith(f"terminated HoldFlow/{run_id}: execution arn:aws:states:") and "stopped" in out
        sfn = boto3.client("stepfunctions")
        arn = out.split("execution ")[1].rsplit(": stopped", 1)[0]
        status = wait_until(
            lambda: (s := sfn.describe_execution(executionArn=arn)["status"]) != "RUNNING" and s,
            "the execution to stop",
        )
        assert status == "ABORTED"

        code, out, err = flowc("status", f"HoldFlow/{run_id}")
        assert code == 0, err
        assert f"Run HoldFlow/{run_id}: killed" in out
        assert "ended by: alice: flowc terminate (execution arn:aws:states:" in out
        code, out, err = flowc("runs", "HoldFlow", "--target", "sfn", "--all")
        [row] = [line for line in out.splitlines() if line.startswith(run_id)]
        assert row.split()[1:4] == ["killed", "sfn:", "ABORTED"]
        code, _, err = flowc("terminate", f"HoldFlow/{run_id}")
        assert code == 1 and "has already ended (ABORTED)" in err
        code, _, err = flowc("terminate", "HoldFlow/sfn-no-such-execution")
        assert code == 1 and "no execution 'no-such-execution'" in err
    finally:
        gate.touch()  # lets the Batch job's process end (moto does not stop jobs of a stopped execution)


def test_trigger_wait_streams_the_tasks_logs(
    sfn_env: SfnEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWC_DATASTORE", f"s3://{sfn_env.new_bucket()}/datastore")
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    gate = tmp_path / "gate"
    gate.touch()
    assert flowc("deploy", str(HOLD_FLOW), "--target", "sfn")[0] == 0
    code, out, err = flowc(
        "trigger", "HoldFlow", "--target", "sfn", "--gate", str(gate), "--lines", "2", "--wait"
    )  # fmt: skip
    assert code == 0, err
    assert "[hold/hold] holding 0\n[hold/hold] holding 1\n" in err
    assert out.splitlines()[-1] == "status SUCCEEDED"


RESUME_FLOW = Path(__file__).resolve().parents[1] / "conformance" / "flows" / "resume_flow.py"


def test_a_failed_run_resumed_in_place_on_step_functions(
    sfn_env: SfnEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conformance.artifacts import collect_artifacts

    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    code, _, err = flowc("deploy", str(RESUME_FLOW), "--target", "sfn")
    assert code == 0, err
    code, out, _ = flowc("trigger", str(RESUME_FLOW), "--target", "sfn", "--wait")
    assert code == 1 and out.splitlines()[-1] == "status FAILED"
    failed = out.split("run id ")[1].split()[0]

    resume_in_place_and_compare("sfn", datastore, RESUME_FLOW, failed)

    # A failed local run on the same S3 datastore, resumed on Step Functions: its tasks are cloned
    # there. A child process: the local runtime's tasks need a real stdout, which `flowc` redirects.
    ran = subprocess.run(
        [sys.executable, "-m", "flowc", "run", str(RESUME_FLOW)], capture_output=True, text=True
    )
    assert ran.returncode != 0 and "fails until the run is resumed" in ran.stderr, ran.stderr
    local = ran.stderr.split("--origin-run-id ")[-1].split()[0]
    code, out, err = flowc("resume", str(RESUME_FLOW), "--target", "sfn", "--origin-run-id", local, "--wait")
    assert code == 0, out + err
    across = collect_artifacts(datastore, "ResumeFlow", out.split("run id ")[1].split()[0])
    local_artifacts = collect_artifacts(datastore, "ResumeFlow", local)
    for key in [("start", "start"), *[("body", f"body-{i}") for i in range(3)], ("join", "join")]:
        assert across[key] == local_artifacts[key], key
    assert across[("fails_once", "fails_once")]["resumed_from"] == local


def test_a_loop_and_a_switch_resumed_in_place_on_step_functions(
    sfn_env: SfnEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conformance.artifacts import collect_artifacts

    flow = Path(__file__).resolve().parent / "flows" / "resume_loop_flow.py"
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    assert flowc("deploy", str(flow), "--target", "sfn")[0] == 0
    code, out, _ = flowc("trigger", str(flow), "--target", "sfn", "--wait")
    assert code == 1
    failed = out.split("run id ")[1].split()[0]
    code, out, err = flowc("resume", str(flow), "--target", "sfn", "--origin-run-id", failed, "--wait")
    assert code == 0, out + err
    before = collect_artifacts(datastore, "ResumeLoopFlow", failed)
    after = collect_artifacts(datastore, "ResumeLoopFlow", out.split("run id ")[1].split()[0])
    # Every iteration of the loop and the chosen case were cloned; the failed step ran.
    cloned = [key for key in before if key[0] != "fails_once"]
    # (after the loop, task ids carry its iteration: work.1, big.2)
    assert sorted(step for step, _ in cloned) == ["big", "pick", "start", "work", "work", "work"]
    for key in cloned:
        assert after[key] == before[key], key
    [ran] = [values for (step, _), values in after.items() if step == "fails_once"]
    assert ran["total"] == 3


def test_a_task_killed_mid_run_then_resumed_in_place_equals_a_clean_run(
    sfn_env: SfnEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    assert flowc("deploy", str(HOLD_FLOW), "--target", "sfn")[0] == 0
    kill_resume_and_compare("sfn", datastore, tmp_path / "gate")


def test_deploy_settings_take_effect_on_step_functions(
    sfn_env: SfnEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    # --max-workers 1: the foreach's Map runs one item at a time (moto honours MaxConcurrency).
    assert flowc("deploy", str(SPANS_FLOW), "--target", "sfn", "--max-workers", "1")[0] == 0
    code, out, err = flowc("trigger", str(SPANS_FLOW), "--target", "sfn", "--wait")
    assert code == 0, out + err
    assert_one_at_a_time(datastore, out.split("run id ")[1].split()[0])

    # --workflow-timeout: an execution running longer is stopped (TimeoutSeconds: TIMED_OUT).
    assert flowc("deploy", str(HOLD_FLOW), "--target", "sfn", "--workflow-timeout", "5")[0] == 0
    gate = tmp_path / "gate"
    try:
        code, out, err = flowc("trigger", str(HOLD_FLOW), "--target", "sfn", "--gate", str(gate), "--wait")
        assert code == 1 and out.splitlines()[-1] == "status TIMED_OUT", out + err
        run_id = out.split("run id ")[1].split()[0]
        # No state runs after TimeoutSeconds: only the engine knows, and flowc runs and status ask it.
        code, out, err = flowc("runs", "HoldFlow", "--target", "sfn", "--all")
        [row] = [line for line in out.splitlines() if line.startswith(run_id)]
        assert row.split()[2:4] == ["sfn:", "TIMED_OUT"], out + err
        code, out, err = flowc("status", f"HoldFlow/{run_id}")
        assert code == 0 and f"Run HoldFlow/{run_id}: failed" in out, out + err
        assert "ended by: sfn: TIMED_OUT (no task recorded the run's end)" in out
    finally:
        gate.touch()


def test_a_nested_foreach_resumed_in_place_after_a_code_change_on_step_functions(
    sfn_env: SfnEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    resume_nested_after_a_code_change("sfn", datastore, tmp_path, [])
