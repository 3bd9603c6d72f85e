"""The flow IR: a typed, frozen, versioned description of a flow that every back end reads.

The front end (:mod:`flowc.frontend`) builds it from a flow's source without running any step; back
ends and the task runner read it and never import the user's module to learn the graph. It holds no
live user objects: every value is JSON-compatible, and ``FlowIR.from_json(ir.to_json()) == ir``.

Ordering is deterministic: steps and parameters keep source order, mappings are stored as tuples of
pairs sorted by key, so the JSON of one source is byte-identical on every machine.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import hashlib
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "IR_DIGEST_LENGTH",
    "SCHEMA_VERSION",
    "STEP_KINDS",
    "TRANSITIONS",
    "CatchSpec",
    "ConfigSpec",
    "ContainerSpec",
    "DecoratorSpec",
    "ExitHooks",
    "FlowIR",
    "IRError",
    "JoinKind",
    "Location",
    "ParameterSpec",
    "ParameterType",
    "ProjectSpec",
    "PythonEnvironment",
    "Resources",
    "RetrySpec",
    "ScheduleSpec",
    "Step",
    "StepKind",
    "SwitchCase",
    "TimeoutSpec",
    "Toleration",
    "Transition",
    "Trigger",
    "TriggerKind",
    "ir_digest",
]

#: Bumped on every incompatible change of the IR's shape; ``from_json`` refuses other versions.
#: 2: per-step structure (foreach stack, loops, join kind, where a switch's cases meet), enums
#: checked when read, and the version of flowc that built the IR.
#: 3: ``Step.branch_ends`` (without it, a static join would find no inputs: older IRs are refused).
SCHEMA_VERSION = 3


class StepKind(enum.StrEnum):
    """Metaflow's node types: the out-transition decides, except that a join with one successor is "join"."""

    START = "start"
    LINEAR = "linear"
    SPLIT = "split"
    FOREACH = "foreach"
    SWITCH = "switch"
    JOIN = "join"
    END = "end"


class Transition(enum.StrEnum):
    """How a step hands over to its successors."""

    LINEAR = "linear"
    SPLIT = "split"
    FOREACH = "foreach"
    SWITCH = "switch"
    END = "end"


class JoinKind(enum.StrEnum):
    """What a join closes: a static split (one input per branch) or a foreach (one per index)."""

    STATIC = "static"
    FOREACH = "foreach"


class ParameterType(enum.StrEnum):
    """How a parameter's value is parsed (``json``: any JSON value, Metaflow's ``JSONType``)."""

    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    JSON = "json"


#: The values of :class:`StepKind` and :class:`Transition`, in that order.
STEP_KINDS = tuple(kind.value for kind in StepKind)
TRANSITIONS = tuple(transition.value for transition in Transition)


class IRError(ValueError):
    """An IR document that cannot be read (wrong schema version, malformed JSON)."""


@dataclass(frozen=True)
class Location:
    """Where something is written: ``file`` is the flow file's name as the IR records it."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class ParameterSpec:
    """A flow parameter. ``default`` is JSON-compatible; ``type`` is str, int, float, bool or json."""

    name: str
    type: ParameterType = ParameterType.STR
    default: Any = None
    has_default: bool = False
    required: bool = False
    help: str | None = None
    is_file: bool = False  # IncludeFile: the value is the file's content, read where the run starts
    location: Location | None = None
    # The class attribute that steps read (``self.<attribute>``) when it differs from ``name``.
    attribute: str | None = None
    # The default is a callable, or an IncludeFile's path (then in ``default``): it has no
    # compile-time value and is resolved by the start task where the run starts.
    deferred_default: bool = False
    # Metaflow's separator=: the step sees the text value split on it (a list of str).
    separator: str | None = None


@dataclass(frozen=True)
class ConfigSpec:
    """A ``Config`` attribute with its value, fixed when the IR was built (flowc/frontend/configs.py).

    ``value`` is the value as JSON text (key order kept); ``plain``: steps read it as the parser
    returned it, not as a read-only ``ConfigValue``.
    """

    name: str
    attribute: str
    value: str = "null"
    plain: bool = False
    location: Location | None = None


@dataclass(frozen=True)
class Resources:
    """Normalised resource requests: cores, MiB, GPU count, MiB of local disk."""

    cpu: float | None = None
    memory_mb: int | None = None
    gpu: int | None = None
    disk_mb: int | None = None


@dataclass(frozen=True)
class RetrySpec:
    """``@retry``: ``times`` further attempts after the first, ``minutes_between_retries`` apart."""

    times: int = 3
    minutes_between_retries: float = 2.0


@dataclass(frozen=True)
class TimeoutSpec:
    """``@timeout``: wall-clock limit of one attempt, in seconds."""

    seconds: int


@dataclass(frozen=True)
class CatchSpec:
    """``@catch``: a failing step is caught, its exception stored in ``var`` (if given)."""

    var: str | None = None
    print_exception: bool = True


@dataclass(frozen=True)
class Toleration:
    """A Kubernetes toleration (``@kubernetes(tolerations=[...])``)."""

    key: str | None = None
    operator: str | None = None
    value: str | None = None
    effect: str | None = None


@dataclass(frozen=True)
class ContainerSpec:
    """Where and how a step's container runs, from ``@kubernetes`` / ``@batch`` (all optional)."""

    image: str | None = None
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[Toleration, ...] = ()
    service_account: str | None = None
    image_pull_secrets: tuple[str, ...] = ()
    namespace: str | None = None
    queue: str | None = None
    iam_role: str | None = None
    shared_memory_mb: int | None = None


