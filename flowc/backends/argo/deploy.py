"""``flowc deploy --target argo`` and ``flowc trigger --target argo``: unattended, exit code = outcome.

deploy: build and upload the code package, compile with its hash, then create or replace the
WorkflowTemplate (and the CronWorkflow under @schedule; a CronWorkflow flowc deployed for the flow
earlier is deleted once the flow has no @schedule, or it would go on starting runs).
``--dry-run`` uploads nothing, changes nothing, and prints what would change as a unified diff of
each object's spec, labels and annotations. trigger: check the parameters against the deployed
template (names, required ones, and types when the flow's file is given), then create a Workflow
from it (https://argo-workflows.readthedocs.io/en/latest/workflow-templates/#create-workflow-from-workflowtemplate-spec).

Exit codes: 0 done (or nothing to change), 1 the API or the upload failed, 2 bad input or
configuration (no API server, unknown parameter).
"""

from __future__ import annotations

import difflib
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from flowc.backends.argo.containers import OBJECTS_PARAMETER, OWN_PARAMETERS
from flowc.backends.argo.document import (
    API_VERSION,
    build_documents,
    cron_workflow_name,
    dump_yaml,
    flow_labels,
    template_name,
)
from flowc.backends.argo.kube import KubeClient, KubeError, client_from_settings, resource_path
from flowc.backends.large_parameters import store_large_values
from flowc.config import Settings
from flowc.datastore.storage import StorageError
from flowc.ir import FlowIR

__all__ = ["comparable_view", "deploy", "trigger"]


