"""``@exit_hook`` and ``--notify-on-*`` on the Step Functions engine: the end-of-run Batch job
(``flowc.task_runner.finish``) runs after a successful run too when the flow has hooks or notifies
on success, and runs the hooks once, with the run's status; a hook that raises changes neither the
execution's status nor the run's; the webhook's URL is in the job's environment, never the
definition."""

from __future__ import annotations

import pytest

from flowc.backends.options import CompileOptions
from flowc.backends.sfn import BACKEND
from flowc.backends.sfn.definition import RECORD_END_STATE, RECORD_FAILURE_STATE
from flowc.backends.sfn.trigger import execution_input
from flowc.client import Run
from flowc.config import load_settings
from flowc.frontend import build_ir
from tests.conformance.matrix import FLOWS_DIR
from tests.helpers.webhook import webhook_server
from tests.sfn.engine import SfnEngine

pytestmark = pytest.mark.slow


def _hook_lines(engine: SfnEngine, run_id: str) -> list[str]:
    lines = []
    for log in sorted(engine.log_dir.glob("*.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("hook-fired: ") and f"/{run_id} " in line:
                lines.append(line.removeprefix("hook-fired: "))
    return lines


@pytest.mark.parametrize("fail", ["false", "true"])
def test_exit_hooks_run_once_after_the_run_with_its_status(fail: str, sfn_env: SfnEngine) -> None:
    path = FLOWS_DIR / "exit_hook_flow.py"
    ir = build_ir(path)
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    settings = load_settings({"datastore": datastore}, environ={})
    package_sha = sfn_env.deploy_code(ir, settings, path)
    definition = BACKEND.compile(ir, settings, CompileOptions(package_sha=package_sha))[0].text
    run_id, result = sfn_env.run(definition, execution_input({"fail": fail}, datastore))

    failed = fail == "true"
    assert result["status"] == ("FAILED" if failed else "SUCCEEDED"), result.get("cause")
    entered = sfn_env.states_entered(result["executionArn"])
    assert entered.count(RECORD_FAILURE_STATE if failed else RECORD_END_STATE) == 1
    pathspec = f"ExitHookFlow/{run_id}"
    expected = f"error {pathspec} successful=False" if failed else f"success {pathspec} successful=True"
    assert _hook_lines(sfn_env, run_id) == [expected]
    run = Run(pathspec, datastore=datastore, _namespace_check=False)
    assert run.finished and run.successful is not failed


@pytest.mark.parametrize("fail", ["false", "true"])
def test_notifications_reach_the_webhook_configured_where_the_run_ends(fail: str, sfn_env: SfnEngine) -> None:
    from flowc.backends.sfn.deploy import job_definition_requests
    from flowc.datastore.storage import open_storage
    from flowc.package import build_package, store_package

    path = FLOWS_DIR / "linear_flow.py" if fail == "false" else FLOWS_DIR / "exit_hook_flow.py"
    ir = build_ir(path)
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    settings = load_settings({"datastore": datastore}, environ={})
    package = build_package(path, settings=settings)
    store_package(open_storage(datastore), package)
    options = CompileOptions(package_sha=package.sha, notify=("error", "success"))
    with webhook_server() as hook:
        # The operator's configuration where the run ends: the job definition's environment (or
        # secrets), registered beside the state machine, never inside it.
        for request in job_definition_requests(ir, settings):
            environment = request["containerProperties"].setdefault("environment", [])
            environment.append({"name": "FLOWC_NOTIFY__SLACK_WEBHOOK_URL", "value": hook.url})
            sfn_env.client("batch").register_job_definition(**request)
        definition = BACKEND.compile(ir, settings, options)[0].text
        run_id, result = sfn_env.run(
            definition, execution_input({"fail": fail} if fail == "true" else {}, datastore)
        )
        received = list(hook.received)

    failed = fail == "true"
    assert result["status"] == ("FAILED" if failed else "SUCCEEDED"), result.get("cause")
    assert hook.url not in definition
    ((_, body),) = received
    outcome = "failed: task" if failed else "successful"
    assert body["text"].startswith(f"flowc: run {ir.name}/{run_id} {outcome}")
