"""The Step Functions column of the conformance matrix, run for real.

Each case's flow is compiled to a state machine, created on a moto server that executes the States
Language (tests/sfn/harness.py makes every Batch job run the task runner as a local process), run
against a fresh S3 datastore on that server, and compared artifact by artifact with ``flowc run``.
"""

from __future__ import annotations

import json

import pytest

from flowc.backends.options import CompileOptions
from flowc.backends.sfn import BACKEND
from flowc.backends.sfn.definition import (
    ANNOUNCE_END_STATE,
    FAILED_ERROR,
    FAILED_STATE,
    READ_STATUS_STATE,
    RECORD_FAILURE_STATE,
)
from flowc.backends.sfn.trigger import execution_input
from flowc.client import Run
from flowc.config import load_settings
from flowc.frontend import build_ir
from tests.conformance.artifacts import assert_same_artifacts, collect_artifacts
from tests.conformance.matrix import Case, cases_for, local_reference
from tests.sfn.engine import SfnEngine
from tests.sfn.fixtures import sfn_engine, sfn_env

__all__ = ["sfn_engine", "sfn_env"]

#: Low enough that the wide foreach (width 60) takes the Distributed Map path; the other foreach
#: cases (width <= 4) take the inline one.
THRESHOLD = 10


def _run_case(case: Case, engine: SfnEngine) -> tuple[str, str, dict]:
    datastore = f"s3://{engine.new_bucket()}/datastore"
    settings = load_settings(
        {"datastore": datastore, "sfn.distributed_map_threshold": THRESHOLD, **case.settings}, environ={}
    )
    ir = build_ir(case.path)
    # As deployed: every task starts through the bootstrap, from the code package.
    package_sha = engine.deploy_code(ir, settings, case.path)
    definition = BACKEND.compile(ir, settings, CompileOptions(package_sha=package_sha))[0].text
    run_id, result = engine.run(definition, execution_input(case.parameters, datastore))
    return datastore, run_id, result


@pytest.mark.slow
@pytest.mark.parametrize("case", cases_for("sfn"), ids=lambda case: case.name)
def test_sfn_column(case: Case, sfn_env: SfnEngine, tmp_path) -> None:
    datastore, run_id, result = _run_case(case, sfn_env)
    entered = sfn_env.states_entered(result["executionArn"])
    if case.succeeds:
        assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
        # Whatever its shape, the run put its finish event (its failure would not fail the run).
        events = sfn_env.history(result["executionArn"])
        names = [e.get("stateEnteredEventDetails", {}).get("name") for e in events]
        after = events[names.index(ANNOUNCE_END_STATE) :]
        outcome = next(e for e in after if e["type"] in ("TaskSucceeded", "TaskFailed"))
        assert outcome["type"] == "TaskSucceeded", outcome
    else:
        assert ANNOUNCE_END_STATE not in entered
        assert result["status"] == "FAILED"
        # The failure is caught at the top level, recorded in the datastore, then fails the execution
        # with the recorded reason as its cause (the failed task and why), not a job description.
        expected = [case.failed_step, RECORD_FAILURE_STATE, READ_STATUS_STATE, FAILED_STATE]
        assert entered[-4:] == expected, entered[-6:]
        assert result.get("error") == FAILED_ERROR, result
        status = Run(f"{case.flow_name}/{run_id}", datastore=datastore, _namespace_check=False).status
        assert status["status"] == "failed" and "States.TaskFailed" in status["reason"]
        assert f"/{run_id}/{case.failed_step}/" in status["reason"]
        assert result.get("cause", "").startswith(f"States.TaskFailed: {status['reason']}. Caught: "), result
    actual = collect_artifacts(datastore, case.flow_name, run_id)
    for (step, name), value in case.checks.items():
        tasks = [values for (task_step, task_id), values in actual.items() if task_step == step]
        assert any(values.get(name) == value for values in tasks), (step, name, tasks)
    assert_same_artifacts(local_reference(case.name, tmp_path), actual)
    if case.behaviour == "retry":
        # One state entered once; its Retry submitted a second Batch job after the first failed.
        assert entered.count("flaky") == 1
        events = sfn_env.history(result["executionArn"])
        jobs = [
            json.loads(e["taskSubmittedEventDetails"]["output"])["JobName"]
            for e in events
            if e["type"] == "TaskSubmitted" and e["taskSubmittedEventDetails"]["resourceType"] == "batch"
        ]
        assert [job.rsplit("-", 1)[-1] for job in jobs] == ["start", "flaky", "flaky", "end"]
    if case.name == "wide_foreach":
        assert "start.fan-out~d" in entered and "start.fan-out" not in entered
