"""`flowc deploy|trigger --target argo` against a local server speaking the Kubernetes API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

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


def test_deploy_creates_then_leaves_unchanged(kube: FakeKube, tmp_path: Path, capsys) -> None:
    flow = str(FLOWS_DIR / "loop_flow.py")
    assert main(["deploy", flow, "--target", "argo", "--namespace", "team-a"]) == 0
    assert kube.requests == [
        ("GET", f"{BASE}/team-a/workflowtemplates/loopflow"),
        ("POST", f"{BASE}/team-a/workflowtemplates"),
    ]
    assert kube.problems == []
    stored = kube.objects[("workflowtemplates", "team-a", "loopflow")]
    sha = _template_params(stored)["flowc-package"]
    assert sha and (tmp_path / "datastore" / "objects" / sha[:2] / sha).is_file()
    assert "created WorkflowTemplate/loopflow in team-a" in capsys.readouterr().out

    kube.requests.clear()
    assert main(["deploy", flow, "--target", "argo", "--namespace", "team-a"]) == 0
    assert kube.requests == [("GET", f"{BASE}/team-a/workflowtemplates/loopflow")]
    assert "unchanged WorkflowTemplate/loopflow" in capsys.readouterr().out


def test_deploy_updates_with_the_resource_version_it_read(kube: FakeKube, capsys) -> None:
    import yaml

    from flowc.backends.argo.document import build_documents
    from flowc.frontend import build_ir
    from tests.argo.harness import argo_settings

    ir = build_ir(str(FLOWS_DIR / "linear_flow.py"))
    ((_, old),) = build_documents(ir, argo_settings(), {"package_sha": "0" * 64})
    old["spec"]["templates"][0]["container"]["image"] = "python:3.9"
    kube.put_object("workflowtemplates", yaml.safe_load(yaml.safe_dump(old)))
    version = kube.objects[("workflowtemplates", "default", "linearflow")]["metadata"]["resourceVersion"]

    assert main(["deploy", str(FLOWS_DIR / "linear_flow.py"), "--target", "argo"]) == 0
    assert kube.requests == [
        ("GET", f"{BASE}/default/workflowtemplates/linearflow"),
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
    assert kube.objects == {} and not (tmp_path / "datastore" / "objects").exists()


def test_deploy_with_schedule_creates_template_and_cron(kube: FakeKube) -> None:
    assert main(["deploy", str(DECORATED), "--target", "argo", "--production"]) == 0
    assert sorted(kube.objects) == [
        ("cronworkflows", "default", "demo-project-prod-decoratedflow"),
        ("workflowtemplates", "default", "demo-project-prod-decoratedflow"),
    ]
    assert kube.problems == []


def test_trigger_creates_a_workflow_from_the_template(kube: FakeKube, capsys) -> None:
    flow = str(FLOWS_DIR / "parameters_flow.py")
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
    assert main(["trigger", str(FLOWS_DIR / "linear_flow.py"), "--target", "argo", "--wait"]) == code
    assert f": {phase}" in capsys.readouterr().out


@pytest.mark.slow
def test_deploy_uploads_the_package_to_s3(
    kube: FakeKube, s3_root: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowc.datastore.layout import object_key
    from flowc.datastore.storage import open_storage

    monkeypatch.setenv("FLOWC_DATASTORE", s3_root)
    assert main(["deploy", str(FLOWS_DIR / "foreach_flow.py"), "--target", "argo"]) == 0
    stored = kube.objects[("workflowtemplates", "default", "foreachflow")]
    sha = _template_params(stored)["flowc-package"]
    assert _template_params(stored)["flowc-datastore"] == s3_root
    assert open_storage(s3_root).exists(object_key(sha))
