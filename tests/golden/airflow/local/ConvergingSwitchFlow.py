"""ConvergingSwitchFlow on Apache Airflow: compiled by flowc from converging_switch_flow.py. Do not edit; compile again.

Every step runs `python -m flowc.task_runner` (a process on the Airflow worker), which reads
and writes the flowc datastore; Airflow passes only control records (XCom) between tasks.
The teardown task flowc-finish then records how the run ended (`python -m flowc.task_runner.finish`);
as a teardown it does not count towards the DAG run's state.
The worker needs flowc installed; FLOWC_PYTHON picks its interpreter (default: the worker's own),
FLOWC_DATASTORE overrides the datastore, and FLOWC_SOURCE (a flow file on the worker) or
FLOWC_PACKAGE (a code package digest) gives the code when the DAG was compiled without a package.
"""

from __future__ import annotations

import pendulum

# Each name is imported on its own: Airflow 3.0 and 3.1 have the Task SDK's DAG and task, but
# not yet its CronTriggerTimetable (Task SDK 1.2, Airflow 3.2, added it).
try:  # Airflow 3
    from airflow.sdk import DAG, Asset, Param, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.datasets import Dataset as Asset
    from airflow.decorators import task
    from airflow.models.param import Param

# ---- flowc's DAG runtime (flowc/backends/airflow/dag_runtime.py, copied verbatim) ----------------
"""The runtime of a compiled Airflow DAG: copied verbatim into every DAG file flowc writes.

Airflow's scheduler parses DAG files where flowc is not installed, so this module imports only the
standard library at its top, and Airflow inside the functions that run in Airflow (the DAG file
imports Airflow anyway). Its text is what :mod:`flowc.backends.airflow.render` puts into the DAG
file, between the imports and the DAG's data; it is linted and unit-tested here like any module.

It reads the DAG's data, which the DAG file assigns after this text (the defaults below are empty):

* ``ARGV``: Airflow task id -> the task runner's argv for that task, made at compile time by
  :mod:`flowc.task_runner.spec` (the one formatter). Words that are only known when the task runs
  are placeholders, ``<flowc:NAME>`` (:data:`PLACEHOLDER`), filled by :func:`flowc_argv`.
* ``ITERATION``: task id -> (mode, the tasks whose control record tells, the task's steps): how a
  task outside a foreach learns the step and iteration it starts at.
* ``CHOICES``: branch task id -> (the tasks whose control record decides, {step: Airflow task}).
* ``PARAMETERS``, ``CODE_PACKAGE``, ``DATASTORE``, ``TASK_ENVIRONMENT``: the flow's parameter
  names, the code package, the datastore root, every task's extra environment.
* ``TRIGGERS``: the URI of each asset the DAG is scheduled on -> (the event's name, the flow whose
  finish it is or None, (parameter, payload field) pairs) (:mod:`flowc.backends.airflow.assets`).

The control record's field names come from :mod:`flowc.control` (a test checks they agree).
"""

import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from hashlib import sha256

# ---- the DAG's data (the DAG file assigns each after this module's text) ----------------------
ARGV = {}
ITERATION = {}
CHOICES = {}
PARAMETERS = ()
CODE_PACKAGE = None
DATASTORE = ""
TASK_ENVIRONMENT = {}
TRIGGERS = {}

