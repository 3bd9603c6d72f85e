"""What the Argo Workflows target can express (everything in the shared table) and how."""

from __future__ import annotations

from flowc.backends.base import Capabilities

__all__ = ["CAPABILITIES", "SHAPE_LIMIT"]

#: The code of a flow shape Argo's DAG templates cannot hold (flowc.backends.argo.regions).
SHAPE_LIMIT = "argo-unsupported-shape"

CAPABILITIES = Capabilities(
    target="argo",
    unsupported={},
    limits={
        SHAPE_LIMIT: "a loop inside another loop (nested loops), a loop entered in the middle or "
        "left other than through its switch: a loop is a DAG template calling itself, entered at "
        "its head and left at its switch",
    },
    notes={
        "linear": "DAG task depending on its predecessor's success",
        "branch": "parallel DAG tasks; the join depends on all of them (&&), on any one of a branch's "
        "switch cases that lead straight into it (||)",
        "foreach": "one task over withSequence, its count read from the foreach task's control record",
        "nested_foreach": "a foreach body is its own DAG template, so bodies nest",
        "switch": "`when` on the switch's control record; converging steps depend on any case (||)",
        "loop": "a DAG template that calls itself while the switch chooses the back edge",
        "parameters": "workflow arguments, handed to the start task as a JSON file (raw input artifact)",
        "required_parameters": "workflow arguments without a value (Argo asks for them at submission)",
        "retry": "retryStrategy (limit, backoff.duration); --attempt {{retries}}",
        "catch": "handled by the task runner (exit 0, the run goes on); one more retry for the fallback",
        "timeout": "enforced by the task runner; activeDeadlineSeconds 60 s later as a backstop",
        "resources": "resources.requests: cpu, memory, ephemeral-storage; memory also a limit",
        "gpu": "resources.limits nvidia.com/gpu",
        "environment": "container env",
        "secrets": "Kubernetes Secrets (bare or kubernetes.NAME) as envFrom.secretRef by name; other "
        "providers read by the task (flowc/secret_sources.py)",
        "schedule": "a CronWorkflow (schedules) referencing the WorkflowTemplate",
        "schedule_timezone": "CronWorkflow timezone",
        "project": "template name <project>-<branch>-<flow> and flowc.dev/* labels",
        "trigger_event": "an Argo Events Sensor submitting the WorkflowTemplate, payload fields as its "
        "arguments (argo_events.* settings)",
        "trigger_on_finish": "the same Sensor, on the event metaflow.<Flow>.end that the end-of-run "
        "step of the other flow's successful Argo runs posts to argo_events.webhook_url (set when "
        "it is compiled)",
        "exit_hook": "the onExit template (flowc.task_runner.finish) records the status, then runs them",
    },
)
