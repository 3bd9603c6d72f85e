"""Names that may appear in a UI URL: flow, run, step, task and artifact names.

Every name from a URL is checked here before it becomes part of a datastore key, so no URL can
reach outside the datastore: a name is one path segment of safe characters, never ``.`` or ``..``
(decoded ``%2e%2e`` included), never empty, never holding ``/`` or ``\\`` (decoded ``%2f``
included), and short. These are the characters flowc itself produces (class and step names are
Python identifiers; run ids are digits or ``argo-``/``sfn-``/``airflow-`` plus a path-safe
engine name; task ids are ``3-1.2``).
"""

from __future__ import annotations

import re

__all__ = ["MAX_NAME", "BadName", "check_name"]

MAX_NAME = 250
_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:+=@-]*$")


class BadName(ValueError):
    """A name from a URL that cannot name anything in the datastore."""


def check_name(kind: str, value: str) -> str:
    """``value`` if it is a safe single path segment, else :class:`BadName` (one line, says why)."""
    if not value or len(value) > MAX_NAME or value in (".", "..") or not _SAFE.match(value):
        raise BadName(f"invalid {kind} name {value!r}")
    return value
