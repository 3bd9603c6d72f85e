"""What the Airflow target can express, and the few flow shapes it refuses (with the reason).

Every construct of :data:`flowc.backends.base.CONSTRUCTS` is supported; ``notes`` says how each is
lowered (docs/targets.md#airflow is written from the same facts). Two combinations cannot be
expressed and are refused at compile time by :func:`airflow_refusals`.
"""

from __future__ import annotations

from collections.abc import Iterator

from flowc.backends.base import Capabilities
from flowc.frontend.diagnostics import Diagnostic
from flowc.ir import FlowIR

__all__ = ["CAPABILITIES", "airflow_refusals"]

CAPABILITIES = Capabilities(
    target="airflow",
    unsupported={},
    notes={
        "linear": "one Airflow task per step",
        "branch": "parallel tasks; the join waits for all of them (trigger rule all_success)",
        "foreach": "dynamic task mapping over the list a '<step>-fanout' task builds from num_splits",
        "nested_foreach": "flattened: the inner fanout task lists every index path, the body maps once",
        "switch": "a '<step>-choose' branch task; the cases not chosen are skipped, steps where cases "
        "converge use trigger rule none_failed_min_one_success",
        "loop": "the loop's steps run in one Airflow task (python -m flowc.task_runner.region), "
        "one task-runner process per step and iteration",
        "parameters": "DAG params with a JSON schema, passed to the start task in a file",
        "required_parameters": "DAG params without a default: Airflow refuses a trigger without them",
        "retry": "retries and retry_delay of the step's task",
        "catch": "handled by the task runner (the task succeeds)",
        "timeout": "the task runner kills the step; execution_timeout is a backstop slightly above",
        "resources": "KubernetesPodOperator container_resources (ignored by the local operator)",
        "gpu": "KubernetesPodOperator limit nvidia.com/gpu (ignored by the local operator)",
        "environment": "task environment variables",
        "secrets": "KubernetesPodOperator env_from Kubernetes secrets; the local operator leaves "
        "them to the task runner",
        "schedule": "CronTriggerTimetable",
        "schedule_timezone": "CronTriggerTimetable(timezone=...) and a start_date in that timezone",
        "project": "DAG id <project>.<branch>.<Flow>",
    },
)


def airflow_refusals(ir: FlowIR) -> Iterator[Diagnostic]:
    """Diagnostics for flow shapes that Airflow cannot run (beyond the per-construct table)."""
    hint = "see docs/targets.md#airflow"
    for step in ir.steps:
        if step.transition == "switch" and step.foreach_depth > 0:
            yield Diagnostic(
                code="unsupported-switch-in-foreach",
                message="airflow cannot express a switch inside a foreach: a branch task in a mapped "
                "task would skip the unchosen case for every index, not just its own",
                file=ir.source_file,
                line=step.location.line if step.location else None,
                step=step.name,
                hint=hint,
            )
    required = [p.name for p in ir.parameters if p.required and not p.has_default and not p.deferred_default]
    if ir.schedule is not None and required:
        yield Diagnostic(
            code="unsupported-schedule-with-required-parameters",
            message="airflow cannot schedule a DAG whose params have no default "
            f"({', '.join(required)}): a scheduled run has nobody to give them",
            file=ir.source_file,
            hint="give the parameters defaults, or remove @schedule",
        )
