"""The Airflow task graph of a flow: which Airflow task runs which step, and how tasks connect.

Airflow runs a DAG (no cycles), maps tasks one level deep, and decides at run time only through
branch tasks, so the flow's graph is rewritten before rendering:

* every step outside a region is one Airflow task (a mapped task inside a foreach);
* a region (a loop, or a switch inside a foreach and its cases: :mod:`flowc.backends.airflow.regions`)
  becomes one Airflow task that drives its steps in sequence (:mod:`flowc.task_runner.region`),
  mapped over the foreach when inside one;
* every foreach step gets a ``<step>-fanout`` task that turns its control record (``num_splits``)
  into the list its body tasks are mapped over; a nested foreach reads the control records of
  all its mapped tasks and flattens them, because Airflow cannot nest ``.expand()`` inside a
  mapped task group (https://airflow.apache.org/docs/apache-airflow/stable/authoring-and-scheduling/dynamic-task-mapping.html);
* every switch outside a region (and every loop with several exits) gets a ``<task>-choose``
  branch task that reads the control record and lets only the chosen case run; the others are
  skipped;
* one ``flowc-finish`` task runs ``python -m flowc.task_runner.finish`` after every other task,
  whatever their outcome, to record how the run ended (``status.json``). It is a *teardown* task,
  which Airflow leaves out when it computes the DAG run's state, so a failed flow's DAG run still
  ends ``failed`` (https://airflow.apache.org/docs/apache-airflow/stable/howto/setup-and-teardown.html).

Task ids of helper tasks contain ``-``, which a step name (a Python identifier) never does, so they
cannot collide with steps.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flowc.backends.airflow.regions import Region, enclosing_foreach, task_regions
from flowc.ir import FlowIR, Step

__all__ = ["FINISH_TASK", "AirflowTask", "TaskPlan", "plan_tasks"]

#: Airflow trigger rules used (https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/dags.html#trigger-rules).
ALL_SUCCESS = "all_success"
#: A step where switch cases converge runs when the chosen case succeeded and the others were skipped
#: (also a static join whose branch ends in such cases: every upstream task not skipped succeeded).
CONVERGING = "none_failed_min_one_success"
#: What ``.as_teardown()`` sets: run once every upstream task is done, whatever its state.
TEARDOWN = "all_done_setup_success"
#: The task that records how the run ended.
FINISH_TASK = "flowc-finish"


@dataclass(frozen=True)
class AirflowTask:
    """One Airflow task of the compiled DAG.

    Attributes:
        task_id: the Airflow task id.
        kind: ``step`` (runs one step), ``loop`` (drives a region's steps), ``fanout`` (lists the
            foreach indices a body is mapped over), ``choose`` (branch task of a switch) or
            ``finish`` (records how the run ended).
        steps: the step run (``step``), the region's steps in source order (``loop``), the foreach
            step (``fanout``), the steps whose control record decides (``choose``) or, for
            ``finish``, the end step (its pod reuses the end step's image, secrets and environment,
            which reach the datastore).
        upstream: Airflow task ids this task waits for, sorted.
        trigger_rule: the Airflow trigger rule.
        mapped_over: for tasks inside a foreach: the fanout task whose list they are mapped over.
        foreach_depth: length of the foreach index path of the step's tasks.
        iteration_mode: how a task outside a foreach learns its iteration at run time: ``none``
            (the start step: 0), ``split`` (a join: the iteration of its split's task) or ``next``
            (the upstream control record that chose this step: its ``next_iteration``).
        iteration_sources: the Airflow tasks whose control records are read for that.
        choices: for ``choose``: step -> Airflow task id of every possible target.
        entry: for a ``loop`` task mapped over a foreach: the step each of its tasks starts at.
    """

    task_id: str
    kind: str
    steps: tuple[str, ...]
    upstream: tuple[str, ...] = ()
    trigger_rule: str = ALL_SUCCESS
    mapped_over: str | None = None
    foreach_depth: int = 0
    iteration_mode: str = "none"
    iteration_sources: tuple[str, ...] = ()
    choices: tuple[tuple[str, str], ...] = ()
    entry: str | None = None

    @property
    def step(self) -> str:
        return self.steps[0]


@dataclass(frozen=True)
class TaskPlan:
    """All Airflow tasks of a flow in a deterministic order (the flow's step order, helpers after
    the task they read, every task after its upstream tasks, ``flowc-finish`` last), plus which
    Airflow task runs each step."""

    tasks: tuple[AirflowTask, ...]
    owner: Mapping[str, str]

    def task(self, task_id: str) -> AirflowTask:
        for candidate in self.tasks:
            if candidate.task_id == task_id:
                return candidate
        raise KeyError(task_id)


def plan_tasks(ir: FlowIR) -> TaskPlan:
    """The Airflow tasks for ``ir`` (which must already have passed the back end's refusals)."""
    regions = task_regions(ir)
    region_of = {name: region for region in regions for name in region.steps}
    owner = {
        step.name: (region_of[step.name].task_id if step.name in region_of else step.name)
        for step in ir.steps
    }
    innermost = enclosing_foreach(ir)
    chooser = _choosers(ir, regions, owner)

    def upstream_of(step_names: Iterable[str]) -> tuple[set[str], set[str]]:
        """(Airflow upstream ids, Airflow tasks whose control records choose these steps)."""
        names = set(step_names)
        waits, sources = set(), set()
        for name in names:
            for pred in ir.step(name).predecessors:
                if pred in names or name in ir.step(pred).loop_targets:
                    continue
                source = owner[pred]
                sources.add(source)
                waits.add(chooser.get(source, source))
        return waits, sources

    tasks: list[AirflowTask] = []
    done_regions: set[str] = set()
    for step in ir.steps:
        region = region_of.get(step.name)
        if region is not None:
            if region.task_id in done_regions:
                continue
            done_regions.add(region.task_id)
            depth = ir.step(region.steps[0]).foreach_depth
            tasks.append(_region_task(region, depth, upstream_of(region.steps)))
        else:
            tasks.append(_step_task(ir, step, owner, innermost, upstream_of([step.name])))
        task_id = owner[step.name]
        if step.transition == "foreach":
            tasks.append(
                AirflowTask(
                    task_id=f"{step.name}-fanout",
                    kind="fanout",
                    steps=(step.name,),
                    upstream=(task_id,),
                    foreach_depth=step.foreach_depth,
                )
            )
        if task_id in chooser and tasks[-1].task_id == task_id:
            members = region.steps if region else (step.name,)
            targets = sorted({t for m in members for t in ir.step(m).successors if t not in members})
            tasks.append(
                AirflowTask(
                    task_id=chooser[task_id],
                    kind="choose",
                    steps=members,
                    upstream=(task_id,),
                    choices=tuple((t, owner[t]) for t in targets),
                )
            )
    tasks = _in_dependency_order(tasks)
    tasks.append(_finish_task(tasks))
    return TaskPlan(tasks=tuple(tasks), owner=owner)


def _in_dependency_order(tasks: list[AirflowTask]) -> list[AirflowTask]:
    """``tasks`` with every task after the tasks it waits for, else in their given order.

    The DAG file defines a task from its upstream tasks' outputs (``.expand()`` over a fanout), so
    a flow whose steps are written out of order (``end`` first, as Metaflow allows) must still
    list them upstream first. For a flow in order this is the given order.
    """
    position = {task.task_id: i for i, task in enumerate(tasks)}
    missing = {task.task_id: len({u for u in task.upstream if u in position}) for task in tasks}
    downstream: dict[str, list[str]] = {task.task_id: [] for task in tasks}
    for task in tasks:
        for upstream in {u for u in task.upstream if u in position}:
            downstream[upstream].append(task.task_id)
    ready = [position[t] for t, count in missing.items() if count == 0]
    heapq.heapify(ready)  # Kahn's algorithm, always taking the first ready task in the given order
    ordered: list[AirflowTask] = []
    while ready:
        task = tasks[heapq.heappop(ready)]
        ordered.append(task)
        for follower in downstream[task.task_id]:
            missing[follower] -= 1
            if missing[follower] == 0:
                heapq.heappush(ready, position[follower])
    return ordered


def _finish_task(tasks: list[AirflowTask]) -> AirflowTask:
    """``flowc-finish``, downstream of every task but the branch tasks.

    A branch task skips every task directly downstream of it that it did not choose, so
    ``flowc-finish`` waits for the tasks a branch task chooses between instead (they run after it).
    """
    upstream = sorted(t.task_id for t in tasks if t.kind != "choose")
    return AirflowTask(
        task_id=FINISH_TASK, kind="finish", steps=("end",), upstream=tuple(upstream), trigger_rule=TEARDOWN
    )


def _region_task(region: Region, depth: int, links: tuple[set[str], set[str]]) -> AirflowTask:
    """The task that runs a region: mapped over its foreach's fan-out when inside one."""
    waits, sources = links
    if region.foreach is not None:
        fanout = f"{region.foreach}-fanout"
        return AirflowTask(
            task_id=region.task_id,
            kind="loop",
            steps=region.steps,
            upstream=tuple(sorted(waits | {fanout})),
            mapped_over=fanout,
            foreach_depth=depth,
            iteration_mode="entry",
            entry=region.entry,
        )
    return AirflowTask(
        task_id=region.task_id,
        kind="loop",
        steps=region.steps,
        upstream=tuple(sorted(waits)),
        trigger_rule=CONVERGING if len(waits) > 1 else ALL_SUCCESS,
        iteration_mode="next",
        iteration_sources=tuple(sorted(sources)),
    )


def _step_task(
    ir: FlowIR,
    step: Step,
    owner: Mapping[str, str],
    innermost: Mapping[str, str | None],
    links: tuple[set[str], set[str]],
) -> AirflowTask:
    waits, sources = links
    foreach = innermost[step.name]
    mapped_over = f"{foreach}-fanout" if foreach is not None else None
    if mapped_over is not None:
        waits = waits | {mapped_over}
        mode, iteration_sources = "entry", ()
    elif step.name == "start":
        mode, iteration_sources = "none", ()
    elif step.split_of is not None:
        mode, iteration_sources = "split", (owner[step.split_of],)
    else:
        mode, iteration_sources = "next", tuple(sorted(sources))
    # Switch cases converge here: only the chosen case succeeded, the others were skipped. At a
    # static split's join too, when a branch ends in a switch whose cases lead straight into it
    # (Step.branch_ends): each other branch still has to succeed, and a failure still stops it.
    converging = (
        len(sources) > 1 if step.split_of is None else any(len(ends) > 1 for ends in step.branch_ends)
    )
    return AirflowTask(
        task_id=owner[step.name],
        kind="step",
        steps=(step.name,),
        upstream=tuple(sorted(waits)),
        trigger_rule=CONVERGING if converging else ALL_SUCCESS,
        mapped_over=mapped_over,
        foreach_depth=step.foreach_depth,
        iteration_mode=mode,
        iteration_sources=iteration_sources,
    )


def _choosers(ir: FlowIR, regions: list[Region], owner: Mapping[str, str]) -> dict[str, str]:
    """Airflow task id -> its branch task id, for switches and loops with several exits."""
    chooser: dict[str, str] = {}
    in_region = {name for region in regions for name in region.steps}
    for step in ir.steps:
        if step.transition == "switch" and step.name not in in_region and len(set(step.successors)) > 1:
            chooser[owner[step.name]] = f"{owner[step.name]}-choose"
    for region in regions:
        exits = {t for m in region.steps for t in ir.step(m).successors if t not in region.steps}
        if len(exits) > 1:
            chooser[region.task_id] = f"{region.task_id}-choose"
    return chooser
