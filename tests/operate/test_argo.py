"""Operating Argo runs through the CLI: deploy, trigger, ``flowc runs --target argo``, ``flowc
terminate`` (the fake Kubernetes API with a controller that runs Workflows with the test executor)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.argo.controller import argo_controller
from tests.argo.fake_kube import FakeKube, fake_kube
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


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    with fake_kube() as server, argo_controller(server, tmp_path / "pods"):
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("FLOWC_KUBERNETES__API_SERVER", server.url)
        monkeypatch.setenv("FLOWC_KUBERNETES__TOKEN", server.token)
        monkeypatch.setenv("FLOWC_DATASTORE", str(tmp_path / "datastore"))
        monkeypatch.setenv("FLOWC_USER", "alice")
        yield server


def test_terminate_stops_a_running_workflow_and_records_who(kube: FakeKube, tmp_path: Path) -> None:
    datastore = str(tmp_path / "datastore")
    code, _, err = flowc("deploy", str(HOLD_FLOW), "--target", "argo")
    assert code == 0, err
    code, out, err = flowc("trigger", str(HOLD_FLOW), "--target", "argo", "--gate", str(tmp_path / "gate"))
    assert code == 0, err
    run_id = out.split("run id ")[1].split()[0]
    wait_until(lambda: task_running(datastore, "HoldFlow", run_id, "hold"), "the hold task to run")

    code, out, err = flowc("runs", "HoldFlow", "--target", "argo", "--all")
    assert code == 0, err
    [row] = [line for line in out.splitlines() if line.startswith(run_id)]
    assert row.split()[1:3] == ["running", "argo:"] and "Running" in row

    code, out, err = flowc("terminate", f"HoldFlow/{run_id}")
    assert code == 0, err
    assert out.startswith(f"terminated HoldFlow/{run_id}: Workflow/") and "shutdown Terminate" in out
    workflow = kube.objects[("workflows", "default", run_id[len("argo-") :])]
    assert workflow["spec"]["shutdown"] == "Terminate"
    wait_until(lambda: workflow.get("status", {}).get("phase") == "Failed", "the workflow to fail")

    code, out, err = flowc("status", f"HoldFlow/{run_id}")
    assert code == 0, err
    assert f"Run HoldFlow/{run_id}: killed" in out
    assert "ended by: alice: flowc terminate (Workflow/" in out
    assert "hold   0/1 successful, 1 failed" in out, out
    assert (
        f"failed: HoldFlow/{run_id}/hold/hold (attempt 0): the task process was killed by signal SIGTERM"
        in out
    )
    code, out, err = flowc("runs", "HoldFlow", "--target", "argo", "--all")
    [row] = [line for line in out.splitlines() if line.startswith(run_id)]
    assert row.split()[1:4] == ["killed", "argo:", "Failed"]

    # Terminating it again says it has ended; a local run or a foreign prefix is refused.
    code, _, err = flowc("terminate", f"HoldFlow/{run_id}")
    assert code == 1 and "has already ended (Failed)" in err
    code, _, err = flowc("terminate", "HoldFlow/1700000000000")
    assert code == 2 and "was not started by an engine" in err
    code, _, err = flowc("terminate", f"HoldFlow/{run_id}", "--target", "sfn")
    assert code == 2 and "was started by argo, not sfn" in err
    code, _, err = flowc("terminate", "HoldFlow/argo-no-such-workflow")
    assert code == 1 and "no Workflow/no-such-workflow in default" in err


def test_a_running_task_uploads_its_logs_and_keeps_them_when_killed(kube: FakeKube, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from flowc import metadata
    from flowc.datastore.storage import open_storage

    datastore = str(tmp_path / "datastore")
    gate = tmp_path / "gate"
    assert flowc("deploy", str(HOLD_FLOW), "--target", "argo")[0] == 0
    code, out, err = flowc("trigger", str(HOLD_FLOW), "--target", "argo", "--gate", str(gate), "--lines", "3")
    assert code == 0, err
    run_id = out.split("run id ")[1].split()[0]
    task = f"HoldFlow/{run_id}/hold/hold"

    # While hold waits at its gate, what it printed is in the datastore already.
    def printed() -> str:
        code, out, _ = flowc("logs", task, "--stdout")
        return out if code == 0 and "holding 2" in out else ""

    assert wait_until(printed, "hold's live log") == "holding 0\nholding 1\nholding 2\n"
    record = metadata.read_attempt(
        open_storage(datastore),
        metadata.TaskAddress(flow="HoldFlow", run_id=run_id, step="hold"),
        0,
    )
    assert record["status"] == "running" and set(record["logs"]) == {"stdout"}  # checksummed as uploaded

    # `flowc logs --follow` (the real CLI) prints what is there, then the rest, and ends with the task.
    follow = subprocess.Popen(
        [sys.executable, "-m", "flowc", "logs", "--follow", task],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        gate.touch()
        out, err = follow.communicate(timeout=120)
    finally:
        follow.kill()
    assert follow.returncode == 0, err
    assert out == "holding 0\nholding 1\nholding 2\n"

    # A task SIGKILLed mid-step keeps what it printed up to its last upload.
    gate.unlink()
    code, out, err = flowc("trigger", str(HOLD_FLOW), "--target", "argo", "--gate", str(gate), "--lines", "2")
    run_id = out.split("run id ")[1].split()[0]
    task = f"HoldFlow/{run_id}/hold/hold"
    wait_until(lambda: "holding 1" in flowc("logs", task, "--stdout")[1], "the second run's live log")
    address = metadata.TaskAddress(flow="HoldFlow", run_id=run_id, step="hold")
    pid = metadata.read_attempt(open_storage(datastore), address, 0)["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until(
        lambda: metadata.read_attempt(open_storage(datastore), address, 0)["status"] == "failed",
        "the kill recorded",
    )
    code, out, err = flowc("logs", task, "--stdout")
    assert (code, out) == (0, "holding 0\nholding 1\n"), err
    code, out, _ = flowc("status", f"HoldFlow/{run_id}")
    assert "killed by signal SIGKILL" in out


def test_trigger_wait_streams_the_tasks_logs(kube: FakeKube, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    gate.touch()
    assert flowc("deploy", str(HOLD_FLOW), "--target", "argo")[0] == 0
    code, out, err = flowc(
        "trigger", str(HOLD_FLOW), "--target", "argo", "--gate", str(gate), "--lines", "2", "--wait"
    )
    assert code == 0, err
    assert "[hold/hold] holding 0\n[hold/hold] holding 1\n" in err  # on stderr: stdout stays parseable
    assert out.splitlines()[-1].endswith(": Succeeded")


RESUME_FLOW = Path(__file__).resolve().parents[1] / "conformance" / "flows" / "resume_flow.py"


def test_a_failed_run_resumed_in_place_on_argo(kube: FakeKube, tmp_path: Path) -> None:
    from tests.conformance.artifacts import collect_artifacts

    datastore = str(tmp_path / "datastore")
    assert flowc("deploy", str(RESUME_FLOW), "--target", "argo")[0] == 0
    code, out, _ = flowc("trigger", str(RESUME_FLOW), "--target", "argo", "--wait")
    assert code == 1 and out.splitlines()[-1].endswith(": Failed")
    failed = out.split("run id ")[1].split()[0]

    before = resume_in_place_and_compare("argo", datastore, RESUME_FLOW, failed)

    # The failed Argo run, resumed locally: the datastore is shared, so its tasks are cloned here.
    # A child process: the local runtime's tasks need a real stdout, which `flowc` here redirects.
    ran = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowc",
            "resume",
            str(RESUME_FLOW),
            "--origin-run-id",
            failed,
            "--run-id-file",
            "id",
        ],
        capture_output=True,
        text=True,
    )
    assert ran.returncode == 0, ran.stderr
    local = collect_artifacts(datastore, "ResumeFlow", (tmp_path / "id").read_text().strip())
    for key in [("start", "start"), *[("body", f"body-{i}") for i in range(3)], ("join", "join")]:
        assert local[key] == before[key], key
    assert local[("fails_once", "fails_once")]["total"] == 60
    assert local[("fails_once", "fails_once")]["resumed_from"] == failed


def test_a_task_killed_mid_run_then_resumed_in_place_equals_a_clean_run(
    kube: FakeKube, tmp_path: Path
) -> None:
    assert flowc("deploy", str(HOLD_FLOW), "--target", "argo")[0] == 0
    kill_resume_and_compare("argo", str(tmp_path / "datastore"), tmp_path / "gate")


def test_deploy_settings_take_effect_on_argo(kube: FakeKube, tmp_path: Path) -> None:
    datastore = str(tmp_path / "datastore")
    # --max-workers 1: the workflow's parallelism, so the foreach's pods run one at a time.
    assert flowc("deploy", str(SPANS_FLOW), "--target", "argo", "--max-workers", "1")[0] == 0
    code, out, err = flowc("trigger", str(SPANS_FLOW), "--target", "argo", "--wait")
    assert code == 0, out + err
    assert_one_at_a_time(datastore, out.split("run id ")[1].split()[0])

    # --workflow-timeout: activeDeadlineSeconds; the pods are stopped, the exit handler records it.
    assert flowc("deploy", str(HOLD_FLOW), "--target", "argo", "--workflow-timeout", "5")[0] == 0
    gate = tmp_path / "gate"
    code, out, err = flowc("trigger", str(HOLD_FLOW), "--target", "argo", "--gate", str(gate), "--wait")
    assert code == 1 and out.splitlines()[-1].endswith(": Failed"), out + err
    run_id = out.split("run id ")[1].split()[0]
    code, out, err = flowc("status", f"HoldFlow/{run_id}")
    assert code == 0 and f"Run HoldFlow/{run_id}: failed" in out, out + err
    assert (
        f"failed: HoldFlow/{run_id}/hold/hold (attempt 0): the task process was killed by signal SIGTERM"
        in out
    )


def test_a_nested_foreach_resumed_in_place_after_a_code_change_on_argo(
    kube: FakeKube, tmp_path: Path
) -> None:
    resume_nested_after_a_code_change("argo", str(tmp_path / "datastore"), tmp_path, [])


def test_a_loop_and_a_switch_resumed_in_place_on_argo(kube: FakeKube, tmp_path: Path) -> None:
    from tests.conformance.artifacts import collect_artifacts

    flow = Path(__file__).resolve().parent / "flows" / "resume_loop_flow.py"
    datastore = str(tmp_path / "datastore")
    assert flowc("deploy", str(flow), "--target", "argo")[0] == 0
    code, out, _ = flowc("trigger", str(flow), "--target", "argo", "--wait")
    assert code == 1
    failed = out.split("run id ")[1].split()[0]
    code, out, err = flowc("resume", str(flow), "--target", "argo", "--origin-run-id", failed, "--wait")
    assert code == 0, out + err
    before = collect_artifacts(datastore, "ResumeLoopFlow", failed)
    after = collect_artifacts(datastore, "ResumeLoopFlow", out.split("run id ")[1].split()[0])
    # Every iteration of the loop and the chosen case were cloned; the failed step ran.
    cloned = [key for key in before if key[0] != "fails_once"]
    assert sorted(step for step, _ in cloned) == ["big", "pick", "start", "work", "work", "work"]
    for key in cloned:
        assert after[key] == before[key], key
    [ran] = [values for (step, _), values in after.items() if step == "fails_once"]
    assert ran["total"] == 3
