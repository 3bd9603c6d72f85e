"""``@trigger`` on Step Functions, as a user drives it, on moto: ``flowc deploy`` creates the
EventBridge rule and its target (the state machine, with the input transformer), ``flowc event
publish NAME --payload JSON --target sfn`` puts the event on the bus, and the execution starts with
the payload mapped to its parameters and the event in ``current.trigger``; ``flowc undeploy``
removes the rule.

moto's EventBridge matches rules and applies input transformers, but delivers only to log groups,
SQS queues, archives, buses and API destinations (moto/events/models.py ``send_to_targets``: a
Step Functions target raises NotImplementedError). So after checking the deployed target, the test
points the rule at an SQS queue with the *same* input transformer, publishes, and starts the
execution with the input moto delivered, as EventBridge would start it.
"""

from __future__ import annotations

import json

import boto3
import pytest

from flowc.backends.options import CompileOptions
from flowc.cli import main
from tests.conformance.artifacts import collect_artifacts
from tests.sfn.compiling import SFN_FLOWS
from tests.sfn.engine import ROLE_ARN, SfnEngine

FLOW = SFN_FLOWS / "sfn_event_flow.py"
RULE = "SfnEventFlow-trigger"


@pytest.mark.slow
def test_a_published_event_starts_the_state_machine_with_its_payload_mapped(
    sfn_env: SfnEngine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    monkeypatch.setenv("FLOWC_DATASTORE", datastore)
    monkeypatch.setenv("FLOWC_BATCH__JOB_QUEUE", sfn_env.job_queue())
    monkeypatch.setenv("FLOWC_SFN__ROLE", ROLE_ARN)
    assert main(["deploy", str(FLOW), "--target", "sfn"]) == 0
    assert f"created event rule {RULE} (data_ready)" in capsys.readouterr().out

    events, sfn = boto3.client("events"), boto3.client("stepfunctions")
    machine = next(m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == "SfnEventFlow")
    rule = events.describe_rule(Name=RULE)
    assert json.loads(rule["EventPattern"]) == {"source": ["flowc"], "detail-type": ["data_ready"]}
    (target,) = events.list_targets_by_rule(Rule=RULE)["Targets"]
    assert (target["Arn"], target["RoleArn"]) == (machine["stateMachineArn"], ROLE_ARN)
    transformer = target["InputTransformer"]

    # A second deploy changes nothing.
    assert main(["deploy", str(FLOW), "--target", "sfn"]) == 0
    assert f"unchanged event rule {RULE} (data_ready)" in capsys.readouterr().out

    sqs = boto3.client("sqs")
    queue = sqs.create_queue(QueueName="captured-starts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.remove_targets(Rule=RULE, Ids=[target["Id"]])
    events.put_targets(
        Rule=RULE, Targets=[{"Id": "capture", "Arn": queue_arn, "InputTransformer": transformer}]
    )

    payload = '{"date": "2026-12-07", "rows": 42, "ignored": true}'
    assert main(["event", "publish", "other_event", "--target", "sfn"]) == 0  # matches no rule
    assert main(["event", "publish", "data_ready", "--payload", payload, "--target", "sfn"]) == 0
    assert "published event data_ready" in capsys.readouterr().out
    (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    execution_input = json.loads(message["Body"])
    assert {k: v for k, v in execution_input["parameters"].items() if k != "$events"} == {
        "day": "2026-12-07",
        "rows": 42,
    }

    started = sfn.start_execution(
        stateMachineArn=machine["stateMachineArn"], name="by-event", input=json.dumps(execution_input)
    )
    described = sfn_env.wait(started["executionArn"])
    assert described["status"] == "SUCCEEDED", described
    artifacts = collect_artifacts(datastore, "SfnEventFlow", "sfn-by-event")
    assert artifacts[("end", "end")]["summary"] == "2026-12-07 42 10"
    assert artifacts[("start", "start")]["event"] == (
        "data_ready",
        {"date": "2026-12-07", "ignored": True, "rows": 42},
    )

    events.remove_targets(Rule=RULE, Ids=["capture"])
    assert main(["undeploy", str(FLOW), "--target", "sfn"]) == 0
    assert f"deleted event rule {RULE}" in capsys.readouterr().out
    assert RULE not in [r["Name"] for r in events.list_rules()["Rules"]]


def test_several_events_are_refused_naming_the_line(tmp_path, capsys) -> None:
    flow = tmp_path / "two_events_flow.py"
    flow.write_text(
        "from flowc import FlowSpec, step, trigger\n\n\n"
        "@trigger(events=['a', 'b'])\n"
        "class TwoEventsFlow(FlowSpec):\n"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n"
    )
    assert (
        main(["compile", str(flow), "--target", "sfn", "--datastore", "s3://b/p", "-o", str(tmp_path)]) == 1
    )
    err = capsys.readouterr().err
    assert "two_events_flow.py:4:" in err and "[sfn-several-trigger-events]" in err


def test_the_compiled_rule_and_target_are_golden() -> None:
    from flowc.backends.sfn import BACKEND
    from flowc.frontend import build_ir
    from tests.helpers.golden import assert_golden
    from tests.sfn.compiling import GOLDEN_DIR, golden_settings

    files = BACKEND.compile(build_ir(FLOW), golden_settings(), CompileOptions())
    assert [f.name for f in files] == ["SfnEventFlow.asl.json", "SfnEventFlow.eventbridge.json"]
    assert_golden(GOLDEN_DIR / "sfn_event_flow.eventbridge.json", files[1].text)
