"""Shapes beyond the conformance flows, run on Airflow and compared with ``flowc run``: which tasks
run and which are skipped for a loop with two exits (the conformance flow ``loop_exits_flow.py``:
its branch task after the loop, then a foreach after the loop, iteration carried on); a switch
inside a foreach and a loop inside a nested foreach (one mapped region task per index)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.backends.airflow import compile_dag
from flowc.backends.airflow.dag_params import coerce_parameters
from flowc.config import load_settings
from flowc.frontend import build_ir
from tests.airflow.engine import AirflowHome, DagResult
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
from tests.conformance.matrix import FLOWS_DIR

pytestmark = pytest.mark.slow

FLOWS = Path(__file__).parent / "flows"
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


def run_both(
    flow: Path, parameters: dict[str, str], airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> tuple[DagResult, dict]:
    """Runs ``flow`` with ``flowc run`` and on Airflow; asserts equal artifacts, returns Airflow's."""
    ir = build_ir(str(flow))
    local_store = tmp_path / "local"
    expected = collect_artifacts(str(local_store), ir.name, local_run(flow, local_store, parameters))
    datastore = tmp_path / "airflow"
    dag_file = compile_dag(ir, load_settings({"datastore": str(datastore)}, start=tmp_path, environ={}))
    monkeypatch.setenv("FLOWC_SOURCE", str(flow))
    result = airflow_home.test(dag_file.name, dag_file.text, coerce_parameters(ir, parameters))
    assert result.state == "success", result.task_states
    actual = collect_artifacts(str(datastore), ir.name, result.flowc_run_id)
    assert_same_artifacts(expected, actual)
    return result, actual


@pytest.mark.parametrize(
    ("limit", "taken", "skipped"), [("2", "finish", "cleanup"), ("6", "cleanup", "finish")]
)
def test_loop_with_two_exits(
    limit: str, taken: str, skipped: str, airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> None:
    flow = FLOWS_DIR / "loop_exits_flow.py"  # a conformance row too
    result, actual = run_both(flow, {"limit": limit}, airflow_home, tmp_path, monkeypatch)
    assert result.task_states[("loop-work-choose", -1)] == "success"
    assert result.task_states[(taken, -1)] == "success"
    assert result.task_states[(skipped, -1)] == "skipped"
    ends = [key for key in actual if key[0] == "end"]
    assert ends == [("end", f"end.{int(limit) - 1}")]  # the end runs at the loop's last iteration


def test_switch_inside_a_foreach_takes_each_index_own_case(
    airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> None:
    result, actual = run_both(FLOWS / "switch_in_foreach_flow.py", {}, airflow_home, tmp_path, monkeypatch)
    # One region task per index runs the switch and only the case that index chose (the retry of
    # its flaky case step is the region driver's); nothing is skipped, and the static branch
    # after the cases meet is mapped as usual.
    regions = {key: state for key, state in result.task_states.items() if key[0] == "switch-pick"}
    assert regions == {("switch-pick", i): "success" for i in range(4)}
    assert "skipped" not in result.task_states.values()
    assert sorted(task for step, task in actual if step == "even") == ["even-1", "even-3"]
    assert sorted(task for step, task in actual if step in ("big", "small")) == ["big-2", "small-0"]
    assert actual[("join", "join")]["summaries"] == [("EVEN-2", 6), ("ODD-BIG-3", 9), ("ODD-SMALL-1", 11)]
    assert actual[("join", "join")]["failures"] == ["index 3 is caught"]
    # @retry on a mapped step and on the join are Airflow's own retries of those task instances.
    assert result.tries[("left", 1)] == 2 and result.tries[("left", 0)] == 1
    assert result.tries[("join", -1)] == 2


def test_loop_inside_a_nested_foreach_keeps_each_index_iteration(
    airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> None:
    flow = FLOWS / "loop_in_nested_foreach_flow.py"
    result, actual = run_both(flow, {}, airflow_home, tmp_path, monkeypatch)
    regions = sorted(index for (task, index) in result.task_states if task == "loop-work")
    assert regions == list(range(5))  # rows [1, 2] have 2 and 3 columns: one flat mapped list
    # The step after the loop ran at each index's own last iteration (task id <row>-<col>.<round>).
    after = sorted(task for step, task in actual if step == "after")
    assert after == ["after-0-0", "after-0-1.1", "after-1-0", "after-1-1.1", "after-1-2.2"]
    table = actual[("join_rows", "join_rows")]["table"]
    assert table == [([-1, 1, 2], ["three rounds is too many"]), ([1, 2], [])]


def test_a_foreach_wider_than_max_map_length_fails_naming_the_foreach_and_the_setting(
    airflow_home: AirflowHome, tmp_path: Path, monkeypatch, capfd: pytest.CaptureFixture[str]
) -> None:
    flow = REPO / "tests" / "conformance" / "flows" / "wide_foreach_flow.py"
    ir = build_ir(str(flow))
    datastore = tmp_path / "airflow"
    dag_file = compile_dag(ir, load_settings({"datastore": str(datastore)}, start=tmp_path, environ={}))
    monkeypatch.setenv("FLOWC_SOURCE", str(flow))
    result = airflow_home.test(dag_file.name, dag_file.text, {"width": 2000})  # default limit: 1024
    assert result.state == "failed"
    assert result.task_states[("start", -1)] == "success"
    assert result.task_states[("start-fanout", -1)] == "failed"
    assert result.tries[("start-fanout", -1)] == 1  # no retry can help
    log = "".join(capfd.readouterr())
    assert "foreach 'start' has 2000 tasks to run" in log and "max_map_length = 1024" in log


def test_a_foreach_over_nothing_fails_instead_of_skipping_its_body(
    airflow_home: AirflowHome, tmp_path: Path, monkeypatch
) -> None:
    """Airflow skips a task mapped over an empty list, and the join and end after it: the run would
    succeed having run nothing. The foreach step fails instead, as with ``flowc run``."""
    flow = FLOWS_DIR / "empty_foreach_flow.py"
    datastore = tmp_path / "airflow"
    dag_file = compile_dag(
        build_ir(str(flow)), load_settings({"datastore": str(datastore)}, start=tmp_path, environ={})
    )
    monkeypatch.setenv("FLOWC_SOURCE", str(flow))
    result = airflow_home.test(dag_file.name, dag_file.text)
    assert result.state == "failed"
    assert result.task_states[("start", -1)] == "failed"
    assert result.task_states[("end", -1)] == "upstream_failed"
