"""ForeachFlow on Apache Airflow: compiled by flowc from foreach_flow.py. Do not edit; compile again.

Every step runs `python -m flowc.task_runner` (a Kubernetes pod per task), which reads
and writes the flowc datastore; Airflow passes only control records (XCom) between tasks.
The teardown task flowc-finish then records how the run ended (`python -m flowc.task_runner.finish`);
as a teardown it does not count towards the DAG run's state.
"""

from __future__ import annotations

import json
import logging
import re
from hashlib import sha256

import pendulum

try:  # Airflow 3
    from airflow.sdk import DAG, get_current_context, task
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
    from airflow.exceptions import AirflowFailException
    from airflow.operators.python import get_current_context
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

FLOW_NAME = "ForeachFlow"
DAG_ID = "ForeachFlow"
#: Datastore root the tasks use.
DATASTORE = ".flowc"
#: SHA-256 of the code package `flowc deploy` uploaded (None: compiled without one).
CODE_PACKAGE = None
#: The flow's parameters (the start task receives their values).
PARAMETERS = ()
#: Key of the run's conf holding {name: sha256} of values stored in the datastore by flowc trigger.
OBJECTS_KEY = "$objects"
#: How a task outside a foreach learns its iteration: (mode, Airflow tasks whose control record tells).
ITERATION = {
    "start": ("none", ()),
    "join": ("split", ("start",)),
    "end": ("next", ("join",)),
}
#: Branch tasks: task id -> (tasks whose control record decides, {step: Airflow task of that step}).
CHOICES = {}
#: Loops run in one task: task id -> (steps, ((step, retries, seconds between retries), ...)).
LOOPS = {}
#: Where the pod writes its control record so that Airflow's XCom sidecar returns it.
CONTROL_FILE = "/airflow/xcom/return.json"
#: The flowc run id in pod arguments, rendered by Airflow when the task runs.
RUN_ID = "{{ flowc_run_id(run_id) }}"

log = logging.getLogger(__name__)


