"""DecoratedFlow on Apache Airflow: compiled by flowc from decorated_flow.py. Do not edit; compile again.

Every step runs `python -m flowc.task_runner` (a process on the Airflow worker), which reads
and writes the flowc datastore; Airflow passes only control records (XCom) between tasks.
The teardown task flowc-finish then records how the run ended (`python -m flowc.task_runner.finish`);
as a teardown it does not count towards the DAG run's state.
The worker needs flowc installed; FLOWC_PYTHON picks its interpreter (default: the worker's own),
FLOWC_DATASTORE overrides the datastore, and FLOWC_SOURCE (a flow file on the worker) or
FLOWC_PACKAGE (a code package digest) gives the code when the DAG was compiled without a package.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from datetime import timedelta
from hashlib import sha256

import pendulum

# Each name is imported on its own: Airflow 3.0 and 3.1 have the Task SDK's DAG and task, but
# not yet its AirflowFailException or CronTriggerTimetable (Task SDK 1.2, Airflow 3.2, added them).
try:  # Airflow 3
    from airflow.sdk import DAG, Param, get_current_context, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
    from airflow.models.param import Param
    from airflow.operators.python import get_current_context
try:  # Airflow 3.2 and later
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # Airflow 2, 3.0, 3.1
    from airflow.exceptions import AirflowFailException
try:  # Airflow 3.2 and later
    from airflow.sdk import CronTriggerTimetable
except ImportError:  # Airflow 2, 3.0, 3.1
    from airflow.timetables.trigger import CronTriggerTimetable

FLOW_NAME = "DecoratedFlow"
DAG_ID = "demo.test.golden.DecoratedFlow"
#: Datastore root the tasks use (FLOWC_DATASTORE on the worker overrides it).
DATASTORE = ".flowc"
#: SHA-256 of the code package `flowc deploy` uploaded (None: compiled without one).
CODE_PACKAGE = None
#: SHA-256 of the IR this DAG was compiled from: every task refuses code whose IR differs (--ir).
IR_DIGEST = "17848971fa6220fa9fa9d34a0361ecb4"
#: Added to every task's environment: the @project branch (current.branch_name).
TASK_ENVIRONMENT = {
    "FLOWC_PROJECT_BRANCH": "test.golden",
    "FLOWC_SECRETS__DEFAULT_PROVIDER": "env",
}
#: The flow's parameters (the start task receives their values).
PARAMETERS = ("size", "label")
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
#: Regions (loops; a switch inside a foreach) run in one task: task id -> (steps, the step a
#: region mapped over a foreach starts at (None: read from the control record that chose it),
#: ((step, retries, seconds between retries), ...)).
LOOPS = {}
#: Task runner exit codes (docs/architecture.md).
EXIT_CODES = {1: "the step raised", 2: "bad input", 3: "infrastructure error", 4: "killed by @timeout"}

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
    return [int(index) for index in control["index_path"]]


def _max_map_length():
    """How many instances this Airflow maps per task: [core] max_map_length (default 1024)."""
    try:  # Airflow 3.2 and later
        from airflow.sdk import conf
    except ImportError:  # Airflow 2, 3.0, 3.1
        from airflow.configuration import conf
    return conf.getint("core", "max_map_length", fallback=1024)


def flowc_fanout(control, depth, step):
    """Every index path of a foreach's body: one entry per split, flattened over a mapped foreach.

    Airflow cannot nest .expand() in a mapped task group, so a nested foreach's body maps once over
    the flat list of its index paths (outermost first, sorted).
    """
    records = [control] if depth == 0 else list(control)
    entries = []
    for record in records:
        if record is None:  # e.g. a pod task marked successful without running (dry run)
            log.warning("a foreach task left no control record: nothing to fan out from it")
            continue
        parent = _index_path(record, depth)
        for split in range(record["num_splits"]):
            entries.append({"index": [*parent, split], "iteration": record["next_iteration"]})
    # Airflow would refuse to push a longer list with a message naming neither the foreach nor
    # the setting (https://airflow.apache.org/docs/apache-airflow/stable/configurations-ref.html#max-map-length).
    limit = _max_map_length()
    if len(entries) > limit:
        raise AirflowFailException(
            f"foreach {step!r} has {len(entries)} tasks to run, more than this Airflow maps per task "
            f"([core] max_map_length = {limit}): raise max_map_length (AIRFLOW__CORE__MAX_MAP_LENGTH) "
            "on the Airflow deployment, or split the foreach"
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


def _code_arguments():
    if CODE_PACKAGE:
        return ["--package", CODE_PACKAGE]
    if os.environ.get("FLOWC_PACKAGE"):
        return ["--package", os.environ["FLOWC_PACKAGE"]]
    if os.environ.get("FLOWC_SOURCE"):
        return ["--source", os.environ["FLOWC_SOURCE"]]
    raise AirflowFailException("no code: deploy the flow (code package) or set FLOWC_SOURCE on the worker")


def _execute(module, arguments):
    """Runs ``python -m module arguments... --datastore URL`` (an argv list: no shell); raises on failure."""
    python = os.environ.get("FLOWC_PYTHON") or sys.executable
    datastore = os.environ.get("FLOWC_DATASTORE") or DATASTORE
    argv = [python, "-m", module, *arguments, "--datastore", datastore]
    returncode = subprocess.run(argv, env={**os.environ, **TASK_ENVIRONMENT}, check=False).returncode
    if returncode == 0:
        return
    message = f"python -m {module} exited with {returncode} ({EXIT_CODES.get(returncode, 'unexpected')})"
    if returncode == 2:
        raise AirflowFailException(message)  # bad input: another attempt cannot help
    raise RuntimeError(message)


def _run(module, arguments, parameters=None):
    """Runs a task (``python -m module arguments...`` with the flow's code) and returns its control record."""
    with tempfile.TemporaryDirectory(prefix="flowc-airflow-") as scratch:
        control_file = os.path.join(scratch, "control.json")
        argv = [*arguments, *_code_arguments(), "--ir", IR_DIGEST, "--control-file", control_file]
        if parameters is not None:
            params_file = os.path.join(scratch, "parameters.json")
            with open(params_file, "w", encoding="utf-8") as handle:
                json.dump(parameters, handle)
            argv += ["--params-file", params_file]
        # @environment is applied by the task runner itself, for the step's duration.
        _execute(module, argv)
        with open(control_file, encoding="utf-8") as handle:
            return json.load(handle)


def flowc_step(step, entry=None):
    """Runs one task of ``step``: at the index path and iteration of ``entry`` inside a foreach."""
    context = get_current_context()
    ti = context["ti"]
    arguments = ["--flow", FLOW_NAME, "--step", step, "--run-id", flowc_run_id(context["run_id"])]
    if entry is None:
        iteration = flowc_iteration(ti, step, (step,))
    else:
        iteration = entry["iteration"]
        arguments += ["--index", ",".join(str(i) for i in entry["index"])]
    arguments += ["--iteration", str(iteration), "--attempt", str(max(ti.try_number - 1, 0))]
    parameters = None
    if step == "start":
        parameters = flowc_parameter_values(context["params"], context.get("dag_run"))
    return _run("flowc.task_runner", arguments, parameters)


def flowc_loop(region, entry=None):
    """Runs a region's steps in sequence (flowc.task_runner.region) until a case leaves it: at the
    index path and iteration of ``entry`` for a region inside a foreach."""
    context = get_current_context()
    steps, start, retries = LOOPS[region]
    arguments = ["--flow", FLOW_NAME, "--run-id", flowc_run_id(context["run_id"])]
    if entry is None:
        step, iteration = flowc_entry(context["ti"], region, steps)
    else:
        step, iteration = start, entry["iteration"]
        arguments += ["--index", ",".join(str(i) for i in entry["index"])]
    arguments += ["--entry", step, "--iteration", str(iteration), "--steps", ",".join(steps)]
    for name, times, seconds in retries:
        arguments += ["--retry", f"{name}={times}:{seconds:g}"]
    return _run("flowc.task_runner.region", arguments)


def flowc_finish():
    """Records how the run ended (status.json), read from the datastore, then runs the flow's exit
    hooks (found in its code); needs no XCom."""
    run_id = flowc_run_id(get_current_context()["run_id"])
    _execute("flowc.task_runner.finish", ["--flow", FLOW_NAME, "--run-id", run_id, *_code_arguments()])


with DAG(
    dag_id=DAG_ID,
    description=None,
    schedule=CronTriggerTimetable("30 6 * * 1-5", timezone="Europe/Amsterdam"),
    start_date=pendulum.datetime(2024, 1, 1, tz="Europe/Amsterdam"),
    catchup=False,
    # @retry is the only source of retries: not the deployment's [core] default_task_retries.
    default_args={"retries": 0},
    tags=["flow:DecoratedFlow", "flowc", "project:demo"],
    params={
        "size": Param(default=3, description="how many items", type="integer"),
        "label": Param(default="x", type="string"),
    },
) as dag:
    tasks = {}
    tasks["start"] = task(task_id="start")(flowc_step)("start")
    tasks["start-fanout"] = task(task_id="start-fanout")(flowc_fanout)(
        control=tasks["start"], depth=0, step="start"
    )
    tasks["train"] = (
        task(task_id="train", retries=2, retry_delay=timedelta(seconds=60), execution_timeout=timedelta(seconds=360))(flowc_step)
        .partial(step="train")
        .expand(entry=tasks["start-fanout"])
    )
    tasks["join"] = task(task_id="join", retries=1, retry_delay=timedelta(seconds=0))(flowc_step)("join")
    tasks["end"] = task(task_id="end")(flowc_step)("end")
    # A teardown: runs after every task whatever its state, and the DAG run's state ignores it.
    tasks["flowc-finish"] = task(task_id="flowc-finish")(flowc_finish)().as_teardown()

    tasks["end"] >> tasks["flowc-finish"]
    tasks["join"] >> tasks["end"]
    tasks["join"] >> tasks["flowc-finish"]
    tasks["start"] >> tasks["flowc-finish"]
    tasks["start"] >> tasks["start-fanout"]
    tasks["start"] >> tasks["train"]
    tasks["start-fanout"] >> tasks["flowc-finish"]
    tasks["start-fanout"] >> tasks["train"]
    tasks["train"] >> tasks["flowc-finish"]
    tasks["train"] >> tasks["join"]
