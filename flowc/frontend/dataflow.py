"""The data-flow check: is every ``self.x`` a step reads assigned on every path into that step?

For each read, a backward search from the reading step over its predecessors (loops included) stops
at steps that assign the artifact. Reaching ``start`` (or a join that drops the artifact) without
passing one means some path leaves it unassigned; passing one means some path assigns it. So a
read is *satisfied* (assigned on every path), *partial* (some paths: a warning, fatal with
``--strict``) or *unsatisfied* (no path: an error). Each search usually stops at the step before,
so a 1,000-step flow costs milliseconds.

Always available: parameters and class attributes. A ``@catch(var=...)`` step assigns ``var`` for its
successors. A join sees only what it merges: with ``self.merge_artifacts(inputs)`` what its inputs
carry, minus ``exclude`` / within ``include``; without it nothing (reads through ``inputs`` are not
``self`` reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from flowc.frontend.analysis import Analysis
from flowc.frontend.body import NON_ARTIFACT_NAMES
from flowc.frontend.diagnostics import Diagnostic
from flowc.frontend.source import StepSource
from flowc.frontend.values import literal

__all__ = ["Availability", "availability", "check_data_flow"]


@dataclass(frozen=True)
class Availability:
    """Whether an artifact is assigned on every path (``must``) / some path (``may``) into a step."""

    must: bool
    may: bool


def _merge_filter(step: StepSource) -> tuple[bool, set[str] | None, set[str]]:
    """(merges at all, include or None for all, exclude) of the step's merge_artifacts call."""
    if not step.body.merge_calls:
        return False, None, set()
    call = step.body.merge_calls[0]
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

    return True, names("include"), names("exclude") or set()


def _passes_join(step: StepSource, artifact: str) -> bool:
    """Whether a join step lets ``artifact`` through from its inputs (merge_artifacts)."""
    merges, include, exclude = _merge_filter(step)
    return merges and artifact not in exclude and (include is None or artifact in include)


def assigns(a: Analysis, name: str, artifact: str) -> bool:
    """Whether step ``name`` assigns ``artifact`` for its successors (its body or @catch var)."""
    source = a.step_sources.get(name)
    if source is None:
        return False
    if artifact in source.body.assigns:
        return True
    settings = a.settings.get(name)
    return bool(settings and settings.catch and settings.catch.var == artifact)


def availability(a: Analysis, name: str, artifact: str) -> Availability:
    """Whether ``artifact`` is assigned on every / some path into step ``name``."""
    graph = a.graph
    assert graph is not None
    sources = a.step_sources
    if not graph.predecessors.get(name):
        return Availability(False, False)  # start: only parameters and class attributes exist
    source = sources[name]
    if len(source.arg_names) == 2 and not _passes_join(source, artifact):
        return Availability(False, False)
    must, may = True, False
    seen: set[str] = set()  # `name` itself is searched too when a loop leads back to it
    todo = [p for p in graph.predecessors[name] if p in graph.reachable]
    while todo:
        step = todo.pop()
        if step in seen:
            continue
        seen.add(step)
        if assigns(a, step, artifact):
            may = True
            continue
        predecessors = [p for p in graph.predecessors.get(step, ()) if p in graph.reachable]
        current = sources[step]
        if not predecessors or (len(current.arg_names) == 2 and not _passes_join(current, artifact)):
            must = False  # a path on which nothing assigns it
            continue
        todo.extend(predecessors)
    return Availability(must, may)


def _diagnostic(a: Analysis, code: str, message: str, line: int, step: str, hint: str,
                severity: str) -> Diagnostic:
    return Diagnostic(code, message, a.file, line=line, step=step, hint=hint, severity=severity)


def _reads(a: Analysis, source: StepSource) -> dict[str, int]:
    """Artifacts the step needs from before it: reads ahead of its own assignment, and its condition."""
    reads = dict(source.body.inherited_reads)
    transition = a.transitions.get(source.name)
    if transition is not None and transition.condition and transition.condition not in source.body.assigns:
        reads.setdefault(transition.condition, transition.line)
    return reads


def check_data_flow(a: Analysis) -> Iterator[Diagnostic]:
    """``read-unassigned`` (error) and ``read-maybe-unassigned`` (warning) for every step's reads."""
    graph = a.graph
    assert graph is not None
    always = a.parameter_attributes() | set(a.flow.class_attributes)
    skip = set(NON_ARTIFACT_NAMES) | a.method_names() | always
    for name in graph.order:
        source = a.step_sources[name]
        for artifact, line in sorted(_reads(a, source).items(), key=lambda item: (item[1], item[0])):
            if artifact in skip or artifact.startswith("_flowc"):
                continue
            found = availability(a, name, artifact)
            if found.must:
                continue
            if not found.may:
                if len(source.arg_names) == 2 and any(assigns(a, s, artifact) for s in graph.order):
                    hint = (f"a join sees only what it merges: read inputs.<step>.{artifact}, or call "
                            f"self.merge_artifacts(inputs) first")
                else:
                    hint = (f"assign self.{artifact} in an earlier step on every path, or declare it as a "
                            "Parameter or class attribute")
                yield _diagnostic(a, "read-unassigned",
                                  f"reads self.{artifact}, which no path into this step assigns",
                                  line, name, hint, "error")
                continue
            missing = [
                p for p in graph.predecessors.get(name, ())
                if p in graph.reachable
                and not assigns(a, p, artifact)
                and not availability(a, p, artifact).must
            ]
            where = f" (not on the path from {', '.join(repr(p) for p in missing)})" if missing else ""
            message = f"reads self.{artifact}, which only some paths into this step assign{where}"
            yield _diagnostic(a, "read-maybe-unassigned", message, line, name,
                              f"assign self.{artifact} on every path (e.g. a default in start)", "warning")
