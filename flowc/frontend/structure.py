"""The structure facts the IR carries per step, worked out once from the graph's facts.

Back ends read these from the IR (``Step.foreach_stack``, ``loop_head``, ``loop_body``,
``join_kind``, ``converges_at``, ``branch_ends``) instead of walking the graph again: which foreach fan-outs
enclose a step, which loop it belongs to, what a join closes and through which steps each branch reaches it,
where a switch's cases meet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flowc.frontend.graph import GraphFacts

__all__ = ["StepStructure", "step_structure"]


@dataclass(frozen=True)
class StepStructure:
    """One step's structure (see :class:`flowc.ir.Step`)."""

    foreach_stack: tuple[str, ...] = ()
    loop_head: str | None = None
    loop_body: tuple[str, ...] = ()
    join_kind: str | None = None
    converges_at: str | None = None
    branch_ends: tuple[tuple[str, ...], ...] = ()


def step_structure(
    facts: GraphFacts, names: Sequence[str], transitions: Mapping[str, str]
) -> dict[str, StepStructure]:
    """Every step's structure. ``names`` are the steps in source order, ``transitions`` their
    out-transitions (``linear``, ``split``, ``foreach``, ``switch``, ``end``)."""
    order = {name: i for i, name in enumerate(names)}
    bodies: dict[str, set[str]] = {}
    for (_, head), body in facts.loop_bodies.items():
        bodies.setdefault(head, set()).update(body)
    switches = [name for name in names if transitions.get(name) == "switch"]
    post = _post_dominators(names, facts.successors) if switches else {}
    result = {}
    for name in names:
        containing = [head for head, body in bodies.items() if name in body]
        split = facts.split_of.get(name)
        result[name] = StepStructure(
            foreach_stack=tuple(e.step for e in facts.stacks.get(name, ()) if e.kind == "foreach"),
            # The innermost loop: the smallest body holding the step.
            loop_head=min(containing, key=lambda head: (len(bodies[head]), order[head]), default=None),
            loop_body=tuple(sorted(bodies.get(name, ()), key=order.__getitem__)),
            join_kind=None
            if split is None
            else ("foreach" if transitions.get(split) == "foreach" else "static"),
            converges_at=_nearest_post_dominator(name, post) if name in switches else None,
            branch_ends=facts.branch_arrivals.get(name, ()),
        )
    return result


def _post_dominators(
    names: Sequence[str], successors: Mapping[str, Sequence[str]]
) -> dict[str, frozenset[str]]:
    """Step -> the steps every path from it to the end passes through (itself included)."""
    everything = frozenset(names)
    post = {name: (frozenset({name}) if not successors.get(name) else everything) for name in names}
    changed = True
    while changed:
        changed = False
        for name in reversed(names):
            targets = [t for t in successors.get(name, ()) if t in post]
            if not targets:
                continue
            updated = frozenset.intersection(*(post[t] for t in targets)) | {name}
            if updated != post[name]:
                post[name] = updated
                changed = True
    return post


def _nearest_post_dominator(name: str, post: Mapping[str, frozenset[str]]) -> str | None:
    """The nearest step (other than ``name``) that every path from ``name`` passes through."""
    strict = post[name] - {name}
    # The nearest one is post-dominated by all the others: it has the largest set.
    return max(strict, key=lambda candidate: (len(post[candidate]), candidate), default=None)
