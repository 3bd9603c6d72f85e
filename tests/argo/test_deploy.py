"""`flowc deploy|trigger --target argo` against a local server speaking the Kubernetes API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flowc.backends.argo.kube import PLURALS
from flowc.backends.options import CompileOptions
from flowc.cli import main
from tests.argo.fake_kube import FakeKube, fake_kube
from tests.conformance.matrix import FLOWS_DIR

DECORATED = Path(__file__).parent / "flows" / "decorated_flow.py"
BASE = "/apis/argoproj.io/v1alpha1/namespaces"


@pytest.fixture
def kube(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKube]:
    with fake_kube() as server:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("FLOWC_KUBERNETES__API_SERVER", server.url)
        monkeypatch.setenv("FLOWC_KUBERNETES__TOKEN", server.token)
        monkeypatch.setenv("FLOWC_DATASTORE", str(tmp_path / "datastore"))
        yield server


def _template_params(obj: dict) -> dict[str, str | None]:
    return {p["name"]: p.get("value") for p in obj["spec"]["arguments"]["parameters"]}


def _seed(kube: FakeKube, flow: Path, **settings) -> list[dict]:
    """Puts ``flow``'s compiled objects on the server, as an earlier deploy would have."""
    import json

    from flowc.backends.argo.document import build_documents
    from flowc.frontend import build_ir
    from tests.argo.harness import argo_settings

    options = CompileOptions(package_sha="0" * 64)
    built = build_documents(build_ir(str(flow)), argo_settings(**settings), options)
    documents = [document for _, document in built]
    for document in documents:
        kube.put_object(PLURALS[document["kind"]], json.loads(json.dumps(document)))
    return documents


def test_deploy_creates_then_leaves_unchanged(kube: FakeKube, tmp_path: Path, capsys) -> None:
    flow = str(FLOWS_DIR / "loop_flow.py")
    assert main(["deploy", flow, "--target", "argo", "--namespace", "team-a"]) == 0
    assert kube.requests == [  # everything is read first (the plan), then changed
        ("GET", f"{BASE}/team-a/workflowtemplates/loopflow"),
        ("GET", f"{BASE}/team-a/cronworkflows/loopflow"),  # none left from an earlier @schedule
        ("POST", f"{BASE}/team-a/workflowtemplates"),
    ]
    assert kube.problems == []
    stored = kube.objects[("workflowtemplates", "team-a", "loopflow")]
    sha = _template_params(stored)["flowc-package"]
    assert sha and (tmp_path / "datastore" / "packages" / sha / "code.tar.gz").is_file()
    assert "created WorkflowTemplate/loopflow in team-a" in capsys.readouterr().out

    kube.requests.clear()
    assert main(["deploy", flow, "--target", "argo", "--namespace", "team-a"]) == 0
    assert kube.requests == [
        ("GET", f"{BASE}/team-a/workflowtemplates/loopflow"),
        ("GET", f"{BASE}/team-a/cronworkflows/loopflow"),
    ]
    assert "unchanged WorkflowTemplate/loopflow" in capsys.readouterr().out


def test_deploy_updates_with_the_resource_version_it_read(kube: FakeKube, capsys) -> None:
    import json

    from flowc.backends.argo.document import build_documents
    from flowc.frontend import build_ir
    from tests.argo.harness import argo_settings

    ir = build_ir(str(FLOWS_DIR / "linear_flow.py"))
    ((_, old),) = build_documents(ir, argo_settings(), CompileOptions(package_sha="0" * 64))
    old["spec"]["templates"][0]["container"]["image"] = "python:3.9"
    kube.put_object("workflowtemplates", json.loads(json.dumps(old)))  # as the server stores it
    version = kube.objects[("workflowtemplates", "default", "linearflow")]["metadata"]["resourceVersion"]

    assert main(["deploy", str(FLOWS_DIR / "linear_flow.py"), "--target", "argo"]) == 0
    assert kube.requests == [
        ("GET", f"{BASE}/default/workflowtemplates/linearflow"),
        ("GET", f"{BASE}/default/cronworkflows/linearflow"),
        ("PUT", f"{BASE}/default/workflowtemplates/linearflow"),
    ]
    assert kube.problems == []
    stored = kube.objects[("workflowtemplates", "default", "linearflow")]
    assert int(stored["metadata"]["resourceVersion"]) > int(version)
    assert stored["metadata"]["uid"] != "" and "python:3.9" not in str(stored["spec"])
    assert "updated WorkflowTemplate/linearflow in default" in capsys.readouterr().out


