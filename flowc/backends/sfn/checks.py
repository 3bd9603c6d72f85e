"""What Step Functions and AWS Batch cannot run, beyond the shared capability table: refused at
compile time with the step, the line and the reason (so a deploy never registers what fails later).

* ``@schedule`` whose cron EventBridge cannot express (both day fields restricted), or a scheduled
  flow with a required parameter (the schedule starts runs with no parameters).
* ``@trigger`` / ``@trigger_on_finish`` on several events or flows (a run once all happened): an
  EventBridge rule starts on one event.
* ``@secrets`` sources that Batch cannot resolve: only Secrets Manager and Parameter Store ARNs,
  each giving a distinct environment variable.
* ``@kubernetes`` pod placement (node selector, tolerations, service account, image pull secrets,
  namespace): a Batch job has no place for it.
* ``@environment`` names Batch reserves (``AWS_BATCH*``), and container overrides that could pass
  Batch's 8,192-character limit (https://docs.aws.amazon.com/batch/latest/APIReference/API_ContainerOverrides.html).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from flowc.backends.sfn.context import Lowering
from flowc.backends.sfn.schedule import aws_cron
from flowc.backends.sfn.secrets import is_secret_reference, secret_variable
from flowc.diagnostics import Diagnostic, refuse_step
from flowc.events import trigger_event
from flowc.ir import FlowIR, Step
from flowc.secret_sources import batch_references, parse_source

__all__ = ["OVERRIDES_LIMIT", "RUNTIME_ALLOWANCE", "sfn_refusals"]

#: Batch's limit on a job's container overrides (characters of their JSON).
OVERRIDES_LIMIT = 8192
#: Filled in at run time: run id (<= 84), index path, iteration and the start task's parameters
#: (which the trigger keeps under 256 bytes).
RUNTIME_ALLOWANCE = 1024
#: Environment variable prefix Batch reserves for its own.
RESERVED_PREFIX = "AWS_BATCH"
_HINT = "see docs/targets.md#sfn"


def sfn_refusals(ir: FlowIR, lowering: Lowering) -> Iterator[Diagnostic]:
    """Diagnostics for what ``ir`` asks of Step Functions and Batch that they cannot do."""

    def refuse(code: str, step: Step | None, message: str, hint: str = _HINT) -> Diagnostic:
        return refuse_step(ir, step, f"sfn-{code}", f"sfn cannot run this: {message}", hint)

    if ir.schedule is not None:
        try:
            aws_cron(ir.schedule.cron)
        except ValueError as exc:
            yield refuse("schedule-cron", None, str(exc))
    if len(ir.triggers) > 1:
        names = ", ".join(repr(trigger_event(t)) for t in ir.triggers)
        yield refuse_step(
            ir,
            None,
            "sfn-several-trigger-events",
            f"sfn cannot run this: @trigger / @trigger_on_finish on {len(ir.triggers)} events ({names}) "
            "waits for all of them; an EventBridge rule starts the state machine on one event and "
            "keeps no state between events",
            "trigger on one event, or the finish of one flow, on this target",
            line=ir.triggers[0].line,
        )
    for step in ir.steps:
        yield from _kubernetes_problems(step, refuse)
        yield from _secret_problems(step, refuse)
        for name, _ in step.environment:
            if name.upper().startswith(RESERVED_PREFIX):
                yield refuse(
                    "reserved-environment",
                    step,
                    f"@environment variable {name!r}: Batch reserves names starting with "
                    f"{RESERVED_PREFIX} and refuses the job",
                    hint="rename the variable",
                )
        yield from _overrides_problems(step, lowering, refuse)


#: ``@kubernetes`` settings that place a pod; an AWS Batch job on EC2 or Fargate has no place for
#: them (its image, memory, shared memory, queue and role come from ``@batch``/``@kubernetes``
#: image and ``@resources``).
_KUBERNETES_ONLY = {
    "node_selector": "node_selector",
    "tolerations": "tolerations",
    "service_account": "service_account",
    "image_pull_secrets": "image_pull_secrets",
    "namespace": "namespace",
}


def _kubernetes_problems(step: Step, refuse) -> Iterator[Diagnostic]:
    given = [name for field, name in _KUBERNETES_ONLY.items() if getattr(step.container, field)]
    if given:
        yield refuse(
            "kubernetes-placement",
            step,
            f"@kubernetes({', '.join(f'{name}=' for name in given)}) places a Kubernetes pod; "
            "a Step Functions task is an AWS Batch job, which has no such settings",
            hint="use @batch(queue=..., iam_role=...) for where and as whom the job runs, or "
            "deploy to argo or airflow --operator kubernetes",
        )


def _secret_problems(step: Step, refuse) -> Iterator[Diagnostic]:
    variables: dict[str, str] = {}
    for text in step.secrets:
        if parse_source(text).provider == "kubernetes":
            yield refuse(
                "secret-source",
                step,
                f"@secrets source {text!r} is a Kubernetes Secret, which only a pod injects",
                hint="keep the secret in AWS Secrets Manager (aws-secrets-manager.<name>) or deploy to argo",
            )
    for source in batch_references(step.secrets):  # the others are read by the task (flowc/secret_sources.py)
        if not is_secret_reference(source):
            yield refuse(
                "secret-source",
                step,
                f"@secrets source {source!r} is not a Secrets Manager secret ARN "
                "(arn:aws:secretsmanager:<region>:<account>:secret:<name>) or a Parameter Store ARN; "
                "Batch resolves only those, and flowc never handles secret values",
                hint="give the secret's full ARN",
            )
            continue
        variable = secret_variable(source)
        if variable in variables:
            yield refuse(
                "secret-variable",
                step,
                f"@secrets sources {variables[variable]!r} and {source!r} would both set {variable}",
                hint="pick one JSON key per variable (arn...:secret:<name>:<json key>::)",
            )
        variables[variable] = source


def _overrides_problems(step: Step, lowering: Lowering, refuse) -> Iterator[Diagnostic]:
    from flowc.backends.sfn.task import task_state

    overrides = task_state(step, lowering, is_start=step.name == "start")["Parameters"]["ContainerOverrides"]
    size = len(json.dumps(overrides, ensure_ascii=False)) + RUNTIME_ALLOWANCE
    if size > OVERRIDES_LIMIT:
        yield refuse(
            "overrides-too-large",
            step,
            f"the Batch job's container overrides would be about {size:,} characters (its "
            f"@environment values are long); Batch refuses more than {OVERRIDES_LIMIT:,}",
            hint="pass long values as parameters or artifacts (they travel through the datastore)",
        )