def flowc_run_id(airflow_run_id):
    """The flowc run id of a DAG run: path-safe and unique (a copy of flowc.backends.airflow.names)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", airflow_run_id)
    if safe != airflow_run_id or len(safe) > 100:
        safe = safe[:100] + "-" + sha256(airflow_run_id.encode("utf-8")).hexdigest()[:8]
    return "airflow-" + safe


def _upstream_control(ti, task_id):
    control = ti.xcom_pull(task_ids=task_id)
    if control is None:
        raise AirflowFailException(f"task {task_id!r} left no control record")
    return control


def flowc_entry(ti, task_id, steps):
    """(step, iteration) this task starts at, from the control record of the task that chose it."""
    mode, sources = ITERATION[task_id]
    if mode == "none":
        return steps[0], 0
    if mode == "split":
        return steps[0], _upstream_control(ti, sources[0])["iteration"]
    for source in sources:
        control = ti.xcom_pull(task_ids=source)  # None when that case was skipped
        chosen = [step for step in (control or {}).get("next", []) if step in steps]
        if chosen:
            return chosen[0], control["next_iteration"]
    raise AirflowFailException(f"no control record of {sources} chose {steps}")


def flowc_iteration(ti, task_id, steps):
    return flowc_entry(ti, task_id, steps)[1]


def _index_path(control, depth):
    """The foreach index path of the task that wrote ``control`` (a task at ``depth`` indices)."""
    if depth == 0:
        return []
    return [int(part) for part in control["task_id"].split(".")[0].split("-")]


def flowc_fanout(control, depth):
    """Every index path of a foreach's body: one entry per split, flattened over a mapped foreach.

    Airflow cannot nest .expand() in a mapped task group, so a nested foreach's body maps once over
    the flat list of its index paths (outermost first, sorted).
    """
    # Values expanded from an XCom are not rendered as templates: the pod's run id travels here.
    run_id = flowc_run_id(get_current_context()["run_id"])
    records = [control] if depth == 0 else list(control)
    entries = []
    for record in records:
        if record is None:  # e.g. a pod task marked successful without running (dry run)
            log.warning("a foreach task left no control record: nothing to fan out from it")
            continue
        parent = _index_path(record, depth)
        for split in range(record["num_splits"]):
            entries.append(
                {"index": [*parent, split], "iteration": record["next_iteration"], "run_id": run_id}
            )
    return sorted(entries, key=lambda entry: entry["index"])


def flowc_choose(task_id):
    """The Airflow task of the case a switch (or a loop's exit) chose; Airflow skips the others."""
    sources, targets = CHOICES[task_id]
    ti = get_current_context()["ti"]
    for source in sources:
        control = ti.xcom_pull(task_ids=source)
        if control is None:
            log.warning("task %s left no control record: every case is skipped", source)
            return []
        return [targets[step] for step in control["next"] if step in targets]
    return []


def flowc_parameter_values(params, dag_run=None):
    """The start task's parameter values. Values that ``flowc trigger`` stored in the datastore
    (too large for a run's conf or a pod's environment) come as hashes under ``$objects`` in the
    run's conf; the task runner reads them back."""
    values = {name: params[name] for name in PARAMETERS if params.get(name) is not None}
    stored = (getattr(dag_run, "conf", None) or {}).get(OBJECTS_KEY)
    if stored:
        values[OBJECTS_KEY] = stored
    return values


def flowc_parameters(params, dag_run=None):
    """The start task's parameter values as JSON (FLOWC_PARAMETERS), never spliced into a command."""
    return json.dumps(flowc_parameter_values(params, dag_run), sort_keys=True)


def _code_arguments():
    return ["--package", CODE_PACKAGE] if CODE_PACKAGE else []


def _tail():
    return [*_code_arguments(), "--datastore", DATASTORE, "--control-file", CONTROL_FILE]


def _step_arguments(step):
    """Pod arguments of a task outside any foreach; Airflow renders the {{ ... }} at run time."""
    iteration = "{{ flowc_iteration(ti, %r, (%r,)) }}" % (step, step)
    return ["--flow", FLOW_NAME, "--step", step, "--run-id", RUN_ID, "--iteration", iteration, *_tail()]


def _mapped_arguments(step):
    """For a task inside a foreach: the pod arguments of one fanout entry."""

    def arguments(entry):
        index = ",".join(str(i) for i in entry["index"])
        return [
            "--flow", FLOW_NAME, "--step", step, "--run-id", entry["run_id"], "--index", index,
            "--iteration", str(entry["iteration"]), *_tail(),
        ]  # fmt: skip

    return arguments


def _loop_arguments(task_id):
    steps, retries = LOOPS[task_id]
    entry = "{{ flowc_entry(ti, %r, %r)[0] }}" % (task_id, steps)
    iteration = "{{ flowc_entry(ti, %r, %r)[1] }}" % (task_id, steps)
    arguments = ["--flow", FLOW_NAME, "--run-id", RUN_ID]
    arguments += ["--entry", entry, "--iteration", iteration, "--steps", ",".join(steps)]
    for name, times, seconds in retries:
        arguments += ["--retry", f"{name}={times}:{seconds:g}"]
    return [*arguments, *_tail()]


def _finish_arguments():
    """Pod arguments of flowc-finish: the outcome is read from the datastore (no code, no control record)."""
    return ["--flow", FLOW_NAME, "--run-id", RUN_ID, "--datastore", DATASTORE]


with DAG(
    dag_id=DAG_ID,
    description=None,
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    tags=["flow:ForeachFlow", "flowc"],
    params={},
    user_defined_macros={
        "flowc_entry": flowc_entry,
        "flowc_iteration": flowc_iteration,
        "flowc_parameters": flowc_parameters,
        "flowc_run_id": flowc_run_id,
    },
) as dag:
    tasks = {}
    tasks["start"] = KubernetesPodOperator(
        task_id="start",
        name="foreachflow-start",
        image="python:3.11-slim",
        cmds=["python", "-m", "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ForeachFlow", "flowc/task": "start"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={"FLOWC_PARAMETERS": "{{ flowc_parameters(params, dag_run) }}"},
        arguments=_step_arguments("start"),
    )
    tasks["start-fanout"] = task(task_id="start-fanout")(flowc_fanout)(
        control=tasks["start"].output, depth=0
    )
    tasks["body"] = KubernetesPodOperator.partial(
        task_id="body",
        name="foreachflow-body",
        image="python:3.11-slim",
        cmds=["python", "-m", "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ForeachFlow", "flowc/task": "body"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
    ).expand(
        arguments=tasks["start-fanout"].map(_mapped_arguments("body")),
    )
    tasks["inner"] = KubernetesPodOperator.partial(
        task_id="inner",
        name="foreachflow-inner",
        image="python:3.11-slim",
        cmds=["python", "-m", "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ForeachFlow", "flowc/task": "inner"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
    ).expand(
        arguments=tasks["start-fanout"].map(_mapped_arguments("inner")),
    )
    tasks["join"] = KubernetesPodOperator(
        task_id="join",
        name="foreachflow-join",
        image="python:3.11-slim",
        cmds=["python", "-m", "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ForeachFlow", "flowc/task": "join"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        arguments=_step_arguments("join"),
    )
    tasks["end"] = KubernetesPodOperator(
        task_id="end",
        name="foreachflow-end",
        image="python:3.11-slim",
        cmds=["python", "-m", "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ForeachFlow", "flowc/task": "end"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        arguments=_step_arguments("end"),
    )
    # A teardown: runs after every task whatever its state, and the DAG run's state ignores it.
    tasks["flowc-finish"] = KubernetesPodOperator(
        task_id="flowc-finish",
        name="foreachflow-flowc-finish",
        image="python:3.11-slim",
        cmds=["python", "-m", "flowc.task_runner.finish"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ForeachFlow", "flowc/task": "flowc-finish"},
        do_xcom_push=False,
        get_logs=True,
        on_finish_action="delete_pod",
        arguments=_finish_arguments(),
    ).as_teardown()

    tasks["body"] >> tasks["flowc-finish"]
    tasks["body"] >> tasks["inner"]
    tasks["end"] >> tasks["flowc-finish"]
    tasks["inner"] >> tasks["flowc-finish"]
    tasks["inner"] >> tasks["join"]
    tasks["join"] >> tasks["end"]
    tasks["join"] >> tasks["flowc-finish"]
    tasks["start"] >> tasks["body"]
    tasks["start"] >> tasks["flowc-finish"]
    tasks["start"] >> tasks["start-fanout"]
    tasks["start-fanout"] >> tasks["body"]
    tasks["start-fanout"] >> tasks["flowc-finish"]
    tasks["start-fanout"] >> tasks["inner"]
