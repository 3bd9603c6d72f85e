"""Assembling the Kubernetes objects: WorkflowTemplate, CronWorkflow, or a plain Workflow.

Field reference: https://argo-workflows.readthedocs.io/en/latest/fields/ . Output is a pure
function of (IR, settings, options): sorted keys, sorted templates, no timestamps, no paths of
this machine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

from flowc.backends.argo.containers import (
    BOOTSTRAP_PARAMETER,
    DATASTORE_PARAMETER,
    EVENTS_PARAMETER,
    OBJECTS_PARAMETER,
    PACKAGE_PARAMETER,
    RESUME_PARAMETER,
    container_template,
    exit_handler_template,
)
from flowc.backends.argo.dags import DagLowering
from flowc.backends.argo.regions import MAIN, MAIN_KEY, Regions, analyse_regions
from flowc.backends.argo.sensor import sensor_document
from flowc.backends.launch import TaskLaunch, task_launch
from flowc.backends.naming import dns_label, label_value, stable_hash
from flowc.backends.options import CompileOptions
from flowc.config import Settings
from flowc.ir import FlowIR, ParameterSpec
from flowc.project_branches import project_branch, task_environment

__all__ = [
    "API_VERSION",
    "CRON_NAME_MAX",
    "build_documents",
    "cron_workflow_name",
    "dump_yaml",
    "flow_labels",
    "parameter_value",
    "template_name",
]

API_VERSION = "argoproj.io/v1alpha1"
#: Argo appends an 11-character suffix to a CronWorkflow's name for each run, so it allows 52.
#: https://argo-workflows.readthedocs.io/en/latest/cron-workflows/
CRON_NAME_MAX = 52


def template_name(ir: FlowIR, settings: Settings, environ: Mapping[str, str] | None = None) -> str:
    """The WorkflowTemplate's name: ``<project>-<branch>-<flow>`` under @project, else the flow's."""
    if ir.project is not None:
        return dns_label(ir.project.name, project_branch(settings, environ).name, ir.name)
    return dns_label(ir.name)


def flow_labels(ir: FlowIR, settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    labels = {"app.kubernetes.io/managed-by": "flowc", "flowc.dev/flow": label_value(ir.name)}
    if ir.project is not None:
        labels["flowc.dev/project"] = label_value(ir.project.name)
        branch = project_branch(settings, environ)
        labels["flowc.dev/branch"] = label_value(branch.name)
        labels["flowc.dev/production"] = "true" if branch.production else "false"
    return labels


def parameter_value(parameter: ParameterSpec) -> str | None:
    """The text a workflow argument carries for ``parameter``'s default (None: must be given).

    The task runner parses text by the parameter's type, so the default is written the way a user
    would type it: ``2``, ``0.5``, ``True``, JSON as JSON.
    """
    if parameter.deferred_default:
        return ""  # resolved by the start task (containers._parameters_artifact sends null)
    if not parameter.has_default:
        return None
    value = parameter.default
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, sort_keys=True)


def _arguments(ir: FlowIR, settings: Settings, options: CompileOptions) -> list[dict[str, Any]]:
    arguments = []
    for parameter in ir.parameters:
        entry: dict[str, Any] = {"name": parameter.name}
        value = parameter_value(parameter)
        if value is not None:
            entry["value"] = value
        if parameter.help:
            entry["description"] = parameter.help
        arguments.append(entry)
    package = options.package_sha
    package_entry: dict[str, Any] = {
        "name": PACKAGE_PARAMETER,
        "description": "sha256 of the code package in the datastore (set by flowc deploy)",
    }
    if package:
        package_entry["value"] = package
    arguments.append(package_entry)
    arguments.append(
        {
            "name": DATASTORE_PARAMETER,
            "value": str(settings["datastore"]),
            "description": "datastore root of the run's tasks",
        }
    )
    arguments.append(
        {
            "name": RESUME_PARAMETER,
            "value": "",
            "description": "flowc resume: ORIGIN_RUN_ID[/STEP]",
        }
    )
    arguments.append(
        {
            "name": OBJECTS_PARAMETER,
            "value": "{}",
            "description": "parameters too large for the Workflow and the run's tags: {name: sha256} "
            "in the datastore (set by flowc trigger)",
        }
    )
    if ir.triggers:
        arguments.append(
            {
                "name": EVENTS_PARAMETER,
                "value": "",
                "description": "the bodies of the events that started the run (set by the Sensor)",
            }
        )
    return arguments


#: Key of the exit handler's template in :func:`_names` (no step or region has this key).
EXIT_HANDLER = ":exit"


def _names(regions: Regions) -> dict[str, str]:
    """Template and task names: DNS labels, unique (hash-suffixed on a clash)."""
    wanted = [(MAIN_KEY, "main"), (EXIT_HANDLER, "flowc-exit")]
    wanted += [(step.name, dns_label(step.name)) for step in regions.ir.steps]
    wanted += [
        (key, dns_label(region.owner or "", region.kind))
        for key, region in sorted(regions.by_key.items())
        if region.kind != MAIN
    ]
    names: dict[str, str] = {}
    used: set[str] = set()
    for key, name in wanted:
        if name in used:
            name = dns_label(name, stable_hash(key))
        used.add(name)
        names[key] = name
    return names


def _templates(
    ir: FlowIR,
    settings: Settings,
    launch: TaskLaunch,
    environ: Mapping[str, str] | None,
    notify: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], str]:
    """Every template, sorted by name, and the exit handler's name."""
    regions = analyse_regions(ir)
    names = _names(regions)
    lowering = DagLowering(regions, names)
    templates = lowering.templates()
    extra_env = task_environment(ir, settings, environ)
    if settings.get("s3.endpoint_url"):
        extra_env["FLOWC_S3__ENDPOINT_URL"] = str(settings["s3.endpoint_url"])
    for variable in launch.environment:  # the bootstrap's text: once, in a workflow parameter
        extra_env[variable] = "{{workflow.parameters." + BOOTSTRAP_PARAMETER + "}}"
    for step in ir.steps:
        templates.append(
            container_template(
                ir,
                step,
                name=names[step.name],
                image=str(settings["image"]),
                indexed=step.foreach_depth > 0,
                iterated=step.name in regions.dynamic_iteration,
                exports_control=step.name in lowering.exports_control,
                extra_env=extra_env,
                launch=launch,
            )
        )
    end_step = next(step.name for step in ir.steps if step.kind == "end")
    end = next(t for t in templates if t["name"] == names[end_step])
    # The end-of-run step announces a successful run on the Argo Events webhook, where the Sensors
    # of @trigger_on_finish flows wait for it (flowc.events.announce_finished_run).
    webhook = settings.get("argo_events.webhook_url")
    announce = {"FLOWC_ARGO_EVENTS__WEBHOOK_URL": str(webhook)} if webhook else {}
    templates.append(
        exit_handler_template(
            ir, end, name=names[EXIT_HANDLER], launch=launch, notify=notify, environment=announce
        )
    )
    return sorted(templates, key=lambda t: t["name"]), names[EXIT_HANDLER]