# ---- constants -------------------------------------------------------------------------------
#: A placeholder word of ``ARGV``: ``PLACEHOLDER.format(name)``.
PLACEHOLDER = "<flowc:{}>"
#: Key of the run's conf holding {name: sha256} of values stored in the datastore by flowc trigger.
OBJECTS_KEY = "$objects"
#: Key of the run's conf holding ``ORIGIN_RUN_ID[/STEP]`` of a run resumed in place (flowc resume);
#: the start task gets it in RESUME_ENVIRONMENT (flowc.task_runner.spec) and clones what succeeded.
RESUME_KEY = "$resume"
RESUME_ENVIRONMENT = "FLOWC_RESUME"
#: Key of the start task's parameters holding the bodies of the events that started the run
#: (flowc.parameter_values.EVENTS_KEY), what current.trigger shows.
EVENTS_KEY = "$events"
#: What Airflow's REST API adds to the ``extra`` of each asset event it creates: not the payload's.
#: (airflow/api_fastapi/core_api/datamodels/assets.py, CreateAssetEventsBody.set_from_rest_api)
REST_API_MARK = "from_rest_api"
#: Task runner exit codes (docs/architecture.md).
EXIT_CODES = {1: "the step raised", 2: "bad input", 3: "infrastructure error", 4: "killed by @timeout"}
#: Where a pod writes its control record so that Airflow's XCom sidecar returns it.
POD_CONTROL_FILE = "/airflow/xcom/return.json"
#: Fields of the control record (flowc.control.ControlRecord) this module reads.
NEXT, NEXT_ITERATION, ITERATION_FIELD, INDEX_PATH, NUM_SPLITS = (
    "next",
    "next_iteration",
    "iteration",
    "index_path",
    "num_splits",
)

log = logging.getLogger(__name__)


def _fail(message):
    """Fails the Airflow task without retrying it (another attempt cannot help)."""
    try:  # Airflow 3.2 and later
        from airflow.sdk.exceptions import AirflowFailException
    except ImportError:  # Airflow 2, 3.0, 3.1
        from airflow.exceptions import AirflowFailException
    raise AirflowFailException(message)


def _context():
    try:  # Airflow 3
        from airflow.sdk import get_current_context
    except ImportError:  # Airflow 2
        from airflow.operators.python import get_current_context
    return get_current_context()


