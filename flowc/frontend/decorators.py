"""Normalises step and flow decorators (already evaluated to Python values) into IR fields.

Defaults and merging follow Metaflow: ``@retry`` is 3 times, 2 minutes apart; ``@timeout`` adds its
seconds, minutes and hours; ``@kubernetes``/``@batch`` resource hints merge with ``@resources`` by
taking the larger value (Metaflow's ``KubernetesDecorator.step_init`` does the same), the rest of
their arguments describe the container. Problems are returned as :class:`Problem` for the checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flowc.environments.spec import PypiDeclaration, declaration
from flowc.frontend.cron import CronError, normalise_cron
from flowc.frontend.units import cpu_cores, gpu_count, mebibytes
from flowc.frontend.values import freeze, is_json_compatible
from flowc.ir import (
    CatchSpec,
    ContainerSpec,
    DecoratorSpec,
    ExitHooks,
    ProjectSpec,
    Resources,
    RetrySpec,
    ScheduleSpec,
    TimeoutSpec,
    Toleration,
    Trigger,
    TriggerKind,
)

__all__ = ["EvaluatedDecorator", "FlowSettings", "Problem", "StepSettings", "flow_settings", "step_settings"]


@dataclass(frozen=True)
class EvaluatedDecorator:
    """A decorator with its keyword arguments evaluated."""

    name: str
    arguments: dict[str, Any]
    line: int
    own: bool = False  # the user's own decorator (one of the same name as an API one included)


@dataclass(frozen=True)
class Problem:
    """Something wrong with a decorator, turned into a Diagnostic by the checks."""

    code: str
    message: str
    line: int
    hint: str | None = None
    severity: str = "error"
    file: str | None = None  # where the decorator is written, when not in the flow's file or step's


@dataclass
class StepSettings:
    """The IR fields of a step that come from its decorators."""

    resources: Resources = field(default_factory=Resources)
    retry: RetrySpec | None = None
    timeout: TimeoutSpec | None = None
    catch: CatchSpec | None = None
    environment: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = ()
    container: ContainerSpec = field(default_factory=ContainerSpec)
    pypi: PypiDeclaration | None = None
    decorators: tuple[DecoratorSpec, ...] = ()
    catch_line: int | None = None


@dataclass
class FlowSettings:
    """The IR fields of the flow that come from its class decorators."""

    schedule: ScheduleSpec | None = None
    project: ProjectSpec | None = None
    pypi_base: PypiDeclaration | None = None
    exit_hooks: ExitHooks | None = None
    triggers: tuple[Trigger, ...] = ()
    decorators: tuple[DecoratorSpec, ...] = ()


_KNOWN_ARGUMENTS = {
    "retry": {"times", "minutes_between_retries"},
    "catch": {"var", "print_exception"},
    "timeout": {"seconds", "minutes", "hours"},
    "resources": {"cpu", "memory", "gpu", "disk", "shared_memory"},
    "environment": {"vars"},
    "secrets": {"sources"},
    "kubernetes": {
        "cpu", "memory", "gpu", "disk", "image", "node_selector", "tolerations", "service_account",
        "image_pull_secrets", "namespace", "shared_memory",
    },
    "batch": {"cpu", "memory", "gpu", "image", "queue", "iam_role", "shared_memory"},
    "schedule": {"cron", "hourly", "daily", "weekly", "timezone"},
    "project": {"name"},
    "pypi": {"packages", "python", "disabled"},
    "pypi_base": {"packages", "python", "disabled"},
    "exit_hook": {"on_success", "on_error", "options"},
    "trigger": {"event", "events", "parameters", "options"},
    "trigger_on_finish": {"flow", "flows", "options"},
    "card": {"type", "id", "options", "timeout", "save_errors", "customize", "refresh_interval", "scope"},
}
_RESOURCE_KEYS = ("cpu", "memory", "gpu", "disk")


def _unknown_arguments(decorator: EvaluatedDecorator) -> list[Problem]:
    known = _KNOWN_ARGUMENTS.get(decorator.name)
    if known is None:
        return []
    extra = sorted(set(decorator.arguments) - known)
    if not extra:
        return []
    return [
        Problem(
            "decorator-argument-ignored",
            f"@{decorator.name} argument(s) {', '.join(extra)} are not supported by flowc and are ignored",
            decorator.line,
            hint=f"@{decorator.name} takes {', '.join(sorted(known))}",
            severity="warning",
        )
    ]


def _number(value: Any, what: str, *, minimum: float = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{what} must be a number, not {value!r}")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"{what} must be a number, not {value!r}") from None
    if number < minimum:
        raise ValueError(f"{what} must be at least {minimum:g}, not {value!r}")
    return number


def _retry(arguments: dict[str, Any]) -> RetrySpec:
    times = _number(arguments.get("times", 3), "times")
    if times != int(times):
        raise ValueError(f"times must be a whole number, not {arguments['times']!r}")
    minutes = _number(arguments.get("minutes_between_retries", 2), "minutes_between_retries")
    return RetrySpec(times=int(times), minutes_between_retries=float(minutes))


def _timeout(arguments: dict[str, Any]) -> TimeoutSpec:
    total = (
        _number(arguments.get("seconds", 0) or 0, "seconds")
        + _number(arguments.get("minutes", 0) or 0, "minutes") * 60
        + _number(arguments.get("hours", 0) or 0, "hours") * 3600
    )
    if total <= 0:
        raise ValueError("@timeout needs a positive duration: seconds=, minutes= or hours=")
    return TimeoutSpec(seconds=round(total))


def _catch(arguments: dict[str, Any]) -> CatchSpec:
    var = arguments.get("var")
    if var is not None and (not isinstance(var, str) or not var.isidentifier()):
        raise ValueError(f"var must name an artifact (an identifier), not {var!r}")
    return CatchSpec(var=var, print_exception=bool(arguments.get("print_exception", True)))


def _environment(arguments: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    variables = arguments.get("vars") or {}
    if not isinstance(variables, dict):
        raise ValueError(f"vars must be a dict of names to values, not {variables!r}")
    return tuple(sorted((str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in variables.items()))


def _secrets(arguments: dict[str, Any]) -> tuple[str, ...]:
    sources = arguments.get("sources") or ()
    if isinstance(sources, str) or not isinstance(sources, list | tuple):
        raise ValueError(f"sources must be a list, not {sources!r}")
    return tuple(s if isinstance(s, str) else json.dumps(s, sort_keys=True) for s in sources)


def _resources(arguments: dict[str, Any]) -> dict[str, Any]:
    """cpu / memory_mb / gpu / disk_mb present in ``arguments``, normalised."""
    out: dict[str, Any] = {}
    if arguments.get("cpu") is not None:
        out["cpu"] = cpu_cores(arguments["cpu"])
    if arguments.get("memory") is not None:
        out["memory_mb"] = mebibytes(arguments["memory"])
    if arguments.get("gpu") is not None:
        out["gpu"] = gpu_count(arguments["gpu"])
    if arguments.get("disk") is not None:
        out["disk_mb"] = mebibytes(arguments["disk"])
    return out


def _node_selector(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        # Metaflow accepts "key=value,key2=value2".
        pairs = [item.split("=", 1) for item in value.split(",") if item.strip()]
        if any(len(p) != 2 for p in pairs):
            raise ValueError(f"node_selector {value!r} is not 'key=value,...'")
        return tuple(sorted((k.strip(), v.strip()) for k, v in pairs))
    if isinstance(value, dict):
        return tuple(sorted((str(k), str(v)) for k, v in value.items()))
    raise ValueError(f"node_selector must be a dict or 'key=value,...', not {value!r}")


def _tolerations(value: Any) -> tuple[Toleration, ...]:
    if not value:
        return ()
    if not isinstance(value, list | tuple) or not all(isinstance(t, dict) for t in value):
        raise ValueError(f"tolerations must be a list of dicts, not {value!r}")
    allowed = {"key", "operator", "value", "effect"}
    out = []
    for item in value:
        extra = set(item) - allowed
        if extra:
            raise ValueError(f"toleration keys {sorted(extra)} are not supported ({sorted(allowed)})")
        out.append(Toleration(**{k: (None if v is None else str(v)) for k, v in item.items()}))
    return tuple(out)


def _string_list(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError(f"{what} must be a list of strings, not {value!r}")


def _container(arguments: dict[str, Any], current: ContainerSpec) -> ContainerSpec:
    changes: dict[str, Any] = {}
    for key in ("image", "service_account", "namespace", "queue", "iam_role"):
        if arguments.get(key) is not None:
            changes[key] = str(arguments[key])
    if "node_selector" in arguments:
        changes["node_selector"] = _node_selector(arguments["node_selector"])
    if "tolerations" in arguments:
        changes["tolerations"] = _tolerations(arguments["tolerations"])
    if "image_pull_secrets" in arguments:
        changes["image_pull_secrets"] = _string_list(arguments["image_pull_secrets"], "image_pull_secrets")
    if arguments.get("shared_memory") is not None:
        changes["shared_memory_mb"] = mebibytes(arguments["shared_memory"])
    return ContainerSpec(**{**current.__dict__, **changes})


def _merge_max(current: Resources, hints: dict[str, Any]) -> Resources:
    values = dict(current.__dict__)
    for key, value in hints.items():
        values[key] = value if values[key] is None else max(values[key], value)
    return Resources(**values)


def _generic(decorator: EvaluatedDecorator) -> DecoratorSpec:
    return DecoratorSpec(
        decorator.name, tuple(sorted((k, freeze(v)) for k, v in decorator.arguments.items()))
    )


def step_settings(decorators: list[EvaluatedDecorator]) -> tuple[StepSettings, list[Problem]]:
    """IR fields for a step's decorators (source order) and the problems found in them."""
    settings = StepSettings()
    problems: list[Problem] = []
    generic: list[DecoratorSpec] = []
    seen: set[str] = set()
    for decorator in decorators:
        name, arguments = decorator.name, decorator.arguments
        if decorator.own:
            generic.append(_generic(decorator))
            continue
        if name in _KNOWN_ARGUMENTS and name in seen and name not in ("kubernetes", "batch", "card"):
            problems.append(
                Problem("duplicate-decorator", f"@{name} is given twice", decorator.line,
                        hint="keep one; merge their arguments")
            )
            continue
        seen.add(name)
        problems.extend(_unknown_arguments(decorator))
        try:
            if name == "retry":
                settings.retry = _retry(arguments)
            elif name == "timeout":
                settings.timeout = _timeout(arguments)
            elif name == "catch":
                settings.catch = _catch(arguments)
                settings.catch_line = decorator.line
            elif name == "environment":
                settings.environment = _environment(arguments)
            elif name == "secrets":
                settings.secrets = _secrets(arguments)
            elif name == "pypi":
                settings.pypi = declaration(arguments)
            elif name == "resources":
                settings.resources = _merge_max(settings.resources, _resources(arguments))
                if arguments.get("shared_memory") is not None:
                    settings.container = _container(
                        {"shared_memory": arguments["shared_memory"]}, settings.container
                    )
            elif name in ("kubernetes", "batch"):
                settings.resources = _merge_max(
                    settings.resources, _resources({k: arguments.get(k) for k in _RESOURCE_KEYS})
                )
                settings.container = _container(arguments, settings.container)
            elif name in _FLOW_ONLY:
                problems.append(
                    Problem("misplaced-decorator", f"@{name} decorates the flow class, not a step",
                            decorator.line, hint=f"move @{name} above the class statement")
                )
            else:
                if not all(is_json_compatible(v) for v in arguments.values()):
                    raise ValueError("arguments must be JSON-compatible literals")
                if name == "card":
                    from flowc.cards.decorator import CardSpec

                    CardSpec.from_attributes(0, arguments)  # refused here, not when the task runs
                generic.append(_generic(decorator))
        except (ValueError, TypeError) as exc:
            problems.append(Problem("bad-decorator", f"@{name}: {exc}", decorator.line))
    settings.decorators = tuple(generic)
    return settings, problems


