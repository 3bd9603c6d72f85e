"""Running compiled state machines on the patched moto server (see :mod:`tests.sfn.harness`).

:func:`sfn_server` starts the server (127.0.0.1, free port, own session, stopped by pid) with
Step Functions execution and Docker-free Batch on; :class:`SfnEngine` creates the Batch queue, a
bucket, and runs one definition to its end.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.servers import free_port, stop_process_group, wait_for_http

__all__ = ["MOTO_CONFIG", "REPO_ROOT", "ROLE_ARN", "SfnEngine", "sfn_server"]

REPO_ROOT = Path(__file__).resolve().parents[2]
FLOWS_DIR = REPO_ROOT / "tests" / "conformance" / "flows"
#: Step Functions executes for real; Batch needs no Docker (ENGINES.md).
MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "batch": {"use_docker": False},
    "lambda": {"use_docker": False},
}
ROLE_ARN = "arn:aws:iam::123456789012:role/flowc-sfn"


@dataclass
class SfnEngine:
    """The patched moto server and what a test needs to run state machines on it."""

    process: subprocess.Popen
    port: int
    log_dir: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> Mapping[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "MOTO_PORT": str(self.port),
        }

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def new_bucket(self) -> str:
        bucket = f"flowc-sfn-{uuid.uuid4().hex[:12]}"
        self.client("s3").create_bucket(Bucket=bucket)
        return bucket

    def job_queue(self, name: str = "flowc") -> str:
        """A Batch job queue (and its compute environment), created once."""
        batch = self.client("batch")
        if batch.describe_job_queues(jobQueues=[name])["jobQueues"]:
            return name
        iam = self.client("iam")
        try:
            role = iam.get_role(RoleName="flowc-batch-service")["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            role = iam.create_role(RoleName="flowc-batch-service", AssumeRolePolicyDocument="{}")["Role"][
                "Arn"
            ]
        environment = batch.create_compute_environment(
            computeEnvironmentName=f"{name}-env", type="UNMANAGED", state="ENABLED", serviceRole=role
        )
        batch.create_job_queue(
            jobQueueName=name,
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[
                {"order": 1, "computeEnvironment": environment["computeEnvironmentArn"]}
            ],
        )
        return name

    def job_definition(self, name: str, environment: Mapping[str, str] | None = None) -> str:
        self.client("batch").register_job_definition(
            jobDefinitionName=name,
            type="container",
            containerProperties={
                "image": "python:3.11-slim",
                "command": ["true"],
                "resourceRequirements": [
                    {"type": "VCPU", "value": "1"},
                    {"type": "MEMORY", "value": "512"},
                ],
                "environment": [{"name": k, "value": v} for k, v in (environment or {}).items()],
            },
        )
        return name

    def deploy_code(self, ir: Any, settings: Any, flow_file: str | Path) -> str:
        """What ``flowc deploy`` puts in place for a state machine to run: the code package in the
        datastore and the flow's job definitions (environment, bootstrap, secrets) as deploy
        registers them. Returns the package's hash, to compile the state machine with."""
        from flowc.backends.sfn.deploy import job_definition_requests
        from flowc.datastore.storage import open_storage
        from flowc.environments.deploy import store_code
        from flowc.package import build_package

        package = build_package(flow_file, settings=settings, ir=ir)
        store_code(open_storage(str(settings["datastore"])), package, ir, settings)
        for request in job_definition_requests(ir, settings):
            self.client("batch").register_job_definition(**request)
        return package.sha

    def run(
        self, definition: str, execution_input: Mapping[str, Any], timeout: float = 240.0
    ) -> tuple[str, dict[str, Any]]:
        """Creates a state machine from ``definition`` and runs one execution to its end.

        Returns:
            ``(run id, describe_execution's answer)``; the run id is ``sfn-<execution name>``.
        """
        sfn = self.client("stepfunctions")
        name = f"flowc-{uuid.uuid4().hex[:10]}"
        arn = sfn.create_state_machine(name=name, definition=definition, roleArn=ROLE_ARN)
        execution_name = f"x{uuid.uuid4().hex[:10]}"
        execution = sfn.start_execution(
            stateMachineArn=arn["stateMachineArn"],
            name=execution_name,
            input=json.dumps(execution_input),
        )
        return f"sfn-{execution_name}", self.wait(execution["executionArn"], timeout)

    def states_entered(self, execution_arn: str) -> list[str]:
        """Names of the states entered, in order (Task, Pass, Choice, Map and Parallel states)."""
        names = []
        for event in self.history(execution_arn):
            details = event.get("stateEnteredEventDetails")
            if details:
                names.append(details["name"])
        return names

    def wait(self, execution_arn: str, timeout: float = 240.0) -> dict[str, Any]:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            described = sfn.describe_execution(executionArn=execution_arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {execution_arn} still running after {timeout} s")
            time.sleep(0.2)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
            events.extend(page["events"])
        return events


def _configure(endpoint: str) -> None:
    import urllib.request

    request = urllib.request.Request(
        f"{endpoint}/moto-api/config",
        data=json.dumps(MOTO_CONFIG).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


@contextlib.contextmanager
def sfn_server(log_dir: Path, cwd: Path = FLOWS_DIR) -> Iterator[SfnEngine]:
    """The patched moto server for the duration of the ``with`` block."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWC_", "AWS_"))}
    engine_env = {
        "MOTO_PORT": str(port),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "FLOWC_TEST_BATCH_CWD": str(cwd),
        "FLOWC_TEST_BATCH_LOG": str(log_dir),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")])),
    }
    env.update(engine_env)
    with open(log_dir / "moto.log", "ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.sfn.harness", "-H", "127.0.0.1", "-p", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO_ROOT,
            start_new_session=True,
        )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/moto-api/", process=process)
        _configure(f"http://127.0.0.1:{port}")
        yield SfnEngine(process, port, log_dir)
    finally:
        stop_process_group(process)
