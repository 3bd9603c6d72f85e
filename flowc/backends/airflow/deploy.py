"""``flowc deploy --target airflow``: upload the code package, then write the DAG file where the
scheduler reads it (a local DAGs folder, or ``s3://bucket/prefix`` synced to the scheduler)."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowc.backends.airflow.backend import compile_dag, operator_of
from flowc.backends.base import CompiledFile
from flowc.config import Settings
from flowc.diagnostics import CompileError
from flowc.ir import FlowIR

__all__ = ["deploy", "write_dag_file"]


def deploy(ir: FlowIR, settings: Settings, options: Mapping[str, Any]) -> int:
    """Deploys ``ir``; returns 0, 1 (the flow cannot be compiled or packaged) or 2 (no DAGs folder)."""
    from flowc.package import PackageError, build_package

    folder = options.get("dags_folder") or settings.get("airflow.dags_folder")
    if not folder:
        print("flowc: give --dags-folder PATH|s3://... or set airflow.dags_folder", file=sys.stderr)
        return 2
    dry_run = bool(options.get("dry_run"))
    flow_file = Path(options.get("flow") or ir.source_file)
    datastore = str(settings.get("datastore"))
    try:
        package = build_package(flow_file, settings=settings)
        compiled = compile_dag(ir, settings, operator_of(settings, options), package.sha)
    except (CompileError, PackageError) as exc:
        print(exc, file=sys.stderr)
        return 1
    target = f"{str(folder).rstrip('/')}/{compiled.name}"
    if dry_run:
        print(f"would upload code package {package.sha} ({package.size} bytes) to {datastore}")
        print(f"would write {target}")
        return 0
    from flowc.datastore.storage import open_storage
    from flowc.environments.deploy import store_code
    from flowc.environments.resolve import ResolveError

    try:
        store_code(open_storage(datastore), package, ir, settings)
    except ResolveError as exc:  # @pypi that cannot be locked: nothing was uploaded
        print(f"flowc deploy: {exc}", file=sys.stderr)
        return 1
    try:
        changed = write_dag_file(str(folder), compiled, settings)
    except OSError as exc:  # an unwritable DAGs folder: one line, nothing half-written
        print(f"flowc deploy: cannot write {target}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"code package {package.sha} in {datastore}")
    print(f"{'wrote' if changed else 'unchanged'} {target}")
    return 0


def write_dag_file(folder: str, compiled: CompiledFile, settings: Settings) -> bool:
    """Writes the DAG file into ``folder`` atomically (the scheduler never parses half a file).

    Returns:
        False if the file already had exactly this text.
    """
    data = compiled.text.encode("utf-8")
    if folder.startswith("s3://"):
        import boto3

        bucket, _, prefix = folder[len("s3://") :].partition("/")
        key = f"{prefix.strip('/')}/{compiled.name}" if prefix.strip("/") else compiled.name
        client = boto3.client("s3", endpoint_url=settings.get("s3.endpoint_url"))
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