def flowc_run_id(airflow_run_id):
    """The flowc run id of a DAG run: path-safe and unique (a copy of flowc.backends.airflow.names)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "-", airflow_run_id)
    if safe != airflow_run_id or len(safe) > 100:
        safe = safe[:100] + "-" + sha256(airflow_run_id.encode("utf-8")).hexdigest()[:8]
    return "airflow-" + safe


def flowc_argv(argv, values):
    """``argv`` with each placeholder word replaced by its value in ``values``.

    A placeholder whose value is None is left out with the option name before it (e.g. ``--source``
    when the code comes from a package).
    """
    filled = []
    for word in argv:
        name = _placeholder_name(word)
        if name is None:
            filled.append(word)
        elif values[name] is None:
            filled.pop()
        else:
            filled.append(str(values[name]))
    return filled


def _placeholder_name(word):
    prefix, suffix = PLACEHOLDER.split("{}")
    if word.startswith(prefix) and word.endswith(suffix):
        return word[len(prefix) : -len(suffix)]
    return None


def _upstream_control(ti, task_id):
    control = ti.xcom_pull(task_ids=task_id)
    if control is None:
        _fail(f"task {task_id!r} left no control record")
    return control


def flowc_entry(ti, task_id):
    """(step, iteration) this task starts at, from the control record of the task that chose it."""
    mode, sources, steps = ITERATION[task_id]
    if mode == "none":
        return steps[0], 0
    if mode == "split":
        return steps[0], _upstream_control(ti, sources[0])[ITERATION_FIELD]
    for source in sources:
        control = ti.xcom_pull(task_ids=source)  # None when that case was skipped
        chosen = [step for step in (control or {}).get(NEXT, []) if step in steps]
        if chosen:
            return chosen[0], control[NEXT_ITERATION]
    _fail(f"no control record of {sources} chose {steps}")


def flowc_iteration(ti, task_id):
    return flowc_entry(ti, task_id)[1]


def _index_path(control, depth):
    """The foreach index path of the task that wrote ``control`` (a task at ``depth`` indices)."""
    if depth == 0:
        return []
    return [int(index) for index in control[INDEX_PATH]]


def _max_map_length():
    """How many instances this Airflow maps per task: [core] max_map_length (default 1024)."""
    try:  # Airflow 3.2 and later
        from airflow.sdk import conf
    except ImportError:  # Airflow 2, 3.0, 3.1
        from airflow.configuration import conf
    return conf.getint("core", "max_map_length", fallback=1024)


def flowc_fanout(control, depth, step, with_run_id=False):
    """Every index path of a foreach's body: one entry per split, flattened over a mapped foreach.

    Airflow cannot nest .expand() in a mapped task group, so a nested foreach's body maps once over
    the flat list of its index paths (outermost first, sorted). ``with_run_id``: each entry also
    carries the run id (pod arguments expanded from an XCom are not rendered as templates).
    """
    run_id = flowc_run_id(_context()["run_id"]) if with_run_id else None
    records = [control] if depth == 0 else list(control)
    entries = []
    for record in records:
        if record is None:  # e.g. a pod task marked successful without running (dry run)
            log.warning("a foreach task left no control record: nothing to fan out from it")
            continue
        parent = _index_path(record, depth)
        for split in range(record[NUM_SPLITS]):
            entry = {"index": [*parent, split], "iteration": record[NEXT_ITERATION]}
            if run_id is not None:
                entry["run_id"] = run_id
            entries.append(entry)
    # Airflow would refuse to push a longer list with a message naming neither the foreach nor
    # the setting (https://airflow.apache.org/docs/apache-airflow/stable/configurations-ref.html#max-map-length).
    limit = _max_map_length()
    if len(entries) > limit:
        _fail(
            f"foreach {step!r} has {len(entries)} tasks to run, more than this Airflow maps per task "
            f"([core] max_map_length = {limit}): raise max_map_length (AIRFLOW__CORE__MAX_MAP_LENGTH) "
            "on the Airflow deployment, or split the foreach"
        )
    return sorted(entries, key=lambda entry: entry["index"])


def flowc_choose(task_id):
    """The Airflow task of the case a switch (or a loop's exit) chose; Airflow skips the others."""
    sources, targets = CHOICES[task_id]
    ti = _context()["ti"]
    for source in sources:
        control = ti.xcom_pull(task_ids=source)
        if control is None:
            log.warning("task %s left no control record: every case is skipped", source)
            return []
        return [targets[step] for step in control[NEXT] if step in targets]
    return []


def flowc_parameter_values(params, dag_run=None, asset_events=None):
    """The start task's parameter values. Values that ``flowc trigger`` stored in the datastore
    (too large for a run's conf or a pod's environment) come as hashes under ``$objects`` in the
    run's conf; the task runner reads them back. A run the DAG's assets started also gets the
    payload fields its triggers map to parameters, and the events (:func:`flowc_triggered`)."""
    values = {name: params[name] for name in PARAMETERS if params.get(name) is not None}
    stored = (getattr(dag_run, "conf", None) or {}).get(OBJECTS_KEY)
    if stored:
        values[OBJECTS_KEY] = stored
    mapped, bodies = flowc_triggered(asset_events)
    values.update(mapped)
    if bodies:
        values[EVENTS_KEY] = bodies
    return values


def flowc_triggered(asset_events):
    """(parameter values, event bodies) of a run started by the DAG's assets, from its triggering
    asset events (the task context's ``triggering_asset_events``: asset -> its events since the
    DAG's last run, oldest first). Each event's body is ``{"name", "payload", "timestamp", "id"}``
    as on every target (flowc.events.event_body); the payload is the event's ``extra``, and for an
    event that a finished DAG run recorded, also ``run``: that flow's run (current.trigger.run).
    A payload field maps to a parameter from the latest event of its asset; a field with dots is
    a path into nested objects, as on Argo and Step Functions."""
    if not TRIGGERS or not asset_events:  # no lookup at all for a DAG without triggers
        return {}, []
    values, bodies = {}, []
    for asset in asset_events:
        rule = TRIGGERS.get(getattr(asset, "uri", None))
        events = sorted(asset_events[asset] or (), key=lambda event: event.timestamp)
        if rule is None or not events:
            continue
        name, flow, parameters = rule
        for event in events:
            bodies.append(_event_body(name, flow, event))
        for parameter, field in parameters:
            found, value = _payload_field(bodies[-1]["payload"], field)
            if found:
                values[parameter] = value
    return values, sorted(bodies, key=lambda body: body["timestamp"])


def _event_body(name, flow, event):
    payload = {k: v for k, v in (event.extra or {}).items() if not (k == REST_API_MARK and v is True)}
    if flow is not None and event.source_run_id:
        payload = {"run": f"{flow}/{flowc_run_id(event.source_run_id)}", **payload}
    return {"name": name, "payload": payload, "timestamp": int(event.timestamp.timestamp()), "id": None}


def _payload_field(payload, field):
    """(found, value) of ``field`` (``a.b``: key ``b`` of the object at ``a``) in ``payload``."""
    value = payload
    for key in field.split("."):
        if not isinstance(value, dict) or key not in value:
            return False, None
        value = value[key]
    return True, value


def flowc_resume(dag_run=None):
    """The run this one resumes in place (``ORIGIN_RUN_ID[/STEP]``, from the run's conf), or ""."""
    return str((getattr(dag_run, "conf", None) or {}).get(RESUME_KEY) or "")


# ---- tasks run as a process on the Airflow worker (operator "local") ---------------------------
def _execute(module, argv, environment=None):
    """Runs ``python -m module argv...`` (an argv list: no shell); raises on failure."""
    python = os.environ.get("FLOWC_PYTHON") or sys.executable
    command = [python, "-m", module, *argv]
    env = {**os.environ, **TASK_ENVIRONMENT, **(environment or {})}
    returncode = subprocess.run(command, env=env, check=False).returncode
    if returncode == 0:
        return
    message = f"python -m {module} exited with {returncode} ({EXIT_CODES.get(returncode, 'unexpected')})"
    if returncode == 2:
        _fail(message)  # bad input: another attempt cannot help
    raise RuntimeError(message)


def _worker_values(context, scratch):
    """The values of the worker's placeholders: run id, datastore, code, attempt, scratch files."""
    package = CODE_PACKAGE or os.environ.get("FLOWC_PACKAGE") or None
    source = None if package else os.environ.get("FLOWC_SOURCE") or None
    if package is None and source is None:
        _fail("no code: deploy the flow (code package) or set FLOWC_SOURCE on the worker")
    return {
        "run_id": flowc_run_id(context["run_id"]),
        "datastore": os.environ.get("FLOWC_DATASTORE") or DATASTORE,
        "package": package,
        "source": source,
        "attempt": max(context["ti"].try_number - 1, 0),
        "control_file": scratch and os.path.join(scratch, "control.json"),
        "params_file": scratch and os.path.join(scratch, "parameters.json"),
    }


def _run(module, task_id, values):
    """Runs one task's argv (``python -m module``) on the worker and returns its control record."""
    context = _context()
    with tempfile.TemporaryDirectory(prefix="flowc-airflow-") as scratch:
        values = {**_worker_values(context, scratch), **values}
        argv = flowc_argv(ARGV[task_id], values)
        environment = {}
        if PLACEHOLDER.format("params_file") in ARGV[task_id]:  # the start task
            given = flowc_parameter_values(
                context["params"], context.get("dag_run"), context.get("triggering_asset_events")
            )
            with open(values["params_file"], "w", encoding="utf-8") as handle:
                json.dump(given, handle)
            environment[RESUME_ENVIRONMENT] = flowc_resume(context.get("dag_run"))
        # @environment is applied by the task runner itself, for the step's duration.
        _execute(module, argv, environment)
        with open(values["control_file"], encoding="utf-8") as handle:
            return json.load(handle)


def _entry_values(entry):
    return {"index": ",".join(str(i) for i in entry["index"]), "iteration": entry["iteration"]}


def flowc_step(airflow_task_id, entry=None):
    """Runs one task of a step: at the index path and iteration of ``entry`` inside a foreach."""
    if entry is None:
        values = {"iteration": flowc_iteration(_context()["ti"], airflow_task_id)}
    else:
        values = _entry_values(entry)
    return _run("flowc.task_runner", airflow_task_id, values)


def flowc_loop(airflow_task_id, entry=None):
    """Runs a region's steps in sequence (flowc.task_runner.region) until a case leaves it: at the
    index path and iteration of ``entry`` for a region inside a foreach."""
    if entry is None:
        step, iteration = flowc_entry(_context()["ti"], airflow_task_id)
        values = {"entry": step, "iteration": iteration}
    else:
        values = _entry_values(entry)
    return _run("flowc.task_runner.region", airflow_task_id, values)


def flowc_finish(task_id):
    """Records how the run ended (status.json), read from the datastore, then runs the flow's exit
    hooks (found in its code); needs no XCom."""
    values = _worker_values(_context(), scratch=None)
    _execute("flowc.task_runner.finish", flowc_argv(ARGV[task_id], values))


# ---- tasks run as Kubernetes pods (operator "kubernetes") -------------------------------------
def flowc_parameters(params, dag_run=None, asset_events=None):
    """The start task's parameter values as JSON (FLOWC_PARAMETERS), never spliced into a command.

    Every `$` is doubled: Kubernetes expands `$(NAME)` in env values and reads `$$` as `$`.
    """
    values = flowc_parameter_values(params, dag_run, asset_events)
    return json.dumps(values, sort_keys=True).replace("$", "$$")


def flowc_pod_resume(dag_run=None):
    """The start pod's FLOWC_RESUME (its `$` doubled, as in :func:`flowc_parameters`)."""
    return flowc_resume(dag_run).replace("$", "$$")


def flowc_pod_arguments(task_id):
    """A pod's arguments outside any foreach: placeholders become macros Airflow renders at run time."""
    macros = {
        "run_id": "{{ flowc_run_id(run_id) }}",
        "iteration": "{{ flowc_iteration(ti, " + repr(task_id) + ") }}",
        "entry": "{{ flowc_entry(ti, " + repr(task_id) + ")[0] }}",
    }
    return flowc_argv(ARGV[task_id], macros)


def flowc_mapped_arguments(task_id):
    """For a task inside a foreach: a function from one fanout entry to its pod's arguments (values
    expanded from an XCom are not rendered as templates, so the run id travels in the entry)."""

    def arguments(entry):
        return flowc_argv(ARGV[task_id], {"run_id": entry["run_id"], **_entry_values(entry)})

    return arguments

# ---- the DAG's data ----------------------------------------------------------------------------
DAG_ID = "ConvergingSwitchFlow"
#: Datastore root the tasks use (FLOWC_DATASTORE on the worker overrides it).
DATASTORE = ".flowc"
#: SHA-256 of the code package `flowc deploy` uploaded (None: compiled without one).
CODE_PACKAGE = None
#: Added to every task's environment: the @project branch (current.branch_name).
TASK_ENVIRONMENT = {}
#: The flow's parameters (the start task receives their values).
PARAMETERS = ("mode",)
#: How a task outside a foreach learns where it starts: (mode, Airflow tasks whose control record
#: tells, the task's steps).
ITERATION = {
    "start": ("none", (), ("start",)),
    "detour": ("next", ("start",), ("detour",)),
    "target": ("next", ("detour", "start"), ("target",)),
    "fork": ("next", ("target",), ("fork",)),
    "choose": ("next", ("fork",), ("choose",)),
    "case_a": ("next", ("choose",), ("case_a",)),
    "case_b": ("next", ("choose",), ("case_b",)),
    "after_case": ("next", ("case_a", "case_b"), ("after_case",)),
    "plain": ("next", ("fork",), ("plain",)),
    "join": ("split", ("fork",), ("join",)),
    "end": ("next", ("join",), ("end",)),
}
#: Branch tasks: task id -> (tasks whose control record decides, {step: Airflow task of that step}).
CHOICES = {
    "start-choose": (("start",), {"detour": "detour", "target": "target"}),
    "choose-choose": (("choose",), {"case_a": "case_a", "case_b": "case_b"}),
}
#: Each task's command line (flowc.task_runner.spec), its placeholders filled when it runs.
ARGV = {
    "start": ["--flow", "ConvergingSwitchFlow", "--step", "start", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>", "--params-file", "<flowc:params_file>"],
    "detour": ["--flow", "ConvergingSwitchFlow", "--step", "detour", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>"],
    "target": ["--flow", "ConvergingSwitchFlow", "--step", "target", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>"],
    "fork": ["--flow", "ConvergingSwitchFlow", "--step", "fork", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>"],
    "choose": ["--flow", "ConvergingSwitchFlow", "--step", "choose", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>"],
    "case_a": ["--flow", "ConvergingSwitchFlow", "--step", "case_a", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>"],
    "case_b": ["--flow", "ConvergingSwitchFlow", "--step", "case_b", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>"],
    "after_case": ["--flow", "ConvergingSwitchFlow", "--step", "after_case", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>"],
    "plain": ["--flow", "ConvergingSwitchFlow", "--step", "plain", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>"],
    "join": ["--flow", "ConvergingSwitchFlow", "--step", "join", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>"],
    "end": ["--flow", "ConvergingSwitchFlow", "--step", "end", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--attempt", "<flowc:attempt>", "--source", "<flowc:source>", "--package", "<flowc:package>", "--ir", "93abae4109b214875d386834513c580e", "--datastore", "<flowc:datastore>", "--control-file", "<flowc:control_file>"],
    "flowc-finish": ["--flow", "ConvergingSwitchFlow", "--run-id", "<flowc:run_id>", "--package", "<flowc:package>", "--source", "<flowc:source>", "--datastore", "<flowc:datastore>"],
}


with DAG(
    dag_id=DAG_ID,
    description=None,
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    # @retry is the only source of retries: not the deployment's [core] default_task_retries.
    default_args={"retries": 0},
    tags=["flow:ConvergingSwitchFlow", "flowc"],
    params={
        "mode": Param(default="direct", type="string"),
    },
) as dag:
    tasks = {}
    tasks["start"] = task(task_id="start")(flowc_step)("start")
    tasks["start-choose"] = task.branch(task_id="start-choose")(flowc_choose)("start-choose")
    tasks["detour"] = task(task_id="detour")(flowc_step)("detour")
    tasks["target"] = task(task_id="target", trigger_rule="none_failed_min_one_success")(flowc_step)("target")
    tasks["fork"] = task(task_id="fork")(flowc_step)("fork")
    tasks["choose"] = task(task_id="choose")(flowc_step)("choose")
    tasks["choose-choose"] = task.branch(task_id="choose-choose")(flowc_choose)("choose-choose")
    tasks["case_a"] = task(task_id="case_a")(flowc_step)("case_a")
    tasks["case_b"] = task(task_id="case_b")(flowc_step)("case_b")
    tasks["after_case"] = task(task_id="after_case", trigger_rule="none_failed_min_one_success")(flowc_step)("after_case")
    tasks["plain"] = task(task_id="plain")(flowc_step)("plain")
    tasks["join"] = task(task_id="join")(flowc_step)("join")
    tasks["end"] = task(task_id="end", outlets=[Asset("flowc-event:metaflow.ConvergingSwitchFlow.end")])(flowc_step)("end")
    # A teardown: runs after every task whatever its state, and the DAG run's state ignores it.
    tasks["flowc-finish"] = task(task_id="flowc-finish")(flowc_finish)("flowc-finish").as_teardown()

    tasks["after_case"] >> tasks["flowc-finish"]
    tasks["after_case"] >> tasks["join"]
    tasks["case_a"] >> tasks["after_case"]
    tasks["case_a"] >> tasks["flowc-finish"]
    tasks["case_b"] >> tasks["after_case"]
    tasks["case_b"] >> tasks["flowc-finish"]
    tasks["choose"] >> tasks["choose-choose"]
    tasks["choose"] >> tasks["flowc-finish"]
    tasks["choose-choose"] >> tasks["case_a"]
    tasks["choose-choose"] >> tasks["case_b"]
    tasks["detour"] >> tasks["flowc-finish"]
    tasks["detour"] >> tasks["target"]
    tasks["end"] >> tasks["flowc-finish"]
    tasks["fork"] >> tasks["choose"]
    tasks["fork"] >> tasks["flowc-finish"]
    tasks["fork"] >> tasks["plain"]
    tasks["join"] >> tasks["end"]
    tasks["join"] >> tasks["flowc-finish"]
    tasks["plain"] >> tasks["flowc-finish"]
    tasks["plain"] >> tasks["join"]
    tasks["start"] >> tasks["flowc-finish"]
    tasks["start"] >> tasks["start-choose"]
    tasks["start-choose"] >> tasks["detour"]
    tasks["start-choose"] >> tasks["target"]
    tasks["target"] >> tasks["flowc-finish"]
    tasks["target"] >> tasks["fork"]
