"""Exceptions a flow or a client script may catch, under Metaflow's names (``metaflow.exception``).

Each is defined where flowc raises it; this module gathers them so ``from flowc.exception import X``
works as ``from metaflow.exception import X`` does.
"""

from __future__ import annotations

from flowc.client.objects import MetaflowNamespaceMismatch, MetaflowNotFound
from flowc.task_runner.errors import CaughtException as MetaflowExceptionWrapper
from flowc.task_runner.errors import StepFailure

__all__ = [
    "ExternalCommandFailed",
    "FlowRuleBroken",
    "MetaflowException",
    "MetaflowExceptionWrapper",
    "MetaflowNamespaceMismatch",
    "MetaflowNotFound",
    "MissingInMergeArtifactsException",
    "UnhandledInMergeArtifactsException",
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


class FlowRuleBroken(MetaflowException, StepFailure):
    """A step broke a rule through flowc's API (``merge_artifacts``): a MetaflowException to the
    step, which may catch it, and a StepFailure to the task runner, which says where when it is not
    caught."""


class UnhandledInMergeArtifactsException(FlowRuleBroken):
    """``merge_artifacts``: the inputs disagree on artifacts the join did not set; ``artifact_names``."""

    headline = "Unhandled artifacts in merge"

    def __init__(self, msg: str, unhandled: list[str]) -> None:
        super().__init__(msg)
        self.artifact_names = unhandled


class MissingInMergeArtifactsException(FlowRuleBroken):
    """``merge_artifacts(include=...)`` names artifacts no input has; ``artifact_names``."""

    headline = "Missing artifacts in merge"

    def __init__(self, msg: str, unhandled: list[str]) -> None:
        super().__init__(msg)
        self.artifact_names = unhandled
