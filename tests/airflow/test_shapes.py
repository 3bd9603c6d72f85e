"""Shapes beyond the conformance flows, run on Airflow and compared with ``flowc run``: a loop with
two exits (its branch task after the loop), then a foreach after the loop (iteration carried on)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.backends.airflow import compile_dag
from flowc.backends.airflow.params import coerce_parameters
from flowc.config import load_settings
from flowc.frontend import build_ir
from tests.airflow.engine import AirflowHome
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts

pytestmark = pytest.mark.slow

FLOW = Path(__file__).parent / "flows" / "loop_exits_flow.py"
REPO = Path(__file__).resolve().parents[2]


def local_run(flow: Path, datastore: Path, parameters: dict[str, str]) -> str:
    run_id_file = datastore.parent / "local.run_id"
    argv = [sys.executable, "-m", "flowc", "run", str(flow), "--datastore", str(datastore)]
    argv += ["--run-id-file", str(run_id_file)]
    for name, value in parameters.items():
        argv += [f"--{name}", value]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWC_", "AIRFLOW"))}
    result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return run_id_file.read_text().strip()


@pytest.mark.parametrize(
    ("limit", "taken", "skipped"), [("2", "finish", "cleanup"), ("6", "cleanup", "finish")]
)
def test_loop_with_two_exits(
    limit: str, taken: str, skipped: str, airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> None:
    parameters = {"limit": limit}
    local_store = tmp_path / "local"
    expected = collect_artifacts(str(local_store), "LoopExitsFlow", local_run(FLOW, local_store, parameters))

    datastore = tmp_path / "airflow"
    ir = build_ir(str(FLOW))
    dag_file = compile_dag(ir, load_settings({"datastore": str(datastore)}, start=tmp_path, environ={}))
    monkeypatch.setenv("FLOWC_SOURCE", str(FLOW))
    result = airflow_home.test(dag_file.name, dag_file.text, coerce_parameters(ir, parameters))

    assert result.state == "success", result.task_states
    assert result.task_states[("loop-work-choose", -1)] == "success"
    assert result.task_states[(taken, -1)] == "success"
    assert result.task_states[(skipped, -1)] == "skipped"
    actual = collect_artifacts(str(datastore), "LoopExitsFlow", result.flowc_run_id)
    assert_same_artifacts(expected, actual)
    ends = [key for key in actual if key[0] == "end"]
    assert ends == [("end", f"0.{int(limit) - 1}")]  # the end runs at the loop's last iteration
