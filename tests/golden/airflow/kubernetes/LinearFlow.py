"""LinearFlow on Apache Airflow: compiled by flowc from linear_flow.py. Do not edit; compile again.

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

# Each name is imported on its own: Airflow 3.0 and 3.1 have the Task SDK's DAG and task, but
# not yet its AirflowFailException or CronTriggerTimetable (Task SDK 1.2, Airflow 3.2, added them).
try:  # Airflow 3
    from airflow.sdk import DAG, get_current_context, task
except ImportError:  # Airflow 2
    from airflow import DAG
    from airflow.decorators import task
    from airflow.operators.python import get_current_context
try:  # Airflow 3.2 and later
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # Airflow 2, 3.0, 3.1
    from airflow.exceptions import AirflowFailException
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

FLOW_NAME = "LinearFlow"
DAG_ID = "LinearFlow"
#: Datastore root the tasks use.
DATASTORE = ".flowc"
#: SHA-256 of the code package `flowc deploy` uploaded (None: compiled without one).
CODE_PACKAGE = "c0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0dec0de"
#: SHA-256 of the IR this DAG was compiled from: every task refuses code whose IR differs (--ir).
IR_DIGEST = "20aea7a243cf3bc1490ed4bb342cb8c3"
#: Added to every task's environment: the @project branch (current.branch_name) and the bootstrap
#: that starts a task from the code package in an image without flowc (flowc.task_runner.bootstrap).
TASK_ENVIRONMENT = {
    "FLOWC_BOOTSTRAP_SOURCE": "# flowc's task bootstrap (flowc/task_runner/bootstrap_program.py; docs/architecture.md)\nimport hashlib\nimport io\nimport os\nimport re\nimport shutil\nimport subprocess\nimport sys\nimport tarfile\nimport tempfile\n\n#: What a masked secret reads as.\nMASK = \"******\"\n#: The user information of a URL (``scheme://user:password@`` or ``scheme://token@``).\n_URL_CREDENTIALS = re.compile(r\"\\b([A-Za-z][A-Za-z0-9+.-]*://)([^/\\s@\\\"'<>]*)@\")\n\n\ndef mask_credentials(text):\n    \"\"\"``text`` with the password (or lone token) of every URL in it masked: ``http://u:******@h``.\n\n    flowc's one masking function (re-exported as :func:`flowc.redact.mask_credentials`). It lives\n    here because this program runs where flowc cannot be imported, and prints errors too.\n    \"\"\"\n\n    def masked(match):\n        user, colon, _ = match.group(2).partition(\":\")\n        return match.group(1) + (user + \":\" + MASK if colon else MASK) + \"@\"\n\n    return _URL_CREDENTIALS.sub(masked, str(text))\n\n\ndef fail(message):\n    print(\"flowc bootstrap: \" + mask_credentials(message), file=sys.stderr, flush=True)\n    sys.exit(3)\n\n\ndef option(args, name):\n    for position, arg in enumerate(args):\n        if arg == name and position + 1 < len(args):\n            return args[position + 1]\n        if arg.startswith(name + \"=\"):\n            return arg[len(name) + 1 :]\n    return None\n\n\ndef place(target, fill):\n    \"\"\"Makes folder ``target`` by ``fill(staging)`` then one rename: never seen half-made.\"\"\"\n    if os.path.isdir(target):\n        return\n    os.makedirs(os.path.dirname(target), exist_ok=True)\n    staging = tempfile.mkdtemp(prefix=\".staging-\", dir=os.path.dirname(target))\n    try:\n        fill(staging)\n        os.rename(staging, target)\n    except OSError:\n        if not os.path.isdir(target):  # not a lost race with another task on this machine\n            raise\n    finally:\n        shutil.rmtree(staging, ignore_errors=True)\n\n\ndef member_problem(member):\n    \"\"\"Why ``member`` of a code package must not be unpacked, or None.\n\n    Checked on every Python, not left to tarfile's \"data\" filter, which Python 3.11.0 to 3.11.3\n    lack (https://docs.python.org/3/library/tarfile.html#extraction-filters): there a member named\n    ``../x`` or ``/x``, or a link, would be written outside the cache. flowc writes packages of\n    regular files only, so anything else is refused: absolute paths, ``..``, links, devices.\n    \"\"\"\n    name = member.name.replace(\"\\\\\", \"/\")\n    if not name or name.startswith(\"/\") or (len(name) > 1 and name[1] == \":\"):\n        return f\"member {member.name!r} has an absolute path\"\n    if \"..\" in name.split(\"/\"):\n        return f\"member {member.name!r} leads out of the package folder\"\n    if not (member.isfile() or member.isdir()):\n        kind = \"link\" if member.issym() or member.islnk() else \"device, FIFO or special file\"\n        return f\"member {member.name!r} is a {kind} (a package holds files and folders only)\"\n    return None\n\n\ndef extract_package(archive, folder):\n    \"\"\"Unpacks ``archive`` (an open tarfile) into ``folder``; ValueError naming a refused member.\"\"\"\n    members = archive.getmembers()\n    for member in members:\n        problem = member_problem(member)\n        if problem:\n            raise ValueError(problem)\n        member.mode &= 0o755  # no setuid, setgid or world-writable files (as the data filter)\n    # The data filter too where Python has it; the members are already checked where it does not.\n    safe = {\"filter\": \"data\"} if hasattr(tarfile, \"data_filter\") else {}\n    archive.extractall(folder, members=members, **safe)\n\n\ndef boto3_folder(cache):\n    \"\"\"None when the image has boto3, else a cache folder where pip installed it.\"\"\"\n    try:\n        import boto3  # noqa: F401\n    except ImportError:\n        pass\n    else:\n        return None\n    folder = os.path.join(cache, \"boto3\")\n\n    def install(staging):\n        command = [sys.executable, \"-m\", \"pip\", \"install\", \"--quiet\", \"--disable-pip-version-check\"]\n        command += [\"--no-warn-script-location\", \"--target\", staging, \"boto3\"]\n        done = subprocess.run(command, stdout=sys.stderr, timeout=900, check=False)\n        if done.returncode != 0:\n            fail(\"the image has no boto3 and pip could not install it: add boto3 (or flowc) to the image\")\n\n    place(folder, install)\n    sys.path.insert(0, folder)\n    return folder\n\n\ndef fetch(datastore, key, cache, what=\"the code package\"):\n    if not datastore.startswith(\"s3://\"):\n        try:\n            with open(os.path.join(datastore, key), \"rb\") as handle:\n                return handle.read()\n        except OSError as exc:\n            fail(f\"cannot read {what} {os.path.join(datastore, key)}: {exc}\")\n    import boto3\n\n    bucket, _, prefix = datastore[5:].partition(\"/\")\n    key = prefix.strip(\"/\") + \"/\" + key if prefix.strip(\"/\") else key\n    endpoint = os.environ.get(\"FLOWC_S3__ENDPOINT_URL\") or None\n    try:\n        return boto3.client(\"s3\", endpoint_url=endpoint).get_object(Bucket=bucket, Key=key)[\"Body\"].read()\n    except Exception as exc:\n        fail(f\"cannot fetch {what} s3://{bucket}/{key}: {exc}\")\n\n\ndef main(argv):\n    if not argv or argv[0].split(\".\")[0] != \"flowc\":\n        fail(f\"usage: MODULE ARGS... with MODULE a flowc module, got {argv[:1]!r}\")\n    module, args = argv[0], argv[1:]\n    sha = option(args, \"--package\") or \"\"\n    datastore = option(args, \"--datastore\") or os.environ.get(\"FLOWC_DATASTORE\") or \"\"\n    if len(sha) != 64 or sha.strip(\"0123456789abcdef\"):\n        fail(f\"no code package given (--package {sha!r}): deploy the flow with flowc deploy\")\n    if not datastore:\n        fail(\"no datastore given: pass --datastore URL or set FLOWC_DATASTORE\")\n    cache = os.environ.get(\"FLOWC_PACKAGE_CACHE\") or os.path.join(\n        tempfile.gettempdir(), f\"flowc-packages-{os.getuid()}\"\n    )\n    paths = [boto3_folder(cache)] if datastore.startswith(\"s3://\") else []\n    package = os.path.join(cache, sha)\n\n    def unpack(staging):\n        data = fetch(datastore, f\"objects/{sha[:2]}/{sha}\", cache)\n        if hashlib.sha256(data).hexdigest() != sha:\n            fail(f\"the code package {sha} in {datastore} is corrupt (its bytes hash otherwise)\")\n        try:\n            with tarfile.open(fileobj=io.BytesIO(data)) as archive:\n                extract_package(archive, staging)\n        except (ValueError, tarfile.TarError, OSError) as exc:\n            fail(f\"the code package {sha} cannot be unpacked: {exc}\")\n\n    place(package, unpack)\n    environ = dict(os.environ)\n    inherited = [environ[\"PYTHONPATH\"]] if environ.get(\"PYTHONPATH\") else []\n    environ[\"PYTHONPATH\"] = os.pathsep.join([package, *filter(None, paths), *inherited])\n    if environ.get(\"FLOWC_ENVIRONMENT\"):  # install.ENVIRONMENT_ENV: the step's @pypi environment\n        sys.path.insert(0, package)\n        from flowc.environments import install\n\n        try:\n            environ = install.enter_deployed(environ, lambda k, w: fetch(datastore, k, cache, w), sha, cache)\n        except install.EnvironmentProblem as exc:\n            fail(str(exc))\n    os.execve(sys.executable, [sys.executable, \"-m\", module, *args], environ)\n\n\nif __name__ == \"__main__\":\n    main(sys.argv[1:])",
}
#: The flow's parameters (the start task receives their values).
PARAMETERS = ()
#: Key of the run's conf holding {name: sha256} of values stored in the datastore by flowc trigger.
OBJECTS_KEY = "$objects"
#: How a task outside a foreach learns its iteration: (mode, Airflow tasks whose control record tells).
ITERATION = {
    "start": ("none", ()),
    "middle": ("next", ("start",)),
    "end": ("next", ("middle",)),
}
#: Branch tasks: task id -> (tasks whose control record decides, {step: Airflow task of that step}).
CHOICES = {}
#: Regions (loops; a switch inside a foreach) run in one task: task id -> (steps, the step a
#: region mapped over a foreach starts at (None: read from the control record that chose it),
#: ((step, retries, seconds between retries), ...)).
LOOPS = {}
#: How a pod starts its task: then the module, then its arguments (flowc.backends.launch).
LAUNCH = ["python", "-c", "import os;exec(os.environ[\"FLOWC_BOOTSTRAP_SOURCE\"])"]
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


def flowc_parameters(params, dag_run=None):
    """The start task's parameter values as JSON (FLOWC_PARAMETERS), never spliced into a command.

    Every `$` is doubled: Kubernetes expands `$(NAME)` in env values and reads `$$` as `$`.
    """
    return json.dumps(flowc_parameter_values(params, dag_run), sort_keys=True).replace("$", "$$")


def _code_arguments():
    return ["--package", CODE_PACKAGE] if CODE_PACKAGE else []


def _tail():
    return [*_code_arguments(), "--ir", IR_DIGEST, "--datastore", DATASTORE, "--control-file", CONTROL_FILE]


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


def _region_tail(steps, retries):
    arguments = ["--steps", ",".join(steps)]
    for name, times, seconds in retries:
        arguments += ["--retry", f"{name}={times}:{seconds:g}"]
    return [*arguments, *_tail()]


def _loop_arguments(region):
    """Pod arguments of a region outside any foreach: its entry step is read from the control record."""
    steps, _, retries = LOOPS[region]
    entry = "{{ flowc_entry(ti, %r, %r)[0] }}" % (region, steps)
    iteration = "{{ flowc_entry(ti, %r, %r)[1] }}" % (region, steps)
    arguments = ["--flow", FLOW_NAME, "--run-id", RUN_ID, "--entry", entry, "--iteration", iteration]
    return [*arguments, *_region_tail(steps, retries)]


def _mapped_loop_arguments(region):
    """For a region inside a foreach: the pod arguments of one fanout entry."""
    steps, start, retries = LOOPS[region]

    def arguments(entry):
        index = ",".join(str(i) for i in entry["index"])
        return [
            "--flow", FLOW_NAME, "--run-id", entry["run_id"], "--index", index, "--entry", start,
            "--iteration", str(entry["iteration"]), *_region_tail(steps, retries),
        ]  # fmt: skip

    return arguments


def _finish_arguments():
    """Pod arguments of flowc-finish: the outcome is read from the datastore (no control record; the
    code package only for the bootstrap to find flowc in)."""
    return ["--flow", FLOW_NAME, "--run-id", RUN_ID, *_code_arguments(), "--datastore", DATASTORE]


with DAG(
    dag_id=DAG_ID,
    description=None,
    schedule=None,
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    # @retry is the only source of retries: not the deployment's [core] default_task_retries.
    default_args={"retries": 0},
    tags=["flow:LinearFlow", "flowc"],
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
        name="linearflow-start",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "LinearFlow", "flowc/task": "start"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT, "FLOWC_PARAMETERS": "{{ flowc_parameters(params, dag_run) }}"},
        arguments=_step_arguments("start"),
    )
    tasks["middle"] = KubernetesPodOperator(
        task_id="middle",
        name="linearflow-middle",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "LinearFlow", "flowc/task": "middle"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=_step_arguments("middle"),
    )
    tasks["end"] = KubernetesPodOperator(
        task_id="end",
        name="linearflow-end",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "LinearFlow", "flowc/task": "end"},
        do_xcom_push=True,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=_step_arguments("end"),
    )
    # A teardown: runs after every task whatever its state, and the DAG run's state ignores it.
    tasks["flowc-finish"] = KubernetesPodOperator(
        task_id="flowc-finish",
        name="linearflow-flowc-finish",
        image="python:3.11-slim",
        cmds=[*LAUNCH, "flowc.task_runner.finish"],
        namespace="default",
        labels={"app.kubernetes.io/managed-by": "flowc", "flowc/flow": "LinearFlow", "flowc/task": "flowc-finish"},
        do_xcom_push=False,
        get_logs=True,
        on_finish_action="delete_pod",
        env_vars={**TASK_ENVIRONMENT},
        arguments=_finish_arguments(),
    ).as_teardown()

    tasks["end"] >> tasks["flowc-finish"]
    tasks["middle"] >> tasks["end"]
    tasks["middle"] >> tasks["flowc-finish"]
    tasks["start"] >> tasks["flowc-finish"]
    tasks["start"] >> tasks["middle"]
