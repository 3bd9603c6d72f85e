"""``flowc deploy FLOW.py --target sfn``: code package, job definitions, state machine, schedule.

Unattended and idempotent: the package is content-addressed (uploaded once); a job definition gets
a new revision only when its properties change; the state machine is created or updated in place;
the schedule is created, updated, or deleted when the flow no longer has ``@schedule``. boto3's
standard configuration applies (profile, region, ``AWS_ENDPOINT_URL``). ``--dry-run`` prints the
plan and calls nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowc.backends.launch import task_launch
from flowc.backends.sfn.definition import (
    DEFAULT_JOB_QUEUE,
    build_definition,
    definition_text,
    steps_with_own_job_definition,
)
from flowc.backends.sfn.naming import deployment_name, job_definition_name
from flowc.backends.sfn.schedule import schedule_name, schedule_request
from flowc.backends.sfn.secrets import secret_variable
from flowc.config import Settings
from flowc.ir import FlowIR
from flowc.project_branches import task_environment

__all__ = ["DeployError", "DeployPlan", "deploy", "job_definition_requests", "plan_deployment"]

#: Where deploy's settings come from, for the message when one is missing.
_ROLE_HINT = (
    "set sfn.role (FLOWC_SFN__ROLE, or [tool.flowc] sfn.role in pyproject.toml) to the ARN of the IAM "
    "role the state machine runs as (it needs batch:SubmitJob/DescribeJobs/TerminateJob, "
    "events:PutTargets/PutRule/DescribeRule, s3:GetObject on the datastore and, for wide foreach, "
    "states:StartExecution)"
)


class DeployError(Exception):
    """A deployment that cannot be made as configured (the message says what to set)."""


@dataclass(frozen=True)
class DeployPlan:
    """Everything ``deploy`` will send, computed without calling AWS."""

    name: str
    definition: str
    role_arn: str
    job_definitions: tuple[dict[str, Any], ...]
    schedule: dict[str, Any] | None
    package_sha: str | None
    secrets: tuple[str, ...] = field(default=())
    job_queues: tuple[str, ...] = field(default=())  # every Batch job queue the tasks submit to

    def summary(self) -> dict[str, Any]:
        return {
            "state_machine": self.name,
            "role": self.role_arn,
            "package": self.package_sha,
            "job_definitions": [request["jobDefinitionName"] for request in self.job_definitions],
            "schedule": self.schedule and {k: self.schedule[k] for k in ("Name", "ScheduleExpression")},
            "definition_bytes": len(self.definition.encode("utf-8")),
        }


def job_definition_requests(ir: FlowIR, settings: Settings) -> list[dict[str, Any]]:
    """``RegisterJobDefinition`` arguments: the flow's, then one per step that needs its own."""
    base_properties: dict[str, Any] = {
        "image": str(settings.get("image")),
        "command": ["python", "-m", "flowc.task_runner", "--help"],
        "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "4096"}],
        # What every task's environment holds, set once here rather than in each state's overrides:
        # the datastore, the bootstrap program (flowc.backends.launch) and the @project branch.
        "environment": [
            {"name": name, "value": value}
            for name, value in sorted(
                {
                    "FLOWC_DATASTORE": str(settings.get("datastore")),
                    **task_launch(settings).environment,
                    **task_environment(ir, settings),
                }.items()
            )
        ],
    }
    if settings.get("batch.job_role"):
        base_properties["jobRoleArn"] = settings.get("batch.job_role")
    if settings.get("batch.execution_role"):
        base_properties["executionRoleArn"] = settings.get("batch.execution_role")
    requests = [
        {
            "jobDefinitionName": job_definition_name(ir, settings),
            "type": "container",
            "containerProperties": base_properties,
        }
    ]
    for name in steps_with_own_job_definition(ir):
        step = ir.step(name)
        properties = dict(base_properties)
        if step.container.image:
            properties["image"] = step.container.image
        if step.container.iam_role:
            properties["jobRoleArn"] = step.container.iam_role
        if step.container.shared_memory_mb:
            properties["linuxParameters"] = {"sharedMemorySize": step.container.shared_memory_mb}
        if step.secrets:
            # References only: Batch resolves them when the container starts; values never leave
            # Secrets Manager. https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data-secrets.html
            properties["secrets"] = [
                {"name": secret_variable(source), "valueFrom": source} for source in step.secrets
            ]
        requests.append(
            {
                "jobDefinitionName": job_definition_name(ir, settings, name),
                "type": "container",
                "containerProperties": properties,
            }
        )
    return requests


def plan_deployment(
    ir: FlowIR, settings: Settings, options: Mapping[str, Any], package_sha: str | None
) -> DeployPlan:
    """The deployment of ``ir`` (pure: no AWS call)."""
    name = deployment_name(ir, settings)
    definition = definition_text(
        build_definition(ir, settings, {**options, "package_sha": package_sha}), compact=True
    )
    role = settings.get("sfn.role")
    if not role:
        raise DeployError(f"no IAM role for the state machine: {_ROLE_HINT}")
    role = str(role)
    schedule = None
    if ir.schedule is not None:
        schedule_role = str(settings.get("sfn.schedule_role") or role)
        schedule = schedule_request(name, ir.schedule, f"<arn of {name}>", schedule_role)
    queues = {str(settings.get("batch.job_queue") or DEFAULT_JOB_QUEUE)}
    queues |= {step.container.queue for step in ir.steps if step.container.queue}
    return DeployPlan(
        name,
        definition,
        role,
        tuple(job_definition_requests(ir, settings)),
        schedule,
        package_sha,
        job_queues=tuple(sorted(queues)),
    )


