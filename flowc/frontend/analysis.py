"""One analysis of one flow file: the facts every check and the IR builder read.

:func:`analyse_source` gathers them (AST facts, transitions, evaluated decorators and parameters,
graph facts) without judging; judging is :mod:`flowc.frontend.checks`' job.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

from flowc.authoring.decorators import FLOW_DECORATORS, STEP_DECORATORS, UNSUPPORTED_DECORATORS
from flowc.diagnostics import Diagnostic, refuse
from flowc.frontend.configs import ConfigError, ConfigInputs, resolve_config
from flowc.frontend.decorators import (
    EvaluatedDecorator,
    FlowSettings,
    Problem,
    StepSettings,
    flow_settings,
    step_settings,
)
from flowc.frontend.graph import GraphFacts, GraphInput, analyse_graph
from flowc.frontend.hierarchy import API_MODULES
from flowc.frontend.parameters import parameter_spec
from flowc.frontend.source import DecoratorCall, FlowSource, ParameterSource, StepSource
from flowc.frontend.transitions import Transition, read_transition
from flowc.frontend.values import NOT_LITERAL, ModuleLoader, is_json_compatible, literal
from flowc.ir import ConfigSpec, Location, ParameterSpec

__all__ = ["Analysis", "analyse_source", "inherited_member"]


@dataclass
class Analysis:
    """Facts about one flow, shared by the checks and the IR builder."""

    flow: FlowSource
    loader: ModuleLoader
    transitions: dict[str, Transition] = field(default_factory=dict)
    transition_errors: dict[str, tuple[int, str]] = field(default_factory=dict)
    settings: dict[str, StepSettings] = field(default_factory=dict)
    flow_settings: FlowSettings = field(default_factory=FlowSettings)
    # step name ("" for the flow class) -> problems in its decorators
    decorator_problems: dict[str, list[Problem]] = field(default_factory=dict)
    parameters: list[ParameterSpec] = field(default_factory=list)
    # each declaration that became a spec, with its spec (a declaration without a name does not)
    parameter_specs: list[tuple[ParameterSource, ParameterSpec]] = field(default_factory=list)
    # (problem, file of the declaration): a parameter may be declared in a base class's file
    parameter_problems: list[tuple[Problem, str]] = field(default_factory=list)
    # `Config` attributes: their values, fixed here from these inputs (flowc/frontend/configs.py)
    config_inputs: ConfigInputs = field(default_factory=ConfigInputs)
    config_specs: list[ConfigSpec] = field(default_factory=list)
    config_values: dict[str, Any] = field(default_factory=dict)  # name -> what a step reads
    config_problems: list[tuple[Problem, str]] = field(default_factory=list)
    graph: GraphFacts | None = None
    # (join, artifact) -> what the join lets through (memo of the data-flow check)
    join_availability: dict[tuple[str, str], Any] = field(default_factory=dict)

    @property
    def file(self) -> str:
        return self.flow.file

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self.flow.steps]

    def file_of(self, step: str | None) -> str:
        """The file that defines ``step`` (a base class's file for an inherited step)."""
        source = self.step_sources.get(step) if step else None
        return source.file if source is not None and source.file else self.file

    def refuse(
        self,
        code: str,
        message: str,
        line: int | None,
        step: str | None = None,
        hint: str | None = None,
        severity: str = "error",
        file: str | None = None,
    ) -> Diagnostic:
        """A check's diagnostic (:func:`flowc.diagnostics.refuse`), in the file that defines
        ``step`` (a base flow's module, for an inherited step) unless ``file`` says otherwise."""
        return refuse(code, message, file=file or self.file_of(step), line=line, step=step, hint=hint,
                      severity=severity)

    def successors(self, name: str) -> tuple[str, ...]:
        """Transition targets in order, duplicates removed (unknown names included)."""
        transition = self.transitions.get(name)
        return tuple(dict.fromkeys(transition.targets)) if transition else ()

    def parameter_attributes(self) -> set[str]:
        return self._parameter_attributes

    def method_names(self) -> set[str]:
        return self._method_names

    @functools.cached_property
    def _parameter_attributes(self) -> set[str]:
        return {p.attribute for p in self.flow.parameters}

    @functools.cached_property
    def _method_names(self) -> set[str]:
        return {m.name for m in self.flow.methods}

    @functools.cached_property
    def step_sources(self) -> dict[str, StepSource]:
        """Steps by name (the first definition when a name is defined twice)."""
        steps: dict[str, StepSource] = {}
        for step in self.flow.steps:
            steps.setdefault(step.name, step)
        return steps


def _self_name(step: StepSource) -> str:
    return step.arg_names[0] if step.arg_names else "self"


def _read_transitions(analysis: Analysis) -> None:
    for step in analysis.flow.steps:
        calls = step.body.next_calls
        if len(calls) != 1 or step.name == "end":
            continue  # none, several, or on end: the checks report it
        parsed = read_transition(calls[0], _self_name(step))
        if isinstance(parsed, str):
            analysis.transition_errors[step.name] = (calls[0].lineno, parsed)
        else:
            analysis.transitions[step.name] = parsed


def _live_records(analysis: Analysis, target_name: str | None) -> list[tuple[str, dict[str, Any]]] | None:
    """Decorator records of the imported step (or class when ``target_name`` is None), outermost first."""
    from flowc.authoring.decorators import recorded_decorators

    cls = analysis.loader.flow_class(analysis.flow.class_name)
    if cls is None:
        return None
    target = cls if target_name is None else inherited_member(cls, target_name)
    if target is None:
        return None
    return list(reversed(recorded_decorators(target)))


def inherited_member(cls: Any, name: str) -> Any:
    """``name`` as the first class of ``cls``'s MRO defines it (no descriptor is run)."""
    for klass in getattr(cls, "__mro__", (cls,)):
        if name in vars(klass):
            return vars(klass)[name]
    return None


#: The authoring API's decorators; any other is the user's own Python decorator.
API_DECORATORS = frozenset((*STEP_DECORATORS, *FLOW_DECORATORS))


def _unsupported(analysis: Analysis, call: DecoratorCall) -> Problem | None:
    """The refusal of a Metaflow decorator flowc does not implement: never dropped in silence.

    A name counts as Metaflow's when the module imports it from flowc or metaflow, or when it is one
    of Metaflow's own decorator names and the module does not bind it to something of its own.
    """
    flow = analysis.flow
    written = call.node.func if isinstance(call.node, ast.Call) else call.node
    if isinstance(written, ast.Attribute):  # @lib.name: Metaflow's only as @metaflow.name
        root = written.value
        while isinstance(root, ast.Attribute):
            root = root.value
        if not (isinstance(root, ast.Name) and root.id in API_MODULES):
            return None
    elif call.name not in flow.api_imports and (
        call.name not in UNSUPPORTED_DECORATORS or call.name in flow.own_names
    ):
        return None
    hint = UNSUPPORTED_DECORATORS.get(
        call.name, "see docs/authoring.md for the decorators flowc implements; remove this one"
    )
    return Problem(
        "unsupported-decorator",
        f"@{call.name} is a Metaflow decorator flowc does not support (yet); it would be ignored",
        call.line,
        hint=hint,
    )


def _user_decorator(call: DecoratorCall) -> EvaluatedDecorator:
    """A decorator of the user's own (``@logged(level=LEVEL)``): flowc does not act on it, the
    task runs it as Python does. The IR keeps its name and its literal keyword arguments."""
    arguments = {}
    for key, node in call.keywords.items():
        value = literal(node)
        if value is not NOT_LITERAL and is_json_compatible(value):
            arguments[key] = value
    return EvaluatedDecorator(call.name, arguments, call.line, own=True)


def _own_function(analysis: Analysis, call: DecoratorCall) -> bool:
    """Whether ``@name`` is the module's own function of an API decorator's name (``def trigger``)."""
    written = call.node.func if isinstance(call.node, ast.Call) else call.node
    flow = analysis.flow
    return isinstance(written, ast.Name) and call.name in flow.own_names and call.name not in flow.api_imports


def _function_names(node: ast.expr) -> Any:
    """``[fn, "other"]`` -> ``("fn", "other")``: functions named by their module-level name, or by
    a string (both as Metaflow's ``@exit_hook`` takes them); anything else is left as it is."""
    if isinstance(node, ast.List | ast.Tuple):
        names = [
            item.id if isinstance(item, ast.Name) else literal(item) for item in node.elts
        ]
        return tuple(names)
    return literal(node)


def _evaluate_decorators(
    analysis: Analysis, calls: list[DecoratorCall], target_name: str | None, problems: list[Problem]
) -> list[EvaluatedDecorator]:
    evaluated: list[EvaluatedDecorator] = []
    records: list[tuple[str, dict[str, Any]]] | None = None
    seen_by_name: dict[str, int] = {}
    for call in calls:
        occurrence = seen_by_name.get(call.name, 0)
        seen_by_name[call.name] = occurrence + 1
        if call.name not in API_DECORATORS or _own_function(analysis, call):
            refusal = _unsupported(analysis, call)
            if refusal is not None:
                problems.append(refusal)
            else:
                evaluated.append(_user_decorator(call))
            continue
        if call.positional:
            problems.append(
                Problem("bad-decorator", f"@{call.name} takes keyword arguments only", call.line,
                        hint=f"write @{call.name}(name=value, ...)")
            )
            continue
        arguments = {key: literal(node) for key, node in call.keywords.items()}
        if call.name == "exit_hook":  # functions, named in the source: the module is not imported
            arguments = {key: _function_names(node) for key, node in call.keywords.items()}
        if "**" in arguments or any(v is NOT_LITERAL for v in arguments.values()):  # see source.py
            if records is None:
                records = _live_records(analysis, target_name) or []
            matches = [kwargs for name, kwargs in records if name == call.name]
            if occurrence < len(matches):
                arguments = _with_configs(analysis, dict(matches[occurrence]), call, problems)
            else:
                unresolved = sorted(k for k, v in arguments.items() if v is NOT_LITERAL)
                why = analysis.loader.error or "the module does not record it"
                problems.append(
                    Problem("bad-decorator",
                            f"@{call.name}: cannot evaluate {', '.join(unresolved)} ({why})", call.line,
                            hint="use literal arguments, or make the flow module importable")
                )
                arguments = {k: v for k, v in arguments.items() if v is not NOT_LITERAL}
        evaluated.append(EvaluatedDecorator(call.name, arguments, call.line))
    return evaluated


def _with_configs(
    analysis: Analysis, arguments: dict[str, Any], call: DecoratorCall, problems: list[Problem]
) -> dict[str, Any]:
    """Decorator ``arguments`` with their config expressions evaluated (``**config`` merged), as
    Metaflow evaluates them before the flow runs; an expression that fails is a problem."""
    from flowc.authoring.configs import has_delayed, resolve_delayed

    if not has_delayed(arguments):
        return arguments
    try:
        return resolve_delayed(arguments, analysis.config_values, _module_globals(analysis))
    except Exception as exc:
        problems.append(
            Problem("bad-config-expression",
                    f"@{call.name}: a config expression cannot be evaluated: {type(exc).__name__}: {exc}",
                    call.line, hint="use the config's name and keys its value has (flowc check shows it)")
        )
        return {}


def _module_globals(analysis: Analysis) -> dict[str, Any]:
    module = analysis.loader.module()
    return vars(module) if module is not None else {}


def _evaluate_configs(analysis: Analysis) -> None:
    """Fixes the value of every ``Config`` attribute (imports the module: the declarations hold
    defaults and parsers), as Metaflow does before the flow's decorators are evaluated."""
    import json

    from flowc.authoring.configs import Config, config_value
    from flowc.authoring.parameters import ParameterContext
    from flowc.frontend.values import is_json_compatible
    from flowc.metadata import current_user

    flow = analysis.flow
    if not flow.configs:
        return
    cls = analysis.loader.flow_class(flow.class_name)
    if cls is None:
        file, line = next(iter(flow.configs.values()))
        why = analysis.loader.error or f"the module has no class {flow.class_name}"
        analysis.config_problems.append(
            (Problem("bad-config", f"the flow's configs cannot be read ({why})", line,
                     hint="make the flow module importable"), file)
        )
        return
    import os

    def context(name: str) -> ParameterContext:
        return ParameterContext(flow_name=flow.class_name, user_name=current_user(), parameter_name=name,
                                logger=lambda *parts, **_: None, ds_type="local")

    try:
        inputs = analysis.config_inputs.with_environment(os.environ)
    except ConfigError as exc:
        file, line = next(iter(flow.configs.values()))
        analysis.config_problems.append((Problem("bad-config", str(exc), line), file))
        return
    declared_names = {getattr(inherited_member(cls, a), "name", None) for a in flow.configs}
    given = [n for n, _ in (*analysis.config_inputs.paths, *analysis.config_inputs.values)]
    for name in sorted(set(given) - declared_names):
        file, line = next(iter(flow.configs.values()))
        known = ", ".join(sorted(str(n) for n in declared_names if n))
        analysis.config_problems.append(
            (Problem("bad-config", f"a value is given for config {name!r}, which the flow does not declare",
                     line, hint=f"its configs are: {known}"), file)
        )
    for attribute, (file, line) in flow.configs.items():
        declared = inherited_member(cls, attribute)
        if not isinstance(declared, Config):
            continue
        try:
            value = resolve_config(declared, inputs, context)
        except ConfigError as exc:
            analysis.config_problems.append(
                (Problem("bad-config", str(exc), line,
                         hint="give it with --config NAME PATH or --config-value NAME VALUE"), file)
            )
            continue
        except Exception as exc:  # the user's default function
            analysis.config_problems.append(
                (Problem("bad-config", f"config {declared.name!r}: its default raised "
                         f"{type(exc).__name__}: {exc}", line), file)
            )
            continue
        if not is_json_compatible(value):
            analysis.config_problems.append(
                (Problem("bad-config", f"config {declared.name!r}: its value ({type(value).__name__}) is not "
                         "JSON-compatible, and a config's value travels to every task as JSON", line,
                         hint="make the parser return dicts, lists, strings, numbers, booleans or None"),
                 file)
            )
            continue
        analysis.config_values[declared.name] = config_value(value, declared.plain)
        analysis.config_specs.append(
            ConfigSpec(declared.name, attribute, json.dumps(value, ensure_ascii=False, separators=(",", ":")),
                       declared.plain, Location(file, line))
        )


#: The configs' JSON travels in every task's environment (FLOWC_CONFIGS): Linux caps one
#: environment string at 128 KiB (MAX_ARG_STRLEN), and engines cap their documents too.
CONFIGS_MAX_BYTES = 64 * 1024


def _configs_size_problem(analysis: Analysis) -> None:
    size = sum(len(spec.value.encode("utf-8")) + len(spec.name) + 4 for spec in analysis.config_specs)
    if size > CONFIGS_MAX_BYTES:
        file, line = next(iter(analysis.flow.configs.values()))
        analysis.config_problems.append(
            (Problem("bad-config", f"the configs' values take {size} bytes as JSON, more than the "
                     f"{CONFIGS_MAX_BYTES} every task's environment can carry", line,
                     hint="keep large data out of configs: give a path or URL in the config and read "
                     "the data in the step"), file)
        )


def _evaluate_parameters(analysis: Analysis) -> None:
    def live(source: ParameterSource) -> Any:
        cls = analysis.loader.flow_class(analysis.flow.class_name)
        declared = None if cls is None else inherited_member(cls, source.attribute)
        return _parameter_with_configs(analysis, declared, source)

    for source in analysis.flow.parameters:
        spec, problems = parameter_spec(
            source, source.file or analysis.file, lambda source=source: live(source)
        )
        analysis.parameter_problems.extend((p, source.file or analysis.file) for p in problems)
        if spec is not None:
            analysis.parameters.append(spec)
            analysis.parameter_specs.append((source, spec))


def _parameter_with_configs(analysis: Analysis, declared: Any, source: ParameterSource) -> Any:
    """A copy of Parameter ``declared`` with its config expressions evaluated
    (``default=config_expr("cfg").n``), as Metaflow evaluates them before the run; one that fails
    is a problem."""
    import copy

    from flowc.authoring.configs import has_delayed, resolve_delayed

    if declared is None or not any(has_delayed(v) for v in vars(declared).values()):
        return declared
    resolved = copy.copy(declared)
    for key, value in vars(declared).items():
        if has_delayed(value):
            try:
                namespace = _module_globals(analysis)
                vars(resolved)[key] = resolve_delayed(value, analysis.config_values, namespace)
            except Exception as exc:
                vars(resolved)[key] = None
                analysis.config_problems.append(
                    (Problem("bad-config-expression",
                             f"{source.attribute}: a config expression in {key}= cannot be evaluated: "
                             f"{type(exc).__name__}: {exc}", source.line,
                             hint="use the config's name and keys its value has"),
                     source.file or analysis.file)
                )
    return resolved


def _looks_like_join(step: StepSource) -> bool:
    return step.body.uses_inputs_name or "join" in step.name


def _flow_decorators(analysis: Analysis) -> tuple[FlowSettings, list[Problem]]:
    """The flow's settings from its decorators and those it inherits; each problem names the file
    of the decorator it is about (a base flow's module for an inherited one)."""
    by_file: dict[str | None, list[DecoratorCall]] = {}
    for call in analysis.flow.flow_decorators:
        by_file.setdefault(call.file, []).append(call)
    evaluated: list[EvaluatedDecorator] = []
    problems: list[Problem] = []
    for file, calls in by_file.items():
        found: list[Problem] = []
        these = _evaluate_decorators(analysis, calls, None, found)
        found += flow_settings(these)[1]  # checked per file, so that each problem names its own
        problems += [dataclasses.replace(p, file=file) for p in found] if file else found
        evaluated += these
    settings, _ = flow_settings(evaluated)
    return settings, problems


def analyse_source(flow: FlowSource, loader: ModuleLoader, configs: ConfigInputs | None = None) -> Analysis:
    """Gathers the facts of ``flow``; never raises on a malformed flow. ``configs``: config values
    given on the command line (the environment completes them)."""
    analysis = Analysis(flow=flow, loader=loader, config_inputs=configs or ConfigInputs())
    _evaluate_configs(analysis)
    _configs_size_problem(analysis)
    _read_transitions(analysis)
    for step in flow.steps:
        problems: list[Problem] = []
        evaluated = _evaluate_decorators(analysis, step.decorators, step.name, problems)
        settings, more = step_settings(evaluated)
        analysis.settings[step.name] = settings
        analysis.decorator_problems[step.name] = problems + more
    analysis.flow_settings, analysis.decorator_problems[""] = _flow_decorators(analysis)
    _evaluate_parameters(analysis)
    analysis.graph = analyse_graph(
        [
            GraphInput(
                name=step.name,
                transition=(
                    analysis.transitions[step.name].kind if step.name in analysis.transitions else None
                ),
                targets=analysis.successors(step.name),
                takes_inputs=len(step.arg_names) == 2 and step.name not in ("start", "end"),
                looks_like_join=_looks_like_join(step),
            )
            for step in flow.steps
        ]
    )
    return analysis

