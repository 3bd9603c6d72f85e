"""Fixtures shared by every test folder: real servers started once per test session (per xdist worker)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.helpers.servers import MotoServer, moto_server


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """One moto server (S3, Step Functions, Batch, ...) on 127.0.0.1 for the whole session."""
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as server:
        yield server


@pytest.fixture
def aws_env(moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """Points boto3 (in this process and in child processes) at the moto server."""
    for name, value in moto.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return moto


@pytest.fixture
def s3_root(aws_env: MotoServer) -> str:
    """A fresh bucket on the moto server; returns an ``s3://bucket/prefix`` datastore root."""
    import boto3

    bucket = f"flowc-test-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=aws_env.endpoint).create_bucket(Bucket=bucket)
    return f"s3://{bucket}/datastore"


@pytest.fixture(autouse=True)
def _no_user_datastore(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's own FLOWC_* settings must not leak into tests.
    for name in list(os.environ):
        if name.startswith("FLOWC_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _namespace_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client's namespace is process state (as in Metaflow): a test calling namespace(None)
    # must not change what the next test in the same worker sees.
    from flowc.client.namespaces import _ProcessNamespace

    monkeypatch.setattr(_ProcessNamespace, "value", _ProcessNamespace.value)
