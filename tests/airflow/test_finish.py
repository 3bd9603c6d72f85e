"""``flowc-finish`` on the real Airflow: the teardown task records how the run ended (``status.json``)
after every other task, and the DAG run's state stays what the flow's tasks made it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from flowc import Flow
from flowc.backends.airflow import compile_dag
from flowc.backends.airflow.dag_params import coerce_parameters
from flowc.backends.options import CompileOptions
from flowc.config import load_settings
from flowc.datastore import layout
from flowc.frontend import build_ir
from flowc.task_runner.bootstrap import LAUNCHER
from tests.airflow.engine import AirflowHome, DagResult
from tests.airflow.golden import GOLDEN_DIR, GOLDEN_PACKAGE, OPERATORS
from tests.helpers.webhook import webhook_server

pytestmark = pytest.mark.slow

CONFORMANCE = Path(__file__).resolve().parents[1] / "conformance" / "flows"
FINISH = "flowc-finish"

FAILING_FLOW = textwrap.dedent(
    """
    from flowc import FlowSpec, step


    class FailingForeachFlow(FlowSpec):
        @step
        def start(self):
            self.items = [1, 2, 3]
            self.next(self.work, foreach="items")

        @step
        def work(self):
            if self.input == 2:
                raise RuntimeError("item two is broken")
            self.next(self.join)

        @step
        def join(self, inputs):
            self.next(self.end)

        @step
        def end(self):
            pass
    """
)


def run_dag(
    flow: Path, airflow_home: AirflowHome, tmp_path: Path, monkeypatch, parameters: dict[str, str]
) -> tuple[DagResult, Path]:
    """Compiles ``flow`` (local operator), runs it with ``dag.test()``; returns the result and datastore."""
    datastore = tmp_path / "datastore"
    ir = build_ir(str(flow))
    dag_file = compile_dag(ir, load_settings({"datastore": str(datastore)}, start=tmp_path, environ={}))
    monkeypatch.setenv("FLOWC_SOURCE", str(flow))
    monkeypatch.setenv("FLOWC_DATASTORE", str(datastore))
    return airflow_home.test(dag_file.name, dag_file.text, coerce_parameters(ir, parameters)), datastore


def read_status(datastore: Path, flow: str, run_id: str) -> dict:
    return json.loads((datastore / layout.status_key(flow, run_id)).read_text(encoding="utf-8"))


@pytest.mark.parametrize("mode", ["high", "low"])
def test_a_successful_run_is_recorded_successful(
    mode: str, airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> None:
    # A switch: the branch task skips the case not chosen, and flowc-finish still runs.
    result, datastore = run_dag(
        CONFORMANCE / "switch_flow.py", airflow_home, tmp_path, monkeypatch, {"mode": mode}
    )
    assert result.state == "success", result.task_states
    assert result.task_states[({"high": "low", "low": "high"}[mode], -1)] == "skipped"
    assert result.task_states[(FINISH, -1)] == "success"
    status = read_status(datastore, "SwitchFlow", result.flowc_run_id)
    assert status["status"] == "successful" and not status.get("reason")
    run = Flow("SwitchFlow")[result.flowc_run_id]  # the client reads FLOWC_DATASTORE
    assert run.finished and run.successful and run.status["status"] == "successful"


def test_a_failed_run_stays_failed_and_names_the_failed_task(
    airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> None:
    flow = tmp_path / "failing_foreach_flow.py"
    flow.write_text(FAILING_FLOW, encoding="utf-8")
    result, datastore = run_dag(flow, airflow_home, tmp_path, monkeypatch, {})

    # The teardown succeeded, yet the DAG run is failed: Airflow leaves teardowns out of its state.
    assert result.state == "failed", result.task_states
    assert result.task_states[("work", 1)] == "failed"
    assert result.task_states[("join", -1)] == "upstream_failed"
    assert result.task_states[(FINISH, -1)] == "success"
    status = read_status(datastore, "FailingForeachFlow", result.flowc_run_id)
    assert status["status"] == "failed"
    assert "/".join(["FailingForeachFlow", result.flowc_run_id, "work", "work-1 failed"]) in status["reason"]
    assert "RuntimeError" in status["reason"]
    run = Flow("FailingForeachFlow")[result.flowc_run_id]
    assert run.finished and not run.successful


@pytest.mark.parametrize("operator", OPERATORS)
def test_finish_is_a_teardown_after_every_task_but_branch_tasks(
    operator: str, airflow_home: AirflowHome
) -> None:
    module = airflow_home.load(GOLDEN_DIR / operator / "LoopExitsFlow.py")
    finish = module.dag.task_dict[FINISH]
    assert finish.is_teardown and not finish.on_failure_fail_dagrun
    others = {task_id for task_id in module.dag.task_dict if task_id != FINISH}
    branches = {task_id for task_id in others if task_id.endswith("-choose")}
    assert branches  # a branch task skips every direct downstream task it did not choose
    assert finish.upstream_task_ids == others - branches
    assert not finish.downstream_task_ids
    if operator == "kubernetes":
        assert finish.cmds == [*LAUNCHER, "flowc.task_runner.finish"]  # flowc from the package
        assert finish.arguments[finish.arguments.index("--run-id") + 1] == "{{ flowc_run_id(run_id) }}"
        assert finish.arguments[finish.arguments.index("--package") + 1] == GOLDEN_PACKAGE
        assert "--control-file" not in finish.arguments
        assert not finish.do_xcom_push


@pytest.mark.parametrize("fail", ["false", "true"])
def test_exit_hooks_run_once_in_the_teardown_with_the_run_status(
    fail: str, airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> None:
    log = tmp_path / "hooks.log"
    monkeypatch.setenv("HOOK_LOG", str(log))
    result, datastore = run_dag(
        CONFORMANCE / "exit_hook_flow.py", airflow_home, tmp_path, monkeypatch, {"fail": fail}
    )

    # The failing hook changed nothing: the run's state is its tasks', finish succeeded.
    assert result.state == ("failed" if fail == "true" else "success"), result.task_states
    assert result.task_states[(FINISH, -1)] == "success"
    pathspec = f"ExitHookFlow/{result.flowc_run_id}"
    expected = (
        f"error {pathspec} successful=False" if fail == "true" else f"success {pathspec} successful=True"
    )
    assert log.read_text(encoding="utf-8").splitlines() == [expected]
    status = read_status(datastore, "ExitHookFlow", result.flowc_run_id)
    assert status["status"] == ("failed" if fail == "true" else "successful")


@pytest.mark.parametrize("fail", ["false", "true"])
def test_notifications_reach_the_webhook_configured_on_the_worker(
    fail: str, airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> None:
    flow = CONFORMANCE / "exit_hook_flow.py"
    datastore = tmp_path / "datastore"
    ir = build_ir(str(flow))
    settings = load_settings({"datastore": str(datastore)}, start=tmp_path, environ={})
    dag_file = compile_dag(ir, settings, CompileOptions(notify=("error", "success")))
    with webhook_server() as hook:
        monkeypatch.setenv("FLOWC_SOURCE", str(flow))
        monkeypatch.setenv("FLOWC_DATASTORE", str(datastore))
        monkeypatch.setenv("FLOWC_NOTIFY__WEBHOOK_URL", hook.url)  # the worker's configuration
        result = airflow_home.test(dag_file.name, dag_file.text, coerce_parameters(ir, {"fail": fail}))
        received = list(hook.received)

    failed = fail == "true"
    assert result.state == ("failed" if failed else "success"), result.task_states
    assert hook.url not in dag_file.text
    ((_, body),) = received
    assert body["pathspec"] == f"ExitHookFlow/{result.flowc_run_id}"
    assert body["status"] == ("failed" if failed else "successful")
