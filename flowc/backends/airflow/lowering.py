"""From the IR (plus settings) to the context of ``templates/airflow_dag.py.j2``.

Everything the template prints arrives here as plain, sorted data; the template only lays it out.
Per-step options (retries, timeouts, pod specs) are rendered to Python source text here, each
task's command line is formatted here (:func:`task_argv`), and the functions the DAG's tasks run
are a static module copied in verbatim (:mod:`flowc.backends.airflow.dag_runtime`), so the template
stays free of logic.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from flowc.attempts import engine_retries, step_retry_delay_seconds, timeout_backstop_seconds
from flowc.backends.airflow.assets import finish_asset, trigger_assets
from flowc.backends.airflow.dag_params import param_schema
from flowc.backends.airflow.dag_runtime import PLACEHOLDER, POD_CONTROL_FILE
from flowc.backends.airflow.names import dag_id
from flowc.backends.airflow.plan import AirflowTask, TaskPlan, plan_tasks
from flowc.backends.launch import TaskLaunch, task_launch
from flowc.backends.naming import dns_label, label_value
from flowc.backends.options import CompileOptions
from flowc.backends.pod import SHM_VOLUME, env_value, pod_spec
from flowc.config import Settings
from flowc.ir import FlowIR
from flowc.metadata import TaskAddress
from flowc.project_branches import task_environment
from flowc.task_runner.spec import (
    RESUME_ENVIRONMENT,
    FinishSpec,
    Placeholder,
    RegionSpec,
    TaskSpec,
    format_argv,
    format_finish_argv,
    format_region_argv,
)

__all__ = ["OPERATORS", "docstring_text", "python_literal", "template_context"]

OPERATORS = ("local", "kubernetes")
#: The module each kind of task runs (``python -m MODULE``).
MODULES = {
    "step": "flowc.task_runner",
    "loop": "flowc.task_runner.region",
    "finish": "flowc.task_runner.finish",
}


def template_context(ir: FlowIR, settings: Settings, options: CompileOptions) -> dict[str, Any]:
    """The template context for ``ir`` with tasks run by ``options.operator`` (``local`` or
    ``kubernetes``; None: setting ``airflow.operator``)."""
    operator = operator_of(settings, options)
    code_package = options.package_sha
    if operator not in OPERATORS:
        raise ValueError(f"unknown Airflow operator {operator!r}: choose one of {', '.join(OPERATORS)}")
    plan = plan_tasks(ir)
    launch = task_launch(settings, from_package=operator == "kubernetes" and bool(code_package))
    summary = (ir.docstring or "").strip()
    description = summary.splitlines()[0].strip() if summary else None
    tasks = [_task_context(ir, settings, operator, task, launch) for task in plan.tasks]
    edges = sorted({(up, task.task_id) for task in plan.tasks for up in task.upstream})
    tags = ["flowc", f"flow:{ir.name}"]
    if ir.project is not None:
        tags.append(f"project:{ir.project.name}")
    option_text = " ".join(" ".join([t.get("options", ""), *t.get("pod", [])]) for t in tasks)
    return {
        "needs_timedelta": "timedelta(" in option_text or bool(options.workflow_timeout),
        "needs_k8s": "k8s." in option_text,
        "needs_literal": "literal(" in option_text,
        "flow": ir.name,
        "dag_id": dag_id(ir, settings),
        "source_name": ir.source_file.rsplit("/", 1)[-1],
        "description": description,
        "operator": operator,
        "datastore": str(settings.get("datastore", ".flowc")),
        "code_package": code_package,
        "task_environment": _task_environment(ir, settings, operator, launch),
        "launch": list(launch.prefix),
        "parameter_names": tuple(p.name for p in ir.parameters),
        "parameters": [(p.name, sorted(param_schema(p).items())) for p in ir.parameters],
        "schedule": _schedule(ir),
        # The assets of the flow's events: its schedule (all of them), and its runtime's TRIGGERS.
        "triggers": trigger_assets(ir),
        # The deploy settings: https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/dags.html
        "max_active_tasks": options.max_workers,
        "dagrun_timeout": options.workflow_timeout,
        "paused": options.schedule_paused,
        "tags": sorted(tags),
        "tasks": tasks,
        "edges": edges,
        "iteration": _iteration_rules(plan),
        "argv": [
            (t.task_id, task_argv(ir, settings, options, operator, t))
            for t in plan.tasks
            if t.kind in MODULES
        ],
        "runtime": dag_runtime_text(),
        "choices": [
            (t.task_id, (_choice_sources(plan, t), dict(t.choices))) for t in plan.tasks if t.kind == "choose"
        ],
    }


def operator_of(settings: Settings, options: CompileOptions) -> str:
    """``--operator`` if given, else the ``airflow.operator`` setting."""
    return options.operator or str(settings.get("airflow.operator", "local"))


def _task_environment(
    ir: FlowIR, settings: Settings, operator: str, launch: TaskLaunch
) -> list[tuple[str, str]]:
    """Every task's environment (the DAG file's TASK_ENVIRONMENT): the @project branch, and a pod's
    bootstrap (flowc.backends.launch); for pods written as Kubernetes reads env values."""
    environment = {**task_environment(ir, settings), **launch.environment}
    if operator == "kubernetes":
        environment = {name: env_value(value) for name, value in environment.items()}
    return sorted(environment.items())


def _schedule(ir: FlowIR) -> dict[str, str] | None:
    if ir.schedule is None:
        return None
    return {"cron": ir.schedule.cron, "timezone": ir.schedule.timezone or "UTC"}


def _iteration_rules(
    plan: TaskPlan,
) -> list[tuple[str, tuple[str, tuple[str, ...], tuple[str, ...]]]]:
    return [
        (t.task_id, (t.iteration_mode, t.iteration_sources, t.steps))
        for t in plan.tasks
        if t.kind in ("step", "loop") and t.mapped_over is None
    ]


def _choice_sources(plan: TaskPlan, choose: AirflowTask) -> tuple[str, ...]:
    return (choose.upstream[0],)


def dag_runtime_text() -> str:
    """The text of :mod:`flowc.backends.airflow.dag_runtime`, which every DAG file holds verbatim."""
    import importlib.resources

    return importlib.resources.files(__package__).joinpath("dag_runtime.py").read_text(encoding="utf-8")


def task_argv(
    ir: FlowIR, settings: Settings, options: CompileOptions, operator: str, task: AirflowTask
) -> list[str]:
    """The command line of a step, loop or finish task (:mod:`flowc.task_runner.spec`).

    Values known only when the task runs are placeholders the DAG runtime fills
    (:func:`flowc.backends.airflow.dag_runtime.flowc_argv`): the run id, the index path and
    iteration, a region's entry step; on the worker (operator ``local``) also the datastore and the
    code (the worker's environment may override them), the attempt and the scratch files.
    """
    local = operator == "local"
    code_package = options.package_sha
    run_id = _slot("run_id")
    datastore = _slot("datastore") if local else str(settings.get("datastore", ".flowc"))
    if task.kind == "finish":
        # The code: where the exit hooks are found (and, in a pod, flowc for the bootstrap).
        finish = FinishSpec(
            ir.name,
            run_id,
            datastore=datastore,
            package=_slot("package") if local else code_package,
            source=_slot("source") if local else None,
            notify=tuple(options.notify),
        )
        return format_finish_argv(finish)
    mapped = task.mapped_over is not None
    address = TaskAddress(
        flow=ir.name,
        run_id=run_id,
        step=task.steps[0],
        index_path=_slot("index") if mapped else (),
        iteration=_slot("iteration"),
    )
    spec = TaskSpec(
        address=address,
        attempt=_slot("attempt") if local and task.kind == "step" else None,
        source=_slot("source") if local else None,
        package=_slot("package") if local else code_package,
        ir=ir.digest,
        datastore=datastore,
        control_file=_slot("control_file") if local else POD_CONTROL_FILE,
        params_file=_slot("params_file") if local and task.steps[0] == "start" else None,
    )
    if task.kind == "step":
        return format_argv(spec)
    entry = task.entry if mapped else _slot("entry")
    entered = replace(spec, address=replace(address, step=entry))
    region = RegionSpec(entered, steps=task.steps, retries=_loop_retries(ir, task))
    return format_region_argv(region)


def _slot(name: str) -> Placeholder:
    return Placeholder(PLACEHOLDER.format(name))


def _loop_retries(ir: FlowIR, task: AirflowTask) -> tuple[tuple[str, int, float], ...]:
    """Inside a loop the driver retries each step itself (the loop's Airflow task is not retried)."""
    rules = []
    for name in task.steps:
        step = ir.step(name)
        if engine_retries(step):
            rules.append((name, engine_retries(step), step_retry_delay_seconds(step)))
    return tuple(rules)


def _task_context(
    ir: FlowIR, settings: Settings, operator: str, task: AirflowTask, launch: TaskLaunch
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "task_id": task.task_id,
        "kind": task.kind,
        "step": task.step,
        "steps": task.steps,
        "upstream": task.upstream,
        "mapped_over": task.mapped_over,
        "foreach_depth": task.foreach_depth,
    }
    if task.kind in MODULES:
        options = _airflow_options(ir, task)
        context["options"] = ", ".join(f"{key}={value}" for key, value in options)
        if operator == "kubernetes":
            pod_options = _pod_options(ir, settings, task, launch)
            context["pod"] = [f"{key}={value}" for key, value in options + pod_options]
    return context


def _airflow_options(ir: FlowIR, task: AirflowTask) -> list[tuple[str, str]]:
    """Task keyword arguments common to both operators, as (name, Python source) pairs."""
    options = [("task_id", python_literal(task.task_id))]
    if task.trigger_rule != "all_success" and task.kind != "finish":  # .as_teardown() sets finish's
        options.append(("trigger_rule", python_literal(task.trigger_rule)))
    if task.kind in ("step", "loop") and any(ir.step(name).kind == "end" for name in task.steps):
        # Airflow records an event of the outlet only when this task succeeds: when the run did.
        options.append(("outlets", f"[Asset({python_literal(finish_asset(ir))})]"))
    if task.kind == "step":
        step = ir.step(task.step)
        if engine_retries(step):
            options.append(("retries", str(engine_retries(step))))
            # retry_exponential_backoff stays off: the same delay before every retry (flowc.attempts).
            options.append(("retry_delay", _timedelta(step_retry_delay_seconds(step))))
        if step.timeout is not None:
            # The task runner kills the step first (exit 4); Airflow's limit is the backstop.
            options.append(("execution_timeout", _timedelta(timeout_backstop_seconds(step.timeout))))
    return options


def _timedelta(seconds: float) -> str:
    return f"timedelta(seconds={seconds:g})"


def _pod_options(
    ir: FlowIR, settings: Settings, task: AirflowTask, launch: TaskLaunch
) -> list[tuple[str, str]]:
    """KubernetesPodOperator arguments of a step, loop or finish task: the task's pod
    (:mod:`flowc.backends.pod`) rendered as Python source.

    The finish task's pod is the end step's without its resources: it only reads and writes the
    datastore, and leaves no control record to push.
    """
    finish = task.kind == "finish"
    pod = pod_spec(
        [ir.step(name) for name in task.steps],
        image=str(settings.get("image")),
        namespace=settings.get("kubernetes.namespace"),
        service_account=settings.get("kubernetes.service_account"),
        resources=not finish,
    )
    options: list[tuple[str, str]] = [
        ("name", python_literal(dns_label(ir.name, task.task_id))),
        ("image", untemplated(pod.image)),
        ("cmds", f"[*LAUNCH, {python_literal(MODULES[task.kind])}]"),
        ("namespace", untemplated(pod.namespace)),
        ("labels", python_literal(_labels(ir, task))),
        ("do_xcom_push", str(not finish)),
        ("get_logs", "True"),
        ("on_finish_action", python_literal("delete_pod")),
    ]
    if pod.service_account:
        options.append(("service_account_name", python_literal(pod.service_account)))
    if pod.requests or pod.limits:
        parts = [
            f"{name}={python_literal(dict(values))}"
            for name, values in (("requests", pod.requests), ("limits", pod.limits))
            if values
        ]
        options.append(("container_resources", f"k8s.V1ResourceRequirements({', '.join(parts)})"))
    environment = {name: env_value(value) for name, value in pod.environment}
    if task.steps[0] == "start":
        # JSON made by a macro at run time (its `$` doubled there): values never become part of a
        # command line.
        environment["FLOWC_PARAMETERS"] = "{{ flowc_parameters(params, dag_run, triggering_asset_events) }}"
        # The run it resumes in place, from the run's conf ("" for none): flowc resume --target airflow.
        environment[RESUME_ENVIRONMENT] = "{{ flowc_pod_resume(dag_run) }}"
    templates = ("FLOWC_PARAMETERS", RESUME_ENVIRONMENT)
    step_environment = _untemplated_dict(dict(sorted(environment.items())), templates=templates)
    # TASK_ENVIRONMENT (the DAG file's constant) holds no Jinja markers: tests/airflow check it.
    step_part = f", {step_environment[1:-1]}" if environment else ""
    options.append(("env_vars", "{**TASK_ENVIRONMENT" + step_part + "}"))
    if pod.secrets:
        refs = ", ".join(
            f"k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name={python_literal(s)}))"
            for s in pod.secrets
        )
        options.append(("env_from", f"[{refs}]"))
    if pod.node_selector:
        options.append(("node_selector", _untemplated_dict(dict(pod.node_selector))))
    if pod.tolerations:
        tolerations = ", ".join(
            "k8s.V1Toleration("
            + ", ".join(
                f"{field}={python_literal(getattr(t, field))}"
                for field in ("key", "operator", "value", "effect")
                if getattr(t, field) is not None
            )
            + ")"
            for t in pod.tolerations
        )
        options.append(("tolerations", f"[{tolerations}]"))
    if pod.shared_memory:
        size = python_literal(pod.shared_memory)
        options.append(
            (
                "volumes",
                f"[k8s.V1Volume(name={python_literal(SHM_VOLUME)}, empty_dir=k8s.V1EmptyDirVolumeSource("
                f'medium="Memory", size_limit={size}))]',
            )
        )
        mount = f'k8s.V1VolumeMount(name={python_literal(SHM_VOLUME)}, mount_path="/dev/shm")'
        options.append(("volume_mounts", f"[{mount}]"))
    if pod.image_pull_secrets:
        secrets_list = ", ".join(
            f"k8s.V1LocalObjectReference(name={python_literal(s)})" for s in pod.image_pull_secrets
        )
        options.append(("image_pull_secrets", f"[{secrets_list}]"))
    return options


def _labels(ir: FlowIR, task: AirflowTask) -> dict[str, str]:
    return {
        "app.kubernetes.io/managed-by": "flowc",
        "flowc/flow": label_value(ir.name),
        "flowc/task": label_value(task.task_id),
    }


#: What Jinja reads as the start of a template expression, statement or comment.
_JINJA_MARKERS = ("{{", "{%", "{#")


def untemplated(value: Any) -> str:
    """Python source for a value of a pod field that Airflow renders with Jinja (``image``,
    ``env_vars``, ...): text that Jinja would read as a template is wrapped in Airflow's
    ``literal()``, so ``"{{ x }}"`` reaches the pod as typed rather than rendered (or failing).

    https://airflow.apache.org/docs/apache-airflow/stable/core-concepts/operators.html#jinja-templating
    """
    if isinstance(value, str) and any(marker in value for marker in _JINJA_MARKERS):
        return f"literal({python_literal(value)})"
    return python_literal(value)


def _untemplated_dict(values: Mapping[str, Any], templates: tuple[str, ...] = ()) -> str:
    """A dict's source with :func:`untemplated` values, except the keys in ``templates`` (ours)."""
    items = (
        f"{python_literal(k)}: {python_literal(v) if k in templates else untemplated(v)}"
        for k, v in values.items()
    )
    return "{" + ", ".join(items) + "}"


def docstring_text(text: str) -> str:
    r"""``text`` escaped for the inside of a triple-quoted literal: it reads back as exactly ``text``.

    Backslashes and every double quote are escaped (no quotes can close the literal early, no
    ``\U`` starts an escape), and characters a source file cannot carry raw (NUL, other controls,
    lone surrogates, line breaks other than ``\n``) are written as escapes.
    """
    parts = []
    for char in text:
        if char in '\\"':
            parts.append("\\" + char)
        elif char in "\n\t" or (char.isprintable() and not 0xD800 <= ord(char) <= 0xDFFF):
            parts.append(char)
        else:
            parts.append(repr(char)[1:-1])  # \x00, \r, \u2028, \ud800, ...
    return "".join(parts)


def python_literal(value: Any) -> str:
    """Deterministic Python source for a JSON-like value (dict keys keep their given order)."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(python_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, str):
        # A JSON string is a valid Python literal, and double-quoted like the rest of the file;
        # \u escapes for a lone surrogate (a file holds UTF-8, which cannot encode one raw).
        text = json.dumps(value, ensure_ascii=False)
        return text if text.isascii() or _encodes(text) else json.dumps(value)
    return repr(value)


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
