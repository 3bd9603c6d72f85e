"""Assembles the :class:`flowc.ir.FlowIR` from an :class:`~flowc.frontend.analysis.Analysis`.

Called only when the checks found no error, so every transition parsed and every successor exists.
"""

from __future__ import annotations

from flowc import __version__
from flowc.environments.spec import step_environment
from flowc.frontend.analysis import Analysis
from flowc.frontend.body import NON_ARTIFACT_NAMES
from flowc.frontend.source import StepSource
from flowc.frontend.structure import StepStructure, step_structure
from flowc.ir import FlowIR, JoinKind, Location, Step, StepKind, SwitchCase, Transition

__all__ = ["artifact_names", "build_flow_ir", "step_kind"]


def step_kind(name: str, transition: str, takes_inputs: bool) -> str:
    """Metaflow's node type: the out-transition decides, except for start/join with one successor."""
    if name == "end":
        return "end"
    if transition != "linear":
        return transition
    if name == "start":
        return "start"
    return "join" if takes_inputs else "linear"


def artifact_names(names: object, methods: set[str]) -> tuple[str, ...]:
    """Sorted artifact names among ``names`` (FlowSpec API and the flow's methods left out)."""
    return tuple(
        sorted(
            n for n in names  # type: ignore[attr-defined]
            if n not in NON_ARTIFACT_NAMES and n not in methods and not n.startswith("_flowc")
        )
    )


def _step(analysis: Analysis, source: StepSource, structure: StepStructure) -> Step:
    graph = analysis.graph
    assert graph is not None
    name = source.name
    file = source.file or analysis.file  # a base class's file for an inherited step
    transition = analysis.transitions.get(name)
    kind_of_transition = transition.kind if transition else "end"
    takes_inputs = len(source.arg_names) == 2
    settings = analysis.settings[name]
    methods = analysis.method_names()
    successors = analysis.successors(name)
    return Step(
        name=name,
        kind=StepKind(step_kind(name, kind_of_transition, takes_inputs)),
        transition=Transition(kind_of_transition),
        successors=successors,
        predecessors=graph.predecessors.get(name, ()),
        is_join=takes_inputs,
        matching_join=graph.matching_join.get(name),
        split_of=graph.split_of.get(name),
        foreach_var=transition.foreach if transition else None,
        foreach_depth=graph.foreach_depth(name),
        condition=transition.condition if transition else None,
        switch_cases=tuple(SwitchCase(k, t) for k, t in transition.cases) if transition else (),
        loop_targets=tuple(t for t in successors if (name, t) in graph.back_edges),
        location=Location(file, source.line),
        transition_location=Location(file, transition.line) if transition else None,
        docstring=source.docstring,
        resources=settings.resources,
        retry=settings.retry,
        timeout=settings.timeout,
        catch=settings.catch,
        environment=settings.environment,
        secrets=settings.secrets,
        container=settings.container,
        python_environment=step_environment(analysis.flow_settings.pypi_base, settings.pypi),
        decorators=settings.decorators,
        assigns=artifact_names(source.body.assigns, methods),
        reads=artifact_names(source.body.reads, methods),
        foreach_stack=structure.foreach_stack,
        loop_head=structure.loop_head,
        loop_body=structure.loop_body,
        join_kind=JoinKind(structure.join_kind) if structure.join_kind else None,
        converges_at=structure.converges_at,
        branch_ends=structure.branch_ends,
    )


def build_flow_ir(analysis: Analysis) -> FlowIR:
    """The IR of a flow that passed the checks."""
    flow = analysis.flow
    parameter_attributes = analysis.parameter_attributes()
    assert analysis.graph is not None
    names = [s.name for s in flow.steps]
    transitions = {name: t.kind for name, t in analysis.transitions.items() if t is not None}
    structure = step_structure(analysis.graph, names, transitions)
    return FlowIR(
        name=flow.class_name,
        source_file=flow.file,
        steps=tuple(_step(analysis, s, structure[s.name]) for s in flow.steps),
        flowc_version=__version__,
        parameters=tuple(analysis.parameters),
        schedule=analysis.flow_settings.schedule,
        project=analysis.flow_settings.project,
        exit_hooks=analysis.flow_settings.exit_hooks,
        triggers=analysis.flow_settings.triggers,
        docstring=flow.docstring,
        class_attributes=tuple(
            sorted(
                a for a in flow.class_attributes
                if a not in parameter_attributes and not a.startswith("__")
            )
        ),
        flow_decorators=analysis.flow_settings.decorators,
        configs=tuple(analysis.config_specs),
    )
