"""One step's Task state: an AWS Batch job (``batch:submitJob.sync``) running the task runner.

The container overrides hold only a short argv, a few environment variables and the resources, so
they stay far under Batch's 8,192-character limit whatever the flow's width or parameter sizes
(https://docs.aws.amazon.com/batch/latest/APIReference/API_ContainerOverrides.html). Secrets are
not allowed in overrides: they live in the step's job definition, which ``deploy`` registers.
https://docs.aws.amazon.com/step-functions/latest/dg/connect-batch.html
"""

from __future__ import annotations

from typing import Any

from flowc.attempts import (
    TIMEOUT_BACKSTOP_SECONDS,
    engine_retries,
    step_retry_delay_seconds,
    timeout_backstop_seconds,
)
from flowc.backends.sfn.context import Lowering
from flowc.backends.sfn.intrinsics import quote
from flowc.backends.sfn.naming import job_name
from flowc.environments.spec import step_variables
from flowc.ir import Step
from flowc.metadata import TaskAddress
from flowc.task_runner.spec import (
    RESUME_ENVIRONMENT,
    FinishSpec,
    Placeholder,
    TaskSpec,
    format_argv,
    format_finish_argv,
)

__all__ = [
    "BATCH_MIN_TIMEOUT",
    "QUEUE_ALLOWANCE",
    "RUN_ID",
    "batch_api_retry",
    "batch_timeout",
    "finish_state",
    "task_state",
]

#: Every task's run id: the run context's (flowc.backends.sfn.context).
RUN_ID = Placeholder("$.run_id")
#: Batch refuses ``attemptDurationSeconds`` under 60.
BATCH_MIN_TIMEOUT = 60
#: Batch's ``attemptDurationSeconds`` counts from the job's start, but a Task state's
#: ``TimeoutSeconds`` from its submission: the job may first wait in its queue while the compute
#: environment scales up (minutes; longer for GPUs or spot capacity). The state's backstop allows a
#: day of that, so a slow queue never fails a step that would have run in time.
#: https://docs.aws.amazon.com/batch/latest/APIReference/API_JobTimeout.html
QUEUE_ALLOWANCE = 24 * 3600


def states_array(command: list[str]) -> str:
    """``States.Array(...)`` of a command: literal words quoted, :class:`Placeholder` paths as they are."""
    parts = [word if isinstance(word, Placeholder) else quote(word) for word in command]
    return f"States.Array({', '.join(parts)})"


def command_expression(step: Step, lowering: Lowering) -> str:
    """``States.Array(...)``: the task runner's argv with the run id, index path and iteration."""
    task = TaskAddress(
        flow=lowering.flow,
        run_id=RUN_ID,
        step=step.name,
        index_path=Placeholder("$.index") if step.foreach_stack else (),
        iteration=Placeholder("$.iteration"),
    )
    spec = TaskSpec(
        address=task,
        source=lowering.source,
        package=lowering.package,
        ir=lowering.ir_digest,
        datastore=lowering.datastore,
    )
    return states_array([*lowering.launch.command(), *format_argv(spec)])


def batch_timeout(step: Step) -> int | None:
    """Batch's ``attemptDurationSeconds`` for a step with ``@timeout`` (above the runner's own)."""
    if step.timeout is None:
        return None
    return max(BATCH_MIN_TIMEOUT, timeout_backstop_seconds(step.timeout))


def _resource_requirements(step: Step) -> list[dict[str, str]]:
    resources = step.resources
    requirements = []
    if resources.cpu is not None:
        requirements.append({"Type": "VCPU", "Value": f"{resources.cpu:g}"})
    if resources.memory_mb is not None:
        requirements.append({"Type": "MEMORY", "Value": str(int(resources.memory_mb))})
    if resources.gpu:
        requirements.append({"Type": "GPU", "Value": str(int(resources.gpu))})
    return requirements


#: Batch API errors, not job failures: SubmitJob is throttled at 50 calls a second per account
#: and Region (https://docs.aws.amazon.com/batch/latest/userguide/service_limits.html), which a
#: wide foreach passes at once, and Step Functions reports a throttled or failed call as
#: ``Batch.<exception>``. The job never ran, so it is retried whatever the step's @retry, with
#: jitter so the iterations of a Map do not retry in step. This retrier comes first:
#: ``States.TaskFailed`` matches these errors too
#: (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
def batch_api_retry() -> dict[str, Any]:
    """The retrier of Batch API errors every Batch task state begins its ``Retry`` with."""
    return {
        "ErrorEquals": ["Batch.AWSBatchException", "Batch.TooManyRequestsException", "Batch.ServerException"],
        "IntervalSeconds": 2,
        "MaxAttempts": 8,
        "BackoffRate": 2.0,
        "MaxDelaySeconds": 60,
        "JitterStrategy": "FULL",
    }


