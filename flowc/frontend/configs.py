"""The values of a flow's ``Config`` attributes, fixed once where the flow is compiled or run.

Metaflow's order (``metaflow/user_configs/config_options.py``): a value given for the config by
name (``--config NAME PATH``: the file's text; ``--config-value NAME TEXT``; or Metaflow's
``METAFLOW_FLOW_CONFIG`` / ``METAFLOW_FLOW_CONFIG_VALUE``, JSON objects of name -> path / value,
which the options override name by name), else the declaration's ``default`` (a file, read
here) or ``default_value`` (a dict as it is, text parsed; a callable called with a
``ParameterContext``), else None (an error when ``required``). Text becomes the value through the
config's ``parser``, else ``json.loads``.

The values are JSON-compatible (the IR carries them and every task gets them in
:data:`FIXED_ENV`); a task resolves nothing again: it takes the values its run or deployment was
given, so a file changed after ``flowc compile`` changes nothing until the next compile.
"""

from __future__ import annotations

import argparse
import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FIXED_ENV",
    "ConfigError",
    "ConfigInputs",
    "add_config_arguments",
    "config_environment",
    "inputs_from_args",
    "inputs_from_argv",
    "resolve_config",
]

#: The environment variable carrying a run's or deployment's config values to its tasks:
#: a JSON object ``{name: value}``, exactly the values in the IR.
FIXED_ENV = "FLOWC_CONFIGS"
_METAFLOW_PATHS_ENV = "METAFLOW_FLOW_CONFIG"
_METAFLOW_VALUES_ENV = "METAFLOW_FLOW_CONFIG_VALUE"


class ConfigError(ValueError):
    """A config cannot be given a value (one line, for a diagnostic)."""


@dataclass(frozen=True)
class ConfigInputs:
    """Config values given from outside the flow file.

    Attributes:
        paths: ``--config NAME PATH`` pairs.
        values: ``--config-value NAME TEXT`` pairs.
        fixed: values already resolved (a task's :data:`FIXED_ENV`), used as they are.
    """

    paths: tuple[tuple[str, str], ...] = ()
    values: tuple[tuple[str, str], ...] = ()
    fixed: Mapping[str, Any] | None = field(default=None)

    def with_environment(self, environ: Mapping[str, str]) -> ConfigInputs:
        """These inputs completed from the environment: :data:`FIXED_ENV` when set (a task),
        else Metaflow's two variables for the names not given here."""
        if self.fixed is None and environ.get(FIXED_ENV):
            try:
                fixed = json.loads(environ[FIXED_ENV])
            except ValueError as exc:
                raise ConfigError(f"{FIXED_ENV} is not a JSON object: {exc}") from None
            return ConfigInputs(self.paths, self.values, fixed)
        paths = dict(_env_object(environ, _METAFLOW_PATHS_ENV))
        paths.update(self.paths)
        values = {
            name: v if isinstance(v, str) else json.dumps(v)
            for name, v in _env_object(environ, _METAFLOW_VALUES_ENV).items()
        }
        values.update(self.values)
        for name in set(paths) & set(values):  # the user's own option wins over the environment
            if name in dict(self.paths):
                values.pop(name)
            else:
                paths.pop(name)
        return ConfigInputs(tuple(sorted(paths.items())), tuple(sorted(values.items())), self.fixed)


def _env_object(environ: Mapping[str, str], name: str) -> dict[str, Any]:
    text = environ.get(name)
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{name} is not a JSON object: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{name} must be a JSON object of config names")
    return data


def _read(path: str, what: str, name: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ConfigError(f"{what} {path!r} could not be read for config {name!r}: {reason}") from None


def _parse(text: str, parser: Any, plain: bool, name: str) -> Any:
    if parser is not None:
        if isinstance(parser, str):
            module_name, _, function = parser.rpartition(".")
            try:
                parser = getattr(importlib.import_module(module_name), function)
            except (ImportError, AttributeError, ValueError) as exc:
                raise ConfigError(f"config {name!r}: cannot locate parser {parser!r}: {exc}") from None
        try:
            return parser(text)
        except Exception as exc:
            raise ConfigError(f"config {name!r}: its parser raised {type(exc).__name__}: {exc}") from None
    if plain:
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"config {name!r}: the value is not valid JSON: {exc}") from None


def resolve_config(declared: Any, inputs: ConfigInputs, context: Callable[[str], Any]) -> Any:
    """The value of config ``declared`` (a :class:`flowc.authoring.configs.Config`).

    ``context(name)`` builds the ``ParameterContext`` a callable default receives.

    Raises:
        ConfigError: no value for a required config, an unreadable file, a parser that fails.
    """
    name = declared.name
    if inputs.fixed is not None:
        if name not in inputs.fixed:
            raise ConfigError(
                f"config {name!r} has no value in {FIXED_ENV} (compile or deploy the flow again)"
            )
        return inputs.fixed[name]
    paths, values = dict(inputs.paths), dict(inputs.values)
    if name in paths:
        text = _read(paths[name], "configuration file", name)
    elif name in values:
        text = values[name]
    elif declared.default is not None:
        path = declared.default(context(name)) if callable(declared.default) else declared.default
        text = _read(str(path), "default configuration file", name)
    elif declared.default_value is not None:
        value = declared.default_value
        if callable(value):
            value = value(context(name))
        if not isinstance(value, str):
            return (
                value
                if declared.parser is None
                else _parse(json.dumps(value), declared.parser, declared.plain, name)
            )
        text = value
    else:
        if declared.required:
            raise ConfigError(f"missing configuration for {name!r}")
        return None
    return _parse(text, declared.parser, declared.plain, name)


def add_config_arguments(parser: argparse.ArgumentParser) -> None:
    """``--config NAME PATH`` and ``--config-value NAME VALUE`` (Metaflow's), repeatable."""
    parser.add_argument(
        "--config",
        dest="config_files",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "PATH"),
        help="the value of Config NAME is this file's content (repeatable)",
    )
    parser.add_argument(
        "--config-value",
        dest="config_values",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="the value of Config NAME, as text its parser reads (JSON by default; repeatable)",
    )


def inputs_from_args(args: argparse.Namespace) -> ConfigInputs:
    """The inputs of a parsed command line (see :func:`add_config_arguments`)."""
    return ConfigInputs(
        tuple(tuple(p) for p in getattr(args, "config_files", []) or ()),  # type: ignore[misc]
        tuple(tuple(v) for v in getattr(args, "config_values", []) or ()),  # type: ignore[misc]
    )


def inputs_from_argv(argv: Sequence[str]) -> ConfigInputs:
    """The inputs of a command line not parsed yet (``flowc run`` builds the IR while building
    its parser, for the parameter options). Scanned, not parsed: a flow without configs may have
    a parameter ``--config VALUE`` of its own."""
    words = list(argv)
    found: dict[str, list[tuple[str, str]]] = {"--config": [], "--config-value": []}
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            break
        if word in found and len(words) - index > 2:
            found[word].append((words[index + 1], words[index + 2]))
            index += 3
            continue
        index += 1
    return ConfigInputs(tuple(found["--config"]), tuple(found["--config-value"]))


def config_environment(values: Mapping[str, Any]) -> dict[str, str]:
    """What a task's environment needs for the configs (empty when the flow has none)."""
    if not values:
        return {}
    return {FIXED_ENV: json.dumps(dict(values), ensure_ascii=False, separators=(",", ":"))}
