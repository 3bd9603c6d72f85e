"""The golden DAG files on the real Airflow: they import, serialise, and pod DAGs run with their pod
tasks marked successful (no Kubernetes here); schedules, params and run ids behave as compiled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flowc.backends.airflow.names import flowc_run_id
from tests.airflow.engine import AirflowHome
from tests.airflow.golden import GOLDEN_DIR, OPERATORS

pytestmark = pytest.mark.slow

KUBERNETES_GOLDEN = sorted((GOLDEN_DIR / "kubernetes").glob("*.py"))


@pytest.mark.parametrize("operator", OPERATORS)
def test_golden_dag_files_import_and_serialise(operator: str, airflow_home: AirflowHome) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    folder = GOLDEN_DIR / operator
    bag = DagBag(dag_folder=str(folder))
    assert bag.import_errors == {}
    files = sorted(folder.glob("*.py"))
    assert sorted(bag.dags) == sorted(f.stem for f in files)
    for dag in bag.dags.values():
        restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
        assert sorted(restored.task_dict) == sorted(dag.task_dict)


def pod_task_pattern(module) -> re.Pattern[str]:
    """Every task that would start a pod (steps and loops; not the fanout/choose helpers)."""
    pods = sorted(t for t, task in module.dag.task_dict.items() if task.task_type == "KubernetesPodOperator")
    assert pods, "no pod tasks found"
    return re.compile("^(" + "|".join(re.escape(p) for p in pods) + ")$")


@pytest.mark.parametrize("golden", KUBERNETES_GOLDEN, ids=[g.stem for g in KUBERNETES_GOLDEN])
def test_pod_dags_run_with_pod_tasks_marked_successful(golden: Path, airflow_home: AirflowHome) -> None:
    module = airflow_home.load(golden)
    pattern = pod_task_pattern(module)
    conf = {"text": "given"} if "ParametersFlow" in golden.name else {}
    result = airflow_home.test(golden.name, golden.read_text(encoding="utf-8"), conf,
                               mark_success_pattern=pattern)  # fmt: skip
    assert result.state == "success", result.task_states
    for (task_id, _), state in result.task_states.items():
        if pattern.match(task_id):
            # A marked task never ran, so it left no control record: fanouts have nothing to map
            # and branch tasks skip every case. Everything else was marked successful.
            assert state in ("success", "skipped"), (task_id, state)
    assert result.task_states[("start", -1)] == "success"


def test_dag_copy_of_the_run_id_function_agrees(airflow_home: AirflowHome) -> None:
    module = airflow_home.load(GOLDEN_DIR / "local" / "LinearFlow.py")
    for run_id in ("manual__2026-01-01T00:00:00+00:00", "scheduled__x", "a/b c", "x" * 300, "é"):
        assert module.flowc_run_id(run_id) == flowc_run_id(run_id)


def test_schedule_keeps_its_timezone(airflow_home: AirflowHome) -> None:
    import pendulum
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction

    module = airflow_home.load(GOLDEN_DIR / "local" / "demo.test.golden.DecoratedFlow.py")
    # What the scheduler uses: the timetable of the serialised DAG.
    timetable = DagSerialization.from_dict(DagSerialization.to_dict(module.dag)).timetable

    def next_run_utc_hour(after):
        restriction = TimeRestriction(earliest=after, latest=None, catchup=True)
        info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
        return info.run_after.in_timezone("UTC").hour, info.run_after.in_timezone("UTC").minute

    # 06:30 in Amsterdam is 05:30 UTC in winter and 04:30 UTC in summer: the timezone is honoured.
    assert next_run_utc_hour(pendulum.datetime(2026, 1, 5, tz="UTC")) == (5, 30)
    assert next_run_utc_hour(pendulum.datetime(2026, 7, 6, tz="UTC")) == (4, 30)


def test_required_parameter_is_enforced_when_a_run_is_created(airflow_home: AirflowHome) -> None:
    golden = GOLDEN_DIR / "local" / "ParametersFlow.py"
    module = airflow_home.load(airflow_home.install(golden.name, golden.read_text(encoding="utf-8")))
    with pytest.raises(Exception, match="text"):
        module.dag.test(run_conf={})
