"""``flowc deploy|undeploy --target airflow``: the DAG file where the scheduler reads it (a local DAGs
folder, or ``s3://bucket/prefix`` synced to the scheduler).

The hooks of :mod:`flowc.backends.deploy` (which holds the sequence, the messages and the exit
codes): deploy writes the DAG file atomically and only when its text changed; undeploy deletes it
(the scheduler then drops the DAG; its past runs stay in Airflow's database and the datastore).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from flowc.backends.airflow.backend import compile_dag
from flowc.backends.airflow.names import dag_id
from flowc.backends.base import CompiledFile
from flowc.backends.deploy import EXIT_CONFIGURATION, Change, DeployError, changed
from flowc.backends.options import CompileOptions, DeployOptions
from flowc.config import Settings
from flowc.ir import FlowIR

__all__ = ["AirflowDeployment", "write_dag_file"]


class AirflowDeployment:
    """The Airflow hooks: the session is the DAGs folder (a path or ``s3://bucket/prefix``)."""

    def connect(self, settings: Settings, options: DeployOptions) -> str:
        folder = options.dags_folder or settings.get("airflow.dags_folder")
        if not folder:
            raise DeployError(
                "give --dags-folder PATH|s3://... or set airflow.dags_folder", EXIT_CONFIGURATION
            )
        return str(folder).rstrip("/")

    def plan(self, ir: FlowIR, settings: Settings, options: CompileOptions, session: str) -> list[Change]:
        compiled = compile_dag(ir, settings, options)
        target = f"{session}/{compiled.name}"
        before = read_dag_file(session, compiled.name, settings)

        def write() -> None:
            try:
                write_dag_file(session, compiled, settings)
            except OSError as exc:  # an unwritable DAGs folder: one line, nothing half-written
                raise DeployError(f"cannot write {target}: {exc.strerror or exc}") from None

        return [changed(f"DAG file {target}", before, compiled.text, write)]

    def removals(self, ir: FlowIR, settings: Settings, options: CompileOptions, session: str) -> list[Change]:
        name = f"{dag_id(ir, settings)}.py"
        before = read_dag_file(session, name, settings)
        if before is None:
            return []
        return [
            Change(
                "delete",
                f"DAG file {session}/{name}",
                before,
                apply=lambda: delete_dag_file(session, name, settings),
            )
        ]


def _s3(folder: str, name: str, settings: Settings) -> tuple[Any, str, str]:
    import boto3

    bucket, _, prefix = folder[len("s3://") :].partition("/")
    key = f"{prefix.strip('/')}/{name}" if prefix.strip("/") else name
    return boto3.client("s3", endpoint_url=settings.get("s3.endpoint_url")), bucket, key


def read_dag_file(folder: str, name: str, settings: Settings) -> str | None:
    """The text of DAG file ``name`` in ``folder``; None if there is none."""
    if folder.startswith("s3://"):
        client, bucket, key = _s3(folder, name, settings)
        try:
            return client.get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        except client.exceptions.NoSuchKey:
            return None
    path = Path(folder) / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def delete_dag_file(folder: str, name: str, settings: Settings) -> None:
    if folder.startswith("s3://"):
        client, bucket, key = _s3(folder, name, settings)
        client.delete_object(Bucket=bucket, Key=key)
        return
    (Path(folder) / name).unlink(missing_ok=True)


def write_dag_file(folder: str, compiled: CompiledFile, settings: Settings) -> bool:
    """Writes the DAG file into ``folder`` atomically (the scheduler never parses half a file).

    Returns:
        False if the file already had exactly this text.
    """
    data = compiled.text.encode("utf-8")
    if folder.startswith("s3://"):
        client, bucket, key = _s3(folder, compiled.name, settings)
        try:
            try:
                if client.get_object(Bucket=bucket, Key=key)["Body"].read() == data:
                    return False
            except client.exceptions.NoSuchKey:
                pass
            client.put_object(Bucket=bucket, Key=key, Body=data)  # one PUT: atomic for readers
        except Exception as exc:  # botocore's errors name the endpoint URL: masked, one line
            from flowc.datastore.storage import StorageError
            from flowc.redact import mask_credentials

            raise StorageError(mask_credentials(f"cannot write s3://{bucket}/{key}: {exc}")) from None
        return True
    target = Path(folder) / compiled.name
    if target.is_file() and target.read_bytes() == data:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    # A hidden name of its own (not *.py: the DAG processor skips it), so two deploys at once
    # never write into one temporary file; the rename is atomic for the scheduler's reads.
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as temporary:
            temporary.write(data)
        os.chmod(name, 0o644)  # mkstemp's 0600 would hide the file from a scheduler of another user
        os.replace(name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    return True
