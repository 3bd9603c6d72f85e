"""`flowc compile --target argo`: golden YAML, validity (strict schema, hera, semantics), determinism,
size independent of fan-out width, short argv, names, refusals."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flowc.backends.argo.backend import compile_flow
from flowc.backends.argo.capabilities import CAPABILITIES
from flowc.backends.argo.lint import schema_problems, semantic_problems
from flowc.backends.options import CompileOptions
from flowc.diagnostics import CompileError
from flowc.frontend import build_ir
from tests.argo.harness import REPO_ROOT, argo_settings
from tests.conformance.matrix import FLOWS_DIR
from tests.helpers.golden import assert_golden

GOLDEN = REPO_ROOT / "tests" / "golden" / "argo"
ARGO_FLOWS = Path(__file__).parent / "flows"
FLOW_FILES = [
    *sorted(FLOWS_DIR.glob("*_flow.py")),
    *sorted(p for p in ARGO_FLOWS.glob("*_flow.py") if p.stem != "refused_flow"),
]
#: Settings of every golden file: production branch (the @project user branch would name the user).
GOLDEN_SETTINGS = {"project.production": True}


def _compile(path: Path, **options) -> list:
    return compile_flow(build_ir(str(path)), argo_settings(**GOLDEN_SETTINGS), CompileOptions(**options))


def _documents(path: Path, **options) -> list[dict]:
    return [yaml.safe_load(f.text) for f in _compile(path, **options)]


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.stem)
def test_golden(path: Path) -> None:
    for compiled in _compile(path):
        assert_golden(GOLDEN / compiled.name, compiled.text)


@pytest.mark.parametrize("path", FLOW_FILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("kind", ["template", "workflow"])
def test_documents_are_valid(path: Path, kind: str) -> None:
    from hera.workflows.models import CronWorkflow, Workflow, WorkflowTemplate

    models = {"Workflow": Workflow, "WorkflowTemplate": WorkflowTemplate, "CronWorkflow": CronWorkflow}
    for document in _documents(path, kind=kind):
        if document["kind"] == "Sensor":  # Argo Events' (hera's models come from its OpenAPI schema)
            import copy

            from hera.events.models import Sensor

            sensor = copy.deepcopy(document)
            # The Workflow the trigger submits: its K8SResource takes any object (its Go
            # UnmarshalJSON keeps the raw JSON), which the OpenAPI model types as bytes.
            source = sensor["spec"]["triggers"][0]["template"]["argoWorkflow"]["source"]
            workflow = source.pop("resource")
            # The model leaves apiVersion and kind out (hera's Sensor class sets them).
            assert (sensor.pop("apiVersion"), sensor.pop("kind")) == ("argoproj.io/v1alpha1", "Sensor")
            Sensor.model_validate(sensor, extra="forbid")
            assert schema_problems(workflow) == []
            Workflow.model_validate(workflow, extra="forbid")
            continue
        assert schema_problems(document) == []
        assert semantic_problems(document) == []
        models[document["kind"]].model_validate(document, extra="forbid")


def test_compiling_twice_in_fresh_interpreters_gives_identical_bytes(tmp_path: Path) -> None:
    outputs = []
    for seed in ("1", "2"):
        target = tmp_path / seed
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO_ROOT)}
        env = {k: v for k, v in env.items() if not k.startswith("FLOWC_")}
        command = [sys.executable, "-m", "flowc", "compile", str(ARGO_FLOWS / "decorated_flow.py")]
        command += ["--target", "argo", "--production", "--datastore", "s3://b/p", "-o", f"{target}/"]
        result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, check=False)
        assert result.returncode == 0, result.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted(target.iterdir())})
    assert outputs[0] == outputs[1]
    assert sorted(outputs[0]) == [
        "demo-project-prod-decoratedflow.cronworkflow.yaml",
        "demo-project-prod-decoratedflow.workflowtemplate.yaml",
    ]
    text = b"".join(outputs[0].values()).decode()
    assert str(tmp_path) not in text and str(REPO_ROOT) not in text


def _flow_with_width(tmp_path: Path, width: int, depth: int) -> Path:
    """A flow with ``depth`` nested foreach levels over ``width`` items each."""
    lines = [
        "from flowc import FlowSpec, step",
        "",
        "",
        "class WideFlow(FlowSpec):",
        "    @step",
        "    def start(self):",
    ]
    lines += [
        f"        self.items = list(range({width}))",
        "        self.next(self.level0, foreach='items')",
        "",
    ]
    for level in range(depth):
        lines += ["    @step", f"    def level{level}(self):", f"        self.items = list(range({width}))"]
        target = f"level{level + 1}" if level + 1 < depth else "leaf"
        lines += [f"        self.next(self.{target}, foreach='items')", ""]
    lines += ["    @step", "    def leaf(self):", "        self.next(self.join0)", ""]
    for level in range(depth + 1):
        following = f"join{level + 1}" if level < depth else "end"
        lines += [
            "    @step",
            f"    def join{level}(self, inputs):",
            f"        self.next(self.{following})",
            "",
        ]
    lines += ["    @step", "    def end(self):", "        pass", ""]
    path = tmp_path / str(width) / "wide_flow.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_document_size_does_not_depend_on_fan_out_width(tmp_path: Path) -> None:
    narrow = _compile(_flow_with_width(tmp_path, 2, depth=2))
    wide = _compile(_flow_with_width(tmp_path, 20_000, depth=2))
    assert [f.text for f in narrow] == [f.text for f in wide]
    # fixed cost: the start task's parameters file (trigger tags), the flowc-resume argument and the
    # start task's FLOWC_RESUME (flowc resume --target argo), the bootstrap's gunzip of the package
    assert len(wide[0].text) < 22_000


def test_every_argv_stays_short_at_any_width(tmp_path: Path) -> None:
    """Container argv with worst-case values substituted (deep 20,000-way index, long names)."""
    worst = {
        "workflow.name": "w" * 63,
        "workflow.parameters.flowc-package": "f" * 64,
        "workflow.parameters.flowc-datastore": "s3://" + "b" * 63 + "/" + "p" * 120,
        "inputs.parameters.index": ",".join(["19999"] * 3),
        "inputs.parameters.iteration": "99999",
        "retries": "9",
        "workflow.status": "Succeeded",
    }
    documents = _documents(_flow_with_width(tmp_path, 20_000, depth=2)) + _documents(
        FLOWS_DIR / "loop_flow.py"
    )
    documents += _documents(ARGO_FLOWS / "decorated_flow.py")
    checked = 0
    for document in documents:
        for template in document["spec"].get("templates", []):
            if "container" not in template:
                continue
            words = [
                re.sub(r"\{\{([^=].*?)\}\}", lambda m: worst[m.group(1)], w)
                for w in template["container"]["args"]
            ]
            assert "{{" not in " ".join(words)
            # The task runner's own argv (issue: under 512 bytes), and the whole command line with
            # the launcher before it (python -c <fixed 50 bytes> or python -m; issue: under 1 KB).
            size = len(" ".join(words).encode())
            assert size < 512, f"{template['name']}: task runner argv of {size} bytes"
            size = len(" ".join(template["container"]["command"] + words).encode())
            assert size < 1024, f"{template['name']}: command line of {size} bytes"
            checked += 1
    assert checked >= 10


def test_decorators_reach_the_pod(tmp_path: Path) -> None:
    template_doc, cron = _documents(ARGO_FLOWS / "decorated_flow.py")
    templates = {t["name"]: t for t in template_doc["spec"]["templates"]}
    train = templates["train"]
    assert train["container"]["image"] == "registry.example.com/ml:1.2"
    assert train["container"]["resources"] == {
        "requests": {"cpu": "2500m", "memory": "8192Mi", "ephemeral-storage": "20480Mi"},
        # Memory is a limit too, on every Kubernetes target (flowc.backends.pod).
        "limits": {"memory": "8192Mi", "nvidia.com/gpu": "1"},
    }
    assert train["retryStrategy"] == {
        "limit": 4,
        "retryPolicy": "Always",
        "backoff": {"duration": "90s", "factor": 1},
    }
    assert train["activeDeadlineSeconds"] == 660
    assert train["nodeSelector"] == {"pool": "gpu"}
    assert train["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert train["serviceAccountName"] == "trainer"
    assert train["container"]["volumeMounts"] == [{"name": "dshm", "mountPath": "/dev/shm"}]
    assert "--attempt" in train["container"]["args"]
    start = templates["start"]["container"]
    assert {"name": "MODE", "value": "train"} in start["env"]
    assert start["envFrom"] == [
        {"secretRef": {"name": "db-credentials"}},
        {"secretRef": {"name": "api-token"}},
    ]
    assert template_doc["spec"]["imagePullSecrets"] == [{"name": "regcred"}]
    assert template_doc["metadata"]["labels"]["flowc.dev/production"] == "true"
    assert cron["spec"]["schedules"] == ["30 2 * * *"] and cron["spec"]["timezone"] == "Europe/Paris"
    assert cron["spec"]["workflowSpec"] == {"workflowTemplateRef": {"name": template_doc["metadata"]["name"]}}


def test_project_branches_name_the_template() -> None:
    from flowc.backends.argo.document import template_name

    ir = build_ir(str(ARGO_FLOWS / "decorated_flow.py"))
    assert (
        template_name(ir, argo_settings(**{"project.production": True})) == "demo-project-prod-decoratedflow"
    )
    assert (
        template_name(ir, argo_settings(**{"project.branch": "feat_x"}))
        == "demo-project-test-feat-x-decoratedflow"
    )
    assert (
        template_name(ir, argo_settings(), environ={"USER": "alice"})
        == "demo-project-user-alice-decoratedflow"
    )


def test_long_names_are_shortened_with_a_stable_hash(tmp_path: Path) -> None:
    source = (FLOWS_DIR / "linear_flow.py").read_text().replace("LinearFlow", "L" + "ong" * 30 + "Flow")
    path = tmp_path / "long_flow.py"
    path.write_text(
        source.replace("from flowc import", "from flowc import schedule,").replace(
            "class L", '@schedule(cron="0 * * * *")\nclass L'
        )
    )
    first = _documents(path)
    assert [len(d["metadata"]["name"]) for d in first] == [63, 52]
    assert all(re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", d["metadata"]["name"]) for d in first)
    assert [d["metadata"]["name"] for d in _documents(path)] == [d["metadata"]["name"] for d in first]


def test_refusals_name_step_line_and_reason() -> None:
    with pytest.raises(CompileError) as caught:
        _compile(ARGO_FLOWS / "refused_flow.py")
    ir = build_ir(str(ARGO_FLOWS / "refused_flow.py"))
    found = {(d.code, d.step, d.line) for d in caught.value.diagnostics}
    assert found == {
        ("argo-secret-name", "start", ir.step("start").location.line),
        ("argo-batch-settings", "end", ir.step("end").location.line),
        ("scheduled-required-parameters", None, ir.schedule.line),  # refused for every target
    }
    assert "argo cannot express this" in str(caught.value)


def test_parameters_reach_start_through_a_file_not_argv() -> None:
    (document,) = _documents(FLOWS_DIR / "parameters_flow.py")
    arguments = {p["name"]: p for p in document["spec"]["arguments"]["parameters"]}
    assert "value" not in arguments["text"]  # required: no default
    assert arguments["count"]["value"] == "2" and arguments["enabled"]["value"] == "False"
    start = next(t for t in document["spec"]["templates"] if t["name"] == "start")
    argv = " ".join(start["container"]["args"])
    assert not any(f"parameters.{name}" in argv for name in ("text", "count", "ratio", "enabled", "config"))
    (artifact,) = start["inputs"]["artifacts"]
    assert artifact["raw"]["data"].startswith("{{=replace(toJson({")


def _first_dag(document: dict, name: str = "main") -> dict:
    return next(t for t in document["spec"]["templates"] if t["name"] == name)["dag"]


def _task(document: dict, name: str, template: str = "main") -> dict:
    return next(t for t in _first_dag(document, template)["tasks"] if t["name"] == name)


def _require_input(document: dict, template: str, name: str) -> None:
    found = next(t for t in document["spec"]["templates"] if t["name"] == template)
    found.setdefault("inputs", {}).setdefault("parameters", []).append({"name": name})


def _use_dependencies(task: dict, names: list[str]) -> None:
    del task["depends"]
    task["dependencies"] = names


MUTATIONS = {
    "dangling dependency": (
        lambda d: _task(d, "end").update(depends="nowhere.Succeeded"),
        "unknown task 'nowhere'",
    ),
    "unknown template": (lambda d: _task(d, "end").update(template="nothing"), "unknown template 'nothing'"),
    "cycle": (lambda d: _task(d, "start").update(depends="end.Succeeded"), "cycle"),
    "unresolved tag": (
        lambda d: _task(d, "end").update(when="{{workflow.parameters.nope}} == x"),
        "workflow.parameters.nope is not declared",
    ),
    "unguarded read of a case that may not run": (
        lambda d: _task(d, "after").update(
            when="{{=jsonpath(tasks['high'].outputs.parameters.control, '$.x') == 1}}"
        ),
        "may not have run",
    ),
    "missing input": (lambda d: _require_input(d, "after", "index"), "input parameter 'index' of 'after'"),
    "template defined twice": (
        lambda d: d["spec"]["templates"].append(dict(d["spec"]["templates"][0])),
        "is defined more than once",
    ),
    "unknown depends result": (
        lambda d: _task(d, "end").update(depends="after.Succeded"),
        "unknown result after.Succeded",
    ),
    "depends mixed with dependencies": (
        lambda d: _use_dependencies(_task(d, "end"), ["after"]),
        "depends and dependencies cannot be used in the same DAG",
    ),
    "unclosed tag": (lambda d: _task(d, "end").update(when="{{=true"), "without a matching"),
    "bad parameter name": (
        lambda d: d["spec"]["arguments"]["parameters"].append({"name": "a.b", "value": "1"}),
        "'a.b' is no parameter name",
    ),
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_semantic_checks_catch(mutation: str) -> None:
    (document,) = _documents(FLOWS_DIR / "switch_flow.py")
    change, expected = MUTATIONS[mutation]
    if mutation == "unguarded read of a case that may not run":
        # give `high` a control output so the only problem left is the unguarded read
        next(t for t in document["spec"]["templates"] if t["name"] == "high")["outputs"] = {
            "parameters": [{"name": "control", "valueFrom": {"path": "/tmp/flowc-control.json"}}]
        }
    change(document)
    problems = semantic_problems(document)
    assert any(expected in p for p in problems), problems


def test_strict_schema_catches_misspellings_and_accepts_integers() -> None:
    (document,) = _documents(FLOWS_DIR / "retry_flow.py")
    assert schema_problems(document) == []
    flaky = next(t for t in document["spec"]["templates"] if t["name"] == "flaky")
    assert isinstance(flaky["retryStrategy"]["limit"], int)
    _task(document, "end")["dependncies"] = ["flaky"]
    assert any("dependncies" in p for p in schema_problems(document))


def test_a_200_step_flow_compiles_without_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from bench.argo.bench import flow_source
    path = tmp_path / "big_flow.py"
    path.write_text(flow_source(200, "flowc", "BigFlow"), encoding="utf-8")

    def no_network(*args, **kwargs):
        raise AssertionError("compile used the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    ir = build_ir(str(path))
    assert len(ir.steps) == 200
    # How fast is measured by bench/argo/bench.py, beside Metaflow, not asserted here.
    (compiled,) = compile_flow(ir, argo_settings(), CompileOptions())
    assert semantic_problems(yaml.safe_load(compiled.text)) == []


def test_callable_defaults_leave_the_value_to_the_start_task(tmp_path: Path) -> None:
    source = (
        (FLOWS_DIR / "switch_flow.py").read_text().replace('default="high"', "default=lambda ctx: 'high'")
    )
    path = tmp_path / "callable_flow.py"
    path.write_text(source)
    text = "\n".join(f.text for f in _compile(path))
    # The argument is empty unless given; the start task gets null and calls the default.
    assert "(workflow.parameters['mode'] == '' ? nil : workflow.parameters['mode'])" in text


def test_ci_example_tests_then_deploys_on_main() -> None:
    workflow = yaml.safe_load((REPO_ROOT / "examples" / "ci" / "argo-deploy.yml").read_text())
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "test" and "refs/heads/main" in deploy["if"]
    commands = [step.get("run", "") for step in deploy["steps"]]
    assert any(
        c.startswith("flowc deploy") and "--target argo" in c and "--dry-run" not in c for c in commands
    )
    assert any("pytest" in step.get("run", "") for step in workflow["jobs"]["test"]["steps"])


def test_a_cron_workflow_with_a_schedule_argo_cannot_parse_is_caught() -> None:
    _, cron = _documents(ARGO_FLOWS / "decorated_flow.py")
    assert semantic_problems(cron) == []
    cron["spec"]["schedules"] = ["0 25 * * *"]
    assert semantic_problems(cron) == ["schedule '0 25 * * *': hour '25' is outside 0-23"]


def _flow_file(tmp_path: Path, header: str, parameters: str = "") -> Path:
    path = tmp_path / "made_flow.py"
    path.write_text(
        "from flowc import FlowSpec, Parameter, schedule, step\n\n"
        f"{header}\n"
        "class MadeFlow(FlowSpec):\n"
        f"{parameters}"
        "    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("learning.rate", "is not an Argo parameter name"),
        ("with space", "is not an Argo parameter name"),
        ("flowc-package", "is taken by the workflow's own parameters"),
    ],
)
def test_parameter_names_argo_rejects_are_refused(tmp_path: Path, name: str, reason: str) -> None:
    """Argo validates parameter names against [-a-zA-Z0-9_]+ (validation_utils.go) and a dotted
    name would split in the expression environment; the flow's own names are taken."""
    path = _flow_file(tmp_path, "", f"    p = Parameter({name!r}, default='x')\n\n")
    with pytest.raises(CompileError) as caught:
        _compile(path)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "argo-parameter-name" and reason in diagnostic.message
    assert diagnostic.line == 5