_FLOW_ONLY = ("schedule", "project", "pypi_base", "exit_hook", "trigger", "trigger_on_finish")


def _hook_names(arguments: dict[str, Any], key: str) -> tuple[str, ...]:
    """The function names of ``on_success`` / ``on_error`` (a function, as the live module
    records it, counts by its ``__name__``, as Metaflow's ExitHookDecorator does)."""
    value = arguments.get(key) or ()
    if not isinstance(value, list | tuple):
        raise ValueError(f"{key} must be a list of functions, not {value!r}")
    names = []
    for item in value:
        name = item if isinstance(item, str) else getattr(item, "__name__", None)
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{key}: {item!r} is not a function of the flow's module (or its name)")
        names.append(name)
    return tuple(names)


def _exit_hooks(arguments: dict[str, Any], line: int, current: ExitHooks | None) -> ExitHooks:
    on_success, on_error = _hook_names(arguments, "on_success"), _hook_names(arguments, "on_error")
    if not on_success and not on_error:
        raise ValueError("give at least one of on_success=[...] and on_error=[...]")
    if current is None:
        return ExitHooks(on_success=on_success, on_error=on_error, line=line)
    return ExitHooks(current.on_success + on_success, current.on_error + on_error, current.line)


def _parameter_map(value: Any, what: str) -> tuple[tuple[str, str], ...]:
    """Metaflow's ``parameters=``: ``{"param": "payload field"}``, or a list of names that are both
    (``["a", ("b", "field")]`` too)."""
    if value is None:
        return ()
    pairs: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list | tuple):
        for item in value:
            if isinstance(item, str):
                pairs.append((item, item))
            elif isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((item[0], item[1]))
            else:
                raise ValueError(f"{what}: {item!r} is neither a name nor a (parameter, field) pair")
    else:
        raise ValueError(f"{what} must be a dict {{parameter: payload field}}, not {value!r}")
    for parameter, payload_field in pairs:
        if not isinstance(parameter, str) or not isinstance(payload_field, str) or not parameter:
            raise ValueError(f"{what}: {parameter!r}: {payload_field!r} must map a name to a field name")
    return tuple(sorted((str(p), str(f)) for p, f in pairs))


