"""``@trigger_on_finish`` on Step Functions, as a user drives it, on moto: ``flowc deploy`` of the
consumer creates the EventBridge rule on ``metaflow.LinearFlow.end`` (noting that LinearFlow is not
deployed yet); LinearFlow, deployed with no setting, puts that event on the bus from its state
machine (an ``events:putEvents`` state, executed by moto's interpreter) after its successful run
(``flowc trigger --wait``); the rule's input transformer gives the consumer's execution input, and
its run's ``current.trigger.run`` and ``Run.trigger.run`` are LinearFlow's run.

moto cannot deliver an event to a Step Functions target (see tests/sfn/test_events.py), so the test
points the rule at an SQS queue with the *same* input transformer, then starts the execution with
the input moto delivered, as EventBridge would start it.
"""

from __future__ import annotations

import json

import boto3
import pytest

from flowc.backends.options import CompileOptions
from flowc.backends.sfn import BACKEND
from flowc.backends.sfn.definition import ANNOUNCE_END_STATE, RECORD_END_STATE, SUCCEEDED_STATE
from flowc.cli import main
from flowc.client import Run
from flowc.frontend import build_ir
from tests.conformance.artifacts import collect_artifacts
from tests.sfn.compiling import CONFORMANCE_FLOWS, SFN_FLOWS, golden_settings
from tests.sfn.engine import ROLE_ARN, SfnEngine

CONSUMER = SFN_FLOWS / "sfn_finish_trigger_flow.py"
PRODUCER = CONFORMANCE_FLOWS / "linear_flow.py"
CONSUMER_NAME = "SfnFinishTriggerFlow"
RULE = f"{CONSUMER_NAME}-trigger"


def _capture(events, sqs) -> str:
    """Points the consumer's rule at a new SQS queue, with the deployed target's input transformer."""
    (target,) = events.list_targets_by_rule(Rule=RULE)["Targets"]
    queue = sqs.create_queue(QueueName="captured-finish-starts")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.remove_targets(Rule=RULE, Ids=[target["Id"]])
    transformer = target["InputTransformer"]
    events.put_targets(Rule=RULE, Targets=[{"Id": "capture", "Arn": arn, "InputTransformer": transformer}])
    return queue


