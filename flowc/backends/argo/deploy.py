"""``flowc deploy --target argo`` and ``flowc trigger --target argo``: unattended, exit code = outcome.

deploy (the hooks of :mod:`flowc.backends.deploy`, which holds the sequence, the messages and
the exit codes): create or replace the WorkflowTemplate (and the CronWorkflow under @schedule; a
CronWorkflow flowc deployed for the flow earlier is deleted once the flow has no @schedule, or it
would go on starting runs); the dry run's diff is of each object's spec, labels and annotations.
undeploy deletes both (only objects whose labels say flowc deployed them for this flow).
trigger: check the parameters against the deployed template (names, required ones, and types
when the flow's file is given), then create a Workflow from it (https://argo-workflows.readthedocs.io/en/latest/workflow-templates/#create-workflow-from-workflowtemplate-spec).

Trigger's exit codes: 0 started (or, with ``wait``, succeeded), 1 the API failed (or the run did),
2 bad input or configuration (no API server, unknown parameter).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from flowc.backends.argo.containers import OBJECTS_PARAMETER, OWN_PARAMETERS, RESUME_PARAMETER
from flowc.backends.argo.document import (
    API_VERSION,
    build_documents,
    cron_workflow_name,
    dump_yaml,
    flow_labels,
    template_name,
)
from flowc.backends.argo.kube import KubeClient, KubeError, client_from_settings, resource_path
from flowc.backends.argo.sensor import sensor_name
from flowc.backends.deploy import EXIT_CONFIGURATION, Change, DeployError, changed
from flowc.backends.large_parameters import store_large_values, store_run_tags
from flowc.backends.options import CompileOptions, DeployOptions, TriggerOptions
from flowc.config import Settings
from flowc.datastore.storage import StorageError
from flowc.ir import FlowIR

__all__ = ["ArgoDeployment", "comparable_view", "trigger"]


def comparable_view(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part of an object that deploy owns (the server adds uid, status, managedFields...)."""
    if obj is None:
        return {}
    metadata = obj.get("metadata", {})
    return {
        "metadata": {k: metadata[k] for k in ("name", "labels", "annotations") if metadata.get(k)},
        "spec": obj.get("spec", {}),
    }


def _text(obj: Mapping[str, Any] | None) -> str | None:
    return dump_yaml(comparable_view(obj)) if obj is not None else None


class ArgoDeployment:
    """The Argo hooks of :mod:`flowc.backends.deploy`: a WorkflowTemplate (+ CronWorkflow)."""

    def connect(self, settings: Settings, options: DeployOptions) -> KubeClient:
        try:
            client = client_from_settings(settings)
        except KubeError as exc:
            raise DeployError(str(exc), EXIT_CONFIGURATION) from None
        datastore = str(settings["datastore"])
        if not datastore.startswith("s3://"):
            print(
                f"flowc deploy: warning: datastore {datastore!r} is not s3://...; pods may not reach it",
                file=sys.stderr,
            )
        return client

    def plan(
        self, ir: FlowIR, settings: Settings, options: CompileOptions, session: KubeClient
    ) -> list[Change]:
        namespace = options.namespace or settings["kubernetes.namespace"]
        documents = [
            document for _, document in build_documents(ir, settings, replace(options, kind="template"))
        ]
        changes = [_change(session, document, namespace) for document in documents]
        if ir.schedule is None:
            changes.extend(_stale_cron(session, documents[0], namespace))
        return changes

    def removals(
        self, ir: FlowIR, settings: Settings, options: CompileOptions, session: KubeClient
    ) -> list[Change]:
        namespace = options.namespace or settings["kubernetes.namespace"]
        name = template_name(ir, settings)
        labels = flow_labels(ir, settings)
        removals = []
        objects = (
            ("Sensor", sensor_name(name)),
            ("CronWorkflow", cron_workflow_name(name)),
            ("WorkflowTemplate", name),
        )
        for kind, object_name in objects:
            existing = session.get(kind, namespace, object_name)
            if existing is not None and _ours(existing, labels, f"{kind}/{object_name} in {namespace}"):
                removals.append(_delete(session, kind, existing, namespace))
        return removals