def _named(item: Any, what: str) -> tuple[str, Any]:
    """``"name"`` or ``{"name": ..., "parameters": ...}`` -> (name, parameters)."""
    if isinstance(item, str):
        name, parameters = item, None
    elif isinstance(item, dict):
        name, parameters = item.get("name"), item.get("parameters")
        extra = sorted(set(item) - {"name", "parameters", "project", "project_branch"})
        if extra:
            raise ValueError(f"{what}: unknown key(s) {', '.join(extra)}")
        qualified = sorted({"project", "project_branch"} & set(item))
        if qualified:
            # Metaflow waits for metaflow.<project>.<branch>.<Flow>.end then; flowc's finish events
            # name the flow only (flowc.events.finished_run_event), so the keys cannot be honoured.
            raise ValueError(
                f"{what}: {' and '.join(qualified)} are not supported: a finished run's event names "
                "its flow only (metaflow.<Flow>.end); give the flow's name"
            )
    else:
        raise ValueError(f"{what} must be a name or a dict with a name, not {item!r}")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{what} needs a non-empty name")
    return name, parameters


def _triggers(name: str, arguments: dict[str, Any], line: int) -> list[Trigger]:
    """``@trigger(event=... | events=[...], parameters=...)`` or ``@trigger_on_finish(flow=... |
    flows=[...])``, as Metaflow reads them (TriggerDecorator / TriggerOnFinishDecorator)."""
    one, many = ("event", "events") if name == "trigger" else ("flow", "flows")
    if (arguments.get(one) is None) == (arguments.get(many) is None):
        raise ValueError(f"give exactly one of {one}= and {many}=")
    items = [arguments[one]] if arguments.get(one) is not None else arguments[many]
    if not isinstance(items, list | tuple) or not items:
        raise ValueError(f"{many}= must be a non-empty list")
    shared = _parameter_map(arguments.get("parameters"), "parameters")
    kind = TriggerKind.EVENT if name == "trigger" else TriggerKind.FLOW
    found = []
    for item in items:
        trigger_name, own = _named(item, one)
        if kind is TriggerKind.FLOW and own is not None:
            raise ValueError("a flow trigger takes no parameters (read current.trigger.run instead)")
        if kind is TriggerKind.FLOW and not trigger_name.isidentifier():
            raise ValueError(f"flow= must be a flow's class name, not {trigger_name!r}")
        parameters = _parameter_map(own, f"{one} {trigger_name!r} parameters") if own is not None else shared
        found.append(Trigger(kind=kind, name=trigger_name, parameters=parameters, line=line))
    return found


