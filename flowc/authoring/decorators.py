"""Step and flow decorators, Metaflow-compatible in name, arguments and placement.

A decorator only records its name and keyword arguments on the function (or class) it decorates;
nothing here acts on them. The front end reads the records into the IR (normalising units), and the
task runner and back ends act on the IR. Each decorator works bare (``@retry``) or called
(``@retry(times=2)``), as in Metaflow.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

__all__ = [
    "FLOW_DECORATORS",
    "STEP_DECORATORS",
    "batch",
    "card",
    "catch",
    "environment",
    "kubernetes",
    "project",
    "recorded_decorators",
    "resources",
    "retry",
    "schedule",
    "secrets",
    "step",
    "timeout",
]

STEP_ATTRIBUTE = "_flowc_decorators"
FLOW_ATTRIBUTE = "_flowc_flow_decorators"
IS_STEP_ATTRIBUTE = "_flowc_is_step"


def step(func: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a method of a FlowSpec as a step.

    ``def name(self)`` for most steps, ``def name(self, inputs)`` for a join.
    """
    setattr(func, IS_STEP_ATTRIBUTE, True)
    if not hasattr(func, STEP_ATTRIBUTE):
        setattr(func, STEP_ATTRIBUTE, [])
    return func


def recorded_decorators(target: Any) -> list[tuple[str, dict[str, Any]]]:
    """The (name, keyword arguments) pairs recorded on a step function or flow class, outermost last."""
    attribute = FLOW_ATTRIBUTE if isinstance(target, type) else STEP_ATTRIBUTE
    if isinstance(target, type):
        return list(target.__dict__.get(attribute, ()))
    return list(getattr(target, attribute, ()))


def _recording(name: str, *, on_class: bool) -> Callable[..., Any]:
    """A decorator factory that records ``(name, kwargs)`` and works bare or called."""
    attribute = FLOW_ATTRIBUTE if on_class else STEP_ATTRIBUTE

    def attach(target: Any, kwargs: dict[str, Any]) -> Any:
        if on_class:
            records = list(target.__dict__.get(attribute, ()))
        else:
            records = list(getattr(target, attribute, ()))
        records.append((name, dict(kwargs)))
        setattr(target, attribute, records)
        return target

    def decorator(*args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and callable(args[0]):
            return attach(args[0], {})
        if args:
            raise TypeError(f"@{name} takes keyword arguments only")
        return functools.partial(attach, kwargs=kwargs)

    decorator.__name__ = name
    decorator.__qualname__ = name
    decorator.__doc__ = f"``@{name}``: recorded for the front end; see docs/authoring.md."
    return decorator


STEP_DECORATORS = (
    "retry",
    "catch",
    "timeout",
    "resources",
    "environment",
    "kubernetes",
    "batch",
    "secrets",
    "card",
)
FLOW_DECORATORS = ("schedule", "project")

retry = _recording("retry", on_class=False)
catch = _recording("catch", on_class=False)
timeout = _recording("timeout", on_class=False)
resources = _recording("resources", on_class=False)
environment = _recording("environment", on_class=False)
kubernetes = _recording("kubernetes", on_class=False)
batch = _recording("batch", on_class=False)
secrets = _recording("secrets", on_class=False)
card = _recording("card", on_class=False)
schedule = _recording("schedule", on_class=True)
project = _recording("project", on_class=True)