def comparable_view(obj: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part of an object that deploy owns (the server adds uid, status, managedFields...)."""
    if obj is None:
        return {}
    metadata = obj.get("metadata", {})
    return {
        "metadata": {k: metadata[k] for k in ("name", "labels", "annotations") if metadata.get(k)},
        "spec": obj.get("spec", {}),
    }


def _diff(old: Mapping[str, Any] | None, new: Mapping[str, Any], label: str) -> str:
    before = dump_yaml(comparable_view(old)).splitlines(keepends=True) if old else []
    after = dump_yaml(comparable_view(new)).splitlines(keepends=True)
    return "".join(difflib.unified_diff(before, after, f"{label} (deployed)", f"{label} (new)"))


def _flow_file(ir: FlowIR, options: Mapping[str, Any]) -> Path:
    given = options.get("flow")
    return Path(given) if given else Path(ir.source_file)


def deploy(
    ir: FlowIR,
    settings: Settings,
    options: Mapping[str, Any],
    *,
    client: KubeClient | None = None,
    out: TextIO | None = None,
) -> int:
    """Creates or updates the flow's objects; returns the exit code (see the module docstring)."""
    from flowc.backends.argo.backend import compile_flow
    from flowc.diagnostics import CompileError

    out = out or sys.stdout
    dry_run = bool(options.get("dry_run"))
    namespace = options.get("namespace") or settings["kubernetes.namespace"]
    try:
        client = client or client_from_settings(settings)
    except KubeError as exc:
        print(f"flowc deploy: {exc}", file=sys.stderr)
        return 2
    try:
        from flowc.package import build_package

        package = build_package(_flow_file(ir, options), settings=settings)
    except (OSError, ValueError) as exc:
        print(f"flowc deploy: cannot build the code package: {exc}", file=sys.stderr)
        return 2
    datastore = str(settings["datastore"])
    if not datastore.startswith("s3://"):
        print(
            f"flowc deploy: warning: datastore {datastore!r} is not s3://...; pods may not reach it",
            file=sys.stderr,
        )
    compile_options = {**options, "namespace": namespace, "package_sha": package.sha, "kind": "template"}
    try:
        compile_flow(ir, settings, compile_options)  # refusals first, before anything is uploaded
    except CompileError as exc:
        print(exc, file=sys.stderr)
        return 1
    if dry_run:
        print(f"would upload code package {package.sha} to {datastore}", file=out)
    else:
        try:
            from flowc.datastore.storage import open_storage
            from flowc.environments.deploy import store_code
            from flowc.environments.resolve import ResolveError

            url = store_code(open_storage(datastore), package, ir, settings)
        except ResolveError as exc:  # @pypi that cannot be locked: nothing was uploaded
            print(f"flowc deploy: {exc}", file=sys.stderr)
            return 1
        except Exception as exc:  # any storage failure ends the deploy with a clear message
            print(f"flowc deploy: cannot upload the code package: {exc}", file=sys.stderr)
            return 1
        print(f"uploaded code package {package.sha} ({url})", file=out)
    try:
        documents = [document for _, document in build_documents(ir, settings, compile_options)]
        for document in documents:
            _apply(client, document, namespace, dry_run, out)
        if ir.schedule is None:
            _remove_stale_cron(client, documents[0], namespace, dry_run, out)
    except KubeError as exc:
        print(f"flowc deploy: {exc}", file=sys.stderr)
        return 1
    return 0


def _remove_stale_cron(
    client: KubeClient, template: dict[str, Any], namespace: str, dry_run: bool, out: TextIO
) -> None:
    """Deletes the CronWorkflow an earlier deploy made for a flow that has no @schedule any more.

    Only one flowc made for this flow (its labels say so) is touched.
    """
    name = cron_workflow_name(template["metadata"]["name"])
    existing = client.get("CronWorkflow", namespace, name)
    if existing is None:
        return
    label = f"CronWorkflow/{name} in {namespace}"
    labels = existing.get("metadata", {}).get("labels") or {}
    ours = template["metadata"]["labels"]
    if any(labels.get(key) != ours[key] for key in ("app.kubernetes.io/managed-by", "flowc.dev/flow")):
        warning = f"flowc deploy: warning: left {label} alone: flowc did not deploy it for this flow"
        print(warning, file=sys.stderr)
        return
    if dry_run:
        print(f"would delete {label}: the flow has no @schedule any more", file=out)
        return
    client.request("DELETE", resource_path("CronWorkflow", namespace, name))
    print(f"deleted {label}: the flow has no @schedule any more", file=out)


def _apply(client: KubeClient, document: dict[str, Any], namespace: str, dry_run: bool, out: TextIO) -> None:
    kind, name = document["kind"], document["metadata"]["name"]
    label = f"{kind}/{name} in {namespace}"
    existing = client.get(kind, namespace, name)
    if existing is not None and comparable_view(existing) == comparable_view(document):
        print(f"unchanged {label}", file=out)
        return
    if dry_run:
        print(f"would {'update' if existing else 'create'} {label}", file=out)
        out.write(_diff(existing, document, label))
        return
    if existing is None:
        client.request("POST", resource_path(kind, namespace), document)
        print(f"created {label}", file=out)
        return
    body = dict(document)
    body["metadata"] = {**document["metadata"], "resourceVersion": existing["metadata"]["resourceVersion"]}
    client.request("PUT", resource_path(kind, namespace, name), body)
    print(f"updated {label}", file=out)


#: Parameter values stay this small in the Workflow object; larger ones go to the datastore.
INLINE_ARGUMENTS_BYTES = 64 * 1024


def workflow_arguments(given: Mapping[str, str], datastore: str) -> list[dict[str, str]]:
    """A Workflow's ``arguments.parameters`` for ``given``, large values stored in ``datastore``.

    A stored value's own argument stays present but empty (a required parameter must be given) and
    the start task reads it from the datastore (flowc.backends.large_parameters).
    """
    inline, stored = store_large_values(given, datastore, INLINE_ARGUMENTS_BYTES)
    arguments = {**inline, **{name: "" for name in stored}}
    if stored:
        arguments[OBJECTS_PARAMETER] = json.dumps(stored, sort_keys=True)
    return [{"name": name, "value": value} for name, value in sorted(arguments.items())]


def trigger(
    flow: str,
    settings: Settings,
    options: Mapping[str, Any],
    *,
    client: KubeClient | None = None,
    out: TextIO | None = None,
    poll_seconds: float = 5.0,
) -> int:
    """Creates a Workflow from the deployed template; with ``wait``, exits 0 only if it succeeds."""
    out = out or sys.stdout
    namespace = options.get("namespace") or settings["kubernetes.namespace"]
    given = {name: value for name, value in options.get("param") or []}
    if Path(flow).is_file():
        from flowc.frontend import build_ir

        ir = build_ir(flow)
        # The values were checked (and IncludeFile contents read) by flowc trigger itself.
        name, labels = template_name(ir, settings), flow_labels(ir, settings)
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
        workflow = {
            "apiVersion": API_VERSION,
            "kind": "Workflow",
            "metadata": {"generateName": f"{name[:57]}-", "namespace": namespace, "labels": labels},
            "spec": {
                "workflowTemplateRef": {"name": name},
                "arguments": {"parameters": workflow_arguments(given, str(settings["datastore"]))},
            },
        }
        created = client.request("POST", resource_path("Workflow", namespace), workflow)
        workflow_name = created["metadata"]["name"]
        print(f"started Workflow/{workflow_name} in {namespace}: run id argo-{workflow_name}", file=out)
        if not options.get("wait"):
            return 0
        while True:
            current = client.get("Workflow", namespace, workflow_name)
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
    declared = {
        p["name"]: p for p in template.get("spec", {}).get("arguments", {}).get("parameters", [])
    }
    flow_parameters = sorted(set(declared) - set(OWN_PARAMETERS))
    unknown = sorted(set(given) - set(flow_parameters))
    if unknown:
        known = ", ".join(flow_parameters) or "none"
        return f"{name} has no parameter(s) {', '.join(unknown)} (its parameters: {known})", 2
    missing = [p for p in flow_parameters if "value" not in declared[p] and p not in given]
    if missing:
        return f"{name} needs a value for parameter(s) {', '.join(missing)}", 2
    return None