def _ours(existing: Mapping[str, Any], labels: Mapping[str, str], label: str) -> bool:
    """Whether flowc deployed ``existing`` for this flow (its labels say so); warns if not."""
    found = existing.get("metadata", {}).get("labels") or {}
    if all(found.get(key) == labels[key] for key in ("app.kubernetes.io/managed-by", "flowc.dev/flow")):
        return True
    print(f"flowc: warning: left {label} alone: flowc did not deploy it for this flow", file=sys.stderr)
    return False


def _delete(
    client: KubeClient, kind: str, existing: Mapping[str, Any], namespace: str, note: str = ""
) -> Change:
    name = existing["metadata"]["name"]
    return Change(
        "delete",
        f"{kind}/{name} in {namespace}",
        before=_text(existing) or "",
        apply=lambda: client.request("DELETE", resource_path(kind, namespace, name)),
        note=note,
    )


def _stale_cron(client: KubeClient, template: dict[str, Any], namespace: str) -> list[Change]:
    """Deletes the CronWorkflow an earlier deploy made for a flow that has no @schedule any more,
    or it would go on starting runs. Only one flowc made for this flow (its labels say so)."""
    name = cron_workflow_name(template["metadata"]["name"])
    existing = client.get("CronWorkflow", namespace, name)
    if existing is None or not _ours(
        existing, template["metadata"]["labels"], f"CronWorkflow/{name} in {namespace}"
    ):
        return []
    return [_delete(client, "CronWorkflow", existing, namespace, "the flow has no @schedule any more")]


def _change(client: KubeClient, document: dict[str, Any], namespace: str) -> Change:
    kind, name = document["kind"], document["metadata"]["name"]
    existing = client.get(kind, namespace, name)
    if kind == "CronWorkflow" and existing is not None:
        # --schedule-paused says how a new schedule starts; one that exists stays as a person left it.
        document["spec"].pop("suspend", None)
        if existing.get("spec", {}).get("suspend"):
            document["spec"]["suspend"] = True

    def apply() -> None:
        if existing is None:
            client.request("POST", resource_path(kind, namespace), document)
            return
        body = dict(document)
        version = existing["metadata"]["resourceVersion"]
        body["metadata"] = {**document["metadata"], "resourceVersion": version}
        client.request("PUT", resource_path(kind, namespace, name), body)

    return changed(f"{kind}/{name} in {namespace}", _text(existing), _text(document) or "", apply)


#: Parameter values stay this small in the Workflow object; larger ones go to the datastore.
INLINE_ARGUMENTS_BYTES = 64 * 1024


def workflow_arguments(
    given: Mapping[str, str], datastore: str, tags: Sequence[str] = ()
) -> list[dict[str, str]]:
    """A Workflow's ``arguments.parameters`` for ``given`` and the run's ``tags``, large values (and
    the tags) stored in ``datastore``.

    A stored value's own argument stays present but empty (a required parameter must be given) and
    the start task reads it from the datastore (flowc.backends.large_parameters).
    """
    inline, stored = store_large_values(given, datastore, INLINE_ARGUMENTS_BYTES)
    arguments = {**inline, **{name: "" for name in stored}}
    stored |= store_run_tags(tags, datastore)
    if stored:
        arguments[OBJECTS_PARAMETER] = json.dumps(stored, sort_keys=True)
    return [{"name": name, "value": value} for name, value in sorted(arguments.items())]


