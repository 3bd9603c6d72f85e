"""What the Step Functions target can express: everything in :data:`flowc.backends.base.CONSTRUCTS`.

The notes say how each construct is lowered; ``docs/targets.md#sfn`` is written from them.
"""

from __future__ import annotations

from flowc.backends.base import Capabilities

__all__ = ["CAPABILITIES"]

CAPABILITIES = Capabilities(
    target="sfn",
    limits={
        "sfn-several-trigger-events": "@trigger on several events or @trigger_on_finish on several "
        "flows (a run once all of them happened): an EventBridge rule starts the state machine on "
        "one event and keeps no state between events",
    },
    notes={
        "linear": "one Task state per step: a Batch job (batch:submitJob.sync) running the task runner",
        "branch": "Parallel state, one branch per successor, closed by the join's Task state (a "
        "branch ends wherever its switch's chosen case does)",
        "foreach": "Map over the width read from the foreach task's control record (S3 GetObject); "
        "chunks of 1,000 (States.ArrayRange's limit); a Distributed Map above sfn.distributed_map_threshold",
        "nested_foreach": "a Map inside the Map's item processor (inline)",
        "switch": "Choice state on the switch_case of the task's control record",
        "loop": "Choice back to the loop head through a Pass that sets the next iteration",
        "parameters": "execution input {'parameters': {...}}, given to the start task as FLOWC_PARAMETERS",
        "required_parameters": "checked by the start task (exit 2 naming the parameter)",
        "retry": "Retry on States.TaskFailed: MaxAttempts = times (+1 with @catch: its fallback attempt), "
        "IntervalSeconds the same before every retry (BackoffRate 1)",
        "catch": "the task runner records the exception and exits 0; one more retry (`MaxAttempts`) for "
        "the fallback",
        "timeout": "the runner's own limit, then Batch attemptDurationSeconds, then TimeoutSeconds",
        "resources": "container overrides ResourceRequirements (VCPU, MEMORY)",
        "gpu": "container overrides ResourceRequirements (GPU)",
        "environment": "container overrides Environment",
        "secrets": "bare Secrets Manager ARNs in the step's job definition (registered by deploy); "
        "aws-secrets-manager, env, file and inline sources read by the task; never values",
        "schedule": "EventBridge Scheduler schedule created by deploy",
        "trigger_event": "an EventBridge rule (sfn.event_bus) created by deploy, its target's input "
        "transformer mapping payload fields to the execution's parameters; one event per flow (a rule "
        "cannot wait for several)",
        "trigger_on_finish": "the same EventBridge rule, on the event metaflow.<Flow>.end that every "
        "successful run of the other flow puts on sfn.event_bus (an events:putEvents state before its "
        "Succeed); one flow (a rule cannot wait for several)",
        "schedule_timezone": "EventBridge Scheduler ScheduleExpressionTimezone",
        "project": "state machine, job definitions and schedule named <project>-<branch>-<flow>",
        "exit_hook": "the end-of-run Batch job (flowc.task_runner.finish) runs after a successful run too",
    },
)
