"""The Airflow task graph of a flow: which Airflow task runs which step, and how tasks connect.

Airflow runs a DAG (no cycles), maps tasks one level deep, and decides at run time only through
branch tasks, so the flow's graph is rewritten before rendering:

* every step outside a loop is one Airflow task (a mapped task inside a foreach);
* a loop (a strongly connected set of steps, closed by a switch case jumping back) becomes one
  Airflow task that drives its steps in sequence (:mod:`flowc.task_runner.region`);
* every foreach step gets a ``<step>-fanout`` task that turns its control record (``num_splits``)
  into the list its body tasks are mapped over; a nested foreach reads the control records of
  all its mapped tasks and flattens them, because Airflow cannot nest ``.expand()`` inside a
  mapped task group (https://airflow.apache.org/docs/apache-airflow/stable/authoring-and-scheduling/dynamic-task-mapping.html);
* every switch (and every loop with several exits) gets a ``<task>-choose`` branch task that reads
  the control record and lets only the chosen case run; the others are skipped;
* one ``flowc-finish`` task runs ``python -m flowc.task_runner.finish`` after every other task,
  whatever their outcome, to record how the run ended (``status.json``). It is a *teardown* task,
  which Airflow leaves out when it computes the DAG run's state, so a failed flow's DAG run still
  ends ``failed`` (https://airflow.apache.org/docs/apache-airflow/stable/howto/setup-and-teardown.html).

Task ids of helper tasks contain ``-``, which a step name (a Python identifier) never does, so they
cannot collide with steps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flowc.ir import FlowIR, Step

__all__ = ["FINISH_TASK", "AirflowTask", "TaskPlan", "plan_tasks"]

#: Airflow trigger rules used (https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/dags.html#trigger-rules).
ALL_SUCCESS = "all_success"
#: A step where switch cases converge runs when the chosen case succeeded and the others were skipped.
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
        kind: ``step`` (runs one step), ``loop`` (drives a loop's steps), ``fanout`` (lists the
            foreach indices a body is mapped over), ``choose`` (branch task of a switch) or
            ``finish`` (records how the run ended).
        steps: the step run (``step``), the loop's steps in source order (``loop``), the foreach
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

    @property
    def step(self) -> str:
        return self.steps[0]


@dataclass(frozen=True)
class TaskPlan:
    """All Airflow tasks of a flow in a deterministic order (the flow's step order, helpers after
    the task they read, ``flowc-finish`` last), plus which Airflow task runs each step."""

    tasks: tuple[AirflowTask, ...]
    owner: Mapping[str, str]

    def task(self, task_id: str) -> AirflowTask:
        for candidate in self.tasks:
            if candidate.task_id == task_id:
                return candidate
        raise KeyError(task_id)


def plan_tasks(ir: FlowIR) -> TaskPlan:
    """The Airflow tasks for ``ir`` (which must already have passed the back end's refusals)."""
    regions = loop_regions(ir)
    region_of = {name: region for region in regions for name in region}
    owner = {
        step.name: (f"loop-{region_of[step.name][0]}" if step.name in region_of else step.name)
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
    done_regions: set[tuple[str, ...]] = set()
    for step in ir.steps:
        region = region_of.get(step.name)
        if region is not None:
            if region in done_regions:
                continue
            done_regions.add(region)
            waits, sources = upstream_of(region)
            tasks.append(
                AirflowTask(
                    task_id=owner[step.name],
                    kind="loop",
                    steps=region,
                    upstream=tuple(sorted(waits)),
                    trigger_rule=CONVERGING if len(waits) > 1 else ALL_SUCCESS,
                    iteration_mode="next",
                    iteration_sources=tuple(sorted(sources)),
                )
            )
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
            members = region or (step.name,)
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
    tasks.append(_finish_task(tasks))
    return TaskPlan(tasks=tuple(tasks), owner=owner)


def _finish_task(tasks: list[AirflowTask]) -> AirflowTask:
    """``flowc-finish``, downstream of every task but the branch tasks.

    A branch task skips every task directly downstream of it that it did not choose, so
    ``flowc-finish`` waits for the tasks a branch task chooses between instead (they run after it).
    """
    upstream = sorted(t.task_id for t in tasks if t.kind != "choose")
    return AirflowTask(
        task_id=FINISH_TASK, kind="finish", steps=("end",), upstream=tuple(upstream), trigger_rule=TEARDOWN
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
    converging = step.split_of is None and len(sources) > 1
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


def _choosers(ir: FlowIR, regions: list[tuple[str, ...]], owner: Mapping[str, str]) -> dict[str, str]:
    """Airflow task id -> its branch task id, for switches and loops with several exits."""
    chooser: dict[str, str] = {}
    in_region = {name for region in regions for name in region}
    for step in ir.steps:
        if step.transition == "switch" and step.name not in in_region and len(set(step.successors)) > 1:
            chooser[owner[step.name]] = f"{owner[step.name]}-choose"
    for region in regions:
        exits = {t for m in region for t in ir.step(m).successors if t not in region}
        if len(exits) > 1:
            chooser[owner[region[0]]] = f"{owner[region[0]]}-choose"
    return chooser


def loop_regions(ir: FlowIR) -> list[tuple[str, ...]]:
    """The flow's loops: strongly connected sets of steps (Tarjan), each in source order."""
    order = {name: i for i, name in enumerate(ir.step_names)}
    successors = {s.name: s.successors for s in ir.steps}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    # Iterative Tarjan: a 1,000-step chain must not hit Python's recursion limit.
    for root in ir.step_names:
        if root in index:
            continue
        work = [(root, iter(successors[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors[child])))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in successors[node]:
                    found.append(tuple(sorted(component, key=order.__getitem__)))
    return sorted(found, key=lambda region: order[region[0]])


def enclosing_foreach(ir: FlowIR) -> dict[str, str | None]:
    """Step -> the innermost foreach step whose fan-out its tasks belong to (None outside any)."""
    stacks: dict[str, tuple[str, ...]] = {}
    pending = list(ir.step_names)
    # Forward edges only; a few passes settle any order because every step has a forward
    # predecessor that is settled before it in a topological order.
    while pending:
        progressed = False
        for name in list(pending):
            step = ir.step(name)
            stack = _stack_of(ir, step, stacks)
            if stack is not None:
                stacks[name] = stack
                pending.remove(name)
                progressed = True
        if not progressed:
            raise ValueError(f"cannot place steps {pending} inside their foreach loops")
    return {name: (stack[-1] if stack else None) for name, stack in stacks.items()}


def _stack_of(ir: FlowIR, step: Step, stacks: Mapping[str, tuple[str, ...]]) -> tuple[str, ...] | None:
    if step.name == "start":
        return ()
    if step.split_of is not None:
        split = stacks.get(step.split_of)
        if split is None:
            return None
        return split
    for pred in step.predecessors:
        if step.name in ir.step(pred).loop_targets:
            continue
        if pred in stacks:
            pred_step = ir.step(pred)
            return stacks[pred] + ((pred,) if pred_step.transition == "foreach" else ())
    return None
