"""The harness does not paper over what AWS would refuse: a Batch request the real API rejects
fails its state here too (tests/sfn/batch_rules.py), while the compiled requests pass."""

from __future__ import annotations

import json
from typing import Any

import pytest

from flowc.backends.sfn.naming import job_definition_name
from flowc.config import load_settings
from flowc.frontend import build_ir
from tests.sfn.batch_rules import request_problems
from tests.sfn.compiling import CONFORMANCE_FLOWS, compile_flow
from tests.sfn.engine import SfnEngine


def _submit_job() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("batch").operation_model("SubmitJob")


def _request(**changes: Any) -> dict[str, Any]:
    request = {
        "JobName": "Flow-start",
        "JobQueue": "flowc",
        "JobDefinition": "flowc-Flow",
        "ContainerOverrides": {
            "Command": ["python", "-m", "flowc.task_runner"],
            "Environment": [{"Name": "MODE", "Value": "fast"}],
            "ResourceRequirements": [{"Type": "VCPU", "Value": "2"}, {"Type": "MEMORY", "Value": "4096"}],
        },
        "Timeout": {"AttemptDurationSeconds": 90},
    }
    request.update(changes)
    return request


def test_a_request_batch_accepts_passes() -> None:
    assert request_problems(_submit_job(), _request()) == []


@pytest.mark.parametrize(
    ("changes", "why"),
    [
        ({"JobName": "analytics-user.alice-Flow"}, "jobName"),
        ({"JobName": "_Flow-start"}, "jobName"),
        ({"JobName": "x" * 129}, "jobName"),
        ({"Timeout": {"AttemptDurationSeconds": 30}}, "minimum is 60"),
        ({"ContainerOverrides": {"ResourceRequirements": [{"Type": "VCPU", "Value": 2}]}}, "type"),
        ({"ContainerOverrides": {"ResourceRequirements": [{"Type": "CPU", "Value": "2"}]}}, "CPU"),
        ({"ContainerOverrides": {"Environment": [{"Name": "AWS_BATCH_X", "Value": "1"}]}}, "reserved"),
        ({"ContainerOverrides": {"Environment": [{"Name": "BIG", "Value": "x" * 9000}]}}, "8192"),
        ({"ContainerOverrides": {"Comand": ["true"]}}, "Unknown parameter"),
        ({"JobQueue": None}, "JobQueue"),
    ],
)
def test_a_request_batch_refuses_is_refused(changes: dict[str, Any], why: str) -> None:
    request = {k: v for k, v in _request(**changes).items() if v is not None}
    problems = request_problems(_submit_job(), request)
    assert problems and why.lower() in " ".join(problems).lower(), problems


@pytest.mark.slow
def test_a_refused_batch_request_fails_the_execution(sfn_env: SfnEngine) -> None:
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    path = CONFORMANCE_FLOWS / "linear_flow.py"
    ir = build_ir(path)
    settings = load_settings({"datastore": datastore}, environ={})
    sfn_env.job_definition(job_definition_name(ir, settings))
    definition = json.loads(compile_flow(path, settings))
    definition["States"]["start"]["Parameters"]["JobName"] = "LinearFlow.start"  # '.' is not allowed
    _, result = sfn_env.run(json.dumps(definition), {"parameters": {}})
    assert result["status"] == "FAILED"
    assert result["cause"].startswith("Batch.ClientException: "), result["cause"]
    assert "jobName 'LinearFlow.start'" in result["cause"]