def test_a_schedule_no_target_could_run_is_refused_before_argo(tmp_path: Path) -> None:
    """The front end checks every @schedule (flowc.frontend.cron), so Argo only ever sees five
    standard fields that its parser (robfig/cron) takes; tests/frontend has the cases."""
    with pytest.raises(CompileError) as caught:
        _compile(_flow_file(tmp_path, '@schedule(cron="61 * * * *")'))
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "bad-decorator" and "outside 0-59" in diagnostic.message


@pytest.mark.parametrize(
    ("cron", "written"),
    [
        ("*/15 0-23/2 1,15 * ?", "*/15 0-23/2 1,15 * *"),
        ("0 1 * JAN-MAR mon-fri", "0 1 * JAN-MAR mon-fri"),
        ("0 0 1 * 0", "0 0 1 * 0"),
        ("0 1 * * 7", "0 1 * * 0"),  # Vixie cron's Sunday: robfig/cron takes only 0
        ("0 10 ? * 2-6 *", "0 10 * * 1-5"),  # EventBridge's Monday to Friday
    ],
)
def test_schedules_argo_parses_compile(tmp_path: Path, cron: str, written: str) -> None:
    _, document = _documents(_flow_file(tmp_path, f'@schedule(cron="{cron}")'))
    assert document["spec"]["schedules"] == [written] and semantic_problems(document) == []


