"""``flowc runs --target argo`` and ``flowc terminate`` of an Argo run.

A run ``argo-<name>`` is the Workflow ``<name>``. Listing reads the Workflows that carry the flow's
label (every deployment of the flow: each @project branch's template labels its runs the same way);
terminating sets ``spec.shutdown: Terminate`` with a merge patch, as ``argo terminate`` does: the
controller kills the running pods and starts nothing more, exit handlers included
(https://argo-workflows.readthedocs.io/en/latest/cli/argo_terminate/).
"""

from __future__ import annotations

import urllib.parse

from flowc.backends.argo.kube import KubeClient, KubeError, client_from_settings, resource_path
from flowc.backends.base import EngineRun, OperateError
from flowc.backends.options import EngineOptions
from flowc.config import Settings

__all__ = ["FINISHED_PHASES", "RUN_ID_PREFIX", "engine_runs", "terminate"]

RUN_ID_PREFIX = "argo-"
#: A Workflow in one of these phases has ended (https://argo-workflows.readthedocs.io/en/latest/fields/#workflowstatus).
FINISHED_PHASES = ("Succeeded", "Failed", "Error")


def _client(settings: Settings, client: KubeClient | None) -> KubeClient:
    try:
        return client or client_from_settings(settings)
    except KubeError as exc:
        raise OperateError(str(exc), 2) from None


def engine_runs(
    flow_name: str, settings: Settings, options: EngineOptions, *, client: KubeClient | None = None
) -> list[EngineRun]:
    """The flow's Workflows in the namespace, as runs."""
    from flowc.backends.naming import label_value

    namespace = options.namespace or settings["kubernetes.namespace"]
    selector = urllib.parse.quote(f"flowc.dev/flow={label_value(flow_name)}", safe="=/")
    try:
        listed = _client(settings, client).request(
            "GET", f"{resource_path('Workflow', namespace)}?labelSelector={selector}"
        )
    except KubeError as exc:
        raise OperateError(str(exc)) from None
    runs = []
    for workflow in listed.get("items") or []:
        status = workflow.get("status") or {}
        phase = status.get("phase") or "Pending"
        started = status.get("startedAt") or workflow["metadata"].get("creationTimestamp")
        runs.append(
            EngineRun(RUN_ID_PREFIX + workflow["metadata"]["name"], phase, started, phase in FINISHED_PHASES)
        )
    return runs


def terminate(
    flow_name: str,
    run_id: str,
    settings: Settings,
    options: EngineOptions,
    *,
    client: KubeClient | None = None,
) -> str:
    """Terminates the Workflow of ``run_id``; refuses one that has already ended."""
    namespace = options.namespace or settings["kubernetes.namespace"]
    name = run_id[len(RUN_ID_PREFIX) :]
    client = _client(settings, client)
    try:
        workflow = client.get("Workflow", namespace, name)
        if workflow is None:
            raise OperateError(f"no Workflow/{name} in {namespace}")
        phase = (workflow.get("status") or {}).get("phase")
        if phase in FINISHED_PHASES:
            raise OperateError(f"Workflow/{name} has already ended ({phase})")
        patch = {"spec": {"shutdown": "Terminate"}}
        client.request(
            "PATCH", resource_path("Workflow", namespace, name), patch, "application/merge-patch+json"
        )
    except KubeError as exc:
        raise OperateError(str(exc)) from None
    return f"Workflow/{name} in {namespace}: shutdown Terminate"
