"""Credentials in URLs are masked wherever flowc prints or stores text (issue 19 item 14).

An S3 endpoint given as ``http://user:PASSWORD@host`` (behind a proxy that resets connections, so
that retry lines naming the endpoint are printed) and an API server URL with a password: every
output of ``flowc run``, ``flowc logs``, ``flowc trigger --target argo`` and ``flowc config show``,
every object stored in the bucket and every file written locally is searched for the password.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3

from tests.helpers.servers import MotoServer
from tests.remote.flaky_proxy import flaky_proxy

REPO = Path(__file__).resolve().parents[2]
SECRET = "S3CRETpw" + uuid.uuid4().hex[:8]

FLOW = """\
from flowc import FlowSpec, step


class SecretFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range(4))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        print("working on", self.input)
        self.value = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.value for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)
"""


def _flowc(*args: str, env: dict[str, str], cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flowc", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )
    return result.stdout + result.stderr


def _env(moto: MotoServer, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWC_")}
    env.update(moto.env)
    env.pop("AWS_ENDPOINT_URL", None)  # the flowc setting is the only way to the endpoint
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(settings)
    return env


def test_no_output_and_no_stored_file_holds_a_url_password(moto: MotoServer, tmp_path: Path) -> None:
    bucket = f"flowc-secret-{uuid.uuid4().hex[:8]}"
    direct = boto3.client("s3", endpoint_url=moto.endpoint, **_keys(moto))
    direct.create_bucket(Bucket=bucket)
    (tmp_path / "secret_flow.py").write_text(FLOW, encoding="utf-8")
    outputs = []
    with flaky_proxy(moto.endpoint, reset_every=4) as proxy:
        endpoint = proxy.endpoint.replace("http://", f"http://flowcuser:{SECRET}@")
        env = _env(moto, FLOWC_S3__ENDPOINT_URL=endpoint, FLOWC_DATASTORE=f"s3://{bucket}/ds")
        run = _flowc("run", "secret_flow.py", "--run-id-file", "run_id", env=env, cwd=tmp_path)
        outputs.append(run)
        assert "total 12" in run, run
        assert f"flowcuser:{'*' * 6}@" in run  # the retries named the endpoint, masked
        run_id = (tmp_path / "run_id").read_text().strip()
        outputs.append(_flowc("logs", f"SecretFlow/{run_id}/end/0", env=env, cwd=tmp_path))
        outputs.append(_flowc("config", "show", env=env, cwd=tmp_path))
    # The endpoint unreachable: every attempt fails, then the error line.
    dead = _env(
        moto,
        FLOWC_S3__ENDPOINT_URL=f"http://flowcuser:{SECRET}@127.0.0.1:1",
        FLOWC_S3__RETRY_SECONDS="1",
        FLOWC_DATASTORE=f"s3://{bucket}/ds",
    )
    outputs.append(_flowc("run", "secret_flow.py", env=dead, cwd=tmp_path))
    outputs.append(_flowc("runs", "SecretFlow", env=dead, cwd=tmp_path))
    # An Argo API server URL with a password, unreachable.
    argo = _env(moto, FLOWC_KUBERNETES__API_SERVER=f"http://admin:{SECRET}@127.0.0.1:1")
    outputs.append(_flowc("trigger", "SecretFlow", "--target", "argo", env=argo, cwd=tmp_path))
    assert "127.0.0.1:1" in outputs[-1]

    for output in outputs:
        assert SECRET not in output, output
    stored = direct.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert any(o["Key"].endswith(".stderr") or o["Key"].endswith(".stdout") for o in stored)
    for listed in stored:
        body = direct.get_object(Bucket=bucket, Key=listed["Key"])["Body"].read()
        assert SECRET.encode() not in body, listed["Key"]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def _keys(moto: MotoServer) -> dict[str, str]:
    return {"aws_access_key_id": moto.env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": "testing"}
