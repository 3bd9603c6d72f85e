"""One container template per step: the task runner's short argv plus the step's pod settings.

Every container runs the task runner (``python -m flowc.task_runner``, or the same through the
bootstrap: :mod:`flowc.backends.launch`; docs/architecture.md); nothing in its argv
grows with the data: the foreach index path and iteration come in as two short input parameters,
flow parameters reach the start step through a file (an input artifact with ``raw.data``,
https://argo-workflows.readthedocs.io/en/latest/walk-through/hardwired-artifacts/), and the control
record goes out through a file read as an output parameter
(https://argo-workflows.readthedocs.io/en/latest/walk-through/output-parameters/).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flowc.attempts import engine_retries, step_retry_delay_seconds, timeout_backstop_seconds
from flowc.backends.argo.expressions import CONTROL, expression_tag, quote
from flowc.backends.launch import TaskLaunch
from flowc.backends.pod import SHM_VOLUME, PodSpec, env_value, pod_spec
from flowc.ir import FlowIR, Step
from flowc.metadata import TaskAddress
from flowc.parameter_values import EVENTS_KEY, OBJECTS_KEY
from flowc.task_runner.spec import (
    RESUME_ENVIRONMENT,
    FinishSpec,
    Placeholder,
    TaskSpec,
    format_argv,
    format_finish_argv,
)

__all__ = [
    "BOOTSTRAP_PARAMETER",
    "CONTROL_PATH",
    "DATASTORE_PARAMETER",
    "EVENTS_PARAMETER",
    "OBJECTS_PARAMETER",
    "OWN_PARAMETERS",
    "PACKAGE_PARAMETER",
    "PARAMETERS_PATH",
    "RESUME_PARAMETER",
    "container_template",
    "exit_handler_template",
]

# Directly in /tmp: Argo creates input artifact files but not the parent folders of output files.
CONTROL_PATH = "/tmp/flowc-control.json"
PARAMETERS_PATH = "/tmp/flowc-parameters.json"
#: Workflow parameters every document declares: the code package hash (filled by deploy) and the
#: datastore root (from settings; a trigger may point a run elsewhere).
PACKAGE_PARAMETER = "flowc-package"
DATASTORE_PARAMETER = "flowc-datastore"
#: Declared when the flow has parameters: JSON ``{name: sha256}`` of values a trigger stored in the
#: datastore because they were too large for the Workflow object (flowc.backends.large_parameters).
OBJECTS_PARAMETER = "flowc-parameter-objects"
#: Declared when tasks start through the bootstrap (flowc.backends.launch): the program's text, once
#: per document; every container's environment refers to it.
BOOTSTRAP_PARAMETER = "flowc-bootstrap"
#: ``ORIGIN_RUN_ID[/STEP]`` when the run resumes an earlier one in place (``flowc resume --target
#: argo``), else empty: the start task gets it in its environment (flowc.task_runner.spec).
RESUME_PARAMETER = "flowc-resume"
#: Declared when the flow has ``@trigger`` / ``@trigger_on_finish``: the bodies of the events that
#: started the run, which the flow's Sensor appends one after the other
#: (flowc.backends.argo.sensor); the start task keeps them for ``current.trigger``
#: (flowc.authoring.run_trigger).
EVENTS_PARAMETER = "flowc-events"
#: The workflow parameters of the document itself (no flow parameter may take these names).
OWN_PARAMETERS = (
    PACKAGE_PARAMETER,
    DATASTORE_PARAMETER,
    OBJECTS_PARAMETER,
    BOOTSTRAP_PARAMETER,
    RESUME_PARAMETER,
    EVENTS_PARAMETER,
)
#: How a brace is written inside a JSON string so that no ``{{`` reaches Argo's templating.
BRACE_ESCAPE = "\\u007b"


#: The run id of every task: Argo's workflow name, as flowc names an Argo run (docs/architecture.md).
RUN_ID = Placeholder("argo-{{workflow.name}}")
#: The code package and datastore every task gets: workflow parameters (deploy and trigger fill them).
PACKAGE = Placeholder("{{workflow.parameters." + PACKAGE_PARAMETER + "}}")
DATASTORE = Placeholder("{{workflow.parameters." + DATASTORE_PARAMETER + "}}")
RESUME = Placeholder("{{workflow.parameters." + RESUME_PARAMETER + "}}")


def _argv(
    ir: FlowIR, step: Step, *, indexed: bool, iterated: bool, has_parameters: bool, exports_control: bool
) -> list[str]:
    task = TaskAddress(
        flow=ir.name,
        run_id=RUN_ID,
        step=step.name,
        index_path=Placeholder("{{inputs.parameters.index}}") if indexed else (),
        iteration=Placeholder("{{inputs.parameters.iteration}}") if iterated else 0,
    )
    spec = TaskSpec(
        address=task,
        # Argo numbers retries from 0, as the datastore numbers attempts. {{retries}} resolves only
        # under a retryStrategy, which @retry(times=0) without @catch does not get; elsewhere the
        # task claims the next free attempt.
        attempt=Placeholder("{{retries}}") if step.retry is not None and engine_retries(step) else None,
        package=PACKAGE,
        ir=ir.digest,
        datastore=DATASTORE,
        control_file=CONTROL_PATH if exports_control else None,
        params_file=PARAMETERS_PATH if has_parameters else None,
    )
    return plain_words(format_argv(spec))


def plain_words(argv: list[str]) -> list[str]:
    """``argv`` as plain strings: the document is data (YAML and JSON writers take ``str`` only)."""
    return [str(word) for word in argv]


def _parameter_value(name: str, deferred: bool) -> str:
    """The expression of one parameter's value. A deferred default (a callable, an IncludeFile's
    path) has no value in the document: its argument is ``""`` unless given, sent as null, and the
    start task resolves the default (docs/authoring.md, "Parameters")."""
    value = f"workflow.parameters[{quote(name)}]"
    return f"({value} == '' ? nil : {value})" if deferred else value


def _parameters_artifact(ir: FlowIR) -> dict[str, Any]:
    # toJson of a map quotes every value exactly (quotes, newlines, "$(...)" stay data), and the file
    # keeps values of any size out of the argv.
    # A value too large for the Workflow arrives as a datastore hash under OBJECTS_KEY instead.
    names = [(p.name, p.name) for p in ir.parameters] + [(OBJECTS_KEY, OBJECTS_PARAMETER)]
    if ir.triggers:
        names.append((EVENTS_KEY, EVENTS_PARAMETER))
    deferred = {p.name for p in ir.parameters if p.deferred_default}
    pairs = ", ".join(f"{quote(key)}: {_parameter_value(name, name in deferred)}" for key, name in names)
    # Argo substitutes a template more than once: the globals, then the inputs
    # (workflow/common/util.go, SubstituteParams), then the whole pod, which carries this artifact
    # in ARGO_TEMPLATE (workflow/controller/workflowpod.go, substitutePodParams). A value holding
    # `{{` would be read as a tag by the later passes (`{{workflow.name}}` replaced, an unclosed
    # `{{` an error), so every `{{` in the JSON text is written `{\u007b`: the same JSON value,
    # and no tag. `{{` can only occur inside a JSON string here (toJson of a map of strings).
    # expr-lang's replace: https://expr-lang.org/docs/language-definition#replace
    document = "toJson({" + pairs + "})"
    return {
        "name": "parameters",
        "path": PARAMETERS_PATH,
        "raw": {"data": expression_tag(f"replace({document}, {quote('{{')}, {quote('{' + BRACE_ESCAPE)})")},
    }


def _pod_environment(pod: PodSpec) -> dict[str, str]:
    """``@environment`` as the pod's own environment, without the values Argo would rewrite.

    Argo reads ``{{...}}`` anywhere in a template as a tag (and substitutes the pod spec more than
    once), so a value holding ``{{`` cannot be written into the pod as it is. The task runner sets
    every ``@environment`` variable itself, exactly, for the step's code (flowc/task_runner), so such
    a value is only left out of the container's environment.
    """
    return {name: value for name, value in pod.environment if "{{" not in value}


def container_template(
    ir: FlowIR,
    step: Step,
    *,
    name: str,
    image: str,
    indexed: bool,
    iterated: bool,
    exports_control: bool,
    extra_env: dict[str, str],
    launch: TaskLaunch,
) -> dict[str, Any]:
    """The container template running ``step``'s tasks.

    Args:
        ir: the flow.
        step: the step.
        name: the template's name.
        image: the default image (``@kubernetes(image=...)`` wins).
        indexed: the step runs inside a foreach (takes input parameter ``index``).
        iterated: the step may run at an iteration above 0 (takes input parameter ``iteration``).
        exports_control: some DAG field reads this step's control record.
        extra_env: environment every container gets (e.g. the S3 endpoint), before ``@environment``.
        launch: how the container starts the task runner (``python -m`` or the bootstrap).
    """
    # The start step always gets the parameters file: besides the flow's parameters it carries
    # OBJECTS_KEY, through which `flowc trigger` passes large values and the run's tags.
    has_parameters = not step.predecessors
    pod = pod_spec((step,), image=image)
    container: dict[str, Any] = {
        "image": pod.image,
        "command": launch.command(),
        "args": _argv(
            ir,
            step,
            indexed=indexed,
            iterated=iterated,
            has_parameters=has_parameters,
            exports_control=exports_control,
        ),
    }
    env = {"PYTHONUNBUFFERED": "1", **extra_env, **_pod_environment(pod)}
    if not step.predecessors:  # the start task: the run it resumes in place, if any (no room in argv)
        env[RESUME_ENVIRONMENT] = RESUME
    container["env"] = [{"name": key, "value": env_value(value)} for key, value in sorted(env.items())]
    if pod.secrets:
        # By name only: Kubernetes resolves the values when the pod starts.
        container["envFrom"] = [{"secretRef": {"name": secret}} for secret in pod.secrets]
    resources = {
        key: dict(values) for key, values in (("requests", pod.requests), ("limits", pod.limits)) if values
    }
    if resources:
        container["resources"] = resources
    template: dict[str, Any] = {"name": name, "container": container}

    inputs: dict[str, Any] = {}
    parameters = [{"name": n} for n, wanted in (("index", indexed), ("iteration", iterated)) if wanted]
    if parameters:
        inputs["parameters"] = parameters
    if has_parameters:
        inputs["artifacts"] = [_parameters_artifact(ir)]
    if inputs:
        template["inputs"] = inputs
    if exports_control:
        template["outputs"] = {"parameters": [{"name": CONTROL, "valueFrom": {"path": CONTROL_PATH}}]}

    if engine_retries(step):
        # https://argo-workflows.readthedocs.io/en/latest/retries/ : "Always" also retries pod
        # errors (eviction, node loss), which Metaflow's @retry covers too. factor 1: the same
        # delay before every retry (flowc.attempts, which also counts @catch's fallback).
        retry: dict[str, Any] = {"limit": engine_retries(step), "retryPolicy": "Always"}
        seconds = step_retry_delay_seconds(step)
        if seconds > 0:
            retry["backoff"] = {"duration": f"{seconds}s", "factor": 1}
        template["retryStrategy"] = retry
    if step.timeout is not None:
        template["activeDeadlineSeconds"] = timeout_backstop_seconds(step.timeout)
    if pod.node_selector:
        template["nodeSelector"] = dict(pod.node_selector)
    if pod.tolerations:
        template["tolerations"] = [
            {k: v for k, v in vars(t).items() if v is not None} for t in pod.tolerations
        ]
    if pod.service_account:
        template["serviceAccountName"] = pod.service_account
    if pod.shared_memory:
        template["volumes"] = [
            {"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": pod.shared_memory}}
        ]
        container["volumeMounts"] = [{"name": SHM_VOLUME, "mountPath": "/dev/shm"}]
    return template


def exit_handler_template(
    ir: FlowIR,
    end_template: Mapping[str, Any],
    *,
    name: str,
    launch: TaskLaunch,
    notify: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The ``onExit`` template: records how the run ended (``status.json``) whatever happened.

    Argo runs it after the DAG succeeds, fails, or is stopped, with ``{{workflow.status}}`` in scope
    (https://argo-workflows.readthedocs.io/en/latest/walk-through/exit-handlers/). Its pod is the
    end step's (image, environment, secrets, placement, service account: whatever reaches the
    datastore) without the step's resources, retries or deadline; it reads the datastore only,
    so it needs no flow parameters, and the code package only for the bootstrap to find flowc in.
    """
    dropped = ("resources", "volumeMounts")
    container = {key: value for key, value in end_template["container"].items() if key not in dropped}
    container["command"] = launch.command("flowc.task_runner.finish")
    if environment:
        given = [item for item in container.get("env", []) if item["name"] not in environment]
        added = [{"name": key, "value": env_value(value)} for key, value in sorted(environment.items())]
        container["env"] = sorted(given + added, key=lambda item: item["name"])
    container["args"] = plain_words(
        format_finish_argv(
            FinishSpec(
                flow=ir.name,
                run_id=RUN_ID,
                package=PACKAGE,
                datastore=DATASTORE,
                reason=Placeholder("workflow {{workflow.status}}"),
                notify=tuple(notify),
            )
        )
    )
    template: dict[str, Any] = {"name": name, "container": container}
    for key in ("nodeSelector", "tolerations", "serviceAccountName"):
        if key in end_template:
            template[key] = end_template[key]
    return template
