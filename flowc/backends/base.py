"""The contract every back end follows, and the shared capability check.

A back end declares :class:`Capabilities`: for each construct of the IR, whether the target can
express it and, when not, why. :func:`refusals` turns that declaration into compile-time
diagnostics naming the step, the line and the reason, so no construct is silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from flowc.backends.generated import GeneratedFileError, check_generated

if TYPE_CHECKING:
    import argparse

    from flowc.backends.deploy import DeployHooks
    from flowc.backends.options import CompileOptions, EngineOptions, TriggerOptions
    from flowc.config import Settings
    from flowc.diagnostics import Diagnostic
    from flowc.ir import FlowIR, ParameterSpec, Step

__all__ = [
    "CONSTRUCTS",
    "Backend",
    "Capabilities",
    "CompiledFile",
    "EngineRun",
    "GeneratedFileError",
    "OperateError",
    "constructs_of_step",
    "refusals",
]

#: Every construct a target may or may not support, with a one-line description for the docs.
CONSTRUCTS: Mapping[str, str] = {
    "linear": "a step followed by one step",
    "branch": "static split into parallel steps and their join",
    "foreach": "fan-out over a list and its join",
    "nested_foreach": "a foreach inside another foreach",
    "switch": "conditional transition: only the chosen case runs",
    "loop": "a switch case that jumps back to an earlier step",
    "parameters": "flow parameters given at trigger time",
    "required_parameters": "parameters without a default that must be given",
    "retry": "@retry: further attempts with a delay",
    "catch": "@catch: a failed step is recorded and the run goes on",
    "timeout": "@timeout: an attempt is killed after a limit",
    "resources": "@resources: cpu, memory, disk",
    "gpu": "@resources(gpu=N)",
    "environment": "@environment: extra environment variables",
    "secrets": "@secrets: secret references resolved at run time",
    "schedule": "@schedule: a cron schedule",
    "schedule_timezone": "@schedule(timezone=...)",
    "project": "@project: branch-qualified names",
    "exit_hook": "@exit_hook: functions run once after the run ends, with its status",
    "trigger_event": "@trigger: a named event starts a run, its payload mapped to parameters",
    "trigger_on_finish": "@trigger_on_finish: a successful run of another flow starts a run",
}


@dataclass(frozen=True)
class Capabilities:
    """What one target can express: ``unsupported`` maps a construct to the reason it cannot,
    ``limits`` the combinations of supported constructs it refuses (by diagnostic code)."""

    target: str
    unsupported: Mapping[str, str] = field(default_factory=dict)
    notes: Mapping[str, str] = field(default_factory=dict)  # how a supported construct is lowered
    #: Shapes refused although each construct in them is supported: diagnostic code -> what is
    #: refused and why. The target's checks refuse with these codes only; the docs' matrix lists them.
    limits: Mapping[str, str] = field(default_factory=dict)

    def supports(self, construct: str) -> bool:
        if construct not in CONSTRUCTS:
            raise KeyError(f"unknown construct {construct!r}")
        return construct not in self.unsupported


@dataclass(frozen=True)
class CompiledFile:
    """One output document: a file name (relative) and its exact text, which parses as its kind
    (``.py``, ``.yaml``, ``.json``): :class:`flowc.backends.generated.GeneratedFileError` if not."""

    name: str
    text: str

    def __post_init__(self) -> None:
        # Parsed here, so no target can hand a file to `compile` or `deploy` unchecked.
        check_generated(self.name, self.text)


@dataclass(frozen=True)
class EngineRun:
    """One run as its engine knows it: the flowc run id, the engine's own state for it (Argo's
    phase, an execution's status, a DAG run's state), when it started (ISO 8601), and whether the
    engine considers it over."""

    run_id: str
    state: str
    started: str | None
    finished: bool


class OperateError(Exception):
    """An engine refused or could not do what ``flowc terminate`` / ``flowc runs`` asked (one line;
    ``code`` is the exit code: 1 the engine failed or the run is not there, 2 bad configuration)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class Backend(Protocol):
    """A target. ``compile`` must be deterministic and must not touch the network."""

    name: str
    capabilities: Capabilities

    def add_arguments(self, command: str, parser: argparse.ArgumentParser) -> None:
        """Adds target-specific options to ``flowc compile|deploy|trigger``."""

    def compile(self, ir: FlowIR, settings: Settings, options: CompileOptions) -> list[CompiledFile]:
        """The documents for ``ir``; raises CompileError with diagnostics for refused constructs."""

    @property
    def deployment(self) -> DeployHooks:
        """The target's hooks of the one deploy and undeploy (:mod:`flowc.backends.deploy`)."""

    def trigger(self, flow_name: str, settings: Settings, options: TriggerOptions) -> int:
        """Starts a run of a deployed flow; returns an exit code."""

    def engine_runs(self, flow_name: str, settings: Settings, options: EngineOptions) -> list[EngineRun]:
        """The runs of every deployment of ``flow_name`` the engine knows (OperateError if it cannot say)."""

    def terminate(self, flow_name: str, run_id: str, settings: Settings, options: EngineOptions) -> str:
        """Stops run ``run_id`` on the engine; returns what it did (OperateError if it could not)."""