def test_dry_run_prints_the_diff_and_changes_nothing(kube: FakeKube, tmp_path: Path, capsys) -> None:
    flow = str(DECORATED)
    assert main(["deploy", flow, "--target", "argo", "--production", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would create WorkflowTemplate/demo-project-prod-decoratedflow in default" in out
    assert "would create CronWorkflow/demo-project-prod-decoratedflow in default" in out
    assert "+  schedules:" in out and '+    - "30 2 * * *"' in out
    assert [verb for verb, _ in kube.requests] == ["GET", "GET"]
    assert kube.objects == {} and not (tmp_path / "datastore" / "packages").exists()


def test_deploy_with_schedule_creates_template_and_cron(kube: FakeKube) -> None:
    assert main(["deploy", str(DECORATED), "--target", "argo", "--production"]) == 0
    assert sorted(kube.objects) == [
        ("cronworkflows", "default", "demo-project-prod-decoratedflow"),
        ("workflowtemplates", "default", "demo-project-prod-decoratedflow"),
    ]
    assert kube.problems == []


def test_trigger_creates_a_workflow_from_the_template(kube: FakeKube, capsys) -> None:
    flow = str(FLOWS_DIR / "parameters_flow.py")
    _seed(kube, FLOWS_DIR / "parameters_flow.py")
    assert (
        main(["trigger", flow, "--target", "argo", "--param", "text", "hi 'there'", "--count", "3"])
        == 0
    )
    ((key, workflow),) = [(k, v) for k, v in kube.objects.items() if k[0] == "workflows"]
    assert workflow["spec"] == {
        "workflowTemplateRef": {"name": "parametersflow"},
        "arguments": {
            "parameters": [{"name": "count", "value": "3"}, {"name": "text", "value": "hi 'there'"}]
        },
    }
    assert key[2].startswith("parametersflow-")
    assert f"run id argo-{key[2]}" in capsys.readouterr().out
    assert main(["trigger", flow, "--target", "argo", "--param", "nope", "1"]) == 2
    assert main(["trigger", flow, "--target", "argo", "--nope", "1"]) == 2


def test_trigger_stores_large_values_in_the_datastore(kube: FakeKube, tmp_path: Path) -> None:
    """Megabytes from --params-file reach the run through the datastore, not the Workflow object."""
    import json

    from flowc.datastore.objects import ObjectStore
    from flowc.datastore.storage import open_storage
    from tests.conformance.matrix import LARGE_CONFIG

    config = json.dumps(LARGE_CONFIG)
    _seed(kube, FLOWS_DIR / "parameters_flow.py")
    params_file = tmp_path / "params.json"
    params_file.write_text(json.dumps({"text": "small", "config": config, "count": 4}))
    flow = str(FLOWS_DIR / "parameters_flow.py")
    assert main(["trigger", flow, "--target", "argo", "--params-file", str(params_file), "--count", "5"]) == 0
    ((_, workflow),) = [(k, v) for k, v in kube.objects.items() if k[0] == "workflows"]
    arguments = _template_params(workflow)
    assert len(json.dumps(workflow)) < 2_000
    assert arguments["text"] == "small" and arguments["count"] == "5" and arguments["config"] == ""
    sha = json.loads(arguments["flowc-parameter-objects"])["config"]
    stored = ObjectStore(open_storage(str(tmp_path / "datastore"))).get(sha)
    assert json.loads(bytes(stored)) == config


def test_failures_exit_non_zero(kube: FakeKube, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    flow = str(FLOWS_DIR / "linear_flow.py")
    monkeypatch.setenv("FLOWC_KUBERNETES__TOKEN", "wrong")
    assert main(["deploy", flow, "--target", "argo"]) == 1
    assert "HTTP 401" in capsys.readouterr().err
    monkeypatch.delenv("FLOWC_KUBERNETES__API_SERVER")
    assert main(["deploy", flow, "--target", "argo"]) == 2
    assert "no Kubernetes API server" in capsys.readouterr().err


@pytest.mark.parametrize(("phase", "code"), [("Succeeded", 0), ("Failed", 1)])
def test_trigger_wait_exit_code_is_the_run_outcome(kube: FakeKube, phase: str, code: int, capsys) -> None:
    kube.workflow_phase = phase
    _seed(kube, FLOWS_DIR / "linear_flow.py")
    assert main(["trigger", str(FLOWS_DIR / "linear_flow.py"), "--target", "argo", "--wait"]) == code
    assert f": {phase}" in capsys.readouterr().out


@pytest.mark.slow
def test_deploy_uploads_the_package_to_s3(
    kube: FakeKube, s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowc.datastore.layout import package_key
    from flowc.datastore.storage import open_storage

    monkeypatch.setenv("FLOWC_DATASTORE", s3_root)
    assert main(["deploy", str(FLOWS_DIR / "foreach_flow.py"), "--target", "argo"]) == 0
    stored = kube.objects[("workflowtemplates", "default", "foreachflow")]
    sha = _template_params(stored)["flowc-package"]
    assert _template_params(stored)["flowc-datastore"] == s3_root
    assert open_storage(s3_root).exists(package_key(sha))


def test_deploy_deletes_the_cron_of_a_flow_that_lost_its_schedule(kube: FakeKube, capsys) -> None:
    """A CronWorkflow left behind would go on starting runs of the old schedule."""
    (template, cron) = _seed(kube, DECORATED, **{"project.production": True})
    source = DECORATED.read_text().replace('@schedule(cron="30 2 * * *", timezone="Europe/Paris")\n', "")
    unscheduled = Path("decorated_flow.py")  # in the test's working directory
    unscheduled.write_text(source)
    cron_path = f"{BASE}/default/cronworkflows/{cron['metadata']['name']}"

    assert main(["deploy", str(unscheduled), "--target", "argo", "--production", "--dry-run"]) == 0
    assert "would delete CronWorkflow/demo-project-prod-decoratedflow in default" in capsys.readouterr().out
    assert ("cronworkflows", "default", cron["metadata"]["name"]) in kube.objects

    assert main(["deploy", str(unscheduled), "--target", "argo", "--production"]) == 0
    assert ("DELETE", cron_path) in kube.requests and kube.problems == []
    assert ("cronworkflows", "default", cron["metadata"]["name"]) not in kube.objects
    assert "deleted CronWorkflow/demo-project-prod-decoratedflow in default" in capsys.readouterr().out
    assert ("workflowtemplates", "default", template["metadata"]["name"]) in kube.objects


def test_deploy_leaves_a_cron_it_did_not_make_alone(kube: FakeKube, capsys) -> None:
    kube.put_object(
        "cronworkflows",
        {"metadata": {"name": "linearflow", "namespace": "default", "labels": {"team": "other"}}, "spec": {}},
    )
    assert main(["deploy", str(FLOWS_DIR / "linear_flow.py"), "--target", "argo"]) == 0
    assert not any(verb == "DELETE" for verb, _ in kube.requests)
    assert "left CronWorkflow/linearflow in default alone" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("verb", "plural", "code", "reason", "message"),
    [
        ("POST", "workflowtemplates", 403, "Forbidden", 'workflowtemplates is forbidden: User "ci"'),
        ("PUT", "workflowtemplates", 409, "Conflict", "the object has been modified"),
        ("POST", "workflowtemplates", 422, "Invalid", "spec.templates[0].name: Invalid value"),
        ("GET", "workflowtemplates", 403, "Forbidden", "cannot get resource workflowtemplates"),
    ],
)
def test_api_errors_end_the_deploy_with_the_servers_message(
    kube: FakeKube, capsys, verb: str, plural: str, code: int, reason: str, message: str
) -> None:
    flow = FLOWS_DIR / "linear_flow.py"
    if verb == "PUT":
        (template,) = _seed(kube, flow)
        template["spec"]["templates"][0]["container"]["image"] = "old"
        kube.put_object("workflowtemplates", template)
    kube.refuse[(verb, plural)] = (code, reason, message)
    assert main(["deploy", str(flow), "--target", "argo"]) == 1
    err = capsys.readouterr().err
    assert f"HTTP {code}: {message}" in err and "Traceback" not in err


def test_an_answer_that_is_not_json_is_a_clear_error(tmp_path: Path, monkeypatch, capsys) -> None:
    """A proxy or login page between CI and the API server answers 200 with HTML."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Html(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>please log in</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Html)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("FLOWC_KUBERNETES__API_SERVER", f"http://127.0.0.1:{server.server_address[1]}")
        monkeypatch.setenv("FLOWC_DATASTORE", str(tmp_path / "datastore"))
        assert main(["deploy", str(FLOWS_DIR / "linear_flow.py"), "--target", "argo", "--dry-run"]) == 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
    err = capsys.readouterr().err
    assert "did not answer with JSON" in err and "please log in" in err and "Traceback" not in err


def test_trigger_needs_a_deployed_template(kube: FakeKube, capsys) -> None:
    assert main(["trigger", str(FLOWS_DIR / "linear_flow.py"), "--target", "argo"]) == 1
    assert "no WorkflowTemplate 'linearflow' in default: run `flowc deploy --target argo` first" in (
        capsys.readouterr().err
    )
    assert not any(verb == "POST" for verb, _ in kube.requests)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--count", "3"], "parameter 'text' is required but no value was given"),
        (["--text", "x", "--count", "three"], "'three' is not a valid int"),
        (["--text", "x", "--config", "{not json"], "is not a valid json"),
        (["--text", "x", "--enabled", "maybe"], "is not a valid bool"),
    ],
)
def test_trigger_checks_parameters_before_starting_anything(
    kube: FakeKube, capsys, argv: list[str], expected: str
) -> None:
    _seed(kube, FLOWS_DIR / "parameters_flow.py")
    assert main(["trigger", str(FLOWS_DIR / "parameters_flow.py"), "--target", "argo", *argv]) == 2
    assert expected in capsys.readouterr().err
    assert not any(key[0] == "workflows" for key in kube.objects)


def test_trigger_by_name_checks_names_against_the_deployed_template(kube: FakeKube, capsys) -> None:
    _seed(kube, FLOWS_DIR / "parameters_flow.py")
    assert main(["trigger", "ParametersFlow", "--target", "argo", "--text", "x", "--nope", "1"]) == 2
    err = capsys.readouterr().err
    assert "has no parameter(s) nope" in err and "config, count, enabled, ratio, text" in err
    assert main(["trigger", "ParametersFlow", "--target", "argo", "--text", "x"]) == 0


def test_trigger_hands_awkward_values_to_the_workflow_unchanged(kube: FakeKube) -> None:
    from tests.conformance.matrix import AWKWARD_TEXT

    _seed(kube, FLOWS_DIR / "parameters_flow.py")
    value = AWKWARD_TEXT + " {{workflow.name}} {{=1+1}} --count 9 {{"
    config = '{"a": "{{b}}", "c": [1, "$(HOME)"]}'
    assert main(["trigger", str(FLOWS_DIR / "parameters_flow.py"), "--target", "argo",
                 "--text", value, "--config", config]) == 0  # fmt: skip
    ((_, workflow),) = [(k, v) for k, v in kube.objects.items() if k[0] == "workflows"]
    assert _template_params(workflow) == {"text": value, "config": config}


def test_trigger_wait_fails_when_the_workflow_disappears(kube: FakeKube, monkeypatch, capsys) -> None:
    """A Workflow deleted while trigger waits (by a person, or a TTL) ends the wait with exit 1."""
    import time

    _seed(kube, FLOWS_DIR / "linear_flow.py")

    def deleted_meanwhile(seconds: float) -> None:
        for key in [k for k in kube.objects if k[0] == "workflows"]:
            del kube.objects[key]

    monkeypatch.setattr(time, "sleep", deleted_meanwhile)
    assert main(["trigger", str(FLOWS_DIR / "linear_flow.py"), "--target", "argo", "--wait"]) == 1
    assert "was deleted before it finished" in capsys.readouterr().err


def test_a_deployed_run_is_in_its_production_namespace_with_its_tags(
    kube: FakeKube, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """deploy --tag then trigger --tag through the CLI; the Workflow trigger created runs on the
    Argo executor: the run carries both tags, production:<token>, the engine as its user and who
    deployed it; only namespace(None) and its production namespace list it."""
    import os
    import sys

    from flowc.client import Flow, Run, namespace
    from tests.argo.executor import ArgoExecutor

    datastore = str(tmp_path / "datastore")
    monkeypatch.setenv("FLOWC_USER", "alice")
    flow = str(FLOWS_DIR / "linear_flow.py")
    assert main(["deploy", flow, "--target", "argo", "--tag", "nightly"]) == 0
    token = capsys.readouterr().out.splitlines()[-1].split()[2].rstrip(":")
    assert main(["trigger", flow, "--target", "argo", "--tag", "ad hoc"]) == 0
    template = kube.objects[("workflowtemplates", "default", "linearflow")]
    ((_, _, name), workflow) = next((k, v) for k, v in kube.objects.items() if k[0] == "workflows")
    arguments = {p["name"]: p["value"] for p in workflow["spec"]["arguments"]["parameters"]}
    executor = ArgoExecutor(
        template,
        workdir=tmp_path / "pods",
        workflow_name=name,
        arguments=arguments,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "USER": "root"},
        command=lambda argv: [sys.executable, *argv[1:]] if argv[0] == "python" else argv,
    )
    assert executor.run().phase == "Succeeded"

    run = Run(f"LinearFlow/argo-{name}", datastore=datastore, _namespace_check=False)
    assert run.user_tags == {"nightly", "ad hoc"}
    assert {f"production:{token}", "user:argo-workflows", "runtime:argo-workflows"} <= run.system_tags
    assert run._record["deployed_by"] == "alice"
    assert [r.id for r in Flow("LinearFlow", datastore=datastore)] == []  # default: user:alice
    namespace(None)
    assert [r.id for r in Flow("LinearFlow", datastore=datastore)] == [f"argo-{name}"]
    namespace(f"production:{token}")
    assert [r.id for r in Flow("LinearFlow", datastore=datastore)] == [f"argo-{name}"]
