"""``Parameter`` / ``IncludeFile`` declarations -> :class:`flowc.ir.ParameterSpec`.

Arguments are read from the AST; a non-literal one (a constant defined elsewhere, an expression) is
read from the imported class's ``Parameter`` object. A callable default has no compile-time value,
nor has an ``IncludeFile``'s default (a path whose content is the value): the spec says so
(``deferred_default``, with the path as ``default``) and the run resolves it where it starts.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from typing import Any

from flowc.frontend.decorators import Problem
from flowc.frontend.source import ParameterSource, dotted_tail
from flowc.frontend.values import NOT_LITERAL, freeze, is_json_compatible, literal
from flowc.ir import Location, ParameterSpec, ParameterType

__all__ = ["parameter_spec"]

_TYPE_NAMES = {"str": "str", "int": "int", "float": "float", "bool": "bool", "JSONType": "json"}
_PYTHON_TYPES = {str: "str", int: "int", float: "float", bool: "bool"}


def _type_from_ast(node: ast.expr) -> str | None:
    name = dotted_tail(node)
    if name in _TYPE_NAMES:
        return _TYPE_NAMES[name]
    value = literal(node)
    if isinstance(value, str) and value in _TYPE_NAMES.values():
        return value
    return None


def _type_from_object(kind: Any) -> str | None:
    if kind is None:
        return None
    if getattr(kind, "name", None) == "json" or repr(kind) == "JSONType":
        return "json"
    return _PYTHON_TYPES.get(kind)


def _inferred_type(default: Any) -> str:
    if default is None or callable(default):
        return "str"
    if isinstance(default, dict | list | tuple):
        return "json"
    return _PYTHON_TYPES.get(type(default), "str")


#: Positional arguments in the order Metaflow's ``Parameter`` / ``IncludeFile`` take them.
_PARAMETER_POSITIONS = ("name", "default", "type", "help", "required", "show_default")
_INCLUDE_FILE_POSITIONS = ("name", "required", "is_text", "encoding", "help")
#: Arguments that do not change the value a step reads (the IR has no place for them).
_COSMETIC = frozenset({"show_default"})
_KNOWN = frozenset({"name", "default", "type", "help", "required", "is_text", "encoding"}) | _COSMETIC


def _argument_problems(
    source: ParameterSource, arguments: dict[str, ast.expr], positional: int
) -> list[Problem]:
    """Arguments flowc would otherwise drop without a word."""
    what = "IncludeFile" if source.is_file else "Parameter"
    order = _INCLUDE_FILE_POSITIONS if source.is_file else _PARAMETER_POSITIONS
    problems = []
    if positional > len(order):
        problems.append(Problem("bad-parameter", f"{source.attribute}: {what} takes at most {len(order)} "
                                "positional arguments "
                                f"({', '.join(order)})", source.line, hint="pass the others by keyword"))
    for key in sorted(set(arguments) - _KNOWN - {"separator"}):
        problems.append(Problem("parameter-argument-ignored",
                                f"{source.attribute}: {what} argument {key}= is not supported by flowc "
                                "and is ignored",
                                source.line, hint=f"{what} takes {', '.join(order)}", severity="warning"))
    return problems


def _typed_default(name: str, kind: str, default: Any) -> Any:
    """``default`` as a value of ``kind``, converted as Metaflow's command line (click) converts a
    default through the option's type (``type=int, default="5"`` is 5, ``type=str, default=3`` is
    "3"), or a Problem when it cannot be: better refused now than when the run starts."""
    from flowc.parameter_values import ParameterError, parse_value

    if kind == "str" and isinstance(default, bool | int | float):
        return str(default)
    try:
        return parse_value(ParameterSpec(name=name, type=kind), default)
    except ParameterError as exc:
        message = str(exc).replace(f"parameter {name!r}: ", f"parameter {name!r}: the default ", 1)
        return Problem("bad-parameter", message, 0,
                       hint=f"give a default of the parameter's type ({kind})")


def parameter_spec(
    source: ParameterSource, file: str, live_parameter: Callable[[], Any]
) -> tuple[ParameterSpec | None, list[Problem]]:
    """The IR spec of one declaration; ``live_parameter()`` returns the imported Parameter object."""
    call = source.call
    line = source.line
    arguments: dict[str, ast.expr] = {k.arg: k.value for k in call.keywords if k.arg is not None}
    order = _INCLUDE_FILE_POSITIONS if source.is_file else _PARAMETER_POSITIONS
    for key, node in zip(order, call.args, strict=False):  # Parameter("alpha", 0.5, float)
        arguments.setdefault(key, node)
    problems = _argument_problems(source, arguments, len(call.args))
    live: list[Any] = []

    def live_attribute(key: str) -> Any:
        if not live:
            live.append(live_parameter())
        if live[0] is None:
            return NOT_LITERAL
        return getattr(live[0], key, None)

    def value_of(key: str) -> Any:
        if key not in arguments:
            return None
        value = literal(arguments[key])
        return live_attribute(key) if value is NOT_LITERAL else value

    name = value_of("name")
    if not isinstance(name, str) or not name:
        return None, [Problem("bad-parameter", "Parameter needs a name as its first argument", line)]

    deferred = False
    has_default = "default" in arguments
    default: Any = None
    if has_default:
        node = arguments["default"]
        if isinstance(node, ast.Lambda):
            deferred = True
        else:
            default = value_of("default")
            if default is NOT_LITERAL:
                problems.append(
                    Problem("bad-parameter", f"parameter {name!r}: the default cannot be evaluated", line,
                            hint="use a literal, or make the module importable")
                )
                default = None
            elif callable(default):
                deferred, default = True, None
        if source.is_file and isinstance(default, str) and not deferred:
            # A path: its content is the value, read where the run starts (or snapshot at deploy).
            deferred = True
        if deferred or default is None:
            has_default = False

    kind: str | None = None
    if source.is_file:
        kind = "str"
    elif "type" in arguments:
        kind = _type_from_ast(arguments["type"])
        if kind is None:
            kind = _type_from_object(live_attribute("type"))
        if kind is None:
            problems.append(
                Problem("bad-parameter",
                        f"parameter {name!r}: unsupported type {ast.unparse(arguments['type'])}",
                        line, hint="use str, int, float, bool or JSONType")
            )
            kind = "str"
    else:
        kind = _inferred_type(default)

    if has_default:
        if not is_json_compatible(default):
            problems.append(
                Problem("bad-parameter", f"parameter {name!r}: default {default!r} is not JSON-compatible",
                        line)
            )
            default, has_default = None, False
        elif kind == "json" and isinstance(default, str):
            try:
                json.loads(default)
            except ValueError:
                problems.append(
                    Problem("bad-parameter", f"parameter {name!r}: default is not valid JSON", line,
                            hint="give the default as a JSON string or as a dict/list")
                )
        elif kind in ("str", "int", "float", "bool") and not source.is_file:
            converted = _typed_default(name, kind, default)
            if isinstance(converted, Problem):
                problems.append(Problem(converted.code, converted.message, line, converted.hint))
                default, has_default = None, False
            else:
                default = converted
    separator = value_of("separator")
    if separator is not None and (not isinstance(separator, str) or not separator or kind != "str"):
        # Metaflow splits a text value on it; any other type has nothing to split.
        problems.append(Problem("bad-parameter", f"parameter {name!r}: separator= takes a non-empty string, "
                                "on a str parameter", line, hint="drop separator=, or use type=str"))
        separator = None
    help_text = value_of("help")
    required = value_of("required")
    spec = ParameterSpec(
        name=name,
        type=ParameterType(kind),
        default=freeze(default) if has_default or (deferred and source.is_file) else None,
        has_default=has_default,
        required=bool(required) if required is not NOT_LITERAL else False,
        help=help_text if isinstance(help_text, str) else None,
        is_file=source.is_file,
        location=Location(file, line),
        attribute=source.attribute if source.attribute != name else None,
        deferred_default=deferred,
        separator=separator,
    )
    return spec, problems
