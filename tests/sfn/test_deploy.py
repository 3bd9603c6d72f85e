"""``flowc deploy|trigger --target sfn`` on a moto server (127.0.0.1): create, update, schedule, start."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from flowc.cli import main
from flowc.datastore.objects import ObjectStore
from flowc.datastore.storage import open_storage
from tests.conformance.artifacts import collect_artifacts
from tests.helpers.servers import MotoServer
from tests.sfn.compiling import SFN_FLOWS
from tests.sfn.engine import SfnEngine

FEATURES = SFN_FLOWS / "features_flow.py"
LINEAR = Path(__file__).resolve().parents[1] / "conformance" / "flows" / "linear_flow.py"
PARAMETERS = Path(__file__).resolve().parents[1] / "conformance" / "flows" / "parameters_flow.py"


@pytest.fixture
def configured(aws_env: MotoServer, s3_root: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FLOWC_DATASTORE", s3_root)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", "flowc-queue")
    monkeypatch.setenv("FLOWC_SFN__ROLE", "arn:aws:iam::123456789012:role/flowc-sfn")
    monkeypatch.setenv("FLOWC_PROJECT__BRANCH", "ci")
    return s3_root


def _state_machines() -> dict[str, str]:
    sfn = boto3.client("stepfunctions")
    return {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}


@pytest.mark.slow
def test_deploy_creates_then_updates(configured: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", str(FEATURES), "--target", "sfn"]) == 0
    out = capsys.readouterr().out
    assert "state machine analytics-ci-FeaturesFlow: created" in out
    arn = _state_machines()["analytics-ci-FeaturesFlow"]
    definition = json.loads(
        boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
    )
    command = definition["States"]["start"]["Parameters"]["ContainerOverrides"]["Command.$"]
    assert "'--package', '" in command  # the uploaded code package, not the source file
    sha = command.split("'--package', '")[1].split("'")[0]
    assert ObjectStore(open_storage(configured)).get(sha)  # uploaded and verified by hash

    batch = boto3.client("batch")
    train = batch.describe_job_definitions(jobDefinitionName="flowc-analytics-ci-FeaturesFlow-train")
    properties = train["jobDefinitions"][0]["containerProperties"]
    assert properties["image"] == "python:3.12-slim"
    assert properties["secrets"] == [
        {
            "name": "DB_CREDS_ABCDEF",
            "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-creds-AbCdEf",
        }
    ]

    schedule = boto3.client("scheduler").get_schedule(Name="analytics-ci-FeaturesFlow")
    assert schedule["ScheduleExpression"] == "cron(30 6 ? * 2-6 *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["Target"]["Arn"] == arn

    # Second deploy: same state machine updated, job definitions unchanged, schedule updated.
    assert main(["deploy", str(FEATURES), "--target", "sfn"]) == 0
    out = capsys.readouterr().out
    assert "state machine analytics-ci-FeaturesFlow: updated" in out
    assert "job definition flowc-analytics-ci-FeaturesFlow: unchanged" in out
    assert "schedule analytics-ci-FeaturesFlow: updated" in out
    assert list(_state_machines()).count("analytics-ci-FeaturesFlow") == 1


def test_dry_run_changes_nothing(configured: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = _state_machines()
    assert main(["deploy", str(LINEAR), "--target", "sfn", "--dry-run"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["state_machine"] == "LinearFlow"
    assert plan["job_definitions"] == ["flowc-LinearFlow"]
    assert _state_machines() == before


@pytest.mark.slow
def test_trigger_starts_an_execution_with_parameters(
    configured: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", str(PARAMETERS), "--target", "sfn"]) == 0
    big = "x" * 5000
    code = main(
        [
            "trigger",
            "ParametersFlow",
            "--target",
            "sfn",
            "--text",
            big,
            "--param",
            "count",
            "3",
            "--name",
            "run-one",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "run id sfn-run-one" in out
    sfn = boto3.client("stepfunctions")
    arn = _state_machines()["ParametersFlow"]
    executions = sfn.list_executions(stateMachineArn=arn)["executions"]
    assert [e["name"] for e in executions] == ["run-one"]
    payload = json.loads(sfn.describe_execution(executionArn=executions[0]["executionArn"])["input"])
    parameters = payload["parameters"]
    assert parameters["count"] == "3"
    # The large value travelled through the datastore, by hash.
    assert set(parameters["text"]) == {"$object"}
    stored = ObjectStore(open_storage(configured)).get(parameters["text"]["$object"])
    assert json.loads(bytes(stored)) == big


def test_trigger_of_an_unknown_flow_fails(configured: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trigger", "NoSuchFlow", "--target", "sfn"]) == 1
    assert "no state machine 'NoSuchFlow'" in capsys.readouterr().err


@pytest.mark.slow
def test_deployed_package_runs_end_to_end(
    sfn_env: SfnEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """deploy (package upload, job definition) then trigger --wait on the executing engine."""
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    assert main(["deploy", str(LINEAR), "--target", "sfn"]) == 0
    code = main(["trigger", "LinearFlow", "--target", "sfn", "--name", "e2e", "--wait"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "status SUCCEEDED" in out
    artifacts = collect_artifacts(datastore, "LinearFlow", "sfn-e2e")
    assert artifacts[("end", "0")]["message"] == "hello 6"
