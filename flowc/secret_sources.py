"""Portable ``@secrets(sources=[...])``: what a source names, and the providers that read it.

A source is written as in Metaflow: a string ``"PROVIDER.ID"``, or ``"ID"`` for the configured
default provider, or a dict ``{"type": PROVIDER, "id": ID, "options": {...}}``
(https://docs.metaflow.org/api/step-decorators/secrets). A secret is a set of environment
variables the step sees while it runs. Providers:

- ``aws-secrets-manager``: read in the task with boto3 (``GetSecretValue``); the secret's string
  must be a JSON object, whose keys become the variables (Metaflow's rule). Options: ``region``.
- ``kubernetes``: a Kubernetes Secret, injected by the pod spec (``envFrom``, flowc/backends/pod.py):
  the task has nothing to read; no pod, no secret (refused on Step Functions, under ``flowc run``
  and on Airflow's local operator: :func:`no_pod_refusals`).
- ``env``: the variable ``ID`` of the task's environment (for local runs and tests): a JSON object
  gives its keys, anything else is the variable ``ID`` itself; a variable that is not set fails.
- ``file``: a file of ``NAME=VALUE`` lines or a JSON object (``ID`` is its path).
- ``inline``: ``options.env_vars`` written in the flow (tests only).

The default provider is setting ``secrets.default_provider`` (also read from Metaflow's
``METAFLOW_DEFAULT_SECRETS_BACKEND_TYPE``); one that is not a provider is refused at compile, deploy
and run time. Without one, a bare name is the target's own store, as before: a Kubernetes Secret in a
pod, a Secrets Manager/Parameter Store ARN in a Batch job definition on Step Functions; the task
leaves it to the engine. Where tasks start without a pod (``flowc run``, Airflow's local operator)
there is no such store: a bare name is refused before any task runs (:func:`no_pod_refusals`).

(Named ``secret_sources``, not ``secrets``: a submodule ``flowc.secrets``, once imported, would
replace the ``secrets`` decorator that ``from flowc import secrets`` gives a flow.)

Values are only ever put in the step's environment: never logged, stored, or compiled into a
document; an error names the source, never a value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PROVIDERS",
    "SecretSource",
    "SecretUnavailable",
    "batch_references",
    "default_provider",
    "kubernetes_secret_names",
    "no_pod_refusals",
    "parse_source",
    "read_secrets",
    "with_default_provider",
]

PROVIDERS = ("aws-secrets-manager", "kubernetes", "env", "file", "inline")
#: Variables a secret may not set (flowc's own, as Metaflow keeps METAFLOW_ for itself).
_RESERVED_PREFIXES = ("FLOWC_", "METAFLOW_")


class SecretUnavailable(Exception):
    """A secret that cannot be read; the message names the source, never a value."""


@dataclass(frozen=True)
class SecretSource:
    """One source: its provider (None: the configured default, else the engine's own store)."""

    provider: str | None
    id: str
    options: Mapping[str, Any] = field(default_factory=dict)
    text: str = ""  # as written (for messages)

    @property
    def label(self) -> str:
        return f"{self.provider}.{self.id}" if self.provider else self.id


def parse_source(text: str) -> SecretSource:
    """The source as the IR keeps it (a string, or a dict as JSON text); ValueError when malformed."""
    try:
        spec = json.loads(text) if text.startswith("{") else None
    except ValueError:
        spec = None
    if isinstance(spec, dict):
        provider = spec.get("type")
        if provider is not None and provider not in PROVIDERS:
            raise ValueError(
                f"@secrets source {text}: unknown type {provider!r} (one of {', '.join(PROVIDERS)})"
            )
        options = spec.get("options") or {}
        if not isinstance(options, dict):
            raise ValueError(f"@secrets source {text}: options must be a dict")
        secret_id = spec.get("id")
        if provider != "inline" and not isinstance(secret_id, str):
            raise ValueError(f"@secrets source {text}: 'id' must be a string")
        return SecretSource(provider, secret_id or "", options, text)
    prefix, dot, rest = text.partition(".")
    if dot and prefix in PROVIDERS and rest:
        return SecretSource(prefix, rest, {}, text)
    return SecretSource(None, text, {}, text)


def default_provider(environ: Mapping[str, str], settings: Any = None) -> str | None:
    """The configured default provider (setting ``secrets.default_provider``, or Metaflow's variable)."""
    value = None
    if settings is not None:
        value = settings.get("secrets.default_provider")
    value = (
        value
        or environ.get("FLOWC_SECRETS__DEFAULT_PROVIDER")
        or environ.get("METAFLOW_DEFAULT_SECRETS_BACKEND_TYPE")
    )
    return value or None


def _object(text: str, source: SecretSource) -> dict[str, str]:
    try:
        value = json.loads(text)
    except ValueError:
        raise SecretUnavailable(
            f"secret {source.label}: its value is not JSON (a JSON object is expected)"
        ) from None
    if not isinstance(value, dict):
        raise SecretUnavailable(f"secret {source.label}: its value is not a JSON object")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


def _aws(source: SecretSource) -> dict[str, str]:
    try:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        raise SecretUnavailable(
            f"secret {source.label}: boto3 is not installed in the task's image"
        ) from None
    region = source.options.get("region")
    try:
        client = boto3.client("secretsmanager", **({"region_name": region} if region else {}))
        answer = client.get_secret_value(SecretId=source.id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise SecretUnavailable(
            f"secret {source.label} cannot be read from AWS Secrets Manager: {code}"
        ) from None
    except BotoCoreError as exc:
        raise SecretUnavailable(
            f"secret {source.label} cannot be read from AWS Secrets Manager: {exc}"
        ) from None
    if "SecretString" not in answer:
        raise SecretUnavailable(f"secret {source.label} is binary; a JSON object string is expected")
    return _object(answer["SecretString"], source)


def _env(source: SecretSource, environ: Mapping[str, str]) -> dict[str, str]:
    if source.id not in environ:
        raise SecretUnavailable(f"secret {source.label}: the variable {source.id} is not set")
    raw = environ[source.id]
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    return _object(raw, source) if isinstance(value, dict) else {source.id: raw}


def _file(source: SecretSource) -> dict[str, str]:
    try:
        with open(os.path.expanduser(source.id), encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise SecretUnavailable(f"secret {source.label} cannot be read: {exc.strerror or exc}") from None
    if text.lstrip().startswith("{"):
        return _object(text, source)
    found = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        if not equals:
            raise SecretUnavailable(f"secret {source.label}: line {number} is not NAME=VALUE")
        found[name.strip()] = value.strip().strip("'\"")
    return found


def _read(source: SecretSource, environ: Mapping[str, str]) -> dict[str, str]:
    if source.provider == "aws-secrets-manager":
        return _aws(source)
    if source.provider == "env":
        return _env(source, environ)
    if source.provider == "file":
        return _file(source)
    if source.provider == "inline":
        variables = source.options.get("env_vars") or {}
        return {str(k): str(v) for k, v in variables.items()}
    if source.provider == "kubernetes":
        return {}  # injected by the pod spec (envFrom), before the task started
    raise SecretUnavailable(f"secret {source.label}: unknown provider {source.provider!r}")


def read_secrets(
    sources: Iterable[str], environ: Mapping[str, str], *, default: str | None = None
) -> tuple[tuple[str, str], ...]:
    """The variables of ``sources`` (as the IR keeps them), read in the task.

    A source without a provider goes to ``default``; with no default it is the engine's own store
    (the pod's envFrom, the Batch job definition) and nothing is read here.

    Raises:
        SecretUnavailable: naming the source that cannot be read (never a value).
    """
    found: dict[str, str] = {}
    origin: dict[str, str] = {}
    for text in sources:
        try:
            source = parse_source(text)
        except ValueError as exc:
            raise SecretUnavailable(str(exc)) from None
        if source.provider is None:
            if default is None:
                continue
            if default not in PROVIDERS:
                raise SecretUnavailable(f"secret {source.id}: unknown default provider {default!r}")
            source = SecretSource(default, source.id, source.options, source.text)
        for name, value in _read(source, environ).items():
            if not name.isidentifier() or name.upper().startswith(_RESERVED_PREFIXES):
                raise SecretUnavailable(
                    f"secret {source.label}: {name!r} cannot be an environment variable's name"
                )
            if name in origin and origin[name] != source.label:
                raise SecretUnavailable(
                    f"secrets {origin[name]} and {source.label} both set {name}: rename one key"
                )
            found[name], origin[name] = value, source.label
    return tuple(sorted(found.items()))


def _bare(text: str) -> bool:
    try:
        return parse_source(text).provider is None
    except ValueError:
        return False  # a malformed source: the front end and the task say so


def no_pod_refusals(ir: Any, where: str) -> Iterator[Any]:
    """Diagnostics for the sources nobody can read when ``where`` (``flowc run``, Airflow's local
    operator) starts tasks without a pod: a ``kubernetes`` source (only a pod spec injects it) and
    a bare name with no default provider (the engine's own store: there is none). ``ir`` has been
    through :func:`with_default_provider`. Metaflow fails such a task when it starts
    (https://docs.metaflow.org/api/step-decorators/secrets); flowc refuses before any task runs."""
    from flowc.diagnostics import refuse_step

    for step in ir.steps:
        for text in step.secrets:
            try:
                source = parse_source(text)
            except ValueError:
                continue
            if source.provider == "kubernetes":
                yield refuse_step(
                    ir,
                    step,
                    "secrets-kubernetes-without-pod",
                    f"@secrets source {text!r} is a Kubernetes Secret, which only a pod spec injects; "
                    f"{where} starts the task without a pod",
                    "read it another way here (env.NAME, file.PATH, aws-secrets-manager.ID), or run "
                    "on a target with pods",
                )
            elif source.provider is None:
                yield refuse_step(
                    ir,
                    step,
                    "secrets-no-provider",
                    f"@secrets source {text!r} names no provider and no default provider is "
                    f"configured; {where} has no store of its own to read it from",
                    f"write it PROVIDER.ID (one of {', '.join(PROVIDERS)}) or set secrets.default_provider",
                )


def kubernetes_secret_names(sources: Iterable[str]) -> tuple[str, ...]:
    """The Kubernetes Secrets a pod injects for ``sources``: bare names (the engine's own store)
    and ``kubernetes.NAME`` sources; the other providers are read by the task."""
    parsed = (parse_source(text) for text in sources)
    return tuple(s.id for s in parsed if s.provider in (None, "kubernetes"))


def batch_references(sources: Iterable[str]) -> tuple[str, ...]:
    """The sources a Batch job definition resolves (bare ARNs, the engine's own store)."""
    return tuple(text for text in sources if parse_source(text).provider is None)


def with_default_provider(ir: Any, provider: str | None) -> Any:
    """``ir`` with each bare source written ``PROVIDER.ID`` for the configured default ``provider``
    (setting ``secrets.default_provider``), so that every target lowers a source by its provider:
    a pod injects only Kubernetes Secrets, a Batch job definition only bare ARNs. Unchanged without
    a default (bare names stay the engine's own store).

    Raises:
        CompileError: ``provider`` is not a provider and a step names a source without one (each
            such step, at its line), so a misconfigured default stops compile, deploy and run.
    """
    import dataclasses

    if not provider:
        return ir
    if provider not in PROVIDERS:
        from flowc.diagnostics import CompileError, refuse_step

        problems = [
            refuse_step(
                ir,
                step,
                "secrets-default-provider",
                f"@secrets source {text!r} goes to the configured default provider {provider!r}, "
                "which is not a provider",
                f"set secrets.default_provider to one of {', '.join(PROVIDERS)}, or name the "
                "provider in the source (PROVIDER.ID)",
            )
            for step in ir.steps
            for text in step.secrets
            if _bare(text)
        ]
        if problems:
            raise CompileError(problems)
        return ir

    def named(text: str) -> str:
        return f"{provider}.{text}" if parse_source(text).provider is None else text

    steps = tuple(
        dataclasses.replace(step, secrets=tuple(named(t) for t in step.secrets)) if step.secrets else step
        for step in ir.steps
    )
    return dataclasses.replace(ir, steps=steps)
