"""``current.graph``: the flow's graph in the shape Metaflow's ``FlowSpec._graph_info`` has.

Keys as Metaflow writes them (``FlowGraph.output_steps`` and ``FlowSpec._set_constants``): ``file``,
``doc``, ``parameters`` and ``constants`` (``{"name", "type"}``), ``decorators`` (the flow's),
``steps`` (by name: ``name``, ``type``, ``line``, ``doc``, ``decorators``, ``next`` and, by type,
``foreach_artifact``, ``condition``/``switch_cases``, ``matching_join``) and ``graph_structure``
(step names in order, a split's branches as a nested list of lists).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowc.ir import FlowIR, Step
    from flowc.task_runner.loading import LoadedFlow

__all__ = ["graph_info"]

#: IR transitions as Metaflow's API names a step's type (``node_to_type``).
_SPLIT_TYPES = {"split": "split-static", "foreach": "split-foreach", "switch": "split-switch"}


def graph_info(flow: LoadedFlow) -> dict[str, Any]:
    """The graph of ``flow`` as ``current.graph`` shows it."""
    ir = flow.ir
    attributes = flow.parameter_attributes()
    return {
        "file": ir.source_file,
        "doc": ir.docstring,
        "parameters": [
            {"name": attributes[p.name], "type": "IncludeFile" if p.is_file else "Parameter"}
            for p in ir.parameters
        ],
        "constants": [
            {"name": name, "type": type(value).__name__} for name, value in flow.constants().items()
        ],
        "decorators": [_decorator(name, attributes) for name, attributes in _flow_decorators(ir)],
        "steps": {step.name: _step(step) for step in ir.steps},
        "graph_structure": [*_structure(ir, "start", "end"), "end"],
    }


def _decorator(name: str, attributes: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "attributes": attributes, "statically_defined": True}


def _flow_decorators(ir: FlowIR) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if ir.schedule is not None:
        found.append(("schedule", {"cron": ir.schedule.cron, "timezone": ir.schedule.timezone}))
    if ir.project is not None:
        found.append(("project", {"name": ir.project.name}))
    found.extend((d.name, dict(d.attributes)) for d in ir.flow_decorators)
    return found


def _step_decorators(step: Step) -> list[tuple[str, dict[str, Any]]]:
    found: list[tuple[str, dict[str, Any]]] = []
    if step.retry is not None:
        found.append(
            (
                "retry",
                {"times": step.retry.times, "minutes_between_retries": step.retry.minutes_between_retries},
            )
        )
    if step.timeout is not None:
        found.append(("timeout", {"seconds": step.timeout.seconds}))
    if step.catch is not None:
        found.append(("catch", {"var": step.catch.var, "print_exception": step.catch.print_exception}))
    resources = {k: v for k, v in vars(step.resources).items() if v is not None}
    if resources:
        found.append(("resources", resources))
    if step.environment:
        found.append(("environment", {"vars": dict(step.environment)}))
    if step.secrets:
        found.append(("secrets", {"sources": list(step.secrets)}))
    found.extend((d.name, dict(d.attributes)) for d in step.decorators)
    return found


def _step(step: Step) -> dict[str, Any]:
    info: dict[str, Any] = {
        "name": step.name,
        "type": _SPLIT_TYPES.get(step.transition, step.kind),
        "line": step.location.line if step.location is not None else None,
        "doc": step.docstring,
        "decorators": [_decorator(name, attributes) for name, attributes in _step_decorators(step)],
        "next": list(step.successors),
    }
    if step.transition == "foreach":
        info["foreach_artifact"] = step.foreach_var
    elif step.transition == "switch":
        info["condition"] = step.condition
        info["switch_cases"] = {case.key: case.target for case in step.switch_cases}
    if step.matching_join:
        info["matching_join"] = step.matching_join
    return info


def _structure(ir: FlowIR, start: str, stop: str, seen: frozenset[str] = frozenset()) -> list[Any]:
    """Metaflow's ``populate_block``: step names from ``start`` up to ``stop``, a split's branches
    nested as a list of lists; a switch's cases each run to ``stop`` (a loop's way back is cut)."""
    names: list[Any] = []
    current: str | None = start
    while current is not None and current != stop and current not in seen:
        seen = seen | {current}
        step = ir.step(current)
        names.append(current)
        if step.transition in ("split", "foreach") and step.matching_join:
            names.append([_structure(ir, s, step.matching_join, seen) for s in step.successors])
            current = step.matching_join
        elif step.transition == "switch":
            names.append([_structure(ir, s, stop, seen) for s in step.successors if s not in seen])
            current = None
        else:
            current = step.successors[0] if step.successors else None
    return names