def trigger(
    flow: str,
    settings: Settings,
    options: TriggerOptions,
    *,
    client: KubeClient | None = None,
    out: TextIO | None = None,
    poll_seconds: float = 5.0,
) -> int:
    """Creates a Workflow from the deployed template; with ``wait``, exits 0 only if it succeeds."""
    out = out or sys.stdout
    namespace = options.namespace or settings["kubernetes.namespace"]
    given = dict(options.params)
    flow_name = flow
    if Path(flow).is_file():
        from flowc.frontend import build_ir

        ir = build_ir(flow)
        # The values were checked (and IncludeFile contents read) by flowc trigger itself.
        name, labels = template_name(ir, settings), flow_labels(ir, settings)
        flow_name = ir.name
    else:
        from flowc.backends.naming import dns_label, label_value

        name, labels = (
            dns_label(flow),
            {"app.kubernetes.io/managed-by": "flowc", "flowc.dev/flow": label_value(flow)},
        )
    try:
        client = client or client_from_settings(settings)
        problem = _argument_problem(client.get("WorkflowTemplate", namespace, name), given, name, namespace)
        if problem:
            message, code = problem
            print(f"flowc trigger: {message}", file=sys.stderr)
            return code
        arguments = workflow_arguments(given, str(settings["datastore"]), options.tags)
        if options.resume:
            arguments.append({"name": RESUME_PARAMETER, "value": options.resume})
        workflow = {
            "apiVersion": API_VERSION,
            "kind": "Workflow",
            "metadata": {"generateName": f"{name[:57]}-", "namespace": namespace, "labels": labels},
            "spec": {
                "workflowTemplateRef": {"name": name},
                "arguments": {"parameters": arguments},
            },
        }
        created = client.request("POST", resource_path("Workflow", namespace), workflow)
        workflow_name = created["metadata"]["name"]
        print(f"started Workflow/{workflow_name} in {namespace}: run id argo-{workflow_name}", file=out)
        if not options.wait:
            return 0
        from flowc.client.follow import RunLogStream

        show_logs = RunLogStream(str(settings["datastore"]), flow_name, f"argo-{workflow_name}")
        while True:
            current = client.get("Workflow", namespace, workflow_name)
            show_logs()
            if current is None:
                gone = f"flowc trigger: Workflow/{workflow_name} was deleted before it finished"
                print(gone, file=sys.stderr)
                return 1
            phase = current.get("status", {}).get("phase")
            if phase in ("Succeeded", "Failed", "Error"):
                print(f"Workflow/{workflow_name}: {phase}", file=out)
                return 0 if phase == "Succeeded" else 1
            time.sleep(poll_seconds)
    except KubeError as exc:
        print(f"flowc trigger: {exc}", file=sys.stderr)
        return 2 if exc.status == 0 and "no Kubernetes API server" in str(exc) else 1
    except (ValueError, StorageError) as exc:  # a large value could not be stored
        print(f"flowc trigger: {exc}", file=sys.stderr)
        return 1


def _argument_problem(
    template: Mapping[str, Any] | None, given: Mapping[str, str], name: str, namespace: str
) -> tuple[str, int] | None:
    """What is wrong with starting ``template`` with ``given`` (message, exit code), or None.

    A Workflow the API server accepts can still fail at once in the controller (a template that
    does not exist, a parameter without a value), so trigger checks first.
    """
    if template is None:
        return f"no WorkflowTemplate {name!r} in {namespace}: run `flowc deploy --target argo` first", 1
    declared = {p["name"]: p for p in template.get("spec", {}).get("arguments", {}).get("parameters", [])}
    flow_parameters = sorted(set(declared) - set(OWN_PARAMETERS))
    unknown = sorted(set(given) - set(flow_parameters))
    if unknown:
        known = ", ".join(flow_parameters) or "none"
        return f"{name} has no parameter(s) {', '.join(unknown)} (its parameters: {known})", 2
    missing = [p for p in flow_parameters if "value" not in declared[p] and p not in given]
    if missing:
        return f"{name} needs a value for parameter(s) {', '.join(missing)}", 2
    return None
