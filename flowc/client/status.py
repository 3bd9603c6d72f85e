"""A run's state in one summary (``flowc status RUN``): its status and who or what ended it, each
step's task counts, and the failed tasks with their errors.

Read from the datastore alone, so it is the same for a local run and for a run an engine started.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowc.client.objects import Run, Task

__all__ = ["FailedTask", "RunStatus", "StepCounts", "format_status", "run_status"]


@dataclass(frozen=True)
class StepCounts:
    """How many tasks of one step exist, and how many of them succeeded, failed or still run."""

    step: str
    tasks: int
    successful: int
    failed: int
    running: int


@dataclass(frozen=True)
class FailedTask:
    """A task whose latest attempt failed, and why (the exception's type and first line, else the
    attempt's exit reason: a timeout, a kill, an out-of-memory end)."""

    pathspec: str
    attempt: int
    error: str


@dataclass(frozen=True)
class RunStatus:
    """What ``flowc status`` prints.

    ``status`` is ``successful``, ``failed`` or ``killed`` (recorded by whoever ended the run),
    ``running``, or ``crashed`` (its local runtime is gone without recording an end).
    """

    pathspec: str
    status: str
    reason: str | None
    ended_by: str | None
    engine: str
    user: str | None
    launcher: str | None
    started: str | None
    ended: str | None
    steps: tuple[StepCounts, ...]
    failed: tuple[FailedTask, ...]
    missing: dict[str, tuple[int, int]]


def run_status(run: Run) -> RunStatus:
    """The summary of ``run`` (a client :class:`~flowc.client.Run`)."""
    from flowc.metadata import engine_of
    from flowc.runtime.records import liveness

    record = run._record
    recorded = run.status
    if run.successful:
        status = "successful"
    elif recorded:
        status = str(recorded.get("status"))
    else:
        status = liveness(record, None)
    steps: list[StepCounts] = []
    failed: list[FailedTask] = []
    for step in sorted(run.steps(), key=lambda s: (s._started_at(), s.id)):
        counts = {"successful": 0, "failed": 0, "running": 0}
        tasks = list(step)
        for task in tasks:
            state = _task_state(task)
            counts[state] += 1
            if state == "failed":
                failed.append(FailedTask(task.pathspec, task.current_attempt, _error(task)))
        steps.append(StepCounts(step.id, len(tasks), **counts))
    launcher = record.get("launcher") or {}
    return RunStatus(
        pathspec=run.pathspec,
        status=status,
        reason=recorded.get("reason"),
        ended_by=recorded.get("ended_by"),
        engine=engine_of(run.id, record),
        user=run.user,
        launcher=(f"pid {launcher['pid']} on {launcher.get('host')}" if launcher.get("pid") else None),
        started=record.get("start"),
        ended=recorded.get("end"),
        steps=tuple(steps),
        failed=tuple(failed),
        missing=run.missing_tasks(),
    )


def _task_state(task: Task) -> str:
    if task.successful:
        return "successful"
    attempt = task.attempt_record or {}
    return "running" if attempt.get("status") in (None, "running") else "failed"


def _error(task: Task) -> str:
    exception = task.exception
    if exception is not None:
        lines = str(exception.message).strip().splitlines()
        return f"{exception.type}: {lines[0] if lines else ''}".rstrip(": ")
    attempt = task.attempt_record or {}
    reason = attempt.get("exit_reason") or (
        f"exit code {attempt['exit_code']}" if attempt.get("exit_code") is not None else "no reason recorded"
    )
    return str(reason).strip().splitlines()[0] if str(reason).strip() else "no reason recorded"


def format_status(summary: RunStatus) -> str:
    """``summary`` as ``flowc status`` prints it: a few ``key: value`` lines, then one line a step."""
    lines = [f"Run {summary.pathspec}: {summary.status}"]
    if summary.ended_by:
        lines.append(f"  ended by: {summary.ended_by}" + (f": {summary.reason}" if summary.reason else ""))
    elif summary.reason:
        lines.append(f"  ended by: {summary.reason}")
    started_by = f"{summary.user or 'unknown user'} ({summary.engine}"
    started_by += f", {summary.launcher})" if summary.launcher else ")"
    lines.append(f"  started: {summary.started or '?'} by {started_by}")
    if summary.ended:
        lines.append(f"  ended: {summary.ended}")
    lines.append("  steps:")
    width = max((len(s.step) for s in summary.steps), default=4)
    for counts in summary.steps:
        parts = [f"{counts.successful}/{counts.tasks} successful"]
        parts += [f"{counts.failed} failed"] if counts.failed else []
        parts += [f"{counts.running} running"] if counts.running else []
        lines.append(f"    {counts.step:<{width}}  {', '.join(parts)}")
    for step, (recorded, found) in sorted(summary.missing.items()):
        lines.append(f"  missing: {step} recorded {recorded} successful tasks, {found} found")
    for task in summary.failed:
        lines.append(f"  failed: {task.pathspec} (attempt {task.attempt}): {task.error}")
    return "\n".join(lines)
