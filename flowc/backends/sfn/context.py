"""What the lowering of one flow needs to know, and the execution state every task reads.

The JSON that flows between states (JSONPath ``$``) is a small fixed record, the *run context*::

    {"run_id": "sfn-<execution name>", "params": "<parameters as JSON text>",
     "iteration": "0", "suffix": "", "index": "", "base": ""}

* ``run_id`` is computed once from ``$$.Execution.Name`` (a Distributed Map's child executions
  have their own names, so it travels in the state instead of being re-read from the context).
* ``index`` is the foreach index path for ``--index`` (``"3,1"``), ``base`` the same path as the
  task id writes it after the step name (``"-3-1"``, ``""`` outside any foreach: see
  :func:`flowc.datastore.layout.task_id`): both are extended by each Map's ItemSelector from
  ``$$.Map.Item.Value``.
* ``iteration`` (text, for ``--iteration``) and ``suffix`` (``""`` or ``".<iteration>"``, for the task
  id) change only on a loop's back edge, from the control record's ``next_iteration``.
* ``params`` reaches the start task only (as ``FLOWC_PARAMETERS``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flowc.backends.launch import TaskLaunch

__all__ = ["CONTEXT_FIELDS", "Lowering"]

#: The run context's fields that a Map passes on to its iterations (parameters stay outside).
CONTEXT_FIELDS = ("run_id", "iteration", "suffix")


@dataclass(frozen=True)
class Lowering:
    """Everything the lowering functions share for one flow (no mutable state).

    Attributes:
        flow: the flow's class name (``--flow``, datastore paths).
        bucket: the S3 bucket of the datastore.
        prefix: the datastore's key prefix inside the bucket (``""`` or ``"some/prefix/"``).
        datastore: the datastore URL given to every task.
        source: the flow file's name (``--source``) when compiled without a code package.
        package: the code package's SHA-256 (``--package``).
        ir_digest: the IR's digest every task checks its code against (``--ir``).
        launch: how every Batch job's command starts (:mod:`flowc.backends.launch`).
        job_queue: the Batch job queue.
        job_definition: the flow's Batch job definition name.
        step_job_definitions: step -> its own job definition (steps with secrets or an image).
        job_name_prefix: the prefix of every Batch job name.
        distributed_threshold: foreach widths above this use a Distributed Map.
        copy: the tag appended to state names in the distributed copy of a foreach body.
        max_concurrency: a foreach's items running at once (``--max-workers``); None: no limit.
        notify: the run outcomes the end-of-run job notifies about (``--notify-on-error`` ...).
        event_bus: the EventBridge bus a successful run announces its end on (``sfn.event_bus``).
    """

    flow: str
    bucket: str
    prefix: str
    datastore: str
    source: str | None
    package: str | None
    ir_digest: str
    launch: TaskLaunch
    job_queue: str
    job_definition: str
    step_job_definitions: tuple[tuple[str, str], ...]
    job_name_prefix: str
    distributed_threshold: int
    copy: str = ""
    max_concurrency: int | None = None
    notify: tuple[str, ...] = ()  # the outcomes the end-of-run job notifies (flowc.notifications)
    event_bus: str = "default"

    def job_definition_of(self, step: str) -> str:
        return dict(self.step_job_definitions).get(step, self.job_definition)

    def task_key_format(self, step: str) -> str:
        """``States.Format`` template of a task's ``task.json`` key (run id, base, suffix).

        The task id is :func:`flowc.datastore.layout.task_id` of the step outside any foreach and
        loop, followed by ``base`` and ``suffix``. The datastore prefix is escaped: an S3 key may
        hold ``'``, ``{`` or ``\\``.
        """
        from flowc.backends.sfn.intrinsics import escape
        from flowc.datastore.layout import task_id

        return f"{escape(f'{self.prefix}runs/{self.flow}/')}{{}}/{step}/{task_id(step)}{{}}{{}}/task.json"
