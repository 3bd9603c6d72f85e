"""Typed options of ``flowc compile|deploy|undeploy|trigger``: what a back end is given besides the
IR and the settings, read from the command line once (:func:`compile_options` and friends).

A back end's ``compile`` is a pure function of (IR, settings, :class:`CompileOptions`): every field
that changes a document is here, checked when the options are made, so the targets only render
them. The deploy settings (``max_workers``, ``workflow_timeout``, ``schedule_paused``) mean the
same on every target; docs/targets.md says how each one renders them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from flowc.notifications import notify_events

__all__ = [
    "CompileOptions",
    "DeployOptions",
    "EngineOptions",
    "TriggerOptions",
    "compile_options",
    "deploy_options",
    "engine_options",
    "trigger_options",
]


@dataclass(frozen=True)
class CompileOptions:
    """What the compiled documents depend on besides the IR and the settings.

    Attributes:
        package_sha: the code package the tasks start from (None: ``--source``, the flow file).
        namespace: Argo: the Kubernetes namespace (None: setting ``kubernetes.namespace``).
        kind: Argo: ``template`` (WorkflowTemplate, + CronWorkflow with @schedule) or ``workflow``.
        operator: Airflow: ``local`` or ``kubernetes`` (None: setting ``airflow.operator``).
        max_workers: tasks of one run running at once (Argo ``parallelism``, Step Functions Map
            ``MaxConcurrency``, Airflow ``max_active_tasks``); None: the engine's default.
        workflow_timeout: seconds a whole run may take before the engine stops it; None: no limit.
        schedule_paused: an @schedule starts paused (deploy creates it; a person resumes it).
        notify: the run outcomes (``error``, ``success``) the end-of-run task notifies the
            configured webhooks of (``--notify-on-error``, ``--notify-on-success``;
            :mod:`flowc.notifications`).
    """

    package_sha: str | None = None
    namespace: str | None = None
    kind: str = "template"
    operator: str | None = None
    max_workers: int | None = None
    workflow_timeout: int | None = None
    schedule_paused: bool = False
    notify: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("max_workers", "workflow_timeout"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
        if self.kind not in ("template", "workflow"):
            raise ValueError(f"kind must be 'template' or 'workflow', not {self.kind!r}")
        from flowc.notifications import EVENTS

        if not set(self.notify) <= set(EVENTS):
            raise ValueError(f"notify must name events among {EVENTS}, not {self.notify!r}")
        object.__setattr__(self, "notify", tuple(e for e in EVENTS if e in self.notify))

    def with_package(self, sha: str) -> CompileOptions:
        return replace(self, package_sha=sha)


@dataclass(frozen=True)
class DeployOptions:
    """``flowc deploy|undeploy``: the documents' options and where and how they go.

    Attributes:
        flow_file: the flow file the code package is built from.
        compile: options of the documents (``package_sha`` is set by deploy).
        dry_run: print what would change; change nothing.
        dags_folder: Airflow: where the DAG file goes (None: setting ``airflow.dags_folder``).
        tags: tags of every run of the deployment (``deploy --tag``), as ``flowc run --tag``; kept
            in the deployment record (flowc.deployments), not in the documents.
    """

    flow_file: str
    compile: CompileOptions = field(default_factory=CompileOptions)
    dry_run: bool = False
    dags_folder: str | None = None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TriggerOptions:
    """``flowc trigger``: which deployment, with which parameter values and tags.

    Attributes:
        params: (name, value) pairs, values as given (the back end renders them for its engine).
        tags: tags of this run, beside the deployment's own.
        wait: wait for the run to end; the exit code is its outcome.
        namespace: Argo: the Kubernetes namespace (None: the setting).
        name: Step Functions: the execution name (None: generated).
        api_url: Airflow: the REST API base URL (None: setting ``airflow.api_url``).
        dag_id: Airflow: the DAG id when the flow is given by a name that differs from it.
        resume: ``ORIGIN_RUN_ID[/STEP]``: the run resumes that one in place (``flowc resume
            --target``; Argo so far).
    """

    params: tuple[tuple[str, Any], ...] = ()
    tags: tuple[str, ...] = ()
    wait: bool = False
    namespace: str | None = None
    name: str | None = None
    api_url: str | None = None
    dag_id: str | None = None
    resume: str | None = None


@dataclass(frozen=True)
class EngineOptions:
    """``flowc runs --target``, ``flowc terminate``: where a deployed flow's runs are.

    Attributes:
        namespace: Argo: the Kubernetes namespace (None: setting ``kubernetes.namespace``).
        api_url: Airflow: the REST API base URL (None: setting ``airflow.api_url``).
        dag_id: Airflow: the DAG id when it is not the flow's.
    """

    namespace: str | None = None
    api_url: str | None = None
    dag_id: str | None = None


def _given(values: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The options among ``names`` that the command line gave (argparse leaves the others None)."""
    return {name: values[name] for name in names if values.get(name) is not None}


def compile_options(values: Mapping[str, Any]) -> CompileOptions:
    """The compile options in ``values`` (``vars(args)`` of ``flowc compile|deploy``)."""
    given = _given(values, "package_sha", "namespace", "kind", "operator", "max_workers", "workflow_timeout")
    return CompileOptions(
        **given, schedule_paused=bool(values.get("schedule_paused")), notify=notify_events(values)
    )


def deploy_options(values: Mapping[str, Any]) -> DeployOptions:
    """The deploy options in ``values`` (``vars(args)`` of ``flowc deploy|undeploy``)."""
    return DeployOptions(
        flow_file=str(values["flow"]),
        compile=compile_options(values),
        dry_run=bool(values.get("dry_run")),
        dags_folder=values.get("dags_folder"),
        tags=tuple(values.get("tag") or ()),
    )


def trigger_options(values: Mapping[str, Any], params: list[tuple[str, Any]]) -> TriggerOptions:
    """The trigger options in ``values`` (``vars(args)`` of ``flowc trigger``) with ``params``."""
    return TriggerOptions(
        params=tuple((str(name), value) for name, value in params),
        tags=tuple(values.get("tag") or ()),
        wait=bool(values.get("wait")),
        **_given(values, "namespace", "name", "api_url", "dag_id"),
    )


def engine_options(values: Mapping[str, Any]) -> EngineOptions:
    """The engine options in ``values`` (``vars(args)`` of ``flowc runs|terminate``)."""
    return EngineOptions(**_given(values, "namespace", "api_url", "dag_id"))