def test_cpu_is_a_kubernetes_quantity_rounded_up_to_the_millicore() -> None:
    from flowc.backends.pod import quantity_cpu

    assert [quantity_cpu(c) for c in (2, 0.5, 2.5, 1.0005, 0.0001, 0.1 + 0.2)] == [
        "2", "500m", "2500m", "1001m", "1m", "300m",
    ]  # fmt: skip


def test_environment_reaches_the_pod_as_written_or_not_at_all() -> None:
    """Kubernetes expands $(NAME) and reduces $$ in env values, so `$` is doubled; a value with
    `{{` is left to the task runner, which sets every @environment variable itself."""
    (document,) = _documents(ARGO_FLOWS / "awkward_values_flow.py")
    start = next(t for t in document["spec"]["templates"] if t["name"] == "start")
    env = {e["name"]: e["value"] for e in start["container"]["env"]}
    assert env["DOLLARS"] == "$$(HOME) $$$$x $$" and "TEMPLATE" not in env


def test_switch_keys_never_end_a_template_tag_early() -> None:
    (document,) = _documents(ARGO_FLOWS / "awkward_values_flow.py")
    whens = [t["when"] for t in _first_dag(document)["tasks"] if "when" in t]
    assert len(whens) == 3
    for when in whens:
        assert when.startswith("{{=") and when.endswith("}}")
        assert "{{" not in when[2:] and "}}" not in when[:-2]
        assert "\n" not in when


