"""``flowc trigger FLOW --target sfn``: start an execution of a deployed state machine.

The execution input is ``{"parameters": {name: value}}``, with ``"resume": "ORIGIN_RUN_ID[/STEP]"``
when the run resumes another in place (``flowc resume --target sfn``). Step Functions caps an
execution's input at 256 KB and the start task receives the parameters in an environment variable (container
overrides stay small), so any value that would make the parameters' JSON longer than
:data:`INLINE_PARAMETERS_BYTES` is stored in the datastore and passed as ``{"$object": sha}``, which
the task runner reads back (docs/architecture.md, "Task runner command line").
https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from flowc.backends.large_parameters import store_large_values, store_run_tags
from flowc.backends.options import TriggerOptions
from flowc.config import Settings

__all__ = ["INLINE_PARAMETERS_BYTES", "execution_input", "find_state_machine", "trigger"]

#: The parameters' JSON stays this short in the execution input (and the start task's environment).
INLINE_PARAMETERS_BYTES = 256


def execution_input(
    parameters: Mapping[str, Any], datastore: str | None, tags: Sequence[str] = (), resume: str | None = None
) -> dict[str, Any]:
    """The execution input for ``parameters``; large values (and the run's ``tags``) go to the
    datastore as objects.

    Args:
        parameters: name -> value (text as typed on the command line, or JSON values).
        datastore: the datastore URL the tasks use (needed only when a value is large, or tags).
        tags: the run's tags (``flowc trigger --tag``).
        resume: ``ORIGIN_RUN_ID[/STEP]`` of a run this one resumes in place (``flowc resume``).
    """
    inline, stored = store_large_values(parameters, datastore, INLINE_PARAMETERS_BYTES)
    stored |= store_run_tags(tags, datastore)
    payload: dict[str, Any] = {"parameters": {**inline, **{n: {"$object": sha} for n, sha in stored.items()}}}
    if resume:
        payload["resume"] = resume  # the start task's FLOWC_RESUME (flowc.backends.sfn.definition)
    return payload


def find_state_machine(client: Any, name: str) -> str | None:
    """The ARN of the state machine called ``name`` (None if there is none)."""
    for page in client.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == name:
                return machine["stateMachineArn"]
    return None


def _deployment_of(flow: str, settings: Settings) -> tuple[str, str]:
    """(the state machine's name, the flow's name) of FLOW, a flow file or a deployed name."""
    if flow.endswith(".py") and Path(flow).is_file():
        from flowc.backends.sfn.naming import deployment_name
        from flowc.frontend import build_ir

        ir = build_ir(flow)
        return deployment_name(ir, settings), ir.name
    return flow, flow.rsplit("-", 1)[-1]


def trigger(flow: str, settings: Settings, options: TriggerOptions) -> int:
    """Starts an execution; prints its ARN and run id; with ``wait``, returns 0 only on success.

    AWS errors (no credentials, AccessDenied, a taken execution name) are one line on stderr and
    exit code 1, as in CI nothing reads a traceback.
    """
    try:
        return _trigger(flow, settings, options)
    except Exception as exc:  # botocore errors: report and fail, unattended
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(exc, BotoCoreError | ClientError):
            raise
        print(f"flowc: trigger failed: {exc}", file=sys.stderr)
        return 1


def _trigger(flow: str, settings: Settings, options: TriggerOptions) -> int:
    import boto3

    client = boto3.client("stepfunctions")
    name, flow_name = _deployment_of(flow, settings)
    arn = find_state_machine(client, name)
    if arn is None:
        print(f"flowc: no state machine {name!r}: run `flowc deploy --target sfn` first", file=sys.stderr)
        return 1
    parameters = dict(options.params)
    payload = execution_input(parameters, settings.get("datastore"), options.tags, options.resume)
    execution_name = options.name or uuid.uuid4().hex
    started = client.start_execution(stateMachineArn=arn, name=execution_name, input=json.dumps(payload))
    print(f"execution {started['executionArn']}")
    print(f"run id sfn-{execution_name}")
    if not options.wait:
        return 0
    from flowc.client.follow import RunLogStream

    show_logs = RunLogStream(str(settings.get("datastore")), flow_name, f"sfn-{execution_name}")
    while True:
        described = client.describe_execution(executionArn=started["executionArn"])
        status = described["status"]
        show_logs()
        if status not in ("RUNNING", "PENDING_REDRIVE"):
            print(f"status {status}")
            if status == "SUCCEEDED":
                return 0
            # Why it failed (the top-level catch puts the caught error first in the cause).
            why = ": ".join(filter(None, (described.get("error"), described.get("cause"))))
            ended = f"flowc: execution {execution_name} {status.lower()}"
            print(f"{ended}: {why or 'no cause given'}", file=sys.stderr)
            return 1
        time.sleep(2)
