"""Regions: sets of steps that one Airflow task runs in sequence (``python -m flowc.task_runner.region``).

Airflow runs a DAG without cycles and decides at run time only through branch tasks, which skip
whole tasks, so two kinds of flow graph become regions:

* a **loop** (a strongly connected set of steps, closed by a switch case jumping back): its steps
  run in one task until a case leaves it;
* a **switch inside a foreach**: a branch task in a mapped task would skip the unchosen case for
  every index, not just its own, so the switch and its cases (every step reached from it before
  its cases meet) run in one task, mapped over the foreach like any step inside it. A loop inside
  a foreach is such a region too; because each index leaves its loop at its own iteration, and a
  mapped task learns its iteration from the foreach's fan-out list, its region goes on to the
  foreach's join.

The task runner runs one step after another and needs one next step each time, so a region may
hold only linear steps and switches (the front end keeps splits, foreaches and joins out of loops);
:func:`region_refusals` names the step that breaks this, with its line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from flowc.diagnostics import Diagnostic, refuse_step
from flowc.ir import FlowIR, Step

__all__ = ["REGION_LIMIT", "Region", "enclosing_foreach", "loop_regions", "region_refusals", "task_regions"]

HINT = "see docs/targets.md#airflow"
#: The code of a region the task runner cannot drive (declared in the target's capabilities).
REGION_LIMIT = "unsupported-region-in-foreach"


@dataclass(frozen=True)
class Region:
    """Steps one Airflow task runs.

    Attributes:
        steps: the steps, in source order.
        task_id: ``loop-<step>`` (it has a back edge) or ``switch-<step>``.
        foreach: the innermost foreach step around it (None: outside any foreach).
        entry: where the region is entered; for a region inside a foreach the only step entered
            from outside (a mapped task cannot read which step its own index chose), else None:
            the task reads it from the control record that chose it.
    """

    steps: tuple[str, ...]
    task_id: str
    foreach: str | None = None
    entry: str | None = None


def task_regions(ir: FlowIR) -> list[Region]:
    """Every region of ``ir`` in source order (``ir`` must have passed :func:`region_refusals`)."""
    regions, problems = _regions(ir)
    if problems:
        raise ValueError("; ".join(p.message for p in problems))
    return regions


def region_refusals(ir: FlowIR) -> Iterator[Diagnostic]:
    """Regions the task runner cannot run as one task: the step, its line and the reason."""
    yield from _regions(ir)[1]


def _regions(ir: FlowIR) -> tuple[list[Region], list[Diagnostic]]:
    order = {name: i for i, name in enumerate(ir.step_names)}
    innermost = enclosing_foreach(ir)
    loops = loop_regions(ir)
    regions = [Region(steps=loop, task_id=f"loop-{loop[0]}") for loop in loops if innermost[loop[0]] is None]
    groups = [set(loop) for loop in loops if innermost[loop[0]] is not None]
    switches = [s for s in ir.steps if s.transition == "switch" and innermost[s.name] is not None]
    groups += [_switch_region(ir, switch) for switch in switches]
    problems: list[Diagnostic] = []
    for members in _merged(groups):
        region, problem = _foreach_region(ir, members, innermost, order)
        if problem is not None:
            problems.append(problem)
        else:
            regions.append(region)
    return sorted(regions, key=lambda r: order[r.steps[0]]), problems


def _switch_region(ir: FlowIR, switch: Step) -> set[str]:
    """The switch and every step reached from it before its cases meet (``Step.converges_at``)."""
    meet = switch.converges_at
    members = {switch.name}
    pending = [switch.name]
    while pending:
        for successor in ir.step(pending.pop()).successors:
            if successor != meet and successor not in members:
                members.add(successor)
                pending.append(successor)
    return members


def _merged(groups: list[set[str]]) -> list[set[str]]:
    """Groups that share a step become one (a loop and its switch, nested switches)."""
    merged: list[set[str]] = []
    for group in groups:
        group = set(group)
        for other in [m for m in merged if m & group]:
            merged.remove(other)
            group |= other
        merged.append(group)
    return merged


def _foreach_region(
    ir: FlowIR, members: set[str], innermost: Mapping[str, str | None], order: Mapping[str, int]
) -> tuple[Region, Diagnostic | None]:
    """The region of ``members`` inside a foreach (extended to the join when it loops), or why not."""
    looping = any(t in members for m in members for t in ir.step(m).loop_targets)
    foreach = innermost[min(members, key=order.__getitem__)]
    if looping:
        # Each index leaves the loop at its own iteration; the steps after it up to the foreach's
        # join run in the same task, which knows that iteration.
        pending = list(members)
        while pending:
            for successor in ir.step(pending.pop()).successors:
                if successor not in members and ir.step(successor).split_of is None:
                    members.add(successor)
                    pending.append(successor)
    steps = tuple(sorted(members, key=order.__getitem__))
    entries = sorted(
        {
            name
            for name in steps
            for pred in ir.step(name).predecessors
            if pred not in members and name not in ir.step(pred).loop_targets
        },
        key=order.__getitem__,
    )
    exits = {t for name in steps for t in ir.step(name).successors if t not in members}
    region = Region(
        steps=steps,
        task_id=f"{'loop' if looping else 'switch'}-{entries[0] if entries else steps[0]}",
        foreach=foreach,
        entry=entries[0] if entries else None,
    )
    what = "loop" if looping else "switch"
    scope = "and the steps after it up to the foreach's join" if looping else "and its cases"
    for name in steps:
        step = ir.step(name)
        if step.transition in ("split", "foreach") or step.split_of is not None:
            kind = "join" if step.split_of is not None else step.transition
            return region, _refusal(
                ir,
                step,
                f"airflow runs a {what} inside a foreach {scope} as one task per index, which "
                f"cannot contain a {kind}",
                (
                    f"move the {kind} before the loop, or out of the foreach"
                    if looping
                    else f"move the {kind} after the step where the switch's cases meet"
                )
                + f"; {HINT}",
            )
    if len(entries) != 1 or len(exits) != 1:
        first = ir.step(entries[0] if entries else steps[0])
        return region, _refusal(
            ir,
            first,
            f"airflow runs a {what} inside a foreach {scope} as one task per index, which needs one "
            f"way in and one way out; here: in at {', '.join(entries) or 'nothing'}, out to "
            f"{', '.join(sorted(exits)) or 'nothing'}",
            f"let the cases meet in one plain step; {HINT}",
        )
    return region, None


def _refusal(ir: FlowIR, step: Step, message: str, hint: str) -> Diagnostic:
    return refuse_step(ir, step, REGION_LIMIT, message, hint)


def loop_regions(ir: FlowIR) -> list[tuple[str, ...]]:
    """The flow's loops as the IR gives them (``Step.loop_body``), loops sharing a step merged
    into one (a loop inside another runs in the outer one's task), each in source order."""
    order = {name: i for i, name in enumerate(ir.step_names)}
    merged = _merged([set(step.loop_body) for step in ir.steps if step.loop_body])
    return sorted((tuple(sorted(m, key=order.__getitem__)) for m in merged), key=lambda r: order[r[0]])


def enclosing_foreach(ir: FlowIR) -> dict[str, str | None]:
    """Step -> the innermost foreach step whose fan-out its tasks belong to (None outside any)."""
    return {step.name: (step.foreach_stack[-1] if step.foreach_stack else None) for step in ir.steps}
