"""pytest fixtures for the Step Functions engine (imported by tests/sfn and the conformance column)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sfn.engine import SfnEngine, sfn_server

__all__ = ["sfn_engine", "sfn_env"]


@pytest.fixture(scope="session")
def sfn_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SfnEngine]:
    """The patched moto server (Step Functions executing, Batch jobs as local processes)."""
    with sfn_server(tmp_path_factory.mktemp("sfn-engine")) as engine:
        engine.job_queue()
        yield engine


@pytest.fixture
def sfn_env(sfn_engine: SfnEngine, monkeypatch: pytest.MonkeyPatch) -> SfnEngine:
    """Points boto3 in this process at the patched moto server."""
    for name, value in sfn_engine.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return sfn_engine
