"""Every conformance flow, driven task by task through the task runner as an engine would."""

from __future__ import annotations

import pytest

from tests.conformance.artifacts import comparable
from tests.task_runner.driver import drive

# flow file -> (parameters, end task id, expected artifacts of the end task (a subset))
EXPECTED = {
    "linear_flow.py": (None, "end", {"message": "hello 6", "numbers": [1, 2, 3], "total": 6}),
    "branch_flow.py": (None, "end", {"result": 33, "values": [11, 12], "left_side": "left", "base": 10}),
    "foreach_flow.py": (None, "end", {"labels": ["0:A", "1:B", "2:C", "3:D"], "count": 4}),
    "nested_foreach_flow.py": (None, "end", {"all_cells": ["1x", "1y", "1z", "2x", "2y", "2z"], "n": 6}),
    "foreach_in_branch_flow.py": (None, "end", {"total": 14, "note": "plain"}),
    "branch_in_foreach_flow.py": (None, "end", {"summaries": [(2, "ba"), (3, "edc")]}),
    "switch_flow.py": ({"mode": "low"}, "end", {"summary": "picked low", "picked": "low", "mode": "low"}),
    "loop_flow.py": ({"rounds": "4"}, "end.3", {"final": 4, "history": [1, 2, 3, 4], "rounds": 4}),
    "parameters_flow.py": (
        {"text": "q'\"$(x)\n✓", "enabled": "true", "config": '{"a": null}'},
        "end",
        {"echo": {"text": "q'\"$(x)\n✓", "count": 2, "ratio": 0.5, "enabled": True, "config": {"a": None}}},
    ),
    "retry_flow.py": (None, "end", {}),
    "catch_flow.py": (
        None,
        "end",
        {"failure_text": "broken on purpose", "failure_type": "builtins.ValueError"},
    ),
    "wide_foreach_flow.py": ({"width": 7}, "end", {"width": 7}),
}


@pytest.mark.parametrize("flow_file", sorted(EXPECTED))
def test_flow_runs_to_the_end_with_the_expected_artifacts(flow_file, tmp_path):
    params, end_task, expected = EXPECTED[flow_file]
    outcome = drive(flow_file, tmp_path / "ds", params=params, tmp=tmp_path)
    assert outcome.succeeded, outcome.codes
    end = outcome.artifacts("end", end_task)
    for name, value in expected.items():
        assert end[name] == value, name


def test_retry_fails_once_then_succeeds_on_attempt_1(tmp_path):
    outcome = drive("retry_flow.py", tmp_path / "ds")
    assert outcome.codes[("flaky", "flaky")] == [1, 0]
    assert outcome.artifacts("flaky")["attempts_needed"] == 2
    assert outcome.task("flaky")["attempt"] == 1


def test_switch_runs_only_the_chosen_case(tmp_path):
    outcome = drive("switch_flow.py", tmp_path / "ds")
    assert ("high", "high") in outcome.codes and ("low", "low") not in outcome.codes
    assert outcome.task("start")["control"]["switch_case"] == "high"
    assert outcome.task("start")["control"]["next"] == ["high"]


def test_loop_iterations_name_tasks_and_back_edges_count(tmp_path):
    outcome = drive("loop_flow.py", tmp_path / "ds")
    assert sorted(task for step, task in outcome.codes if step == "work") == ["work", "work.1", "work.2"]
    decide = outcome.task("decide", "decide.1")["control"]
    assert decide["switch_case"] == "again" and decide["next_iteration"] == 2
    assert outcome.task("decide", "decide.2")["control"]["next"] == ["end"]
    assert outcome.artifacts("work", "work.2")["history"] == [1, 2, 3]


def test_nested_foreach_stack_and_task_ids(tmp_path):
    outcome = drive("nested_foreach_flow.py", tmp_path / "ds")
    cell = outcome.artifacts("cell", "cell-1-2")
    assert cell["cell_name"] == "2z"
    assert cell["stack"] == [(1, 2), (2, 3)]
    assert outcome.task("cell", "cell-1-2")["index_path"] == [1, 2]
    assert outcome.task("row", "row-1")["control"]["num_splits"] == 3


def test_foreach_input_and_index_reach_steps_below_the_first(tmp_path):
    outcome = drive("foreach_flow.py", tmp_path / "ds")
    assert outcome.artifacts("inner", "inner-2")["label"] == "2:C"
    assert outcome.task("start")["control"]["num_splits"] == 4


def test_catch_records_the_exception_and_continues(tmp_path):
    outcome = drive("catch_flow.py", tmp_path / "ds")
    fails = outcome.task("fails")
    assert fails["caught"].startswith("ValueError")
    assert fails["control"]["next"] == ["end"]
    failure = outcome.artifacts("fails")["failure"]
    # Metaflow's exception wrapper (MetaflowExceptionWrapper): type, message and traceback
    from flowc.exception import MetaflowExceptionWrapper

    assert isinstance(failure, MetaflowExceptionWrapper)
    assert (failure.type, failure.exception) == ("builtins.ValueError", "broken on purpose")
    assert str(failure) == failure.stacktrace
    assert str(failure).splitlines()[-1] == "ValueError: broken on purpose"


@pytest.mark.parametrize("flow_file", ["linear_flow.py", "foreach_flow.py", "loop_flow.py", "catch_flow.py"])
def test_same_results_through_python_dash_m(flow_file, tmp_path):
    in_process = drive(flow_file, tmp_path / "a")
    separate = drive(flow_file, tmp_path / "b", subprocess_mode=True)
    assert separate.succeeded, separate.outputs
    assert sorted(separate.codes) == sorted(in_process.codes)
    for step, task in in_process.codes:
        if in_process.task(step, task) is None:
            continue
        assert comparable(separate.artifacts(step, task)) == comparable(in_process.artifacts(step, task))


@pytest.mark.parametrize(
    ("run_id", "runtime"),
    [("argo-wf-1", "argo-workflows"), ("sfn-exec-1", "step-functions"), ("airflow-run-1", "airflow")],
)
def test_a_run_an_engine_started_carries_its_runtime_system_tag(tmp_path, run_id, runtime):
    from flowc.client import Run

    outcome = drive("linear_flow.py", tmp_path / "ds", run_id=run_id)
    assert outcome.succeeded, outcome.codes
    run = Run(f"{outcome.flow}/{run_id}", datastore=str(tmp_path / "ds"), _namespace_check=False)
    assert f"runtime:{runtime}" in run.system_tags and f"runtime:{runtime}" in run.tags
