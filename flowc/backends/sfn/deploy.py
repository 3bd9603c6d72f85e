"""``flowc deploy|undeploy --target sfn``: job definitions, state machine, schedule.

The hooks of :mod:`flowc.backends.deploy` (which holds the sequence, the messages and the exit
codes). Idempotent: the package is content-addressed (uploaded once); a job definition gets a new
revision only when its properties change; the state machine is created or updated in place; the
schedule is created, updated, or deleted when the flow no longer has ``@schedule`` (a schedule
that exists keeps its state, ENABLED or DISABLED: ``--schedule-paused`` only says how a new one
starts). undeploy deletes the schedule, the state machine and every active revision of the flow's
job definitions. boto3's standard configuration applies (profile, region, ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flowc.backends.deploy import EXIT_CONFIGURATION, Change, DeployError, changed
from flowc.backends.launch import task_launch
from flowc.backends.options import CompileOptions, DeployOptions
from flowc.backends.sfn.definition import (
    DEFAULT_JOB_QUEUE,
    build_definition,
    definition_text,
    steps_with_own_job_definition,
)
from flowc.backends.sfn.events import TARGET_ID, planned_event_rule, rule_name
from flowc.backends.sfn.naming import deployment_name, job_definition_name
from flowc.backends.sfn.schedule import schedule_name, schedule_request
from flowc.backends.sfn.secrets import secret_variable
from flowc.backends.sfn.trigger import find_state_machine
from flowc.config import Settings
from flowc.ir import FlowIR, TriggerKind
from flowc.project_branches import task_environment
from flowc.secret_sources import batch_references, with_default_provider

__all__ = ["DeployPlan", "SfnDeployment", "job_definition_requests", "plan_deployment"]

#: Where deploy's settings come from, for the message when one is missing.
_ROLE_HINT = (
    "set sfn.role (FLOWC_SFN__ROLE, or [tool.flowc] sfn.role in pyproject.toml) to the ARN of the IAM "
    "role the state machine runs as (it needs batch:SubmitJob/DescribeJobs/TerminateJob, "
    "events:PutTargets/PutRule/DescribeRule, events:PutEvents on sfn.event_bus, s3:GetObject on the "
    "datastore and, for wide foreach, states:StartExecution)"
)


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
    event_rule: dict[str, Any] | None = None  # @trigger's rule and target (flowc.backends.sfn.events)


def job_definition_requests(ir: FlowIR, settings: Settings) -> list[dict[str, Any]]:
    """``RegisterJobDefinition`` arguments: the flow's, then one per step that needs its own."""
    ir = with_default_provider(ir, settings.get("secrets.default_provider"))
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
        if batch_references(step.secrets):
            # References only: Batch resolves them when the container starts; values never leave
            # Secrets Manager. https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data-secrets.html
            # (Sources naming a provider are read by the task itself: flowc/secret_sources.py.)
            properties["secrets"] = [
                {"name": secret_variable(source), "valueFrom": source}
                for source in batch_references(step.secrets)
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
    ir: FlowIR, settings: Settings, options: CompileOptions, role: str | None = None
) -> DeployPlan:
    """The deployment of ``ir`` (pure: no AWS call); DeployError (exit 2) without an IAM role."""
    name = deployment_name(ir, settings)
    definition = definition_text(build_definition(ir, settings, options), compact=True)
    role = role or settings.get("sfn.role")
    if not role:
        raise DeployError(f"no IAM role for the state machine: {_ROLE_HINT}", EXIT_CONFIGURATION)
    role = str(role)
    schedule = None
    if ir.schedule is not None:
        schedule_role = str(settings.get("sfn.schedule_role") or role)
        schedule = schedule_request(
            name, ir.schedule, f"<arn of {name}>", schedule_role, paused=options.schedule_paused
        )
    rule = planned_event_rule(ir, settings, name, role) if ir.triggers else None
    queues = {str(settings.get("batch.job_queue") or DEFAULT_JOB_QUEUE)}
    queues |= {step.container.queue for step in ir.steps if step.container.queue}
    return DeployPlan(
        name,
        definition,
        role,
        tuple(job_definition_requests(ir, settings)),
        schedule,
        options.package_sha,
        job_queues=tuple(sorted(queues)),
        event_rule=rule,
    )


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


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def _managed(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {key: properties[key] for key in _MANAGED_PROPERTIES if properties.get(key)}


@dataclass(frozen=True)
class _Clients:
    batch: Any
    sfn: Any
    scheduler: Any
    events: Any


class SfnDeployment:
    """The Step Functions hooks of :mod:`flowc.backends.deploy`."""

    def connect(self, settings: Settings, options: DeployOptions) -> _Clients:
        import boto3

        return _Clients(
            boto3.client("batch"),
            boto3.client("stepfunctions"),
            boto3.client("scheduler"),
            boto3.client("events"),
        )

    def plan(
        self, ir: FlowIR, settings: Settings, options: CompileOptions, session: _Clients
    ) -> list[Change]:
        plan = plan_deployment(ir, settings, options)
        _check_job_queues(session.batch, plan.job_queues)
        changes = [_job_definition_change(session.batch, request) for request in plan.job_definitions]
        arn = find_state_machine(session.sfn, plan.name)
        changes.append(_state_machine_change(session.sfn, plan, arn))
        changes.extend(_schedule_changes(session, plan, arn))
        rule_changes = _event_rule_changes(session, plan, arn, str(settings["sfn.event_bus"]))
        flows = [t.name for t in ir.triggers if t.kind is TriggerKind.FLOW]
        if flows and rule_changes:
            note = _undeployed(session.sfn, flows[0])
            rule_changes = [replace(c, note=note) if note else c for c in rule_changes]
        return [*changes, *rule_changes]

    def removals(
        self, ir: FlowIR, settings: Settings, options: CompileOptions, session: _Clients
    ) -> list[Change]:
        name = deployment_name(ir, settings)
        removals = _event_rule_removals(session, name, str(settings["sfn.event_bus"]))
        schedule = schedule_name(name)
        if _get_schedule(session.scheduler, schedule) is not None:
            removals.append(
                Change(
                    "delete",
                    f"schedule {schedule}",
                    apply=lambda: session.scheduler.delete_schedule(Name=schedule),
                )
            )
        arn = find_state_machine(session.sfn, name)
        if arn is not None:
            removals.append(
                Change(
                    "delete",
                    f"state machine {name}",
                    apply=lambda: session.sfn.delete_state_machine(stateMachineArn=arn),
                )
            )
        for request in job_definition_requests(ir, settings):
            definition = request["jobDefinitionName"]
            found = session.batch.describe_job_definitions(jobDefinitionName=definition, status="ACTIVE")
            for revision in sorted(found.get("jobDefinitions", []), key=lambda d: d["revision"]):
                revision_arn = revision["jobDefinitionArn"]
                removals.append(
                    Change(
                        "delete",
                        f"job definition {definition}:{revision['revision']}",
                        apply=lambda a=revision_arn: session.batch.deregister_job_definition(jobDefinition=a),
                    )
                )
        return removals


def _check_job_queues(batch: Any, queues: tuple[str, ...]) -> None:
    """A job queue that does not exist would fail every execution at its first task, long after a
    deploy that said it succeeded."""
    described = batch.describe_job_queues(jobQueues=list(queues))["jobQueues"]
    found = {queue["jobQueueName"] for queue in described}
    missing = [queue for queue in queues if queue not in found]
    if missing:
        raise DeployError(
            f"no Batch job queue {', '.join(map(repr, missing))} in this account and region: "
            "create it, or set batch.job_queue (FLOWC_BATCH__JOB_QUEUE) to the queue the tasks use"
        )


def _job_definition_change(batch: Any, request: dict[str, Any]) -> Change:
    """A new revision only if the latest active one differs (Batch revisions are immutable)."""
    name = request["jobDefinitionName"]
    existing = batch.describe_job_definitions(jobDefinitionName=name, status="ACTIVE")
    revisions = sorted(existing.get("jobDefinitions", []), key=lambda d: d["revision"])
    after = _json(_managed(request["containerProperties"]))
    what = f"job definition {name}"
    if not revisions:
        return Change("create", what, "", after, lambda: batch.register_job_definition(**request))
    registered = revisions[-1].get("containerProperties") or {}
    before = _json(_managed(registered))
    if _same_properties(registered, request):
        return Change("unchanged", what, before, before)
    return Change(
        "update", what, before, after, lambda: batch.register_job_definition(**request), "a new revision"
    )


def _state_machine_change(sfn: Any, plan: DeployPlan, arn: str | None) -> Change:
    what = f"state machine {plan.name}"
    after = _json({"definition": json.loads(plan.definition), "roleArn": plan.role_arn})
    if arn is None:
        return Change(
            "create",
            what,
            "",
            after,
            lambda: sfn.create_state_machine(
                name=plan.name, definition=plan.definition, roleArn=plan.role_arn
            ),
        )
    deployed = sfn.describe_state_machine(stateMachineArn=arn)
    before = _json({"definition": json.loads(deployed["definition"]), "roleArn": deployed["roleArn"]})
    return changed(
        what,
        before,
        after,
        lambda: sfn.update_state_machine(
            stateMachineArn=arn, definition=plan.definition, roleArn=plan.role_arn
        ),
    )


def _get_schedule(scheduler: Any, name: str) -> dict[str, Any] | None:
    try:
        return scheduler.get_schedule(Name=name)
    except scheduler.exceptions.ResourceNotFoundException:
        return None


def _projection(value: Any, shape: Any) -> Any:
    """``value`` cut down to the keys of ``shape`` (what deploy sets; the service adds more)."""
    if isinstance(shape, Mapping) and isinstance(value, Mapping):
        return {key: _projection(value.get(key), shape[key]) for key in shape}
    return value


def _schedule_changes(session: _Clients, plan: DeployPlan, arn: str | None) -> list[Change]:
    name = schedule_name(plan.name)
    existing = _get_schedule(session.scheduler, name)
    if plan.schedule is None:
        if existing is None:
            return []
        return [
            Change(
                "delete",
                f"schedule {name}",
                apply=lambda: session.scheduler.delete_schedule(Name=name),
                note="the flow has no @schedule",
            )
        ]
    scheduler = session.scheduler
    request = dict(plan.schedule)
    if existing is not None:
        request["State"] = existing.get("State", request["State"])  # paused or not, as a person left it
    what = f"schedule {name} ({request['ScheduleExpression']})"

    def target() -> dict[str, Any]:
        # The state machine's ARN: known once it exists (the change before this one creates it).
        machine = arn or find_state_machine(session.sfn, plan.name)
        return {**request, "Target": {**request["Target"], "Arn": machine}}

    shown = {**request, "Target": {**request["Target"], "Arn": arn or f"<arn of {plan.name}>"}}
    if existing is None:
        return [Change("create", what, "", _json(shown), lambda: scheduler.create_schedule(**target()))]
    before = _json(_projection(existing, shown))
    return [changed(what, before, _json(shown), lambda: scheduler.update_schedule(**target()))]


def _get_rule(events: Any, name: str, bus: str) -> dict[str, Any] | None:
    try:
        return events.describe_rule(Name=name, EventBusName=bus)
    except events.exceptions.ResourceNotFoundException:
        return None


def _delete_rule(events: Any, name: str, bus: str) -> None:
    """A rule with targets cannot be deleted: its targets go first."""
    targets = events.list_targets_by_rule(Rule=name, EventBusName=bus).get("Targets", [])
    if targets:
        events.remove_targets(Rule=name, EventBusName=bus, Ids=[t["Id"] for t in targets])
    events.delete_rule(Name=name, EventBusName=bus)


def _event_rule_removals(session: _Clients, deployment: str, bus: str) -> list[Change]:
    name = rule_name(deployment)
    if _get_rule(session.events, name, bus) is None:
        return []
    return [Change("delete", f"event rule {name}", apply=lambda: _delete_rule(session.events, name, bus))]


def _undeployed(sfn: Any, flow: str) -> str | None:
    """A note when no state machine of ``flow`` is deployed here yet (a misspelt name, or deploy
    order), or None: every deployed state machine announces its successful runs' end.

    The finish event names the flow only (``metaflow.<Flow>.end``, as on Argo), so any state
    machine of it counts: ``<Flow>``, or ``<project>-<branch>-<Flow>``. Deploy order is free (the
    other flow may be deployed later), so this is a note, not a refusal.
    """
    for page in sfn.get_paginator("list_state_machines").paginate():
        if any(m["name"] == flow or m["name"].endswith(f"-{flow}") for m in page["stateMachines"]):
            return None
    return f"no state machine of {flow} here yet: its runs start this flow once it is deployed"


def _event_rule_changes(session: _Clients, plan: DeployPlan, arn: str | None, bus: str) -> list[Change]:
    """``@trigger``'s rule and target: created or updated, deleted when the flow has none."""
    events = session.events
    name = rule_name(plan.name)
    existing = _get_rule(events, name, bus)
    if plan.event_rule is None:
        if existing is None:
            return []
        return [
            Change(
                "delete",
                f"event rule {name}",
                apply=lambda: _delete_rule(events, name, bus),
                note="the flow has no @trigger",
            )
        ]
    rule, target = plan.event_rule["rule"], plan.event_rule["target"]
    shown = {"rule": rule, "target": {**target, "Arn": arn or f"<arn of {plan.name}>"}}
    what = f"event rule {name} ({json.loads(rule['EventPattern'])['detail-type'][0]})"

    def apply() -> None:
        # The state machine's ARN: known once it exists (an earlier change creates it).
        machine = arn or find_state_machine(session.sfn, plan.name)
        events.put_rule(**rule)
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{**target, "Arn": machine}])

    if existing is None:
        return [Change("create", what, "", _json(shown), apply)]
    targets = events.list_targets_by_rule(Rule=name, EventBusName=bus).get("Targets", [])
    deployed_target = next((t for t in targets if t["Id"] == TARGET_ID), {})
    before = {"rule": _projection(existing, rule), "target": _projection(deployed_target, shown["target"])}
    return [changed(what, _json(before), _json(shown), apply)]
