"""flowc: write a flow once as a Python class, run it locally, compile it for Argo, Step Functions
or Airflow.

A Metaflow flow changes one import line: ``from flowc import FlowSpec, step, Parameter, ...``.
Names are imported lazily so that ``import flowc`` (what every task pays) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "Config",
    "DataArtifact",
    "Deployer",
    "Flow",
    "FlowMutator",
    "FlowSpec",
    "IncludeFile",
    "JSONType",
    "MetaflowNamespaceMismatch",
    "MetaflowNotFound",
    "Parameter",
    "Run",
    "Runner",
    "Step",
    "StepMutator",
    "Task",
    "UserStepDecorator",
    "batch",
    "card",
    "catch",
    "config_expr",
    "current",
    "default_namespace",
    "environment",
    "exit_hook",
    "get_namespace",
    "kubernetes",
    "namespace",
    "parallel",
    "project",
    "pypi",
    "pypi_base",
    "resources",
    "retry",
    "schedule",
    "secrets",
    "step",
    "timeout",
    "trigger",
    "trigger_on_finish",
    "user_step_decorator",
]

__version__ = "0.1.0"

# name -> module that defines it; resolved on first use (PEP 562).
_EXPORTS = {
    "FlowSpec": "flowc.authoring.flowspec",
    "Parameter": "flowc.authoring.parameters",
    "JSONType": "flowc.authoring.parameters",
    "IncludeFile": "flowc.authoring.parameters",
    "current": "flowc.authoring.current",
    **{
        name: "flowc.authoring.decorators"
        for name in (
            "step",
            "retry",
            "catch",
            "timeout",
            "resources",
            "environment",
            "kubernetes",
            "batch",
            "secrets",
            "card",
            "schedule",
            "project",
            "pypi",
            "pypi_base",
            "exit_hook",
            "trigger",
            "trigger_on_finish",
        )
    },
    "Config": "flowc.authoring.configs",
    "config_expr": "flowc.authoring.configs",
    # Metaflow names flowc does not implement: importable, refused when used.
    **{
        name: "flowc.authoring.unimplemented"
        for name in (
            "parallel",
            "FlowMutator",
            "StepMutator",
            "UserStepDecorator",
            "user_step_decorator",
        )
    },
    "Runner": "flowc.runner_api",
    "Deployer": "flowc.deployer_api",
    **{
        name: "flowc.client"
        for name in (
            "Flow",
            "Run",
            "Step",
            "Task",
            "DataArtifact",
            "namespace",
            "get_namespace",
            "default_namespace",
            "MetaflowNotFound",
            "MetaflowNamespaceMismatch",
        )
    },
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        decorators = importlib.import_module("flowc.authoring.decorators")
        if name in decorators.UNSUPPORTED_DECORATORS:
            # Importable (not in __all__), so the front end can refuse it with a hint.
            return decorators.unsupported(name)
        raise AttributeError(f"module 'flowc' has no attribute {name!r}")
    try:
        found = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        # A deployed task runs from the code package, which leaves out what tasks never load
        # (flowc.package.NOT_FOR_TASKS): Runner and Deployer need the command line and back ends.
        raise ImportError(
            f"flowc.{name} is not available inside a deployed task: the code package leaves out {module}"
        ) from None
    return getattr(found, name)


def __dir__() -> list[str]:
    return sorted(__all__)
