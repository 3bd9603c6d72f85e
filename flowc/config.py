"""Configuration in one place, with one precedence: CLI flag > environment > project file > default.

Project files: ``flowc.toml`` (top-level keys) or ``pyproject.toml`` under ``[tool.flowc]``, found in
the working directory or its parents. Environment variables are ``FLOWC_`` + the key upper-cased
with dots as double underscores (``kubernetes.namespace`` -> ``FLOWC_KUBERNETES__NAMESPACE``).
``flowc config show`` prints every value and where it came from. Keys marked secret are never
printed, and no back end writes a setting into a compiled document unless the key is meant for it.

A project file is checked as it is read: an unknown key (a typo) or a value of the wrong type (a
timeout that is not a number) is a :class:`ConfigError` naming the key and the file, not a failure
later, far from its cause.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["KEYS", "ConfigError", "Setting", "Settings", "load_settings", "value_from_text"]


class ConfigError(ValueError):
    """A configuration file or value that cannot be used."""


@dataclass(frozen=True)
class Key:
    default: Any
    help: str
    secret: bool = False


#: Every configuration key, its default and meaning.
KEYS: Mapping[str, Key] = {
    "datastore": Key(".flowc", "datastore root: a local directory or s3://bucket/prefix"),
    "s3.endpoint_url": Key(None, "S3 endpoint (overrides boto3's AWS_ENDPOINT_URL / default)"),
    "s3.max_concurrency": Key(16, "parallel S3 requests of one batch read/write or multipart transfer"),
    "s3.retry_seconds": Key(30.0, "seconds S3 errors that may pass (5xx, throttling, resets) are retried"),
    "s3.connect_timeout": Key(5.0, "seconds to wait for an S3 connection"),
    "s3.read_timeout": Key(20.0, "seconds to wait for S3 to answer (between bytes, not a whole transfer)"),
    "image": Key("python:3.11-slim", "default container image of every step"),
    "bootstrap": Key(
        True,
        "start deployed tasks with flowc's fixed bootstrap, which fetches the code package (and boto3 "
        "if missing), so any image with Python 3.11+ runs them; false: the image has flowc installed",
    ),
    "package.include": Key((), "extra globs (relative to the flow's directory) added to the code package"),
    "package.exclude": Key((), "glob patterns left out of the code package"),
    "pypi.index_url": Key(None, "package index of @pypi environments (unset: uv's and pip's own, PyPI)"),
    "pypi.no_index": Key(False, "resolve @pypi environments from pypi.find_links only, without any index"),
    "pypi.find_links": Key((), "folders or URLs of wheels @pypi environments may also come from"),
    "pypi.platform": Key("linux_x86_64", "platform of deployed @pypi environments (or linux_aarch64)"),
    "pypi.python": Key(None, "Python X.Y of @pypi environments naming none (unset: the running one's)"),
    "secrets.default_provider": Key(None, "@secrets provider of sources naming none (docs/secrets.md)"),
    "kubernetes.namespace": Key("default", "Kubernetes namespace of deployed templates and pods"),
    "kubernetes.service_account": Key(None, "service account of every pod"),
    "kubernetes.api_server": Key(None, "Kubernetes API server (or Argo Server) URL used by deploy/trigger"),
    "kubernetes.token": Key(None, "bearer token for the API server", secret=True),
    "batch.job_queue": Key(None, "AWS Batch job queue of every step"),
    "batch.job_role": Key(None, "IAM role of Batch jobs"),
    "batch.execution_role": Key(None, "ECS execution role of Batch jobs"),
    "sfn.role": Key(None, "IAM role that the state machine runs as"),
    "sfn.schedule_role": Key(None, "IAM role of the EventBridge Scheduler schedule"),
    "sfn.event_bus": Key(
        "default", "EventBridge bus of @trigger events (rules, flowc event publish, finished runs)"
    ),
    "sfn.distributed_map_threshold": Key(1000, "foreach widths above this use a Distributed Map"),
    "airflow.dags_folder": Key(None, "where deploy writes DAG files (a path or s3://...)"),
    "airflow.api_url": Key(None, "Airflow REST API base URL used by trigger"),
    "airflow.operator": Key("local", "how Airflow runs a task: local (process on the worker) or kubernetes"),
    "airflow.token": Key(
        None, "bearer token for the Airflow REST API (unset: no Authorization header)", secret=True
    ),
    "tempdir": Key(".", "the directory `current.tempdir` names for temporary files (Metaflow's TEMPDIR)"),
    "project.branch": Key(None, "@project branch; unset means the user's branch (user.<name>)"),
    "project.production": Key(False, "deploy to the production branch of @project"),
    "argo_events.event_source": Key(
        "flowc-events", "Argo Events webhook EventSource the Sensors of @trigger listen to"
    ),
    "argo_events.event_name": Key("flowc-event", "the event of that EventSource flowc's events arrive as"),
    # An in-cluster address, not a credential: the end-of-run pod of every Argo run gets it in its
    # environment to announce finished runs (Metaflow also writes ARGO_EVENTS_WEBHOOK_URL into
    # its workflow templates).
    "argo_events.webhook_url": Key(
        None, "URL of that EventSource's webhook, where `flowc event publish --target argo` posts"
    ),
    "notify.slack_webhook_url": Key(
        None, "Slack incoming webhook of run notifications, read where the run ends", secret=True
    ),
    "notify.webhook_url": Key(
        None, "webhook of run notifications (JSON), read where the run ends", secret=True
    ),
}


@dataclass(frozen=True)
class Setting:
    key: str
    value: Any
    source: str  # "cli", "env FLOWC_X", "flowc.toml", "pyproject.toml [tool.flowc]", "default"


@dataclass(frozen=True)
class Settings:
    """Effective configuration; ``settings["kubernetes.namespace"]`` or ``settings.get(...)``."""

    values: Mapping[str, Setting]

    def __getitem__(self, key: str) -> Any:
        return self.values[key].value

    def get(self, key: str, default: Any = None) -> Any:
        setting = self.values.get(key)
        return default if setting is None or setting.value is None else setting.value

    def source(self, key: str) -> str:
        return self.values[key].source

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        updated = dict(self.values)
        for key, value in overrides.items():
            if value is not None:
                _check_key(key)
                updated[key] = Setting(key, _typed(key, value, "command line"), "cli")
        return Settings(updated)


def env_name(key: str) -> str:
    return "FLOWC_" + key.upper().replace(".", "__")


def _check_key(key: str, where: str = "") -> None:
    if key not in KEYS:
        close = difflib.get_close_matches(key, KEYS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(KEYS))}"
        place = f" in {where}" if where else ""
        raise ConfigError(f"unknown configuration key {key!r}{place}; {hint}")


def _typed(key: str, value: Any, where: str) -> Any:
    """A project-file or command-line ``value`` of ``key``, checked against the key's type."""
    default = KEYS[key].default
    if value is None:
        return None
    given, problem = value, None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            problem = "expected true or false"
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            problem = "expected a whole number"
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problem = "expected a number"
        else:
            value = float(value)
    elif isinstance(default, tuple):
        if isinstance(value, str):
            value = (value,)
        elif isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
            value = tuple(value)
        else:
            problem = "expected a string or a list of strings"
    elif isinstance(value, os.PathLike):  # a datastore given as a path
        value = os.fspath(value)
    elif not isinstance(value, str):  # every other key (default text or unset) holds text
        problem = "expected a string"
    if problem is None and not isinstance(value, bool) and isinstance(value, int | float):
        problem = _out_of_range(value)
    if problem:
        raise ConfigError(f"{where}: {key} = {given!r}: {problem}")
    return value