def constructs_of_step(ir: FlowIR, step: Step) -> Iterator[str]:
    """The constructs that ``step`` uses (see :data:`CONSTRUCTS`)."""
    transition_construct = {"split": "branch", "foreach": "foreach", "switch": "switch"}
    if step.transition in transition_construct:
        yield transition_construct[step.transition]
    if step.transition == "foreach" and step.foreach_depth >= 1:
        yield "nested_foreach"
    if step.loop_targets:
        yield "loop"
    if step.retry is not None:
        yield "retry"
    if step.catch is not None:
        yield "catch"
    if step.timeout is not None:
        yield "timeout"
    resources = step.resources
    if resources.cpu is not None or resources.memory_mb is not None or resources.disk_mb is not None:
        yield "resources"
    if resources.gpu:
        yield "gpu"
    if step.environment:
        yield "environment"
    if step.secrets:
        yield "secrets"


def refusals(ir: FlowIR, capabilities: Capabilities) -> Iterator[Diagnostic]:
    """A diagnostic for every use of a construct the target cannot express, and for a schedule
    that could not start its runs (a required parameter without default: nobody gives it)."""
    from flowc.diagnostics import refuse_step

    def refuse(construct: str, step: Step | None, line: int | None) -> Diagnostic:
        return refuse_step(
            ir,
            step,
            f"unsupported-{construct.replace('_', '-')}",
            f"{capabilities.target} cannot express {CONSTRUCTS[construct]}: "
            f"{capabilities.unsupported[construct]}",
            f"choose another target or remove the construct (see docs/targets.md#{capabilities.target})",
            line=line,
        )

    for step in ir.steps:
        for construct in constructs_of_step(ir, step):
            if not capabilities.supports(construct):
                yield refuse(construct, step, None)
    required = [p for p in ir.parameters if p.required and not p.has_default and not p.deferred_default]
    flow_constructs: list[tuple[str, int | None]] = []
    if ir.parameters:
        flow_constructs.append(("parameters", _parameter_line(ir.parameters)))
    if required:
        flow_constructs.append(("required_parameters", _parameter_line(required)))
    if ir.schedule is not None:
        flow_constructs.append(("schedule", ir.schedule.line))
        if ir.schedule.timezone:
            flow_constructs.append(("schedule_timezone", ir.schedule.line))
    if ir.project is not None:
        flow_constructs.append(("project", ir.project.line))
    if ir.exit_hooks is not None:
        flow_constructs.append(("exit_hook", ir.exit_hooks.line))
    for trigger in ir.triggers:
        construct = "trigger_event" if trigger.kind == "event" else "trigger_on_finish"
        if (construct, trigger.line) not in flow_constructs:
            flow_constructs.append((construct, trigger.line))
    for construct, line in flow_constructs:
        if not capabilities.supports(construct):
            yield refuse(construct, None, line)
    if ir.schedule is not None and required and capabilities.supports("schedule"):
        names = ", ".join(repr(p.name) for p in required)
        yield refuse_step(
            ir,
            None,
            "scheduled-required-parameters",
            f"@schedule starts runs that nobody gives parameters to, but {names} has no default",
            "give the parameter a default, or remove @schedule",
            line=ir.schedule.line,
        )


def _parameter_line(parameters: Sequence[ParameterSpec]) -> int | None:
    return next((p.location.line for p in parameters if p.location is not None), None)