_LOOP_LEFT_EARLY = """
class EarlyExitFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.head)

    @step
    def head(self):
        self.k = "x"
        self.next({"x": self.mid, "y": self.end}, condition="k")

    @step
    def mid(self):
        self.j = "done"
        self.next({"again": self.head, "done": self.end}, condition="j")

    @step
    def end(self):
        pass
"""
_NESTED_LOOPS = """
class NestedLoopsFlow(FlowSpec):
    @step
    def start(self):
        self.next(self.outer)

    @step
    def outer(self):
        self.next(self.inner)

    @step
    def inner(self):
        self.k = "done"
        self.next({"again": self.inner, "done": self.back}, condition="k")

    @step
    def back(self):
        self.j = "done"
        self.next({"again": self.outer, "done": self.end}, condition="j")

    @step
    def end(self):
        pass
"""


@pytest.mark.parametrize(
    ("source", "step", "reason"),
    [
        (_LOOP_LEFT_EARLY, "head", "can only be left through 'mid', but 'head' goes on to 'end'"),
        (_NESTED_LOOPS, "inner", "a loop inside the loop of 'outer' (nested loops) is not supported"),
    ],
)
def test_shapes_argo_cannot_express_are_refused_with_step_and_line(
    tmp_path: Path, source: str, step: str, reason: str
) -> None:
    path = tmp_path / "shape_flow.py"
    path.write_text("from flowc import FlowSpec, step\n" + source, encoding="utf-8")
    with pytest.raises(CompileError) as caught:
        _compile(path)
    (diagnostic,) = caught.value.diagnostics
    ir = build_ir(str(path))
    assert (diagnostic.code, diagnostic.step) == ("argo-unsupported-shape", step)
    assert diagnostic.code in CAPABILITIES.limits  # so docs/targets.md's matrix lists it
    assert diagnostic.line == ir.step(step).location.line and reason in diagnostic.message