def _spec(
    ir: FlowIR,
    settings: Settings,
    options: CompileOptions,
    labels: dict[str, str],
    environ: Mapping[str, str] | None,
) -> dict[str, Any]:
    launch = task_launch(settings)  # every container starts from the package (flowc-package)
    templates, exit_handler = _templates(ir, settings, launch, environ, options.notify)
    arguments = _arguments(ir, settings, options)
    for source in launch.environment.values():
        arguments.append(
            {
                "name": BOOTSTRAP_PARAMETER,
                "value": source,
                "description": "flowc's fixed bootstrap program: starts each task from the code "
                "package in any image with Python",
            }
        )
    spec: dict[str, Any] = {
        "entrypoint": "main",
        "onExit": exit_handler,
        "arguments": {"parameters": arguments},
        "templates": templates,
        "workflowMetadata": {"labels": labels},
    }
    if settings.get("kubernetes.service_account"):
        spec["serviceAccountName"] = settings["kubernetes.service_account"]
    if options.max_workers:
        # https://argo-workflows.readthedocs.io/en/latest/parallelism/ : pods of the workflow
        # running at once; the others of a wide foreach wait, Pending in Argo, not in Kubernetes.
        spec["parallelism"] = options.max_workers
    if options.workflow_timeout:
        # The whole run's limit: Argo fails the workflow and stops its pods once it passes.
        # https://argo-workflows.readthedocs.io/en/latest/walk-through/timeouts/
        spec["activeDeadlineSeconds"] = options.workflow_timeout
    pull_secrets = sorted({s for step in ir.steps for s in step.container.image_pull_secrets})
    if pull_secrets:
        # Argo sets pull secrets for the whole workflow only (WorkflowSpec.imagePullSecrets).
        spec["imagePullSecrets"] = [{"name": name} for name in pull_secrets]
    return spec


