"""The data-flow check: is every ``self.x`` a step reads assigned on every path into that step?

For each read, a backward search from the reading step over its predecessors (loops included) stops
at steps that assign the artifact. Reaching ``start`` (or a join that drops the artifact) without
passing one means some path leaves it unassigned; passing one means some path assigns it. So a
read is *satisfied* (assigned on every path), *partial* (some paths: a warning, fatal with
``--strict``) or *unsatisfied* (no path: an error). Each search usually stops at the step before,
so a 1,000-step flow costs milliseconds.

Always available: parameters and class attributes (the flow's and its bases'). A ``@catch(var=...)``
step assigns ``var`` for its successors; a call of a helper method assigns what the helper assigns.
A join sees only what it merges: with ``self.merge_artifacts(inputs)`` what its inputs carry, minus
``exclude`` / within ``include``; without it nothing (reads through ``inputs`` are not ``self``
reads). All branches of a static split run, and ``merge_artifacts`` takes an artifact from any
input that has it (Metaflow's ``FlowSpec.merge_artifacts``), so after such a join an artifact one
branch assigns is there; after a foreach join the one body path decides.

False errors would block valid flows, so what the front end cannot be sure of is at most a warning:
reads inside nested functions or lambdas, steps after one that assigns computed attribute names
(``setattr(self, name, ...)``), and flows with a base class flowc cannot read. Guarded reads
(``hasattr``, ``getattr`` with a default, ``try/except AttributeError``) are not reported.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from flowc.diagnostics import Diagnostic
from flowc.frontend.analysis import Analysis
from flowc.frontend.body import NON_ARTIFACT_NAMES
from flowc.frontend.source import StepSource
from flowc.frontend.values import literal

__all__ = ["Availability", "availability", "check_data_flow"]


@dataclass(frozen=True)
class Availability:
    """Whether an artifact is assigned on every path (``must``) / some path (``may``) into a step."""

    must: bool
    may: bool
    # steps on the way that set attributes under computed names (so they may set it), when the
    # artifact is only maybe-assigned through them
    computed: frozenset[str] = frozenset()


_NOWHERE = Availability(False, False)


def _merge_filter(call: ast.Call) -> tuple[set[str] | None, set[str]]:
    """(include or None for all, exclude) of one merge_artifacts call."""
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    positional = list(call.args[1:])  # merge_artifacts(inputs, exclude, include)
    for key in ("exclude", "include"):
        if key not in keywords and positional:
            keywords[key] = positional.pop(0)

    def names(key: str) -> set[str] | None:
        if key not in keywords:
            return None
        value = literal(keywords[key])
        return {str(v) for v in value} if isinstance(value, list | tuple | set) else None

    return names("include"), names("exclude") or set()


def _passes_join(step: StepSource, artifact: str) -> bool:
    """Whether a join step lets ``artifact`` through from its inputs: some merge_artifacts call of
    its body does (a step may try a call expected to fail, then make the real one)."""
    for call in step.body.merge_calls:
        include, exclude = _merge_filter(call)
        if artifact not in exclude and (include is None or artifact in include):
            return True
    return False


def _is_join(step: StepSource) -> bool:
    return len(step.arg_names) == 2


def assigns(a: Analysis, name: str, artifact: str) -> bool:
    """Whether step ``name`` assigns ``artifact`` for its successors (its body or @catch var)."""
    source = a.step_sources.get(name)
    if source is None:
        return False
    if artifact in source.body.assigns:
        return True
    settings = a.settings.get(name)
    return bool(settings and settings.catch and settings.catch.var == artifact)


def _out_of(a: Analysis, starts: Iterable[str], artifact: str) -> Availability:
    """Whether ``artifact`` is set when the steps ``starts`` finish (every / some path)."""
    graph = a.graph
    assert graph is not None
    sources = a.step_sources
    must, named = True, False
    computed: set[str] = set()
    seen: set[str] = set()
    todo = [s for s in starts if s in graph.reachable]
    while todo:
        step = todo.pop()
        if step in seen:
            continue
        seen.add(step)
        if assigns(a, step, artifact):
            named = True
            continue
        current = sources[step]
        if current.body.dynamic_assigns:
            computed.add(step)  # it may set the artifact under a computed name: look for a sure one
        if _is_join(current):
            found = _into_join(a, step, artifact)
            must = must and found.must
            named = named or (found.may and not found.computed)
            computed |= found.computed
            continue
        predecessors = [p for p in graph.predecessors.get(step, ()) if p in graph.reachable]
        if not predecessors:
            must = False  # a path on which nothing assigns it
            continue
        todo.extend(predecessors)
    may = named or bool(computed)
    return Availability(must and may, may, frozenset() if named else frozenset(computed))


def _into_join(a: Analysis, join: str, artifact: str) -> Availability:
    """What a join's ``self`` holds of ``artifact`` before its own body runs."""
    graph = a.graph
    assert graph is not None
    key = (join, artifact)
    if key in a.join_availability:
        return a.join_availability[key]
    # A join reached again while it is being searched sits in a loop (reported elsewhere): neutral.
    a.join_availability[key] = Availability(True, False)
    source = a.step_sources[join]
    result = _NOWHERE
    predecessors = [p for p in graph.predecessors.get(join, ()) if p in graph.reachable]
    if _passes_join(source, artifact) and predecessors:
        branches = [_out_of(a, [p], artifact) for p in predecessors]
        opener = a.transitions.get(graph.split_of.get(join, ""))
        named = any(b.may and not b.computed for b in branches)
        computed = frozenset() if named else frozenset(n for b in branches for n in b.computed)
        if opener is not None and opener.kind == "split":
            # Every branch ran; merge_artifacts takes the artifact from whichever input has it.
            result = Availability(any(b.must for b in branches), any(b.may for b in branches), computed)
        else:
            result = Availability(all(b.must for b in branches), any(b.may for b in branches), computed)
    a.join_availability[key] = result
    return result


