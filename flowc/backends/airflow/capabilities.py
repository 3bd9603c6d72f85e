"""What the Airflow target can express, and the few flow shapes it refuses (with the reason).

Every construct of :data:`flowc.backends.base.CONSTRUCTS` is supported; ``notes`` says how each is
lowered (docs/targets.md#airflow is written from the same facts). A few combinations cannot be
expressed and are refused at compile time by :func:`airflow_refusals`: a switch or loop inside a
foreach whose region would hold a split, a foreach or a join (:mod:`flowc.backends.airflow.regions`);
with the local operator, a ``@secrets`` source only a pod could give
(:func:`flowc.secret_sources.no_pod_refusals`).
(A schedule with required parameters is refused for every target: :func:`flowc.backends.base.refusals`.)
"""

from __future__ import annotations

from collections.abc import Iterator

from flowc.backends.airflow.regions import REGION_LIMIT, region_refusals, task_regions
from flowc.backends.base import Capabilities
from flowc.backends.pod import pod_refusals
from flowc.diagnostics import Diagnostic
from flowc.ir import FlowIR
from flowc.secret_sources import no_pod_refusals

__all__ = ["CAPABILITIES", "airflow_refusals"]

CAPABILITIES = Capabilities(
    target="airflow",
    limits={
        REGION_LIMIT: "a split, foreach or join inside a switch's cases within a foreach, or after "
        "a loop within a foreach and before its join: such a region runs in one task, one step "
        "at a time (python -m flowc.task_runner.region)",
        "secrets-kubernetes-without-pod": "with the local operator, a @secrets source "
        "kubernetes.NAME: only a pod spec injects a Kubernetes Secret",
        "secrets-no-provider": "with the local operator, a @secrets source without a provider when "
        "no secrets.default_provider is set: there is no store of the engine's own to read it from",
    },
    notes={
        "linear": "one Airflow task per step",
        "branch": "parallel tasks; the join waits for all of them (trigger rule all_success; "
        "none_failed_min_one_success when a branch ends in switch cases that lead straight into it)",
        "foreach": "dynamic task mapping over the list a '<step>-fanout' task builds from num_splits",
        "nested_foreach": "flattened: the inner fanout task lists every index path, the body maps once",
        "switch": "a '<step>-choose' branch task; the cases not chosen are skipped, steps where cases "
        "converge use trigger rule none_failed_min_one_success; inside a foreach, the switch and its "
        "cases run in one mapped task per index (python -m flowc.task_runner.region)",
        "loop": "the loop's steps run in one Airflow task (python -m flowc.task_runner.region), "
        "one task-runner process per step and iteration; inside a foreach, one mapped task per index "
        "runs the loop and the steps after it up to the join",
        "parameters": "DAG params with a JSON schema, passed to the start task in a file",
        "required_parameters": "DAG params without a default: Airflow refuses a trigger without them",
        "retry": "retries and retry_delay of the step's task (every other task: retries=0)",
        "catch": "handled by the task runner (the task succeeds); one more retry for the fallback of a task "
        "that died",
        "timeout": "the task runner kills the step; execution_timeout 60 s later as a backstop",
        "resources": "KubernetesPodOperator container_resources, @kubernetes(shared_memory) a "
        "memory-backed /dev/shm (ignored by the local operator)",
        "gpu": "KubernetesPodOperator limit nvidia.com/gpu (ignored by the local operator)",
        "environment": "task environment variables",
        "secrets": "KubernetesPodOperator env_from Kubernetes Secrets (refused on the local operator); "
        "the other providers read by the task (flowc/secret_sources.py)",
        "schedule": "CronTriggerTimetable",
        "schedule_timezone": "CronTriggerTimetable(timezone=...) and a start_date in that timezone",
        "project": "DAG id <project>.<branch>.<Flow>",
        "exit_hook": "the flowc-finish teardown task (flowc.task_runner.finish) runs them",
        "trigger_event": "the DAG is scheduled on each event's Asset (flowc-event:<name>; all of them), "
        "which flowc event publish updates through the REST API (airflow.api_url), the payload as the "
        "asset event's extra; the DAG's runtime maps payload fields to the start task's parameters "
        "(Airflow 3)",
        "trigger_on_finish": "the same Assets: every DAG's end task has the Asset of metaflow.<Flow>.end "
        "as its outlet, which Airflow updates only when that task, and so the run, succeeds",
    },
)


def airflow_refusals(ir: FlowIR, operator: str = "local") -> Iterator[Diagnostic]:
    """Diagnostics for flow shapes that Airflow cannot run (beyond the per-construct table) and,
    with ``operator`` ``kubernetes``, for pods it cannot give a task (:mod:`flowc.backends.pod`)."""
    problems = list(region_refusals(ir))
    yield from problems
    if operator == "local":
        yield from no_pod_refusals(ir, "Airflow's local operator")
    if operator == "kubernetes" and not problems:
        regions = task_regions(ir)
        in_region = {name for region in regions for name in region.steps}
        tasks = [[ir.step(name) for name in region.steps] for region in regions]
        tasks += [[step] for step in ir.steps if step.name not in in_region]
        yield from pod_refusals(ir, "airflow", tasks)
