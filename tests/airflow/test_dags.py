"""The golden DAG files on the real Airflow: they import, serialise, and pod DAGs run with their pod
tasks marked successful (no Kubernetes here); schedules, params and run ids behave as compiled."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from flowc.attempts import TIMEOUT_BACKSTOP_SECONDS
from flowc.backends.airflow import compile_dag
from flowc.backends.airflow.names import flowc_run_id
from flowc.backends.options import CompileOptions
from flowc.frontend import build_ir
from flowc.project_branches import BRANCH_ENV
from flowc.task_runner.bootstrap import BOOTSTRAP_ENV, BOOTSTRAP_SOURCE, LAUNCHER
from tests.airflow.engine import AirflowHome
from tests.airflow.golden import GOLDEN_DIR, OPERATORS, golden_settings

pytestmark = pytest.mark.slow

KUBERNETES_GOLDEN = sorted((GOLDEN_DIR / "kubernetes").glob("*.py"))


@pytest.mark.parametrize("operator", OPERATORS)
def test_golden_dag_files_import_and_serialise(operator: str, airflow_home: AirflowHome) -> None:
    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization

    folder = GOLDEN_DIR / operator
    bag = DagBag(dag_folder=str(folder))
    assert bag.import_errors == {}
    files = sorted(folder.glob("*.py"))
    assert sorted(bag.dags) == sorted(f.stem for f in files)
    for dag in bag.dags.values():
        restored = DagSerialization.from_dict(DagSerialization.to_dict(dag))
        assert sorted(restored.task_dict) == sorted(dag.task_dict)


def pod_task_pattern(module) -> re.Pattern[str]:
    """Every task that would start a pod (steps and loops; not the fanout/choose helpers)."""
    pods = sorted(t for t, task in module.dag.task_dict.items() if task.task_type == "KubernetesPodOperator")
    assert pods, "no pod tasks found"
    return re.compile("^(" + "|".join(re.escape(p) for p in pods) + ")$")


@pytest.mark.parametrize("golden", KUBERNETES_GOLDEN, ids=[g.stem for g in KUBERNETES_GOLDEN])
def test_pod_dags_run_with_pod_tasks_marked_successful(golden: Path, airflow_home: AirflowHome) -> None:
    module = airflow_home.load(golden)
    pattern = pod_task_pattern(module)
    conf = {"text": "given"} if "ParametersFlow" in golden.name else {}
    result = airflow_home.test(golden.name, golden.read_text(encoding="utf-8"), conf,
                               mark_success_pattern=pattern)  # fmt: skip
    assert result.state == "success", result.task_states
    for (task_id, _), state in result.task_states.items():
        if pattern.match(task_id):
            # A marked task never ran, so it left no control record: fanouts have nothing to map
            # and branch tasks skip every case. Everything else was marked successful.
            assert state in ("success", "skipped"), (task_id, state)
    assert result.task_states[("start", -1)] == "success"


def test_dag_copy_of_the_run_id_function_agrees(airflow_home: AirflowHome) -> None:
    module = airflow_home.load(GOLDEN_DIR / "local" / "LinearFlow.py")
    for run_id in ("manual__2026-01-01T00:00:00+00:00", "scheduled__x", "a/b c", "x" * 300, "é"):
        assert module.flowc_run_id(run_id) == flowc_run_id(run_id)


def test_schedule_keeps_its_timezone(airflow_home: AirflowHome) -> None:
    import pendulum
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction

    module = airflow_home.load(GOLDEN_DIR / "local" / "demo.test.golden.DecoratedFlow.py")
    # What the scheduler uses: the timetable of the serialised DAG.
    timetable = DagSerialization.from_dict(DagSerialization.to_dict(module.dag)).timetable

    def next_run_utc_hour(after):
        restriction = TimeRestriction(earliest=after, latest=None, catchup=True)
        info = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=restriction)
        return info.run_after.in_timezone("UTC").hour, info.run_after.in_timezone("UTC").minute

    # 06:30 in Amsterdam is 05:30 UTC in winter and 04:30 UTC in summer: the timezone is honoured.
    assert next_run_utc_hour(pendulum.datetime(2026, 1, 5, tz="UTC")) == (5, 30)
    assert next_run_utc_hour(pendulum.datetime(2026, 7, 6, tz="UTC")) == (4, 30)


def test_required_parameter_is_enforced_when_a_run_is_created(airflow_home: AirflowHome) -> None:
    golden = GOLDEN_DIR / "local" / "ParametersFlow.py"
    module = airflow_home.load(airflow_home.install(golden.name, golden.read_text(encoding="utf-8")))
    with pytest.raises(Exception, match="text"):
        module.dag.test(run_conf={})


def test_pod_arguments_are_a_short_argv(airflow_home: AirflowHome) -> None:
    module = airflow_home.load(GOLDEN_DIR / "kubernetes" / "NestedForeachFlow.py")
    entry = {"index": [1, 2], "iteration": 0, "run_id": "airflow-manual__2026-01-01T00-00-00-00-00-0123abcd"}
    argv = module.flowc_mapped_arguments("cell")(entry)
    assert argv[:8] == [
        "--flow",
        "NestedForeachFlow",
        "--step",
        "cell",
        "--run-id",
        entry["run_id"],
        "--index",
        "1,2",
    ]
    assert argv[argv.index("--control-file") + 1] == "/airflow/xcom/return.json"
    assert len(" ".join(argv).encode()) < 512
    region = airflow_home.load(GOLDEN_DIR / "kubernetes" / "LoopInNestedForeachFlow.py")
    argv = region.flowc_mapped_arguments("loop-work")(entry)
    assert argv[:6] == ["--flow", "LoopInNestedForeachFlow", "--run-id", entry["run_id"], "--entry", "work"]
    assert argv[argv.index("--index") + 1] == "1,2" and argv[argv.index("--iteration") + 1] == "0"
    assert argv[argv.index("--steps") + 1] == "work,decide,after"
    assert region.dag.task_dict["loop-work"].partial_kwargs["cmds"] == [*LAUNCHER, "flowc.task_runner.region"]
    static = module.flowc_pod_arguments("join_rows")
    assert "{{ flowc_run_id(run_id) }}" in static  # rendered by Airflow when the task runs
    assert module.dag.task_dict["start"].cmds == [*LAUNCHER, "flowc.task_runner"]


class RecordedControls:
    """What a task instance's ``xcom_pull`` returns: the control records upstream tasks left."""

    def __init__(self, controls: dict[str, dict]) -> None:
        self.controls = controls

    def xcom_pull(self, task_ids: str) -> dict | None:
        return self.controls.get(task_ids)


