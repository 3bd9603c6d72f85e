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
    "UNSUPPORTED_DECORATORS",
    "batch",
    "card",
    "catch",
    "environment",
    "exit_hook",
    "kubernetes",
    "project",
    "pypi",
    "pypi_base",
    "recorded_decorators",
    "resources",
    "retry",
    "schedule",
    "secrets",
    "step",
    "timeout",
    "trigger",
    "trigger_on_finish",
    "unsupported",
]

STEP_ATTRIBUTE = "_flowc_decorators"
FLOW_ATTRIBUTE = "_flowc_flow_decorators"
IS_STEP_ATTRIBUTE = "_flowc_is_step"


def step(func: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a method of a FlowSpec as a step.

    ``def name(self)`` for most steps, ``def name(self, inputs)`` for a join.
    """
    setattr(func, IS_STEP_ATTRIBUTE, True)
    func.name = func.__name__  # type: ignore[attr-defined]  # Metaflow's ``step.name``
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
    "pypi",
)
FLOW_DECORATORS = ("schedule", "project", "pypi_base", "exit_hook", "trigger", "trigger_on_finish")

_CONDA = (
    "conda channels cannot be reached from flowc's tasks: declare the packages with "
    "@pypi(packages={...}, python=...) on the step or @pypi_base(...) on the flow (docs/environments.md)"
)
_MULTI_NODE = "flowc has no multi-node (gang-scheduled) tasks; fan out with a foreach instead"
_SENSOR = "start the run when the condition holds instead (e.g. `flowc trigger` from the sensor's own DAG)"
_INTERNAL = "Metaflow's back ends add it themselves; remove it"

#: Metaflow's own decorators that flowc does not implement (yet), with what to do instead. The front
#: end refuses each (``unsupported-decorator``) rather than dropping it; they are importable from
#: ``flowc`` so that a Metaflow flow with its import changed reaches that diagnostic. The names are
#: Metaflow's ``STEP_DECORATORS_DESC`` and ``FLOW_DECORATORS_DESC`` (metaflow/plugins/__init__.py).
UNSUPPORTED_DECORATORS: dict[str, str] = {
    "conda": _CONDA,
    "conda_base": _CONDA,
    "parallel": _MULTI_NODE,
    "pytorch_parallel": _MULTI_NODE,
    "airflow_external_task_sensor": _SENSOR,
    "airflow_s3_key_sensor": _SENSOR,
    "argo_workflows_internal": _INTERNAL,
    "step_functions_internal": _INTERNAL,
    "airflow_internal": _INTERNAL,
    "unbounded_test_foreach_internal": _INTERNAL,
}

retry = _recording("retry", on_class=False)
catch = _recording("catch", on_class=False)
timeout = _recording("timeout", on_class=False)
resources = _recording("resources", on_class=False)
environment = _recording("environment", on_class=False)
kubernetes = _recording("kubernetes", on_class=False)
batch = _recording("batch", on_class=False)
secrets = _recording("secrets", on_class=False)
card = _recording("card", on_class=False)
pypi = _recording("pypi", on_class=False)
pypi_base = _recording("pypi_base", on_class=True)
schedule = _recording("schedule", on_class=True)
project = _recording("project", on_class=True)
exit_hook = _recording("exit_hook", on_class=True)
trigger = _recording("trigger", on_class=True)
trigger_on_finish = _recording("trigger_on_finish", on_class=True)


def unsupported(name: str) -> Callable[..., Any]:
    """The stand-in for Metaflow's ``@name``: it records like the others, so a flow importing it
    loads, and ``flowc check`` / ``compile`` / ``run`` refuse it with a hint."""
    return _recording(name, on_class=False)
