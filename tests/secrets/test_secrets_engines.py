"""The same ``@secrets`` flow on every target (issue 17): a Kubernetes Secret injected by the pod
spec (the Argo executor's fake Secrets), AWS Secrets Manager read in the task (moto) on Argo and
Step Functions, env and file sources on Airflow's local operator. Values never reach a document."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from flowc.client import Run
from tests.secrets.flows import secrets_flow
from tests.sfn.fixtures import sfn_engine, sfn_env

__all__ = ["sfn_engine", "sfn_env"]

PASSWORD = "pw-5e1d90c3"
API_KEY = "ak-0b7c6e2f"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _aws_secret(name: str) -> None:
    import boto3

    client = boto3.client("secretsmanager", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    client.create_secret(Name=name, SecretString=json.dumps({"DB_PASSWORD": PASSWORD}))


def test_kubernetes_and_aws_sources_on_the_argo_executor(tmp_path: Path, s3_root: str) -> None:
    from tests.argo.harness import compile_documents, run_flow

    name = f"db-{tmp_path.name}".lower()[:40]
    _aws_secret(name)
    flow = tmp_path / "secrets_flow.py"
    sources = ["kubernetes.api-keys", f"aws-secrets-manager.{name}"]
    flow.write_text(secrets_flow(sources, ["API_KEY", "DB_PASSWORD"]), encoding="utf-8")
    documents = json.dumps(compile_documents(flow, datastore=s3_root))
    assert "api-keys" in documents and PASSWORD not in documents and API_KEY not in documents
    run = run_flow(flow, tmp_path / "work", s3_root, secrets={"api-keys": {"API_KEY": API_KEY}})
    assert run.result.phase == "Succeeded", run.result.message
    flow_run = Run(f"SecretsFlow/{run.run_id}", datastore=s3_root, _namespace_check=False)
    assert flow_run["start"].task["digests"].data == {
        "API_KEY": _digest(API_KEY),
        "DB_PASSWORD": _digest(PASSWORD),
    }


@pytest.mark.slow
def test_aws_source_on_step_functions(sfn_env: Any, tmp_path: Path) -> None:
    from flowc.backends.options import CompileOptions
    from flowc.backends.sfn import BACKEND
    from flowc.backends.sfn.trigger import execution_input
    from flowc.config import load_settings
    from flowc.frontend import build_ir

    name = f"sfn-{tmp_path.name}".lower()[:40]
    _aws_secret(name)
    flow = tmp_path / "secrets_flow.py"
    flow.write_text(secrets_flow([f"aws-secrets-manager.{name}"], ["DB_PASSWORD"]), encoding="utf-8")
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    settings = load_settings({"datastore": datastore}, environ={})
    ir = build_ir(str(flow))
    package_sha = sfn_env.deploy_code(ir, settings, flow)
    definition = BACKEND.compile(ir, settings, CompileOptions(package_sha=package_sha))[0].text
    assert PASSWORD not in definition
    run_id, result = sfn_env.run(definition, execution_input({}, datastore))
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    flow_run = Run(f"SecretsFlow/{run_id}", datastore=datastore, _namespace_check=False)
    assert flow_run["start"].task["digests"].data == {"DB_PASSWORD": _digest(PASSWORD)}


@pytest.fixture(scope="session")
def airflow_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.airflow.engine import session_airflow_home

    return session_airflow_home(request, tmp_path_factory)


@pytest.mark.slow
def test_env_and_file_sources_on_airflow(
    airflow_home: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowc.backends.airflow import compile_dag
    from flowc.backends.options import CompileOptions
    from flowc.config import load_settings
    from flowc.frontend import build_ir

    (tmp_path / "keys.json").write_text(json.dumps({"API_KEY": API_KEY}), encoding="utf-8")
    flow = tmp_path / "secrets_flow.py"
    sources = [f"file.{tmp_path / 'keys.json'}", "env.DB_PASSWORD"]
    flow.write_text(secrets_flow(sources, ["API_KEY", "DB_PASSWORD"]), encoding="utf-8")
    datastore = tmp_path / "datastore"
    settings = load_settings({"datastore": str(datastore)}, start=tmp_path, environ={})
    dag_file = compile_dag(build_ir(str(flow)), settings, CompileOptions(operator="local"))
    assert API_KEY not in dag_file.text and PASSWORD not in dag_file.text
    monkeypatch.setenv("FLOWC_SOURCE", str(flow))
    monkeypatch.setenv("FLOWC_DATASTORE", str(datastore))
    monkeypatch.setenv("DB_PASSWORD", PASSWORD)  # the worker's environment
    result = airflow_home.test(dag_file.name, dag_file.text, {})
    assert result.state == "success", result.task_states
    run_id = result.flowc_run_id
    flow_run = Run(f"SecretsFlow/{run_id}", datastore=str(datastore), _namespace_check=False)
    assert flow_run["start"].task["digests"].data == {
        "API_KEY": _digest(API_KEY),
        "DB_PASSWORD": _digest(PASSWORD),
    }


# ---- local sources and AWS Secrets Manager on the targets that lacked them; values nowhere ------
TOKEN = "tok-91c2e7aa"


def _stored(datastore: str) -> bytes:
    """Every byte the datastore holds (a folder or an S3 root on moto): records, artifacts, logs."""
    if not datastore.startswith("s3://"):
        return b"".join(p.read_bytes() for p in Path(datastore).rglob("*") if p.is_file())
    import boto3

    bucket, _, prefix = datastore[len("s3://") :].partition("/")
    client = boto3.client("s3")  # AWS_ENDPOINT_URL: the moto server
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    return b"".join(client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys)


def test_env_and_file_sources_on_the_argo_executor_and_values_go_nowhere(
    tmp_path: Path, s3_root: str
) -> None:
    from tests.argo.harness import compile_documents, run_flow

    (tmp_path / "keys.env").write_text(f"API_KEY={API_KEY}\n", encoding="utf-8")
    flow = tmp_path / "secrets_flow.py"
    sources = [f"file.{tmp_path / 'keys.env'}", "env.APP_TOKEN"]
    flow.write_text(secrets_flow(sources, ["API_KEY", "APP_TOKEN"]), encoding="utf-8")
    documents = json.dumps(compile_documents(flow, datastore=s3_root))
    assert API_KEY not in documents and TOKEN not in documents
    run = run_flow(flow, tmp_path / "work", s3_root, env={"APP_TOKEN": TOKEN})  # the pod's environment
    assert run.result.phase == "Succeeded", run.result.message
    flow_run = Run(f"SecretsFlow/{run.run_id}", datastore=s3_root, _namespace_check=False)
    assert flow_run["start"].task["digests"].data == {
        "API_KEY": _digest(API_KEY),
        "APP_TOKEN": _digest(TOKEN),
    }
    assert flow_run["end"].task["leaked"].data == [
        "APP_TOKEN"
    ]  # the pod's own variable; API_KEY was the step's
    assert API_KEY.encode() not in _stored(s3_root)


def test_a_secret_that_cannot_be_read_fails_the_argo_task_naming_the_source(
    tmp_path: Path, s3_root: str
) -> None:
    from tests.argo.harness import run_flow

    flow = tmp_path / "secrets_flow.py"
    flow.write_text(secrets_flow(["aws-secrets-manager.no-such-secret"], ["X"]), encoding="utf-8")
    run = run_flow(flow, tmp_path / "work", s3_root)
    assert run.result.phase == "Failed"
    flow_run = Run(f"SecretsFlow/{run.run_id}", datastore=s3_root, _namespace_check=False)
    stderr = flow_run["start"].task.stderr
    assert "aws-secrets-manager.no-such-secret" in stderr and "ResourceNotFoundException" in stderr


@pytest.mark.slow
def test_file_source_on_step_functions(sfn_env: Any, tmp_path: Path) -> None:
    """A ``file.`` source read by the Batch job (a file its container sees: here the harness's
    process, which runs every job; a Batch job's environment cannot be set from a test)."""
    from flowc.backends.options import CompileOptions
    from flowc.backends.sfn import BACKEND
    from flowc.backends.sfn.trigger import execution_input
    from flowc.config import load_settings
    from flowc.frontend import build_ir

    (tmp_path / "token.json").write_text(json.dumps({"APP_TOKEN": TOKEN}), encoding="utf-8")
    flow = _flow_file(tmp_path, [f"file.{tmp_path / 'token.json'}"], ["APP_TOKEN"])
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    settings = load_settings({"datastore": datastore}, environ={})
    ir = build_ir(str(flow))
    package_sha = sfn_env.deploy_code(ir, settings, flow)
    definition = BACKEND.compile(ir, settings, CompileOptions(package_sha=package_sha))[0].text
    assert TOKEN not in definition
    run_id, result = sfn_env.run(definition, execution_input({}, datastore))
    assert result["status"] == "SUCCEEDED", (result.get("error"), result.get("cause"))
    flow_run = Run(f"SecretsFlow/{run_id}", datastore=datastore, _namespace_check=False)
    assert flow_run["start"].task["digests"].data == {"APP_TOKEN": _digest(TOKEN)}
    assert flow_run["end"].task["leaked"].data == []
    assert TOKEN.encode() not in _stored(datastore)


def _flow_file(folder: Path, sources: list, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    flow = folder / "secrets_flow.py"
    flow.write_text(secrets_flow(sources, names), encoding="utf-8")
    return flow


@pytest.mark.slow
def test_aws_source_on_airflow_and_values_go_nowhere(
    airflow_home: Any, aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowc.backends.airflow import compile_dag
    from flowc.backends.options import CompileOptions
    from flowc.config import load_settings
    from flowc.frontend import build_ir

    name = f"af-{tmp_path.name}".lower()[:40]
    _aws_secret(name)
    flow = _flow_file(tmp_path, [f"aws-secrets-manager.{name}"], ["DB_PASSWORD"])
    datastore = tmp_path / "datastore"
    settings = load_settings({"datastore": str(datastore)}, start=tmp_path, environ={})
    dag_file = compile_dag(build_ir(str(flow)), settings, CompileOptions(operator="local"))
    assert PASSWORD not in dag_file.text
    monkeypatch.setenv("FLOWC_SOURCE", str(flow))
    monkeypatch.setenv("FLOWC_DATASTORE", str(datastore))
    result = airflow_home.test(dag_file.name, dag_file.text, {})
    assert result.state == "success", result.task_states
    flow_run = Run(f"SecretsFlow/{result.flowc_run_id}", datastore=str(datastore), _namespace_check=False)
    assert flow_run["start"].task["digests"].data == {"DB_PASSWORD": _digest(PASSWORD)}
    assert PASSWORD.encode() not in _stored(str(datastore))


@pytest.mark.slow
def test_a_secret_that_cannot_be_read_fails_the_step_functions_task_naming_the_source(
    sfn_env: Any, tmp_path: Path
) -> None:
    from flowc.backends.options import CompileOptions
    from flowc.backends.sfn import BACKEND
    from flowc.backends.sfn.trigger import execution_input
    from flowc.config import load_settings
    from flowc.frontend import build_ir

    flow = _flow_file(tmp_path, ["aws-secrets-manager.no-such-secret"], ["X"])
    datastore = f"s3://{sfn_env.new_bucket()}/datastore"
    settings = load_settings({"datastore": datastore}, environ={})
    ir = build_ir(str(flow))
    package_sha = sfn_env.deploy_code(ir, settings, flow)
    definition = BACKEND.compile(ir, settings, CompileOptions(package_sha=package_sha))[0].text
    run_id, result = sfn_env.run(definition, execution_input({}, datastore))
    assert result["status"] == "FAILED"
    flow_run = Run(f"SecretsFlow/{run_id}", datastore=datastore, _namespace_check=False)
    stderr = flow_run["start"].task.stderr
    assert "aws-secrets-manager.no-such-secret" in stderr and "ResourceNotFoundException" in stderr


@pytest.mark.slow
def test_a_secret_that_cannot_be_read_fails_the_airflow_task_naming_the_source(
    airflow_home: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flowc.backends.airflow import compile_dag
    from flowc.backends.options import CompileOptions
    from flowc.config import load_settings
    from flowc.frontend import build_ir

    flow = _flow_file(tmp_path, ["env.NOT_SET_ON_THE_WORKER"], ["X"])
    datastore = tmp_path / "datastore"
    settings = load_settings({"datastore": str(datastore)}, start=tmp_path, environ={})
    dag_file = compile_dag(build_ir(str(flow)), settings, CompileOptions(operator="local"))
    monkeypatch.setenv("FLOWC_SOURCE", str(flow))
    monkeypatch.setenv("FLOWC_DATASTORE", str(datastore))
    monkeypatch.delenv("NOT_SET_ON_THE_WORKER", raising=False)
    result = airflow_home.test(dag_file.name, dag_file.text, {})
    assert result.state == "failed"
    flow_run = Run(f"SecretsFlow/{result.flowc_run_id}", datastore=str(datastore), _namespace_check=False)
    assert "env.NOT_SET_ON_THE_WORKER" in flow_run["start"].task.stderr