def test_pod_argument_templates_render_with_the_dag_macros(airflow_home: AirflowHome) -> None:
    """The {{ ... }} in pod arguments are rendered by Airflow's Jinja environment of the DAG."""
    module = airflow_home.load(GOLDEN_DIR / "kubernetes" / "LoopFlow.py")
    environment = module.dag.get_template_env()
    decide = {"next": ["end"], "next_iteration": 2, "iteration": 2, "task_id": "0.2"}
    context = {
        "run_id": "manual__2026-01-01T00:00:00+00:00",
        "ti": RecordedControls({"loop-work": decide, "start": {"next": ["work"], "next_iteration": 0}}),
        "params": {"rounds": 3},
        "dag_run": SimpleNamespace(conf={"rounds": 3}),
    }

    def render(task_id: str) -> list[str]:
        task = module.dag.task_dict[task_id]
        return [environment.from_string(word).render(**context) for word in task.arguments]

    end = render("end")
    assert end[end.index("--run-id") + 1] == flowc_run_id(context["run_id"])
    assert end[end.index("--iteration") + 1] == "2"  # after the loop's third round
    loop = render("loop-work")
    assert loop[loop.index("--entry") + 1] == "work" and loop[loop.index("--iteration") + 1] == "0"
    start = module.dag.task_dict["start"]
    variables = (
        start.env_vars if isinstance(start.env_vars, dict) else {v.name: v.value for v in start.env_vars}
    )
    parameters = environment.from_string(variables["FLOWC_PARAMETERS"]).render(**context)
    assert kubernetes_env_value(parameters) == '{"rounds": 3}'
    # Values flowc trigger stored in the datastore: their hashes reach the start task, not the values.
    stored = SimpleNamespace(conf={"rounds": "", "$objects": {"rounds": "ab" * 32}})
    template = environment.from_string(variables["FLOWC_PARAMETERS"])
    parameters = template.render(**{**context, "dag_run": stored})
    assert json.loads(kubernetes_env_value(parameters)) == {"$objects": {"rounds": "ab" * 32}, "rounds": 3}
    # A value that reads as a Kubernetes variable reference reaches the task as written.
    odd = {**context, "params": {"rounds": "$(HOME)"}}
    parameters = environment.from_string(variables["FLOWC_PARAMETERS"]).render(**odd)
    assert kubernetes_env_value(parameters, {"HOME": "/root"}) == '{"rounds": "$(HOME)"}'


def kubernetes_env_value(value: str, variables: dict[str, str] | None = None) -> str:
    """What a container sees of env value ``value``: Kubernetes expands ``$(NAME)`` of variables
    defined before it and reads ``$$`` as ``$`` (k8s.io/kubernetes third_party/forked/golang/expansion)."""
    variables = variables or {}
    out, i = [], 0
    while i < len(value):
        if value[i] == "$" and i + 1 < len(value) and value[i + 1] == "$":
            out.append("$")
            i += 2
        elif value.startswith("$(", i) and ")" in value[i:]:
            end = value.index(")", i)
            name = value[i + 2 : end]
            out.append(variables.get(name, value[i : end + 1]))
            i = end + 1
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


class PodTaskInstance(RecordedControls):
    """What building a pod reads of its task instance (labels) besides the control records."""

    def __init__(self, module, task_id: str, map_index: int, controls: dict[str, dict]) -> None:
        super().__init__(controls)
        self.dag_id, self.task_id, self.map_index, self.try_number = module.DAG_ID, task_id, map_index, 1