def test_max_workers_bounds_the_pods_of_a_run() -> None:
    from hera.workflows.models import WorkflowTemplate

    (document,) = _documents(FLOWS_DIR / "wide_foreach_flow.py", max_workers=16)
    assert document["spec"]["parallelism"] == 16
    assert schema_problems(document) == [] and semantic_problems(document) == []
    WorkflowTemplate.model_validate(document, extra="forbid")
    (unbounded,) = _documents(FLOWS_DIR / "wide_foreach_flow.py")
    assert "parallelism" not in unbounded["spec"]


@pytest.mark.parametrize(
    ("decorator", "reason"),
    [
        ('node_selector={"pool type": "gpu"}', "'pool type' is not a label key"),
        ('node_selector={"pool": "a b"}', "'a b' is not a label value"),
        ('tolerations=[{"key": "k", "operator": "Exists", "value": "v"}]', "Exists cannot have a value"),
        ('tolerations=[{"key": "k", "operator": "Sometimes"}]', "operator 'Sometimes' is not one of"),
        ('tolerations=[{"key": "k", "effect": "NoWay"}]', "effect 'NoWay' is not one of"),
        ('service_account="Trainer_SA"', "service_account 'Trainer_SA' is not a Kubernetes name"),
        ('image_pull_secrets=["Reg Cred"]', "image pull secret 'Reg Cred' is not a Secret name"),
        ('image="two words"', "image 'two words' is not an image reference"),
    ],
)
def test_pod_settings_kubernetes_refuses_are_refused_at_compile_time(
    tmp_path: Path, decorator: str, reason: str
) -> None:
    """Each would pass Argo's schema, then fail every attempt when the API server refuses the pod."""
    path = tmp_path / "pod_flow.py"
    path.write_text(
        "from flowc import FlowSpec, kubernetes, step\n\n\nclass PodFlow(FlowSpec):\n"
        f"    @kubernetes({decorator})\n    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n",
        encoding="utf-8",
    )
    with pytest.raises(CompileError) as caught:
        _compile(path)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.step) == ("argo-pod-spec", "start") and reason in diagnostic.message


