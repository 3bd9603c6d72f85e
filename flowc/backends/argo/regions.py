"""How a flow's graph is cut into Argo DAG templates.

Argo fans out a *task* (``withSequence``), not a sub-graph, and has no back edges, so:

- the steps of a foreach body (between the foreach step and its join) become one DAG template,
  called once per split by a single fan-out task in the enclosing DAG;
- the steps of a loop body (from the loop head to the switch that jumps back) become one DAG
  template that calls itself when the switch chooses the back edge (recursion is how Argo loops:
  https://argo-workflows.readthedocs.io/en/latest/walk-through/recursion/);
- everything else is a task of the entry DAG.

A region's *call task* stands in, in the enclosing DAG, for all of the region's steps: an edge from
outside into the region enters through it, an edge out of the region leaves from it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flowc.ir import FlowIR, Step

__all__ = ["MAIN", "MAIN_KEY", "Edge", "Region", "Regions", "analyse_regions"]

#: The kind of the entry DAG's region, and its key. Keys share one namespace with step names (a
#: step stands for itself in its region's DAG), so the key holds a character no step name has.
MAIN = "main"
MAIN_KEY = ":main"
_RANK = {"loop": 0, "foreach": 1, MAIN: 2}


@dataclass(frozen=True)
class Edge:
    """One edge of the flow graph: ``keys`` are the switch case keys choosing it (empty otherwise)."""

    source: str
    target: str
    keys: tuple[str, ...] = ()
    back: bool = False  # a loop's back edge


@dataclass(frozen=True)
class Region:
    """A set of steps lowered into one DAG template.

    ``kind`` is ``main``, ``foreach`` (``owner`` is the foreach step, ``entry`` its body's first step)
    or ``loop`` (``owner`` is the loop head, ``switch`` the step that jumps back to it).
    """

    kind: str
    owner: str | None
    entry: str | None
    switch: str | None
    steps: frozenset[str]
    parent: str | None = None

    @property
    def key(self) -> str:
        return MAIN_KEY if self.kind == MAIN else f"{self.owner}:{self.kind}"


@dataclass(frozen=True)
class Regions:
    """The regions of a flow, and which region each step belongs to directly."""

    ir: FlowIR
    edges: tuple[Edge, ...]
    by_key: dict[str, Region]
    home: dict[str, str]  # step -> key of the innermost region containing it
    dynamic_iteration: frozenset[str]  # steps whose iteration may be > 0

    def region(self, key: str) -> Region:
        return self.by_key[key]

    def members(self, key: str) -> list[Step]:
        """Steps lowered as tasks of this region's own DAG, in the flow's order."""
        return [s for s in self.ir.steps if self.home[s.name] == key]

    def children(self, key: str) -> list[Region]:
        return sorted((r for r in self.by_key.values() if r.parent == key), key=lambda r: r.key)

    def representative(self, step: str, key: str) -> str | None:
        """The region (own step or child region key) standing for ``step`` inside region ``key``."""
        current = self.home[step]
        if current == key:
            return step
        while current is not None:
            region = self.by_key[current]
            if region.parent == key:
                return region.key
            current = region.parent
        return None

    def only_exit(self, region: Region) -> str | None:
        """The step a loop region always leaves to (every exit case of its switch goes there)."""
        if region.kind != "loop" or region.switch is None:
            return None
        return _only_exit(self.ir.step(region.switch))

    def edges_in(self, key: str) -> Iterator[tuple[str, str, Edge]]:
        """Edges of region ``key``'s DAG as (source representative, target representative, edge)."""
        for edge in self.edges:
            if edge.back and key == f"{edge.target}:loop":
                continue  # the recursive call, lowered by the loop region itself
            source = self.representative(edge.source, key)
            target = self.representative(edge.target, key)
            if source is None or target is None or source == target:
                continue
            yield source, target, edge


def _edges(ir: FlowIR) -> list[Edge]:
    edges = []
    for step in ir.steps:
        if step.transition == "switch":
            targets: dict[str, list[str]] = {}
            for case in step.switch_cases:
                targets.setdefault(case.target, []).append(case.key)
            for target, keys in targets.items():
                edges.append(Edge(step.name, target, tuple(keys), back=target in step.loop_targets))
        else:
            edges.extend(Edge(step.name, target) for target in step.successors)
    return edges


def analyse_regions(ir: FlowIR) -> Regions:
    """Cuts ``ir`` into regions. Shapes Argo cannot express this way raise ``ValueError(step, reason)``."""
    edges = _edges(ir)

    regions: list[Region] = [Region(MAIN, None, None, None, frozenset(ir.step_names))]
    for step in ir.steps:
        if step.transition == "foreach":
            # The IR says which steps each foreach encloses (Step.foreach_stack).
            body = {other.name for other in ir.steps if step.name in other.foreach_stack}
            regions.append(Region("foreach", step.name, step.successors[0], None, frozenset(body)))
        for head in step.loop_targets:
            # The IR holds each loop's steps (Step.loop_body on its head).
            regions.append(Region("loop", head, head, step.name, frozenset(ir.step(head).loop_body)))

    _check_loops(edges, [r for r in regions if r.kind == "loop"])

    # Parent: the smallest region containing this one (regions nest or are disjoint); a foreach
    # body that is exactly one loop contains that loop.
    def size(region: Region) -> tuple[int, int]:
        return len(region.steps), _RANK[region.kind]

    def contains(outer: Region, inner: Region) -> bool:
        return inner.steps < outer.steps or (inner.steps == outer.steps and size(outer) > size(inner))

    by_key: dict[str, Region] = {}
    for region in regions:
        containing = [r for r in regions if contains(r, region)]
        parent = min(containing, key=size).key if containing else None
        by_key[region.key] = Region(
            region.kind, region.owner, region.entry, region.switch, region.steps, parent
        )
    home = {
        name: min((r for r in by_key.values() if name in r.steps), key=size).key for name in ir.step_names
    }
    return Regions(ir, tuple(edges), by_key, home, _dynamic_iteration(ir, edges, regions))


def _only_exit(switch: Step) -> str | None:
    exits = {case.target for case in switch.switch_cases if case.target not in switch.loop_targets}
    return exits.pop() if len(exits) == 1 else None


def _check_loops(edges: list[Edge], loops: list[Region]) -> None:
    for loop in loops:
        for edge in edges:
            inside_source = edge.source in loop.steps
            inside_target = edge.target in loop.steps
            if inside_source and not inside_target and edge.source != loop.switch:
                raise ValueError(
                    edge.source,
                    f"the loop from '{loop.switch}' back to '{loop.owner}' can only be left through "
                    f"'{loop.switch}', but '{edge.source}' goes on to '{edge.target}'",
                )
            if inside_target and not inside_source and edge.target != loop.owner:
                raise ValueError(
                    edge.target,
                    f"'{edge.source}' enters the loop of '{loop.owner}' in the middle, at '{edge.target}'",
                )
        for other in loops:
            if other is not loop and other.steps < loop.steps:
                raise ValueError(
                    other.owner, f"a loop inside the loop of '{loop.owner}' (nested loops) is not supported"
                )


def _dynamic_iteration(ir: FlowIR, edges: list[Edge], regions: list[Region]) -> frozenset[str]:
    """Steps whose tasks can run at an iteration above 0: loop bodies and what follows them."""
    dynamic = set().union(*(r.steps for r in regions if r.kind == "loop"))
    predecessors: dict[str, list[str]] = {}
    for edge in edges:
        if not edge.back:
            predecessors.setdefault(edge.target, []).append(edge.source)
    changed = True
    while changed:
        changed = False
        for step in ir.steps:
            if step.name in dynamic:
                continue
            if step.is_join and step.split_of:
                now = step.split_of in dynamic
            else:
                now = any(p in dynamic for p in predecessors.get(step.name, ()))
            if now:
                dynamic.add(step.name)
                changed = True
    return frozenset(dynamic)
