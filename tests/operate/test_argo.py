"""Operating Argo runs through the CLI: deploy, trigger, ``flowc runs --target argo``, ``flowc
terminate`` (the fake Kubernetes API with a controller that runs Workflows with the test executor)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.argo.controller import argo_controller
from tests.argo.fake_kube import FakeKube, fake_kube
from tests.operate.helpers import HOLD_FLOW, flowc, task_running, wait_until

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
    wait_until(lambda: task_running(datastore, "HoldFlow", run_id, "hold", "hold"), "the hold task to run")

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