def _cron(arguments: dict[str, Any]) -> str | None:
    # Metaflow's precedence (ScheduleDecorator.flow_init): cron, weekly, hourly, daily (the default).
    cron = arguments.get("cron")
    if cron:
        if not isinstance(cron, str):
            raise ValueError(f"cron must be a string, not {cron!r}")
        try:  # EventBridge's six fields (Metaflow's Step Functions form) become five standard ones
            return normalise_cron(cron)
        except CronError as exc:
            raise ValueError(f"cron {cron!r}: {exc}") from None
    if arguments.get("weekly"):
        return "0 0 * * 0"
    if arguments.get("hourly"):
        return "0 * * * *"
    if arguments.get("daily", True):
        return "0 0 * * *"
    return None


def _is_time_zone(name: Any) -> bool:
    """Whether ``name`` is an IANA time zone (every target's engine resolves the same database)."""
    import zoneinfo

    if not isinstance(name, str) or not name or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def flow_settings(decorators: list[EvaluatedDecorator]) -> tuple[FlowSettings, list[Problem]]:
    """IR fields for the flow class's decorators and the problems found in them."""
    settings = FlowSettings()
    problems: list[Problem] = []
    generic: list[DecoratorSpec] = []
    for decorator in decorators:
        if decorator.own:
            generic.append(_generic(decorator))
            continue
        problems.extend(_unknown_arguments(decorator))
        try:
            if decorator.name == "schedule":
                cron = _cron(decorator.arguments)
                timezone = decorator.arguments.get("timezone")
                if timezone is not None and not _is_time_zone(timezone):
                    raise ValueError(f"timezone must be an IANA name like 'Europe/Paris', not {timezone!r}")
                if cron is not None:
                    settings.schedule = ScheduleSpec(cron=cron, timezone=timezone, line=decorator.line)
            elif decorator.name == "project":
                name = decorator.arguments.get("name")
                if not isinstance(name, str) or not name:
                    raise ValueError("name= must be a non-empty string")
                settings.project = ProjectSpec(name=name, line=decorator.line)
            elif decorator.name == "pypi_base":
                settings.pypi_base = declaration(decorator.arguments)
            elif decorator.name == "exit_hook":
                settings.exit_hooks = _exit_hooks(decorator.arguments, decorator.line, settings.exit_hooks)
            elif decorator.name in ("trigger", "trigger_on_finish"):
                added = _triggers(decorator.name, decorator.arguments, decorator.line)
                seen = {(t.kind, t.name) for t in settings.triggers}
                for trigger in added:
                    if (trigger.kind, trigger.name) in seen:
                        raise ValueError(f"{trigger.kind.value} {trigger.name!r} is named twice")
                    seen.add((trigger.kind, trigger.name))
                triggers = (*settings.triggers, *added)
                settings.triggers = tuple(sorted(triggers, key=lambda t: (t.kind.value, t.name)))
            elif decorator.name in _KNOWN_ARGUMENTS:
                problems.append(
                    Problem("misplaced-decorator", f"@{decorator.name} decorates a step, not the flow class",
                            decorator.line, hint=f"move @{decorator.name} onto the steps it concerns")
                )
            else:
                if not all(is_json_compatible(v) for v in decorator.arguments.values()):
                    raise ValueError("arguments must be JSON-compatible literals")
                generic.append(_generic(decorator))
        except (ValueError, TypeError) as exc:
            problems.append(Problem("bad-decorator", f"@{decorator.name}: {exc}", decorator.line))
    settings.decorators = tuple(generic)
    return settings, problems
