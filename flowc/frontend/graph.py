"""The flow's graph: back edges, split/join matching, foreach depth, loops. Facts, not verdicts.

Every step gets a *branch stack*: one entry per enclosing split, foreach or switch, outermost first
(``(step, branch index, kind)``). A split pushes one entry per branch, a join pops the entry of the
split it closes, and the cases of a switch pop when they meet again. Walking the steps in topological
order (loop back edges left out) computes every stack in one pass, so a 1,000-step flow costs
milliseconds; Metaflow's own traversal visits each path separately. What does not fit (a join of
unrelated splits, branches meeting without a join, ...) is recorded as a :class:`Finding`; the
checks in :mod:`flowc.frontend.checks` turn findings into diagnostics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["Entry", "Finding", "GraphFacts", "GraphInput", "analyse_graph"]


@dataclass(frozen=True)
class GraphInput:
    """What the graph analysis needs to know about one step."""

    name: str
    transition: str | None  # linear, split, foreach, switch or None (end / malformed)
    targets: tuple[str, ...]  # successors in transition order (duplicates removed)
    takes_inputs: bool  # a join signature: def step(self, inputs)
    looks_like_join: bool = False  # uses a name `inputs` or is called *join*: a join that lost `inputs`


@dataclass(frozen=True)
class Entry:
    """One level of a branch stack."""

    step: str
    branch: int
    kind: str  # "split", "foreach" or "switch"


@dataclass(frozen=True)
class Finding:
    """A structural problem: ``code`` and the step it concerns, with the steps involved."""

    code: str
    step: str
    related: tuple[str, ...] = ()
    # other steps that might be the one meant (a foreach's join when several could be)
    alternatives: tuple[str, ...] = ()


@dataclass
class GraphFacts:
    """Everything the IR and the checks need to know about the graph."""

    successors: dict[str, tuple[str, ...]]
    predecessors: dict[str, tuple[str, ...]]
    reachable: set[str] = field(default_factory=set)
    order: list[str] = field(default_factory=list)  # topological, forward edges only
    back_edges: set[tuple[str, str]] = field(default_factory=set)
    stacks: dict[str, tuple[Entry, ...]] = field(default_factory=dict)
    matching_join: dict[str, str] = field(default_factory=dict)
    split_of: dict[str, str] = field(default_factory=dict)
    # join of a static split -> for each branch of the split, the steps through which it arrives
    branch_arrivals: dict[str, tuple[tuple[str, ...], ...]] = field(default_factory=dict)
    loop_bodies: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def foreach_depth(self, name: str) -> int:
        return sum(1 for e in self.stacks.get(name, ()) if e.kind == "foreach")

    def forward_predecessors(self, name: str) -> list[str]:
        return [
            p for p in self.predecessors.get(name, ())
            if p in self.reachable and (p, name) not in self.back_edges
        ]


def _depth_first(
    start: str, successors: Mapping[str, Sequence[str]]
) -> tuple[list[str], set[tuple[str, str]]]:
    """Reverse postorder from ``start`` and the back edges (iterative: flows can be deep)."""
    postorder: list[str] = []
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {start: 1}  # 1 on the stack, 2 done
    stack: list[tuple[str, int]] = [(start, 0)]
    while stack:
        node, position = stack[-1]
        children = successors.get(node, ())
        if position < len(children):
            stack[-1] = (node, position + 1)
            child = children[position]
            seen = state.get(child)
            if seen is None:
                state[child] = 1
                stack.append((child, 0))
            elif seen == 1:
                back.add((node, child))
        else:
            state[node] = 2
            postorder.append(node)
            stack.pop()
    postorder.reverse()
    return postorder, back


def _edge_entry(step: GraphInput, target: str, forward_targets: Sequence[str]) -> Entry | None:
    """The stack entry that the edge ``step -> target`` pushes."""
    if step.transition == "split":
        return Entry(step.name, step.targets.index(target), "split")
    if step.transition == "foreach":
        return Entry(step.name, 0, "foreach")
    if step.transition == "switch" and len(forward_targets) > 1:
        return Entry(step.name, forward_targets.index(target), "switch")
    return None


def _common_prefix(stacks: Sequence[tuple[Entry, ...]]) -> tuple[Entry, ...]:
    prefix: list[Entry] = []
    for level in zip(*stacks, strict=False):
        if any(e != level[0] for e in level):
            break
        prefix.append(level[0])
    return tuple(prefix)


def _strip_switches(stack: tuple[Entry, ...]) -> tuple[Entry, ...]:
    end = len(stack)
    while end and stack[end - 1].kind == "switch":
        end -= 1
    return stack[:end]


class _Walker:
    """Computes the branch stacks in topological order, recording findings."""

    def __init__(self, steps: Mapping[str, GraphInput], facts: GraphFacts) -> None:
        self.steps = steps
        self.facts = facts
        self.blamed: set[str] = set()

    def incoming(self, name: str) -> list[tuple[str, tuple[Entry, ...]]]:
        out = []
        for pred in self.facts.forward_predecessors(name):
            if pred not in self.facts.stacks:
                continue
            step = self.steps[pred]
            forward = [t for t in step.targets if (pred, t) not in self.facts.back_edges and t in self.steps]
            entry = _edge_entry(step, name, forward)
            stack = self.facts.stacks[pred] + ((entry,) if entry else ())
            out.append((pred, stack))
        return out

    def unclosed(self, name: str, pred: str | None, extra: Sequence[Entry]) -> None:
        """Splits opened on the way from ``pred`` to ``name`` that no join closed."""
        for entry in reversed([e for e in extra if e.kind != "switch"]):
            candidate, alternatives = self._lost_join(entry, pred)
            if candidate is not None:
                self.facts.findings.append(
                    Finding("join-missing-inputs", candidate, (entry.step, name), alternatives)
                )
            else:
                self.facts.findings.append(Finding("split-without-join", entry.step, (name,)))

    def _lost_join(self, entry: Entry, pred: str | None) -> tuple[str | None, tuple[str, ...]]:
        """The step that was meant to close ``entry`` but takes no ``inputs`` (if one stands out),
        and the other steps of the foreach body that could be it."""
        if entry.kind != "foreach":
            return None, ()
        # Steps inside the foreach that look like a join but take no inputs, innermost foreach first
        # (the caller goes from the innermost unclosed entry outwards), each blamed once.
        marked = [
            n for n, stack in self.facts.stacks.items()
            if entry in stack
            and self.steps[n].looks_like_join
            and not self.steps[n].takes_inputs
            and n not in self.blamed
        ]
        if marked:
            self.blamed.add(marked[0])
            return marked[0], ()
        # Nothing named like a join: any plain step inside the foreach could be the one, except a
        # step that opens a split or foreach or is the first of a branch (a join closes a body, it
        # does not start one). The last step before the boundary is the likeliest; the hint names
        # the others, since nothing in the graph tells them apart.
        heads = {t for n in self.facts.stacks for t in self._opened_by(n)}
        candidates = [
            n for n, stack in self.facts.stacks.items()
            if entry in stack
            and n not in heads
            and not self.steps[n].takes_inputs
            and self.steps[n].transition not in ("split", "foreach")
            and n not in self.blamed
        ]
        if not candidates:
            return None, ()
        chosen = pred if pred in candidates else candidates[-1]
        self.blamed.add(chosen)
        return chosen, tuple(n for n in candidates if n != chosen)

    def _opened_by(self, name: str) -> tuple[str, ...]:
        step = self.steps[name]
        return step.targets if step.transition in ("split", "foreach") else ()

    def join(self, name: str, incoming: list[tuple[str, tuple[Entry, ...]]]) -> tuple[Entry, ...]:
        # A switch whose cases lead straight into the join (Metaflow allows it): the join sees only
        # the case that ran, so a branch (or a foreach index) arrives through one of several steps.
        stripped = []
        conditional = False
        for pred, stack in incoming:
            bare = _strip_switches(stack)
            conditional = conditional or bare != stack
            stripped.append((pred, bare))
        if all(not s for _, s in stripped):
            self.facts.findings.append(Finding("join-without-split", name))
            return ()
        shortest = min(len(s) for _, s in stripped)
        prefix = _common_prefix([s for _, s in stripped])[: max(shortest - 1, 0)]
        closing: dict[str, list[tuple[str, Entry]]] = {}
        for pred, stack in stripped:
            if len(stack) <= len(prefix):
                closing.setdefault("", []).append((pred, Entry("", 0, "none")))
                continue
            entry = stack[len(prefix)]
            closing.setdefault(entry.step, []).append((pred, entry))
            self.unclosed(name, pred, stack[len(prefix) + 1 :])
        if len(closing) != 1 or "" in closing:
            related = tuple(sorted(k for k in closing if k))
            self.facts.findings.append(Finding("join-mismatch", name, related))
            return prefix
        (split, arrivals), = closing.items()
        split_step = self.steps[split]
        branches = sorted(e.branch for _, e in arrivals)
        expected = list(range(len(split_step.targets))) if split_step.transition == "split" else [0]
        # Every branch arrives; one branch through several steps only when they are switch cases.
        if sorted(set(branches)) != expected or (len(branches) != len(expected) and not conditional):
            self.facts.findings.append(Finding("join-mismatch", name, (split,)))
        if split in self.facts.matching_join and self.facts.matching_join[split] != name:
            self.facts.findings.append(Finding("join-mismatch", name, (split,)))
        else:
            self.facts.matching_join[split] = name
            self.facts.split_of[name] = split
            if split_step.transition == "split":
                self.facts.branch_arrivals[name] = tuple(
                    tuple(pred for pred, e in arrivals if e.branch == branch) for branch in expected
                )
        return prefix

    def meet(self, name: str, incoming: list[tuple[str, tuple[Entry, ...]]]) -> tuple[Entry, ...]:
        """Several paths reach a step that is no join: only switch cases may meet like this."""
        prefix = _common_prefix([s for _, s in incoming])
        beyond = [(pred, s[len(prefix) :]) for pred, s in incoming]
        if all(e.kind == "switch" for _, rest in beyond for e in rest):
            return prefix
        first = {rest[0] for _, rest in beyond if rest}
        static = {e.step for e in first if e.kind == "split"}
        if name != "end" and len(static) == 1 and len(first) > 1:
            self.facts.findings.append(Finding("join-missing-inputs", name, tuple(static)))
            self.blamed.add(name)  # it closes that split: an enclosing foreach's join is another step
            for pred, rest in beyond:
                self.unclosed(name, pred, rest[1:])
            return prefix
        for pred, rest in beyond:
            self.unclosed(name, pred, rest)
        return prefix

    def walk(self) -> None:
        for name in self.facts.order:
            step = self.steps[name]
            incoming = self.incoming(name)
            if not incoming:
                stack: tuple[Entry, ...] = ()
                if step.takes_inputs:
                    self.facts.findings.append(Finding("join-without-split", name))
            elif step.takes_inputs:
                stack = self.join(name, incoming)
            elif len(incoming) == 1:
                stack = incoming[0][1]
            else:
                stack = self.meet(name, incoming)
            if name == "end" and incoming:
                # The end of the graph: whatever is still open was never joined.
                self.unclosed(name, incoming[0][0] if len(incoming) == 1 else None, stack)
                stack = tuple(e for e in stack if e.kind == "switch")
            self.facts.stacks[name] = stack


def _loop_body(
    head: str, tail: str, successors: Mapping[str, Sequence[str]], facts: GraphFacts
) -> list[str]:
    """Steps on some forward path from the loop head to the switch that jumps back to it."""
    forward: set[str] = set()
    todo = [head]
    while todo:
        node = todo.pop()
        if node in forward:
            continue
        forward.add(node)
        todo.extend(t for t in successors.get(node, ()) if (node, t) not in facts.back_edges)
    backward: set[str] = set()
    todo = [tail]
    while todo:
        node = todo.pop()
        if node in backward or node not in forward:
            continue
        backward.add(node)
        todo.extend(facts.forward_predecessors(node))
    return [n for n in facts.order if n in backward]


def analyse_graph(steps: Sequence[GraphInput], start: str = "start") -> GraphFacts:
    """Graph facts for ``steps`` (in source order); edges to unknown steps are left out."""
    by_name = {s.name: s for s in steps}
    position = {s.name: i for i, s in enumerate(steps)}
    successors = {s.name: tuple(t for t in s.targets if t in by_name) for s in steps}
    predecessors: dict[str, list[str]] = {s.name: [] for s in steps}
    for step in steps:
        for target in successors[step.name]:
            predecessors[target].append(step.name)
    facts = GraphFacts(
        successors=successors,
        predecessors={k: tuple(sorted(v, key=position.__getitem__)) for k, v in predecessors.items()},
    )
    if start not in by_name:
        return facts
    facts.order, facts.back_edges = _depth_first(start, successors)
    facts.reachable = set(facts.order)
    _Walker(by_name, facts).walk()
    for tail, head in sorted(facts.back_edges):
        facts.loop_bodies[(tail, head)] = _loop_body(head, tail, successors, facts)
    return facts
