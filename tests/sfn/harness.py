"""moto server with its Step Functions → Batch integration fixed, for running compiled state machines.

moto 5.2.5's port of LocalStack's interpreter stubs out request/response normalisation
(``StateTaskService._normalise_parameters``/``_normalise_response`` are ``pass``), so the PascalCase
keys of a state machine (``JobName``) reach the camelCase Batch API, and an S3 ``GetObject`` body is
never turned into text (../shared/ENGINES.md, "AWS Step Functions (moto)"). This module restores
LocalStack's normalisation (botocore's shapes decide each key's case) for the Batch and AWS-SDK
integrations, after checking each request as the real service would (:mod:`tests.sfn.batch_rules`:
a request AWS would refuse fails the state with ``Batch.ClientException`` here too), and makes
moto's simple (Docker-free) Batch backend run each job's ``ContainerOverrides.Command`` as a local
subprocess with the job definition's and the overrides'
environment; the exit code decides SUCCEEDED/FAILED and ``attemptDurationSeconds`` kills it. A
third fix lets a retried ``.sync`` Batch task poll again instead of timing out (see
:func:`_sync_without_token`). ``StopExecution`` terminates the running jobs of the execution (SIGTERM,
then SIGKILL), as Step Functions asks Batch to for a ``.sync`` task
(https://docs.aws.amazon.com/step-functions/latest/dg/connect-batch.html); a job is the
execution's when its command's ``--run-id`` is ``sfn-<execution name>``.

Run as ``python -m tests.sfn.harness -H 127.0.0.1 -p PORT`` (it then runs moto's own server).
Environment read by the patched backend:
    FLOWC_TEST_BATCH_CWD: the jobs' working directory (where ``--source FLOW.py`` is found).
    FLOWC_TEST_BATCH_LOG: a directory receiving each job's output (``<job id>.log``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from typing import Any

from tests.sfn.batch_rules import request_problems

__all__ = ["install", "main"]


def _operation(service: str, snake_action: str) -> Any:
    import botocore.session
    from botocore import xform_name

    model = botocore.session.get_session().get_service_model(service)
    for name in model.operation_names:
        if xform_name(name) == snake_action:
            return model.operation_model(name)
    raise KeyError(f"{service} has no operation {snake_action}")


def _normalise_parameters(
    self: Any, parameters: dict, boto_service_name=None, service_action_name=None
) -> None:
    operation = _operation(
        self._get_boto_service_name(boto_service_name),
        self._get_boto_service_action(service_action_name),
    )
    if operation.input_shape is not None:
        problems = request_problems(operation, parameters)
        if problems:
            # What the real service answers (HTTP 400), so the state fails as it would on AWS.
            from botocore.exceptions import ClientError

            raise ClientError(
                {
                    "Error": {"Code": "ClientException", "Message": "; ".join(problems)},
                    "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": "flowc-harness"},
                },
                operation.name,
            )
        self._to_boto_request(parameters, operation.input_shape)


def _normalise_response(self: Any, response: Any, boto_service_name=None, service_action_name=None) -> None:
    operation = _operation(
        self._get_boto_service_name(boto_service_name),
        self._get_boto_service_action(service_action_name),
    )
    if operation.output_shape is not None:
        self._from_boto_response(response, operation.output_shape)


def _sync_without_token(original: Any) -> Any:
    """moto keeps one task-token endpoint per Task state and interrupts it when an attempt ends, so
    a Retry's next attempt sees the interrupted endpoint as a callback timeout (States.Timeout
    right after submitting). A ``.sync`` Batch job is never completed by a task token: poll only."""

    def _eval_sync(
        self: Any,
        env: Any,
        sync_resolver: Any,
        timeout_seconds: Any,
        callback_endpoint: Any,
        heartbeat_endpoint: Any,
    ) -> Any:
        return original(self, env, sync_resolver, timeout_seconds, None, heartbeat_endpoint)

    return _eval_sync


class _RunningJobs:
    """Processes of running jobs by the ``--run-id`` of their command (this server's jobs only)."""

    lock = threading.Lock()
    by_run: dict[str, set[subprocess.Popen]] = {}

    @classmethod
    def add(cls, command: list[str], process: subprocess.Popen) -> str | None:
        run_id = command[command.index("--run-id") + 1] if "--run-id" in command[:-1] else None
        if run_id:
            with cls.lock:
                cls.by_run.setdefault(run_id, set()).add(process)
        return run_id

    @classmethod
    def remove(cls, run_id: str | None, process: subprocess.Popen) -> None:
        with cls.lock:
            cls.by_run.get(run_id or "", set()).discard(process)

    @classmethod
    def terminate(cls, run_id: str) -> None:
        with cls.lock:
            processes = list(cls.by_run.get(run_id, ()))
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)