@dataclass(frozen=True)
class PythonEnvironment:
    """The packages a step's tasks import, from ``@pypi`` merged over ``@pypi_base``.

    ``requirements`` are PEP 508 lines (``pandas==2.2.3``), sorted by package; ``python`` is the
    ``X.Y`` version asked for (None: the configured default). ``name`` (``pypi-`` and 16 hex
    digits) hashes both: steps that declare the same spec share one environment, and the name is
    all a compiled document carries (the lock is made at run or deploy time: flowc/environments).
    """

    requirements: tuple[str, ...] = ()
    python: str | None = None
    name: str = ""


@dataclass(frozen=True)
class DecoratorSpec:
    """Any other decorator (``@card`` and unknown ones), kept by name with its literal attributes."""

    name: str
    attributes: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class SwitchCase:
    """One case of ``self.next({"key": self.target}, condition="attr")``."""

    key: str
    target: str


@dataclass(frozen=True)
class Step:
    """One step of the flow and everything a back end needs to run its tasks.

    ``successors`` lists every possible next step (for a switch, the case targets in case order).
    ``loop_targets`` are the switch targets that jump back to an earlier step: the only cycles allowed.
    ``matching_join`` is set on split and foreach steps; ``split_of`` on joins (the step they close).
    ``foreach_depth`` is how many foreach fan-outs enclose this step's tasks (the length of their
    foreach index path).

    Structure the front end works out once, so that no back end walks the graph again:
    ``foreach_stack`` the foreach steps whose fan-outs enclose this step, outermost first;
    ``loop_head`` the head of the innermost loop the step belongs to (a loop: a switch case
    jumping back to an earlier step, its head); ``loop_body`` on a loop's head, the steps of its
    loop in source order; ``join_kind`` on a join; ``converges_at`` on a switch, the nearest step
    every one of its cases reaches (the end step when they meet only there); ``branch_ends`` on
    the join of a static split, for each branch of the split in order, the steps through which the
    branch can arrive: one, or several when the branch ends in a switch whose cases lead straight
    into the join (Metaflow's semantics: the join's ``inputs`` hold only the case that ran, so
    each branch gives exactly one input). A foreach join's body arrives through any of its
    ``predecessors`` likewise, one input per foreach index.
    """

    name: str
    kind: StepKind
    transition: Transition
    successors: tuple[str, ...] = ()
    predecessors: tuple[str, ...] = ()
    is_join: bool = False
    matching_join: str | None = None
    split_of: str | None = None
    foreach_var: str | None = None
    foreach_depth: int = 0
    condition: str | None = None
    switch_cases: tuple[SwitchCase, ...] = ()
    loop_targets: tuple[str, ...] = ()
    location: Location | None = None
    transition_location: Location | None = None
    docstring: str | None = None
    resources: Resources = field(default_factory=Resources)
    retry: RetrySpec | None = None
    timeout: TimeoutSpec | None = None
    catch: CatchSpec | None = None
    environment: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = ()
    container: ContainerSpec = field(default_factory=ContainerSpec)
    python_environment: PythonEnvironment | None = None
    decorators: tuple[DecoratorSpec, ...] = ()
    assigns: tuple[str, ...] = ()  # artifacts the body assigns (self.x = ...), sorted
    reads: tuple[str, ...] = ()  # artifacts the body reads (self.x), sorted
    foreach_stack: tuple[str, ...] = ()
    loop_head: str | None = None
    loop_body: tuple[str, ...] = ()
    join_kind: JoinKind | None = None
    converges_at: str | None = None
    branch_ends: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class ScheduleSpec:
    """``@schedule``: a cron expression (five standard fields) and an optional IANA timezone.

    ``line`` is where the decorator is written in the flow file (for diagnostics).
    """

    cron: str
    timezone: str | None = None
    line: int | None = None


@dataclass(frozen=True)
class ProjectSpec:
    """``@project(name=...)``: the branch (production or user) is chosen at deploy time."""

    name: str
    line: int | None = None


@dataclass(frozen=True)
class ExitHooks:
    """``@exit_hook(on_success=[fn], on_error=[fn])``: functions of the flow's module, by name, run
    once after the run ends (``flowc.task_runner.hooks``); several decorators add up, in order."""

    on_success: tuple[str, ...] = ()
    on_error: tuple[str, ...] = ()
    line: int | None = None