def _retry(step: Step) -> list[dict[str, Any]]:
    retriers = [batch_api_retry()]
    if engine_retries(step) <= 0:
        return retriers
    # Metaflow's @retry waits the same time before every retry (flowc.attempts): BackoffRate 1.
    # Step Functions waits at least a second (IntervalSeconds is a positive integer).
    # https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-retrying-after-an-error
    return [
        *retriers,
        {
            "ErrorEquals": ["States.TaskFailed"],
            "MaxAttempts": engine_retries(step),
            "IntervalSeconds": max(1, step_retry_delay_seconds(step)),
            "BackoffRate": 1.0,
        },
    ]


def task_state(step: Step, lowering: Lowering, is_start: bool) -> dict[str, Any]:
    """The Task state of ``step`` (without ``Next``/``End``)."""
    variables = {**dict(step.environment), **step_variables(step)}  # @pypi: the bootstrap installs it
    environment: list[dict[str, str]] = [{"Name": k, "Value": v} for k, v in sorted(variables.items())]
    if is_start:
        # Large values were put in the datastore by the trigger ({"$object": sha}), so this stays small.
        environment.append({"Name": "FLOWC_PARAMETERS", "Value.$": "$.params"})
        # The run this one resumes in place ("" for none): the task runner clones what succeeded there.
        environment.append({"Name": RESUME_ENVIRONMENT, "Value.$": "$.resume"})
    overrides: dict[str, Any] = {"Command.$": command_expression(step, lowering)}
    if environment:
        overrides["Environment"] = environment
    requirements = _resource_requirements(step)
    if requirements:
        overrides["ResourceRequirements"] = requirements
    parameters: dict[str, Any] = {
        "JobName": job_name(lowering.job_name_prefix, step.name),
        "JobQueue": step.container.queue or lowering.job_queue,
        "JobDefinition": lowering.job_definition_of(step.name),
        "ContainerOverrides": overrides,
    }
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": "arn:aws:states:::batch:submitJob.sync",
        "Parameters": parameters,
        # The job description is not needed: what the next states need is in the datastore.
        "ResultPath": None,
    }
    seconds = batch_timeout(step)
    if seconds is not None:
        parameters["Timeout"] = {"AttemptDurationSeconds": seconds}
        # Each outer limit leaves the inner one the same margin (flowc.attempts): the runner kills
        # the step at @timeout, Batch the container if the runner could not, then Step Functions.
        state["TimeoutSeconds"] = seconds + TIMEOUT_BACKSTOP_SECONDS + QUEUE_ALLOWANCE
    state["Retry"] = _retry(step)
    return state


def finish_state(lowering: Lowering, error_path: str | None, *, with_code: bool = False) -> dict[str, Any]:
    """A Task state recording a run's end (``status.json``) from the datastore.

    A Batch job on the end step's job definition runs ``python -m flowc.task_runner.finish``, which
    names the failed task of a failed run; the error Step Functions caught (``error_path``, None on
    the success path) becomes the reason's suffix. It reads the datastore, and the flow's code for
    the bootstrap to find flowc in and, ``with_code``, for what runs after the end (exit hooks).
    No parameters, no resources.
    """
    spec = FinishSpec(
        flow=lowering.flow,
        run_id=RUN_ID,
        package=lowering.package,
        source=lowering.source if with_code else None,
        datastore=lowering.datastore,
        reason=None if error_path is None else Placeholder(f"{error_path}.Error"),
        notify=lowering.notify,
    )
    command = [*lowering.launch.command("flowc.task_runner.finish"), *format_finish_argv(spec)]
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::batch:submitJob.sync",
        "Parameters": {
            "JobName": job_name(lowering.job_name_prefix, "finish"),
            "JobQueue": lowering.job_queue,
            # The end step's job definition: its image, environment and secrets, as on Argo and Airflow.
            "JobDefinition": lowering.job_definition_of("end"),
            "ContainerOverrides": {"Command.$": states_array(command)},
        },
        "ResultPath": None,
        "Retry": [batch_api_retry()],
    }
