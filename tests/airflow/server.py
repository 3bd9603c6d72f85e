"""A real Airflow deployment on 127.0.0.1 for tests: api-server, dag-processor and scheduler with the
LocalExecutor, each started under setsid and stopped by its process group (../shared/ENGINES.md)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.airflow.engine import airflow_environment, prepare_airflow_home
from tests.helpers.servers import free_port, stop_process_group, wait_for_http

__all__ = ["AirflowServer", "airflow_server"]


@dataclass
class AirflowServer:
    """A running Airflow: ``url`` is the API server's base URL, ``dags`` its DAGs folder."""

    url: str
    home: Path
    env: Mapping[str, str]

    @property
    def dags(self) -> Path:
        return self.home / "dags"


@contextlib.contextmanager
def airflow_server(
    home: Path, extra_env: Mapping[str, str] | None = None, parallelism: int = 4
) -> Iterator[AirflowServer]:
    """Starts the three Airflow services on a fresh home (its own SQLite database)."""
    prepare_env = {**airflow_environment(home), **(extra_env or {})}
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "FLOWC_"))},
        **prepare_env,
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        # A worker's calls to the execution API time out after 5 s by default and the task fails
        # ("Workload execution failed"); on a loaded 2-core machine the API server can be slower.
        "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
    }
    with _patched_environ(env):
        prepare_airflow_home(home)
    airflow = str(Path(sys.executable).with_name("airflow"))
    commands = {
        "api-server": [airflow, "api-server", "--workers", "1"],
        "dag-processor": [airflow, "dag-processor"],
        "scheduler": [airflow, "scheduler", "--skip-serve-logs"],
    }
    processes: list[subprocess.Popen] = []
    try:
        for name, command in commands.items():
            log = open(home / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
            process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            processes.append(process)
        wait_for_http(f"{url}/api/v2/monitor/health", timeout=180, process=processes[0])
        yield AirflowServer(url=url, home=home, env=env)
    finally:
        for process in reversed(processes):
            stop_process_group(process)


@contextlib.contextmanager
def _patched_environ(env: Mapping[str, str]) -> Iterator[None]:
    """``prepare_airflow_home`` runs a child with os.environ: give it the server's environment."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
