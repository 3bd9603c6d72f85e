"""Human views of a :class:`~flowc.ir.FlowIR`: a text outline and a Mermaid flowchart."""

from __future__ import annotations

import json

from flowc.ir import FlowIR, Step

__all__ = ["mermaid", "outline"]


def _transition(step: Step) -> str:
    if step.transition == "foreach":
        return f"foreach {step.foreach_var} -> {step.successors[0]}"
    if step.transition == "split":
        return "split -> " + ", ".join(step.successors)
    if step.transition == "switch":
        cases = ", ".join(
            f"{c.key}: {c.target}{' (loop)' if c.target in step.loop_targets else ''}"
            for c in step.switch_cases
        )
        return f"switch on {step.condition} -> {{{cases}}}"
    if step.transition == "end":
        return "(end)"
    return "-> " + step.successors[0]


def _notes(step: Step) -> list[str]:
    notes = []
    if step.split_of:
        notes.append(f"joins {step.split_of}")
    if step.foreach_depth:
        notes.append(f"foreach depth {step.foreach_depth}")
    if step.retry:
        notes.append(f"retry {step.retry.times}x")
    if step.timeout:
        notes.append(f"timeout {step.timeout.seconds}s")
    if step.catch:
        notes.append(f"catch{' -> ' + step.catch.var if step.catch.var else ''}")
    resources = [f"{k}={v}" for k, v in step.resources.__dict__.items() if v is not None]
    if resources:
        notes.append("resources " + " ".join(resources))
    return notes


def _where(ir: FlowIR, step: Step) -> str:
    if step.location is None:
        return "line ?"
    if step.location.file != ir.source_file:
        return str(step.location)  # inherited from a base flow in another file
    return f"line {step.location.line}"


def outline(ir: FlowIR) -> str:
    """A readable outline: parameters, then each step with its transition and settings."""
    lines = [f"{ir.name} ({ir.source_file})"]
    if ir.docstring:
        lines.append(f"  {ir.docstring.splitlines()[0]}")
    if ir.schedule:
        zone = f" {ir.schedule.timezone}" if ir.schedule.timezone else ""
        lines.append(f"schedule: {ir.schedule.cron}{zone}")
    if ir.project:
        lines.append(f"project: {ir.project.name}")
    if ir.parameters:
        lines.append("parameters:")
        for p in ir.parameters:
            default = f" = {json.dumps(p.default)}" if p.has_default else ""
            if p.required:
                default = " (required)"
            elif p.deferred_default:
                default = " = (computed at run start)"
            help_text = f"  # {p.help}" if p.help else ""
            lines.append(f"  {p.name}: {p.type}{default}{help_text}")
    lines.append("steps:")
    width = max(len(s.name) for s in ir.steps)
    for step in ir.steps:
        notes = _notes(step)
        suffix = f"  [{'; '.join(notes)}]" if notes else ""
        lines.append(f"  {step.name.ljust(width)}  {_transition(step)}{suffix}  ({_where(ir, step)})")
    return "\n".join(lines) + "\n"


def _label(text: str) -> str:
    # Inside a quoted Mermaid label a double quote ends the label and a newline ends the statement.
    return " ".join(text.replace('"', "'").split())


def _node(name: str) -> str:
    # "end" is a Mermaid keyword: node ids get a prefix, the label shows the step's name.
    return f"step_{name}"


def mermaid(ir: FlowIR) -> str:
    """A Mermaid ``flowchart TD``: joins drawn as rounded boxes, foreach edges labelled, loops dashed."""
    lines = ["flowchart TD"]
    for step in ir.steps:
        node = _node(step.name)
        lines.append(f'  {node}(["{step.name}"])' if step.is_join else f'  {node}["{step.name}"]')
    for step in ir.steps:
        node = _node(step.name)
        if step.transition == "switch":
            for case in step.switch_cases:
                arrow = "-.->" if case.target in step.loop_targets else "-->"
                label = _label(f"{step.condition} = {case.key}")
                lines.append(f'  {node} {arrow}|"{label}"| {_node(case.target)}')
        elif step.transition == "foreach":
            lines.append(f'  {node} -->|"foreach {step.foreach_var}"| {_node(step.successors[0])}')
        else:
            lines.extend(f"  {node} --> {_node(target)}" for target in step.successors)
    return "\n".join(lines) + "\n"
