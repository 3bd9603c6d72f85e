"""``@secrets`` on AWS Batch: references in the job definition, resolved when the container starts.

Batch accepts a Secrets Manager secret by its full ARN (optionally with a JSON key, version stage
and version id after it) or a Systems Manager parameter by ARN; the value never passes through
flowc, the state machine or the container overrides. Each source becomes one environment variable
holding the secret's value (or the chosen JSON key's), named from the secret: Secrets Manager's
random six-character suffix is dropped, so ``...:secret:db-creds-AbCdEf`` is ``DB_CREDS`` and
``...:secret:db-creds-AbCdEf:password::`` is ``PASSWORD``.
https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data-secrets.html
"""

from __future__ import annotations

import re

__all__ = ["is_secret_reference", "secret_variable"]

_SECRETS_MANAGER = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(?P<name>[^:]+)"
    r"(?::(?P<key>[^:]*)(?::[^:]*){0,2})?$"
)
_PARAMETER_STORE = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/(?P<path>[^:]+)$")
#: What Secrets Manager appends to a secret's name in its ARN.
_RANDOM_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")


def is_secret_reference(source: str) -> bool:
    """Whether ``source`` is a Secrets Manager secret ARN or a Parameter Store parameter ARN."""
    return bool(_SECRETS_MANAGER.match(source) or _PARAMETER_STORE.match(source))


def secret_variable(source: str) -> str:
    """The environment variable that holds ``source``'s value (see the module docstring)."""
    secret = _SECRETS_MANAGER.match(source)
    parameter = _PARAMETER_STORE.match(source)
    if secret is not None:
        name = secret.group("key") or _RANDOM_SUFFIX.sub("", secret.group("name"))
    elif parameter is not None:
        name = parameter.group("path").rstrip("/").rsplit("/", 1)[-1]
    else:
        name = source
    variable = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").upper() or "SECRET"
    return f"_{variable}" if variable[0].isdigit() else variable
