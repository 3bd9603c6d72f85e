"""Portable ``@secrets`` under ``flowc run`` (issue 17): env, file, inline and AWS Secrets Manager
(moto) providers, read inside the task; values never in the datastore, logs or `flowc config show`."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.client import Run
from flowc.secret_sources import SecretUnavailable, parse_source, read_secrets
from tests.secrets.flows import secrets_flow

VALUES = {"APP_TOKEN": "tok-3f9a1c7e", "DB_PASSWORD": "pw-77d2b0a1", "FILE_KEY": "fk-a81c44d0"}


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _run(folder: Path, flow_text: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (folder / "flow.py").write_text(flow_text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "flowc", "run", "flow.py", "--datastore", str(folder / "ds")],
        cwd=folder, env={**os.environ, **env}, capture_output=True, text=True,
    )  # fmt: skip


def _everything_stored(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (folder / "ds").rglob("*") if p.is_file())


def _secretsmanager(aws_env) -> object:
    import boto3

    return boto3.client("secretsmanager", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))


def test_providers_set_the_step_environment_and_values_go_nowhere(tmp_path: Path, aws_env) -> None:
    name = f"db-{tmp_path.name}"
    _secretsmanager(aws_env).create_secret(
        Name=name, SecretString=json.dumps({"DB_PASSWORD": VALUES["DB_PASSWORD"]})
    )
    (tmp_path / "secrets.env").write_text(f"FILE_KEY={VALUES['FILE_KEY']}\n", encoding="utf-8")
    sources = [
        "env.APP_TOKEN",
        f"file.{tmp_path / 'secrets.env'}",
        {"type": "aws-secrets-manager", "id": name},
    ]
    done = _run(tmp_path, secrets_flow(sources, sorted(VALUES)), {"APP_TOKEN": VALUES["APP_TOKEN"]})
    assert done.returncode == 0, done.stderr
    run = Run(f"SecretsFlow/{_latest(tmp_path)}", datastore=str(tmp_path / "ds"), _namespace_check=False)
    assert run["start"].task["digests"].data == {k: _digest(v) for k, v in VALUES.items()}
    # Set for the step only: the next step (same process tree) does not see the secrets.
    assert run["end"].task["leaked"].data == ["APP_TOKEN"]  # the runtime's own variable, not a secret
    stored = _everything_stored(tmp_path) + done.stdout.encode() + done.stderr.encode()
    for value in (VALUES["DB_PASSWORD"], VALUES["FILE_KEY"]):
        assert value.encode() not in stored


def test_a_secret_that_cannot_be_read_fails_the_task_naming_the_source(tmp_path: Path, aws_env) -> None:
    done = _run(tmp_path, secrets_flow(["aws-secrets-manager.no-such-secret"], ["X"]), {})
    assert done.returncode != 0
    assert "aws-secrets-manager.no-such-secret" in done.stdout + done.stderr
    assert "ResourceNotFoundException" in done.stdout + done.stderr
    missing = _run(tmp_path, secrets_flow(["env.NOT_SET_ANYWHERE"], ["X"]), {})
    assert missing.returncode != 0 and "env.NOT_SET_ANYWHERE" in missing.stdout + missing.stderr


def _latest(folder: Path) -> str:
    runs = sorted(p.name for p in (folder / "ds" / "runs" / "SecretsFlow").iterdir())
    return runs[-1]


@pytest.mark.parametrize(
    ("text", "provider", "secret_id"),
    [
        ("db-creds", None, "db-creds"),
        ("aws-secrets-manager.db-creds", "aws-secrets-manager", "db-creds"),
        ("kubernetes.app.secret", "kubernetes", "app.secret"),
        ("app.secret", None, "app.secret"),  # not a provider before the dot: a name with a dot
        ('{"type": "env", "id": "X"}', "env", "X"),
    ],
)
def test_sources_are_written_as_in_metaflow(text: str, provider: str | None, secret_id: str) -> None:
    source = parse_source(text)
    assert (source.provider, source.id) == (provider, secret_id)


def test_the_default_provider_reads_bare_names_and_collisions_are_refused() -> None:
    environ = {"TOKEN": "t", "BOTH": json.dumps({"K": "1"}), "ALSO": json.dumps({"K": "2"})}
    assert read_secrets(["TOKEN"], environ, default="env") == (("TOKEN", "t"),)
    assert read_secrets(["TOKEN"], environ, default=None) == ()  # the engine's own store
    with pytest.raises(SecretUnavailable, match=re.escape("env.BOTH and env.ALSO both set K")):
        read_secrets(["env.BOTH", "env.ALSO"], environ)


def test_config_show_lists_the_default_provider_not_values(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "flowc", "config", "show"], cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "FLOWC_SECRETS__DEFAULT_PROVIDER": "env", "APP_TOKEN": VALUES["APP_TOKEN"]},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "secrets.default_provider" in done.stdout and VALUES["APP_TOKEN"] not in done.stdout


def test_a_configured_default_provider_decides_how_every_target_lowers_a_bare_name(tmp_path: Path) -> None:
    """With ``secrets.default_provider = "aws-secrets-manager"`` a bare name is read by the task on
    every target: no pod injects it, no Batch job definition references it, and every task's
    environment names the default."""
    from flowc.backends.airflow import compile_dag
    from flowc.backends.options import CompileOptions
    from flowc.backends.sfn.deploy import job_definition_requests
    from flowc.config import load_settings
    from flowc.frontend import build_ir
    from tests.argo.harness import compile_documents

    flow = tmp_path / "flow.py"
    flow.write_text(secrets_flow(["db-creds"], ["DB_PASSWORD"]), encoding="utf-8")
    ir = build_ir(str(flow))
    default = {"secrets.default_provider": "aws-secrets-manager"}
    argo = json.dumps(compile_documents(flow, datastore="s3://b/p", **default))
    assert "secretRef" not in argo and '"FLOWC_SECRETS__DEFAULT_PROVIDER"' in argo
    settings = load_settings({"datastore": "s3://b/p", **default}, environ={})
    assert all("secrets" not in r["containerProperties"] for r in job_definition_requests(ir, settings))
    dag = compile_dag(ir, settings, CompileOptions(operator="kubernetes")).text
    assert "secret_ref" not in dag and "FLOWC_SECRETS__DEFAULT_PROVIDER" in dag
    # Without a default the bare name stays the engine's own store (a Kubernetes Secret in a pod).
    assert "secretRef" in json.dumps(compile_documents(flow, datastore="s3://b/p"))


@pytest.mark.parametrize(
    ("source", "environ", "code", "hint"),
    [
        ("db-creds", {}, "secrets-no-provider", "secrets.default_provider"),
        ("kubernetes.api-keys", {}, "secrets-kubernetes-without-pod", "env.NAME"),
        ("db-creds", {"FLOWC_SECRETS__DEFAULT_PROVIDER": "vault"}, "secrets-default-provider", "one of"),
    ],
)
def test_a_source_no_local_task_can_read_is_refused_before_the_run(
    tmp_path: Path, source: str, environ: dict[str, str], code: str, hint: str
) -> None:
    """A bare name without a default provider, a Kubernetes Secret (no pod) and an unknown default
    provider: `flowc run` refuses at check time naming file, line, step and source; no run exists."""
    environ = {"FLOWC_SECRETS__DEFAULT_PROVIDER": "", "METAFLOW_DEFAULT_SECRETS_BACKEND_TYPE": "", **environ}
    done = _run(tmp_path, secrets_flow([source], ["X"]), environ)
    assert done.returncode == 2, done.stdout + done.stderr
    assert re.search(rf"flow\.py:\d+: step 'start': @secrets source '{re.escape(source)}'", done.stderr)
    assert f"[{code}]" in done.stderr and hint in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "ds" / "runs").exists()


def test_an_unknown_default_provider_is_refused_by_compile_and_the_local_operator_by_airflow(
    tmp_path: Path,
) -> None:
    (tmp_path / "flow.py").write_text(secrets_flow(["db-creds"], ["X"]), encoding="utf-8")

    def compile_(target: str, *extra: str, **environ: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "flowc", "compile", "flow.py", "--target", target, *extra,
             "--datastore", "s3://b/p", "-o", str(tmp_path / "out")],
            cwd=tmp_path, env={**os.environ, **environ}, capture_output=True, text=True,
        )  # fmt: skip

    for target in ("argo", "sfn", "airflow"):
        done = compile_(target, FLOWC_SECRETS__DEFAULT_PROVIDER="vault")
        assert done.returncode != 0 and "[secrets-default-provider]" in done.stderr, (target, done.stderr)
        assert "step 'start'" in done.stderr and "'vault'" in done.stderr
    local = compile_("airflow", "--operator", "local", FLOWC_SECRETS__DEFAULT_PROVIDER="")
    assert local.returncode != 0 and "[secrets-no-provider]" in local.stderr, local.stderr
    assert "Airflow's local operator" in local.stderr
    # A pod reads the bare name as a Kubernetes Secret: the kubernetes operator takes it.
    assert compile_("airflow", "--operator", "kubernetes", FLOWC_SECRETS__DEFAULT_PROVIDER="").returncode == 0
