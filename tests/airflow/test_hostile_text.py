"""A flow with hostile text and the longest step name check allows compiles to a DAG file that the
real Airflow imports and runs (issue 19 items 9 and 10). (A step named with a non-ASCII letter
fails here, in Airflow's execution API: the front end refuses those, ``name-not-portable``.)"""

from __future__ import annotations

from pathlib import Path

from flowc.backends.airflow import compile_dag
from flowc.config import load_settings
from flowc.datastore.local import LocalStorage
from flowc.frontend import build_ir
from flowc.frontend.limits import STEP_NAME_MAX
from flowc.metadata import TaskAddress, read_task
from tests.airflow.engine import AirflowHome

DOC = 'Hostile """ docstring \\U0001 {{ ds }} {% raw %} \\x00-free, \\ and a trailing quote"'


def test_hostile_docstring_and_longest_step_name_run_on_airflow(
    airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> None:
    step = "s" * STEP_NAME_MAX  # the longest step name check allows
    flow = tmp_path / "hostile_flow.py"
    flow.write_text(
        "from flowc import FlowSpec, Parameter, step\n\n\n"
        "class HostileFlow(FlowSpec):\n"
        f"    {DOC!r}\n\n"
        f"    alpha = Parameter('alpha', help={DOC!r}, default={DOC!r})\n\n"
        "    @step\n    def start(self):\n"
        f"        self.next(self.{step})\n\n"
        f"    @step\n    def {step}(self):\n"
        "        self.seen = self.alpha\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n",
        encoding="utf-8",
    )
    ir = build_ir(str(flow))
    datastore = tmp_path / "ds"
    dag_file = compile_dag(ir, load_settings({"datastore": str(datastore)}, start=tmp_path, environ={}))
    monkeypatch.setenv("FLOWC_SOURCE", str(flow))
    result = airflow_home.test(dag_file.name, dag_file.text)
    assert result.state == "success", result.task_states
    assert result.module.dag.description == DOC
    task = read_task(
        LocalStorage(datastore),
        TaskAddress(flow="HostileFlow", run_id=result.flowc_run_id, step=step),
    )
    assert task is not None