def build_documents(
    ir: FlowIR,
    settings: Settings,
    options: CompileOptions,
    environ: Mapping[str, str] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """The objects to write, as (file name, object) pairs.

    Args:
        ir: the flow.
        settings: effective configuration (image, namespace, service account, datastore).
        options: ``kind``, ``namespace``, ``package_sha``, and the deploy settings
            (:class:`flowc.backends.options.CompileOptions`).
        environ: where the user name of a @project user branch comes from (default ``os.environ``).
    """
    from flowc.secret_sources import with_default_provider

    ir = with_default_provider(ir, settings.get("secrets.default_provider"))  # idempotent
    namespace = options.namespace or settings["kubernetes.namespace"]
    name = template_name(ir, settings, environ)
    labels = flow_labels(ir, settings, environ)
    annotations = {
        "flowc.dev/flow-name": ir.name,
        "flowc.dev/source": PurePath(ir.source_file).name,
    }
    metadata = {"namespace": namespace, "labels": labels, "annotations": annotations}
    spec = _spec(ir, settings, options, labels, environ)
    if options.kind == "workflow":
        workflow = {
            "apiVersion": API_VERSION,
            "kind": "Workflow",
            "metadata": {"generateName": f"{name[:57]}-", **metadata},
            "spec": spec,
        }
        return [(f"{name}.workflow.yaml", workflow)]
    documents = [
        (
            f"{name}.workflowtemplate.yaml",
            {
                "apiVersion": API_VERSION,
                "kind": "WorkflowTemplate",
                "metadata": {"name": name, **metadata},
                "spec": spec,
            },
        )
    ]
    if ir.schedule is not None:
        cron_spec: dict[str, Any] = {
            # `schedules` (a list) replaced `schedule` in Argo 3.6.
            "schedules": [ir.schedule.cron],
            "concurrencyPolicy": "Allow",
            "workflowMetadata": {"labels": labels},
            "workflowSpec": {"workflowTemplateRef": {"name": name}},
        }
        if ir.schedule.timezone:
            cron_spec["timezone"] = ir.schedule.timezone
        if options.schedule_paused:
            cron_spec["suspend"] = True  # https://argo-workflows.readthedocs.io/en/latest/cron-workflows/
        cron_name = cron_workflow_name(name)
        documents.append(
            (
                f"{name}.cronworkflow.yaml",
                {
                    "apiVersion": API_VERSION,
                    "kind": "CronWorkflow",
                    "metadata": {"name": cron_name, **metadata},
                    "spec": cron_spec,
                },
            )
        )
    if ir.triggers:
        documents.append((f"{name}.sensor.yaml", sensor_document(ir, settings, name, metadata)))
    return documents


def cron_workflow_name(template: str) -> str:
    """The CronWorkflow's name for WorkflowTemplate ``template`` (at most CRON_NAME_MAX characters)."""
    return template if len(template) <= CRON_NAME_MAX else dns_label(template, max_length=CRON_NAME_MAX)


def dump_yaml(document: Mapping[str, Any]) -> str:
    """Deterministic YAML: sorted keys, block style, no anchors (see :mod:`.yamltext`)."""
    from flowc.backends.argo.yamltext import dump

    return dump(document)
