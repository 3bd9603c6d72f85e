"""The DAG runtime (flowc/backends/airflow/dag_runtime.py) on its own, and as DAG files hold it."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowc.backends.airflow import dag_runtime
from flowc.backends.airflow.lowering import dag_runtime_text
from flowc.backends.airflow.names import flowc_run_id
from flowc.parameter_values import EVENTS_KEY, OBJECTS_KEY
from tests.airflow.engine import AirflowHome
from tests.airflow.golden import GOLDEN_DIR, OPERATORS


def slot(name: str) -> str:
    return dag_runtime.PLACEHOLDER.format(name)


def test_placeholders_are_filled_and_an_absent_value_drops_its_option() -> None:
    argv = [
        "--flow",
        "F",
        "--run-id",
        slot("run_id"),
        "--source",
        slot("source"),
        "--package",
        slot("package"),
    ]
    filled = dag_runtime.flowc_argv(argv, {"run_id": "airflow-x", "source": None, "package": "ab"})
    assert filled == ["--flow", "F", "--run-id", "airflow-x", "--package", "ab"]
    assert dag_runtime.flowc_argv(["--iteration", slot("iteration")], {"iteration": 3}) == [
        "--iteration",
        "3",
    ]


def test_pod_arguments_outside_a_foreach_become_airflow_macros(monkeypatch) -> None:
    argv = [
        "--flow",
        "F",
        "--run-id",
        slot("run_id"),
        "--entry",
        slot("entry"),
        "--iteration",
        slot("iteration"),
    ]
    monkeypatch.setattr(dag_runtime, "ARGV", {"loop-a": argv})
    assert dag_runtime.flowc_pod_arguments("loop-a") == [
        "--flow", "F", "--run-id", "{{ flowc_run_id(run_id) }}",
        "--entry", "{{ flowc_entry(ti, 'loop-a')[0] }}", "--iteration", "{{ flowc_iteration(ti, 'loop-a') }}",
    ]  # fmt: skip
    mapped = dag_runtime.flowc_mapped_arguments("loop-a")
    entry = {"index": [1, 2], "iteration": 0, "run_id": "airflow-r"}
    monkeypatch.setattr(
        dag_runtime, "ARGV", {"loop-a": ["--run-id", slot("run_id"), "--index", slot("index")]}
    )
    assert mapped(entry) == ["--run-id", "airflow-r", "--index", "1,2"]


class Controls:
    """A task instance's ``xcom_pull``: the control records upstream tasks left."""

    def __init__(self, controls: dict[str, dict]) -> None:
        self.controls = controls

    def xcom_pull(self, task_ids: str) -> dict | None:
        return self.controls.get(task_ids)


def test_a_task_starts_where_the_control_record_that_chose_it_says(monkeypatch) -> None:
    monkeypatch.setattr(
        dag_runtime,
        "ITERATION",
        {
            "loop-w": ("next", ("a", "b"), ("w", "d")),
            "join": ("split", ("s",), ("join",)),
            "start": ("none", (), ("start",)),
        },
    )
    ti = Controls({"b": {"next": ["d"], "next_iteration": 2}, "s": {"iteration": 4}})
    assert dag_runtime.flowc_entry(ti, "loop-w") == ("d", 2)
    assert dag_runtime.flowc_iteration(ti, "join") == 4
    assert dag_runtime.flowc_entry(ti, "start") == ("start", 0)


def test_parameter_values_pass_stored_objects_by_hash(monkeypatch) -> None:
    monkeypatch.setattr(dag_runtime, "PARAMETERS", ("a", "b"))

    class Run:
        conf = {OBJECTS_KEY: {"b": "ab" * 32}}

    assert dag_runtime.flowc_parameter_values({"a": 1, "b": None}, Run()) == {
        "a": 1,
        OBJECTS_KEY: {"b": "ab" * 32},
    }
    assert dag_runtime.flowc_parameters({"a": "$(HOME)"}) == '{"a": "$$(HOME)"}'


def test_the_runtime_agrees_with_flowc() -> None:
    from flowc.task_runner.spec import RESUME_ENVIRONMENT

    assert dag_runtime.OBJECTS_KEY == OBJECTS_KEY
    assert dag_runtime.RESUME_ENVIRONMENT == RESUME_ENVIRONMENT


