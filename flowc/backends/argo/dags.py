"""DAG templates: one per region (see :mod:`flowc.backends.argo.regions`).

Semantics relied on (https://argo-workflows.readthedocs.io/en/latest/enhanced-depends-logic/): a
task waits until every task named in ``depends`` has finished, then runs if the expression holds
and is *Omitted* otherwise; ``when`` is evaluated after that and a false ``when`` makes it *Skipped*
(https://argo-workflows.readthedocs.io/en/latest/walk-through/conditionals/). So:

- a task runs only after its predecessors *succeeded* (``A.Succeeded``; a bare ``A`` would also
  accept a skipped A, and a step after a switch case that did not run must not run);
- a join of a static split needs all branches (``&&``), a branch that ends in a switch whose cases
  lead straight into the join any one of them (``||``); a step where switch cases converge needs
  any one (``||``);
- a switch case target's ``when`` reads the switch's control record, which exists because
  ``depends`` already required the switch to succeed; where edges converge, each term first checks
  that its source succeeded, and ``&&``/``||``/``? :`` evaluate lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowc.backends.argo.expressions import (
    CONTROL,
    case_chosen,
    expression_tag,
    int_field_of,
    status_succeeded,
)
from flowc.backends.argo.regions import MAIN, Edge, Region, Regions
from flowc.control import Field

__all__ = ["DagLowering"]


@dataclass
class DagLowering:
    """Compiler state for lowering a flow's regions into DAG templates.

    ``names`` maps a step name or region key to its DNS-safe template/task name. After
    :meth:`templates`, ``exports_control`` holds the steps whose control record some DAG reads.
    """

    regions: Regions
    names: dict[str, str]
    exports_control: set[str] = field(default_factory=set)

    # ---- references ---------------------------------------------------------------------
    def _control_source(self, representative: str) -> str:
        """Task name whose ``control`` output holds ``representative``'s control record."""
        if representative in self.regions.by_key:
            region = self.regions.region(representative)
            if region.kind != "loop":
                raise AssertionError(f"no control record for {representative}")
        else:
            self.exports_control.add(representative)
        return self.names[representative]

    def _step_of(self, representative: str) -> str:
        """The step a DAG task stands for when edges enter it (a region stands for its entry)."""
        region = self.regions.by_key.get(representative)
        return region.entry if region is not None else representative

    # ---- per task -----------------------------------------------------------------------
    def _incoming(self, key: str) -> dict[str, list[tuple[str, Edge]]]:
        incoming: dict[str, list[tuple[str, Edge]]] = {}
        for source, target, edge in self.regions.edges_in(key):
            source_region = self.regions.by_key.get(source)
            if source_region is not None and source_region.kind == "foreach":
                edge = Edge(edge.source, edge.target)  # the join of a foreach waits for every split
            elif source_region is not None and self.regions.only_exit(source_region) == edge.target:
                edge = Edge(edge.source, edge.target)  # a loop that always ends here: no choice left
            entries = incoming.setdefault(target, [])
            if all(existing != source for existing, _ in entries):
                entries.append((source, edge))
        return incoming

    def _static_join(self, step_name: str) -> bool:
        step = self.regions.ir.step(step_name)
        return bool(step.split_of) and self.regions.ir.step(step.split_of).transition == "split"

    def _by_branch(self, step_name: str, incoming: list[tuple[str, Edge]]) -> list[list[tuple[str, Edge]]]:
        """A static join's incoming edges grouped by the branch they close, in branch order: a
        branch ending in a switch whose cases lead straight into the join arrives through one of
        several steps (``Step.branch_ends``)."""
        ends = self.regions.ir.step(step_name).branch_ends
        branch_of = {end: index for index, names in enumerate(ends) for end in names}
        groups: list[list[tuple[str, Edge]]] = [[] for _ in ends]
        for source, edge in incoming:
            groups[branch_of[edge.source]].append((source, edge))
        return [sorted(group, key=lambda item: self.names[item[0]]) for group in groups if group]

    def _depends(self, step_name: str, incoming: list[tuple[str, Edge]]) -> str | None:
        if not incoming:
            return None
        if self._static_join(step_name):
            # Every branch, each through any one of its ends (of switch cases, only the one that ran
            # succeeds; the others are omitted, which counts as finished for `depends`).
            return " && ".join(
                sorted(
                    _any([f"{self.names[source]}.Succeeded" for source, _ in group])
                    for group in self._by_branch(step_name, incoming)
                )
            )
        terms = sorted(f"{self.names[source]}.Succeeded" for source, _ in incoming)
        return " || ".join(terms)

    def _chosen(self, incoming: list[tuple[str, Edge]]) -> str:
        """One of ``incoming`` succeeded and, when it is a switch case, its switch chose this task."""
        if len(incoming) == 1 and incoming[0][1].keys:
            source, edge = incoming[0]
            return case_chosen(self._control_source(source), edge.keys)
        terms = []
        for source, edge in sorted(incoming, key=lambda item: self.names[item[0]]):
            task = self.names[source]
            if edge.keys:
                terms.append(
                    f"({status_succeeded(task)} && {case_chosen(self._control_source(source), edge.keys)})"
                )
            else:
                terms.append(f"{status_succeeded(task)}")
        return " || ".join(terms)

    def _when(self, step_name: str, incoming: list[tuple[str, Edge]]) -> str | None:
        if not any(edge.keys for _, edge in incoming):
            return None
        if self._static_join(step_name):
            # Each branch where a switch case leads straight into the join: its switch chose the
            # join, or another of the branch's ends ran.
            terms = [
                self._chosen(group)
                for group in self._by_branch(step_name, incoming)
                if any(edge.keys for _, edge in group)
            ]
            if len(terms) > 1:
                terms = [f"({term})" if " || " in term else term for term in terms]
            return expression_tag(" && ".join(terms))
        return expression_tag(self._chosen(incoming))

    def _next_iteration(self, source: str, source_step: str) -> str:
        if source_step not in self.regions.dynamic_iteration:
            return "0"
        return int_field_of(self._control_source(source), Field.NEXT_ITERATION)

    def _iteration(self, region: Region, step_name: str, incoming: list[tuple[str, Edge]]) -> str | None:
        """The value of the ``iteration`` argument, or None when the step always runs at 0."""
        if step_name not in self.regions.dynamic_iteration:
            return None
        if region.kind == "loop" or step_name == region.entry:
            return "{{inputs.parameters.iteration}}"
        step = self.regions.ir.step(step_name)
        if step.is_join and step.split_of:
            # A join runs at its split's iteration (docs/architecture.md, "Task identity").
            source = self.regions.representative(step.split_of, region.key)
            value = self._next_iteration(source, step.split_of)
            return value if value == "0" else expression_tag(value)
        options = sorted(incoming, key=lambda item: self.names[item[0]])
        values = [self._next_iteration(source, edge.source) for source, edge in options]
        if all(v == "0" for v in values):
            return "0"
        if len(values) == 1:
            return expression_tag(values[0])  # its one source: `depends` requires it succeeded
        # Where steps converge, every read is behind its source's status, the last one too: Argo
        # resolves a task's arguments before its `when` (dag.go, resolveDependencyReferences), and
        # since 3.7.11 a reference to outputs of a task that did not run is an error there, even
        # in a task that `when` then skips.
        expression = "0"
        for (source, _), value in zip(reversed(options), reversed(values), strict=True):
            if value != "0" or expression != "0":
                expression = f"{status_succeeded(self.names[source])} ? {value} : {expression}"
        return expression_tag(expression)

    def _arguments(self, region: Region, values: dict[str, str | None]) -> dict[str, Any] | None:
        parameters = [{"name": name, "value": value} for name, value in values.items() if value is not None]
        return {"parameters": parameters} if parameters else None

    def _indexed(self, region: Region) -> bool:
        """Tasks of this region run inside a foreach."""
        key: str | None = region.key
        while key is not None:
            if self.regions.region(key).kind == "foreach":
                return True
            key = self.regions.region(key).parent
        return False

    def _task(self, region: Region, representative: str, incoming: list[tuple[str, Edge]]) -> dict[str, Any]:
        task: dict[str, Any] = {"name": self.names[representative], "template": self.names[representative]}
        depends = self._depends(self._step_of(representative), incoming)
        if depends:
            task["depends"] = depends
        when = self._when(self._step_of(representative), incoming)
        if when:
            task["when"] = when
        child = self.regions.by_key.get(representative)
        indexed = self._indexed(region)
        if child is None:
            values = {
                "index": "{{inputs.parameters.index}}" if indexed else None,
                "iteration": self._iteration(region, representative, incoming),
            }
        elif child.kind == "foreach":
            owner = child.owner
            assert owner is not None
            task["withSequence"] = {
                "count": expression_tag(int_field_of(self._control_source(owner), Field.NUM_SPLITS))
            }
            entry_iteration = None
            if child.entry in self.regions.dynamic_iteration:
                entry_iteration = self._next_iteration(owner, owner)
                entry_iteration = (
                    entry_iteration if entry_iteration == "0" else expression_tag(entry_iteration)
                )
            values = {
                "index": "{{inputs.parameters.index}},{{item}}" if indexed else "{{item}}",
                "iteration": entry_iteration,
            }
        else:  # a loop: entered at the iteration its head would run at
            assert child.entry is not None
            values = {
                "index": "{{inputs.parameters.index}}" if indexed else None,
                "iteration": self._iteration(region, child.entry, incoming) or "0",
            }
        arguments = self._arguments(region, values)
        if arguments:
            task["arguments"] = arguments
        return task

    def _recursion_task(self, loop: Region) -> dict[str, Any]:
        """The loop's call to itself when its switch chooses the back edge."""
        switch = self.regions.ir.step(loop.switch or "")
        keys = tuple(case.key for case in switch.switch_cases if case.target == loop.owner)
        control = self._control_source(switch.name)
        values = {
            "index": "{{inputs.parameters.index}}" if self._indexed(loop) else None,
            "iteration": expression_tag(int_field_of(control, Field.NEXT_ITERATION)),
        }
        return {
            "name": self.names[loop.key],
            "template": self.names[loop.key],
            "depends": f"{self.names[switch.name]}.Succeeded",
            "when": expression_tag(case_chosen(control, keys)),
            "arguments": self._arguments(loop, values),
        }

    # ---- per region ---------------------------------------------------------------------
    def template(self, region: Region) -> dict[str, Any]:
        incoming = self._incoming(region.key)
        representatives = [s.name for s in self.regions.members(region.key)]
        representatives += [child.key for child in self.regions.children(region.key)]
        tasks = [self._task(region, r, incoming.get(r, [])) for r in representatives]
        template: dict[str, Any] = {"name": self.names[region.key]}
        inputs = []
        if region.kind != MAIN and self._indexed(region):
            inputs.append({"name": "index"})
        if region.kind == "loop" or (
            region.entry is not None and region.entry in self.regions.dynamic_iteration
        ):
            inputs.append({"name": "iteration"})
        if inputs:
            template["inputs"] = {"parameters": inputs}
        if region.kind == "loop":
            tasks.append(self._recursion_task(region))
            again = self.names[region.key]
            own = self._control_source(region.switch or "")
            # The last pass's control record: the recursive call's if it ran, else the switch's own.
            # A DAG output chosen by a ternary that evaluates only the branch taken, as in Argo's
            # examples/dag-conditional-parameters.yaml (`valueFrom.expression`, Argo >= 3.1).
            expression = (
                f"{status_succeeded(again)} ? tasks[{_q(again)}].outputs.parameters.{CONTROL}"
                f" : tasks[{_q(own)}].outputs.parameters.{CONTROL}"
            )
            template["outputs"] = {"parameters": [{"name": CONTROL, "valueFrom": {"expression": expression}}]}
        template["dag"] = {"tasks": sorted(tasks, key=lambda t: t["name"])}
        return template

    def templates(self) -> list[dict[str, Any]]:
        return [self.template(region) for region in self.regions.by_key.values()]


def _any(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " || ".join(terms) + ")"


def _q(name: str) -> str:
    return "'" + name + "'"
