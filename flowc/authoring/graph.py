"""``flow._graph``: Metaflow's view of a flow's graph (node ``type``, ``in_funcs``, ``out_funcs``),
read from the IR the front end builds of the flow's file.

Metaflow scripts and its test suite walk it (``graph["start"].out_funcs``); it is built on first
access, since building the IR parses the file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flowc.ir import FlowIR

__all__ = ["FlowGraph", "GraphNode"]


@dataclass(frozen=True)
class GraphNode:
    """One step as Metaflow's ``DAGNode`` describes it."""

    name: str
    type: str  # start, linear, split, foreach, switch, join, end (Metaflow's node types)
    in_funcs: frozenset[str]
    out_funcs: tuple[str, ...]
    foreach_param: str | None = None
    parallel_step: bool = False  # flowc has no @parallel


class FlowGraph:
    """The flow's steps by name, iterated in the IR's order (start first)."""

    def __init__(self, ir: FlowIR) -> None:
        self.name = ir.name
        self._nodes = {
            step.name: GraphNode(
                name=step.name,
                type=step.kind,
                in_funcs=frozenset(step.predecessors),
                out_funcs=tuple(step.successors),
                foreach_param=step.foreach_var,
            )
            for step in ir.steps
        }

    def __getitem__(self, name: str) -> GraphNode:
        return self._nodes[name]

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def __iter__(self) -> Iterator[GraphNode]:
        return iter(self._nodes.values())

    def __len__(self) -> int:
        return len(self._nodes)