def test_the_resume_argument_comes_from_the_runs_conf() -> None:
    class DagRun:
        conf = {"$resume": "argo-x/body"}

    assert dag_runtime.flowc_resume(DagRun()) == "argo-x/body"
    assert dag_runtime.flowc_resume(None) == ""


@pytest.mark.parametrize("operator", OPERATORS)
def test_every_dag_file_holds_the_runtime_verbatim_and_imports_only_airflow(operator: str) -> None:
    import ast
    import sys

    text = dag_runtime_text()
    for dag_file in sorted(Path(GOLDEN_DIR / operator).glob("*.py")):
        source = dag_file.read_text(encoding="utf-8")
        assert text in source, dag_file.name
        modules = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules.add(node.module.split(".")[0])
        foreign = modules - set(sys.stdlib_module_names) - {"airflow", "pendulum", "kubernetes"}
        assert not foreign, (dag_file.name, foreign)


def asset_events(*events: tuple[str, dict, str | None, int]):
    """The task context's ``triggering_asset_events``, built by Airflow's own classes from
    (asset URI, extra, the DAG run that recorded the event or None, seconds after 2026-12-07)."""
    from datetime import UTC, datetime, timedelta

    from airflow.sdk.execution_time.comms import AssetEventDagRunReferenceResult
    from airflow.sdk.execution_time.context import TriggeringAssetEventsAccessor

    start = datetime(2026, 12, 7, tzinfo=UTC)
    return TriggeringAssetEventsAccessor.build(
        AssetEventDagRunReferenceResult(
            asset={"name": uri, "uri": uri, "extra": {}},
            extra=extra,
            source_task_id="end" if run else None,
            source_dag_id="Up" if run else None,
            source_run_id=run,
            source_map_index=-1 if run else None,
            source_aliases=[],
            timestamp=start + timedelta(seconds=seconds),
        )
        for uri, extra, run, seconds in events
    )


def test_triggering_asset_events_become_mapped_parameters_and_event_bodies(
    monkeypatch, airflow_home: AirflowHome
) -> None:
    # airflow_home: Airflow is imported here (its event classes), after the session set its home.
    from flowc.authoring.run_trigger import trigger_events
    from flowc.backends.airflow.assets import event_asset

    ready, done = event_asset("data_ready"), event_asset("metaflow.Up.end")
    monkeypatch.setattr(dag_runtime, "PARAMETERS", ("day", "rows", "limit"))
    monkeypatch.setattr(
        dag_runtime,
        "TRIGGERS",
        {
            ready: ("data_ready", None, (("day", "date"), ("rows", "meta.rows"))),
            done: ("metaflow.Up.end", "Up", ()),
        },
    )
    events = asset_events(
        (ready, {"date": "2026-12-06", "from_rest_api": True}, None, 1),
        (ready, {"date": "2026-12-07", "meta": {"rows": 42}, "from_rest_api": True}, None, 5),
        (done, {}, "manual__2026-12-07T00:00:00+00:00", 3),
    )
    values = dag_runtime.flowc_parameter_values({"day": "x", "rows": 0, "limit": 10}, None, events)
    # The latest event of an asset maps its fields (a dotted field is a path); Airflow's mark is no payload.
    assert {k: v for k, v in values.items() if k != "$events"} == {
        "day": "2026-12-07",
        "rows": 42,
        "limit": 10,
    }
    bodies = values["$events"]
    assert [(b["name"], b["payload"]) for b in bodies] == [
        ("data_ready", {"date": "2026-12-06"}),
        ("metaflow.Up.end", {"run": "Up/" + flowc_run_id("manual__2026-12-07T00:00:00+00:00")}),
        ("data_ready", {"date": "2026-12-07", "meta": {"rows": 42}}),
    ]
    # What the start task keeps for current.trigger: the finished flow's event is of type run.
    assert [e["type"] for e in trigger_events(bodies)] == ["event", "run", "event"]
    assert dag_runtime.EVENTS_KEY == EVENTS_KEY


def test_a_dag_without_triggers_never_reads_the_asset_events(monkeypatch) -> None:
    class Unreadable:
        def __iter__(self):
            raise AssertionError("read")

    monkeypatch.setattr(dag_runtime, "PARAMETERS", ("a",))
    assert dag_runtime.flowc_parameter_values({"a": 1}, None, Unreadable()) == {"a": 1}
