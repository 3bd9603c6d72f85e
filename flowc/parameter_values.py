"""Parameter values: parsed and checked against the flow's :class:`~flowc.ir.ParameterSpec` list.

Used by the task runner (start task) and by every launcher's command line. Text is parsed by the
parameter's type (``int``, ``float``, ``bool``, ``str``, ``json``); values that are already
JSON-native (from a params file) are accepted as they are when they fit the type. ``bool`` text
is ``True``/``False`` in any case, or ``1/0``, ``yes/no``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

from flowc.ir import ParameterSpec

__all__ = [
    "EVENTS_KEY",
    "OBJECTS_KEY",
    "TAGS_KEY",
    "ParameterError",
    "apply_defaults",
    "parse_value",
    "read_params_file",
    "resolve_parameters",
    "step_value",
    "trigger_values",
]

#: Key of a start task's parameters object mapping names to datastore objects holding their values
#: (flowc.backends.large_parameters; docs/architecture.md, "Task runner command line").
OBJECTS_KEY = "$objects"
#: Name, among those stored objects, of the run's tags that ``flowc trigger --tag`` gives (a JSON
#: list): the start task adds them to the run's user tags (flowc.backends.large_parameters).
TAGS_KEY = "$tags"
#: Key of a start task's parameters holding the bodies of the events that started the run (an
#: engine's event trigger: flowc.authoring.run_trigger), what ``current.trigger`` shows.
EVENTS_KEY = "$events"

_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off"})


class ParameterError(ValueError):
    """A missing, unknown or badly typed parameter; the message names it (exit code 2)."""


def _bad(spec: ParameterSpec, value: Any, expected: str) -> ParameterError:
    shown = repr(value)
    if len(shown) > 200:
        shown = shown[:200] + "..."
    return ParameterError(f"parameter {spec.name!r}: {shown} is not a valid {spec.type} ({expected})")


def parse_value(spec: ParameterSpec, value: Any) -> Any:
    """The value of parameter ``spec`` given as text or as a JSON-native value.

    Raises:
        ParameterError: the value does not fit the parameter's type.
    """
    kind = spec.type
    if spec.is_file:
        if isinstance(value, str | bytes):
            return value
        raise _bad(spec, value, "expected the file's content")
    if kind == "str":
        if isinstance(value, str):
            return value
        raise _bad(spec, value, "expected text")
    if kind == "int":
        if isinstance(value, bool):
            raise _bad(spec, value, "expected a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise _bad(spec, value, "expected a whole number such as 3")
    if kind == "float":
        if isinstance(value, bool):
            raise _bad(spec, value, "expected a number")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
        raise _bad(spec, value, "expected a number such as 0.5")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        raise _bad(spec, value, "expected True or False")
    if kind == "json":
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise _bad(spec, value, f"expected JSON: {exc}") from None
        if _is_json_native(value):
            return value
        raise _bad(spec, value, "expected a JSON value")
    raise ParameterError(f"parameter {spec.name!r} has unknown type {kind!r}")


def _is_json_native(value: Any) -> bool:
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(_is_json_native(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json_native(v) for k, v in value.items())
    return False


def apply_defaults(spec: ParameterSpec) -> Any:
    """The value of ``spec`` when none is given (its default, parsed like a given value)."""
    if spec.default is None:
        return None
    default = spec.default
    if isinstance(default, tuple):  # the IR freezes JSON lists into tuples
        default = _thaw(default)
    return parse_value(spec, default)


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_thaw(item) for item in value]
    if isinstance(value, dict):
        return {key: _thaw(item) for key, item in value.items()}
    return value


def step_value(spec: ParameterSpec, value: Any) -> Any:
    """The value a step sees: with ``separator=``, non-empty text split on it (Metaflow's
    ``FlowSpec._set_constants``); the run records, shows and resumes the text itself."""
    if spec.separator and isinstance(value, str) and value:
        return value.split(spec.separator)
    return value


def resolve_parameters(specs: Iterable[ParameterSpec], given: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter's value: given ones parsed, the others defaulted, in the flow's order.

    Args:
        specs: the flow's parameters (``FlowIR.parameters``).
        given: ``{name: value}``; values are text or JSON-native.

    Raises:
        ParameterError: an unknown name, a missing required parameter, or a bad value (the first
            problem found, naming the parameter).
    """
    specs = list(specs)
    known = {spec.name for spec in specs}
    unknown = sorted(set(given) - known)
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise ParameterError(f"unknown parameter {unknown[0]!r} (this flow's parameters: {names})")
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.name in given and given[spec.name] is not None:
            values[spec.name] = parse_value(spec, given[spec.name])
        elif spec.required:
            raise ParameterError(f"parameter {spec.name!r} is required but no value was given")
        else:
            values[spec.name] = apply_defaults(spec)
    return values


def read_params_file(path: str) -> dict[str, str]:
    """``--params-file FILE``: a JSON object of ``{name: value}``, as command-line text per name.

    The way to give values too large for a command line (Linux caps one argument at 128 KiB):
    a string is taken as typed, any other JSON value as its JSON text (``7``, ``true``,
    ``{"a": 1}``), which every parameter type parses back to the same value.

    Raises:
        ParameterError: the file cannot be read or is not a JSON object.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            given = json.load(handle)
    except OSError as exc:
        raise ParameterError(f"cannot read parameters file {path!r}: {exc.strerror}") from None
    except ValueError as exc:
        raise ParameterError(f"parameters file {path!r} is not JSON: {exc}") from None
    if not isinstance(given, dict):
        raise ParameterError(f"parameters file {path!r} must hold a JSON object of name: value")
    return {
        str(name): value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        for name, value in given.items()
    }


def trigger_values(specs: Iterable[ParameterSpec], given: Mapping[str, str]) -> dict[str, str]:
    """What ``flowc trigger`` sends, checked here rather than in a start task on the engine.

    Every target's run starts where this machine's files are not, so an ``IncludeFile`` given as a
    path travels as the file's content (as a local run reads it). Names, types and required
    parameters are checked with the same rules as the start task's (:func:`resolve_parameters`).

    Args:
        specs: the flow's parameters.
        given: ``{name: text}`` from the command line or a params file.

    Raises:
        ParameterError: an unknown name, a missing required parameter, a bad value or an
            unreadable file, naming the parameter.
    """
    from pathlib import Path

    specs = list(specs)
    known = {spec.name: spec for spec in specs}
    values = dict(given)
    for name, text in given.items():
        spec = known.get(name)
        if spec is not None and spec.is_file:
            try:
                values[name] = Path(text).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ParameterError(f"parameter {name!r}: cannot read {text!r}: {exc}") from None
    resolve_parameters(specs, values)
    return values