def _stop_with_jobs(original: Any) -> Any:
    def stop(self: Any, stop_date: Any, error: Any, cause: Any) -> None:
        original(self, stop_date, error, cause)
        _RunningJobs.terminate(f"sfn-{self.name}")

    return stop


def _run_job(self: Any, include_start_attempt: bool, job: Any) -> None:
    """Replaces BatchSimpleBackend._mark_job_as_finished: runs the job's command for real."""
    import datetime

    self.backend._jobs[job.job_id] = job
    job.job_started_at = datetime.datetime.now()
    job.log_stream_name = job._stream_name
    if include_start_attempt:
        job._start_attempt()
    overrides = job.container_overrides or {}
    properties = job.job_definition.container_properties or {}
    command = list(overrides.get("command") or properties.get("command") or [])
    if command and command[0] == "python":
        command[0] = sys.executable
    env = dict(os.environ)
    for entry in [*properties.get("environment", []), *overrides.get("environment", [])]:
        env[entry["name"]] = entry["value"]
    env["AWS_BATCH_JOB_ID"] = job.job_id
    timeout = (job.timeout or {}).get("attemptDurationSeconds")
    log_dir = os.environ.get("FLOWC_TEST_BATCH_LOG")
    sink = open(os.path.join(log_dir, f"{job.job_id}.log"), "wb") if log_dir else subprocess.DEVNULL  # noqa: SIM115
    try:
        if sink is not subprocess.DEVNULL:
            sink.write((" ".join(command) + "\n").encode())
            sink.flush()
        process = subprocess.Popen(
            command,
            env=env,
            cwd=os.environ.get("FLOWC_TEST_BATCH_CWD") or None,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        run_id = _RunningJobs.add(command, process)
        try:
            job.exit_code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            job.exit_code = 137
            job.job_stopped_reason = "Job attempt duration exceeded timeout"
        finally:
            _RunningJobs.remove(run_id, process)
    finally:
        if sink is not subprocess.DEVNULL:
            sink.close()
    job._mark_stopped(success=job.exit_code == 0)


def install() -> None:
    """Applies the fixes to moto's classes (in this process)."""
    import importlib

    from moto.batch_simple.models import BatchSimpleBackend

    services = "moto.stepfunctions.parser.asl.component.state.exec.state_task.service"
    aws_sdk = importlib.import_module(f"{services}.state_task_service_aws_sdk").StateTaskServiceAwsSdk
    batch = importlib.import_module(f"{services}.state_task_service_batch").StateTaskServiceBatch

    for service_class in (batch, aws_sdk):
        service_class._normalise_parameters = _normalise_parameters
        service_class._normalise_response = _normalise_response
    batch._eval_sync = _sync_without_token(batch._eval_sync)
    BatchSimpleBackend._mark_job_as_finished = _run_job
    from moto.stepfunctions.parser.backend.execution import Execution

    Execution.stop = _stop_with_jobs(Execution.stop)


def main() -> None:
    install()
    from moto.server import main as moto_main

    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