def pod_of(module, operator, map_index: int = -1, controls: dict[str, dict] | None = None):
    """The V1Pod the operator would create, rendered by Airflow as on a worker (no cluster needed)."""
    context = {
        "run_id": "manual__2026-01-01T00:00:00+00:00",
        "ti": PodTaskInstance(module, operator.task_id, map_index, controls or {}),
        "params": {"size": 3, "label": "x"},
        "dag_run": SimpleNamespace(conf={}),
        "dag": module.dag,
    }
    operator.render_template_fields(context, module.dag.get_template_env())
    return operator.build_pod_request_obj(context, dry_run=True).to_dict()


def test_pod_specs_carry_every_pod_field_of_the_flow(airflow_home: AirflowHome) -> None:
    module = airflow_home.load(GOLDEN_DIR / "kubernetes" / "demo.test.golden.DecoratedFlow.py")
    mapped = module.dag.task_dict["train"]
    entry = {"index": [1], "iteration": 0, "run_id": "airflow-manual__2026-01-01T00-00-00-00-00-1e8dc70c"}
    train = mapped.unmap({"arguments": module.flowc_mapped_arguments("train")(entry)})
    assert (train.retries, train.retry_delay.total_seconds(), train.execution_timeout.total_seconds()) == (
        2, 60, 5 * 60 + TIMEOUT_BACKSTOP_SECONDS,
    )  # fmt: skip
    pod = pod_of(module, train, map_index=1)
    spec, container = pod["spec"], pod["spec"]["containers"][0]  # then the XCom sidecar
    assert container["name"] == "base"
    assert container["image"] == "example.org/train:1.0"
    assert container["resources"] == {
        "claims": None,
        "limits": {"memory": "4096Mi", "nvidia.com/gpu": "1"},
        "requests": {"cpu": "2", "ephemeral-storage": "10240Mi", "memory": "4096Mi"},
    }
    # The pod starts from the code package through the bootstrap, whose text Jinja leaves alone,
    # and knows its @project branch.
    assert container["command"] == [*LAUNCHER, "flowc.task_runner"]
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "ALPHA": "1", "MODE": "fast", BOOTSTRAP_ENV: BOOTSTRAP_SOURCE, BRANCH_ENV: "test.golden",
    }  # fmt: skip
    assert [e["secret_ref"]["name"] for e in container["env_from"]] == ["db-credentials"]
    assert spec["service_account_name"] == "trainer" and spec["node_selector"] == {"pool": "gpu"}
    assert [(t["key"], t["operator"], t["effect"]) for t in spec["tolerations"]] == [
        ("nvidia.com/gpu", "Exists", "NoSchedule")
    ]
    # @kubernetes(shared_memory=2048): a memory-backed /dev/shm of that size.
    volumes = {v["name"]: v["empty_dir"] for v in spec["volumes"]}  # and the XCom sidecar's
    assert volumes["dshm"] == {"medium": "Memory", "size_limit": "2048Mi"}
    mounts = {m["name"]: m["mount_path"] for m in container["volume_mounts"]}
    assert mounts["dshm"] == "/dev/shm"
    assert container["args"][container["args"].index("--index") + 1] == "1"

    join = pod_of(module, module.dag.task_dict["join"], controls={"start": {"iteration": 0}})
    spec, container = join["spec"], join["spec"]["containers"][0]
    assert join["metadata"]["namespace"] == "ml"
    assert [s["name"] for s in spec["image_pull_secrets"]] == ["registry-login"]
    # Values that look like Jinja reach the pod as written: Airflow does not render them.
    assert {e["name"]: e["value"] for e in container["env"]} == {
        "BLOCK": "{% raw %}", "GREETING": "Hello {{ name }}", "NOTE": "{# x #}",
        BOOTSTRAP_ENV: BOOTSTRAP_SOURCE, BRANCH_ENV: "test.golden",
    }  # fmt: skip


OUT_OF_ORDER = """
from flowc import FlowSpec, step


class OutOfOrderFlow(FlowSpec):
    @step
    def end(self):
        pass

    @step
    def join(self, inputs):
        self.total = sum(i.doubled for i in inputs)
        self.next(self.end)

    @step
    def work(self):
        self.doubled = self.input * 2
        self.next(self.join)

    @step
    def start(self):
        self.items = [1, 2]
        self.next(self.work, foreach="items")
"""


@pytest.mark.parametrize("operator", OPERATORS)
def test_a_flow_written_out_of_order_compiles_to_a_dag_that_imports(
    operator: str, airflow_home: AirflowHome, tmp_path: Path
) -> None:
    """Metaflow lets steps be written in any order; the DAG file defines tasks upstream first."""
    flow = tmp_path / "out_of_order_flow.py"
    flow.write_text(OUT_OF_ORDER, encoding="utf-8")
    options = CompileOptions(operator=operator)
    compiled = compile_dag(build_ir(str(flow)), golden_settings(tmp_path), options)
    (tmp_path / compiled.name).write_text(compiled.text, encoding="utf-8")
    module = airflow_home.load(tmp_path / compiled.name)
    assert module.dag.task_dict["work"].upstream_task_ids == {"start", "start-fanout"}
    assert module.dag.task_dict["join"].upstream_task_ids == {"work"}
