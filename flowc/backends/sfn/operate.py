"""``flowc runs --target sfn`` and ``flowc terminate`` of a Step Functions run.

A run ``sfn-<name>`` is the execution ``<name>`` of one of the flow's state machines: the one named
after the flow, or ``<project>-<branch>-<Flow>`` under @project
(:func:`flowc.backends.sfn.naming.deployment_name`). Terminating is ``StopExecution``
(https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html): the
execution ends ``ABORTED`` and no Catch runs; Step Functions also asks Batch to terminate the
job of a ``.sync`` task that was running.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flowc.backends.base import EngineRun, OperateError
from flowc.backends.options import EngineOptions
from flowc.config import Settings

__all__ = ["RUN_ID_PREFIX", "engine_runs", "terminate"]

RUN_ID_PREFIX = "sfn-"


def _state_machines(client: Any, flow_name: str) -> Iterator[str]:
    """ARNs of the flow's state machines (every @project branch's)."""
    for page in client.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == flow_name or machine["name"].endswith(f"-{flow_name}"):
                yield machine["stateMachineArn"]


def _aws(call: Any) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except (BotoCoreError, ClientError) as exc:
        raise OperateError(str(exc)) from None


def engine_runs(flow_name: str, settings: Settings, options: EngineOptions) -> list[EngineRun]:
    import boto3

    def listed() -> list[EngineRun]:
        client = boto3.client("stepfunctions")
        runs = []
        for arn in _state_machines(client, flow_name):
            for page in client.get_paginator("list_executions").paginate(stateMachineArn=arn):
                for execution in page["executions"]:
                    runs.append(
                        EngineRun(
                            RUN_ID_PREFIX + execution["name"],
                            execution["status"],
                            execution["startDate"].isoformat(),
                            execution["status"] != "RUNNING",
                        )
                    )
        return runs

    return _aws(listed)


def terminate(flow_name: str, run_id: str, settings: Settings, options: EngineOptions) -> str:
    import boto3

    name = run_id[len(RUN_ID_PREFIX) :]
    client = boto3.client("stepfunctions")

    def find() -> dict[str, Any] | None:
        for machine in _state_machines(client, flow_name):
            # An execution's ARN is its state machine's with ``execution`` and its name.
            arn = machine.replace(":stateMachine:", ":execution:", 1) + f":{name}"
            try:
                return client.describe_execution(executionArn=arn)
            except client.exceptions.ExecutionDoesNotExist:
                continue
        return None

    execution = _aws(find)
    if execution is None:
        raise OperateError(f"no execution {name!r} of a state machine of {flow_name}")
    if execution["status"] != "RUNNING":
        raise OperateError(f"execution {name} has already ended ({execution['status']})")
    from flowc.metadata import current_user

    arn = execution["executionArn"]
    _aws(
        lambda: client.stop_execution(
            executionArn=arn,
            error="flowc.Terminated",
            cause=f"terminated by {current_user()} (flowc terminate)",
        )
    )
    return f"execution {arn}: stopped"