class TriggerKind(enum.StrEnum):
    EVENT = "event"  # @trigger: a named event, published by `flowc event publish` or the engine's bus
    FLOW = "flow"  # @trigger_on_finish: a run of another flow deployed to the same target succeeded


@dataclass(frozen=True)
class Trigger:
    """One event that starts a deployed run: ``name`` is the event's, or the upstream flow's.

    ``parameters`` maps flow parameters to fields of the event's payload, as ``(parameter, field)``
    pairs sorted by parameter (Metaflow's ``parameters={...}`` of ``@trigger``).
    """

    kind: TriggerKind
    name: str
    parameters: tuple[tuple[str, str], ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class FlowIR:
    """A whole flow. Build it with :func:`flowc.frontend.build_ir`; serialise with :meth:`to_json`."""

    name: str
    source_file: str
    steps: tuple[Step, ...]
    parameters: tuple[ParameterSpec, ...] = ()
    schedule: ScheduleSpec | None = None
    project: ProjectSpec | None = None
    docstring: str | None = None
    class_attributes: tuple[str, ...] = ()  # class-level names a step may read (constants)
    flow_decorators: tuple[DecoratorSpec, ...] = ()
    # `--with` specs already lowered into the steps; tasks get them too (flowc.frontend.decospecs)
    with_decorators: tuple[str, ...] = ()
    # `Config` attributes and their values (in decorators and parameter defaults already)
    configs: tuple[ConfigSpec, ...] = ()
    exit_hooks: ExitHooks | None = None
    triggers: tuple[Trigger, ...] = ()  # sorted by (kind, name)
    schema_version: int = SCHEMA_VERSION
    flowc_version: str = ""  # the flowc that built this IR (flowc.__version__)

    # ---- lookups -------------------------------------------------------------------------
    @property
    def event_triggers(self) -> tuple[Trigger, ...]:
        """The ``@trigger`` events (not ``@trigger_on_finish`` flows) that start the flow."""
        return tuple(t for t in self.triggers if t.kind is TriggerKind.EVENT)

    def step(self, name: str) -> Step:
        """The step called ``name`` (KeyError if there is none)."""
        for candidate in self.steps:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    @property
    def step_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.steps)

    def parameter(self, name: str) -> ParameterSpec:
        for candidate in self.parameters:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def config_values(self) -> dict[str, Any]:
        """``{config name: value}``: what the IR's configs were fixed to (empty without configs)."""
        return {c.name: json.loads(c.value) for c in self.configs}

    # ---- serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _encode(self)

    def to_json(self, indent: int | None = 2) -> str:
        """Canonical JSON: sorted keys, so equal IRs give byte-identical text."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, ensure_ascii=False) + "\n"

    @functools.cached_property
    def digest(self) -> str:
        """:func:`ir_digest` of :meth:`to_json`'s text: the IR's identity. Compiled documents carry
        it in every task's command (``--ir``), the code package carries the text, and a task
        refuses a package whose IR has another digest (docs/architecture.md, "Code package")."""
        return ir_digest(self.to_json().encode("utf-8"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowIR:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise IRError(
                f"IR schema version {version!r} is not supported (this flowc reads {SCHEMA_VERSION}); "
                "compile the flow again with this flowc"
            )
        return _decode(cls, data)

    @classmethod
    def from_json(cls, text: str) -> FlowIR:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise IRError(f"IR is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise IRError("IR JSON must be an object")
        return cls.from_dict(data)


#: Hex characters of an IR digest: 128 bits of SHA-256 tell IRs apart, and keep the task runner's
#: argv under its 512 bytes (docs/architecture.md, "Task runner command line").
IR_DIGEST_LENGTH = 32


def ir_digest(text: bytes) -> str:
    """The digest of an IR's JSON text (UTF-8): the first :data:`IR_DIGEST_LENGTH` hex characters
    of its SHA-256."""
    return hashlib.sha256(text).hexdigest()[:IR_DIGEST_LENGTH]


# ---- generic dataclass <-> JSON codec ------------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in sorted(value.items())}
    return value


def _decode(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        return _decode(options[0], data) if len(options) == 1 else data
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_decode(args[0], item) for item in data)
        return tuple(_decode(a, item) for a, item in zip(args, data, strict=True))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(data)
        except ValueError:
            choices = ", ".join(member.value for member in tp)
            raise IRError(f"{data!r} is not a {tp.__name__} (one of {choices})") from None
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        known = {f.name for f in dataclasses.fields(tp)}
        unknown = set(data) - known
        if unknown:
            raise IRError(f"unknown field(s) {sorted(unknown)} in IR {tp.__name__}")
        return tp(**{k: _decode(hints[k], v) for k, v in data.items()})
    if tp is Any:
        return _freeze(data)
    return data


def _freeze(value: Any) -> Any:
    """JSON lists become tuples so that decoded values compare equal to what the front end built."""
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return {k: _freeze(v) for k, v in value.items()}
    return value