def _out_of_range(number: float) -> str | None:
    """Every numeric key is a count, a size or seconds: negative (or NaN) is never meant."""
    if number != number or number < 0:  # NaN is not equal to itself
        return "expected a number >= 0"
    return None


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


def _project_file(start: Path) -> tuple[dict[str, Any], str, Path | None]:
    """The nearest project file's flowc table, its source label and its path."""
    for folder in (start, *start.parents):
        candidate = folder / "flowc.toml"
        if candidate.is_file():
            return _read_toml(candidate), "flowc.toml", candidate
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            tool = _read_toml(candidate).get("tool", {})
            table = tool.get("flowc") if isinstance(tool, Mapping) else None
            if table is not None:
                if not isinstance(table, Mapping):
                    raise ConfigError(f"{candidate}: [tool.flowc] must be a table, not {table!r}")
                return dict(table), "pyproject.toml [tool.flowc]", candidate
    return {}, "", None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from exc


def _coerce(key: str, raw: str) -> Any:
    """Environment values are text; give them the default's type."""
    default = KEYS[key].default
    if isinstance(default, bool):
        if raw.lower() in ("1", "true", "yes"):
            return True
        if raw.lower() in ("0", "false", "no", ""):
            return False
        raise ConfigError(f"{env_name(key)}={raw!r}: expected true or false")
    if isinstance(default, int | float):
        whole = isinstance(default, int)
        try:
            number = int(raw) if whole else float(raw)
        except ValueError:
            expected = "a whole number" if whole else "a number"
            raise ConfigError(f"{env_name(key)}={raw!r}: expected {expected}") from None
        problem = _out_of_range(number)
        if problem:
            raise ConfigError(f"{env_name(key)}={raw!r}: {problem}")
        return number
    if isinstance(default, tuple):
        return tuple(part for part in raw.split(",") if part)
    return raw


def value_from_text(key: str, raw: str) -> Any:
    """A value given as text (``--set key=value``, environment) converted to the key's type."""
    _check_key(key)
    return _coerce(key, raw)


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    start: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Effective settings: ``overrides`` (CLI flags) > environment > project file > defaults."""
    environ = os.environ if environ is None else environ
    table, file_source, file_path = _project_file((start or Path.cwd()).resolve())
    file_values = {}
    for key, value in _flatten(table).items():
        _check_key(key, str(file_path))
        file_values[key] = _typed(key, value, str(file_path))
    values: dict[str, Setting] = {}
    for key, spec in KEYS.items():
        if env_name(key) in environ:
            values[key] = Setting(key, _coerce(key, environ[env_name(key)]), f"env {env_name(key)}")
        elif key in file_values:
            values[key] = Setting(key, file_values[key], file_source)
        else:
            values[key] = Setting(key, spec.default, "default")
    return Settings(values).with_overrides(overrides or {})
