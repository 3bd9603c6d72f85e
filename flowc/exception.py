"""Exceptions a flow or a client script may catch, under Metaflow's names (``metaflow.exception``).

Each is defined where flowc raises it; this module gathers them so ``from flowc.exception import X``
works as ``from metaflow.exception import X`` does.
"""

from __future__ import annotations

from flowc.client.objects import MetaflowNamespaceMismatch, MetaflowNotFound

__all__ = [
    "ExternalCommandFailed",
    "MetaflowException",
    "MetaflowNamespaceMismatch",
    "MetaflowNotFound",
]


class MetaflowException(Exception):
    """Base of the exceptions a flow raises on purpose; ``headline`` is its one-line title."""

    headline = "Flow failed"

    def __init__(self, msg: str = "", lineno: int | None = None) -> None:
        super().__init__(msg)
        self.message = msg
        self.line_no = lineno

    def __str__(self) -> str:
        return self.message


class ExternalCommandFailed(MetaflowException):
    """A command the step ran failed (Metaflow's name)."""

    headline = "External command failed"