def _package(ir: FlowIR, settings: Settings, flow_path: str | None) -> Any:
    """The code package of the flow file, or None without one.

    Without the flow file (an IR given programmatically), tasks run ``--source``: the image must
    then contain the flow.
    """
    from flowc.package import build_package

    flow_file = Path(flow_path or ir.source_file)
    if not flow_file.is_file():
        return None
    return build_package(flow_file, settings=settings)


#: The container properties deploy sets: a key it no longer sets (secrets removed, a role unset)
#: is a change too, so the comparison covers all of them, not only those of the new request.
_MANAGED_PROPERTIES = (
    "image",
    "command",
    "resourceRequirements",
    "environment",
    "jobRoleArn",
    "executionRoleArn",
    "linuxParameters",
    "secrets",
)


def _same_properties(registered: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    """Whether the registered revision already has every managed property ``request`` asks for.

    Batch answers with defaults (empty lists, ``linuxParameters`` sub-fields) for what was never
    set, so empty values count as absent.
    """
    wanted = request["containerProperties"]

    def value(properties: Mapping[str, Any], key: str) -> Any:
        found = properties.get(key)
        if isinstance(found, Mapping):
            found = {k: v for k, v in found.items() if v not in (None, [], {})}
        return found or None

    return all(value(registered, key) == value(wanted, key) for key in _MANAGED_PROPERTIES)


def _register_job_definition(batch: Any, request: dict[str, Any]) -> str:
    """Registers a new revision only if the latest active one differs."""
    existing = batch.describe_job_definitions(
        jobDefinitionName=request["jobDefinitionName"], status="ACTIVE"
    )
    revisions = sorted(existing.get("jobDefinitions", []), key=lambda d: d["revision"])
    if revisions and _same_properties(revisions[-1].get("containerProperties") or {}, request):
        return "unchanged"
    batch.register_job_definition(**request)
    return "registered"


def _apply(plan: DeployPlan) -> None:
    import boto3

    from flowc.backends.sfn.trigger import find_state_machine

    batch = boto3.client("batch")
    # A job queue that does not exist would fail every execution at its first task, long after a
    # deploy that said it succeeded.
    described = batch.describe_job_queues(jobQueues=list(plan.job_queues))["jobQueues"]
    found = {queue["jobQueueName"] for queue in described}
    missing = [queue for queue in plan.job_queues if queue not in found]
    if missing:
        raise DeployError(
            f"no Batch job queue {', '.join(map(repr, missing))} in this account and region: "
            "create it, or set batch.job_queue (FLOWC_BATCH__JOB_QUEUE) to the queue the tasks use"
        )
    for request in plan.job_definitions:
        outcome = _register_job_definition(batch, request)
        print(f"job definition {request['jobDefinitionName']}: {outcome}")
    sfn = boto3.client("stepfunctions")
    arn = find_state_machine(sfn, plan.name)
    if arn is None:
        arn = sfn.create_state_machine(
            name=plan.name, definition=plan.definition, roleArn=plan.role_arn
        )["stateMachineArn"]
        print(f"state machine {plan.name}: created")
    else:
        sfn.update_state_machine(stateMachineArn=arn, definition=plan.definition, roleArn=plan.role_arn)
        print(f"state machine {plan.name}: updated")
    scheduler = boto3.client("scheduler")
    name = schedule_name(plan.name)
    existing = None
    try:
        existing = scheduler.get_schedule(Name=name)
    except scheduler.exceptions.ResourceNotFoundException:
        existing = None
    if plan.schedule is not None:
        request = {**plan.schedule, "Target": {**plan.schedule["Target"], "Arn": arn}}
        if existing is None:
            scheduler.create_schedule(**request)
            print(f"schedule {name}: created ({request['ScheduleExpression']})")
        else:
            scheduler.update_schedule(**request)
            print(f"schedule {name}: updated ({request['ScheduleExpression']})")
    elif existing is not None:
        scheduler.delete_schedule(Name=name)
        print(f"schedule {name}: deleted (the flow has no @schedule)")


def deploy(ir: FlowIR, settings: Settings, options: Mapping[str, Any]) -> int:
    """Deploys ``ir``; returns 0 on success, 1 with a message on stderr otherwise."""
    from flowc.diagnostics import CompileError

    dry_run = bool(options.get("dry_run"))
    try:
        package = _package(ir, settings, options.get("flow"))
        # The whole plan first: a flow that cannot be deployed uploads nothing.
        plan = plan_deployment(ir, settings, options, package.sha if package else None)
    except (CompileError, DeployError) as exc:
        print(exc if isinstance(exc, CompileError) else f"flowc: deploy failed: {exc}", file=sys.stderr)
        return 1
    if dry_run:
        print(json.dumps(plan.summary(), indent=2, sort_keys=True))
        return 0
    try:
        if package is not None:
            from flowc.datastore.storage import open_storage
            from flowc.environments.deploy import store_code

            store_code(open_storage(str(settings.get("datastore"))), package, ir, settings)
        _apply(plan)
    except Exception as exc:  # botocore errors: report and fail, unattended
        print(f"flowc: deploy failed: {exc}", file=sys.stderr)
        return 1
    return 0