@pytest.mark.slow
def test_a_finished_run_starts_the_flow_that_triggers_on_its_finish(
    sfn_env: SfnEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    # The moto server lives for the session: another test may have left LinearFlow deployed.
    main(["undeploy", str(PRODUCER), "--target", "sfn"])
    capsys.readouterr()
    assert main(["deploy", str(CONSUMER), "--target", "sfn"]) == 0
    out = capsys.readouterr().out
    assert f"created event rule {RULE} (metaflow.LinearFlow.end): no state machine of LinearFlow here" in out

    events, sfn, sqs = boto3.client("events"), boto3.client("stepfunctions"), boto3.client("sqs")
    rule = events.describe_rule(Name=RULE)
    pattern = {"source": ["flowc"], "detail-type": ["metaflow.LinearFlow.end"]}
    assert json.loads(rule["EventPattern"]) == pattern
    queue = _capture(events, sqs)

    # The producer, deployed as any flow is: every successful run announces its end.
    assert main(["deploy", str(PRODUCER), "--target", "sfn"]) == 0
    assert main(["deploy", str(CONSUMER), "--target", "sfn", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    (line,) = [line for line in out if line.startswith("would ") and f"event rule {RULE}" in line]
    assert line.endswith(f"event rule {RULE} (metaflow.LinearFlow.end)")  # no note: LinearFlow is deployed

    assert main(["trigger", str(PRODUCER), "--target", "sfn", "--name", "producer-run", "--wait"]) == 0
    assert "announced event" not in _batch_logs(sfn_env)  # no Batch job announces: the state machine does
    (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    execution_input = json.loads(message["Body"])
    ((event,),) = [execution_input["parameters"].pop("$events")]
    assert execution_input == {"parameters": {}}
    assert event["name"] == "metaflow.LinearFlow.end"
    assert event["payload"] == {"run": "LinearFlow/sfn-producer-run"}
    assert set(event) == {"name", "payload", "timestamp", "id"}  # flowc.events.event_body's keys

    (machine,) = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == CONSUMER_NAME]
    started = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"],
        name="consumer-run",
        input=json.dumps({"parameters": {"$events": [event]}}),
    )
    described = sfn_env.wait(started["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    artifacts = collect_artifacts(datastore, "SfnFinishTriggerFlow", "sfn-consumer-run")
    assert artifacts[("start", "start")]["upstream"] == "LinearFlow/sfn-producer-run"
    assert artifacts[("start", "start")]["upstream_message"] == "hello 6"
    run = Run("SfnFinishTriggerFlow/sfn-consumer-run", _namespace_check=False)
    assert run.trigger.run.pathspec == "LinearFlow/sfn-producer-run"
    assert run.trigger["LinearFlow"].data.message == "hello 6"
    assert run.trigger.event.timestamp is not None  # the ISO time the announcing state was entered
    # The consumer announces its own end (metaflow.SfnFinishTriggerFlow.end), which the rule ignores.
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)

    events.remove_targets(Rule=RULE, Ids=["capture"])
    assert main(["undeploy", str(CONSUMER), "--target", "sfn"]) == 0
    assert f"deleted event rule {RULE}" in capsys.readouterr().out
    assert RULE not in [r["Name"] for r in events.list_rules()["Rules"]]
    assert main(["undeploy", str(PRODUCER), "--target", "sfn"]) == 0


@pytest.mark.slow
def test_only_a_successful_run_announces_its_end(sfn_env: SfnEngine) -> None:
    """ExitHookFlow (its end-of-run job also runs hooks), run failing and not: one event, the
    successful run's, with the same body keys as Argo's end-of-run step posts."""
    from flowc.backends.sfn.trigger import execution_input
    from flowc.config import load_settings
    from flowc.events import finished_run_event

    path = CONFORMANCE_FLOWS / "exit_hook_flow.py"
    ir = build_ir(path)
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    settings = load_settings({"datastore": datastore}, environ={})
    events, sqs = sfn_env.client("events"), sfn_env.client("sqs")
    name = finished_run_event(ir.name)
    events.put_rule(Name="exit-hook-finished", EventPattern=json.dumps({"detail-type": [name]}))
    queue = sqs.create_queue(QueueName="exit-hook-finished")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_targets(Rule="exit-hook-finished", Targets=[{"Id": "capture", "Arn": arn}])
    package_sha = sfn_env.deploy_code(ir, settings, path)
    definition = BACKEND.compile(ir, settings, CompileOptions(package_sha=package_sha))[0].text
    failed_run, failed = sfn_env.run(definition, execution_input({"fail": "true"}, datastore))
    run_id, succeeded = sfn_env.run(definition, execution_input({"fail": "false"}, datastore))
    assert (failed["status"], succeeded["status"]) == ("FAILED", "SUCCEEDED")
    # Announced first, then the exit hooks' job, as Metaflow's end step publishes before the hooks.
    entered = sfn_env.states_entered(succeeded["executionArn"])
    assert entered[-3:] == [ANNOUNCE_END_STATE, RECORD_END_STATE, SUCCEEDED_STATE]
    assert ANNOUNCE_END_STATE not in sfn_env.states_entered(failed["executionArn"])

    (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    sent = json.loads(message["Body"])
    body = sent["detail"]
    assert (sent["source"], sent["detail-type"]) == ("flowc", name)
    assert (body["name"], body["payload"]) == (name, {"run": f"ExitHookFlow/{run_id}"})
    assert set(body) == {"name", "payload", "timestamp", "id"}  # flowc.events.event_body's keys, as on Argo
    assert failed_run not in message["Body"]
    events.remove_targets(Rule="exit-hook-finished", Ids=["capture"])
    events.delete_rule(Name="exit-hook-finished")


@pytest.mark.slow
def test_a_failed_announcement_does_not_fail_the_run(sfn_env: SfnEngine) -> None:
    """The bus does not exist (or the role may not put events on it): the run still succeeds, and
    the execution's history says why the announcement failed (nowhere else to log it)."""
    from flowc.backends.sfn.trigger import execution_input
    from flowc.config import load_settings

    ir = build_ir(PRODUCER)
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    settings = load_settings({"datastore": datastore, "sfn.event_bus": "no-such-bus"}, environ={})
    package_sha = sfn_env.deploy_code(ir, settings, PRODUCER)
    definition = BACKEND.compile(ir, settings, CompileOptions(package_sha=package_sha))[0].text
    _, result = sfn_env.run(definition, execution_input({}, datastore))
    assert result["status"] == "SUCCEEDED", result
    history = sfn_env.history(result["executionArn"])
    (failed,) = [e for e in history if e["type"] == "TaskFailed"]
    assert "Event bus no-such-bus does not exist" in failed["taskFailedEventDetails"]["cause"]
    assert sfn_env.states_entered(result["executionArn"])[-2:] == [ANNOUNCE_END_STATE, SUCCEEDED_STATE]


def _batch_logs(engine: SfnEngine) -> str:
    return "".join(log.read_text(encoding="utf-8", errors="replace") for log in engine.log_dir.glob("*.log"))


def test_every_flow_announces_its_end_from_its_state_machine() -> None:
    """No setting and no Batch job: after the last step, one events:putEvents state on
    sfn.event_bus, whose failure goes on to Succeed."""
    ir = build_ir(PRODUCER)
    settings = golden_settings(**{"sfn.event_bus": "pipelines"})
    states = json.loads(BACKEND.compile(ir, settings, CompileOptions())[0].text)["States"]
    assert RECORD_END_STATE not in states
    assert [n for n, s in states.items() if s.get("Next") == ANNOUNCE_END_STATE] == ["end"]
    announce = states[ANNOUNCE_END_STATE]
    assert announce["Resource"] == "arn:aws:states:::events:putEvents"
    assert announce["Next"] == announce["Catch"][0]["Next"] == SUCCEEDED_STATE
    (entry,) = announce["Parameters"]["Entries"]
    assert (entry["EventBusName"], entry["Source"], entry["DetailType"]) == (
        "pipelines",
        "flowc",
        "metaflow.LinearFlow.end",
    )


def test_several_flows_are_refused_naming_the_line(tmp_path, capsys) -> None:
    flow = tmp_path / "two_flows_flow.py"
    flow.write_text(
        "from flowc import FlowSpec, step, trigger_on_finish\n\n\n"
        "@trigger_on_finish(flows=['A', 'B'])\n"
        "class TwoFlowsFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    assert (
        main(["compile", str(flow), "--target", "sfn", "--datastore", "s3://b/p", "-o", str(tmp_path)]) == 1
    )
    err = capsys.readouterr().err
    assert "two_flows_flow.py:4:" in err and "[sfn-several-trigger-events]" in err
    assert "'metaflow.A.end', 'metaflow.B.end'" in err


def test_the_compiled_rule_and_target_are_golden() -> None:
    from tests.helpers.golden import assert_golden
    from tests.sfn.compiling import GOLDEN_DIR

    files = BACKEND.compile(build_ir(CONSUMER), golden_settings(), CompileOptions())
    assert [f.name for f in files] == [f"{CONSUMER_NAME}.asl.json", f"{CONSUMER_NAME}.eventbridge.json"]
    assert_golden(GOLDEN_DIR / "sfn_finish_trigger_flow.eventbridge.json", files[1].text)
