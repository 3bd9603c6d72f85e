"""The Airflow column of the conformance matrix, on the real engine.

Each case's flow is compiled to a DAG file (local-process operator), run by Airflow 3 with
``dag.test()`` in this process against a fresh datastore, and every artifact of every task is
compared with ``flowc run`` of the same flow: failures and retries included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.backends.airflow import compile_dag
from flowc.backends.airflow.dag_params import coerce_parameters, run_conf
from flowc.backends.options import CompileOptions
from flowc.config import load_settings
from flowc.datastore.layout import parse_task_id
from flowc.frontend import build_ir
from tests.airflow.engine import AirflowHome, session_airflow_home
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
from tests.conformance.matrix import Case, cases_for, local_reference

pytestmark = pytest.mark.slow

CASES = cases_for("airflow")


@pytest.fixture(scope="session")
def airflow_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """The session's one Airflow home (see tests/airflow/engine.py)."""
    return session_airflow_home(request, tmp_path_factory)


def run_on_airflow(case: Case, airflow_home: AirflowHome, workdir: Path, monkeypatch: pytest.MonkeyPatch):
    """Compiles and runs ``case`` on Airflow; returns (DAG run result, datastore path)."""
    datastore = workdir / "airflow-datastore"
    ir = build_ir(str(case.path))
    settings = load_settings({"datastore": str(datastore), **case.settings}, start=workdir, environ={})
    dag_file = compile_dag(ir, settings, CompileOptions(operator="local"))
    # What a worker has: the flow file (no package uploaded in this test) and the datastore.
    monkeypatch.setenv("FLOWC_SOURCE", str(case.path))
    monkeypatch.setenv("FLOWC_DATASTORE", str(datastore))
    # What flowc trigger sends: large values stored in the datastore, their hashes in the conf.
    conf = run_conf(coerce_parameters(ir, case.parameters), str(datastore))
    return airflow_home.test(dag_file.name, dag_file.text, conf), datastore


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_airflow_matches_local_run(
    case: Case, airflow_home: AirflowHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = local_reference(case.name, tmp_path)
    result, datastore = run_on_airflow(case, airflow_home, tmp_path, monkeypatch)

    if case.succeeds:
        assert result.state == "success", result.task_states
    else:
        assert result.state == "failed", result.task_states
        failed = {task for (task, _), state in result.task_states.items() if state == "failed"}
        assert failed == {case.failed_step}, result.task_states

    actual = collect_artifacts(str(datastore), case.flow_name, result.flowc_run_id)
    assert_same_artifacts(expected, actual)
    for (step, name), value in case.checks.items():
        tasks = [key for key in actual if key[0] == step and not parse_task_id(key[1])[1]]
        assert len(tasks) == 1, (step, sorted(actual))
        assert actual[tasks[0]][name] == value


def test_retry_is_an_airflow_retry(airflow_home: AirflowHome, tmp_path: Path, monkeypatch) -> None:
    """@retry becomes Airflow's own retries: the flaky task's second try succeeds."""
    from tests.conformance.matrix import case

    result, _ = run_on_airflow(case("retry"), airflow_home, tmp_path, monkeypatch)
    assert result.state == "success"
    assert result.tries[("flaky", -1)] == 2


def test_switch_skips_the_case_not_chosen(airflow_home: AirflowHome, tmp_path: Path, monkeypatch) -> None:
    from tests.conformance.matrix import case

    result, _ = run_on_airflow(case("switch"), airflow_home, tmp_path, monkeypatch)
    assert result.state == "success"
    assert result.task_states[("high", -1)] == "skipped"
    assert result.task_states[("low", -1)] == "success"
    assert result.task_states[("after", -1)] == "success"
