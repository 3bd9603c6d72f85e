"""The whole state machine: an init Pass that builds the run context, then the top-level scope.

``compile`` is a pure function of (IR, settings, options): no AWS call, sorted keys, no timestamps.
https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from flowc.backends.base import refusals
from flowc.backends.generated import check_document
from flowc.backends.launch import task_launch
from flowc.backends.options import CompileOptions
from flowc.backends.sfn.capabilities import CAPABILITIES
from flowc.backends.sfn.checks import sfn_refusals
from flowc.backends.sfn.context import Lowering
from flowc.backends.sfn.events import finished_run_entry
from flowc.backends.sfn.graph import lower_scope
from flowc.backends.sfn.intrinsics import escape
from flowc.backends.sfn.naming import deployment_name, job_definition_name
from flowc.backends.sfn.task import finish_state
from flowc.backends.sfn.validate import definition_problems
from flowc.config import Settings
from flowc.diagnostics import CompileError, refuse_step
from flowc.ir import FlowIR
from flowc.secret_sources import batch_references, with_default_provider

__all__ = [
    "ANNOUNCE_END_STATE",
    "FAILED_ERROR",
    "FAILED_STATE",
    "INIT_STATE",
    "READ_STATUS_STATE",
    "RECORD_END_STATE",
    "RECORD_FAILURE_STATE",
    "RESUMES_STATE",
    "RESUME_INIT_STATE",
    "SUCCEEDED_STATE",
    "UNRECORDED_STATE",
    "build_definition",
    "definition_text",
    "lowering_for",
    "runs_after_end",
    "steps_with_own_job_definition",
]

#: Computes the run context from the execution's name and input (a run that resumes none).
INIT_STATE = "flowc.init"
#: The Choice that starts every execution: does its input name a run to resume in place?
RESUMES_STATE = "flowc.resumes"
#: The run context's first state of an execution that resumes a run in place.
RESUME_INIT_STATE = "flowc.init.resume"
#: Where a caught error goes in the state's input, and the states recording a failed run.
ERROR_PATH = "$.flowc_error"
RECORD_FAILURE_STATE = "flowc.record-failure"
#: Records a successful run's end (and runs its exit hooks), when the flow has something to run then.
RECORD_END_STATE = "flowc.record-end"
#: Puts a successful run's finish event on EventBridge, for @trigger_on_finish flows.
ANNOUNCE_END_STATE = "flowc.announce-end"
SUCCEEDED_STATE = "flowc.succeeded"
#: Reads the run's status.json back, for its reason; where it goes in the state's input.
READ_STATUS_STATE = "flowc.read-status"
STATUS_PATH = "$.flowc_status"
FAILED_STATE = "flowc.failed"
#: The failure when even the record could not be written or read.
UNRECORDED_STATE = "flowc.failed-unrecorded"
#: The error of a failed execution (the caught one begins its cause).
FAILED_ERROR = "flowc.RunFailed"
#: The job queue used when ``batch.job_queue`` is not configured.
DEFAULT_JOB_QUEUE = "flowc"


def steps_with_own_job_definition(ir: FlowIR) -> tuple[str, ...]:
    """Steps whose settings cannot be container overrides: secrets, image, IAM role, shared memory."""
    return tuple(
        step.name
        for step in ir.steps
        if batch_references(step.secrets)
        or step.container.image
        or step.container.iam_role
        or step.container.shared_memory_mb
    )


def lowering_for(ir: FlowIR, settings: Settings, options: CompileOptions) -> Lowering:
    """The lowering settings of ``ir``; CompileError if the datastore is not on S3."""
    datastore = str(settings.get("datastore", ""))
    if not datastore.startswith("s3://"):
        raise CompileError(
            [
                refuse_step(
                    ir,
                    None,
                    "sfn-needs-s3-datastore",
                    f"Step Functions tasks run on AWS Batch and need an S3 datastore, not {datastore!r}",
                    "give --datastore s3://bucket/prefix or set FLOWC_DATASTORE",
                )
            ]
        )
    from flowc.datastore.s3 import parse_s3_url

    bucket, prefix = parse_s3_url(datastore)
    package = options.package_sha
    return Lowering(
        flow=ir.name,
        bucket=bucket,
        prefix=f"{prefix}/" if prefix else "",
        datastore=datastore,
        source=None if package else os.path.basename(ir.source_file),
        package=str(package) if package else None,
        ir_digest=ir.digest,
        launch=task_launch(settings, from_package=bool(package)),
        job_queue=str(settings.get("batch.job_queue") or DEFAULT_JOB_QUEUE),
        job_definition=job_definition_name(ir, settings),
        step_job_definitions=tuple(
            (step, job_definition_name(ir, settings, step)) for step in steps_with_own_job_definition(ir)
        ),
        job_name_prefix=deployment_name(ir, settings),
        distributed_threshold=int(settings.get("sfn.distributed_map_threshold", 1000)),
        max_concurrency=options.max_workers,
        notify=options.notify,
        event_bus=str(settings["sfn.event_bus"]),
    )


def build_definition(ir: FlowIR, settings: Settings, options: CompileOptions) -> dict[str, Any]:
    """The state machine definition of ``ir`` as a JSON-compatible dict."""
    ir = with_default_provider(ir, settings.get("secrets.default_provider"))
    problems = list(refusals(ir, CAPABILITIES))
    if problems:
        raise CompileError(problems)
    lowering = lowering_for(ir, settings, options)
    problems = list(sfn_refusals(ir, lowering))
    if problems:
        raise CompileError(problems)
    top = lower_scope(ir, "start", None, lowering, in_map=False)
    context = {
        "run_id.$": "States.Format('sfn-{}', $$.Execution.Name)",
        "params.$": "States.JsonToString($.parameters)",
        "iteration": "0",
        "suffix": "",
        "index": "",
        "base": "",
    }
    # The execution input's optional "resume" (``flowc resume --target sfn``) reaches the start task
    # as FLOWC_RESUME. A path to a missing field fails the execution, so a Choice tests it first:
    # an input with only "parameters" (a schedule, an event, the console) still starts a plain run.
    # https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
    resumes = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.resume", "IsPresent": True, "Next": RESUME_INIT_STATE}],
        "Default": INIT_STATE,
    }
    init = {"Type": "Pass", "Parameters": {**context, "resume": ""}, "Next": top["StartAt"]}
    resume_init = {"Type": "Pass", "Parameters": {**context, "resume.$": "$.resume"}, "Next": top["StartAt"]}
    hooks = ir.exit_hooks is not None
    states = _recording_failures(top["States"], lowering, with_code=hooks)
    states = _ending_successfully(states, lowering, record_end=runs_after_end(ir, options), with_code=hooks)
    definition = {
        "Comment": f"flowc: {ir.name} from {os.path.basename(ir.source_file)}",
        "StartAt": RESUMES_STATE,
        "States": {RESUMES_STATE: resumes, INIT_STATE: init, RESUME_INIT_STATE: resume_init, **states},
    }
    if options.workflow_timeout:
        # The whole execution's limit: it ends TIMED_OUT and its running Batch jobs are stopped.
        # https://docs.aws.amazon.com/step-functions/latest/dg/statemachine-structure.html
        definition["TimeoutSeconds"] = options.workflow_timeout
    check_document(f"{ir.name}.asl.json", definition_problems(definition))
    return definition


def runs_after_end(ir: FlowIR, options: CompileOptions) -> bool:
    """Whether something runs after a successful run's end (``@exit_hook``, ``--notify-on-success``):
    then the end-of-run job runs on success too."""
    return ir.exit_hooks is not None or "success" in options.notify


def _ending_successfully(
    states: Mapping[str, Any], lowering: Lowering, *, record_end: bool, with_code: bool
) -> dict[str, Any]:
    """The top-level states, a successful run announcing its end, then running the end-of-run job
    when something runs after the end (exit hooks, notifications), then succeeding.

    The states that ended the execution go to the announcement instead: an ``events:putEvents``
    Task (no Batch job) putting ``metaflow.<Flow>.end`` on ``sfn.event_bus``, which the
    EventBridge rules of ``@trigger_on_finish`` flows start them on, as Metaflow's end step
    publishes it on Argo before the exit hooks. The state machine's role needs
    ``events:PutEvents`` on that bus.
    https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html
    If the announcement or the end-of-run job fails, the run's tasks all succeeded: the execution
    still succeeds (the job's own log says what went wrong with it).
    """
    after_announce = RECORD_END_STATE if record_end else SUCCEEDED_STATE
    ended = {
        name: {**{k: v for k, v in state.items() if k != "End"}, "Next": ANNOUNCE_END_STATE}
        if state.get("End") and state["Type"] not in ("Succeed", "Fail")
        else state
        for name, state in states.items()
    }
    ended[ANNOUNCE_END_STATE] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::events:putEvents",
        # The run id is the context's (every top-level state keeps its input: ResultPath null).
        "Parameters": {"Entries": [finished_run_entry(lowering.flow, lowering.event_bus, "$.run_id")]},
        "ResultPath": None,
        # A failed put never fails a successful run. It cannot be logged: a state machine has no
        # log of its own, so the execution's history (this state's TaskFailed event) says why.
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": after_announce}],
        "Next": after_announce,
    }
    if record_end:
        record = finish_state(lowering, None, with_code=with_code)
        record["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": SUCCEEDED_STATE}]
        record["Next"] = SUCCEEDED_STATE
        ended[RECORD_END_STATE] = record
    ended[SUCCEEDED_STATE] = {"Type": "Succeed"}
    return ended


def _recording_failures(states: Mapping[str, Any], lowering: Lowering, *, with_code: bool) -> dict[str, Any]:
    """The top-level states, each failure caught, recorded in the datastore, then failed again.

    An error inside a Map or Parallel fails that state, so catching at the top level sees every
    failure (after a state's own Retry is spent). Step Functions has no exit hook; this is one:
    the run's ``status.json`` names the failed task and why it failed, and the execution still
    fails, its cause the caught error followed by that reason (read back from ``status.json``), so
    the console and ``trigger --wait`` say first what went wrong, then the caught error's own
    cause (a Batch job description, or the API's refusal of a request). If the record cannot be
    written or read, the cause is the caught error's own.
    https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
    """
    catch = [{"ErrorEquals": ["States.ALL"], "ResultPath": ERROR_PATH, "Next": RECORD_FAILURE_STATE}]
    caught = {
        name: {**state, "Catch": catch} if state["Type"] in ("Task", "Map", "Parallel") else state
        for name, state in states.items()
    }
    unrecorded = [{"ErrorEquals": ["States.ALL"], "ResultPath": None, "Next": UNRECORDED_STATE}]
    record = finish_state(lowering, ERROR_PATH, with_code=with_code)
    record["Catch"] = unrecorded
    record["Next"] = READ_STATUS_STATE
    caught[RECORD_FAILURE_STATE] = record
    run_folder = escape(f"{lowering.prefix}runs/{lowering.flow}/")
    status_key = f"States.Format('{run_folder}{{}}/status.json', $.run_id)"
    caught[READ_STATUS_STATE] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
        "Parameters": {"Bucket": lowering.bucket, "Key.$": status_key},
        "ResultSelector": {"record.$": "States.StringToJson($.Body)"},
        "ResultPath": STATUS_PATH,
        "Catch": unrecorded,
        "Next": FAILED_STATE,
    }
    # A Fail state may not raise a "States.*" error again: the run fails with flowc's own error
    # name, and the cause starts with the caught error's.
    caught[FAILED_STATE] = {
        "Type": "Fail",
        "Error": FAILED_ERROR,
        "CausePath": (
            f"States.Format('{{}}: {{}}. Caught: {{}}', {ERROR_PATH}.Error, "
            f"{STATUS_PATH}.record.reason, {ERROR_PATH}.Cause)"
        ),
    }
    caught[UNRECORDED_STATE] = {
        "Type": "Fail",
        "Error": FAILED_ERROR,
        "CausePath": f"States.Format('{{}}: {{}}', {ERROR_PATH}.Error, {ERROR_PATH}.Cause)",
    }
    return caught


def definition_text(definition: Mapping[str, Any], compact: bool = False) -> str:
    """Canonical JSON text: sorted keys; indented with a trailing newline, or ``compact``.

    ``compile`` writes the indented form (readable, diffable); ``deploy`` sends the compact one, which
    is what counts against Step Functions' 1 MB definition quota.
    """
    if compact:
        return json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(definition, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
