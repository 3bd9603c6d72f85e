"""``flowc deploy|trigger --target sfn`` on a moto server (127.0.0.1): create, update, schedule, start."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from flowc.cli import main
from flowc.datastore.objects import ObjectStore
from flowc.datastore.storage import open_storage
from flowc.task_runner.bootstrap import materialize_package
from tests.conformance.artifacts import collect_artifacts
from tests.helpers.servers import MotoServer
from tests.sfn.compiling import SFN_FLOWS
from tests.sfn.engine import ROLE_ARN, SfnEngine

FEATURES = SFN_FLOWS / "features_flow.py"
LINEAR = Path(__file__).resolve().parents[1] / "conformance" / "flows" / "linear_flow.py"
PARAMETERS = Path(__file__).resolve().parents[1] / "conformance" / "flows" / "parameters_flow.py"


@pytest.fixture
def configured(aws_env: MotoServer, s3_root: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FLOWC_DATASTORE", s3_root)
    job_queues("flowc-queue", "gpu-queue")  # the configured one and FeaturesFlow's @batch(queue=)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", "flowc-queue")
    monkeypatch.setenv("FLOWC_SFN__ROLE", "arn:aws:iam::123456789012:role/flowc-sfn")
    monkeypatch.setenv("FLOWC_PROJECT__BRANCH", "ci")
    return s3_root


def job_queues(*names: str) -> None:
    """Batch job queues (on one compute environment), as an account that runs flows has them."""
    batch, iam = boto3.client("batch"), boto3.client("iam")
    existing = {q["jobQueueName"] for q in batch.describe_job_queues(jobQueues=list(names))["jobQueues"]}
    try:
        role = iam.get_role(RoleName="batch-service")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="batch-service", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    for name in sorted(set(names) - existing):
        environment = batch.create_compute_environment(
            computeEnvironmentName=f"{name}-env", type="UNMANAGED", state="ENABLED", serviceRole=role
        )
        batch.create_job_queue(
            jobQueueName=name,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}
            ],
        )


def test_deploy_to_a_job_queue_that_does_not_exist_fails_clearly(
    configured: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", "no-such-queue")
    before = _state_machines()
    assert main(["deploy", str(LINEAR), "--target", "sfn"]) == 1
    err = capsys.readouterr().err
    assert "no Batch job queue 'no-such-queue'" in err and "batch.job_queue" in err
    assert _state_machines() == before


def _state_machines() -> dict[str, str]:
    sfn = boto3.client("stepfunctions")
    return {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}


@pytest.mark.slow
def test_deploy_creates_then_updates(
    configured: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["deploy", str(FEATURES), "--target", "sfn"]) == 0
    out = capsys.readouterr().out
    assert "created state machine analytics-test-ci-FeaturesFlow" in out
    arn = _state_machines()["analytics-test-ci-FeaturesFlow"]
    definition = json.loads(
        boto3.client("stepfunctions").describe_state_machine(stateMachineArn=arn)["definition"]
    )
    command = definition["States"]["start"]["Parameters"]["ContainerOverrides"]["Command.$"]
    assert "'--package', '" in command  # the uploaded code package, not the source file
    sha = command.split("'--package', '")[1].split("'")[0]
    assert materialize_package(open_storage(configured), sha, tmp_path / "cache")  # uploaded, verified

    batch = boto3.client("batch")
    train = batch.describe_job_definitions(jobDefinitionName="flowc-analytics-test-ci-FeaturesFlow-train")
    properties = train["jobDefinitions"][0]["containerProperties"]
    assert properties["image"] == "python:3.12-slim"
    assert properties["secrets"] == [
        {
            "name": "DB_CREDS",
            "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-creds-AbCdEf",
        }
    ]

    schedule = boto3.client("scheduler").get_schedule(Name="analytics-test-ci-FeaturesFlow")
    assert schedule["ScheduleExpression"] == "cron(30 6 ? * 2-6 *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert schedule["Target"]["Arn"] == arn

    # Second deploy: nothing changed, so nothing is written.
    assert main(["deploy", str(FEATURES), "--target", "sfn"]) == 0
    out = capsys.readouterr().out
    assert "unchanged state machine analytics-test-ci-FeaturesFlow" in out
    assert "unchanged job definition flowc-analytics-test-ci-FeaturesFlow" in out
    assert "unchanged schedule analytics-test-ci-FeaturesFlow (cron(30 6 ? * 2-6 *))" in out
    assert list(_state_machines()).count("analytics-test-ci-FeaturesFlow") == 1


def test_dry_run_changes_nothing(configured: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = _state_machines()
    assert main(["deploy", str(LINEAR), "--target", "sfn", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would create job definition flowc-LinearFlow" in out
    assert "would create state machine LinearFlow" in out
    assert '+    "StartAt": "flowc.resumes",' in out  # the definition, as a diff against nothing
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
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    assert main(["deploy", str(LINEAR), "--target", "sfn"]) == 0
    code = main(["trigger", "LinearFlow", "--target", "sfn", "--name", "e2e", "--wait"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "status SUCCEEDED" in out
    artifacts = collect_artifacts(datastore, "LinearFlow", "sfn-e2e")
    assert artifacts[("end", "end")]["message"] == "hello 6"


def test_deploy_without_a_role_fails_clearly_and_changes_nothing(
    configured: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FLOWC_SFN__ROLE")
    before = _state_machines()
    for dry_run in ([], ["--dry-run"]):
        assert main(["deploy", str(LINEAR), "--target", "sfn", *dry_run]) == 2  # configuration
        err = capsys.readouterr().err
        assert "no IAM role for the state machine" in err and "sfn.role" in err
    assert _state_machines() == before
    assert not list(open_storage(configured).list("packages/"))  # no code package uploaded either


def test_deploy_reports_aws_errors_with_a_message(
    configured: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWC_DATASTORE", "s3://no-such-bucket-for-flowc/datastore")
    assert main(["deploy", str(LINEAR), "--target", "sfn"]) == 1
    err = capsys.readouterr().err
    # Found while reading the deployment record, before anything is uploaded or changed.
    assert err.startswith("flowc deploy: datastore: ") and "NoSuchBucket" in err
    assert len(err.splitlines()) == 1


def test_a_removed_job_definition_property_registers_a_new_revision(
    configured: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWC_BATCH__JOB_ROLE", "arn:aws:iam::123456789012:role/flowc-job")
    assert main(["deploy", str(LINEAR), "--target", "sfn"]) == 0
    capsys.readouterr()
    assert main(["deploy", str(LINEAR), "--target", "sfn"]) == 0
    assert "unchanged job definition flowc-LinearFlow" in capsys.readouterr().out
    monkeypatch.delenv("FLOWC_BATCH__JOB_ROLE")
    assert main(["deploy", str(LINEAR), "--target", "sfn"]) == 0
    assert "updated job definition flowc-LinearFlow: a new revision" in capsys.readouterr().out
    batch = boto3.client("batch")
    revisions = batch.describe_job_definitions(jobDefinitionName="flowc-LinearFlow", status="ACTIVE")
    latest = max(revisions["jobDefinitions"], key=lambda d: d["revision"])
    assert not latest["containerProperties"].get("jobRoleArn")


@pytest.mark.slow
def test_a_long_deployment_name_gets_a_schedule_eventbridge_accepts(
    configured: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLOWC_PROJECT__BRANCH", "feature-with-a-rather-long-descriptive-name")
    assert main(["deploy", str(FEATURES), "--target", "sfn"]) == 0
    out = capsys.readouterr().out
    [line] = [line for line in out.splitlines() if line.startswith("created schedule ")]
    name = line.split()[2]
    assert len(name) <= 64
    schedule = boto3.client("scheduler").get_schedule(Name=name)
    assert schedule["ScheduleExpression"] == "cron(30 6 ? * 2-6 *)"
    assert main(["deploy", str(FEATURES), "--target", "sfn"]) == 0
    assert f"unchanged schedule {name} " in capsys.readouterr().out


def test_trigger_reports_aws_errors_with_a_message(
    configured: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy", str(PARAMETERS), "--target", "sfn"]) == 0
    assert main(["trigger", "ParametersFlow", "--target", "sfn", "--name", "twice", "--text", "a"]) == 0
    capsys.readouterr()
    # An execution name is unique per state machine: with another input, ExecutionAlreadyExists.
    assert main(["trigger", "ParametersFlow", "--target", "sfn", "--name", "twice", "--text", "b"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("flowc: trigger failed: ") and "ExecutionAlreadyExists" in err


@pytest.mark.slow
def test_trigger_wait_says_why_a_run_failed(
    sfn_env: SfnEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    assert main(["deploy", str(PARAMETERS), "--target", "sfn"]) == 0
    capsys.readouterr()
    code = main(["trigger", "ParametersFlow", "--target", "sfn", "--count", "not-a-number", "--wait"])
    captured = capsys.readouterr()
    assert code == 1
    assert "status FAILED" in captured.out
    assert "flowc.RunFailed: States.TaskFailed" in captured.err


@pytest.mark.slow
def test_a_deployed_run_is_in_its_production_namespace_with_its_tags(
    sfn_env: SfnEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """deploy --tag, then trigger --tag: the run carries both, the system tag production:<token>
    and who deployed it; the default namespace does not list it, namespace(None) and the
    production namespace do (as Metaflow's deployed runs)."""
    from flowc.client import Flow, Run, namespace

    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    monkeypatch.setenv("FLOWC_USER", "alice")
    assert main(["deploy", str(LINEAR), "--target", "sfn", "--tag", "nightly"]) == 0
    token = capsys.readouterr().out.splitlines()[-1].split()[2].rstrip(":")
    assert token.startswith("linearflow-")
    code = main(["trigger", "LinearFlow", "--target", "sfn", "--name", "tagged", "--tag", "ad hoc", "--wait"])
    assert code == 0, capsys.readouterr()

    run = Run("LinearFlow/sfn-tagged", datastore=datastore, _namespace_check=False)
    assert run.user_tags == {"nightly", "ad hoc"}
    assert {f"production:{token}", "user:step-functions", "runtime:step-functions"} <= run.system_tags
    assert run._record["deployed_by"] == "alice"

    assert [r.id for r in Flow("LinearFlow", datastore=datastore)] == []  # default: user:alice
    namespace(None)
    assert [r.id for r in Flow("LinearFlow", datastore=datastore)] == ["sfn-tagged"]
    namespace(f"production:{token}")
    assert [r.id for r in Flow("LinearFlow", datastore=datastore)] == ["sfn-tagged"]


NAMESPACE_FLOW = """
from flowc import FlowSpec, current, get_namespace, step


class NamespaceFlow(FlowSpec):
    @step
    def start(self):
        self.client_namespace = get_namespace()
        self.current_namespace = current.namespace
        self.next(self.end)

    @step
    def end(self):
        pass
"""


@pytest.mark.slow
def test_inside_a_deployed_task_the_namespace_is_the_production_one(
    sfn_env: SfnEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Inside a task of a deployed run, the client's default namespace and ``current.namespace``
    are the deployment's ``production:<token>`` (as in Metaflow), not ``user:<engine user>``: a
    step reading its sibling runs with the client sees the deployment's runs."""
    from flowc.client import Run

    flow = tmp_path / "namespace_flow.py"
    flow.write_text(NAMESPACE_FLOW)
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    monkeypatch.setenv("FLOWC_USER", "alice")
    assert main(["deploy", str(flow), "--target", "sfn"]) == 0
    token = capsys.readouterr().out.splitlines()[-1].split()[2].rstrip(":")
    code = main(["trigger", "NamespaceFlow", "--target", "sfn", "--name", "ns", "--wait"])
    assert code == 0, capsys.readouterr()

    data = Run("NamespaceFlow/sfn-ns", datastore=datastore, _namespace_check=False)["start"].task.data
    assert data.client_namespace == f"production:{token}"
    assert data.current_namespace == f"production:{token}"
