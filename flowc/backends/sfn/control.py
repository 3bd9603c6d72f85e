"""Reading a task's control record back into the state machine: an S3 GetObject of its ``task.json``.

Why this way: the state machine must learn a foreach's width and a switch's chosen case, and a
Batch job cannot return data (its description carries the exit code and Batch's own fields only).
Step Functions' AWS SDK integration ``arn:aws:states:::aws-sdk:s3:getObject`` returns the object's
body as text (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html),
and ``States.StringToJson`` parses it
(https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-json-manipulate).
So no DynamoDB table and no Lambda function are needed: the record the task runner writes anyway
(docs/architecture.md, "Control record") is the only channel. moto's Step Functions interpreter runs
the same integration against its S3 (with the response normalisation that tests/sfn/harness.py restores).

A Pass state then keeps only the fields the next states read, so ``task.json``'s artifact list does
not travel on through the execution.
"""

from __future__ import annotations

from typing import Any

from flowc.backends.sfn.context import Lowering
from flowc.control import Field

__all__ = ["picked", "read_states", "recorded"]


def recorded(field: Field) -> str:
    """The JSONPath of a field of the control record just read (``task.json``'s ``control``)."""
    return f"$.control.record.control.{field}"


def picked(field: Field) -> str:
    """The JSONPath of a field the Pass state kept (under ``$.control``)."""
    return f"$.control.{field}"


def read_states(
    step: str, lowering: Lowering, read_name: str, pick_name: str, picks: dict[str, str], next_name: str
) -> dict[str, dict[str, Any]]:
    """Two states: ``read_name`` fetches ``step``'s ``task.json``; ``pick_name`` keeps ``picks``.

    Args:
        step: the step whose task wrote the record (same index path and iteration as the context).
        lowering: the flow's lowering settings (bucket, prefix).
        read_name: name of the GetObject Task state.
        pick_name: name of the Pass state that keeps the chosen fields under ``$.control``.
        picks: output field -> Pass ``Parameters`` value expression over ``$.record.control``.
        next_name: the state after the Pass.
    """
    key = f"States.Format('{lowering.task_key_format(step)}', $.run_id, $.base, $.suffix)"
    return {
        read_name: {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
            "Parameters": {"Bucket": lowering.bucket, "Key.$": key},
            "ResultSelector": {"record.$": "States.StringToJson($.Body)"},
            "ResultPath": "$.control",
            # S3 is read right after the task's own write of task.json; a short retry covers a
            # transient error without hiding a missing record for long.
            "Retry": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "MaxAttempts": 3,
                    "IntervalSeconds": 1,
                    "BackoffRate": 2.0,
                }
            ],
            "Next": pick_name,
        },
        pick_name: {
            "Type": "Pass",
            "Parameters": picks,
            "ResultPath": "$.control",
            "Next": next_name,
        },
    }
