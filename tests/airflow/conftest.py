"""One Airflow home (SQLite metadata database, DAGs folder) for the whole test session."""

from __future__ import annotations

import pytest

from tests.airflow.engine import AirflowHome, session_airflow_home


@pytest.fixture(scope="session")
def airflow_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """The session's Airflow home (shared with tests/conformance/test_airflow.py)."""
    return session_airflow_home(request, tmp_path_factory)
