"""Parameters on the ``flowc run`` command line: options per parameter, checked before any task runs.

Each :class:`~flowc.ir.ParameterSpec` becomes an option ``--<name> VALUE``. Values are checked
here (a bad value or a missing required parameter stops the run with exit code 2, naming the
parameter) and handed to the start task as the text typed, which the task runner parses by the
parameter's type (docs/architecture.md, "Task runner command line"). An ``IncludeFile`` value is
the named file's content, read here; binary content travels as ``{"$object": sha}``.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from typing import Any

from flowc.ir import FlowIR, ParameterSpec

__all__ = [
    "ParameterError",
    "add_parameter_options",
    "collect_parameters",
    "environment_value",
    "include_file_modes",
    "option_dest",
]


class ParameterError(ValueError):
    """A parameter value that cannot be used; the message names the parameter."""


def option_dest(spec: ParameterSpec) -> str:
    return "flowc_param__" + spec.name.replace("-", "_")


def _help(spec: ParameterSpec) -> str:
    kind = "a file whose content is the value" if spec.is_file else spec.type
    if spec.required:
        extra = "required"
    elif spec.has_default:
        shown = spec.default if isinstance(spec.default, bool) else json.dumps(spec.default)
        extra = f"default: {shown}"
    else:
        extra = "optional"
    text = f"{spec.help} " if spec.help else ""
    return f"{text}[{kind}; {extra}]".replace("%", "%%")  # argparse formats help with %


def add_parameter_options(parser: argparse.ArgumentParser, ir: FlowIR) -> None:
    """Adds ``--<name>`` for every parameter of ``ir`` (listed by ``--help``)."""
    group = parser.add_argument_group(f"parameters of {ir.name}")
    for spec in ir.parameters:
        group.add_argument(
            f"--{spec.name}",
            dest=option_dest(spec),
            metavar="PATH" if spec.is_file else spec.type.upper(),
            default=None,
            help=_help(spec),
        )


def _check_value(spec: ParameterSpec, text: str) -> None:
    try:
        from flowc import parameter_values as shared  # the task runner's parser, when it is there
    except ImportError:
        shared = None
    checker = getattr(shared, "parse_value", None) if shared is not None else None
    if checker is not None:
        try:
            checker(spec, text)
        except ValueError as exc:  # flowc.parameter_values names the parameter itself
            message = str(exc)
            raise ParameterError(
                message if spec.name in message else f"parameter {spec.name!r}: {message}"
            ) from None
        return
    try:
        if spec.type == "int":
            int(text)
        elif spec.type == "float":
            float(text)
        elif spec.type == "bool":
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(f"{text!r} is not True or False")
        elif spec.type == "json":
            json.loads(text)
    except ValueError as exc:
        raise ParameterError(f"parameter {spec.name!r}: invalid {spec.type} value {text!r} ({exc})") from None


def include_file_modes(ir: FlowIR, flow_path: str) -> dict[str, tuple[bool, str]]:
    """``{name: (is_text, encoding)}`` of the flow's ``IncludeFile`` parameters (the IR has no
    ``is_text``; the flow class, imported the way the task runner imports it, does)."""
    if not any(spec.is_file for spec in ir.parameters):
        return {}
    from flowc.authoring.parameters import IncludeFile
    from flowc.task_runner.loading import load_flow

    flow_class = load_flow(flow_path, ir.name, ir=ir).flow_class
    modes = {}
    for klass in reversed(flow_class.__mro__):
        for value in vars(klass).values():
            if isinstance(value, IncludeFile):
                modes[value.name] = (bool(value.is_text), value.encoding or "utf-8")
    return modes


def collect_parameters(
    ir: FlowIR,
    args: argparse.Namespace,
    storage: Any = None,
    file_modes: dict[str, tuple[bool, str]] | None = None,
) -> dict[str, Any]:
    """The values given on the command line, checked: ``{name: text}`` (IncludeFile: content).

    Args:
        ir: the flow.
        args: the parsed command line (options from :func:`add_parameter_options`).
        storage: the datastore, where binary file content is stored (``{"$object": sha}``).
        file_modes: :func:`include_file_modes`; without it a file is text when it decodes as UTF-8.

    Raises:
        ParameterError: a bad value, an unreadable file or a missing required parameter.
    """
    from_file = _params_file_values(ir, getattr(args, "params_file", None))
    values: dict[str, Any] = {}
    for spec in ir.parameters:
        given = getattr(args, option_dest(spec), None)
        if given is None:
            given = from_file.get(spec.name)
        if given is None:
            given = environment_value(spec.name)
        if given is None:
            if spec.required and not spec.has_default:
                raise ParameterError(f"parameter {spec.name!r} is required: give --{spec.name} VALUE")
            continue
        if spec.is_file:
            mode = (file_modes or {}).get(spec.name)
            values[spec.name] = _read_include_file(spec, given, storage, mode)
            continue
        _check_value(spec, given)
        values[spec.name] = given
    return values


def environment_value(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """A parameter's value given in the environment: ``FLOWC_RUN_<NAME>``, or Metaflow's
    ``METAFLOW_RUN_<NAME>`` (a flow written for Metaflow may set it), below the command line and
    ``--params-file``."""
    environ = os.environ if environ is None else environ
    key = name.upper().replace("-", "_")
    for prefix in ("FLOWC_RUN_", "METAFLOW_RUN_"):
        if environ.get(prefix + key) is not None:
            return environ[prefix + key]
    return None


def _params_file_values(ir: FlowIR, path: str | None) -> dict[str, str]:
    if not path:
        return {}
    from flowc.parameter_values import ParameterError as FileError
    from flowc.parameter_values import read_params_file

    try:
        given = read_params_file(path)
    except FileError as exc:
        raise ParameterError(str(exc)) from None
    known = {spec.name for spec in ir.parameters}
    unknown = sorted(set(given) - known)
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise ParameterError(f"{path}: unknown parameter {unknown[0]!r} (this flow's parameters: {names})")
    return given


def _read_include_file(spec: ParameterSpec, path: str, storage: Any, mode: tuple[bool, str] | None) -> Any:
    try:
        with open(path, "rb") as handle:
            content = handle.read()
    except OSError as exc:
        raise ParameterError(f"parameter {spec.name!r}: cannot read file {path!r}: {exc.strerror}") from None
    is_text, encoding = mode or (True, "utf-8")
    if is_text:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            if mode is not None:
                raise ParameterError(
                    f"parameter {spec.name!r}: file {path!r} is not {encoding} text"
                ) from None
    if storage is None:
        raise ParameterError(f"parameter {spec.name!r}: binary file {path!r} needs a datastore") from None
    from flowc.datastore.objects import ObjectStore

    sha, _ = ObjectStore(storage).put(content)  # bytes travel by reference (docs/architecture.md)
    return {"$object": sha}