def test_a_triggered_flow_gets_a_sensor_submitting_its_template_with_the_payload_mapped() -> None:
    template, sensor = _documents(ARGO_FLOWS / "event_trigger_flow.py")
    assert (template["kind"], sensor["kind"]) == ("WorkflowTemplate", "Sensor")
    spec = sensor["spec"]
    assert [(d["eventName"], d["filters"]["data"][0]["value"]) for d in spec["dependencies"]] == [
        ("flowc-event", ["data_ready"]),
        ("flowc-event", ["model_published"]),
    ]
    submit = spec["triggers"][0]["template"]["argoWorkflow"]
    workflow = submit["source"]["resource"]
    assert workflow["spec"]["workflowTemplateRef"] == {"name": template["metadata"]["name"]}
    placeholders = [p["name"] for p in workflow["spec"]["arguments"]["parameters"]]
    template_parameters = {p["name"] for p in template["spec"]["arguments"]["parameters"]}
    assert set(placeholders) <= template_parameters
    mapped = [
        (placeholders[int(p["dest"].split(".")[-2])], p["src"]["dataKey"], p.get("operation"))
        for p in submit["parameters"]
    ]
    assert mapped == [
        ("day", "body.payload.date", None),
        ("table", "body.payload.table", None),
        # each event's body, appended, for current.trigger (a workflow argument, never a command)
        ("flowc-events", "body", "append"),
        ("flowc-events", "body", "append"),
    ]


@pytest.mark.parametrize(("target", "code"), [("sfn", "sfn-several-trigger-events")])
def test_targets_without_event_lowering_refuse_a_trigger_naming_the_line(target: str, code: str) -> None:
    from flowc.backends import load_backend

    backend = load_backend(target)
    ir = build_ir(str(ARGO_FLOWS / "event_trigger_flow.py"))
    settings = argo_settings()
    with pytest.raises(CompileError) as raised:
        backend.compile(ir, settings, CompileOptions())
    (problem,) = [d for d in raised.value.diagnostics if d.code == code]
    assert problem.line == 6