def availability(a: Analysis, name: str, artifact: str) -> Availability:
    """Whether ``artifact`` is assigned on every / some path into step ``name``."""
    graph = a.graph
    assert graph is not None
    if not graph.predecessors.get(name):
        return _NOWHERE  # start: only parameters and class attributes exist
    if _is_join(a.step_sources[name]):
        return _into_join(a, name, artifact)
    return _out_of(a, graph.predecessors[name], artifact)


def _reads(a: Analysis, source: StepSource) -> dict[str, tuple[int, bool]]:
    """Artifacts the step needs from before it, with (line, whether the read surely runs).

    Reads ahead of the step's own assignment and its switch condition surely run; reads inside
    nested functions and lambdas may not.
    """
    reads = {n: (line, False) for n, line in source.body.deferred_reads.items()}
    reads.update((n, (line, True)) for n, line in source.body.inherited_reads.items())
    transition = a.transitions.get(source.name)
    if transition is not None and transition.condition and transition.condition not in source.body.assigns:
        reads.setdefault(transition.condition, (transition.line, True))
    return reads


def _uncertainty(a: Analysis, source: StepSource, sure: bool) -> str | None:
    """Why an unsatisfied read of this step might still be fine, or None when it cannot be."""
    if not sure:
        return "the read is inside a nested function or lambda, which may never be called"
    if source.body.dynamic_assigns:
        return "this step sets attributes whose names are computed (setattr, self.__dict__)"
    if a.flow.opaque_bases:
        bases = ", ".join(a.flow.opaque_bases)
        return f"flowc could not read the base class(es) {bases}, which may define it"
    return None


def check_data_flow(a: Analysis) -> Iterator[Diagnostic]:
    """``read-unassigned`` (error) and ``read-maybe-unassigned`` (warning) for every step's reads."""
    graph = a.graph
    assert graph is not None
    always = a.parameter_attributes() | set(a.flow.class_attributes)
    skip = set(NON_ARTIFACT_NAMES) | a.method_names() | always
    for name in graph.order:
        source = a.step_sources[name]
        reads = _reads(a, source)
        for artifact, (line, sure) in sorted(reads.items(), key=lambda item: (item[1][0], item[0])):
            if artifact in skip or artifact.startswith("_flowc"):
                continue
            found = availability(a, name, artifact)
            if found.must:
                continue
            if not found.may:
                if _is_join(source) and any(assigns(a, s, artifact) for s in graph.order):
                    hint = (f"a join sees only what it merges: read inputs.<step>.{artifact}, or call "
                            f"self.merge_artifacts(inputs) first")
                else:
                    hint = (f"assign self.{artifact} in an earlier step on every path, or declare it as a "
                            "Parameter or class attribute")
                message = f"reads self.{artifact}, which no path into this step assigns"
                why = _uncertainty(a, source, sure)
                if why is not None:
                    yield a.refuse("read-maybe-unassigned", f"{message} ({why})", line, name, hint,
                                      "warning")
                else:
                    yield a.refuse("read-unassigned", message, line, name, hint, "error")
                continue
            if found.computed:
                steps = ", ".join(repr(n) for n in sorted(found.computed))
                yield a.refuse(
                    "read-maybe-unassigned",
                    f"reads self.{artifact}, which no step before it assigns by name ({steps} "
                    "set attributes whose names are computed, so they may)", line, name,
                    f"assign self.{artifact} by name on every path, or declare it as a Parameter",
                    "warning",
                )
                continue
            missing = [
                p for p in graph.predecessors.get(name, ())
                if p in graph.reachable and not _out_of(a, [p], artifact).must
            ]
            where = f" (not on the path from {', '.join(repr(p) for p in missing)})" if missing else ""
            message = f"reads self.{artifact}, which only some paths into this step assign{where}"
            yield a.refuse("read-maybe-unassigned", message, line, name,
                              f"assign self.{artifact} on every path (e.g. a default in start)", "warning")
