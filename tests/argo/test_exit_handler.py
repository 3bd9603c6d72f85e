"""The Argo exit handler (``onExit``) records how every run ended, in the datastore the client reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowc.client import Run
from tests.argo.harness import run_flow
from tests.conformance.matrix import FLOWS_DIR
from tests.helpers.webhook import webhook_server


def test_a_successful_workflow_records_a_successful_run(tmp_path: Path) -> None:
    datastore = str(tmp_path / "ds")
    run = run_flow(FLOWS_DIR / "linear_flow.py", tmp_path / "pods", datastore)
    assert run.result.phase == "Succeeded", run.result.message
    assert [n.template for n in run.result.nodes][-1] == run.document["spec"]["onExit"]
    recorded = Run(f"LinearFlow/{run.run_id}", datastore=datastore, _namespace_check=False)
    assert recorded.finished and recorded.successful
    assert recorded.status["status"] == "successful"


@pytest.mark.slow
def test_a_failed_workflow_records_the_failed_task_and_the_workflow_status(tmp_path: Path) -> None:
    datastore = str(tmp_path / "ds")
    run = run_flow(FLOWS_DIR / "timeout_flow.py", tmp_path / "pods", datastore)
    assert run.result.phase == "Failed"
    recorded = Run(f"TimeoutFlow/{run.run_id}", datastore=datastore, _namespace_check=False)
    assert recorded.finished and not recorded.successful
    reason = recorded.status["reason"]
    assert f"TimeoutFlow/{run.run_id}/slow/slow" in reason and "(workflow Failed)" in reason


@pytest.mark.parametrize("fail", ["false", "true"])
def test_exit_hooks_run_once_in_the_exit_handler_with_the_run_status(fail: str, tmp_path: Path) -> None:
    log = tmp_path / "hooks.log"
    datastore = str(tmp_path / "ds")
    run = run_flow(FLOWS_DIR / "exit_hook_flow.py", tmp_path / "pods", datastore, parameters={"fail": fail},
                   env={"HOOK_LOG": str(log)})
    failed = fail == "true"
    # The hook that raises changed nothing: the workflow's phase is its DAG's.
    assert run.result.phase == ("Failed" if failed else "Succeeded"), run.result.message
    pathspec = f"ExitHookFlow/{run.run_id}"
    expected = f"error {pathspec} successful=False" if failed else f"success {pathspec} successful=True"
    assert log.read_text(encoding="utf-8").splitlines() == [expected]
    recorded = Run(pathspec, datastore=datastore, _namespace_check=False)
    assert recorded.finished and recorded.successful is not failed


@pytest.mark.parametrize("fail", ["false", "true"])
def test_notifications_reach_the_webhook_of_a_secret_not_in_the_document(fail: str, tmp_path: Path) -> None:
    # The URL is the content of a Kubernetes Secret the end step reads (`@secrets`), so the exit
    # handler's pod, the end step's, has it in its environment when the run ends.
    flow = tmp_path / "notified_flow.py"
    source = (FLOWS_DIR / "exit_hook_flow.py").read_text(encoding="utf-8")
    flow.write_text(
        source.replace("from flowc import", "from flowc import secrets,").replace(
            "    @step\n    def end", '    @secrets(sources=["flowc-notify"])\n    @step\n    def end'
        ),
        encoding="utf-8",
    )
    options = {"notify": ("error", "success")}
    with webhook_server() as hook:
        secrets = {"flowc-notify": {"FLOWC_NOTIFY__WEBHOOK_URL": hook.url}}
        parameters = {"fail": fail}
        run = run_flow(flow, tmp_path / "pods", str(tmp_path / "ds"), parameters=parameters, options=options,
                       secrets=secrets)  # fmt: skip
        received = list(hook.received)
    failed = fail == "true"
    assert run.result.phase == ("Failed" if failed else "Succeeded")
    assert hook.url not in json.dumps(run.document)
    ((path, body),) = received
    assert path == "/hooks/T000/B000/secret"
    assert body["pathspec"] == f"ExitHookFlow/{run.run_id}"
    assert (body["event"], body["status"]) == (("error", "failed") if failed else ("success", "successful"))
