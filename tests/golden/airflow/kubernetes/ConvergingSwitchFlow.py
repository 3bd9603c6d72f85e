"""ConvergingSwitchFlow on Apache Airflow: compiled by flowc from converging_switch_flow.py. Do not edit; compile again.

Every step runs `python -m flowc.task_runner` (a Kubernetes pod per task), which reads
and writes the flowc datastore; Airflow passes only control records (XCom) between tasks.
The teardown task flowc-finish then records how the run ended (`python -m flowc.task_runner.finish`);
as a teardown it does not count towards the DAG run's state.
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
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

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
#: Datastore root the tasks use.
DATASTORE = ".flowc"
#: SHA-256 of the code package `flowc deploy` uploaded (None: compiled without one).
CODE_PACKAGE = "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de"
#: Added to every task's environment: the @project branch (current.branch_name) and the bootstrap
#: that starts a task from the code package in an image without flowc (flowc.task_runner.bootstrap).
TASK_ENVIRONMENT = {
    "FLOWC_BOOTSTRAP_SOURCE": "# flowc's task bootstrap (flowc/task_runner/bootstrap_program.py; docs/architecture.md)\nimport gzip\nimport hashlib\nimport io\nimport os\nimport re\nimport shutil\nimport subprocess\nimport sys\nimport tarfile\nimport tempfile\nimport zlib\n\n#: What a masked secret reads as.\nMASK = \"******\"\n#: The user information of a URL (``scheme://user:password@`` or ``scheme://token@``).\n_URL_CREDENTIALS = re.compile(r\"\\b([A-Za-z][A-Za-z0-9+.-]*://)([^/\\s@\\\"'<>]*)@\")\n\n\ndef mask_credentials(text):\n    \"\"\"``text`` with the password (or lone token) of every URL in it masked: ``http://u:******@h``.\n\n    flowc's one masking function (re-exported as :func:`flowc.redact.mask_credentials`). It lives\n    here because this program runs where flowc cannot be imported, and prints errors too.\n    \"\"\"\n\n    def masked(match):\n        user, colon, _ = match.group(2).partition(\":\")\n        return match.group(1) + (user + \":\" + MASK if colon else MASK) + \"@\"\n\n    return _URL_CREDENTIALS.sub(masked, str(text))\n\n\ndef fail(message):\n    print(\"flowc bootstrap: \" + mask_credentials(message), file=sys.stderr, flush=True)\n    sys.exit(3)\n\n\ndef option(args, name):\n    for position, arg in enumerate(args):\n        if arg == name and position + 1 < len(args):\n            return args[position + 1]\n        if arg.startswith(name + \"=\"):\n            return arg[len(name) + 1 :]\n    return None\n\n\ndef place(target, fill):\n    \"\"\"Makes folder ``target`` by ``fill(staging)`` then one rename: never seen half-made.\"\"\"\n    if os.path.isdir(target):\n        return\n    os.makedirs(os.path.dirname(target), exist_ok=True)\n    staging = tempfile.mkdtemp(prefix=\".staging-\", dir=os.path.dirname(target))\n    try:\n        fill(staging)\n        os.rename(staging, target)\n    except OSError:\n        if not os.path.isdir(target):  # not a lost race with another task on this machine\n            raise\n    finally:\n        shutil.rmtree(staging, ignore_errors=True)\n\n\ndef member_problem(member):\n    \"\"\"Why ``member`` of a code package must not be unpacked, or None.\n\n    Checked on every Python, not left to tarfile's \"data\" filter, which Python 3.11.0 to 3.11.3\n    lack (https://docs.python.org/3/library/tarfile.html#extraction-filters): there a member named\n    ``../x`` or ``/x``, or a link, would be written outside the cache. flowc writes packages of\n    regular files only, so anything else is refused: absolute paths, ``..``, links, devices.\n    \"\"\"\n    name = member.name.replace(\"\\\\\", \"/\")\n    if not name or name.startswith(\"/\") or (len(name) > 1 and name[1] == \":\"):\n        return f\"member {member.name!r} has an absolute path\"\n    if \"..\" in name.split(\"/\"):\n        return f\"member {member.name!r} leads out of the package folder\"\n    if not (member.isfile() or member.isdir()):\n        kind = \"link\" if member.issym() or member.islnk() else \"device, FIFO or special file\"\n        return f\"member {member.name!r} is a {kind} (a package holds files and folders only)\"\n    return None\n\n\ndef package_key(sha):\n    return \"packages/\" + sha + \"/code.tar.gz\"  # flowc.datastore.layout.package_key\n\n\ndef package_tar(stored, sha):\n    \"\"\"The tar of a stored package (gzip) if it hashes to ``sha``, else ValueError saying why.\n    The tar is hashed, not the stored bytes: those depend on the zlib build (flowc/package.py).\"\"\"\n    try:\n        tar = gzip.decompress(stored)\n    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError\n        raise ValueError(f\"cannot be decompressed ({exc})\") from None\n    if hashlib.sha256(tar).hexdigest() != sha:\n        raise ValueError(\"its tar hashes otherwise\")\n    return tar\n\n\ndef extract_package(archive, folder):\n    \"\"\"Unpacks ``archive`` (an open tarfile) into ``folder``; ValueError naming a refused member.\"\"\"\n    members = archive.getmembers()\n    for member in members:\n        problem = member_problem(member)\n        if problem:\n            raise ValueError(problem)\n        member.mode &= 0o755  # no setuid, setgid or world-writable files (as the data filter)\n    # The data filter too where Python has it; the members are already checked where it does not.\n    safe = {\"filter\": \"data\"} if hasattr(tarfile, \"data_filter\") else {}\n    archive.extractall(folder, members=members, **safe)\n\n\ndef boto3_folder(cache):\n    \"\"\"None when the image has boto3, else a cache folder where pip installed it.\"\"\"\n    try:\n        import boto3  # noqa: F401\n    except ImportError:\n        pass\n    else:\n        return None\n    folder = os.path.join(cache, \"boto3\")\n\n    def install(staging):\n        command = [sys.executable, \"-m\", \"pip\", \"install\", \"--quiet\", \"--disable-pip-version-check\"]\n        command += [\"--no-warn-script-location\", \"--target\", staging, \"boto3\"]\n        done = subprocess.run(command, stdout=sys.stderr, timeout=900, check=False)\n        if done.returncode != 0:\n            fail(\"the image has no boto3 and pip could not install it: add boto3 (or flowc) to the image\")\n\n    place(folder, install)\n    sys.path.insert(0, folder)\n    return folder\n\n\ndef fetch(datastore, key, cache, what=\"the code package\"):\n    if not datastore.startswith(\"s3://\"):\n        try:\n            with open(os.path.join(datastore, key), \"rb\") as handle:\n                return handle.read()\n        except OSError as exc:\n            fail(f\"cannot read {what} {os.path.join(datastore, key)}: {exc}\")\n    import boto3\n\n    bucket, _, prefix = datastore[5:].partition(\"/\")\n    key = prefix.strip(\"/\") + \"/\" + key if prefix.strip(\"/\") else key\n    endpoint = os.environ.get(\"FLOWC_S3__ENDPOINT_URL\") or None\n    try:\n        return boto3.client(\"s3\", endpoint_url=endpoint).get_object(Bucket=bucket, Key=key)[\"Body\"].read()\n    except Exception as exc:\n        fail(f\"cannot fetch {what} s3://{bucket}/{key}: {exc}\")\n\n\ndef main(argv):\n    if not argv or argv[0].split(\".\")[0] != \"flowc\":\n        fail(f\"usage: MODULE ARGS... with MODULE a flowc module, got {argv[:1]!r}\")\n    module, args = argv[0], argv[1:]\n    sha = option(args, \"--package\") or \"\"\n    datastore = option(args, \"--datastore\") or os.environ.get(\"FLOWC_DATASTORE\") or \"\"\n    if len(sha) != 64 or sha.strip(\"0123456789abcdef\"):\n        fail(f\"no code package given (--package {sha!r}): deploy the flow with flowc deploy\")\n    if not datastore:\n        fail(\"no datastore given: pass --datastore URL or set FLOWC_DATASTORE\")\n    cache = os.environ.get(\"FLOWC_PACKAGE_CACHE\") or os.path.join(\n        tempfile.gettempdir(), f\"flowc-packages-{os.getuid()}\"\n    )\n    paths = [boto3_folder(cache)] if datastore.startswith(\"s3://\") else []\n    package = os.path.join(cache, sha)\n\n    def unpack(staging):\n        try:\n            tar = package_tar(fetch(datastore, package_key(sha), cache), sha)\n        except ValueError as exc:\n            fail(f\"the code package {sha} in {datastore} is corrupt: {exc}\")\n        try:\n            with tarfile.open(fileobj=io.BytesIO(tar)) as archive:\n                extract_package(archive, staging)\n        except (ValueError, tarfile.TarError, OSError) as exc:\n            fail(f\"the code package {sha} cannot be unpacked: {exc}\")\n\n    place(package, unpack)\n    environ = dict(os.environ)\n    inherited = [environ[\"PYTHONPATH\"]] if environ.get(\"PYTHONPATH\") else []\n    environ[\"PYTHONPATH\"] = os.pathsep.join([package, *filter(None, paths), *inherited])\n    if environ.get(\"FLOWC_ENVIRONMENT\"):  # install.ENVIRONMENT_ENV: the step's @pypi environment\n        sys.path.insert(0, package)\n        from flowc.environments import install\n\n        try:\n            environ = install.enter_deployed(environ, lambda k, w: fetch(datastore, k, cache, w), sha, cache)\n        except install.EnvironmentProblem as exc:\n            fail(str(exc))\n    os.execve(sys.executable, [sys.executable, \"-m\", module, *args], environ)\n\n\nif __name__ == \"__main__\":\n    main(sys.argv[1:])",
}
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
    "start": ["--flow", "ConvergingSwitchFlow", "--step", "start", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "detour": ["--flow", "ConvergingSwitchFlow", "--step", "detour", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "target": ["--flow", "ConvergingSwitchFlow", "--step", "target", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "fork": ["--flow", "ConvergingSwitchFlow", "--step", "fork", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "choose": ["--flow", "ConvergingSwitchFlow", "--step", "choose", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "case_a": ["--flow", "ConvergingSwitchFlow", "--step", "case_a", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "case_b": ["--flow", "ConvergingSwitchFlow", "--step", "case_b", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "after_case": ["--flow", "ConvergingSwitchFlow", "--step", "after_case", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "plain": ["--flow", "ConvergingSwitchFlow", "--step", "plain", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "join": ["--flow", "ConvergingSwitchFlow", "--step", "join", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "end": ["--flow", "ConvergingSwitchFlow", "--step", "end", "--run-id", "<flowc:run_id>", "--iteration", "<flowc:iteration>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--ir", "93abae4109b214875d386834513c580e", "--datastore", ".flowc", "--control-file", "/airflow/xcom/return.json"],
    "flowc-finish": ["--flow", "ConvergingSwitchFlow", "--run-id", "<flowc:run_id>", "--package", "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de", "--datastore", ".flowc"],
}
#: How a pod starts its task: then the module, then its arguments (flowc.backends.launch).
LAUNCH = ["python", "-c", "import os;exec(os.environ[\"FLOWC_BOOTSTRAP_SOURCE\"])"]


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
    user_defined_macros={
        "flowc_entry": flowc_entry,
        "flowc_iteration": flowc_iteration,
        "flowc_parameters": flowc_parameters,
        "flowc_pod_resume": flowc_pod_resume,
        "flowc_run_id": flowc_run_id,
    },
) as dag:
    tasks = {}
    tasks["start"] = KubernetesPodOperator(
        task_id="start",
        name="convergingswitchflow-start",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "start"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT, "FLOWC_PARAMETERS": "{{ flowc_parameters(params, dag_run, triggering_asset_events) }}", "FLOWC_RESUME": "{{ flowc_pod_resume(dag_run) }}"},
        arguments=flowc_pod_arguments("start"),
    )
    tasks["start-choose"] = task.branch(task_id="start-choose")(flowc_choose)("start-choose")
    tasks["detour"] = KubernetesPodOperator(
        task_id="detour",
        name="convergingswitchflow-detour",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "detour"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("detour"),
    )
    tasks["target"] = KubernetesPodOperator(
        task_id="target",
        trigger_rule="none_failed_min_one_success",
        name="convergingswitchflow-target",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "target"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("target"),
    )
    tasks["fork"] = KubernetesPodOperator(
        task_id="fork",
        name="convergingswitchflow-fork",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "fork"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("fork"),
    )
    tasks["choose"] = KubernetesPodOperator(
        task_id="choose",
        name="convergingswitchflow-choose",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "choose"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("choose"),
    )
    tasks["choose-choose"] = task.branch(task_id="choose-choose")(flowc_choose)("choose-choose")
    tasks["case_a"] = KubernetesPodOperator(
        task_id="case_a",
        name="convergingswitchflow-case-a",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "case_a"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("case_a"),
    )
    tasks["case_b"] = KubernetesPodOperator(
        task_id="case_b",
        name="convergingswitchflow-case-b",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "case_b"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("case_b"),
    )
    tasks["after_case"] = KubernetesPodOperator(
        task_id="after_case",
        trigger_rule="none_failed_min_one_success",
        name="convergingswitchflow-after-case",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "after_case"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("after_case"),
    )
    tasks["plain"] = KubernetesPodOperator(
        task_id="plain",
        name="convergingswitchflow-plain",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "plain"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("plain"),
    )
    tasks["join"] = KubernetesPodOperator(
        task_id="join",
        name="convergingswitchflow-join",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "join"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("join"),
    )
    tasks["end"] = KubernetesPodOperator(
        task_id="end",
        outlets=[Asset("flowc-event:metaflow.ConvergingSwitchFlow.end")],
        name="convergingswitchflow-end",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "end"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("end"),
    )
    # A teardown: runs after every task whatever its state, and the DAG run's state ignores it.
    tasks["flowc-finish"] = KubernetesPodOperator(
        task_id="flowc-finish",
        name="convergingswitchflow-flowc-finish",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner.finish"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "ConvergingSwitchFlow", "flowc/task": "flowc-finish"},
        do_xcom_push=False,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=flowc_pod_arguments("flowc-finish"),
    ).as_teardown()

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
